"""Absorbed fixed effects of one factor from keyed, mergeable statistics.

The within (fixed-effects) estimator of ``y = x b + alpha_g + e`` regresses
the rows demeaned within their level ``g`` of the absorbed factor.  Its
normal equations need only the *pooled within-level co-moments* of
``Z = [X | Y]``::

    C_within = sum_g sum_{i in g} w_i (z_i - m_g)(z_i - m_g)'

and the fixed effects ``alpha_g = m_g,y - m_g,x b`` the per-level weighted
means ``m_g``.  A block of rows yields :class:`GroupMoments` (its levels'
counts, weights and shifted means, and its pooled within co-moments, each
level demeaned by its own mean in the block); two of them merge by key with
the Chan, Golub & LeVeque update: a level both saw adds ``W_a W_b / W
(m_a - m_b)(m_a - m_b)'`` to ``C_within``.  No raw sums are subtracted,
so a column like ``1e9 + N(0, 1)`` keeps the digits of its spread.  The
arithmetic is over sorted key arrays, never a Python loop over levels.
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dask_linreg._numerics.keyed import (
    LevelBudget,
    join_levels,
    key_partitions,
    keyed_nbytes,
    level_rows,
    merged_means,
    rounding_floor,
    summed_counts,
    taken_columns,
    taken_means,
)
from dask_linreg._numerics.moments import Moments
from dask_linreg._numerics.sandwich import ScoreModel, block_scores, merge_scores

__all__ = [
    "AbsorbedScoreModel",
    "AbsorbedScores",
    "GroupMoments",
    "absorbed_columns",
    "block_absorbed_scores",
    "without_absorbed_columns",
    "block_group_moments",
    "merge_group_moments",
]


@dataclass(frozen=True, eq=False)
class GroupMoments:
    """Per-level statistics of ``Z = [X | Y]`` and its pooled within co-moments.

    Attributes
    ----------
    keys : ndarray of shape (G,)
        The levels seen, sorted (strings, or numbers).
    counts : ndarray of int64 of shape (G,)
        Rows of each level.
    positive : ndarray of int64 of shape (G,)
        Rows of positive weight of each level.
    weights : ndarray of shape (G,)
        ``W_g``, each level's weight sum.
    shift : ndarray of shape (q,)
        A point inside the data, common to all levels.
    offsets : ndarray of shape (G, q)
        Each level's weighted mean minus ``shift`` (zero for a level of
        zero weight).
    within : ndarray of shape (q, q)
        The pooled within-level co-moments ``C_within``.
    log_weight_sum : float
        ``sum log(w)`` over the rows of positive weight.
    factor_name : str
        The absorbed column (for messages).
    max_bytes : int or None
        The most bytes the per-level statistics may take; checked in every
        block and merge, so that too many levels fail on the worker that
        finds them, with a :class:`MemoryError` naming the column.
    """

    keys: np.ndarray
    counts: np.ndarray
    positive: np.ndarray
    weights: np.ndarray
    shift: np.ndarray
    offsets: np.ndarray
    within: np.ndarray
    log_weight_sum: float
    factor_name: str
    max_bytes: int | None = None

    @property
    def n_levels(self):
        return len(self.keys)

    @property
    def count(self):
        return int(self.counts.sum())

    @property
    def weight_sum(self):
        return float(self.weights.sum())

    def __sizeof__(self):
        # What Dask weighs the statistic by (transfers, memory limits): its
        # arrays, not the few bytes of the object.
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def merge(self, other):
        """The statistics of the union of two disjoint row sets."""
        return merge_group_moments(self, other)

    @staticmethod
    def merge_all(parts):
        """The statistics of the union of disjoint row sets, in one step.

        The levels of all parts are joined by one factorization; each
        level's merged mean comes first, then every part's deviation from
        it adds ``W_p (m_p - m)(m_p - m)'`` to the pooled within co-moments
        (the pairwise Chan update, for many parts at once)."""
        # A part without levels may still hold pooled co-moments (the first
        # part of a partition, :meth:`partition`): they add.
        empty = [p for p in parts if not p.n_levels]
        parts = [p for p in parts if p.n_levels] or list(parts[:1])
        if len(parts) == 1:
            return _with_empty(parts[0], [p for p in empty if p is not parts[0]])
        first = parts[0]
        codes, keys = pd.factorize(np.concatenate([p.keys for p in parts]), sort=True)
        keys = np.asarray(keys)
        q = first.offsets.shape[1]
        _budget(first.factor_name, first.max_bytes).check(len(keys), q)
        n_levels = len(keys)
        weights, offsets, level_weights, means = merged_means(parts, codes, n_levels)
        deviation = (offsets - means[codes]) * np.sqrt(weights)[:, None]

        return replace(
            first,
            keys=keys,
            counts=summed_counts(parts, "counts", codes, n_levels),
            positive=summed_counts(parts, "positive", codes, n_levels),
            weights=level_weights,
            offsets=means,
            within=sum(p.within for p in (*parts, *empty)) + deviation.T @ deviation,
            log_weight_sum=sum(p.log_weight_sum for p in (*parts, *empty)),
        )

    def is_finite(self):
        """Whether everything that went in was finite."""
        return bool(np.isfinite(self.within).all() and np.isfinite(self.offsets).all())

    def means(self):
        """Each level's weighted means of ``Z`` (levels of zero weight: NaN)."""
        means = self.shift + self.offsets
        means[self.weights <= 0] = np.nan
        return means

    def without_singletons(self):
        """These statistics without the levels of one row of positive weight
        (fixest's ``fixef_rm="singleton"``): such a level fits its row
        exactly, adds nothing to ``C_within`` and nothing to the slopes'
        information, but would count as an observation."""
        return self.subset(self.positive != 1)

    def subset(self, keep):
        """These statistics of the levels ``keep`` (a boolean mask) only
        (``within`` unchanged: the caller knows what the others added)."""
        return replace(
            self,
            keys=self.keys[keep],
            counts=self.counts[keep],
            positive=self.positive[keep],
            weights=self.weights[keep],
            offsets=self.offsets[keep],
        )

    def partition(self, n_parts):
        """These statistics split by a hash of the levels into ``n_parts``
        of disjoint levels, for a shuffled merge (``split_out``): the pooled
        ``within`` and ``log_weight_sum`` go to the first, the others have
        none, so merging all the parts is merging the whole."""
        part = key_partitions(self.keys, n_parts)
        first = [self.subset(part == 0)]
        return first + [
            replace(
                self.subset(part == s),
                within=np.zeros_like(self.within),
                log_weight_sum=0.0,
            )
            for s in range(1, n_parts)
        ]

    def with_columns(self, index):
        """These statistics over the columns ``index`` of ``Z`` (``-1``: a
        column of zeros, :func:`~dask_linreg._numerics.keyed.taken_columns`)."""
        return replace(
            self,
            **taken_means(self, index),
            within=taken_columns(self.within, index, (0, 1)),
        )

    def within_moments(self):
        """The within co-moments as :class:`Moments` of zero mean (what the
        slopes' normal equations and their inference need)."""
        q = self.within.shape[0]
        return Moments(
            self.count,
            self.weight_sum,
            np.zeros(q),
            np.zeros(q),
            self.within,
            positive_count=int(self.positive.sum()),
            log_weight_sum=self.log_weight_sum,
        )

    def between(self):
        """Co-moments of the level means about the overall mean,
        ``sum_g W_g (m_g - m)(m_g - m)'``; with :attr:`within` they make the
        total co-moments (for the overall R²)."""
        total = self.weight_sum
        if total <= 0:
            return np.zeros_like(self.within)
        center = self.weights @ self.offsets / total
        deviation = (self.offsets - center) * np.sqrt(self.weights)[:, None]
        return deviation.T @ deviation


def absorbed_columns(within, factors, solver_tol=None):
    """Which columns of ``Z`` the fixed effects absorb: those left, once the
    effects are taken out, with no more than the solve's error.

    Parameters
    ----------
    within : ndarray of shape (q, q)
        The co-moments of ``Z`` with every factor's effects taken out.
    factors : sequence of GroupMoments
        Each absorbed factor's statistic.
    solver_tol : float, default=None
        The relative residual an iterative solve reached (conjugate
        gradients); None for exact solves.

    Returns
    -------
    ndarray of bool of shape (q,)

    Notes
    -----
    A column constant within the levels of a factor (an attribute of each
    firm, with firm effects) or a sum of the factors' indicators (a year
    trend with year effects) has no variation within; what is left is
    error, and a slope fitted to it is noise (of any size).  The error
    bounds, largest of: one factor's pooled co-moments carry rounding of
    the columns' magnitudes (:func:`~dask_linreg._numerics.keyed.rounding_floor`);
    several factors' solve subtracts the other factors' part from a
    factor's within co-moments, which leaves ``eps`` of those (with a
    margin of 1000); an iterative solve leaves ``(100 tol)**2`` of the
    column's total variation (with the effects known to ``tol``).
    """
    diagonal = np.diag(within)
    floor = np.max(
        [rounding_floor(f.weights, f.offsets, f.shift).sum(axis=0) for f in factors],
        axis=0,
    )
    if len(factors) > 1:
        subtracted = np.max([np.diag(f.within) for f in factors], axis=0)
        floor = np.maximum(floor, 1e3 * np.finfo(np.float64).eps * subtracted)
    if solver_tol is not None:
        first = factors[0]
        total = np.diag(first.within + first.between())
        floor = np.maximum(floor, (100.0 * solver_tol) ** 2 * total)
    return diagonal <= floor


def without_absorbed_columns(moments, factors, solver_tol=None):
    """The within :class:`Moments` with the columns the fixed effects absorb
    (:func:`absorbed_columns`) set to none: their slopes 0, out of the
    rank, as fixest and pyfixest drop them.

    Returns
    -------
    moments : Moments
    absorbed : ndarray of bool of shape (q,)
    """
    absorbed = absorbed_columns(moments.comoment, factors, solver_tol)
    if not absorbed.any():
        return moments, absorbed
    comoment = moments.comoment.copy()
    comoment[absorbed, :] = 0.0
    comoment[:, absorbed] = 0.0
    return replace(moments, comoment=comoment), absorbed


def _budget(factor_name, max_bytes):
    return LevelBudget(factor_name, max_bytes, "absorbed column", _bytes_per_level)


def _bytes_per_level(q):
    """Bytes of one level's statistics over ``q`` columns."""
    return (q + 4) * 8


def block_group_moments(
    columns, sample_weight, labels, *, factor_name, max_bytes=None, piece_rows=None
):
    """:class:`GroupMoments` of one block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        Column groups (2-D) of ``Z = [X | Y]``, side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    labels : ndarray of shape (n_rows,)
        The absorbed factor's level of each row, none missing.
    factor_name : str
    max_bytes : int, default=None
    piece_rows : int, default=None
        Rows per piece of the demeaned rows (cache-sized by default).

    Returns
    -------
    GroupMoments

    Notes
    -----
    Two sweeps over the block: per-level shifted sums ``sum w (z - s)``
    (one ``bincount`` per column) give the means; then each piece of rows,
    demeaned by its level's mean in a scratch buffer, is accumulated into
    ``C_within`` with one rank-k update.
    """
    # Non-finite data make the statistic non-finite, which the caller
    # reports (naming the column); no warning on the way.
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        rows = level_rows(
            columns,
            sample_weight,
            labels,
            check_levels=_budget(factor_name, max_bytes).check,
            piece_rows=piece_rows,
        )
        q = rows.block.n_columns
        within = np.zeros((q, q))
        for _, piece in rows.demeaned_pieces():
            within += piece.T @ piece
    return GroupMoments(
        rows.keys,
        rows.counts,
        rows.positive,
        rows.level_weights,
        rows.shift,
        rows.offsets,
        within,
        float(rows.log_weights.sum()),
        str(factor_name),
        max_bytes,
    )


def _with_empty(statistic, empty):
    """``statistic`` with the pooled co-moments of parts without levels."""
    if not empty:
        return statistic
    return replace(
        statistic,
        within=statistic.within + sum(p.within for p in empty),
        log_weight_sum=statistic.log_weight_sum + sum(p.log_weight_sum for p in empty),
    )


def merge_group_moments(a, b):
    """:class:`GroupMoments` of the union of two disjoint row sets.

    Levels are joined by key (:func:`~dask_linreg._numerics.keyed.join_levels`);
    a level both sides saw merges its mean and adds ``W_a W_b / W (m_b -
    m_a)(m_b - m_a)'`` to the pooled within co-moments (Chan, Golub &
    LeVeque).
    """
    if a.n_levels == 0:
        return _with_empty(b, [a])
    if b.n_levels == 0:
        return _with_empty(a, [b])
    joined = join_levels(a, b, _budget(a.factor_name, a.max_bytes))
    delta = joined.scaled_delta
    return replace(
        a,
        keys=joined.keys,
        counts=joined.summed(a.counts, b.counts),
        positive=joined.summed(a.positive, b.positive),
        weights=joined.summed(a.weights, b.weights),
        offsets=joined.offsets,
        within=a.within + b.within + delta.T @ delta,
        log_weight_sum=a.log_weight_sum + b.log_weight_sum,
    )


@dataclass(frozen=True)
class AbsorbedScoreModel:
    """A fitted model with absorbed fixed effects, as a robust pass sees it.

    Attributes
    ----------
    score : ScoreModel
        The slopes over the demeaned design (no intercept, zero means), the
        ``cov_type`` and the bread.
    keys : tuple of ndarray
        Each absorbed factor's levels of the fit (sorted; singletons left
        out).
    effects : tuple of ndarray of shape (n_levels, q)
        Each factor's fixed effects of every column of ``[X | Y]``
        (:class:`~dask_linreg._numerics.multiway.AbsorbedFactors`): a
        row's demeaned values are its values minus its levels' effects.
    cluster : tuple of int or None
        Which of the block's labels are the clusters (``cov_type=
        "cluster"``; two for two-way clustering): an absorbed factor's
        index, or one after them (then the pass also finds which factors
        are nested in those clusters).
    """

    score: ScoreModel
    keys: tuple
    effects: tuple
    cluster: tuple | None = None


@dataclass(frozen=True, eq=False)
class AbsorbedScores:
    """A robust pass's sums over the rows of a model with absorbed effects.

    Attributes
    ----------
    sums : ScoreSums
    spans : dict
        For each clustering that is not an absorbed factor and each absorbed
        factor, ``(clustering, factor) ->`` each level's smallest and largest
        cluster label (columns ``low``, ``high``, indexed by level); the
        factor is nested in the clusters when they agree for every level.
    """

    sums: object
    spans: dict

    def merge(self, other):
        """The sums of the union of two disjoint row sets."""
        spans = {
            key: pd.concat([span, other.spans[key]])
            .groupby(level=0, sort=False)
            .agg({"low": "min", "high": "max"})
            for key, span in self.spans.items()
        }
        return AbsorbedScores(merge_scores(self.sums, other.sums), spans)

    def is_finite(self):
        return bool(np.isfinite(self.sums.ssr).all())

    def nested(self):
        """Indices of the absorbed factors nested in some clustering."""
        return tuple(
            sorted(
                {
                    factor
                    for (_, factor), span in self.spans.items()
                    if (span["low"] == span["high"]).all()
                }
            )
        )


def block_absorbed_scores(x_parts, y_parts, sample_weight, labels, model):
    """:class:`AbsorbedScores` of one block of rows of a model with
    absorbed fixed effects: each row demeaned by its levels' effects
    (looked up by key), the rows of levels the fit left out (singletons)
    dropped.

    ``labels`` holds each absorbed factor's levels of the rows, then, where
    the clusters are none of them, the clusters."""
    columns = np.hstack([np.asarray(p, dtype=np.float64) for p in (*x_parts, *y_parts)])
    kept = np.ones(columns.shape[0], dtype=bool)
    positions = []
    for level, keys in zip(labels, model.keys, strict=False):
        level = np.asarray(level)
        position = np.searchsorted(keys, level)
        inside = position < len(keys)
        found = np.zeros(len(level), dtype=bool)
        found[inside] = keys[position[inside]] == level[inside]
        kept &= found
        positions.append(position)
    demeaned = columns[kept]
    for position, effects in zip(positions, model.effects, strict=True):
        demeaned -= effects[position[kept]]
    p = model.score.coef.shape[0]
    weights = None if sample_weight is None else np.asarray(sample_weight)[kept]
    groups, spans = None, {}
    if model.score.cov_type == "cluster":
        clusterings = [np.asarray(labels[c])[kept] for c in model.cluster]
        groups = clusterings[0] if len(clusterings) == 1 else tuple(clusterings)
        for c, clusters in zip(model.cluster, clusterings, strict=True):
            if c < len(model.keys):
                continue
            for j, level in enumerate(labels[: len(model.keys)]):
                spans[c, j] = (
                    pd.DataFrame({"low": clusters, "high": clusters})
                    .groupby(np.asarray(level)[kept], sort=False)
                    .agg({"low": "min", "high": "max"})
                )
    sums = block_scores(
        [demeaned[:, :p]], [demeaned[:, p:]], weights, groups, model.score
    )
    return AbsorbedScores(sums, spans)
