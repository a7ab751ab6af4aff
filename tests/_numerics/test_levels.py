"""The moments of categorical designs against the dense one-hot oracle."""

import numpy as np
import pytest

from dask_linreg._numerics.levels import (
    block_level_moments,
    design_columns,
)
from dask_linreg._numerics.moments import block_moments


def _data(seed=0, n=3000, offset=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) + np.array([offset, 0.0, 5.0])
    y = rng.normal(size=(n, 2))
    first = rng.choice(np.array(["a", "b", "c", "d"]), n)
    second = rng.choice(np.array(["u", "v", "w"]), n)
    weights = rng.uniform(0.1, 2.0, n)
    return x, y, first, second, weights


def _dense(x, y, factors, weights, levels):
    indicators = [
        (labels[:, None] == np.asarray(lv)[None, :]).astype(float)
        for labels, lv in zip(factors, levels, strict=True)
    ]
    return block_moments([x, *indicators, y], weights)


def _blocks(n, cuts):
    edges = [0, *cuts, n]
    return [np.arange(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


@pytest.mark.parametrize("weighted", [False, True])
def test_merged_blocks_equal_the_dense_one_hot_moments(weighted):
    x, y, first, second, weights = _data()
    weights = weights if weighted else None
    # The first block never sees level "d", the last never "u": the union
    # of levels embeds the absent ones as zero columns.
    order = np.argsort(first == "d", kind="stable")
    order = np.r_[order[:1000], np.sort(order[1000:])]
    x, y, first, second = x[order], y[order], first[order], second[order]
    if weights is not None:
        weights = weights[order]
    tail = np.arange(2500, 3000)
    second[tail] = np.where(second[tail] == "u", "v", second[tail])
    stats = []
    for rows in _blocks(3000, [1000, 1700, 2500]):
        stats.append(
            block_level_moments(
                [x[rows]],
                [y[rows]],
                [first[rows], second[rows]],
                None if weights is None else weights[rows],
                factor_names=("first", "second"),
            )
        )
    assert "d" not in stats[0].levels[0] and "u" not in stats[-1].levels[1]
    left = stats[0].merge(stats[1]).merge(stats[2].merge(stats[3]))
    right = stats[3].merge(stats[2]).merge(stats[1]).merge(stats[0])
    oracle = _dense(x, y, [first, second], weights, [list("abcd"), list("uvw")])
    for merged in (left, right):
        assert [list(lv) for lv in merged.levels] == [list("abcd"), list("uvw")]
        moments = merged.moments
        assert moments.count == oracle.count == 3000
        np.testing.assert_allclose(moments.weight_sum, oracle.weight_sum, rtol=1e-13)
        np.testing.assert_allclose(moments.mean, oracle.mean, rtol=1e-13, atol=1e-14)
        scale = np.abs(oracle.comoment).max()
        np.testing.assert_allclose(
            moments.comoment, oracle.comoment, rtol=0, atol=1e-12 * scale
        )


def test_a_large_offset_keeps_the_digits_of_the_per_level_sums():
    x, y, first, second, weights = _data(offset=1e9)
    stat = block_level_moments(
        [x], [y], [first], weights, factor_names=("first",)
    ).merge(
        block_level_moments(
            [x[:0]], [y[:0]], [first[:0]], None, factor_names=("first",)
        )
    )
    # Oracle: the same data without the offset (indicators' products with
    # a centered column do not depend on its offset).
    shifted = x - np.array([1e9, 0.0, 0.0])
    oracle = _dense(shifted, y, [first], weights, [list("abcd")])
    levels = slice(3, 7)
    np.testing.assert_allclose(
        stat.moments.comoment[levels, 0],
        oracle.comoment[levels, 0],
        rtol=1e-7,
        atol=1e-9 * np.sqrt(oracle.comoment[0, 0] * oracle.weight_sum),
    )


def test_too_many_levels_fail_in_the_block_and_in_the_merge():
    labels = np.array([f"id{i}" for i in range(30)])
    ones = np.ones((30, 1))
    with pytest.raises(
        match=r"X column 'user' has more than max_levels=10 levels \(30 found so far\)",
    ):
        block_level_moments(
            [ones], [ones], [labels], factor_names=("user",), max_levels=10
        )
    halves = [
        block_level_moments(
            [ones[rows]],
            [ones[rows]],
            [labels[rows]],
            factor_names=("user",),
            max_levels=20,
        )
        for rows in (slice(0, 15), slice(15, 30))
    ]
    with pytest.raises(ValueError, match=r"\(30 found so far\).*fixed effect"):
        halves[0].merge(halves[1])


def test_design_columns_drop_the_first_level_or_keep_all():
    x, y, first, second, _ = _data()
    stat = block_level_moments(
        [x[:, :2]], [y], [first, second], factor_names=("first", "second")
    )
    order = [("x0", None), ("first", 0), ("x1", None), ("second", 1)]
    columns, names = design_columns(stat, order, drop_first=[True, False])
    assert names == [
        "x0",
        "first[T.b]",
        "first[T.c]",
        "first[T.d]",
        "x1",
        "second[u]",
        "second[v]",
        "second[w]",
    ]
    assert list(columns) == [0, 3, 4, 5, 1, 6, 7, 8]
    reordered = stat.reordered([np.array(["d", "c", "b", "a", "never"]), None])
    assert list(reordered.levels[0]) == ["d", "c", "b", "a"]
    chosen = stat.select(columns)
    assert chosen.comoment.shape == (10, 10)  # 8 features and 2 targets
