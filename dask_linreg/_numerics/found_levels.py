"""Categorical terms of a keyed fit (absorbed fixed effects, one model per
group, clusters kept) whose levels are found in the pass.

The keyed statistics (:class:`~dask_linreg._numerics.absorbed.GroupMoments`,
:class:`~dask_linreg._numerics.multiway.MultiwayMoments`,
:class:`~dask_linreg._numerics.cluster_cells.WithClusterCells`,
:class:`~dask_linreg._numerics.grouped.GroupedMoments`) are over the
columns of ``Z = [X | Y]``, which must be the same in every block.  A
categorical term whose levels are not known before the pass enters instead
as the indicators of the levels its block has: a block's statistic is over
``[X | D_1 | ... | D_M | Y]``, each ``D_t`` the indicators of term ``t``'s
levels in the block (sorted as strings).  Two blocks' statistics merge on
the union of their levels: a level a block never saw is an indicator of
zeros there, exactly embedded (a shifted mean of 0 at every level of the
absorbed factors, no co-moments) before the statistic's own merge, as
:mod:`~dask_linreg._numerics.levels` does for the models without absorbed
effects.  After the pass, :meth:`WithFoundLevels.select` takes the model's
columns (treatment coding: each term's first level left out).
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dask_linreg._numerics.keyed import keyed_nbytes

__all__ = ["WithFoundLevels", "block_with_found_levels", "sorted_levels"]


def sorted_levels(values):
    """The levels of a block's labels as sorted strings (what the pass
    compares, as the indicators of known levels do), and each row's code
    (``-1`` for a missing label).

    Parameters
    ----------
    values : ndarray of shape (n_rows,)

    Returns
    -------
    levels : ndarray of object of shape (L,)
    codes : ndarray of intp of shape (n_rows,)
    """
    codes, uniques = pd.factorize(values)
    names = np.asarray([str(u) for u in uniques], dtype=object)
    # Two labels of one string (1 and "1") are one level, as for known levels.
    levels, recode = np.unique(names, return_inverse=True)
    recode = np.append(recode.reshape(-1), -1)
    return levels.astype(object), recode[codes]


@dataclass(frozen=True, eq=False)
class WithFoundLevels:
    """A keyed statistic over ``[X | D_1 | ... | D_M | Y]`` and the levels
    its indicator columns ``D_t`` stand for.

    Attributes
    ----------
    statistic : object
        Merges itself and has ``with_columns`` (a column index, ``-1`` for
        a column of zeros) and ``partition``.
    levels : tuple of ndarray of object
        Each term's levels, sorted strings: its indicator columns, in order.
    n_numeric : int
        Columns of ``X`` before the indicators.
    n_targets : int
        Columns of ``Y`` after them.
    """

    statistic: object
    levels: tuple
    n_numeric: int
    n_targets: int

    @property
    def count(self):
        return self.statistic.count

    @property
    def weight_sum(self):
        return self.statistic.weight_sum

    def __sizeof__(self):
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def merge(self, other):
        """The statistics of the union of two disjoint row sets."""
        return WithFoundLevels.merge_all([self, other])

    @staticmethod
    def merge_all(parts):
        """The statistics of the union of disjoint row sets: each part's
        embedded in the union of the levels, then merged by its kind."""
        first = parts[0]
        levels = tuple(
            np.unique(np.concatenate(term)).astype(object)
            for term in zip(*(p.levels for p in parts), strict=True)
        )
        embedded = [
            p.statistic
            if all(
                np.array_equal(own, union)
                for own, union in zip(p.levels, levels, strict=True)
            )
            else p.statistic.with_columns(p._embedding(levels))
            for p in parts
        ]
        merge_all = getattr(type(first.statistic), "merge_all", None)
        if merge_all is not None:
            statistic = merge_all(embedded)
        else:
            statistic = embedded[0]
            for other in embedded[1:]:
                statistic = statistic.merge(other)
        return replace(first, statistic=statistic, levels=levels)

    def _embedding(self, levels):
        """The index of this statistic's columns in the layout of the
        union ``levels`` (``-1`` where it has no such level)."""
        index = [np.arange(self.n_numeric)]
        start = self.n_numeric
        for own, union in zip(self.levels, levels, strict=True):
            at = _positions(own, union)
            index.append(np.where(at >= 0, start + at, -1))
            start += len(own)
        index.append(start + np.arange(self.n_targets))
        return np.concatenate(index)

    def is_finite(self):
        return self.statistic.is_finite()

    def partition(self, n_parts):
        """The statistic split by a hash of its keys (``split_out``), each
        part with all the indicator columns."""
        return [replace(self, statistic=s) for s in self.statistic.partition(n_parts)]

    def select(self, layout):
        """The statistic over the model's columns, then ``Y``.

        Parameters
        ----------
        layout : sequence
            The model's columns in order, each an int (a numeric column of
            ``X``) or a pair ``(t, level)`` (the indicator of term ``t``'s
            ``level``, one of :attr:`levels`).

        Returns
        -------
        statistic
            Of the kind of :attr:`statistic`, over ``len(layout) +
            n_targets`` columns.
        """
        starts = self.n_numeric + np.cumsum([0, *map(len, self.levels)])
        index = []
        for column in layout:
            if isinstance(column, tuple):
                term, level = column
                at = _positions(self.levels[term], [level])[0]
                if at < 0:
                    raise ValueError(f"term {term} has no level {level!r}.")
                index.append(starts[term] + at)
            else:
                index.append(column)
        index = np.asarray(index, dtype=np.intp)
        return self.statistic.with_columns(
            np.concatenate([index, starts[-1] + np.arange(self.n_targets)])
        )


def _positions(own, wanted):
    """Each of ``wanted``'s position in the sorted ``own``, ``-1`` where
    ``own`` lacks it."""
    wanted = np.asarray(wanted, dtype=object)
    if not len(own):
        return np.full(len(wanted), -1, dtype=np.intp)
    at = np.minimum(np.searchsorted(own, wanted), len(own) - 1)
    return np.where(own[at] == wanted, at, -1).astype(np.intp)


def block_with_found_levels(
    columns, sample_weight, labels, *, kernel, n_numeric, n_found, term_names, max_bytes
):
    """:class:`WithFoundLevels` of one block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        Column groups (2-D) of ``[X | Y]``, ``X``'s ``n_numeric`` columns
        first.
    sample_weight : ndarray of shape (n_rows,) or None
    labels : sequence of ndarray of shape (n_rows,)
        The labels ``kernel`` takes, then each term's value of each row.
    kernel : callable
        ``kernel(columns, sample_weight, labels)``: the keyed statistic.
    n_numeric, n_found : int
    term_names : tuple of str
        The terms, for messages.
    max_bytes : int
        The most bytes a block's indicators may take.

    Returns
    -------
    WithFoundLevels

    Raises
    ------
    MemoryError
        Where a term's indicators of this block would take more than
        ``max_bytes``: a term of that many levels is better absorbed.
    """
    split = len(labels) - n_found
    n_rows = len(labels[split]) if n_found else 0
    levels, indicators = [], []
    for name, values in zip(term_names, labels[split:], strict=True):
        term_levels, codes = sorted_levels(values)
        if n_rows * len(term_levels) * 8 > max_bytes:
            raise MemoryError(
                f"{name} has {len(term_levels):,} levels in a block of {n_rows:,} "
                f"rows: its indicators would take more than max_bytes="
                f"{max_bytes:,} bytes. Absorb it ('| ...') instead, or give its "
                "levels before the pass."
            )
        block = np.zeros((n_rows, len(term_levels)))
        present = codes >= 0
        block[np.flatnonzero(present), codes[present]] = 1.0
        levels.append(term_levels)
        indicators.append(block)
    x_parts, y_parts, width = [], [], 0
    for group in columns:
        (x_parts if width < n_numeric else y_parts).append(group)
        width += group.shape[1]
    statistic = kernel(
        [*x_parts, *indicators, *y_parts], sample_weight, list(labels[:split])
    )
    return WithFoundLevels(statistic, tuple(levels), n_numeric, width - n_numeric)
