"""Mergeable sufficient statistics for weighted least squares.

Everything here is plain NumPy/SciPy on in-memory arrays: a block of rows is
reduced to a :class:`Moments` object by :func:`block_moments`, and two
``Moments`` of disjoint row sets are combined by :func:`merge_moments`.  The
Dask layer only maps the first over row blocks and tree-reduces with the
second.

The statistic is taken over the *augmented* matrix ``Z = [X | Y]`` (features
and targets side by side), so one object carries ``xx``, ``xy`` and ``yy``.
"""

import functools
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
from scipy import linalg

from dask_linreg._numerics.accurate import solve_normal
from dask_linreg._numerics.blas import gemm_accumulate, syrk_accumulate
from dask_linreg._numerics.pieces import RowBlock, rows_per_piece
from dask_linreg._numerics.solve import normal_equations, singular_values

__all__ = [
    "WeightedMean",
    "Moments",
    "weight_tally",
    "merge_means",
    "merge_weighted",
    "block_moments",
    "block_residual_moments",
    "empty_moments",
    "merge_moments",
    "merge_all_moments",
]


@dataclass(frozen=True)
class WeightedMean:
    """Row count, weight sum and weighted column means of a set of rows.

    The mean is stored as ``shift + offset``: ``shift`` is a point inside
    the data (exactly representable) and ``offset`` the mean's small
    distance from it.  Differences of means, which merges need, are then
    taken between nearby shifts (exact in floating point) plus small
    offsets, so a column like ``1e9 + N(0, 1)`` keeps the digits of its
    spread.

    Parameters
    ----------
    count : int
        Number of rows (whatever their weight).
    weight_sum : float
        Sum of the row weights ``W``.
    shift : ndarray of shape (q,)
        Reference point of the columns.
    offset : ndarray of shape (q,)
        Weighted column means minus ``shift``.
    positive_count : int
        Number of rows of positive weight (the observations of a weighted
        fit's inference; rows of zero weight are absent).
    log_weight_sum : float
        Sum of ``log(w)`` over the rows of positive weight (the weighted
        Gaussian log-likelihood needs it).
    """

    count: int
    weight_sum: float
    shift: np.ndarray
    offset: np.ndarray
    positive_count: int = field(default=0, kw_only=True)
    log_weight_sum: float = field(default=0.0, kw_only=True)

    @property
    def mean(self):
        """Weighted column means ``m = Z.T @ w / W``."""
        return self.shift + self.offset

    def is_finite(self):
        """Whether the weight sum and the means are finite."""
        return bool(np.isfinite(self.weight_sum) and np.isfinite(self.mean).all())


def merge_means(a, b):
    """Merge the means of two disjoint row sets (both of positive weight).

    Returns
    -------
    fields : dict
        ``count``, ``weight_sum``, ``shift`` and ``offset`` of the union; it
        keeps ``a``'s shift, so offsets stay of the order of the spread.
    delta : ndarray of shape (q,)
        ``m_b - m_a``, as ``(shift_b - shift_a) + (offset_b - offset_a)``.
    coupling : float
        ``W_a W_b / W``, the weight of ``outer(delta, delta)`` in the merged
        cross-products (Chan, Golub & LeVeque).
    """
    weight_sum = a.weight_sum + b.weight_sum
    # Non-finite statistics flow through; the caller reports them.
    with np.errstate(invalid="ignore", over="ignore"):
        delta = (b.shift - a.shift) + (b.offset - a.offset)
        offset = a.offset + delta * (b.weight_sum / weight_sum)
    fields = {
        "count": a.count + b.count,
        "weight_sum": weight_sum,
        "shift": a.shift,
        "offset": offset,
        **merge_tallies(a, b),
    }
    # W_a * (W_b / W): the product W_a * W_b alone can overflow or underflow.
    return fields, delta, a.weight_sum * (b.weight_sum / weight_sum)


#: The stored fields of every statistic: counts and weights.
TALLY_FIELDS = {
    "count": ("int", ()),
    "positive_count": ("int", ()),
    "log_weight_sum": ("float", ()),
}
#: The stored fields of the statistics with weighted means.
MEAN_FIELDS = {
    **TALLY_FIELDS,
    "weight_sum": ("float", ()),
    "shift": ("float", ("q",)),
    "offset": ("float", ("q",)),
}


def psd_root(cross):
    """A root of a positive semidefinite matrix by a scaled eigendecomposition."""
    scale = np.sqrt(np.clip(np.diag(cross), 0.0, None))
    safe = np.where(scale > 0, scale, 1.0)
    eigenvalues, eigenvectors = linalg.eigh(cross / np.outer(safe, safe))
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None] * eigenvectors.T
    return root * np.where(scale > 0, scale, 0.0)


@dataclass(frozen=True)
class Moments(WeightedMean):
    """Weighted means and centered cross-products of a set of rows.

    Parameters
    ----------
    count, weight_sum, shift, offset
        As in :class:`WeightedMean`.
    comoment : ndarray of shape (q, q)
        Weighted centered cross-products ``(Z - m).T @ diag(w) @ (Z - m)``.
    """

    comoment: np.ndarray

    #: The kind's name in model files, and the solver that uses it.
    name: ClassVar[str] = "moments"
    solver: ClassVar[str] = "cholesky"
    #: Whether its arithmetic is float64 products (which extreme column
    #: magnitudes overflow or underflow).
    float_products: ClassVar[bool] = True
    #: Stored fields: name -> (type, shape in terms of q, the columns).
    stored_fields: ClassVar[dict] = {
        **MEAN_FIELDS,
        "comoment": ("float", ("q", "q")),
    }

    @classmethod
    def of_block(cls, columns, sample_weight=None):
        """The statistic of a block of rows (:func:`block_moments`)."""
        return block_moments(columns, sample_weight)

    @classmethod
    def empty(cls, n_columns):
        """The statistic of no rows: the identity of :meth:`merge`."""
        return empty_moments(n_columns)

    def merge(self, other):
        """The statistic of the union of two disjoint row sets."""
        return merge_moments(self, other)

    @staticmethod
    def merge_all(parts):
        """The statistic of the union of disjoint row sets, in one step
        (:func:`merge_all_moments`)."""
        return merge_all_moments(parts)

    def to_kind(self, kind):
        """This statistic as one of ``kind``: only the same kind is possible,
        the least accurate of all."""
        if kind is not Moments:
            raise ValueError(f"A {self.name!r} statistic cannot be made {kind.name!r}.")
        return self

    def solve(self, n_features, *, fit_intercept, alpha=None):
        """Least squares (or ridge, ``alpha`` per target) from the normal
        equations: ``(Solution, x_offset, y_offset)``."""
        equations = normal_equations(self, n_features, fit_intercept=fit_intercept)
        solution = solve_normal(equations, alpha)
        return solution, equations.x_offset, equations.y_offset

    def singular_values(self, n_features, *, fit_intercept):
        """Singular values of the (centered) weighted design X, largest
        first, as many as ``min(count, n_features)``: an eigendecomposition
        of X's cross-products, which :meth:`solve` may have left out."""
        equations = normal_equations(self, n_features, fit_intercept=fit_intercept)
        return singular_values(equations.xx, equations.n_samples)

    def root(self, n_features, *, fit_intercept, factor=None):
        """``(F, x_mean, y_mean)`` with ``F.T @ F`` the (centered) cross-products
        of ``[X | Y]``, by a scaled eigendecomposition."""
        equations = normal_equations(self, n_features, fit_intercept=fit_intercept)
        cross = np.block([[equations.xx, equations.xy], [equations.xy.T, equations.yy]])
        return psd_root(cross), equations.x_offset, equations.y_offset

    def column_spread(self):
        """Square roots of the centered sums of squares of the columns."""
        return np.sqrt(np.clip(np.diag(self.comoment), 0.0, None))

    def is_finite(self):
        """Whether the weight sum, means and cross-products are all finite."""
        return super().is_finite() and bool(np.isfinite(self.comoment).all())

    def raw_cross_products(self):
        """Uncentered cross-products ``Z.T @ diag(w) @ Z``.

        ``comoment + W * outer(m, m)``: a sum of two positive semidefinite
        terms, so nothing cancels catastrophically (unlike the reverse
        direction, which this module never takes).
        """
        mean = self.mean
        return self.comoment + self.weight_sum * np.outer(mean, mean)


def weight_tally(sample_weight, n_rows):
    """Positive-weight row count and log-weight sum of a block of rows.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_rows,) or None
        Row weights; None means all ones.
    n_rows : int

    Returns
    -------
    dict
        ``positive_count`` and ``log_weight_sum``, the fields shared by all
        statistics (see :class:`WeightedMean`).
    """
    if sample_weight is None:
        return {"positive_count": n_rows, "log_weight_sum": 0.0}
    positive = sample_weight[sample_weight > 0]
    with np.errstate(over="ignore", invalid="ignore"):
        log_sum = float(np.log(positive).sum())
    return {"positive_count": int(positive.size), "log_weight_sum": log_sum}


def merge_tallies(a, b):
    """The :func:`weight_tally` fields of the union of two row sets."""
    return {
        "positive_count": a.positive_count + b.positive_count,
        "log_weight_sum": a.log_weight_sum + b.log_weight_sum,
    }


def empty_moments(n_columns):
    """Moments of zero rows: the identity of :func:`merge_moments`."""
    zeros = np.zeros(n_columns)
    return Moments(0, 0.0, zeros, zeros, np.zeros((n_columns, n_columns)))


def block_moments(columns, sample_weight=None, *, piece_rows=None, rows=None):
    """Moments of a block of rows given as column groups side by side.

    Parameters
    ----------
    columns : sequence of ndarray
        2-D arrays with the same number of rows; their horizontal
        concatenation is the block of ``Z = [X | Y]``.  Any numeric dtype;
        the statistics are float64.
    sample_weight : ndarray of shape (n_rows,), default=None
        Non-negative row weights; ``None`` means all ones.
    piece_rows : int, default=None
        Rows per piece; by default about 1.5 MiB of the widest column group
        (256 to 8192 rows) for up to 256 columns, else about 1 MiB (at
        least 256 rows and ``q / 2``) up to about 1,450 columns; beyond,
        and with ``rows``, ``max(1024, 2 * q)`` (at most 64 MiB); evened
        over the block.
    rows : ndarray of int, default=None
        Only these rows (a cross-validation fold, say): gathered piece by
        piece into the scratch buffer, so the subset is never copied whole.

    Returns
    -------
    Moments

    Notes
    -----
    The column groups are never concatenated and the block is never copied
    as a whole.  Each piece of rows is copied into a cache-sized scratch
    buffer ``B = sqrt(w) * [Z - s | 1]``, shifted by a fixed point ``s``
    (the mean of up to 256 first rows of the block), and accumulated with one
    symmetric rank-k update (``syrk``) into ``B.T @ B`` (the widest column
    group apart from the others, see ``_split_gram``).  Its last row
    holds ``sum(w * (Z - s))`` and ``W = sum(w)``, so the block's mean and
    centered cross-products follow with one rank-1 correction::

        g = (Z - s).T @ w,   mean = s + g / W,   M = D.T @ W @ D - outer(g, g) / W

    Because ``s`` lies inside the block's data, ``g / W`` is of the order of
    the spread of the data, not of its offset, and the correction cancels
    no more digits than centering by the exact mean would (the "shifted
    data" algorithm; Chan, Golub & LeVeque 1983).  The data are read from
    memory once; all other sweeps touch only the buffer.
    """
    block = RowBlock(columns, sample_weight, rows=rows)
    n_rows, q = block.n_rows, block.n_columns
    if n_rows == 0:
        return empty_moments(q)
    # NaN/inf propagate into the statistics on purpose: the caller detects
    # them there and counts them, instead of a separate sweep.
    with np.errstate(invalid="ignore", over="ignore"):
        moments = _shifted_moments(block, piece_rows)
    return replace(moments, **weight_tally(block.weights, n_rows))


def block_residual_moments(x_parts, y_parts, sample_weight, coef, intercept):
    """Moments of ``[Y - X @ coef - intercept | Y]`` of a block of rows.

    What :func:`~dask_linreg._numerics.solve.r2_scores` needs to score a fitted
    model on new data: residual and target sums of squares, merged like
    any moments.

    Parameters
    ----------
    x_parts, y_parts : sequence of ndarray
        Column groups of X and of Y (2-D), side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    coef : ndarray of shape (n_features, n_targets)
    intercept : ndarray of shape (n_targets,)
    """
    targets = np.hstack(y_parts) if len(y_parts) > 1 else y_parts[0]
    residual = targets - intercept
    start = 0
    for part in x_parts:
        stop = start + part.shape[1]
        residual = residual - part @ coef[start:stop]
        start = stop
    return block_moments([residual, *y_parts], sample_weight)


# Without a subset of rows, the widest group is shifted flat and its
# products taken apart (_split_gram); beyond 256 columns the BLAS adds them
# into their sums in place (syrk_accumulate, gemm_accumulate).  Up to 256
# columns in pieces of about
# 1.5 MiB of that group (a little less than a core's L2 cache), 256 to 8192
# rows: measured on one thread, 10 to 200 columns, row-major and
# column-major groups, 1.16-1.3x one syrk over [X | y], against 1.2-2.5x
# with fixed pieces of 512-1024 rows (narrow blocks pay the per-piece calls,
# column-major ones short runs).  Wider blocks are dominated by the syrk,
# whose pieces are best about the size of the L2 cache (_split_piece_rows).
_NARROW_MAX_COLUMNS = 256
# Up to 3 rest columns (the usual y and the column of ones), M.T @ R is
# taken a column at a time (matrix-vector products): OpenBLAS multiplies by
# a matrix of 2 or 3 columns at a fraction of its speed, measured on one
# thread (AMD EPYC, Haswell kernel) 20 to 256 columns of M, pieces of
# 768-8192 rows: 1.7-2.2x the time of the column products (at 4 columns
# and more, within 15% of them or faster).
_CROSS_BY_COLUMNS = 3
_SPLIT_PIECE_BYTES = 3 << 19
_SPLIT_PIECE_ROWS = (256, 8192)
# Beyond 256 columns, pieces of about 1 MiB (a core's L2 cache on the
# machines measured), at least 256 rows and half as many rows as columns,
# while the sums stay in the shared cache (at most 16 MiB, about 1,450
# columns); beyond, the long pieces of _wide_piece_rows, as each piece
# reads and writes all the sums.
_SPLIT_WIDE_PIECE_BYTES = 1 << 20
_SPLIT_WIDE_MIN_ROWS = 256
_SPLIT_WIDE_MAX_SUM_BYTES = 16 << 20


def _split_piece_rows(n_columns, n_rows):
    """Rows per piece of :func:`_split_gram`, evened over the block: the
    1.5 MiB budget up to 256 columns, else about 1 MiB, at least 256 rows
    and ``q / 2``, while the ``(q+1)``-square sums take at most 16 MiB, else
    :func:`_wide_piece_rows`.

    Wide blocks, measured with two threads (one BLAS thread each), the
    statistic of every block against the syrk floor (median of 11 to 15
    rounds side by side), AMD EPYC with OpenBLAS's Haswell kernel: 500
    columns, 128 to 384 rows 1.09-1.14x, 1,024 rows 1.24x, 2,048 rows
    1.31x (one thread: 256 rows 1.08x, 1,024 rows 1.20x); 300 columns, 256
    to 512 rows 1.19-1.20x, 1,024 rows 1.25x; 1,000 columns, 128 to 1,024
    rows 1.13-1.16x, 2,048 rows 1.18x; 2,000 columns, 256 rows 1.14x, one
    piece 1.17x.  With the SkylakeX kernel on the same machine, 500 columns,
    256 rows 1.27x against 1,024 rows 1.23x (one thread 1.25x both), 2,000
    columns 1.31x both; an earlier Intel machine with that kernel, one
    thread at 25,000 x 500: 1,024 rows 1.08-1.11x one syrk, 512 rows
    1.13x, 2,048 rows 1.23x.  The whole threaded fit (medians of 7 to 9 rounds
    beside the floor, Haswell): 500 columns 1.16x against 1.27x with 1,024
    rows, 1,000 columns 1.15x with 500 rows (1.20x with 256) against
    1.17-1.24x with 2,000 rows; but 2,000 columns 1.39-1.55x with 256-row
    pieces and 1.46x with 834 against 1.30-1.37x with one piece of the
    block's 2,500 rows, whose 32 MB of sums do not stay in the cache from
    piece to piece.
    """
    if n_columns <= _NARROW_MAX_COLUMNS:
        low, high = _SPLIT_PIECE_ROWS
        rows = min(high, max(low, _SPLIT_PIECE_BYTES // (8 * n_columns)))
    elif 8 * (n_columns + 1) ** 2 > _SPLIT_WIDE_MAX_SUM_BYTES:
        rows = _wide_piece_rows(n_columns)
    else:
        rows = max(
            _SPLIT_WIDE_MIN_ROWS,
            _SPLIT_WIDE_PIECE_BYTES // (8 * n_columns),
            # A piece at least half the sums' size, which it reads and
            # writes once.
            n_columns // 2,
        )
    return rows_per_piece(n_columns, n_rows, even=True, rows=rows)


def _shifted_moments(block, piece_rows=None):
    """Moments of a :class:`~dask_linreg._numerics.pieces.RowBlock` by the
    shifted-data algorithm of :func:`block_moments` (``piece_rows`` None:
    the measured best of the path taken)."""
    n_rows, q = block.n_rows, block.n_columns
    split = block.rows is None
    if piece_rows is None:
        piece_rows = (
            _split_piece_rows(q, n_rows)
            if split
            else rows_per_piece(q, n_rows, even=True, rows=_wide_piece_rows(q))
        )
    piece_rows = min(piece_rows, n_rows)
    shift = block.shift_point()
    # A block of one piece is copied once either way: one buffer has the
    # fewest calls (small blocks are dominated by them).
    if split and piece_rows < n_rows:
        gram = _split_gram(block, piece_rows, shift)
    else:
        gram = _gathered_gram(block, piece_rows, shift)
    weight_sum = float(gram[q, q])
    shifted_sum = gram[:q, q]
    if weight_sum == 0.0:
        # All zero: but NaN or inf times a zero weight stays NaN, and must
        # reach the caller's finiteness check.
        return Moments(n_rows, 0.0, shift, np.zeros(q), gram[:q, :q].copy())
    mean_offset = shifted_sum / weight_sum
    return Moments(
        n_rows,
        weight_sum,
        shift,
        mean_offset,
        _centered(gram[:q, :q], shifted_sum, mean_offset),
    )


def _wide_piece_rows(n_columns):
    """Rows per piece of a subset of rows (:func:`_gathered_gram`), and of
    blocks of more than about 1,450 columns: 1,024 rows, or twice the
    columns where that is more.

    Measured on one thread (AMD EPYC, OpenBLAS Haswell kernel), 300 to
    2,000 columns: 1,024 rows (4 MiB of scratch at 500 columns) are 5-10%
    faster than 16 rows per column (32 MiB), whose scratch leaves the
    cache before the rank-k update reads it back; at 2,000 columns the
    ``(q+1)``-square product added per piece needs the longer pieces.
    """
    return max(1024, 2 * n_columns)


def _centered(cross, shifted_sum, mean_offset, tile=256):
    """``cross - outer(shifted_sum, mean_offset)``, exactly symmetric, as a
    new C-contiguous array.

    A strip of ``tile`` rows at a time, the upper part only, then mirrored:
    a whole ``outer`` would be one more ``q x q`` temporary (32 MB at 2,000
    columns, page-faulted in each block), and the two triangles of an outer
    product differ by rounding.
    """
    q = cross.shape[0]
    centered = np.empty((q, q))
    for lo in range(0, q, tile):
        hi = min(lo + tile, q)
        strip = centered[lo:hi, lo:]
        np.multiply.outer(shifted_sum[lo:hi], mean_offset[lo:], out=strip)
        np.subtract(cross[lo:hi, lo:], strip, out=strip)
    _mirror_upper(centered)
    return centered


def _mirror_upper(matrix, tile=256):
    """Copy the upper triangle of a square ``matrix`` onto its lower one, in
    place, a strip of ``tile`` columns at a time (a whole transposed copy
    of a matrix of 2,000 columns misses the cache on every element)."""
    n = matrix.shape[0]
    for lo in range(0, n, tile):
        hi = min(lo + tile, n)
        square = matrix[lo:hi, lo:hi]
        lower = _strictly_lower(hi - lo)
        square[lower] = square.T[lower]
        matrix[hi:, lo:hi] = matrix[lo:hi, hi:].T


@functools.lru_cache(maxsize=16)
def _strictly_lower(n):
    """Indices of the strictly lower triangle of an n-by-n matrix (cached:
    building them costs more than using them on small blocks)."""
    return np.tril_indices(n, -1)


def _gathered_gram(block, piece_rows, shift):
    """``B.T @ B`` of ``B = sqrt(w) * [Z - s | 1]`` over a subset of rows,
    one scratch buffer per piece."""
    q = block.n_columns
    buffer = np.empty((piece_rows, q + 1), dtype=np.float64)
    pieces = block.pieces(buffer, shift, ones="last", root_weighted=True)
    if piece_rows >= block.n_rows:
        # One piece (a small block): its product is the gram.
        ((_, piece),) = pieces
        return piece.T @ piece
    gram = np.zeros((q + 1, q + 1), dtype=np.float64)
    piece_gram = np.empty_like(gram)
    for _, piece in pieces:
        # NumPy's matmul turns ``a.T @ a`` into a symmetric rank-k update
        # (syrk) and releases the GIL; SciPy's dsyrk wrapper holds it.
        np.matmul(piece.T, piece, out=piece_gram)
        gram += piece_gram
    return gram


def _split_gram(block, piece_rows, shift):
    """``B.T @ B`` of ``B = sqrt(w) * [Z - s | 1]`` over all rows of the
    block, with the widest column group ``M`` apart from the rest ``R``.

    Per piece, ``M.T @ M`` (syrk), ``M.T @ R`` (a column at a time for up
    to 3 columns of ``R``, else a gemm) and ``R.T @ R``, added into their
    sums (wide products by the BLAS itself, see
    :mod:`~dask_linreg._numerics.blas`) while the piece is in cache; the
    shifted copy of ``M`` is one flat sweep (:meth:`~dask_linreg._numerics.pieces.RowBlock.split_pieces`).
    Measured on one thread at 250,000 x 50: 1.03-1.16x one syrk over
    ``[X | y]``, against 1.2-1.6x with one buffer holding ``[Z - s | 1]``,
    whose 2-D strided copy costs more than the syrk's own read (Intel,
    OpenBLAS SkylakeX kernel; on an AMD EPYC with the Haswell kernel the two
    are within 5%, 1.13-1.2x; with ``M.T @ R`` by columns, 1.06-1.10x).
    """
    main_columns, rest_columns = block.split_columns()
    width, rest_width = len(main_columns), len(rest_columns) + 1
    main_scratch = np.empty(
        (piece_rows, width), dtype=np.float64, order=block.main_group_order()
    )
    # Column-major, so that each of a few rest columns is one contiguous
    # vector (see below).
    rest_scratch = np.empty((piece_rows, rest_width), dtype=np.float64, order="F")
    q = block.n_columns
    order = np.concatenate([main_columns, rest_columns, [q]])
    # The sums in the order [M | R]: blocks of one matrix, accumulated in
    # place.  For the usual block [X | y], whose widest group comes first,
    # that order is Z's and the matrix is the gram itself.
    sums = np.zeros((q + 1, q + 1))
    main_gram = sums[:width, :width]
    cross = sums[:width, width:]
    rest_gram = sums[width:, width:]
    # The BLAS adds wide products into their sums itself; narrow ones are
    # cheaper as NumPy products and adds (a foreign call costs about 6 us,
    # their add next to nothing).
    wide = width > _NARROW_MAX_COLUMNS
    by_columns = rest_width <= _CROSS_BY_COLUMNS
    for _, main, rest in block.split_pieces(
        main_scratch, rest_scratch, shift, root_weighted=True
    ):
        if wide:
            syrk_accumulate(main_gram, main)
        else:
            main_gram += main.T @ main
        if by_columns:
            for i in range(rest_width):
                column = rest[:, i]
                cross[:, i] += main.T @ column
                # The upper triangle, by dot products (half the time of
                # the small matrix product).
                for j in range(i, rest_width):
                    rest_gram[i, j] += column @ rest[:, j]
        else:
            if wide:
                gemm_accumulate(cross, main, rest)
            else:
                cross += main.T @ rest
            rest_gram += rest.T @ rest
    _mirror_upper(main_gram)
    _mirror_upper(rest_gram)
    sums[width:, :width] = cross.T
    if np.array_equal(order, np.arange(q + 1)):
        return sums
    gram = np.empty((q + 1, q + 1))
    gram[np.ix_(order, order)] = sums
    return gram


def merge_weighted(a, b, merge_spread):
    """Merge two statistics that derive from :class:`WeightedMean`.

    A side of zero weight contributes only its row count.  Otherwise the
    means merge by :func:`merge_means` and ``merge_spread(a, b, delta,
    coupling)`` returns the remaining fields (cross-products or factor).
    """
    if b.weight_sum == 0.0:
        return replace(a, count=a.count + b.count, **merge_tallies(a, b))
    if a.weight_sum == 0.0:
        return replace(b, count=a.count + b.count, **merge_tallies(a, b))
    fields, delta, coupling = merge_means(a, b)
    with np.errstate(invalid="ignore", over="ignore"):
        return type(a)(**fields, **merge_spread(a, b, delta, coupling))


def merge_moments(a, b):
    """Moments of the union of two disjoint row sets.

    Uses the pairwise update of Chan, Golub & LeVeque (1979)::

        W = W_a + W_b
        delta = m_b - m_a
        m = m_a + delta * W_b / W
        M = M_a + M_b + (W_a * W_b / W) * outer(delta, delta)

    which never subtracts large raw sums (see :func:`merge_means`).

    Parameters
    ----------
    a, b : Moments
        Statistics of two disjoint sets of rows with the same columns.

    Returns
    -------
    Moments
    """
    return merge_weighted(a, b, _merge_comoments)


def merge_all_moments(parts):
    """Moments of the union of any number of disjoint row sets, in one step.

    The same statistic as merging ``parts`` pairwise in order
    (:func:`merge_moments`), by the multi-way form of the same update::

        W = sum(W_i),   e_i = m_i - s,   e = sum(W_i e_i) / W
        M = sum(M_i) + sum(W_i (e_i - e) outer (e_i - e))

    with ``s`` the first part's shift (``e_i`` is taken as ``(s_i - s) +
    offset_i``, so nothing large is subtracted) and the last sum one
    rank-k update.  Pairwise, each merge adds ``q x q`` temporaries; here
    the result is the one ``q x q`` array written (at 2,000 columns a merge
    of 8 blocks takes a third of the time).

    Parameters
    ----------
    parts : sequence of Moments
        Statistics of disjoint row sets with the same columns, at least one.

    Returns
    -------
    Moments
    """
    parts = list(parts)
    tallies = {
        "count": sum(p.count for p in parts),
        "positive_count": sum(p.positive_count for p in parts),
        "log_weight_sum": sum(p.log_weight_sum for p in parts),
    }
    # Parts of zero weight contribute only their row counts.
    weighted = [p for p in parts if p.weight_sum != 0.0] or parts[:1]
    first = weighted[0]
    if len(weighted) == 1:
        return replace(first, **tallies)
    weights = np.array([p.weight_sum for p in weighted])
    weight_sum = float(sum(p.weight_sum for p in weighted))
    # Non-finite statistics flow through; the caller reports them.
    with np.errstate(invalid="ignore", over="ignore"):
        relative = np.stack([(p.shift - first.shift) + p.offset for p in weighted])
        offset = (weights / weight_sum) @ relative
        spread = np.sqrt(weights)[:, None] * (relative - offset)
        comoment = np.add(first.comoment, weighted[1].comoment)
        for p in weighted[2:]:
            comoment += p.comoment
        comoment += spread.T @ spread
    return Moments(
        weight_sum=weight_sum,
        shift=first.shift,
        offset=offset,
        comoment=comoment,
        **tallies,
    )


def _merge_comoments(a, b, delta, coupling):
    comoment = a.comoment + b.comoment
    comoment += coupling * np.outer(delta, delta)
    return {"comoment": comoment}
