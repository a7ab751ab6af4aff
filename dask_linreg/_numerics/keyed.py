"""What the keyed statistics share: per-level means of a block of rows, and
the join of two statistics by key (pure NumPy).

A keyed statistic (:mod:`~dask_linreg._numerics.absorbed`, one absorbed
fixed effect; :mod:`~dask_linreg._numerics.grouped`, one model per group)
holds per level of a column its counts, weight and shifted mean of ``Z =
[X | Y]``, about one shift common to all levels, plus co-moments of the
rows demeaned by their level's mean.  Merging two joins the levels by key
(sorted arrays, ``searchsorted``) and, for a level both saw, moves its mean
and adds the Chan, Golub & LeVeque term ``W_a W_b / W delta delta'``.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dask_linreg._numerics.pieces import RowBlock, rows_per_piece

__all__ = [
    "key_partitions",
    "keyed_nbytes",
    "KeyedJoin",
    "byte_size",
    "LevelBudget",
    "LevelRows",
    "group_keys",
    "join_levels",
    "level_rows",
    "merged_means",
    "summed_counts",
    "taken_columns",
    "taken_means",
    "rounding_floor",
]

#: The square of the rounding a keyed statistic's demeaned rows carry, with
#: a margin: ``(64 eps)**2``.
_ROUNDING = (64.0 * np.finfo(np.float64).eps) ** 2


def rounding_floor(weights, offsets, shift):
    """Per level and column, the most that rounding alone leaves in the
    diagonal of co-moments about the level's mean: ``(64 eps)**2 W_g
    (|m_g - s| + |s|)**2``.  A column constant within a level (an indicator
    of a level it lacks, a store's own attribute) is demeaned to rounding
    errors of its magnitude, not to 0: below this it has no spread.

    Returns
    -------
    ndarray of shape (G, q)
    """
    magnitude = np.abs(offsets) + np.abs(shift)
    return _ROUNDING * weights[:, None] * magnitude**2


def taken_columns(array, index, axes):
    """``array`` with its columns along each of ``axes`` taken by
    ``index``, where ``-1`` takes a column of zeros: the statistic of the
    same rows over other columns, a column it never saw being one of
    zeros (the indicator of a level its rows do not have)."""
    for axis in axes:
        padding = [(0, 0)] * array.ndim
        padding[axis] = (0, 1)
        array = np.take(np.pad(array, padding), index, axis=axis)
    return array


def taken_means(statistic, index):
    """A keyed statistic's ``shift`` and ``offsets`` over the columns
    ``index`` of ``Z`` (:func:`taken_columns`), as keyword arguments of
    ``replace``."""
    return {
        "shift": taken_columns(statistic.shift, index, (0,)),
        "offsets": taken_columns(statistic.offsets, index, (1,)),
    }


def summed_counts(parts, name, codes, n_keys):
    """The integer counts ``name`` (``"counts"``, ``"positive"``) of the
    keyed statistics ``parts``, concatenated, summed into ``n_keys`` keys by
    ``codes``."""
    values = np.concatenate([getattr(p, name) for p in parts])
    return np.bincount(codes, weights=values, minlength=n_keys).astype(np.int64)


def merged_means(parts, codes, n_keys):
    """The weighted means of keyed statistics merged: ``parts``' means
    (``offsets`` about their ``shift``), concatenated, pooled into
    ``n_keys`` keys by ``codes``.

    Returns
    -------
    weights : ndarray of shape (n_rows,)
        Each part's keys' weights, concatenated.
    offsets : ndarray of shape (n_rows, q)
        Each part's keys' means about the first part's shift.
    key_weights : ndarray of shape (n_keys,)
    means : ndarray of shape (n_keys, q)
        Each key's weighted mean about the first part's shift (0 where it
        has no weight).
    """
    first = parts[0]
    weights = np.concatenate([p.weights for p in parts])
    offsets = np.vstack([p.offsets + (p.shift - first.shift) for p in parts])
    key_weights = np.bincount(codes, weights=weights, minlength=n_keys)
    means = np.zeros((n_keys, offsets.shape[1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(offsets.shape[1]):
            sums = np.bincount(codes, weights=weights * offsets[:, j], minlength=n_keys)
            means[:, j] = np.where(key_weights > 0, sums / key_weights, 0.0)
    return weights, offsets, key_weights, means


def keyed_nbytes(values):
    """Bytes of the arrays (and nested statistics) among ``values``."""
    total = 0
    for value in values:
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, tuple):
            total += keyed_nbytes(value)
        elif hasattr(value, "__dataclass_fields__"):
            total += value.__sizeof__()
    return total


def byte_size(n_bytes):
    """``n_bytes`` for a message: bytes, or MiB from one MiB on."""
    return f"{n_bytes / 2**20:,.1f} MiB" if n_bytes >= 2**20 else f"{n_bytes:,} bytes"


@dataclass(frozen=True)
class LevelBudget:
    """The memory a keyed statistic may take, checked as levels accumulate.

    Attributes
    ----------
    factor_name : str
        The keyed column.
    max_bytes : int or None
        None: no limit.
    role : str
        What the column is to the model (``"absorbed column"``, ``"split
        column"``), for the message.
    per_level : callable
        ``per_level(q)``: bytes of one level's statistics over ``q`` columns.
    """

    factor_name: str
    max_bytes: int | None
    role: str
    per_level: object

    def check(self, n_levels, q):
        """Raise :class:`MemoryError` when ``n_levels`` levels do not fit."""
        needed = int(n_levels) * int(self.per_level(q))
        if self.max_bytes is not None and needed > self.max_bytes:
            raise MemoryError(
                f"the {self.role} {self.factor_name!r} has {n_levels:,} levels so "
                f"far; their statistics over {q} columns take {byte_size(needed)}, "
                f"more than max_bytes={self.max_bytes:,} ({byte_size(self.max_bytes)}). "
                "Raise max_bytes if the client has the memory, or use a coarser "
                "column."
            )


@dataclass(frozen=True, eq=False)
class LevelRows:
    """A block of rows with each row's level and each level's mean.

    Attributes
    ----------
    block : RowBlock
    codes : ndarray of intp of shape (n_rows,)
        Each row's level, an index into ``keys``.
    keys : ndarray of shape (G,)
        The levels, sorted.
    weights : ndarray of shape (n_rows,)
        The rows' weights (ones without).
    counts, positive : ndarray of int64 of shape (G,)
        Rows, and rows of positive weight, of each level.
    level_weights, log_weights : ndarray of shape (G,)
        Each level's weight sum and ``sum log(w)`` over positive weights.
    shift : ndarray of shape (q,)
    offsets : ndarray of shape (G, q)
        Each level's weighted mean minus ``shift`` (0 for zero weight).
    scratch : ndarray
        A cache-sized buffer for further sweeps of ``block.pieces``.
    """

    block: RowBlock
    codes: np.ndarray
    keys: np.ndarray
    weights: np.ndarray
    counts: np.ndarray
    positive: np.ndarray
    level_weights: np.ndarray
    log_weights: np.ndarray
    shift: np.ndarray
    offsets: np.ndarray
    scratch: np.ndarray

    def demeaned_pieces(self):
        """Yield ``(span, piece)``: each piece of rows demeaned by its rows'
        level means and scaled by the square roots of their weights."""
        for span, piece in self.block.pieces(self.scratch, self.shift):
            piece -= self.offsets[self.codes[span]]
            piece *= np.sqrt(self.weights[span])[:, None]
            yield span, piece

    def pooled_comoments(self, pools=None, n_pools=None):
        """The co-moments of the rows demeaned by their level's mean, summed
        by pool: ``pools`` gives each level's pool (an index below
        ``n_pools``); None, each level is its own.

        Returns
        -------
        ndarray of shape (n_pools, q, q)
        """
        if pools is None:
            pools, n_pools = np.arange(len(self.keys)), len(self.keys)
        row_pools = pools[self.codes]
        q = self.block.n_columns
        upper = np.triu_indices(q)
        comoments = np.zeros((n_pools, q, q))
        for span, piece in self.demeaned_pieces():
            # One bincount per entry of the upper triangle: a batched
            # outer product per pool, in O(rows) each.
            for j, k in zip(*upper, strict=True):
                comoments[:, j, k] += np.bincount(
                    row_pools[span],
                    weights=piece[:, j] * piece[:, k],
                    minlength=n_pools,
                )
        comoments[:, upper[1], upper[0]] = comoments[:, upper[0], upper[1]]
        return comoments


def level_rows(columns, sample_weight, labels, *, check_levels, piece_rows=None):
    """:class:`LevelRows` of a block: one sweep of per-level shifted sums.

    Parameters
    ----------
    columns : sequence of ndarray
        Column groups (2-D) of ``Z``, side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    labels : ndarray of shape (n_rows,)
        Each row's level, none missing.
    check_levels : callable
        ``check_levels(n_levels, q)`` raises when the levels are too many
        (before any further work).
    piece_rows : int, default=None
    """
    block = RowBlock(columns, sample_weight)
    n_rows, q = block.n_rows, block.n_columns
    codes, keys = pd.factorize(np.asarray(labels), sort=True)
    keys = np.asarray(keys)
    n_levels = len(keys)
    check_levels(n_levels, q)
    weights = (
        np.ones(n_rows)
        if block.weights is None
        else np.asarray(block.weights, dtype=np.float64)
    )
    counts = np.bincount(codes, minlength=n_levels).astype(np.int64)
    positive = np.bincount(codes, weights=weights > 0, minlength=n_levels)
    level_weights = np.bincount(codes, weights=weights, minlength=n_levels)
    logs = np.log(np.where(weights > 0, weights, 1.0))
    log_weights = np.bincount(codes, weights=logs, minlength=n_levels)
    shift = block.shift_point() if n_rows else np.zeros(q)
    # Pieces of at least as many rows as levels: a per-level sum over a
    # piece (bincount) costs O(levels) besides its rows.
    step = piece_rows or rows_per_piece(
        q, n_rows, rows=max(rows_per_piece(q, n_rows), n_levels)
    )
    scratch = np.empty((max(1, min(step, n_rows)), q))
    # One bincount per column over the whole block: per piece, each would
    # cost O(levels), which dominates with many levels.
    sums = np.empty((n_levels, q))
    j = 0
    for group in block.columns:
        for k in range(group.shape[1]):
            shifted = (group[:, k] - shift[j]) * weights
            sums[:, j] = np.bincount(codes, weights=shifted, minlength=n_levels)
            j += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        offsets = np.where(
            level_weights[:, None] > 0, sums / level_weights[:, None], 0.0
        )
    return LevelRows(
        block,
        codes,
        keys,
        weights,
        counts,
        positive.astype(np.int64),
        level_weights,
        log_weights,
        shift,
        offsets,
        scratch,
    )


@dataclass(frozen=True, eq=False)
class KeyedJoin:
    """Two keyed statistics joined by key.

    Attributes
    ----------
    keys : ndarray of shape (G,)
        The union of their levels, sorted.
    in_a, in_b : ndarray of intp
        Where each side's levels are among ``keys``.
    offsets : ndarray of shape (G, q)
        The merged means minus ``a``'s shift.
    common : ndarray of intp
        Positions (among ``keys``) of the levels both sides saw.
    scaled_delta : ndarray of shape (n_common, q)
        ``sqrt(W_a W_b / W) (m_b - m_a)`` of each common level: its Chan
        term is the outer product of its row with itself.
    """

    keys: np.ndarray
    in_a: np.ndarray
    in_b: np.ndarray
    offsets: np.ndarray
    common: np.ndarray
    scaled_delta: np.ndarray

    def summed(self, a_values, b_values):
        """Per-level values of both sides added (counts, weights...)."""
        values = np.zeros(
            (len(self.keys), *a_values.shape[1:]),
            dtype=np.result_type(a_values, b_values),
        )
        values[self.in_a] += a_values
        values[self.in_b] += b_values
        return values


def join_levels(a, b, budget):
    """:class:`KeyedJoin` of two keyed statistics (with ``keys``,
    ``weights``, ``shift`` and ``offsets``), the union of their levels
    checked against the :class:`LevelBudget` first."""
    keys = a.keys if np.array_equal(a.keys, b.keys) else np.union1d(a.keys, b.keys)
    budget.check(len(keys), a.offsets.shape[1])
    in_a, in_b = np.searchsorted(keys, a.keys), np.searchsorted(keys, b.keys)
    # b's means about a's shift: the difference of two points of the data.
    b_offsets = b.offsets + (b.shift - a.shift)
    offsets = np.zeros((len(keys), a.offsets.shape[1]))
    offsets[in_b] = b_offsets
    offsets[in_a] = a.offsets
    both_a = np.isin(a.keys, b.keys, assume_unique=True)
    both_b = np.isin(b.keys, a.keys, assume_unique=True)
    wa, wb = a.weights[both_a], b.weights[both_b]
    total = wa + wb
    delta = b_offsets[both_b] - a.offsets[both_a]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, wb / total, 0.0)
        coupling = np.where(total > 0, wa * wb / total, 0.0)
    common = in_a[both_a]
    offsets[common] = a.offsets[both_a] + share[:, None] * delta
    return KeyedJoin(
        keys, in_a, in_b, offsets, common, delta * np.sqrt(coupling)[:, None]
    )


def group_keys(keys):
    """The distinct combinations of several key arrays, sorted.

    Parameters
    ----------
    keys : sequence of ndarray of shape (n,)
        One value per item and key (levels of one column each).

    Returns
    -------
    inverse : ndarray of intp of shape (n,)
        Each item's combination, an index into ``unique``.
    unique : tuple of ndarray of shape (n_unique,)
        Each key's value of each distinct combination, in lexicographic
        order of the keys' sorted levels.
    """
    codes, levels = zip(*(pd.factorize(k, sort=True) for k in keys), strict=True)
    sizes = [len(level) for level in levels]
    if np.prod(np.asarray(sizes, dtype=float)) < 2.0**62:
        combined = np.ravel_multi_index(codes, sizes)
        # Hashing, then sorting the distinct combinations only: cheaper
        # than sorting every item.
        inverse, unique = pd.factorize(combined, sort=True)
        unique_codes = np.unravel_index(unique, sizes)
    else:
        stacked = np.column_stack(codes)
        unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
        unique_codes = unique.T
    return inverse.ravel(), tuple(
        np.asarray(level)[c] for level, c in zip(levels, unique_codes, strict=True)
    )


def key_partitions(keys, n_parts):
    """Each key's partition among ``n_parts``, by a hash that is the same in
    every process (pandas' fixed-key hash of the values): a level's
    statistics from every block meet in the same partition."""
    return pd.util.hash_array(np.asarray(keys)) % np.uint64(n_parts)
