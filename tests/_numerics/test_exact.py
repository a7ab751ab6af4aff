from fractions import Fraction

import numpy as np
import pytest

from dask_linreg._numerics.accurate import exact_equations, solve_exact
from dask_linreg._numerics.exact import block_exact_cross_products, merge_exact

from ..hard_problems import exact_least_squares


def fraction_gram(Z, w=None):
    A = np.column_stack([np.ones(len(Z)), Z])
    F = [[Fraction(float(v)) for v in row] for row in A]
    W = [Fraction(1)] * len(F) if w is None else [Fraction(float(v)) for v in w]
    q = A.shape[1]
    return np.array(
        [
            [sum(W[r] * F[r][i] * F[r][j] for r in range(len(F))) for j in range(q)]
            for i in range(q)
        ],
        dtype=object,
    )


def awkward_columns(rng, n):
    """Columns spanning many binary orders of magnitude, with zeros and signs."""
    return np.column_stack(
        [
            rng.standard_normal(n) * 1e-30,
            1e9 + rng.standard_normal(n),
            rng.integers(-5, 5, n).astype(float),
            np.where(rng.random(n) < 0.3, 0.0, rng.standard_normal(n) * 1e200),
        ]
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_cross_products_are_exact_for_awkward_values(weighted, rng):
    Z = awkward_columns(rng, 150)
    w = rng.uniform(0, 3, 150) if weighted else None
    exact = block_exact_cross_products([Z[:, :1], Z[:, 1:]], w)
    assert exact.count == 150 and exact.is_finite()
    assert (exact.as_fractions() == fraction_gram(Z, w)).all()


def test_merge_is_exact_addition(rng):
    Z = awkward_columns(rng, 90)
    w = rng.uniform(0, 3, 90)
    parts = [
        block_exact_cross_products([Z[a:b]], w[a:b])
        for a, b in [(0, 1), (1, 40), (40, 90)]
    ]
    merged = merge_exact(merge_exact(parts[0], parts[1]), parts[2])
    assert merged.count == 90
    assert (merged.as_fractions() == fraction_gram(Z, w)).all()
    assert merged.weight_sum == pytest.approx(w.sum(), rel=1e-15)


def test_long_blocks_flush_partial_sums_before_they_lose_exactness(rng):
    # Values near 2**19 per slice and many pieces push the float partial sums
    # past 2**52, where they must be flushed to integers.
    Z = rng.integers(2**18, 2**19, (40_000, 2)).astype(float) * 2.0**-19 + 1.0
    exact = block_exact_cross_products([Z])
    integers = Z * 2.0**19  # exact integers
    expected = [
        [
            sum(
                int(a) * int(b)
                for a, b in zip(integers[:, i], integers[:, j], strict=True)
            )
            for j in range(2)
        ]
        for i in range(2)
    ]
    got = exact.as_fractions()[1:, 1:] * Fraction(2) ** 38
    assert [[int(v) for v in row] for row in got] == expected


def test_non_finite_input_is_flagged(rng):
    Z = rng.standard_normal((20, 2))
    Z[3, 1] = np.nan
    assert not block_exact_cross_products([Z]).is_finite()
    w = np.ones(20)
    w[0] = np.inf
    assert not block_exact_cross_products([Z[:, :1]], w).is_finite()


def test_exact_solve_is_the_rational_solution(rng):
    x = np.linspace(1, 2, 30)
    X = np.vander(x, 9, increasing=True)[:, 1:]
    y = np.sin(x)
    w = rng.uniform(0.5, 2, 30)
    coef, _ = exact_least_squares(X, y, w)
    exact = block_exact_cross_products([X, y[:, None]], w)
    equations, _, _ = exact_equations(exact, 8, fit_intercept=True)
    solution = solve_exact(equations, 8)
    assert solution.rank == 8
    np.testing.assert_array_equal(solution.coef[:, 0], coef[0])


def test_exact_solve_finds_exact_dependence_and_returns_minimum_norm(rng):
    X = rng.standard_normal((40, 3))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    y = rng.standard_normal(40)
    exact = block_exact_cross_products([X, y[:, None]])
    equations, _, _ = exact_equations(exact, 4, fit_intercept=True)
    solution = solve_exact(equations, 4)
    Xc = X - X.mean(axis=0)
    expected = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    assert solution.rank == 3
    np.testing.assert_allclose(solution.coef[:, 0], expected, rtol=1e-10)
