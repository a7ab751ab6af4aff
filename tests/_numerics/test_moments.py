from functools import reduce

import numpy as np
import pytest

from dask_linreg._numerics.kinds import KINDS
from dask_linreg._numerics.moments import (
    _split_piece_rows,
    block_moments,
    empty_moments,
    merge_all_moments,
    merge_moments,
)


def dense_moments(Z, w=None):
    w = np.ones(Z.shape[0]) if w is None else w
    mean = w @ Z / w.sum()
    centered = Z - mean
    return w.sum(), mean, centered.T @ (centered * w[:, None])


@pytest.mark.parametrize(
    "order, n_columns",
    [("C", 3), ("F", 40), ("C", 255), ("F", 300), ("C", 600)],
)
def test_block_moments_are_exactly_symmetric_on_every_path(order, n_columns, rng):
    # Narrow and wide blocks, row- and column-major (a pandas frame's
    # values): the split and one-buffer paths, and more columns than one
    # tile of the symmetrization.
    Z = np.asarray(rng.standard_normal((700, n_columns)) + 5.0, order=order)
    w = rng.random(700)
    moments = block_moments([Z[:, :-2], Z[:, -2:]], w)
    np.testing.assert_array_equal(moments.comoment, moments.comoment.T)
    _, mean, comoment = dense_moments(Z, w)
    np.testing.assert_allclose(moments.mean, mean, rtol=1e-13)
    np.testing.assert_allclose(
        moments.comoment, comoment, rtol=1e-11, atol=1e-11 * np.abs(comoment).max()
    )


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("widest", ["first", "last"])
@pytest.mark.parametrize("weighted", [False, True])
def test_wide_blocks_in_pieces_match_dense_oracle(order, widest, weighted, rng):
    # More than 256 columns in several pieces: the BLAS adds each piece's
    # products into the sums in place, with the widest group first (the
    # sums are the gram itself) or not (they are permuted into it).
    Z = np.asarray(rng.standard_normal((900, 290)) * 2.0 + 1e3, order=order)
    w = rng.random(900) if weighted else None
    groups = [Z[:, :270], Z[:, 270:]] if widest == "first" else [Z[:, :20], Z[:, 20:]]
    moments = block_moments(groups, w, piece_rows=128)
    weight_sum, mean, comoment = dense_moments(Z, w)
    np.testing.assert_allclose(moments.weight_sum, weight_sum, rtol=1e-13)
    np.testing.assert_allclose(moments.mean, mean, rtol=1e-13)
    np.testing.assert_allclose(
        moments.comoment, comoment, rtol=1e-11, atol=1e-11 * np.abs(comoment).max()
    )
    np.testing.assert_array_equal(moments.comoment, moments.comoment.T)


@pytest.mark.parametrize("order", ["C", "F"])
def test_wide_blocks_in_default_pieces_match_dense_oracle(order, rng):
    # 301 columns in the default pieces of about 1 MiB (435 rows, evened:
    # 1,200 rows in 3 pieces of 400), the products added in place.
    Z = np.asarray(rng.standard_normal((1200, 301)) * 2.0 + 1e3, order=order)
    moments = block_moments([Z[:, :300], Z[:, 300:]])
    weight_sum, mean, comoment = dense_moments(Z, None)
    np.testing.assert_allclose(moments.weight_sum, weight_sum, rtol=1e-13)
    np.testing.assert_allclose(moments.mean, mean, rtol=1e-13)
    np.testing.assert_allclose(
        moments.comoment, comoment, rtol=1e-11, atol=1e-11 * np.abs(comoment).max()
    )


def test_split_pieces_are_short_while_the_sums_fit_the_cache():
    # About 1 MiB and at least 256 and q / 2 rows while the (q+1)-square
    # sums take at most 16 MiB; beyond, the long pieces (max(1024, 2q)).
    n_rows = 120_000
    assert _split_piece_rows(301, n_rows) == pytest.approx(
        (1 << 20) // (8 * 301), abs=2
    )
    assert _split_piece_rows(600, n_rows) == pytest.approx(300, abs=2)
    assert _split_piece_rows(1000, n_rows) == pytest.approx(500, abs=2)
    assert _split_piece_rows(1500, n_rows) == 3000
    assert _split_piece_rows(2001, 2500) == 2500


@pytest.mark.parametrize("main_width", [20, 270])
@pytest.mark.parametrize("other_columns", [0, 1, 2, 3])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("weighted", [False, True])
def test_pieces_match_dense_oracle_for_every_count_of_other_columns(
    main_width, other_columns, order, weighted, rng
):
    # Beside the widest group, the other columns and the column of ones
    # (1 to 4 in all): up to 3 their products with the widest group are
    # taken a column at a time, beyond as one matrix product; narrow and
    # wide groups, several pieces.
    n_columns = main_width + other_columns
    Z = np.asarray(
        rng.standard_normal((900, n_columns)) * 2.0 + 1e3 * np.arange(n_columns),
        order=order,
    )
    w = rng.random(900) if weighted else None
    groups = [Z[:, :main_width]]
    if other_columns:
        groups.append(Z[:, main_width:])
    moments = block_moments(groups, w, piece_rows=128)
    weight_sum, mean, comoment = dense_moments(Z, w)
    np.testing.assert_allclose(moments.weight_sum, weight_sum, rtol=1e-13)
    # Column 0 has mean about 0: its error is of the order of the spread's.
    np.testing.assert_allclose(moments.mean, mean, rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(
        moments.comoment, comoment, rtol=1e-11, atol=1e-11 * np.abs(comoment).max()
    )
    np.testing.assert_array_equal(moments.comoment, moments.comoment.T)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("piece_rows", [1, 7, 64, None])
def test_block_moments_match_dense_oracle_for_column_groups(weighted, piece_rows, rng):
    Z = rng.standard_normal((301, 6)) * [1, 2, 3, 4, 5, 6] + [0, 1, -3, 10, 0, 2]
    w = rng.random(301) * 3 if weighted else None
    moments = block_moments([Z[:, :2], Z[:, 2:5], Z[:, 5:]], w, piece_rows=piece_rows)
    weight_sum, mean, comoment = dense_moments(Z, w)
    assert moments.count == 301
    np.testing.assert_allclose(moments.weight_sum, weight_sum, rtol=1e-13)
    np.testing.assert_allclose(moments.mean, mean, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(moments.comoment, comoment, rtol=1e-12, atol=1e-11)
    np.testing.assert_array_equal(moments.comoment, moments.comoment.T)


def test_block_moments_keep_digits_of_columns_with_huge_offsets(rng):
    # 1e9 + N(0, 1): raw sums of squares would cancel about 18 digits.
    exact = rng.standard_normal((2000, 3))
    Z = exact + 1e9
    moments = block_moments([Z], piece_rows=100)
    # The oracle centers data that are exactly representable after the shift.
    shifted = Z - 1e9
    _, mean, comoment = dense_moments(shifted)
    np.testing.assert_allclose(moments.mean - 1e9, mean, atol=1e-6)
    np.testing.assert_allclose(moments.comoment, comoment, rtol=1e-12)


def test_block_moments_accumulate_float32_input_in_float64(rng):
    Z = (rng.standard_normal((500, 4)) + 1000).astype(np.float32)
    moments = block_moments([Z])
    _, mean, comoment = dense_moments(Z.astype(np.float64))
    assert moments.comoment.dtype == np.float64
    np.testing.assert_allclose(moments.comoment, comoment, rtol=1e-11)


def test_merge_of_blocks_equals_moments_of_whole(rng):
    Z = rng.standard_normal((1000, 4)) + 1e6
    w = rng.random(1000)
    cuts = [0, 1, 17, 400, 401, 1000]
    parts = [
        block_moments([Z[a:b]], w[a:b])
        for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]
    whole = block_moments([Z], w)
    merged = reduce(merge_moments, parts)
    assert merged.count == 1000
    np.testing.assert_allclose(merged.weight_sum, whole.weight_sum, rtol=1e-14)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-15)
    # Means of 1e6 + N(0, 1) are stored to about 1e6 * eps, so entries agree
    # to that times the spread, relative to the diagonal (not to each entry).
    scale = np.sqrt(np.outer(np.diag(whole.comoment), np.diag(whole.comoment)))
    assert np.abs(merged.comoment - whole.comoment).max() <= 1e-11 * scale.max()


def test_merge_is_associative_and_commutative(rng):
    a, b, c = (block_moments([rng.standard_normal((50, 3)) + i]) for i in range(3))
    left = merge_moments(merge_moments(a, b), c)
    right = merge_moments(a, merge_moments(c, b))
    np.testing.assert_allclose(left.mean, right.mean, rtol=1e-15)
    np.testing.assert_allclose(left.comoment, right.comoment, rtol=1e-13)


def test_zero_weight_and_empty_blocks_are_identities_of_merge(rng):
    Z = rng.standard_normal((40, 3))
    moments = block_moments([Z])
    zero_weight = block_moments([Z + 100], np.zeros(40))
    assert zero_weight.weight_sum == 0.0 and zero_weight.count == 40
    merged = merge_moments(zero_weight, merge_moments(moments, empty_moments(3)))
    assert merged.count == 80
    np.testing.assert_array_equal(merged.mean, moments.mean)
    np.testing.assert_array_equal(merged.comoment, moments.comoment)


@pytest.mark.parametrize("n_columns", [3, 300])
def test_merge_all_equals_the_pairwise_merges_and_the_whole(n_columns, rng):
    # Offsets of 1e6 and a spread of 1: the multi-way update keeps the
    # digits the pairwise one keeps; zero-weight and empty parts only count.
    Z = rng.standard_normal((1200, n_columns)) + 1e6 * rng.random(n_columns)
    w = rng.random(1200) * 2
    w[400:450] = 0.0
    cuts = [0, 3, 400, 450, 450, 900, 1200]
    parts = [
        block_moments([Z[a:b]], w[a:b])
        for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]
    merged = merge_all_moments(parts)
    pairwise = reduce(merge_moments, parts)
    whole = block_moments([Z], w)
    for field in ("count", "positive_count"):
        assert getattr(merged, field) == getattr(whole, field)
    np.testing.assert_allclose(merged.log_weight_sum, whole.log_weight_sum, rtol=1e-13)
    np.testing.assert_allclose(merged.weight_sum, whole.weight_sum, rtol=1e-14)
    np.testing.assert_allclose(merged.mean, pairwise.mean, rtol=1e-15)
    np.testing.assert_array_equal(merged.comoment, merged.comoment.T)
    scale = np.diag(whole.comoment).max()
    for other in (pairwise, whole):
        assert np.abs(merged.comoment - other.comoment).max() <= 1e-11 * scale


def test_merge_all_of_parts_without_weight_keeps_the_first(rng):
    Z = rng.standard_normal((20, 2))
    parts = [
        block_moments([Z[:10]], np.zeros(10)),
        block_moments([Z[10:]], np.zeros(10)),
    ]
    merged = merge_all_moments([*parts, empty_moments(2)])
    assert merged.count == 20 and merged.weight_sum == 0.0
    np.testing.assert_array_equal(merged.shift, parts[0].shift)
    one = merge_all_moments([empty_moments(2), block_moments([Z]), empty_moments(2)])
    np.testing.assert_array_equal(one.comoment, block_moments([Z]).comoment)


def test_merge_all_lets_non_finite_values_through_without_warnings(rng):
    Z = rng.standard_normal((30, 2))
    Z[5, 1] = np.nan
    with np.errstate(all="raise"):
        merged = merge_all_moments([block_moments([Z[:10]]), block_moments([Z[10:]])])
    assert not merged.is_finite()


def test_raw_cross_products_add_back_the_mean(rng):
    Z = rng.standard_normal((100, 3)) + 5
    w = rng.random(100)
    np.testing.assert_allclose(
        block_moments([Z], w).raw_cross_products(), Z.T @ (Z * w[:, None]), rtol=1e-13
    )


def test_non_finite_values_propagate_without_warnings(rng):
    Z = rng.standard_normal((30, 2))
    Z[5, 1] = np.inf
    with np.errstate(all="raise"):
        moments = block_moments([Z])
    assert not moments.is_finite()


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_positive_rows_and_log_weights_merge_over_blocks(kind, rng):
    Z = rng.standard_normal((200, 3))
    w = rng.uniform(0.1, 5.0, 200)
    w[::9] = 0.0
    parts = [kind.of_block([Z[i : i + 37]], w[i : i + 37]) for i in range(0, 200, 37)]
    merged = reduce(kind.merge, parts)
    positive = w > 0
    assert merged.count == 200 and merged.positive_count == positive.sum()
    np.testing.assert_allclose(
        merged.log_weight_sum, np.log(w[positive]).sum(), rtol=1e-13
    )
    unweighted = reduce(
        kind.merge, [kind.of_block([Z[i : i + 37]]) for i in range(0, 200, 37)]
    )
    assert unweighted.positive_count == 200 and unweighted.log_weight_sum == 0.0


@pytest.mark.parametrize("weighted", [False, True])
def test_block_moments_of_a_row_subset_equal_those_of_the_copied_rows(weighted, rng):
    Z = rng.standard_normal((500, 5)) + [0, 1e6, 3, 0, -2]
    w = rng.uniform(0.5, 2.0, 500) if weighted else None
    rows = np.sort(rng.choice(500, 170, replace=False))
    subset = block_moments([Z[:, :2], Z[:, 2:]], w, rows=rows, piece_rows=33)
    copied = block_moments([Z[rows]], None if w is None else w[rows], piece_rows=33)
    assert subset.count == copied.count == 170
    # The two take different kernels (gathered pieces, split groups): the
    # means agree to rounding relative to each column's magnitude.
    magnitude = np.abs(Z[rows]).max(axis=0)
    assert np.all(np.abs(subset.mean - copied.mean) <= 4e-16 * magnitude)
    np.testing.assert_allclose(subset.comoment, copied.comoment, rtol=1e-12)
