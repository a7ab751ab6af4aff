"""Mergeable triangular factors (TSQR) of the centered, weighted ``[X | Y]``.

The statistic of the ``"qr"`` solver.  A block of rows is reduced to an
upper triangular ``R`` with ``R.T @ R`` equal to the centered weighted
cross-products, computed by Householder QR of cache-sized pieces (no ``Q``
is formed or stored).  Two factors merge by one more small QR of the stacked
factors plus the Chan, Golub & LeVeque correction row, so the condition
number is never squared.  Plain NumPy; no Dask.

References
----------
J. Demmel, L. Grigori, M. Hoemmen and J. Langou, "Communication-optimal
parallel and sequential QR and LU factorizations", SIAM J. Sci. Comput.
34(1), 2012.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import linalg

from dask_linreg._numerics.accurate import (
    factor_equations,
    solve_factor,
    with_lstsq_singular,
)
from dask_linreg._numerics.moments import (
    MEAN_FIELDS,
    Moments,
    WeightedMean,
    merge_weighted,
    psd_root,
    weight_tally,
)
from dask_linreg._numerics.pieces import RowBlock, rows_per_piece

__all__ = ["TriangularMoments", "block_factor", "factor_of_moments", "merge_factors"]


@dataclass(frozen=True)
class TriangularMoments(WeightedMean):
    """Weighted means and a triangular factor of the centered cross-products.

    Parameters
    ----------
    count, weight_sum, shift, offset
        As in :class:`~dask_linreg._numerics.moments.WeightedMean`.
    factor : ndarray of shape (q, q)
        Upper triangular ``R`` with ``R.T @ R == (Z - m).T @ diag(w) @ (Z - m)``.
    """

    factor: np.ndarray

    name: ClassVar[str] = "factor"
    solver: ClassVar[str] = "qr"
    float_products: ClassVar[bool] = True
    stored_fields: ClassVar[dict] = {**MEAN_FIELDS, "factor": ("float", ("q", "q"))}

    @classmethod
    def of_block(cls, columns, sample_weight=None):
        """The statistic of a block of rows (:func:`block_factor`)."""
        return block_factor(columns, sample_weight)

    @classmethod
    def empty(cls, n_columns):
        """The statistic of no rows: the identity of :meth:`merge`."""
        return empty_factor(n_columns)

    def merge(self, other):
        """The statistic of the union of two disjoint row sets."""
        return merge_factors(self, other)

    def to_kind(self, kind):
        """This statistic as one of ``kind`` (itself, or moments)."""
        if kind is TriangularMoments:
            return self
        if kind is not Moments:
            raise ValueError(f"A {self.name!r} statistic cannot be made {kind.name!r}.")
        return Moments(
            self.count,
            self.weight_sum,
            self.shift,
            self.offset,
            self.factor.T @ self.factor,
            positive_count=self.positive_count,
            log_weight_sum=self.log_weight_sum,
        )

    def solve(self, n_features, *, fit_intercept, alpha=None):
        """Least squares (or ridge) from the factor, by an SVD of its X block
        (:func:`~dask_linreg._numerics.accurate.solve_factor`)."""
        factor, x_offset, y_offset = self.root(n_features, fit_intercept=fit_intercept)
        solution = solve_factor(factor, n_features, alpha)
        return with_lstsq_singular(solution, self.count, n_features), x_offset, y_offset

    def root(self, n_features, *, fit_intercept, factor=None):
        """``(R, x_mean, y_mean)``: the factor is itself a root of the
        centered (or, without an intercept, raw) cross-products."""
        return factor_equations(self, n_features, fit_intercept=fit_intercept)

    def column_spread(self):
        """Square roots of the centered sums of squares of the columns."""
        # hypot: squaring entries beyond 1e154 would overflow.
        return np.hypot.reduce(self.factor, axis=0)

    def is_finite(self):
        """Whether the weight sum, means and factor are all finite."""
        return super().is_finite() and bool(np.isfinite(self.factor).all())

    def raw_factor(self):
        """Triangular factor of the uncentered ``Z.T @ diag(w) @ Z``."""
        stacked = np.vstack([self.factor, np.sqrt(self.weight_sum) * self.mean])
        return _triangle(stacked, self.factor.shape[0])


def _triangle(stacked, q):
    """The q-by-q upper triangular factor of a tall matrix (R of its QR)."""
    if stacked.shape[0] < q:
        stacked = np.vstack([stacked, np.zeros((q - stacked.shape[0], q))])
    return np.linalg.qr(stacked, mode="r")[:q]


def empty_factor(n_columns):
    """Factor of zero rows: the identity of :func:`merge_factors`."""
    zeros = np.zeros(n_columns)
    return TriangularMoments(0, 0.0, zeros, zeros, np.zeros((n_columns, n_columns)))


def block_factor(columns, sample_weight=None, *, piece_rows=None, rows=None):
    """Means and triangular factor of a block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        2-D arrays with the same number of rows, side by side ``Z``.
    sample_weight : ndarray of shape (n_rows,), default=None
        Non-negative row weights; None means all ones.
    piece_rows : int, default=None
        Rows per piece.
    rows : ndarray of int, default=None
        Only these rows (a cross-validation fold), gathered piece by piece.

    Returns
    -------
    TriangularMoments

    Notes
    -----
    Each piece is written as ``B = sqrt(w) * [1 | Z - s]`` (``s`` the mean of
    up to 256 first rows of the block) and folded into a running ``(q+1)``-square
    factor by QR of ``[R; B]``.  With the column of ones first, the leading
    row of ``R`` holds ``sqrt(W)`` and ``g / sqrt(W)`` (``g`` the weighted
    sum of ``Z - s``) and the trailing block is exactly the factor of the
    centered cross-products: Householder QR does the centering stably.
    """
    block = RowBlock(columns, sample_weight, rows=rows)
    n_rows, q = block.n_rows, block.n_columns
    if n_rows == 0:
        return empty_factor(q)
    piece_rows = min(piece_rows or rows_per_piece(q, n_rows), n_rows)
    with np.errstate(invalid="ignore", over="ignore"):
        shift = block.shift_point()
        # Each piece is written below the running factor and the two are
        # triangularized together.
        buffer = np.empty((q + 1 + piece_rows, q + 1))
        factor = np.zeros((q + 1, q + 1))
        for _, piece in block.pieces(
            buffer[q + 1 :], shift, ones="first", root_weighted=True
        ):
            stacked = buffer[: q + 1 + len(piece)]
            stacked[: q + 1] = factor
            factor = _triangle(stacked, q + 1)
    weight_sum = float(factor[0, 0] ** 2)
    tally = weight_tally(block.weights, n_rows)
    if weight_sum == 0.0:
        # Keeps NaN from non-finite values times zero weights, for the check.
        return TriangularMoments(
            n_rows, 0.0, shift, np.zeros(q), factor[1:, 1:].copy(), **tally
        )
    offset = factor[0, 1:] / factor[0, 0]
    return TriangularMoments(
        n_rows, weight_sum, shift, offset, factor[1:, 1:].copy(), **tally
    )


def factor_of_moments(moments):
    """The :class:`TriangularMoments` of the same rows as ``moments``.

    The factor is the triangular factor (QR) of a root of the
    cross-products (a scaled eigendecomposition, which takes a singular
    one, as the indicators of every level of a factor make): it carries the
    cross-products' rounding (``eps * ||C||``), not the rows' own, which
    only statistics reduced as factors from the rows have.  What needs a
    factor (cross-validation) takes statistics of categorical designs,
    reduced as cross-products, this way.
    """
    root = psd_root(moments.comoment)
    factor = linalg.qr(root, mode="r", check_finite=False)[0]
    return TriangularMoments(
        moments.count,
        moments.weight_sum,
        moments.shift,
        moments.offset,
        factor,
        positive_count=moments.positive_count,
        log_weight_sum=moments.log_weight_sum,
    )


def merge_factors(a, b):
    """Factor of the union of two disjoint row sets.

    ``R`` is the triangular factor of ``[R_a; R_b; sqrt(W_a W_b / W) delta]``
    (Chan, Golub & LeVeque's update, written as one more row); the means
    merge as in :func:`~dask_linreg._numerics.moments.merge_means`.
    """
    return merge_weighted(a, b, _merge_triangles)


def _merge_triangles(a, b, delta, coupling):
    correction = np.sqrt(coupling) * delta
    stacked = np.vstack([a.factor, b.factor, correction])
    return {"factor": _triangle(stacked, a.factor.shape[0])}
