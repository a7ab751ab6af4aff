"""Absorbed factors solved over the rows, pass by pass (no cross-counts):
any cut of the rows gives the dense weighted projection."""

import numpy as np
import pytest

from dask_linreg._numerics.demean import level_codes, solve_by_passes
from dask_linreg._numerics.multiway import absorb_factors, block_multiway_moments


def _data(seed=0, n=500):
    rng = np.random.default_rng(seed)
    firm = rng.integers(0, 70, n)
    year = rng.integers(0, 10, n)
    z = np.column_stack([rng.normal(size=n) + 1e5, rng.normal(size=n) + np.sin(firm)])
    return z, rng.uniform(0.3, 3.0, n), [firm, year]


def _run_pass(z, weights, labels, cuts):
    def run_pass(kernel, **broadcast):
        result = None
        for start, stop in zip(cuts[:-1], cuts[1:], strict=True):
            block = kernel(
                [z[start:stop]],
                weights[start:stop],
                [level[start:stop] for level in labels],
                **broadcast,
            )
            result = block if result is None else result.merge(block)
        return result

    return run_pass


@pytest.mark.parametrize("cuts", [[0, 500], [0, 1, 260, 500]])
@pytest.mark.parametrize("fixef_rm", ["none", "singleton"])
def test_passes_give_the_one_pass_solution(cuts, fixef_rm):
    z, weights, labels = _data()
    statistic = block_multiway_moments(
        [z], weights, labels, factor_names=("firm", "year"), cells="none"
    )
    assert statistic.cells is None
    fields, n_passes = solve_by_passes(
        statistic,
        _run_pass(z, weights, labels, cuts),
        fixef_rm,
        tol=1e-12,
        max_iter=None,
    )
    assert fields["solve"].converged and fields["solve"].solver == "passes"
    # A pass per iteration, the right-hand side's (singleton rounds) and
    # the demeaned co-moments'.
    assert n_passes >= fields["solve"].n_iter + 2
    with_cells = block_multiway_moments(
        [z], weights, labels, factor_names=("firm", "year")
    )
    direct = absorb_factors(with_cells, fixef_rm)
    np.testing.assert_allclose(
        fields["moments"].comoment, direct.moments.comoment, rtol=1e-10, atol=1e-8
    )
    assert fields["moments"].count == direct.moments.count
    assert fields["n_singletons"] == direct.n_singletons
    for mine, theirs in zip(fields["keys"], direct.keys, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert fields["n_effects"] == sum(len(k) for k in direct.keys) - 1


def test_cells_that_do_not_fit_are_dropped_if_asked():
    z, weights, labels = _data()
    kwargs = {"factor_names": ("firm", "year"), "max_bytes": 9000}
    dropped = block_multiway_moments([z], weights, labels, cells="if_fit", **kwargs)
    assert dropped.cells is None
    kept = block_multiway_moments(
        [z[:40]], weights[:40], [c[:40] for c in labels], cells="if_fit", **kwargs
    )
    assert kept.cells is not None and kept.merge(dropped).cells is None
    with pytest.raises(MemoryError, match="cross-counts"):
        block_multiway_moments([z], weights, labels, **kwargs)


def test_a_level_the_first_pass_did_not_see_is_an_error():
    keys = [np.array([1, 2, 3])]
    with pytest.raises(ValueError, match="data changed between passes"):
        level_codes([np.array([1, 4])], keys, [np.zeros(3, dtype=bool)])
