"""Several absorbed factors from one pass: statistics merged from any cut
of the rows, singletons removed exactly, the all-factors within co-moments
against the rows demeaned by a dense least-squares projection."""

import numpy as np
import pytest

from dask_linreg._numerics.multiway import (
    absorb_factors,
    block_multiway_moments,
    indicator_rank,
)


def _data(seed=0, n=400):
    rng = np.random.default_rng(seed)
    firm = rng.integers(0, 60, n)
    year = rng.integers(0, 12, n)
    # A second round of singletons: firm 98's other row is alone in year 50.
    firm = np.concatenate([firm, [97, 98, 98]])
    year = np.concatenate([year, [3, 50, 4]])
    n = len(firm)
    z = np.column_stack(
        [
            rng.normal(size=n) + 1e6,
            rng.normal(size=n) + np.sin(firm),
            rng.normal(size=n) + 0.1 * year,
        ]
    )
    weights = rng.uniform(0.2, 3.0, n)
    return z, weights, [firm, year]


def _statistic(z, weights, labels, cuts):
    statistic = None
    for start, stop in zip(cuts[:-1], cuts[1:], strict=True):
        block = block_multiway_moments(
            [z[start:stop]],
            weights[start:stop],
            [level[start:stop] for level in labels],
            factor_names=("firm", "year"),
        )
        statistic = block if statistic is None else statistic.merge(block)
    return statistic


def _projected(z, weights, labels, rows):
    """``Z' W M Z`` by a dense weighted projection off the indicators."""
    indicators = np.column_stack(
        [
            (level[rows, None] == np.unique(level[rows])).astype(float)
            for level in labels
        ]
    )
    root = np.sqrt(weights[rows])[:, None]
    centered = z[rows] - z[rows].mean(axis=0)
    coef, *_ = np.linalg.lstsq(indicators * root, centered * root, rcond=None)
    residual = (centered - indicators @ coef) * root
    return residual.T @ residual, np.linalg.matrix_rank(indicators)


@pytest.mark.parametrize("cuts", [[0, 403], [0, 1, 200, 201, 403], [0, 50, 120, 403]])
def test_any_cut_of_the_rows_gives_the_projection(cuts):
    z, weights, labels = _data()
    solved = absorb_factors(_statistic(z, weights, labels, cuts), fixef_rm="none")
    expected, rank = _projected(z, weights, labels, np.arange(len(z)))
    np.testing.assert_allclose(solved.moments.comoment, expected, rtol=1e-9, atol=1e-9)
    assert solved.n_effects == rank
    assert solved.moments.count == len(z)


def test_singletons_are_removed_round_by_round_exactly():
    z, weights, labels = _data()
    solved = absorb_factors(_statistic(z, weights, labels, [0, 90, 403]), "singleton")
    # By hand: drop rows of single-row levels until none is left.
    rows = np.arange(len(z))
    while True:
        single = np.zeros(len(rows), dtype=bool)
        for level in labels:
            values, counts = np.unique(level[rows], return_counts=True)
            single |= np.isin(level[rows], values[counts == 1])
        if not single.any():
            break
        rows = rows[~single]
    assert solved.n_singletons == len(z) - len(rows) >= 3
    expected, rank = _projected(z, weights, labels, rows)
    np.testing.assert_allclose(solved.moments.comoment, expected, rtol=1e-8, atol=1e-8)
    assert solved.n_effects == rank
    assert solved.moments.weight_sum == pytest.approx(weights[rows].sum(), rel=1e-12)
    assert solved.moments.log_weight_sum == pytest.approx(
        np.log(weights[rows]).sum(), rel=1e-12
    )


def test_redundant_factors_are_counted_exactly():
    rng = np.random.default_rng(2)
    firm = rng.integers(0, 30, 300)
    state = firm % 4  # nested: redundant given firm
    weights = np.ones(300)
    codes = [
        np.unique(firm, return_inverse=True)[1],
        np.unique(state, return_inverse=True)[1],
    ]
    level_weights = [np.bincount(c).astype(float) for c in codes]
    assert indicator_rank(level_weights, codes, weights) == 30
    region = rng.integers(0, 5, 300)
    codes.append(np.unique(region, return_inverse=True)[1])
    level_weights.append(np.bincount(codes[-1]).astype(float))
    indicators = np.column_stack(
        [(c[:, None] == np.arange(c.max() + 1)).astype(float) for c in codes]
    )
    assert indicator_rank(level_weights, codes, weights) == np.linalg.matrix_rank(
        indicators
    )


def test_the_cells_memory_guard_names_the_columns():
    z, weights, labels = _data()
    with pytest.raises(MemoryError, match="cross-counts of the absorbed columns"):
        block_multiway_moments(
            [z], weights, labels, factor_names=("firm", "year"), max_bytes=4000
        )
