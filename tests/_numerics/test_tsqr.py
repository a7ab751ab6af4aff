import numpy as np
import pytest

from dask_linreg._numerics.accurate import solve_factor
from dask_linreg._numerics.moments import block_moments
from dask_linreg._numerics.tsqr import block_factor, empty_factor, merge_factors


@pytest.mark.parametrize("weighted", [False, True])
def test_factor_squares_to_the_centered_cross_products(weighted, rng):
    Z = rng.standard_normal((700, 4)) * [1, 2, 3, 4] + [0, 1e6, -3, 1e9]
    w = rng.uniform(0, 2, 700) if weighted else None
    factor = block_factor([Z[:, :1], Z[:, 1:]], w, piece_rows=97)
    moments = block_moments([Z], w)
    assert np.allclose(np.tril(factor.factor, -1), 0)
    scale = np.abs(moments.comoment).max()
    assert (
        np.abs(factor.factor.T @ factor.factor - moments.comoment).max() < 1e-13 * scale
    )
    np.testing.assert_allclose(factor.mean, moments.mean, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(factor.weight_sum, moments.weight_sum, rtol=1e-14)


def test_merged_factors_equal_the_factor_of_the_union(rng):
    Z = rng.standard_normal((300, 3)) + 1e8
    w = rng.uniform(0, 2, 300)
    parts = [block_factor([Z[a:b]], w[a:b]) for a, b in [(0, 5), (5, 200), (200, 300)]]
    merged = merge_factors(
        merge_factors(parts[0], empty_factor(3)), merge_factors(parts[1], parts[2])
    )
    whole = block_moments([Z], w)
    assert merged.count == 300
    gram = merged.factor.T @ merged.factor
    assert np.abs(gram - whole.comoment).max() < 1e-12 * np.abs(whole.comoment).max()
    raw = merged.raw_factor()
    expected_raw = Z.T @ (Z * w[:, None])
    assert np.abs(raw.T @ raw - expected_raw).max() < 1e-14 * np.abs(expected_raw).max()


def test_solve_from_factor_does_not_square_the_condition_number(rng):
    x = np.linspace(1, 2, 80)
    X = np.vander(x, 7, increasing=True)[:, 1:]
    y = np.exp(x)
    factor = block_factor([X, y[:, None]]).factor
    solution = solve_factor(factor, 6)
    Xc = X - X.mean(axis=0)
    expected = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(solution.coef[:, 0], expected, rtol=1e-5)
    assert solution.rank == 6 and solution.condition > 1e6


@pytest.mark.parametrize("weighted", [False, True])
def test_block_factor_of_a_row_subset_equals_that_of_the_copied_rows(weighted, rng):
    Z = rng.standard_normal((500, 5)) + [0, 1e6, 3, 0, -2]
    w = rng.uniform(0.5, 2.0, 500) if weighted else None
    rows = rng.permutation(500)[:170]
    subset = block_factor([Z[:, :2], Z[:, 2:]], w, rows=rows, piece_rows=33)
    copied = block_factor([Z[rows]], None if w is None else w[rows], piece_rows=33)
    assert subset.count == copied.count == 170
    np.testing.assert_array_equal(subset.mean, copied.mean)
    np.testing.assert_array_equal(subset.factor, copied.factor)
    assert subset.weight_sum == copied.weight_sum
