"""The kinds of statistic, registered in one place.

Each kind is a statistic class of its own module that implements one
protocol (:class:`StatisticKind`): a block of rows becomes a statistic, two
statistics of disjoint row sets merge, a statistic converts to a less
accurate kind, solves for the coefficients, gives a root of its
cross-products for inference, and names the fields a model file stores.
Adding a kind is one module implementing the protocol and one entry in
:data:`KINDS`.
"""

from typing import ClassVar, Protocol

from dask_linreg._numerics.exact import ExactCrossProducts
from dask_linreg._numerics.moments import Moments
from dask_linreg._numerics.tsqr import TriangularMoments

__all__ = [
    "KINDS",
    "StatisticKind",
    "kind_for_solver",
    "kind_named",
    "merge_statistics",
]


class StatisticKind(Protocol):
    """The protocol of a kind of statistic (the class is the kind).

    Attributes
    ----------
    name : str
        Its name in model files.
    solver : str
        The estimators' ``solver`` that fits with it.
    stored_fields : dict
        Field name -> ``(type, shape[, minimum])`` of what a model file
        stores; shapes are in terms of ``q``, the columns of ``[X | Y]``.
    float_products : bool
        Whether its arithmetic is float64 products, which columns of extreme
        magnitude overflow or underflow (then it has ``column_spread()``).
    """

    name: ClassVar[str]
    solver: ClassVar[str]
    stored_fields: ClassVar[dict]
    float_products: ClassVar[bool]
    count: int
    weight_sum: float
    positive_count: int
    log_weight_sum: float

    @classmethod
    def of_block(cls, columns, sample_weight=None):
        """The statistic of a block of rows given as column groups."""

    @classmethod
    def empty(cls, n_columns):
        """The statistic of no rows."""

    def merge(self, other):
        """The statistic of the union of two disjoint row sets (associative)."""

    def is_finite(self):
        """Whether everything that went in was finite."""

    def to_kind(self, kind):
        """This statistic as one of a kind no more accurate."""

    def solve(self, n_features, *, fit_intercept, alpha=None):
        """``(Solution, x_offset, y_offset)`` for the first ``n_features``
        columns against the others (ridge with ``alpha`` per target)."""

    def root(self, n_features, *, fit_intercept, factor=None):
        """``(F, x_mean, y_mean)``: ``F.T @ F`` is the (centered, or raw
        without an intercept) cross-products of ``[X | Y]``."""


#: Every kind, from the least to the most accurate.
KINDS = (Moments, TriangularMoments, ExactCrossProducts)


def kind_named(name):
    """The kind stored under ``name`` in model files."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)


def kind_for_solver(solver):
    """The kind the estimators' ``solver`` fits with."""
    for kind in KINDS:
        if kind.solver == solver:
            return kind
    raise KeyError(solver)


def merge_statistics(a, b):
    """Union of two statistics of disjoint row sets, of any kinds.

    The union is taken in the less accurate of the two kinds, which the
    more accurate one converts to without loss beyond rounding (exact ->
    factor -> moments); the merge itself is the kind's own (Chan, Golub &
    LeVeque's update, stacked QR, or exact integer addition).
    """
    kind = min(type(a), type(b), key=KINDS.index)
    return a.to_kind(kind).merge(b.to_kind(kind))
