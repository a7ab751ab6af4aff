"""Every kind of statistic implements the one protocol of _numerics.kinds."""

from functools import reduce

import numpy as np
import pytest
from scipy import linalg

from dask_linreg._numerics.kinds import (
    KINDS,
    kind_for_solver,
    kind_named,
    merge_statistics,
)

from ..conftest import make_regression


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(300, 4, seed=6, offset=50.0)
    w = np.random.default_rng(6).uniform(0.5, 2.0, 300)
    return X, y, w


def blocks_of(kind, X, y, w, size=70):
    return [
        kind.of_block([X[i : i + size], y[i : i + size, None]], w[i : i + size])
        for i in range(0, len(X), size)
    ]


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_kind_solves_weighted_least_squares_from_merged_blocks(kind, data):
    X, y, w = data
    merged = reduce(kind.merge, blocks_of(kind, X, y, w))
    assert isinstance(merged, kind) and merged.is_finite()
    solution, x_offset, y_offset = merged.solve(4, fit_intercept=True)
    root = np.sqrt(w)[:, None]
    design = np.column_stack([np.ones(300), X]) * root
    expected = linalg.lstsq(design, y * root[:, 0])[0]
    np.testing.assert_allclose(solution.coef[:, 0], expected[1:], rtol=1e-10)
    np.testing.assert_allclose(
        y_offset - x_offset @ solution.coef, expected[:1], rtol=1e-10
    )


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_kind_roots_the_centered_cross_products(kind, data):
    X, y, w = data
    merged = reduce(kind.merge, blocks_of(kind, X, y, w))
    root, x_mean, y_mean = merged.root(4, fit_intercept=True)
    Z = np.column_stack([X, y])
    mean = np.average(Z, axis=0, weights=w)
    centered = (Z - mean) * np.sqrt(w)[:, None]
    np.testing.assert_allclose(
        root.T @ root, centered.T @ centered, rtol=1e-10, atol=1e-8
    )
    np.testing.assert_allclose(np.r_[x_mean, y_mean], mean, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_the_empty_statistic_is_the_identity_of_merge(kind, data):
    X, y, w = data
    (block,) = blocks_of(kind, X[:50], y[:50], w[:50], size=50)
    merged = kind.empty(5).merge(block)
    np.testing.assert_allclose(
        merged.solve(4, fit_intercept=True)[0].coef,
        block.solve(4, fit_intercept=True)[0].coef,
        rtol=1e-12,
    )


def test_kinds_convert_towards_the_less_accurate_and_merge_there(data):
    X, y, w = data
    first, second = X[:150], X[150:]
    statistics = {
        kind: [
            kind.of_block([first, y[:150, None]], w[:150]),
            kind.of_block([second, y[150:, None]], w[150:]),
        ]
        for kind in KINDS
    }
    for i, high in enumerate(KINDS):
        for low in KINDS[: i + 1]:
            merged = merge_statistics(statistics[high][0], statistics[low][1])
            assert type(merged) is low
            np.testing.assert_allclose(
                merged.solve(4, fit_intercept=True)[0].coef,
                statistics[KINDS[-1]][0]
                .merge(statistics[KINDS[-1]][1])
                .solve(4, fit_intercept=True)[0]
                .coef,
                rtol=1e-9,
            )
        for more in KINDS[i + 1 :]:
            with pytest.raises(ValueError, match="cannot be made"):
                statistics[high][0].to_kind(more)


def test_the_registry_names_each_kind_and_its_solver_once():
    assert len({kind.name for kind in KINDS}) == len(KINDS)
    for kind in KINDS:
        assert kind_named(kind.name) is kind
        assert kind_for_solver(kind.solver) is kind
        assert set(kind.stored_fields) <= set(kind.__dataclass_fields__)
