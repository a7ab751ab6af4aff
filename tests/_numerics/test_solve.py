import numpy as np
import pytest
from scipy import linalg

from dask_linreg._numerics.moments import block_moments
from dask_linreg._numerics.solve import (
    cholesky_least_squares,
    least_squares_and_spectrum,
    normal_equations,
    r2_scores,
    singular_values,
    solve_least_squares,
    solve_ridge,
)


def centered_problem(X, Y):
    Xc = X - X.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    return Xc, Yc, Xc.T @ Xc, Xc.T @ Yc


def test_least_squares_matches_lstsq_on_well_conditioned_data(rng):
    X = rng.standard_normal((200, 6))
    Y = rng.standard_normal((200, 2))
    Xc, Yc, xx, xy = centered_problem(X, Y)
    coef, rank = solve_least_squares(xx, xy)
    np.testing.assert_allclose(coef, linalg.lstsq(Xc, Yc)[0], rtol=1e-11)
    assert rank == 6


@pytest.mark.parametrize(
    "make_design",
    [
        pytest.param(lambda X: np.column_stack([X, X[:, 0]]), id="duplicate-column"),
        pytest.param(
            lambda X: np.column_stack([X, X[:, 0] - 2 * X[:, 1]]), id="collinear"
        ),
        pytest.param(lambda X: np.column_stack([X, 1e3 * X[:, 2]]), id="scaled-copy"),
        pytest.param(lambda X: X[:3], id="fewer-rows-than-columns"),
    ],
)
def test_rank_deficient_designs_get_the_minimum_norm_solution(make_design, rng):
    X = make_design(rng.standard_normal((50, 5)))
    Y = rng.standard_normal((X.shape[0], 1))
    Xc, Yc, xx, xy = centered_problem(X, Y)
    coef, rank = solve_least_squares(xx, xy)
    expected, _, expected_rank, _ = linalg.lstsq(Xc, Yc, cond=1e-10)
    assert rank == expected_rank
    np.testing.assert_allclose(coef, expected, rtol=1e-8, atol=1e-10)


def test_constant_columns_get_zero_coefficients(rng):
    X = np.column_stack([rng.standard_normal(30), np.full(30, 7.0)])
    Xc, Yc, xx, xy = centered_problem(X, rng.standard_normal((30, 1)))
    coef, rank = solve_least_squares(xx, xy)
    assert rank == 1 and coef[1, 0] == 0.0
    assert solve_least_squares(np.zeros((2, 2)), np.zeros((2, 1))) == (
        pytest.approx(np.zeros((2, 1))),
        0,
    )


def test_ridge_solves_penalized_system_per_target_alpha(rng):
    X = rng.standard_normal((80, 4))
    Y = rng.standard_normal((80, 3))
    _, _, xx, xy = centered_problem(X, Y)
    alpha = np.array([0.5, 10.0, 0.5])
    coef = solve_ridge(xx, xy, alpha)
    for j, a in enumerate(alpha):
        np.testing.assert_allclose(
            coef[:, j], np.linalg.solve(xx + a * np.eye(4), xy[:, j]), rtol=1e-12
        )


def test_ridge_with_zero_alpha_is_least_squares_and_tiny_alpha_survives_singularity(
    rng,
):
    X = rng.standard_normal((30, 3))
    X = np.column_stack([X, X[:, 0]])
    _, Yc, xx, xy = centered_problem(X, rng.standard_normal((30, 1)))
    np.testing.assert_allclose(
        solve_ridge(xx, xy, np.array([0.0])), solve_least_squares(xx, xy)[0]
    )
    tiny = solve_ridge(xx, xy, np.array([1e-300]))
    np.testing.assert_allclose(tiny, solve_least_squares(xx, xy)[0], rtol=1e-12)
    # Small but resolvable penalties go through Cholesky and approach the
    # minimum-norm solution.
    small = solve_ridge(xx, xy, np.array([1e-8]))
    np.testing.assert_allclose(small, solve_least_squares(xx, xy)[0], rtol=1e-6)


def test_singular_values_match_svd_of_centered_design(rng):
    X = rng.standard_normal((40, 5)) * [1, 2, 3, 4, 5]
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(
        singular_values(Xc.T @ Xc, 40), linalg.svdvals(Xc), rtol=1e-10
    )
    assert singular_values(Xc[:3].T @ Xc[:3], 3).shape == (3,)


def test_normal_equations_without_intercept_are_raw(rng):
    X = rng.standard_normal((60, 3)) + 4
    Y = rng.standard_normal((60, 2))
    moments = block_moments([X, Y])
    equations = normal_equations(moments, 3, fit_intercept=False)
    np.testing.assert_allclose(equations.xx, X.T @ X, rtol=1e-12)
    np.testing.assert_allclose(equations.xy, X.T @ Y, rtol=1e-12, atol=1e-12)
    assert not equations.x_offset.any()
    centered = normal_equations(moments, 3, fit_intercept=True)
    np.testing.assert_allclose(centered.x_offset, X.mean(axis=0))


def test_r2_scores_follow_sklearn_conventions(rng):
    from sklearn.metrics import r2_score

    y = rng.standard_normal((50, 3))
    y[:, 2] = 1.0
    pred = y + 0.3 * rng.standard_normal((50, 3))
    pred[:, 2] = 1.0
    w = rng.random(50)
    moments = block_moments([y - pred, y], w)
    np.testing.assert_allclose(
        r2_scores(moments, 3),
        r2_score(y, pred, sample_weight=w, multioutput="raw_values"),
        rtol=1e-12,
    )
    moments = block_moments([np.ones((5, 1)), np.full((5, 1), 2.0)])
    assert r2_scores(moments, 1)[0] == 0.0


@pytest.mark.parametrize("n_rows", [40, 5000])
def test_cholesky_path_agrees_with_the_eigendecomposition_where_it_answers(n_rows, rng):
    # Columns of very different units and one constant column: the
    # scaling and the zero coefficient must match the general path.
    X = rng.standard_normal((n_rows, 8)) * np.logspace(-6, 6, 8)
    X[:, 3] = 2.5
    X[:, 5] += 0.5 * X[:, 4] / 10  # correlated, still well conditioned
    Xc, Yc, xx, xy = centered_problem(X, rng.standard_normal((n_rows, 3)))
    coef, rank, condition = cholesky_least_squares(xx, xy)
    expected, expected_rank, eigenvalues = least_squares_and_spectrum(xx, xy)
    assert rank == expected_rank == 7 and coef[3].tolist() == [0.0] * 3
    np.testing.assert_allclose(coef, expected, rtol=1e-10, atol=0)
    # The 1-norm estimate bounds the 2-norm condition from above, up to
    # the estimator's error, and from below by a factor of the dimension.
    two_norm = eigenvalues[-1] / eigenvalues[0]
    assert two_norm / 10 <= condition <= 7 * two_norm


@pytest.mark.parametrize(
    "make_design",
    [
        pytest.param(lambda X: np.column_stack([X, X[:, 0]]), id="duplicate-column"),
        pytest.param(lambda X: X[:3], id="fewer-rows-than-columns"),
        pytest.param(
            lambda X: np.column_stack([X, X[:, 0] + 1e-6 * X[:, 1]]),
            id="condition-1e13",
        ),
        pytest.param(lambda X: np.zeros_like(X), id="all-constant"),
    ],
)
def test_cholesky_path_declines_where_the_rank_is_in_doubt(make_design, rng):
    X = make_design(rng.standard_normal((50, 5)))
    Xc, Yc, xx, xy = centered_problem(X, rng.standard_normal((X.shape[0], 1)))
    assert cholesky_least_squares(xx, xy) is None


def test_cholesky_path_answers_only_below_its_condition_threshold(rng):
    Xc, Yc, xx, xy = centered_problem(
        rng.standard_normal((60, 4)), rng.standard_normal((60, 1))
    )
    condition = cholesky_least_squares(xx, xy)[2]
    assert cholesky_least_squares(xx, xy, max_condition=condition * 1.01) is not None
    assert cholesky_least_squares(xx, xy, max_condition=condition * 0.99) is None


def test_normal_equations_promise_no_more_digits_by_the_estimate(rng):
    from dask_linreg._numerics.accurate import _normal_equations_accuracy, solve_normal

    X = rng.standard_normal((300, 6))
    X[:, 1] = X[:, 0] + 1e-3 * X[:, 1]  # scaled condition about 1e3
    Y = rng.standard_normal((300, 1))
    equations = normal_equations(block_moments([X, Y]), 6, fit_intercept=True)
    solution = solve_normal(equations)
    _, _, eigenvalues = least_squares_and_spectrum(equations.xx, equations.xy)
    digits, condition, truncated = _normal_equations_accuracy(eigenvalues, 1e-12)
    assert solution.rank == 6 and not solution.rank_uncertain and not truncated
    # At most the estimator's factor of 10 more optimistic, at most the
    # dimension's factor more pessimistic.
    assert digits - np.log10(6) <= solution.digits <= digits + 1
    assert condition / np.sqrt(10) <= solution.condition <= condition * np.sqrt(6)
