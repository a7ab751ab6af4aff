"""Keyed within-level statistics against a dense demeaning oracle."""

from functools import reduce

import numpy as np
import pandas as pd
import pytest

from dask_linreg._numerics.absorbed import block_group_moments


def _data(n=3000, levels=250, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) + np.array([1e9, 0.0, 5.0])
    y = rng.normal(size=(n, 1))
    labels = rng.integers(0, levels, n).astype(str)
    weights = rng.uniform(0.1, 2.0, n)
    return x, y, labels, weights


def _oracle(x, y, labels, weights):
    z = np.hstack([x, y])
    frame = pd.DataFrame(z).assign(g=labels, w=weights)
    columns = list(range(z.shape[1]))
    means = frame.groupby("g").apply(
        lambda t: pd.Series(np.average(t[columns], axis=0, weights=t["w"]))
    )
    demeaned = z - means.loc[labels].to_numpy()
    return (demeaned * weights[:, None]).T @ demeaned, means


@pytest.mark.parametrize(
    "cuts", [[], [1], [700, 701, 2500], list(range(100, 3000, 100))]
)
def test_merged_blocks_equal_the_pooled_within_comoments(cuts):
    x, y, labels, weights = _data()
    within, means = _oracle(x, y, labels, weights)
    edges = [0, *cuts, len(labels)]
    blocks = [
        block_group_moments(
            [x[a:b], y[a:b]], weights[a:b], labels[a:b], factor_name="g"
        )
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    left = reduce(lambda a, b: a.merge(b), blocks)
    right = reduce(lambda a, b: b.merge(a), blocks[::-1])
    for merged in (left, right):
        # The 1e9 column keeps the digits of its spread (relative to the
        # cross-products, not to 1e18).
        np.testing.assert_allclose(merged.within, within, rtol=1e-9, atol=1e-9)
        # Means to rounding: a few ulps of the 1e9 column, 1e-12 of the others.
        error = np.abs(merged.means() - means.to_numpy()).max(axis=0)
        assert error[0] < 1e-6 and error[1:].max() < 1e-12
        assert list(merged.keys) == list(means.index)
        assert merged.count == len(labels)
    counts = pd.Series(labels).value_counts().sort_index()
    np.testing.assert_array_equal(left.counts, counts.to_numpy())


def test_singletons_and_the_memory_guard():
    x, y, labels, weights = _data(n=40, levels=30, seed=3)
    moments = block_group_moments([x, y], None, labels, factor_name="g")
    kept = moments.without_singletons()
    singles = (pd.Series(labels).value_counts() == 1).sum()
    assert kept.n_levels == moments.n_levels - singles
    assert kept.count == len(labels) - singles
    np.testing.assert_array_equal(kept.within, moments.within)
    levels = len(set(labels))
    with pytest.raises(MemoryError, match=f"column 'g' has {levels} levels so far"):
        block_group_moments([x, y], None, labels, factor_name="g", max_bytes=1000)
    half = block_group_moments([x[:20], y[:20]], None, labels[:20], factor_name="g")
    other = block_group_moments([x[20:], y[20:]], None, labels[20:], factor_name="g")
    limit = (half.n_levels + 1) * (4 + 4) * 8
    half = type(half)(**{**half.__dict__, "max_bytes": limit})
    with pytest.raises(MemoryError, match="levels so far"):
        half.merge(other)
