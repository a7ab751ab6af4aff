"""Cache-sized pieces of a block of rows, shifted and weighted into scratch.

Every per-block statistic reads its block the same way: the block comes as
column groups side by side (``Z = [X | Y]`` is never concatenated), possibly
only a subset of its rows (a cross-validation fold), and is walked in pieces
of rows small enough to stay in cache.  Each piece is written into a
caller's scratch buffer, shifted by a fixed point and, for the statistics
that square it, scaled by ``sqrt(w)``; the caller folds the piece into its
accumulator (a rank-k update, a QR, slice products, scores) while it is in
cache.  The block is never copied whole.  Plain NumPy; no Dask.
"""

import numpy as np

__all__ = ["SHIFT_ROWS", "RowBlock", "rows_per_piece"]

# A piece of rows is shifted into a scratch buffer and multiplied while it is
# in cache.  At least _MIN_PIECE_ROWS and 16 rows per column, so that the
# (q+1)-square product added per piece is small next to the piece and the
# rank-k update has a long inner dimension (measured best on 50 and 500
# columns); at most _MAX_PIECE_BYTES of scratch.
_MIN_PIECE_ROWS = 4096
_ROWS_PER_COLUMN = 16
_MAX_PIECE_BYTES = 64 << 20

#: The shift of a block (:meth:`RowBlock.shift_point`) is the mean of at
#: most this many of its first rows.
SHIFT_ROWS = 256


def rows_per_piece(n_columns, n_rows, *, even=False, rows=None):
    """Rows per piece for a block of ``n_rows`` rows and ``n_columns`` columns.

    ``rows`` if given, else ``max(4096, 16 * n_columns)``; at most 64 MiB of
    scratch, at most ``n_rows`` and at least 1.  With ``even=True`` the
    block is cut into pieces of equal size instead (a small last piece
    multiplies inefficiently).
    """
    if rows is None:
        rows = max(_MIN_PIECE_ROWS, _ROWS_PER_COLUMN * n_columns)
    rows = max(1, min(rows, _MAX_PIECE_BYTES // (8 * (n_columns + 1))))
    if even and n_rows > 0:
        n_pieces = -(-n_rows // rows)
        rows = -(-n_rows // n_pieces)
    return max(1, min(rows, n_rows))


def _shifted_into(out, source, shift):
    """``out[...] = source - shift``.

    A source that is not aligned (an array received over the network, at
    any byte offset of its message) is copied first and shifted in
    ``out``: NumPy buffers unaligned operands of arithmetic, which costs
    more than a plain copy (measured 1.3x at 50 columns).
    """
    if source.flags.aligned:
        np.subtract(source, shift, out=out)
    else:
        np.copyto(out, source)
        np.subtract(out, shift, out=out)


class RowBlock:
    """A block of rows given as column groups side by side, read in pieces.

    Parameters
    ----------
    columns : sequence of ndarray
        2-D arrays with the same number of rows; their horizontal
        concatenation is the block ``Z``.  Any numeric dtype.
    sample_weight : ndarray of shape (n_rows,), default=None
        Row weights; None means all ones.
    rows : ndarray of int, default=None
        Only these rows, in this order: gathered a piece at a time.

    Attributes
    ----------
    columns : list of ndarray
    rows : ndarray of intp or None
    n_rows : int
        Rows of the block (``len(rows)`` when given).
    n_columns : int
        Columns of ``Z``.
    weights : ndarray of float64 of shape (n_rows,) or None
        The weights of the block's rows (of ``rows`` when given).
    """

    def __init__(self, columns, sample_weight=None, *, rows=None):
        self.columns = [np.asarray(c) for c in columns]
        self.rows = None if rows is None else np.asarray(rows, dtype=np.intp)
        if self.rows is not None:
            self.n_rows = len(self.rows)
        else:
            self.n_rows = self.columns[0].shape[0] if self.columns else 0
        self._offsets = np.cumsum([0, *(c.shape[1] for c in self.columns)])
        self.n_columns = int(self._offsets[-1])
        self.weights = None
        if sample_weight is not None:
            self.weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if self.rows is not None:
                self.weights = self.weights[self.rows]

    def shift_point(self):
        """(Weighted) column means of the block's first ``SHIFT_ROWS`` rows,
        a point inside the data to shift it by.

        The plain mean where those rows weigh nothing.  Any point inside the
        data keeps the digits of the shifted products; more rows would only
        cost time.  The rows are copied side by side first, so that the
        result does not depend on how the columns are grouped.
        """
        count = min(SHIFT_ROWS, self.n_rows)
        rows = np.empty((count, self.n_columns))
        for source, lo, hi in self._groups(0, count):
            rows[:, lo:hi] = source
        weights = None if self.weights is None else self.weights[:count]
        if weights is not None and weights.sum() > 0.0:
            return (weights @ rows) / weights.sum()
        return rows.mean(axis=0)

    def pieces(self, scratch, shift=None, *, ones=None, root_weighted=False):
        """Yield ``(span, piece)`` for consecutive pieces of ``len(scratch)``
        rows: ``span`` is the slice of the block's rows, ``piece`` the
        leading rows of ``scratch`` holding them.

        Parameters
        ----------
        scratch : ndarray of float64 of shape (piece_rows, n_columns [+ 1])
            Overwritten by each piece: a piece is valid until the next one.
        shift : ndarray of shape (n_columns,), default=None
            Subtracted from the rows (``Z - shift``); None copies them.
        ones : {"first", "last"}, default=None
            A column of ones before or after ``Z`` (``scratch`` then has one
            column more).
        root_weighted : bool, default=False
            Scale each row, the column of ones included, by ``sqrt(w)``.
        """
        q = self.n_columns
        lead = 1 if ones == "first" else 0
        ones_column = {"first": 0, "last": q}.get(ones)
        if ones_column is not None:
            scratch[:, ones_column] = 1.0
        step = scratch.shape[0]
        # Gathered rows land in contiguous scratch first: np.take into a
        # strided slice of the buffer is about twice slower.  (np.take of a
        # group that is not C-contiguous copies the whole group first: such
        # groups are indexed instead.)
        gathered = None
        if self.rows is not None:
            gathered = [
                np.empty((step, c.shape[1]), dtype=c.dtype)
                if c.flags.c_contiguous
                else None
                for c in self.columns
            ]
        for start in range(0, self.n_rows, step):
            stop = min(start + step, self.n_rows)
            piece = scratch[: stop - start]
            for source, lo, hi in self._groups(start, stop, gathered):
                out = piece[:, lead + lo : lead + hi]
                if shift is None:
                    out[...] = source
                else:
                    _shifted_into(out, source, shift[lo:hi])
            if root_weighted and self.weights is not None:
                if ones_column is not None and start > 0:
                    piece[:, ones_column] = 1.0
                # The whole piece at once: about twice faster than the
                # strided columns of Z alone.
                piece *= np.sqrt(self.weights[start:stop])[:, None]
            yield slice(start, stop), piece

    def main_group(self):
        """Index of the widest column group (the first of the widest): the
        one :meth:`split_pieces` subtracts as one flat, contiguous sweep."""
        widths = np.diff(self._offsets)
        return int(np.argmax(widths)) if len(widths) else 0

    def main_group_order(self):
        """``"F"`` when the main group is column-major (a pandas frame's
        values), else ``"C"``: the memory order of its scratch in
        :meth:`split_pieces`, so that the shifted copy reads and writes
        contiguous runs."""
        group = self.columns[self.main_group()] if self.columns else None
        if (
            group is not None
            and group.flags.f_contiguous
            and not group.flags.c_contiguous
        ):
            return "F"
        return "C"

    def split_columns(self):
        """``(main, rest)``: the columns of ``Z`` in the main group, and the
        others in order, as index arrays (see :meth:`split_pieces`)."""
        main = self.main_group()
        lo, hi = self._offsets[main], self._offsets[main + 1]
        columns = np.arange(self.n_columns)
        return columns[lo:hi], np.concatenate([columns[:lo], columns[hi:]])

    def split_pieces(self, main_scratch, rest_scratch, shift, *, root_weighted=False):
        """Yield ``(span, main, rest)`` for consecutive pieces of
        ``len(main_scratch)`` rows of all the block's rows (``rows`` must
        be None), shifted by ``shift``.

        ``main`` holds the piece of the widest column group (scratch of
        shape (rows, width), in :meth:`main_group_order`), ``rest`` the
        other columns in
        order followed by a column of ones (shape (rows, q - width + 1)).
        A C-contiguous group is shifted in one flat sweep against a tiled
        shift, about three times faster than a 2-D broadcast into a strided
        buffer; with its products taken apart (``main.T @ main`` by syrk,
        ``main.T @ rest`` by gemm while ``main`` is in cache), the block is
        read once and copied once into cache.
        """
        if self.rows is not None:
            raise ValueError("split_pieces reads all rows; rows must be None")
        main_index = self.main_group()
        main_columns, rest_columns = self.split_columns()
        group = self.columns[main_index]
        width = group.shape[1]
        step = main_scratch.shape[0]
        main_shift = shift[main_columns]
        flat = group.flags.c_contiguous and width > 0
        tiled = np.tile(main_shift, step) if flat else None
        rest_groups = [
            (c, self._offsets[i], self._offsets[i + 1])
            for i, c in enumerate(self.columns)
            if i != main_index
        ]
        ones = rest_scratch.shape[1] - 1
        rest_scratch[:, ones] = 1.0
        for start in range(0, self.n_rows, step):
            stop = min(start + step, self.n_rows)
            size = stop - start
            main = main_scratch[:size]
            rest = rest_scratch[:size]
            if flat:
                _shifted_into(
                    main.reshape(-1),
                    group[start:stop].reshape(-1),
                    tiled[: size * width],
                )
            else:
                _shifted_into(main, group[start:stop], main_shift)
            at = 0
            for source, lo, hi in rest_groups:
                _shifted_into(
                    rest[:, at : at + hi - lo], source[start:stop], shift[lo:hi]
                )
                at += hi - lo
            if root_weighted and self.weights is not None:
                if start > 0:
                    rest[:, ones] = 1.0
                root = np.sqrt(self.weights[start:stop])[:, None]
                main *= root
                rest *= root
            yield slice(start, stop), main, rest

    def _groups(self, start, stop, gathered=None):
        """``(rows start:stop of a group, lo, hi)`` per column group, with the
        group's columns ``lo:hi`` of ``Z``."""
        for i, (group, lo, hi) in enumerate(
            zip(self.columns, self._offsets[:-1], self._offsets[1:], strict=True)
        ):
            if self.rows is None:
                source = group[start:stop]
            elif gathered is None or gathered[i] is None:
                source = group[self.rows[start:stop]]
            else:
                source = np.take(
                    group,
                    self.rows[start:stop],
                    axis=0,
                    out=gathered[i][: stop - start],
                    mode="clip",
                )
            yield source, lo, hi
