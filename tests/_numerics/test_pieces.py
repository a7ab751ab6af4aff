import numpy as np
import pytest

from dask_linreg._numerics.moments import block_moments
from dask_linreg._numerics.pieces import SHIFT_ROWS, RowBlock, rows_per_piece


def _dense_pieces(Z, w, rows, shift, ones, root_weighted, step):
    """The pieces written out densely: the oracle of RowBlock.pieces."""
    if rows is not None:
        Z = Z[rows]
        w = None if w is None else w[rows]
    A = Z if shift is None else Z - shift
    column = np.ones((len(Z), 1))
    if ones == "first":
        A = np.hstack([column, A])
    elif ones == "last":
        A = np.hstack([A, column])
    if root_weighted and w is not None:
        A = A * np.sqrt(w)[:, None]
    return [A[start : start + step] for start in range(0, len(A), step)]


@pytest.mark.parametrize("ones", [None, "first", "last"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("subset", [False, True])
@pytest.mark.parametrize("shifted", [False, True])
def test_pieces_are_the_shifted_weighted_rows_of_the_column_groups(
    ones, weighted, subset, shifted, rng
):
    Z = rng.standard_normal((103, 6)) * 10 + 1e3
    w = rng.uniform(0, 2, 103) if weighted else None
    rows = rng.permutation(103)[:61] if subset else None
    shift = Z[:5].mean(axis=0) if shifted else None
    # A C-contiguous group (gathered by np.take), a strided view (indexed),
    # and an integer group.
    groups = [np.ascontiguousarray(Z[:, :2]), Z[:, 2:5], Z[:, 5:].astype(np.int64)]
    Z[:, 5:] = groups[2]
    block = RowBlock(groups, w, rows=rows)
    step = 17
    scratch = np.full((step, 6 + (ones is not None)), np.nan)
    spans, pieces = [], []
    for span, piece in block.pieces(scratch, shift, ones=ones, root_weighted=True):
        assert np.shares_memory(piece, scratch)
        spans.append(span)
        pieces.append(piece.copy())
    expected = _dense_pieces(Z, w, rows, shift, ones, True, step)
    assert len(pieces) == len(expected)
    for got, want in zip(pieces, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    n_rows = 61 if subset else 103
    assert spans[0].start == 0 and spans[-1].stop == n_rows
    assert all(a.stop == b.start for a, b in zip(spans, spans[1:], strict=False))


def test_shift_point_is_the_weighted_mean_of_the_first_rows(rng):
    Z = rng.standard_normal((400, 3)) + [0, 1e6, -5]
    w = rng.uniform(0, 2, 400)
    rows = rng.permutation(400)
    block = RowBlock([Z[:, :1], Z[:, 1:]], w, rows=rows)
    first = rows[:SHIFT_ROWS]
    np.testing.assert_allclose(
        block.shift_point(), w[first] @ Z[first] / w[first].sum(), rtol=1e-14
    )
    weightless = RowBlock([Z], np.zeros(400)).shift_point()
    np.testing.assert_allclose(weightless, Z[:SHIFT_ROWS].mean(axis=0), rtol=1e-14)
    short = RowBlock([Z[:5]]).shift_point()
    np.testing.assert_allclose(short, Z[:5].mean(axis=0), rtol=1e-14)


def test_a_block_without_rows_yields_no_piece():
    block = RowBlock([np.zeros((10, 2))], rows=np.zeros(0, dtype=int))
    assert block.n_rows == 0 and block.n_columns == 2
    assert list(block.pieces(np.empty((1, 2)))) == []


@pytest.mark.parametrize("n_columns", [1, 50, 500, 5000])
@pytest.mark.parametrize("n_rows", [0, 1, 4097, 10**6])
def test_rows_per_piece_is_bounded_by_the_block_and_the_scratch_size(n_columns, n_rows):
    rows = rows_per_piece(n_columns, n_rows)
    assert 1 <= rows <= max(n_rows, 1)
    assert rows * 8 * (n_columns + 1) <= max(64 << 20, 8 * (n_columns + 1))
    even = rows_per_piece(n_columns, n_rows, even=True)
    assert even <= rows
    if n_rows:
        n_pieces = -(-n_rows // rows)
        assert -(-n_rows // even) == n_pieces
        assert n_pieces * even - n_rows < n_pieces


def test_unaligned_columns_give_the_moments_of_their_aligned_copy(rng):
    # An array received over the network may start at any byte offset.
    values = rng.standard_normal((3000, 7)) + 1e6
    raw = np.empty(values.nbytes + 1, dtype=np.uint8)
    unaligned = np.frombuffer(raw[1:].data, dtype=np.float64).reshape(values.shape)
    unaligned[...] = values
    assert not unaligned.flags.aligned
    for cut in (7, 5):
        got = block_moments([unaligned[:, :cut], unaligned[:, cut:]], piece_rows=500)
        want = block_moments([values[:, :cut], values[:, cut:]], piece_rows=500)
        np.testing.assert_array_equal(got.comoment, want.comoment)
        np.testing.assert_array_equal(got.mean, want.mean)
