"""Accuracy against exact rational solutions of ill-conditioned problems."""

import warnings

import dask
import dask.array as da
import numpy as np
import pytest
import sklearn.linear_model as sk
from scipy import linalg

from dask_linreg import AccuracyWarning, LinearRegression, Ridge

from ..hard_problems import correct_digits, exact_least_squares, hard_problems

PROBLEMS = hard_problems()


def lstsq_digits(problem):
    """Digits of scipy.linalg.lstsq, the better of centered data and a ones column."""
    X, y, w = problem.X, problem.y, problem.sample_weight
    root = np.ones(len(X)) if w is None else np.sqrt(w)
    Y = y.reshape(len(X), -1)
    best = 0.0
    designs = [(X, False)]
    if problem.fit_intercept:
        mean = np.average(X, axis=0, weights=w)
        y_mean = np.average(Y, axis=0, weights=w)
        designs = [(np.column_stack([np.ones(len(X)), X]), True), (X - mean, False)]
    for design, has_ones in designs:
        target = Y - y_mean if (problem.fit_intercept and not has_ones) else Y
        solution = linalg.lstsq(design * root[:, None], target * root[:, None])[0]
        coef = (solution[1:] if has_ones else solution).T
        best = max(
            best, correct_digits(coef.reshape(np.shape(problem.coef)), problem.coef)
        )
    return best


def fit(problem, chunks=None, **params):
    X, y, w = problem.X, problem.y, problem.sample_weight
    if chunks is not None:
        X = da.from_array(X, chunks=(chunks, 2))
        y = da.from_array(y, chunks=(chunks,) + y.shape[1:])
        w = None if w is None else da.from_array(w, chunks=chunks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        return LinearRegression(fit_intercept=problem.fit_intercept, **params).fit(
            X, y, sample_weight=w
        )


def test_there_are_at_least_ten_hard_problems_of_the_stated_difficulty():
    assert len(PROBLEMS) >= 10
    polynomial = [p for p in PROBLEMS if p.name.startswith("poly")]
    assert all(1e9 < p.raw_condition for p in polynomial)


@pytest.mark.parametrize("chunks", [None, 5], ids=["numpy", "dask-5-rows"])
@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_auto_gets_seven_digits_and_never_fewer_than_scipy_lstsq(problem, chunks):
    model = fit(problem, chunks)
    ours = correct_digits(model.coef_, problem.coef)
    theirs = lstsq_digits(problem)
    print(f"{problem.name}: auto {ours:.1f} ({model.solver_}) vs lstsq {theirs:.1f}")
    assert ours >= 7
    assert ours >= theirs
    np.testing.assert_allclose(
        model.intercept_, problem.intercept, rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_exact_solver_returns_the_correctly_rounded_solution(problem):
    model = fit(problem, solver="exact")
    assert correct_digits(model.coef_, problem.coef) >= 15
    assert model.solver_ == "exact" and model.n_passes_ == 1


def scaled_error_and_bound(problem, coef):
    """Normwise error of ``coef`` in the column-scaled coordinates, and the
    first-order bound of a backward stable least-squares solver.

    A backward stable solver (Householder QR, Higham, "Accuracy and
    Stability of Numerical Algorithms", 2nd ed., Thm. 20.3; TSQR merges
    only add more such steps) returns the exact solution of a problem
    whose columns are perturbed by a few units in their last place; the
    perturbation theory of least squares (ibid., Thm. 20.1) turns that into
    ``|D (x_hat - x)| / |D x| <= c u kappa (1 + kappa rho)``, with ``kappa``
    the condition number of the centered, weighted, column-scaled design
    ``A D^-1`` and ``rho = |r| / (|A D^-1| |D x|)``.  The worst-case ``c``
    grows like ``m n``; rounding errors add up like a random walk in
    practice, so ``c ~ sqrt(m q)`` (Higham & Mary, SIAM J. Sci. Comput.
    41(5), 2019) is a bound that the BLAS kernel, the thread count and the
    chunking (which only reorder the roundings) cannot break.  Digit counts
    of two backward stable solvers, by contrast, differ by one or two
    digits with the kernel: they measure luck, not the method.
    """
    X, w = problem.X, problem.sample_weight
    root = np.ones(len(X)) if w is None else np.sqrt(w)
    Y = problem.y.reshape(len(X), -1)
    if problem.fit_intercept:
        X = X - np.average(X, axis=0, weights=w)
        Y = Y - np.average(Y, axis=0, weights=w)
    A, B = X * root[:, None], Y * root[:, None]
    scale = np.linalg.norm(A, axis=0)
    kappa = np.linalg.cond(A / scale)
    exact = np.reshape(problem.coef, (-1, X.shape[1])).T
    scaled_exact = exact * scale[:, None]
    residual = np.linalg.norm(B - A @ exact, axis=0)
    rho = residual / (
        np.linalg.norm(A / scale, 2) * np.linalg.norm(scaled_exact, axis=0)
    )
    m, q = A.shape[0], A.shape[1] + B.shape[1]
    bound = np.sqrt(m * q) * EPS * kappa * (1 + kappa * rho)
    estimate = np.reshape(coef, (-1, X.shape[1])).T * scale[:, None]
    error = np.linalg.norm(estimate - scaled_exact, axis=0) / np.linalg.norm(
        scaled_exact, axis=0
    )
    return error, bound


EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize("chunks", [None, 5], ids=["numpy", "dask-5-rows"])
@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_qr_solver_error_is_within_the_backward_stable_bound(problem, chunks):
    error, bound = scaled_error_and_bound(
        problem, fit(problem, chunks, solver="qr").coef_
    )
    assert np.all(error <= bound), (error, bound)


@pytest.mark.parametrize("problem", PROBLEMS[:4], ids=[p.name for p in PROBLEMS[:4]])
def test_qr_solver_is_as_accurate_as_lstsq_and_beats_the_normal_equations(problem):
    qr = correct_digits(fit(problem, solver="qr").coef_, problem.coef)
    cholesky = correct_digits(fit(problem, solver="cholesky").coef_, problem.coef)
    # scipy.linalg.lstsq (an SVD of the centered data, backward stable too)
    # is within the same bound: the bound describes the method, not our code.
    X, y = problem.X, problem.y
    centered = linalg.lstsq(X - X.mean(axis=0), y - y.mean())[0]
    lstsq_error, bound = scaled_error_and_bound(problem, centered)
    assert np.all(lstsq_error <= bound)
    assert qr > cholesky


def test_auto_escalates_with_exactly_one_more_pass_on_hard_data_only():
    computes = []

    def counting(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.get(dsk, keys, **kwargs)

    hard = PROBLEMS[0]
    with dask.config.set(scheduler=counting):
        model = fit(hard, chunks=10)
    assert len(computes) == 2 and model.n_passes_ == 2 and model.solver_ == "exact"
    computes.clear()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    with dask.config.set(scheduler=counting):
        easy = LinearRegression().fit(da.from_array(X, chunks=20), X @ [1, 2, 3, 4])
    assert len(computes) == 1 and easy.n_passes_ == 1 and easy.solver_ == "cholesky"
    assert easy.digits_ > 12


def test_near_singular_full_rank_design_is_not_truncated():
    rng = np.random.default_rng(1)
    x1 = rng.standard_normal(40)
    # x2 - x1 is exact in floating point: full rank, scaled condition ~1e13.
    x2 = x1 + 1e-13 * rng.standard_normal(40)
    X = np.column_stack([x1, x2, rng.standard_normal(40)])
    y = X @ [1.0, -1.0, 2.0] + 1e-3 * rng.standard_normal(40)
    coef, intercept = exact_least_squares(X, y)
    with pytest.warns(AccuracyWarning, match="data determine only about"):
        model = LinearRegression().fit(da.from_array(X, chunks=(7, 3)), y)
    assert model.rank_ == 3
    scaled = X - X.mean(axis=0)
    assert np.linalg.cond(scaled / np.linalg.norm(scaled, axis=0)) > 1e13
    assert correct_digits(model.coef_, coef[0]) >= 7


def test_rank_deficient_data_escalate_and_keep_sklearns_minimum_norm_solution():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 3))
    X = np.column_stack([X, X[:, 0], 2 * X[:, 1]])
    y = rng.standard_normal(50)
    reference = sk.LinearRegression().fit(X, y)
    for solver in ["auto", "exact", "qr"]:
        model = LinearRegression(solver=solver).fit(da.from_array(X, chunks=9), y)
        assert model.rank_ == 3
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9, atol=1e-12)


def test_warning_names_the_callers_line_and_suggests_a_better_solver():
    problem = PROBLEMS[0]
    with pytest.warns(AccuracyWarning) as record:
        LinearRegression(solver="cholesky").fit(problem.X, problem.y)
    assert record[0].filename == __file__
    assert "solver='auto' or 'exact'" in str(record[0].message) or "determine" in str(
        record[0].message
    )
    easy = np.random.default_rng(3).standard_normal((30, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)
        LinearRegression(solver="cholesky").fit(easy, easy @ [1.0, 2.0])


def test_float32_input_is_fitted_as_accurately_as_its_values_allow():
    problem = PROBLEMS[2]
    X32 = problem.X.astype(np.float32)
    coef, _ = exact_least_squares(X32.astype(np.float64), problem.y)
    model = fit(
        type(problem)(problem.name, X32, problem.y, None, True, coef[0], 0.0),
        chunks=None,
    )
    assert correct_digits(model.coef_, coef[0]) >= 7


@pytest.mark.parametrize("solver", ["cholesky", "qr", "exact", "auto"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_every_solver_matches_sklearn_on_well_conditioned_weighted_data(
    solver, fit_intercept
):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((120, 5)) + [0, 0, 1e3, 0, 5]
    Y = X @ rng.standard_normal((5, 2)) + rng.standard_normal((120, 2))
    w = rng.uniform(0.2, 2.0, 120)
    for ours_cls, ref_cls, params in [
        (LinearRegression, sk.LinearRegression, {}),
        (Ridge, sk.Ridge, {"alpha": 3.0}),
    ]:
        reference = ref_cls(fit_intercept=fit_intercept, **params).fit(
            X, Y, sample_weight=w
        )
        model = ours_cls(fit_intercept=fit_intercept, solver=solver, **params).fit(
            da.from_array(X, chunks=(17, 3)), da.from_array(Y, chunks=(17, 1)), w
        )
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9)
        np.testing.assert_allclose(
            model.intercept_, reference.intercept_, rtol=1e-9, atol=1e-9
        )


def test_ridge_with_a_tiny_penalty_on_hard_data_is_exact():
    problem = PROBLEMS[0]
    coef, intercept = exact_least_squares(problem.X, problem.y, alpha=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        model = Ridge(alpha=1e-9).fit(problem.X, problem.y)
    assert model.solver_ == "exact"
    assert correct_digits(model.coef_, coef[0]) >= 14


def test_unknown_solver_and_too_wide_exact_are_rejected():
    X = np.random.default_rng(5).standard_normal((100, 70))
    with pytest.raises(
        ValueError,
        match="The 'solver' parameter of LinearRegression must be a str among "
        "{'auto', 'cholesky', 'qr', 'exact'}. Got 'svd' instead.",
    ):
        LinearRegression(solver="svd").fit(X, X[:, 0])
    with pytest.raises(
        ValueError,
        match="solver='exact' handles up to 64 columns of \\[X | y\\]; got 71",
    ):
        LinearRegression(solver="exact").fit(X, X[:, 0])
