"""Moments of a design with categorical columns, their levels found in the pass.

A categorical column (a *factor*) enters a linear model as one indicator
column per level; an interaction of factors as one indicator per level
combination; a numeric column interacting with factors (``x1:C(region)``,
a slope per level) as that column times each indicator.  This module never
builds those columns: a block of rows is reduced to :class:`LevelMoments`,
the :class:`~dask_linreg._numerics.moments.Moments` of ``[X | T_1 | ... |
T_M | Y]`` (numeric columns, the full blocks of each :class:`IndicatorTerm`
over the levels seen, targets), assembled from what the indicators'
products are made of:

* the numeric columns' own moments (the usual shifted-data kernel);
* per level (combination) of a term, its weight ``W_l = sum w v`` (``v``
  the term's numeric value, 1 for a plain indicator), its square sum
  ``sum w v**2`` and the shifted sums ``sum w v (z - s)`` of every numeric
  column ``z``;
* per pair of terms, the weighted cross-products of their levels.

Two statistics merge by the union of their levels: a level a block never
saw is an indicator column of zeros there, which is exactly embedded (zero
mean, zero cross-products) before the usual pairwise merge.  The model's
encoding (treatment coding with the first level as reference, or full
one-hot, per factor of each term) is a choice of columns of the merged
statistic (:func:`design_columns`, :meth:`LevelMoments.select`).
"""

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dask_linreg._numerics.moments import Moments, block_moments, merge_moments

__all__ = [
    "IndicatorTerm",
    "LevelMoments",
    "ModelTerm",
    "block_level_moments",
    "category_order",
    "design_columns",
    "indicator_names",
    "main_effects",
    "model_term_rows",
    "select_moments",
    "term_names",
]

#: Rows per piece of the shifted per-level sums (a few hundred KiB).
_LEVEL_PIECE_ROWS = 8192


@dataclass(frozen=True)
class IndicatorTerm:
    """A block of columns of the statistic: the indicators of every level
    combination of some factors, times a numeric column.

    Attributes
    ----------
    factors : tuple of int
        The factors (positions among the statistic's), the first varying
        fastest along the block (formulaic's column order).
    value : int or None
        The numeric column (position among the statistic's numeric
        features) multiplying the indicators; None for plain indicators.
    """

    factors: tuple
    value: int | None = None


def main_effects(n_factors):
    """One plain indicator term per factor."""
    return tuple(IndicatorTerm((f,)) for f in range(n_factors))


@dataclass(frozen=True)
class ModelTerm:
    """A term of the model: which columns of the statistic it takes.

    Attributes
    ----------
    parts : tuple
        In the formula's order: a numeric factor's name (str), or
        ``(factor, reduced)`` for a factor, ``reduced`` leaving out its
        first level (treatment coding).  They make the column names
        (``x1:C(a)[T.b]``).
    value : str or None
        The numeric column the term's numeric parts multiply to (the
        column itself for a numeric term); None for indicators only.
    """

    parts: tuple
    value: str | None = None

    @property
    def factors(self):
        return tuple(part[0] for part in self.parts if not isinstance(part, str))

    @property
    def reduced(self):
        return tuple(part[1] for part in self.parts if not isinstance(part, str))


def _too_many_levels(name, count, max_levels):
    """The ValueError of a categorical column with too many levels."""
    return ValueError(
        f"X column {name!r} has more than max_levels={max_levels} levels "
        f"({count:,} found so far): each level is a column of the model. An "
        "identifier-like column (a store, user or product id) is better "
        "absorbed as a fixed effect (`| column` in a formula) or dropped; a "
        "genuine factor of many levels needs a larger max_levels."
    )


def _too_many_combinations(names, count, max_levels):
    """The ValueError of an interaction with too many level combinations."""
    return ValueError(
        f"the interaction of {' and '.join(map(repr, names))} has more than "
        f"max_levels={max_levels} level combinations ({count:,} so far): each "
        "is a column of the model. Interact fewer or coarser factors, or raise "
        "max_levels."
    )


def _block_positions(maps, dims):
    """Flat positions (first factor fastest) in a block of shape ``dims``
    of the combinations ``maps[0][i0], maps[1][i1], ...``, enumerated first
    index fastest."""
    positions = np.zeros(1, dtype=np.int64)
    stride = 1
    for index, size in zip(maps, dims, strict=True):
        positions = (
            positions[None, :] + stride * np.asarray(index, dtype=np.int64)[:, None]
        ).ravel()
        stride *= size
    return positions


@dataclass(frozen=True, eq=False)
class LevelMoments:
    """Moments of numeric columns and of the full indicator blocks of terms.

    Attributes
    ----------
    moments : Moments
        Over ``q = n_numeric + n_indicators + n_targets`` columns ``[X |
        T_1 | ... | T_M | Y]``, each term's block over the product of its
        factors' ``levels`` (first factor fastest).
    levels : tuple of ndarray
        Each factor's levels seen, sorted (strings, booleans or numbers).
    n_numeric : int
        Numeric feature columns (before the indicators).
    factor_names : tuple of str
        The factors' column names (for messages and column names).
    max_levels : int or None
        The most levels a factor (or level combinations an interaction)
        may have; checked in every block and merge, so a column of too
        many levels fails as soon as a worker sees it.
    terms : tuple of IndicatorTerm or None
        The indicator blocks; None: one per factor (:func:`main_effects`).
    orders : tuple of (ndarray or None) or None
        Per factor, the order of the categories its blocks came with (a
        pandas ``Categorical``'s, merged in order of appearance as pandas'
        ``union_categoricals`` does); None where none did.  It orders the
        levels when the column's dtype did not say (categories unknown in
        the Dask metadata, as read from Parquet).
    """

    moments: Moments
    levels: tuple
    n_numeric: int
    factor_names: tuple
    max_levels: int | None = None
    terms: tuple | None = None
    orders: tuple | None = None

    @property
    def indicator_terms(self):
        if self.terms is None:
            return main_effects(len(self.levels))
        return self.terms

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
        return sum(self._term_sizes(self.levels))

    def _term_sizes(self, levels):
        return [
            int(np.prod([len(levels[f]) for f in term.factors]))
            for term in self.indicator_terms
        ]

    def is_finite(self):
        """Whether everything that went in was finite."""
        return self.moments.is_finite()

    def merge(self, other):
        """The statistic of the union of two disjoint row sets."""
        return merge_level_moments(self, other)

    def term_slices(self):
        """The column positions of each term's block."""
        start = self.n_numeric
        slices = []
        for size in self._term_sizes(self.levels):
            slices.append(slice(start, start + size))
            start += size
        return slices

    def _indicator_index(self, maps, dims):
        """Per term, the positions :func:`_block_positions` gives (offset
        by the term's start in a layout of blocks of ``dims``)."""
        index = []
        start = self.n_numeric
        for term in self.indicator_terms:
            sizes = [dims[f] for f in term.factors]
            index.append(
                start + _block_positions([maps[f] for f in term.factors], sizes)
            )
            start += int(np.prod(sizes))
        return index, start

    def embedded(self, levels):
        """These moments over the indicators of ``levels`` (supersets of
        each factor's own, sorted alike): absent levels are zero columns."""
        if all(
            len(new) == len(old) for new, old in zip(levels, self.levels, strict=True)
        ):
            return self
        maps = [
            np.searchsorted(new, old)
            for new, old in zip(levels, self.levels, strict=True)
        ]
        blocks, start = self._indicator_index(maps, [len(new) for new in levels])
        index = np.concatenate(
            [np.arange(self.n_numeric), *blocks, start + np.arange(self.n_targets)]
        )
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
            Per factor, its levels in the wanted order (e.g. a categorical
            dtype's categories); None takes the order the blocks' categories
            came in (:attr:`orders`), or else keeps the sorted order.
            Levels never seen are left out; levels seen but not in the order
            come after it, sorted.
        """
        carried = self.orders or (None,) * len(self.levels)
        permutations = []
        for order, data_order, own in zip(orders, carried, self.levels, strict=True):
            order = data_order if order is None else order
            if order is None:
                permutations.append(np.arange(len(own)))
            else:
                order = np.asarray(order, dtype=object)
                listed = np.isin(own, order)
                permutations.append(
                    np.concatenate(
                        [
                            np.searchsorted(own, order[np.isin(order, own)]),
                            np.flatnonzero(~listed),
                        ]
                    ).astype(np.int64)
                )
        blocks, _ = self._indicator_index(
            permutations, [len(own) for own in self.levels]
        )
        q = self.moments.offset.shape[0]
        index = np.concatenate(
            [np.arange(self.n_numeric), *blocks, np.arange(q - self.n_targets, q)]
        )
        return replace(
            self,
            moments=select_moments(self.moments, index),
            levels=tuple(
                own[p] for own, p in zip(self.levels, permutations, strict=True)
            ),
        )

    def select(self, feature_columns):
        """The :class:`Moments` of the chosen feature columns and the targets.

        Parameters
        ----------
        feature_columns : ndarray of int
            Positions among ``[X | T_1 | ... | T_M]``, in the model's order.
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


def category_order(categories):
    """A categorical's categories as the strings the pass compares (their
    order orders the levels), or None for booleans (sorted: False, True)."""
    if pd.api.types.is_bool_dtype(categories.dtype):
        return None
    return np.asarray([str(c) for c in categories], dtype=object)


def _factorized(labels):
    """Sorted levels, each row's code, and the order of the categories of a
    pandas ``Categorical`` (None for other labels)."""
    if isinstance(labels, pd.Categorical):
        names = np.asarray([str(c) for c in labels.categories], dtype=object)
        present = np.unique(labels.codes[labels.codes >= 0])
        by_name = present[np.argsort(names[present], kind="stable")]
        recode = np.full(len(names), -1, dtype=np.int64)
        recode[by_name] = np.arange(len(by_name))
        codes = recode[labels.codes] if len(labels) else np.empty(0, np.int64)
        return names[by_name], codes, category_order(labels.categories)
    codes, levels = pd.factorize(labels, sort=True)
    return np.asarray(levels), codes, None


def _merged_order(a, b):
    """Two blocks' category orders: ``a``'s, then what only ``b`` has."""
    if a is None or b is None:
        return b if a is None else a
    if np.array_equal(a, b):
        return a
    return np.concatenate([a, b[~np.isin(b, a)]])


def _check_sizes(terms, sizes, factor_names, max_levels):
    """``max_levels`` of each factor, and of each interaction's combinations."""
    if max_levels is None:
        return
    for name, size in zip(factor_names, sizes, strict=True):
        if size > max_levels:
            raise _too_many_levels(name, size, max_levels)
    for term in terms:
        if len(term.factors) > 1:
            combinations = int(np.prod([sizes[f] for f in term.factors]))
            if combinations > max_levels:
                names = [factor_names[f] for f in term.factors]
                raise _too_many_combinations(names, combinations, max_levels)


def block_level_moments(
    x_parts,
    y_parts,
    factors,
    sample_weight=None,
    *,
    factor_names,
    max_levels=None,
    terms=None,
):
    """:class:`LevelMoments` of a block of rows.

    Parameters
    ----------
    x_parts, y_parts : sequence of ndarray
        Column groups (2-D) of the numeric features and of the targets.
    factors : sequence of (ndarray or pandas.Categorical) of shape (n_rows,)
        Each factor's labels, none missing; a ``Categorical``'s categories
        give its levels' order (:attr:`LevelMoments.orders`).
    sample_weight : ndarray of shape (n_rows,), default=None
    factor_names : sequence of str
    max_levels : int, default=None
    terms : sequence of IndicatorTerm, default=None
        The indicator blocks; None: one per factor.

    Returns
    -------
    LevelMoments

    Notes
    -----
    With ``s`` the numeric columns' shift and ``d = mean - s`` their shifted
    mean (from :func:`~dask_linreg._numerics.moments.block_moments`), and a
    term's column ``A_l = v 1[rows of l]``, the centered cross-products
    involving indicators are::

        A_l' (z - mean) = S_l - W_l d        (S_l = sum_{rows of l} w v (z - s))
        A_l' A_m        = [l = m] Q_l - W_l W_m / W      (one term)
        A_l' B_m        = N_lm - W_l W_m / W             (two terms)

    with ``W_l = sum_{rows of l} w v``, ``Q_l = sum_{rows of l} w v**2``
    and ``N_lm`` the sum of ``w v_A v_B`` over the rows at ``l`` and ``m``.
    ``S_l`` is summed shifted, piece by piece, so a column like ``1e9 +
    N(0, 1)`` keeps the digits of its spread against the indicators.
    """
    numeric = [part for part in (*x_parts, *y_parts) if part.shape[1]]
    n_numeric = sum(part.shape[1] for part in x_parts)
    n_rows = len(factors[0]) if factors else numeric[0].shape[0]
    terms = main_effects(len(factors)) if terms is None else tuple(terms)
    factorized = [_factorized(labels) for labels in factors]
    coded = [(levels, codes) for levels, codes, _ in factorized]
    orders = tuple(order for _, _, order in factorized)
    sizes = [len(levels) for levels, _ in coded]
    _check_sizes(terms, sizes, factor_names, max_levels)
    base = block_moments(numeric, sample_weight)
    weights = (
        np.ones(n_rows)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    rows = [_term_rows(term, coded, sizes, x_parts, weights) for term in terms]
    sums = _shifted_level_sums(numeric, weights, rows, base.shift)
    moments = _assemble(base, n_numeric, rows, sums)
    return LevelMoments(
        moments,
        tuple(levels for levels, _ in coded),
        n_numeric,
        tuple(factor_names),
        max_levels,
        None if terms == main_effects(len(factors)) else terms,
        None if all(order is None for order in orders) else orders,
    )


@dataclass(frozen=True, eq=False)
class _TermRows:
    """A term's block code, value and per-level sums of one block of rows."""

    codes: np.ndarray  # (n_rows,) int64: the row's level combination
    size: int  # the block's columns
    value: np.ndarray | None  # (n_rows,) v, None for plain indicators
    weighted: np.ndarray  # (n_rows,) w v
    weight: np.ndarray  # (size,) W_l = sum w v
    square: np.ndarray  # (size,) Q_l = sum w v**2


def _numeric_column(x_parts, j):
    for part in x_parts:
        if j < part.shape[1]:
            return np.asarray(part[:, j], dtype=np.float64)
        j -= part.shape[1]
    raise IndexError("numeric column out of range")


def _term_rows(term, coded, sizes, x_parts, weights):
    codes = np.zeros(len(weights), dtype=np.int64)
    stride = 1
    for f in term.factors:
        codes += stride * coded[f][1]
        stride *= sizes[f]
    value = None if term.value is None else _numeric_column(x_parts, term.value)
    with np.errstate(invalid="ignore", over="ignore"):
        weighted = weights if value is None else weights * value
        weight = np.bincount(codes, weights=weighted, minlength=stride)
        square = (
            weight
            if value is None
            else np.bincount(codes, weights=weighted * value, minlength=stride)
        )
    # float64 also for no rows (bincount of nothing is int64).
    return _TermRows(
        codes,
        stride,
        value,
        weighted,
        weight.astype(np.float64, copy=False),
        square.astype(np.float64, copy=False),
    )


def _shifted_level_sums(numeric, weights, rows, shift):
    """Per term, ``sum_{rows of l} w v (z - s)`` of every numeric column."""
    n_rows = len(weights)
    m = shift.shape[0]
    sums = [np.zeros((term.size, m)) for term in rows]
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
            for term, total in zip(rows, sums, strict=True):
                codes = term.codes[start:stop]
                scaled = (
                    buffer if term.value is None else buffer * term.value[start:stop]
                )
                for j in range(m):
                    total[:, j] += np.bincount(
                        codes, weights=scaled[j], minlength=term.size
                    )
    return sums


def _assemble(base, n_numeric, rows, sums):
    """The :class:`Moments` of ``[X | T_1 | ... | T_M | Y]`` from its parts."""
    m = base.offset.shape[0]
    sizes = [term.size for term in rows]
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
        for t, (start, term, s_t) in enumerate(zip(starts, rows, sums, strict=True)):
            own = slice(start, start + term.size)
            offset[own] = term.weight * scale
            against_numeric = s_t - np.outer(term.weight, base.offset)
            comoment[own, numeric] = against_numeric
            comoment[numeric, own] = against_numeric.T
            comoment[own, own] = np.diag(term.square) - np.outer(
                term.weight, term.weight * scale
            )
            for u in range(t):
                other = rows[u]
                span = slice(starts[u], starts[u] + other.size)
                cross = _cross_products(term, other, base.weight_sum)
                comoment[own, span] = cross
                comoment[span, own] = cross.T
    return replace(base, shift=shift, offset=offset, comoment=comoment)


def _cross_products(term, other, weight_sum):
    """Centered cross-products of two terms' blocks: ``N_lm - W_l W_m / W``."""
    pair = term.codes * other.size + other.codes
    weighted = term.weighted if other.value is None else term.weighted * other.value
    raw = np.bincount(pair, weights=weighted, minlength=term.size * other.size)
    raw = raw.astype(np.float64, copy=False).reshape(term.size, other.size)
    scale = 1.0 / weight_sum if weight_sum > 0 else 0.0
    return raw - np.outer(term.weight, other.weight * scale)


def merge_level_moments(a, b):
    """:class:`LevelMoments` of the union of two disjoint row sets.

    Each factor's levels are the union of both sides' (sorted); each side
    is embedded over them (its absent levels are zero columns) and the
    moments merge as any (Chan, Golub & LeVeque).
    """
    if a.indicator_terms != b.indicator_terms:
        raise ValueError("the statistics have different indicator terms")
    levels = []
    for own, other in zip(a.levels, b.levels, strict=True):
        levels.append(own if np.array_equal(own, other) else np.union1d(own, other))
    _check_sizes(
        a.indicator_terms, [len(lv) for lv in levels], a.factor_names, a.max_levels
    )
    if a.orders is None or b.orders is None:
        orders = b.orders if a.orders is None else a.orders
    else:
        orders = tuple(map(_merged_order, a.orders, b.orders))
    return replace(
        a,
        moments=merge_moments(a.embedded(levels).moments, b.embedded(levels).moments),
        levels=tuple(levels),
        orders=orders,
    )


def model_term_rows(model_terms, levels, codes):
    """Each row's column within every model term's block (no indicator
    built).

    Parameters
    ----------
    model_terms : sequence of ModelTerm
    levels : sequence of ndarray
        Each factor's levels, in the model's order.
    codes : sequence of ndarray of int
        Each factor's level index per row (-1: a level the model does not
        know).

    Returns
    -------
    list of (ndarray of int64, int)
        Per term, the row's column within the term's block (-1 for none: a
        reference level left out, or an unknown level) and the block's
        width; a numeric term is its one column (index 0).
    """
    n_rows = len(codes[0]) if codes else 0
    rows = []
    for term in model_terms:
        if not term.factors:
            rows.append((np.zeros(n_rows, dtype=np.int64), 1))
            continue
        index = np.zeros(n_rows, dtype=np.int64)
        valid = np.ones(n_rows, dtype=bool)
        stride = 1
        for f, reduced in zip(term.factors, term.reduced, strict=True):
            kept = np.asarray(codes[f], dtype=np.int64) - int(reduced)
            valid &= kept >= 0
            index += stride * kept
            stride *= len(levels[f]) - int(reduced)
        rows.append((np.where(valid, index, -1), stride))
    return rows


def design_columns(level_moments, model_terms, numeric_names):
    """Which columns of the merged statistic make the model, and their names.

    Parameters
    ----------
    level_moments : LevelMoments
    model_terms : sequence of ModelTerm
        The model's terms, in order.
    numeric_names : sequence of str
        The statistic's numeric feature columns, in order.

    Returns
    -------
    columns : ndarray of int
        Positions among ``[X | T_1 | ... | T_M]``.
    names : list of str
        As formulaic and statsmodels print them: ``x1``, ``a[T.b]`` (the
        reference level left out), ``a[b]`` (kept), ``x1:a[T.b]:c[u]``.
    """
    numeric_index = {name: j for j, name in enumerate(numeric_names)}
    blocks = dict(
        zip(level_moments.indicator_terms, level_moments.term_slices(), strict=True)
    )
    columns, names = [], []
    for term in model_terms:
        value = None if term.value is None else numeric_index[term.value]
        if not term.factors:
            columns.append(value)
            names.append(term.value)
            continue
        block = blocks[IndicatorTerm(term.factors, value)]
        kept = [
            np.arange(int(reduced), len(level_moments.levels[f]))
            for f, reduced in zip(term.factors, term.reduced, strict=True)
        ]
        dims = [len(level_moments.levels[f]) for f in term.factors]
        columns.extend(block.start + _block_positions(kept, dims))
        names.extend(term_names(term, level_moments.levels, level_moments.factor_names))
    return np.asarray(columns, dtype=int), names


def term_names(term, levels, factor_names):
    """A model term's column names, first factor fastest (formulaic's order)."""
    choices = []
    for part in term.parts:
        if isinstance(part, str):
            choices.append([part])
            continue
        factor, reduced = part
        choices.append(
            indicator_names(factor_names[factor], list(levels[factor]), reduced)
        )
    # itertools.product varies its last argument fastest.
    return [
        ":".join(reversed(combination))
        for combination in itertools.product(*reversed(choices))
    ]


def indicator_names(name, levels, drop_first):
    """The names of a factor's model columns, as statsmodels prints them:
    ``name[T.level]`` after the dropped reference, else ``name[level]``."""
    if drop_first:
        return [f"{name}[T.{level}]" for level in levels[1:]]
    return [f"{name}[{level}]" for level in levels]
