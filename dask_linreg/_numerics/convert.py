"""Merging statistics of different kinds (pure NumPy).

Two fits (or a fit and a new batch) may hold different statistics: centered
cross-products (``"moments"``), a triangular factor (``"factor"``) or exact
cross-products (``"exact"``).  Their union is taken in the less accurate of
the two kinds, which the more accurate one converts to without loss beyond
rounding (exact -> factor -> moments); the merge itself is the kind's own
(Chan-Golub-LeVeque update, stacked QR, or exact integer addition).
"""

from fractions import Fraction

import numpy as np

from dask_linreg._numerics.accurate import _exact_factor, exact_equations
from dask_linreg._numerics.exact import merge_exact
from dask_linreg._numerics.moments import Moments, merge_moments
from dask_linreg._numerics.tsqr import TriangularMoments, _triangle, merge_factors

__all__ = ["KINDS", "convert", "merge_statistics"]

#: Statistic kinds from the least to the most accurate.
KINDS = ("moments", "factor", "exact")
_MERGE = {"moments": merge_moments, "factor": merge_factors, "exact": merge_exact}


def _exact_mean_and_tallies(exact):
    g = exact.integers
    weight = int(g[0, 0])
    mean = np.array([float(Fraction(int(s), weight)) for s in g[0, 1:]])
    tallies = {
        "positive_count": exact.positive_count,
        "log_weight_sum": exact.log_weight_sum,
    }
    return mean, tallies


def convert(result, kind, target):
    """``result`` (a statistic of kind ``kind``) as a statistic of ``target``.

    Only conversions towards a less accurate kind are possible.
    """
    if kind == target:
        return result
    if KINDS.index(target) > KINDS.index(kind):
        raise ValueError(f"A {kind!r} statistic cannot be made {target!r}.")
    if kind == "factor":  # to moments
        factor = result.factor
        return Moments(
            result.count,
            result.weight_sum,
            result.shift,
            result.offset,
            factor.T @ factor,
            positive_count=result.positive_count,
            log_weight_sum=result.log_weight_sum,
        )
    # From exact: the centered cross-products, rounded once.
    mean, tallies = _exact_mean_and_tallies(result)
    q = result.integers.shape[0] - 1
    equations, _, _ = exact_equations(result, q, fit_intercept=True)
    zeros = np.zeros(q)
    if target == "moments":
        comoment = np.array(
            [[float(equations.scale * v) for v in row] for row in equations.integers]
        )
        return Moments(
            result.count, result.weight_sum, mean, zeros, comoment, **tallies
        )
    factor = _triangle(_exact_factor(equations, q)[0], q)
    return TriangularMoments(
        result.count, result.weight_sum, mean, zeros, factor, **tallies
    )


def merge_statistics(first, second):
    """Union of two ``(kind, statistic)`` pairs of disjoint row sets.

    Returns
    -------
    kind : str
        The less accurate of the two kinds.
    statistic
    """
    (kind_a, a), (kind_b, b) = first, second
    kind = KINDS[min(KINDS.index(kind_a), KINDS.index(kind_b))]
    merged = _MERGE[kind](convert(a, kind_a, kind), convert(b, kind_b, kind))
    return kind, merged
