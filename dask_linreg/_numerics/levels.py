"""Moments of a design with categorical columns, their levels found in the pass.

A categorical column (a *factor*) enters a linear model as one indicator
column per level.  This module never builds those columns: a block of rows
is reduced to :class:`LevelMoments`, the :class:`~dask_linreg._numerics.
moments.Moments` of ``[X | D_1 | ... | D_K | Y]`` (numeric features, the
full one-hot indicators of each factor's levels in the block, targets),
assembled from what the indicators' products are made of:

* the numeric columns' own moments (the usual shifted-data kernel);
* per level, the weight sum ``W_l`` and the shifted sums
  ``sum_{rows of l} w (z - s)`` of every numeric column ``z``;
* per pair of factors, the weighted cross-counts of their levels.

Two statistics merge by the union of their levels: a level a block never
saw is an indicator column of zeros there, which is exactly embedded (zero
mean, zero cross-products) before the usual pairwise merge.  The model's
encoding (treatment coding with the first level as reference, or full
one-hot) is a choice of columns of the merged statistic
(:func:`design_columns`, :meth:`LevelMoments.select`).
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dask_linreg._numerics.moments import Moments, block_moments, merge_moments

__all__ = [
    "LevelMoments",
    "block_level_moments",
    "design_columns",
    "indicator_names",
    "select_moments",
]

#: Rows per piece of the shifted per-level sums (a few hundred KiB).
_LEVEL_PIECE_ROWS = 8192


def _too_many_levels(name, count, max_levels):
    """The ValueError of a categorical column with too many levels."""
    return ValueError(
        f"X column {name!r} has more than max_levels={max_levels} levels "
        f"({count:,} found so far): each level is a column of the model. An "
        "identifier-like column (a store, user or product id) is better "
        "absorbed as a fixed effect (`| column` in a formula) or dropped; a "
        "genuine factor of many levels needs a larger max_levels."
    )


@dataclass(frozen=True, eq=False)
class LevelMoments:
    """Moments of numeric columns and the full one-hot indicators of factors.

    Attributes
    ----------
    moments : Moments
        Over ``q = n_numeric + sum(len(l) for l in levels) + n_targets``
        columns ``[X | D_1 | ... | D_K | Y]``, each factor's indicators in
        the order of its ``levels``.
    levels : tuple of ndarray
        Each factor's levels seen, sorted (strings, booleans or numbers).
    n_numeric : int
        Numeric feature columns (before the indicators).
    factor_names : tuple of str
        The factors' column names (for messages).
    max_levels : int or None
        The most levels a factor may have; checked in every block and
        merge, so a column of too many levels fails as soon as a worker
        sees it.
    """

    moments: Moments
    levels: tuple
    n_numeric: int
    factor_names: tuple
    max_levels: int | None = None

    @property
    def count(self):
        return self.moments.count

    @property
    def weight_sum(self):
        return self.moments.weight_sum

    @property
    def n_targets(self):
        return self.moments.offset.shape[0] - self.n_numeric - self.n_indicators

    @property
    def n_indicators(self):
        return sum(len(levels) for levels in self.levels)

    def is_finite(self):
        """Whether everything that went in was finite."""
        return self.moments.is_finite()

    def merge(self, other):
        """The statistic of the union of two disjoint row sets."""
        return merge_level_moments(self, other)

    def factor_slices(self):
        """The column positions of each factor's indicators."""
        start = self.n_numeric
        slices = []
        for levels in self.levels:
            slices.append(slice(start, start + len(levels)))
            start += len(levels)
        return slices

    def embedded(self, levels):
        """These moments over the indicators of ``levels`` (supersets of
        each factor's own, sorted alike): absent levels are zero columns."""
        if all(
            len(new) == len(old) for new, old in zip(levels, self.levels, strict=True)
        ):
            return self
        positions = [np.arange(self.n_numeric)]
        start = self.n_numeric
        for new, old in zip(levels, self.levels, strict=True):
            positions.append(start + np.searchsorted(new, old))
            start += len(new)
        positions.append(start + np.arange(self.n_targets))
        index = np.concatenate(positions)
        q = start + self.n_targets
        moments = self.moments
        shift, offset = np.zeros(q), np.zeros(q)
        shift[index], offset[index] = moments.shift, moments.offset
        comoment = np.zeros((q, q))
        comoment[np.ix_(index, index)] = moments.comoment
        return replace(
            self,
            moments=replace(moments, shift=shift, offset=offset, comoment=comoment),
            levels=tuple(levels),
        )

    def reordered(self, orders):
        """These moments with each factor's levels in a given order.

        Parameters
        ----------
        orders : sequence of (ndarray or None)
            Per factor, its levels in the wanted order (a superset of those
            seen, e.g. a categorical dtype's categories); None keeps the
            sorted order.  Levels never seen are left out.
        """
        index = [np.arange(self.n_numeric)]
        levels = []
        for slot, order, own in zip(
            self.factor_slices(), orders, self.levels, strict=True
        ):
            if order is None:
                permutation = np.arange(len(own))
            else:
                order = np.asarray(order)
                seen = np.isin(order, own)
                permutation = np.searchsorted(own, order[seen])
            index.append(slot.start + permutation)
            levels.append(own[permutation])
        q = self.moments.offset.shape[0]
        index.append(np.arange(q - self.n_targets, q))
        return replace(
            self,
            moments=select_moments(self.moments, np.concatenate(index)),
            levels=tuple(levels),
        )

    def select(self, feature_columns):
        """The :class:`Moments` of the chosen feature columns and the targets.

        Parameters
        ----------
        feature_columns : ndarray of int
            Positions among ``[X | D_1 | ... | D_K]``, in the model's order.
        """
        q = self.moments.offset.shape[0]
        targets = np.arange(q - self.n_targets, q)
        return select_moments(
            self.moments, np.concatenate([feature_columns, targets]).astype(int)
        )


def select_moments(moments, index):
    """The :class:`Moments` of some columns (in the order of ``index``)."""
    return replace(
        moments,
        shift=moments.shift[index],
        offset=moments.offset[index],
        comoment=moments.comoment[np.ix_(index, index)],
    )


def _factorized(labels):
    """Sorted levels and each row's code."""
    codes, levels = pd.factorize(labels, sort=True)
    return np.asarray(levels), codes


def block_level_moments(
    x_parts, y_parts, factors, sample_weight=None, *, factor_names, max_levels=None
):
    """:class:`LevelMoments` of a block of rows.

    Parameters
    ----------
    x_parts, y_parts : sequence of ndarray
        Column groups (2-D) of the numeric features and of the targets.
    factors : sequence of ndarray of shape (n_rows,)
        Each factor's labels, none missing.
    sample_weight : ndarray of shape (n_rows,), default=None
    factor_names : sequence of str
    max_levels : int, default=None

    Returns
    -------
    LevelMoments

    Notes
    -----
    With ``s`` the numeric columns' shift and ``d = mean - s`` their shifted
    mean (from :func:`~dask_linreg._numerics.moments.block_moments`), the
    centered cross-products involving indicators are::

        D_l' (z - mean) = S_l - W_l d          (S_l = sum_{rows of l} w (z - s))
        D_l' D_m        = [l = m] W_l - W_l W_m / W      (one factor)
        D_l' D_m        = N_lm - W_l W_m / W             (two factors)

    with ``N_lm`` the weight of the rows at level ``l`` of one factor and
    ``m`` of the other.  ``S_l`` is summed shifted, piece by piece, so a
    column like ``1e9 + N(0, 1)`` keeps the digits of its spread.
    """
    numeric = [part for part in (*x_parts, *y_parts) if part.shape[1]]
    n_numeric = sum(part.shape[1] for part in x_parts)
    n_rows = len(factors[0]) if factors else numeric[0].shape[0]
    coded = [_factorized(labels) for labels in factors]
    for name, (levels, _) in zip(factor_names, coded, strict=True):
        if max_levels is not None and len(levels) > max_levels:
            raise _too_many_levels(name, len(levels), max_levels)
    base = block_moments(numeric, sample_weight)
    weights = (
        np.ones(n_rows)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    level_weights = [
        np.bincount(codes, weights=weights, minlength=len(levels)).astype(np.float64)
        for levels, codes in coded
    ]
    sums = _shifted_level_sums(numeric, weights, coded, base.shift)
    moments = _assemble(base, n_numeric, level_weights, sums, coded, weights)
    return LevelMoments(
        moments,
        tuple(levels for levels, _ in coded),
        n_numeric,
        tuple(factor_names),
        max_levels,
    )


def _shifted_level_sums(numeric, weights, coded, shift):
    """Per factor, ``sum_{rows of l} w (z - s)`` of every numeric column."""
    n_rows = len(weights)
    m = shift.shape[0]
    sums = [np.zeros((len(levels), m)) for levels, _ in coded]
    if m == 0 or n_rows == 0:
        return sums
    # Column-major pieces: each column's bincount reads contiguous memory.
    piece = np.empty((m, min(_LEVEL_PIECE_ROWS, n_rows)))
    with np.errstate(invalid="ignore", over="ignore"):
        for start in range(0, n_rows, _LEVEL_PIECE_ROWS):
            stop = min(start + _LEVEL_PIECE_ROWS, n_rows)
            buffer = piece[:, : stop - start]
            column = 0
            for part in numeric:
                width = part.shape[1]
                buffer[column : column + width] = part[start:stop].T
                column += width
            buffer -= shift[:, None]
            buffer *= weights[start:stop]
            for (levels, codes), total in zip(coded, sums, strict=True):
                for j in range(m):
                    total[:, j] += np.bincount(
                        codes[start:stop], weights=buffer[j], minlength=len(levels)
                    )
    return sums


def _assemble(base, n_numeric, level_weights, sums, coded, weights):
    """The :class:`Moments` of ``[X | D_1 | ... | D_K | Y]`` from its parts."""
    m = base.offset.shape[0]
    sizes = [len(w) for w in level_weights]
    q = m + sum(sizes)
    numeric = np.r_[np.arange(n_numeric), np.arange(q - (m - n_numeric), q)]
    weight_sum = base.weight_sum
    shift, offset = np.zeros(q), np.zeros(q)
    shift[numeric], offset[numeric] = base.shift, base.offset
    comoment = np.zeros((q, q))
    comoment[np.ix_(numeric, numeric)] = base.comoment
    starts = np.cumsum([n_numeric, *sizes[:-1]]).astype(int)
    scale = 1.0 / weight_sum if weight_sum > 0 else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        for f, (start, w_f, s_f) in enumerate(
            zip(starts, level_weights, sums, strict=True)
        ):
            own = slice(start, start + len(w_f))
            offset[own] = w_f * scale
            against_numeric = s_f - np.outer(w_f, base.offset)
            comoment[own, numeric] = against_numeric
            comoment[numeric, own] = against_numeric.T
            comoment[own, own] = np.diag(w_f) - np.outer(w_f, w_f * scale)
            for g in range(f):
                other = slice(starts[g], starts[g] + sizes[g])
                cross = _cross_weights(
                    coded[f][1], coded[g][1], sizes[f], sizes[g], weights
                )
                cross -= np.outer(w_f, level_weights[g] * scale)
                comoment[own, other] = cross
                comoment[other, own] = cross.T
    return replace(base, shift=shift, offset=offset, comoment=comoment)


def _cross_weights(codes_f, codes_g, size_f, size_g, weights):
    """Weight of the rows at each pair of levels of two factors."""
    pair = codes_f.astype(np.int64) * size_g + codes_g
    # float64 also for no rows (bincount of nothing is int64).
    counts = np.bincount(pair, weights=weights, minlength=size_f * size_g)
    return counts.astype(np.float64, copy=False).reshape(size_f, size_g)


def merge_level_moments(a, b):
    """:class:`LevelMoments` of the union of two disjoint row sets.

    Each factor's levels are the union of both sides' (sorted); each side
    is embedded over them (its absent levels are zero columns) and the
    moments merge as any (Chan, Golub & LeVeque).
    """
    levels = []
    for name, own, other in zip(a.factor_names, a.levels, b.levels, strict=True):
        union = own if np.array_equal(own, other) else np.union1d(own, other)
        if a.max_levels is not None and len(union) > a.max_levels:
            raise _too_many_levels(name, len(union), a.max_levels)
        levels.append(union)
    return replace(
        a,
        moments=merge_moments(a.embedded(levels).moments, b.embedded(levels).moments),
        levels=tuple(levels),
    )


def design_columns(level_moments, feature_order, *, drop_first):
    """Which columns of the merged statistic make the model, and their names.

    Parameters
    ----------
    level_moments : LevelMoments
    feature_order : sequence of (str, int or None)
        The input columns in order: ``(name, None)`` for a numeric column
        (the numeric ones in the statistic's order), ``(name, f)`` for
        factor ``f``.
    drop_first : sequence of bool
        Per factor, whether its first level is the reference (treatment
        coding, names ``name[T.level]``) or kept (full one-hot, names
        ``name[level]``).

    Returns
    -------
    columns : ndarray of int
        Positions among ``[X | D_1 | ... | D_K]``.
    names : list of str
    """
    slices = level_moments.factor_slices()
    columns, names = [], []
    numeric = 0
    for name, factor in feature_order:
        if factor is None:
            columns.append(numeric)
            names.append(str(name))
            numeric += 1
            continue
        levels = level_moments.levels[factor]
        first = int(drop_first[factor])
        columns.extend(range(slices[factor].start + first, slices[factor].stop))
        names.extend(indicator_names(name, levels, drop_first[factor]))
    return np.asarray(columns, dtype=int), names


def indicator_names(name, levels, drop_first):
    """The names of a factor's model columns, as statsmodels prints them:
    ``name[T.level]`` after the dropped reference, else ``name[level]``."""
    if drop_first:
        return [f"{name}[T.{level}]" for level in levels[1:]]
    return [f"{name}[{level}]" for level in levels]
