"""One model per group from keyed, mergeable statistics (pure NumPy).

``ols(formula, data, split="store")`` fits every store's own regression in
one pass.  A block of rows yields :class:`GroupedMoments`: per level of the
split column, its weighted count, shifted means and centered co-moments of
``Z = [X | Y]`` (each level's rows demeaned by its own mean in the block, so
nothing is subtracted from raw sums), a ``(G, q, q)`` array built with one
``bincount`` per entry of the upper triangle.  Two merge by key with the
Chan, Golub & LeVeque update, a level both saw adding ``W_a W_b / W
(m_a - m_b)(m_a - m_b)'`` to its own co-moments.  Each group's statistic is
a :class:`~dask_linreg._numerics.moments.Moments`, so each group's model is
solved, and inferred, as any fit; :func:`solve_groups` solves all of them at
once for the per-group table.
"""

from dataclasses import dataclass, replace

import numpy as np

from dask_linreg._numerics.keyed import (
    LevelBudget,
    join_levels,
    key_partitions,
    keyed_nbytes,
    level_rows,
    rounding_floor,
    taken_columns,
    taken_means,
)
from dask_linreg._numerics.moments import Moments
from dask_linreg._numerics.sandwich import pair_labels

__all__ = [
    "GroupedMoments",
    "TwoWayGroupedMoments",
    "block_two_way_grouped_moments",
    "block_grouped_moments",
    "leave_one_out_coefficients",
    "solve_groups",
]


@dataclass(frozen=True, eq=False)
class GroupedMoments:
    """Per-level moments of ``Z = [X | Y]``.

    Attributes
    ----------
    keys : ndarray of shape (G,)
        The levels seen, sorted.
    counts, positive : ndarray of int64 of shape (G,)
        Rows, and rows of positive weight, of each level.
    weights : ndarray of shape (G,)
        Each level's weight sum.
    log_weights : ndarray of shape (G,)
        Each level's ``sum log(w)`` over its rows of positive weight.
    shift : ndarray of shape (q,)
        A point inside the data, common to all levels.
    offsets : ndarray of shape (G, q)
        Each level's weighted mean minus ``shift``.
    comoments : ndarray of shape (G, q, q)
        Each level's weighted centered co-moments.
    factor_name : str
    max_bytes : int or None
        The most bytes the statistics may take, checked in every block and
        merge (:class:`MemoryError` naming the column).
    """

    keys: np.ndarray
    counts: np.ndarray
    positive: np.ndarray
    weights: np.ndarray
    log_weights: np.ndarray
    shift: np.ndarray
    offsets: np.ndarray
    comoments: np.ndarray
    factor_name: str
    max_bytes: int | None = None

    @property
    def n_levels(self):
        return len(self.keys)

    def __sizeof__(self):
        # What Dask weighs the statistic by (transfers, memory limits): its
        # arrays, not the few bytes of the object.
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def merge(self, other):
        """The statistics of the union of two disjoint row sets."""
        return merge_grouped_moments(self, other)

    def is_finite(self):
        """Whether everything that went in was finite."""
        return bool(
            np.isfinite(self.comoments).all() and np.isfinite(self.offsets).all()
        )

    def subset(self, keep):
        """These statistics of the levels ``keep`` (a boolean mask) only."""
        return replace(
            self,
            keys=self.keys[keep],
            counts=self.counts[keep],
            positive=self.positive[keep],
            weights=self.weights[keep],
            log_weights=self.log_weights[keep],
            offsets=self.offsets[keep],
            comoments=self.comoments[keep],
        )

    def partition(self, n_parts):
        """These statistics split by a hash of the levels into ``n_parts``
        of disjoint levels, for a shuffled merge (``split_out``)."""
        part = key_partitions(self.keys, n_parts)
        return [self.subset(part == s) for s in range(n_parts)]

    def with_columns(self, index):
        """These statistics over the columns ``index`` of ``Z`` (``-1``: a
        column of zeros, :func:`~dask_linreg._numerics.keyed.taken_columns`)."""
        return replace(
            self,
            **taken_means(self, index),
            comoments=taken_columns(self.comoments, index, (1, 2)),
        )

    def without_rounding(self):
        """These statistics with each group's columns of no spread set to
        exactly none: a column constant in a group (a store's own
        attribute, the indicator of a level it lacks) is demeaned to the
        rounding of its magnitude, not to 0
        (:func:`~dask_linreg._numerics.keyed.rounding_floor`), and a slope
        fitted to that is noise of any size; at 0 it is out of the group's
        rank, as in the group's own fit."""
        floor = rounding_floor(self.weights, self.offsets, self.shift)
        flat = np.diagonal(self.comoments, axis1=1, axis2=2) <= floor
        if not flat.any():
            return self
        comoments = self.comoments.copy()
        comoments[flat[:, :, None] | flat[:, None, :]] = 0.0
        return replace(self, comoments=comoments)

    def total(self):
        """The :class:`Moments` of all the groups' rows together: the
        within co-moments plus the between part, ``sum_g W_g (m_g - m)(m_g -
        m)'`` (deviations of means, nothing subtracted from raw sums)."""
        weight_sum = float(self.weights.sum())
        center = (
            self.weights @ self.offsets / weight_sum
            if weight_sum > 0
            else np.zeros(self.shift.shape)
        )
        deviation = (self.offsets - center) * np.sqrt(self.weights)[:, None]
        return Moments(
            int(self.counts.sum()),
            weight_sum,
            self.shift.copy(),
            center,
            self.comoments.sum(axis=0) + deviation.T @ deviation,
            positive_count=int(self.positive.sum()),
            log_weight_sum=float(self.log_weights.sum()),
        )

    def cluster_scores(self, coef, total, *, fit_intercept=True):
        """Each group's score ``sum_{i in g} w_i z_i e_i`` as clusters of a
        fit of all the rows, from the groups' moments alone (no pass).

        Parameters
        ----------
        coef : ndarray of shape (p, n_targets)
            The fit's slopes.
        total : Moments
            :meth:`total` (its means center ``z = [1 | x - mean]``).
        fit_intercept : bool, default=True

        Returns
        -------
        ndarray of shape (G, k, n_targets)
            ``k = p + fit_intercept``, as
            :class:`~dask_linreg._numerics.sandwich.ScoreSums` holds them.
        """
        p, n_targets = coef.shape
        deviation, about = self.about(total.mean if fit_intercept else None)
        direction = np.vstack([-coef, np.eye(n_targets)])  # (q, T): e = z v
        scores = np.einsum("gij,jt->git", about[:, :p, :], direction)
        if not fit_intercept:
            return scores
        summed = self.weights[:, None] * (deviation @ direction)  # sum w e
        return np.concatenate([summed[:, None, :], scores], axis=1)

    def about(self, center=None):
        """Each group's mean deviation ``d_g = m_g - center`` (G, q) and its
        cross-products about ``center``, ``C_g + W_g d_g d_g'`` (G, q, q);
        ``center`` None is the origin (raw cross-products)."""
        means = self.shift + self.offsets
        deviation = means if center is None else means - center
        about = self.comoments + self.weights[:, None, None] * (
            deviation[:, :, None] * deviation[:, None, :]
        )
        return deviation, about

    def moments(self, index):
        """The :class:`Moments` of level ``index`` (its own model's statistic)."""
        return Moments(
            int(self.counts[index]),
            float(self.weights[index]),
            self.shift.copy(),
            self.offsets[index].copy(),
            self.comoments[index].copy(),
            positive_count=int(self.positive[index]),
            log_weight_sum=float(self.log_weights[index]),
        )


def _budget(factor_name, max_bytes):
    return LevelBudget(factor_name, max_bytes, "split column", _bytes_per_level)


def _bytes_per_level(q):
    """Bytes of one level's statistics over ``q`` columns."""
    return (q * q + q + 5) * 8


def block_grouped_moments(
    columns, sample_weight, labels, *, factor_name, max_bytes=None, piece_rows=None
):
    """:class:`GroupedMoments` of one block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        Column groups (2-D) of ``Z = [X | Y]``, side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    labels : ndarray of shape (n_rows,)
        Each row's group, none missing.
    factor_name : str
    max_bytes : int, default=None
    piece_rows : int, default=None

    Returns
    -------
    GroupedMoments
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        rows = level_rows(
            columns,
            sample_weight,
            labels,
            check_levels=_budget(factor_name, max_bytes).check,
            piece_rows=piece_rows,
        )
        comoments = rows.pooled_comoments()
    return GroupedMoments(
        rows.keys,
        rows.counts,
        rows.positive,
        rows.level_weights,
        rows.log_weights,
        rows.shift,
        rows.offsets,
        comoments,
        str(factor_name),
        max_bytes,
    )


def merge_grouped_moments(a, b):
    """:class:`GroupedMoments` of the union of two disjoint row sets: the
    levels joined by key, a level both saw merged with the Chan update."""
    if a.n_levels == 0:
        return b
    if b.n_levels == 0:
        return a
    joined = join_levels(a, b, _budget(a.factor_name, a.max_bytes))
    comoments = joined.summed(a.comoments, b.comoments)
    delta = joined.scaled_delta
    comoments[joined.common] += delta[:, :, None] * delta[:, None, :]
    return replace(
        a,
        keys=joined.keys,
        counts=joined.summed(a.counts, b.counts),
        positive=joined.summed(a.positive, b.positive),
        weights=joined.summed(a.weights, b.weights),
        log_weights=joined.summed(a.log_weights, b.log_weights),
        offsets=joined.offsets,
        comoments=comoments,
    )


def solve_groups(grouped, n_features, *, fit_intercept=True, rtol=1e-10):
    """Every group's least-squares fit at once, with classical inference.

    Parameters
    ----------
    grouped : GroupedMoments
    n_features : int
        ``p``: the targets are the columns after them (one here).
    fit_intercept : bool, default=True
    rtol : float, default=1e-10
        Eigenvalues of a group's scaled cross-products below ``rtol`` times
        its largest are null directions (rank-deficient groups are solved
        with the minimum-norm solution).

    Returns
    -------
    dict
        Of these arrays:
    coef : ndarray of shape (G, p)
    intercept : ndarray of shape (G,)
    bse : ndarray of shape (G, p)
        Classical standard errors (NaN where ``df_resid <= 0``, and for a
        column of no spread in the group).
    intercept_bse : ndarray of shape (G,)
    rsquared : ndarray of shape (G,)
    nobs : ndarray of int of shape (G,)
    rank : ndarray of int of shape (G,)
    df_resid : ndarray of int of shape (G,)

    Notes
    -----
    The normal equations of each group, scaled to unit diagonal and
    pseudo-inverted by a batched eigendecomposition: the cost is ``G``
    small eigenproblems, vectorized.  A group's own model
    (:meth:`GroupedMoments.moments`) is solved as any fit.
    """
    p = n_features
    if fit_intercept:
        mean = grouped.shift + grouped.offsets
        cross = grouped.comoments
    else:
        mean = np.zeros_like(grouped.offsets)
        total = grouped.shift + grouped.offsets
        cross = grouped.comoments + grouped.weights[:, None, None] * (
            total[:, :, None] * total[:, None, :]
        )
    xx, xy, yy = cross[:, :p, :p], cross[:, :p, p], cross[:, p, p]
    scale = np.sqrt(np.clip(np.diagonal(xx, axis1=1, axis2=2), 0.0, None))
    safe = np.where(scale > 0, scale, 1.0)
    scaled = xx / (safe[:, :, None] * safe[:, None, :])
    values, vectors = np.linalg.eigh(scaled)
    largest = values.max(axis=1, keepdims=True) if p else np.zeros((len(xx), 1))
    keep = (values > rtol * largest) & (values > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse_values = np.where(keep, 1.0 / values, 0.0)
    inverse = np.einsum("gij,gj,gkj->gik", vectors, inverse_values, vectors)
    inverse = inverse / (safe[:, :, None] * safe[:, None, :])
    inverse = np.where((scale[:, :, None] > 0) & (scale[:, None, :] > 0), inverse, 0.0)
    coef = np.einsum("gij,gj->gi", inverse, xy)
    rank = keep.sum(axis=1)
    ssr = np.clip(yy - np.einsum("gi,gi->g", coef, xy), 0.0, None)
    nobs = grouped.positive
    df_resid = nobs - rank - int(fit_intercept)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = np.where(df_resid > 0, ssr / df_resid, np.nan)
        bse = np.sqrt(np.diagonal(inverse, axis1=1, axis2=2) * sigma2[:, None])
        # A column of no spread in a group is out of its rank: no error.
        bse = np.where(scale > 0, bse, np.nan)
        rsquared = np.where(yy > 0, 1.0 - ssr / yy, np.nan)
    if fit_intercept:
        intercept = mean[:, p] - np.einsum("gi,gi->g", mean[:, :p], coef)
        m = mean[:, :p]
        with np.errstate(invalid="ignore"):
            intercept_var = sigma2 * (
                1.0 / grouped.weights + np.einsum("gi,gij,gj->g", m, inverse, m)
            )
        intercept_bse = np.sqrt(intercept_var)
    else:
        intercept = np.zeros(len(coef))
        intercept_bse = np.full(len(coef), np.nan)
    return {
        "coef": coef,
        "intercept": intercept,
        "bse": bse,
        "intercept_bse": intercept_bse,
        "rsquared": rsquared,
        "nobs": nobs,
        "rank": rank,
        "df_resid": df_resid,
    }


def leave_one_out_coefficients(grouped, total, n_features, *, fit_intercept=True):
    """Each group's leave-one-out fit (all the other groups' rows), from
    the groups' moments: the CRV3 jackknife's replicates.

    Parameters
    ----------
    grouped : GroupedMoments
    total : Moments
        Of all the groups' rows (:meth:`GroupedMoments.total`, the fit's
        statistic).
    n_features : int
        ``p``; one target after them.
    fit_intercept : bool, default=True

    Returns
    -------
    ndarray of shape (G, k)
        Per group, the replicate's ``(intercept', coef)`` in the centered
        parametrization ``y = a + (x - mean) @ coef`` of the full fit (``k =
        p + fit_intercept``).

    Notes
    -----
    With ``N = sum w z z'`` (``z = [1 | x - mean]``) and each group's ``N_g``
    about the same center, the replicate solves ``(N - N_g) b = r - r_g``:
    the other groups' normal equations, from a subtraction of the group's
    own (the usual cost of a jackknife from sufficient statistics; a group
    that holds most of the data loses digits here).
    """
    p = n_features
    deviation, about = grouped.about(total.mean if fit_intercept else None)
    whole = about.sum(axis=0)
    if fit_intercept:
        weights = grouped.weights
        n_groups = len(weights)
        own = np.zeros((n_groups, p + 1, p + 2))
        own[:, 0, 0] = weights
        own[:, 0, 1:] = weights[:, None] * deviation
        own[:, 1:, 0] = own[:, 0, 1 : p + 1]
        own[:, 1:, 1:] = about[:, :p, :]
        full = np.zeros((p + 1, p + 2))
        full[0, 0] = weights.sum()
        full[0, 1:] = weights @ deviation
        full[1:, 0] = full[0, 1 : p + 1]
        full[1:, 1:] = whole[:p, :]
    else:
        own, full = about[:, :p, :], whole[:p, :]
    rest = full[None] - own
    k = rest.shape[1]
    # Batched; a replicate whose equations are singular (a group carrying a
    # direction of its own) takes the minimum-norm solution.
    return np.einsum(
        "gij,gj->gi", np.linalg.pinv(rest[:, :, :k], hermitian=True), rest[:, :, k]
    )


@dataclass(frozen=True, eq=False)
class TwoWayGroupedMoments:
    """Per-cluster moments of two clusterings and of their intersection:
    what CR1 clustered two ways (Cameron, Gelbach & Miller) needs, kept in
    the fit's pass.

    Attributes
    ----------
    first, second, both : GroupedMoments
        Keyed by the first clustering, the second, and the pairs of them.
    """

    first: GroupedMoments
    second: GroupedMoments
    both: GroupedMoments

    @property
    def factor_name(self):
        return f"{self.first.factor_name} and {self.second.factor_name}"

    @property
    def n_levels(self):
        return min(self.first.n_levels, self.second.n_levels)

    def __sizeof__(self):
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def merge(self, other):
        return TwoWayGroupedMoments(
            self.first.merge(other.first),
            self.second.merge(other.second),
            self.both.merge(other.both),
        )

    def is_finite(self):
        return self.first.is_finite()

    def with_columns(self, index):
        return TwoWayGroupedMoments(
            self.first.with_columns(index),
            self.second.with_columns(index),
            self.both.with_columns(index),
        )

    def partition(self, n_parts):
        """Each clustering's statistics split by a hash of its own levels."""
        return [
            TwoWayGroupedMoments(*parts)
            for parts in zip(
                self.first.partition(n_parts),
                self.second.partition(n_parts),
                self.both.partition(n_parts),
                strict=True,
            )
        ]

    def total(self):
        """The :class:`Moments` of all the rows (from the first clustering)."""
        return self.first.total()


def block_two_way_grouped_moments(
    columns, sample_weight, labels, *, factor_names, max_bytes=None
):
    """:class:`TwoWayGroupedMoments` of one block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        Column groups (2-D) of ``Z = [X | Y]``, side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    labels : sequence of two ndarray of shape (n_rows,)
        Each clustering's label of each row.
    factor_names : sequence of two str
    max_bytes : int, default=None
        The most bytes each clustering's statistics may take.
    """
    first, second = labels
    parts = [
        block_grouped_moments(
            columns, sample_weight, level, factor_name=name, max_bytes=max_bytes
        )
        for level, name in [
            (first, factor_names[0]),
            (second, factor_names[1]),
            (
                pair_labels(first, second),
                f"{factor_names[0]} x {factor_names[1]}",
            ),
        ]
    ]
    return TwoWayGroupedMoments(*parts)
