"""The moments of categorical designs against the dense one-hot oracle."""

import numpy as np
import pandas as pd
import pytest

from dask_linreg._numerics.levels import (
    IndicatorTerm,
    ModelTerm,
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
    terms = [
        ModelTerm(("x0",), "x0"),
        ModelTerm(((0, True),)),
        ModelTerm(("x1",), "x1"),
        ModelTerm(((1, False),)),
    ]
    columns, names = design_columns(stat, terms, ["x0", "x1"])
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


def _interaction_oracle(x, y, first, second, weights):
    """The dense columns of x0:first, first:second and x1:second, first
    factor fastest, with the numeric ones and the targets."""
    a = (first[:, None] == np.array(list("abcd"))[None, :]).astype(float)
    b = (second[:, None] == np.array(list("uvw"))[None, :]).astype(float)
    pairs = (a[:, :, None] * b[:, None, :]).transpose(0, 2, 1).reshape(len(x), -1)
    blocks = [x, a, x[:, :1] * a, pairs, x[:, 1:2] * b]
    return block_moments([*blocks, y], weights)


_TERMS = (
    IndicatorTerm((0,)),
    IndicatorTerm((0,), 0),
    IndicatorTerm((0, 1)),
    IndicatorTerm((1,), 1),
)


@pytest.mark.parametrize("weighted", [False, True])
def test_interaction_blocks_equal_the_dense_products(weighted):
    x, y, first, second, weights = _data(seed=3)
    x = x + np.array([0.0, 3.0, 0.0])
    weights = weights if weighted else None
    # Sorted by the first factor: most blocks see few of its levels, and
    # each sees only some of the level pairs.
    order = np.lexsort((second, first))
    x, y, first, second = x[order], y[order], first[order], second[order]
    if weights is not None:
        weights = weights[order]
    stats = [
        block_level_moments(
            [x[rows]],
            [y[rows]],
            [first[rows], second[rows]],
            None if weights is None else weights[rows],
            factor_names=("first", "second"),
            terms=_TERMS,
        )
        for rows in _blocks(3000, [400, 1200, 1201, 2600])
    ]
    merged = stats[4].merge(stats[0]).merge(stats[2].merge(stats[1])).merge(stats[3])
    oracle = _interaction_oracle(x, y, first, second, weights)
    assert merged.n_indicators == 4 + 4 + 12 + 3
    np.testing.assert_allclose(merged.moments.mean, oracle.mean, rtol=1e-12, atol=1e-13)
    scale = np.abs(oracle.comoment).max()
    np.testing.assert_allclose(
        merged.moments.comoment, oracle.comoment, rtol=0, atol=1e-12 * scale
    )


def test_interaction_columns_and_names_follow_formulaic():
    x, y, first, second, _ = _data(seed=4)
    stat = block_level_moments(
        [x[:, :2]],
        [y],
        [first, second],
        factor_names=("C(a)", "C(b)"),
        terms=_TERMS,
    )
    terms = [
        ModelTerm(((0, True),)),
        ModelTerm(("x0", (0, True)), "x0"),
        ModelTerm(((0, True), (1, True))),
        ModelTerm(((1, False), "x1"), "x1"),
    ]
    columns, names = design_columns(stat, terms, ["x0", "x1"])
    assert names[:6] == [
        "C(a)[T.b]",
        "C(a)[T.c]",
        "C(a)[T.d]",
        "x0:C(a)[T.b]",
        "x0:C(a)[T.c]",
        "x0:C(a)[T.d]",
    ]
    assert names[6:9] == [
        "C(a)[T.b]:C(b)[T.v]",
        "C(a)[T.c]:C(b)[T.v]",
        "C(a)[T.d]:C(b)[T.v]",
    ]
    assert names[-3:] == ["C(b)[u]:x1", "C(b)[v]:x1", "C(b)[w]:x1"]
    # Blocks start after the 2 numeric columns: first (4), x0:first (4),
    # first:second (12, first fastest), x1:second (3).
    assert list(columns[:6]) == [3, 4, 5, 7, 8, 9]
    assert list(columns[6:9]) == [15, 16, 17]
    assert list(columns[-3:]) == [22, 23, 24]
    reordered = stat.reordered([np.array(list("dcba")), np.array(list("wvu"))])
    oracle = _interaction_oracle(x[:, :2], y, first, second, None)
    # The pair block reordered equals the oracle's pairs permuted alike.
    pairs = np.array([i + 4 * j for j in (2, 1, 0) for i in (3, 2, 1, 0)])
    got = reordered.moments.comoment[2 + 8 : 2 + 20, 2 + 8 : 2 + 20]
    want = oracle.comoment[2 + 8 + pairs][:, 2 + 8 + pairs]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


def test_too_many_level_combinations_fail():
    first = np.repeat(np.arange(6).astype(str), 5)
    second = np.tile(np.arange(5).astype(str), 6)
    ones = np.ones((30, 1))
    with pytest.raises(
        ValueError,
        match=r"interaction of 'a' and 'b' has more than max_levels=20 level "
        r"combinations \(30 so far\)",
    ):
        block_level_moments(
            [ones],
            [ones],
            [first, second],
            factor_names=("a", "b"),
            max_levels=20,
            terms=(IndicatorTerm((0, 1)),),
        )


def test_categories_order_the_levels_in_order_of_appearance():
    x, y, first, second, _ = _data(n=600)
    pieces = []
    categories = [["d", "b", "a", "c"], ["d", "b", "a", "c"], ["c", "e", "d"]]
    for rows, cats in zip(_blocks(600, [200, 400]), categories, strict=True):
        labels = np.where(np.isin(first[rows], cats), first[rows], cats[0])
        pieces.append(
            block_level_moments(
                [x[rows]],
                [y[rows]],
                [pd.Categorical(labels, categories=cats), second[rows]],
                factor_names=["first", "second"],
            )
        )
    merged = pieces[0].merge(pieces[1]).merge(pieces[2])
    # Levels are sorted in the statistic; the categories' order is carried
    # (the first block's, then what later blocks add), not for plain labels.
    assert list(merged.levels[0]) == ["a", "b", "c", "d"]
    assert list(merged.orders[0]) == ["d", "b", "a", "c", "e"]
    assert merged.orders[1] is None
    ordered = merged.reordered([None, None])
    assert list(ordered.levels[0]) == ["d", "b", "a", "c"]  # "e": no row
    assert list(ordered.levels[1]) == ["u", "v", "w"]
    # A dtype's own order wins; levels it does not list come last, sorted.
    given = merged.reordered([np.array(["c", "a"], dtype=object), None])
    assert list(given.levels[0]) == ["c", "a", "b", "d"]
    dense = _dense(
        x,
        y,
        [
            np.concatenate(
                [
                    np.where(np.isin(first[r], c), first[r], c[0])
                    for r, c in zip(_blocks(600, [200, 400]), categories, strict=True)
                ]
            ),
            second,
        ],
        None,
        [["c", "a", "b", "d"], ["u", "v", "w"]],
    )
    np.testing.assert_allclose(
        given.moments.comoment, dense.comoment, rtol=1e-10, atol=1e-9
    )
