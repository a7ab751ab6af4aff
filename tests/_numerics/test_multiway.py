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


def _statistic(z, weights, labels, cuts, names=("firm", "year", "region")):
    statistic = None
    for start, stop in zip(cuts[:-1], cuts[1:], strict=True):
        block = block_multiway_moments(
            [z[start:stop]],
            weights[start:stop],
            [level[start:stop] for level in labels],
            factor_names=names[: len(labels)],
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


def _three_factors(seed=3, n=600):
    z, weights, labels = _data(seed, n)
    rng = np.random.default_rng(seed)
    return z, weights, [*labels, rng.integers(0, 9, len(z))]


@pytest.mark.parametrize("three", [False, True])
@pytest.mark.parametrize("fixef_rm", ["none", "singleton"])
def test_conjugate_gradients_give_the_projection(three, fixef_rm):
    if three:
        z, weights, labels = _three_factors()
        statistic = _statistic(z, weights, labels, [0, 250, len(z)])
    else:
        z, weights, labels = _data()
        statistic = _statistic(z, weights, labels, [0, 250, len(z)])
    direct = absorb_factors(statistic, fixef_rm, solver="direct")
    iterative = absorb_factors(statistic, fixef_rm, solver="cg", tol=1e-12)
    assert direct.solve.solver == "direct" and iterative.solve.solver == "cg"
    assert iterative.solve.converged and 0 < iterative.solve.n_iter < 200
    assert iterative.solve.residual <= 1e-12
    # The within co-moments err by the square of the residual.
    np.testing.assert_allclose(
        iterative.moments.comoment, direct.moments.comoment, rtol=1e-12, atol=1e-9
    )
    # Two factors: the rank exactly; three: the bound, at least the rank.
    if three:
        assert iterative.n_effects >= direct.n_effects
    else:
        assert iterative.n_effects == direct.n_effects
    if fixef_rm == "none":
        expected, rank = _projected(z, weights, labels, np.arange(len(z)))
        np.testing.assert_allclose(
            iterative.moments.comoment, expected, rtol=1e-9, atol=1e-9
        )
        assert direct.n_effects == rank
    # Effects solve the same normal equations; with three factors their
    # normalization may differ (a null direction), so compare the fit.
    codes = [
        np.searchsorted(k, level) for k, level in zip(direct.keys, labels, strict=True)
    ]
    kept = np.all(
        [np.isin(level, k) for k, level in zip(direct.keys, labels, strict=True)],
        axis=0,
    )
    fitted = [
        sum(np.nan_to_num(e[c[kept]]) for e, c in zip(s.effects, codes, strict=True))
        for s in (direct, iterative)
    ]
    np.testing.assert_allclose(fitted[1], fitted[0], rtol=1e-8, atol=1e-6)


def test_conjugate_gradients_report_not_converging():
    z, weights, labels = _data()
    statistic = _statistic(z, weights, labels, [0, len(z)])
    solved = absorb_factors(statistic, "none", solver="cg", tol=1e-14, max_iter=2)
    assert solved.solve.n_iter == 2
    assert not solved.solve.converged
    assert solved.solve.residual > 1e-14


def test_the_rank_bound_of_three_factors():
    # Well connected: the bound (one null direction per component of each
    # factor with the largest) is the rank.
    rng = np.random.default_rng(5)
    labels = [
        rng.integers(0, 60, 900),
        rng.integers(0, 12, 900),
        rng.integers(0, 9, 900),
    ]
    weights = rng.uniform(0.5, 2.0, 900)
    codes = [np.unique(level, return_inverse=True)[1] for level in labels]
    level_weights = [np.bincount(c, weights=weights) for c in codes]
    indicators = np.column_stack(
        [(c[:, None] == np.arange(c.max() + 1)).astype(float) for c in codes]
    )
    exact = np.linalg.matrix_rank(indicators)
    assert indicator_rank(level_weights, codes, weights) == exact
    assert indicator_rank(level_weights, codes, weights, max_bytes=1) == exact
    # A factor redundant given the other two (year and region both coarsen
    # one quarter column): the bound counts more effects than there are.
    quarter = labels[1] % 4
    redundant = [labels[0], quarter, quarter * 10 + labels[2] % 2, labels[2] % 2]
    codes = [np.unique(level, return_inverse=True)[1] for level in redundant]
    level_weights = [np.bincount(c, weights=weights) for c in codes]
    indicators = np.column_stack(
        [(c[:, None] == np.arange(c.max() + 1)).astype(float) for c in codes]
    )
    exact = np.linalg.matrix_rank(indicators)
    assert indicator_rank(level_weights, codes, weights) == exact
    assert indicator_rank(level_weights, codes, weights, max_bytes=1) > exact


@pytest.mark.parametrize("solver", ["direct", "cg"])
def test_levels_within_the_largest_factors_levels_count_exactly(solver):
    """A firm of stayers only (every worker in it never left) has a zero
    Schur diagonal that cancellation leaves at about eps times its weight:
    with weights, that rounding once counted as rank."""
    rng = np.random.default_rng(8)
    worker = np.repeat(np.arange(600), 4)
    moved = rng.uniform(size=len(worker)) < 0.3
    home = rng.integers(0, 300, 600)
    firm = np.where(moved, rng.integers(0, 300, len(worker)), home[worker])
    year = rng.integers(0, 6, len(worker))
    labels = [worker, firm, year]
    weights = rng.uniform(0.5, 2.0, len(worker))
    z = rng.normal(size=(len(worker), 2))
    statistic = block_multiway_moments(
        [z], weights, labels, factor_names=("worker", "firm", "year")
    )
    solved = absorb_factors(statistic, "none", solver=solver)
    indicators = np.column_stack(
        [(level[:, None] == np.unique(level)).astype(float) for level in labels]
    )
    assert solved.n_effects == np.linalg.matrix_rank(indicators)
    expected, _ = _projected(z, weights, labels, np.arange(len(z)))
    np.testing.assert_allclose(solved.moments.comoment, expected, rtol=1e-9, atol=1e-9)
