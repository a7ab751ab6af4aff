"""Error-free (exact) weighted cross-products of a block of rows.

The statistic of the ``"exact"`` solver: ``A.T @ diag(w) @ A`` for
``A = [1 | Z]`` computed without any rounding, as Python integers times a
power of two, with BLAS doing the work.  Plain NumPy; no Dask.

How: every float64 is an integer times a power of two.  Each column is
rescaled by a power of two to integers, and cut into slices of ``b`` bits
(an Ozaki-style splitting), so that every product of two slices is below
``2**(2b)`` and a sum of ``rows`` of them below ``2**53``: a matrix product
of the slices is then exact in float64, whatever order BLAS adds in.  The
slice products are recombined with Python integers.  A weight times a value
is first split exactly into ``hi + lo`` (Dekker's product), so weighted
cross-products are exact too.

Cost: about ``(slices per column)**2`` times a Gram matrix; meant for the
extra pass of ill-conditioned problems with a moderate number of columns.

References
----------
K. Ozaki, T. Ogita, S. Oishi and S. M. Rump, "Error-free transformations of
matrix multiplication by using fast routines of matrix multiplication and
its applications", Numerical Algorithms 59, 2012.
T. J. Dekker, "A floating-point technique for extending the available
precision", Numerische Mathematik 18, 1971.
"""

from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

import numpy as np

from dask_linreg._numerics.accurate import (
    _exact_factor,
    exact_equations,
    solve_exact,
    with_lstsq_singular,
)
from dask_linreg._numerics.moments import (
    TALLY_FIELDS,
    Moments,
    merge_tallies,
    weight_tally,
)
from dask_linreg._numerics.pieces import RowBlock
from dask_linreg._numerics.tsqr import TriangularMoments, _triangle

__all__ = ["ExactCrossProducts", "block_exact_cross_products", "merge_exact"]

_MANTISSA_BITS = 53
# Rows per piece: with 2**13 rows and slices of 19 bits, a piece's slice
# products sum to less than 2**51, so adding pieces to a running total
# below 2**52 stays exact (below 2**53).
_PIECE_ROWS = 1 << 13
_SLICE_BITS = 19
_VELTKAMP = float(2**27 + 1)


@dataclass(frozen=True)
class ExactCrossProducts:
    """Exact ``A.T @ diag(w) @ A`` of ``A = [1 | Z]`` over a set of rows.

    Attributes
    ----------
    count : int
        Number of rows.
    integers : ndarray of object (Python int), shape (q + 1, q + 1)
        The cross-products divided by ``2**exponent``; entry ``[0, 0]`` is
        the weight sum, row 0 the weighted column sums.
    exponent : int
        Power of two of the scale.
    finite : bool
        Whether all inputs were finite (if not, ``integers`` is meaningless).
    positive_count, log_weight_sum
        As in :class:`~dask_linreg._numerics.moments.WeightedMean`.
    """

    count: int
    integers: np.ndarray
    exponent: int
    finite: bool = True
    positive_count: int = field(default=0, kw_only=True)
    log_weight_sum: float = field(default=0.0, kw_only=True)

    name: ClassVar[str] = "exact"
    solver: ClassVar[str] = "exact"
    #: Error-free products: any magnitude float64 holds is fine.
    float_products: ClassVar[bool] = False
    stored_fields: ClassVar[dict] = {
        **TALLY_FIELDS,
        "exponent": ("int", (), -(1 << 62)),
        "integers": ("bigint", ("q + 1", "q + 1")),
    }

    @classmethod
    def of_block(cls, columns, sample_weight=None):
        """The statistic of a block of rows (:func:`block_exact_cross_products`)."""
        return block_exact_cross_products(columns, sample_weight)

    @classmethod
    def empty(cls, n_columns):
        """The statistic of no rows: the identity of :meth:`merge`."""
        return block_exact_cross_products([np.zeros((0, n_columns))])

    def merge(self, other):
        """The statistic of the union of two disjoint row sets."""
        return merge_exact(self, other)

    def to_kind(self, kind):
        """This statistic as one of ``kind``: the exact cross-products, or
        their triangular factor or centered cross-products rounded once."""
        if kind is ExactCrossProducts:
            return self
        weight = int(self.integers[0, 0])
        mean = np.array([float(Fraction(int(s), weight)) for s in self.integers[0, 1:]])
        q = self.integers.shape[0] - 1
        equations, _, _ = exact_equations(self, q, fit_intercept=True)
        tallies = {
            "positive_count": self.positive_count,
            "log_weight_sum": self.log_weight_sum,
        }
        zeros = np.zeros(q)
        if kind is Moments:
            comoment = np.array(
                [
                    [float(equations.scale * v) for v in row]
                    for row in equations.integers
                ]
            )
            return Moments(
                self.count, self.weight_sum, mean, zeros, comoment, **tallies
            )
        if kind is TriangularMoments:
            factor = _triangle(_exact_factor(equations, q)[0], q)
            return TriangularMoments(
                self.count, self.weight_sum, mean, zeros, factor, **tallies
            )
        raise ValueError(f"A {self.name!r} statistic cannot be made {kind.name!r}.")

    def solve(self, n_features, *, fit_intercept, alpha=None):
        """The exact least-squares (or ridge) solution, correctly rounded
        (:func:`~dask_linreg._numerics.accurate.solve_exact`)."""
        equations, x_offset, y_offset = exact_equations(
            self, n_features, fit_intercept=fit_intercept
        )
        solution = solve_exact(equations, n_features, alpha)
        return with_lstsq_singular(solution, self.count, n_features), x_offset, y_offset

    def root(self, n_features, *, fit_intercept, factor=None):
        """``(R, x_mean, y_mean)``: ``factor`` is the one the solve already
        computed from this statistic (:attr:`Solution.factor`), computed
        again if None."""
        equations, x_mean, y_mean = exact_equations(
            self, n_features, fit_intercept=fit_intercept
        )
        if factor is None:
            factor = _exact_factor(equations, n_features)[0]
        return factor, x_mean, y_mean

    def is_finite(self):
        """Whether all values that went in were finite."""
        return self.finite

    @property
    def weight_sum(self):
        """Sum of the weights, rounded to float."""
        from fractions import Fraction

        return float(Fraction(self.integers[0, 0]) * Fraction(2) ** self.exponent)

    def as_fractions(self):
        """The cross-products as an object array of :class:`fractions.Fraction`."""
        from fractions import Fraction

        scale = Fraction(2) ** self.exponent
        return np.vectorize(lambda v: Fraction(v) * scale, otypes=[object])(
            self.integers
        )


def _rescaled(integers, exponent, new_exponent):
    shift = exponent - new_exponent
    if shift == 0:
        return integers
    return np.vectorize(lambda v: v << shift, otypes=[object])(integers)


def merge_exact(a, b):
    """Exact sum of the cross-products of two disjoint sets of rows."""
    exponent = min(a.exponent, b.exponent)
    integers = _rescaled(a.integers, a.exponent, exponent) + _rescaled(
        b.integers, b.exponent, exponent
    )
    return ExactCrossProducts(
        a.count + b.count,
        integers,
        exponent,
        a.finite and b.finite,
        **merge_tallies(a, b),
    )


def _lowest_bit_exponents(values):
    """Per column: exponent of the lowest set bit over the column's values
    (a large number for an all-zero column), and of the highest."""
    mantissa, exponent = np.frexp(values)
    integer_mantissa = np.abs(mantissa * 2.0**_MANTISSA_BITS).astype(np.int64)
    nonzero = integer_mantissa != 0
    lowest_bit = integer_mantissa & -integer_mantissa
    trailing = np.zeros(values.shape, dtype=np.int64)
    trailing[nonzero] = np.log2(lowest_bit[nonzero].astype(np.float64)).astype(np.int64)
    low = np.where(
        nonzero, exponent - _MANTISSA_BITS + trailing, np.iinfo(np.int32).max
    )
    high = np.where(nonzero, exponent, np.iinfo(np.int32).min)
    return low.min(axis=0), high.max(axis=0)


def _split_product(a, b):
    """``a * b == hi + lo`` exactly (Dekker's product, no FMA needed)."""
    hi = a * b
    a_big = _VELTKAMP * a
    a_hi = a_big - (a_big - a)
    a_lo = a - a_hi
    b_big = _VELTKAMP * b
    b_hi = b_big - (b_big - b)
    b_lo = b - b_hi
    lo = ((a_hi * b_hi - hi) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return hi, lo


class _SlicePlan:
    """How the columns of a block are cut into integer slices.

    Column ``j`` is scaled by ``2**-low[j]`` to integers below
    ``2**(high[j] - low[j])`` and cut into ``n_slices[j]`` slices of
    ``_SLICE_BITS`` bits, least significant first.
    """

    def __init__(self, low, high):
        empty = low > high
        self.low = np.where(empty, 0, low)
        width = np.where(empty, 0, high - self.low)
        self.n_slices = np.maximum(-(-width // _SLICE_BITS), 1)
        self.n_slices[empty] = 0
        self.owner = np.repeat(np.arange(low.shape[0]), self.n_slices)
        self.slice_index = np.concatenate(
            [np.arange(n) for n in self.n_slices] or [np.zeros(0, dtype=np.int64)]
        ).astype(np.int64)

    @property
    def width(self):
        return int(self.n_slices.sum())

    def slices(self, values, out):
        """Write the slices of ``values`` (rows x columns) into ``out``."""
        position = 0
        for j, count in enumerate(self.n_slices):
            if count == 0:
                continue
            scaled = np.ldexp(values[:, j], -int(self.low[j]))
            magnitude = np.abs(scaled)
            sign = np.sign(scaled)
            for index in range(count):
                upper = np.floor(np.ldexp(magnitude, -_SLICE_BITS))
                out[:, position + index] = sign * (
                    magnitude - np.ldexp(upper, _SLICE_BITS)
                )
                magnitude = upper
            position += count

    def weights(self):
        """Power-of-two exponent of each slice's unit."""
        return self.low[self.owner] + _SLICE_BITS * self.slice_index


def _combine(products, left, right, n_columns):
    """Recombine slice products (exact floats) into integers times 2**e."""
    left_exponents = left.weights()
    right_exponents = right.weights()
    base = int(left_exponents.min(initial=0) + right_exponents.min(initial=0))
    integers = np.zeros((n_columns, n_columns), dtype=object)
    exact = products.astype(np.int64)
    for a, b in zip(*np.nonzero(exact), strict=True):
        shift = int(left_exponents[a] + right_exponents[b]) - base
        integers[left.owner[a], right.owner[b]] += int(exact[a, b]) << shift
    return ExactCrossProducts(0, integers, base)


def _pieces(block):
    """Yield ``(A_piece, parts)`` for cache-sized pieces of rows of
    ``A = [1 | Z]``; ``parts`` is ``(A_piece,)``, or ``(hi, lo)`` with
    ``hi + lo == w * A_piece`` exactly."""
    buffer = np.empty((min(_PIECE_ROWS, block.n_rows), block.n_columns + 1))
    for span, piece in block.pieces(buffer, ones="first"):
        if block.weights is None:
            yield piece, (piece,)
        else:
            yield piece, _split_product(block.weights[span, None], piece)


def _slice_plans(block):
    """Slice plans of ``A`` and of each part; None if a value is not finite."""
    bounds = None
    for piece, parts in _pieces(block):
        arrays = (piece, *parts) if block.weights is not None else (piece,)
        if not all(np.isfinite(a).all() for a in arrays):
            return None
        piece_bounds = [_lowest_bit_exponents(a) for a in arrays]
        if bounds is None:
            bounds = piece_bounds
        else:
            bounds = [
                (np.minimum(low, new_low), np.maximum(high, new_high))
                for (low, high), (new_low, new_high) in zip(
                    bounds, piece_bounds, strict=True
                )
            ]
    plans = [_SlicePlan(low, high) for low, high in bounds]
    return plans[0], plans[1:] or plans[:1]


def block_exact_cross_products(columns, sample_weight=None):
    """Exact cross-products of ``A = [1 | Z]`` for a block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        2-D arrays with the same number of rows, side by side ``Z``.
    sample_weight : ndarray of shape (n_rows,), default=None
        Non-negative row weights; None means all ones.

    Returns
    -------
    ExactCrossProducts
        Non-finite input gives ``finite=False``.

    Notes
    -----
    The block is swept twice in cache-sized pieces (once for the exponent
    range of each column, once for the products); it is never copied whole.
    """
    block = RowBlock(columns, sample_weight)
    n_rows, weights = block.n_rows, block.weights
    q = block.n_columns + 1
    total = ExactCrossProducts(0, np.zeros((q, q), dtype=object), 0)
    if n_rows == 0:
        return total
    if weights is not None and not np.isfinite(weights).all():
        return ExactCrossProducts(n_rows, total.integers, 0, finite=False)
    tally = weight_tally(weights, n_rows)
    with np.errstate(invalid="ignore", over="ignore"):
        plans = _slice_plans(block)
    if plans is None:
        return ExactCrossProducts(n_rows, total.integers, 0, finite=False, **tally)
    # The product is (slices of w * A).T @ (slices of A); unweighted, both
    # factors are the same slices.
    right, lefts = plans
    right_buffer = np.empty((min(_PIECE_ROWS, n_rows), right.width))
    left_buffers = [
        right_buffer if weights is None else np.empty((len(right_buffer), plan.width))
        for plan in lefts
    ]
    sums = [np.zeros((plan.width, right.width)) for plan in lefts]
    for piece, parts in _pieces(block):
        rows = len(piece)
        right.slices(piece, right_buffer[:rows])
        for plan, part, buffer, running in zip(
            lefts, parts, left_buffers, sums, strict=True
        ):
            if buffer is not right_buffer:
                plan.slices(part, buffer[:rows])
            running += buffer[:rows].T @ right_buffer[:rows]
            if np.abs(running).max(initial=0.0) >= 2.0**52:
                total = merge_exact(total, _combine(running, plan, right, q))
                running[...] = 0.0
    for plan, running in zip(lefts, sums, strict=True):
        total = merge_exact(total, _combine(running, plan, right, q))
    return ExactCrossProducts(n_rows, total.integers, total.exponent, **tally)
