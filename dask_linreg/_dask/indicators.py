"""Treatment-coded indicator columns of a formula's categorical terms, for
models that take numeric columns only (absorbed fixed effects).

A model with absorbed fixed effects has no intercept of its own, so each
categorical term ``C(region)`` enters as the indicators of all its levels
but the first (fixest's and formulaic's treatment coding).  Where the
levels are known before the pass (the column's categories, a pandas or
known Dask categorical; ``C(column, levels=[...])``; an in-memory column's
values), the indicators are columns of the design; otherwise (a Dask column
of strings, say) the pass finds the levels
(:mod:`~dask_linreg._numerics.found_levels`) and the indicators of the
levels found serve for predictions.  Nothing is computed here; Dask frames
get one lazy ``map_partitions``.
"""

from functools import partial

import numpy as np
import pandas as pd

from dask_linreg._dask.columns import is_dask
from dask_linreg._numerics.found_levels import block_with_found_levels

__all__ = [
    "found_kernel",
    "found_statistic",
    "indicator_levels",
    "with_indicators",
]


def indicator_levels(X, factors):
    """The levels of each categorical term of a formula's design ``X``.

    Parameters
    ----------
    X : pandas or Dask DataFrame
        The design, its categorical terms as columns.
    factors : sequence of CategoricalTerm

    Returns
    -------
    levels : dict
        Term name -> tuple of its levels, as strings, sorted as the
        categories are, for the terms whose levels are known before the
        pass.
    found : tuple of str
        The other terms (Dask columns whose levels only the pass finds).
    """
    levels, found = {}, []
    for term in factors:
        column = X[term.name]
        dtype = column.dtype
        if term.levels is not None:
            values = list(term.levels)
        elif isinstance(dtype, pd.CategoricalDtype) and (
            not is_dask(X) or column.cat.known
        ):
            values = [str(v) for v in dtype.categories]
        elif not is_dask(X):
            values = sorted({str(v) for v in column.dropna().unique()})
        else:
            found.append(term.name)
            continue
        levels[term.name] = tuple(values)
    return levels, tuple(found)


def _indicator_partition(frame, levels):
    columns = {}
    for name in frame.columns:
        if name not in levels:
            columns[name] = frame[name]
            continue
        values = frame[name]
        text = values.astype(str).where(values.notna())
        known = text.isin(levels[name])
        outside = text.notna() & ~known
        if outside.any():
            raise ValueError(
                f"{name} has level {text[outside].iloc[0]!r}, which is not among "
                f"its levels {list(levels[name])}."
            )
        for level in levels[name][1:]:
            indicator = (text == level).astype(np.float64)
            # A missing level is a missing value of every indicator (left
            # out with missing="drop", reported otherwise).
            columns[f"{name}[T.{level}]"] = indicator.where(text.notna())
    return pd.DataFrame(columns, index=frame.index)


def with_indicators(X, levels):
    """``X`` with each categorical term replaced by its indicator columns
    (lazy for Dask)."""
    if not levels:
        return X
    if not is_dask(X):
        return _indicator_partition(X, levels)
    meta = _indicator_partition(X._meta, levels)
    return X.map_partitions(_indicator_partition, levels, meta=meta)


def _found_layout(columns, numeric, found, levels):
    """The model's columns over a pass's statistic of found levels
    (:meth:`~dask_linreg._numerics.found_levels.WithFoundLevels.select`).

    Parameters
    ----------
    columns : sequence of str
        The design's columns in order.
    numeric : sequence of str
        Those of them the pass took as numbers, in the pass's order.
    found : tuple of str
        Those holding a categorical term whose levels the pass found.
    levels : tuple of ndarray
        Each found term's levels, sorted.

    Returns
    -------
    layout : list
        Each numeric column's position where it is in ``columns``, each
        found term as ``(term, level)`` of its levels but the first
        (treatment coding).
    found_levels : dict
        Term name -> tuple of its levels, as :func:`indicator_levels` gives
        them (for :func:`with_indicators`).
    """
    position = {name: j for j, name in enumerate(numeric)}
    layout = []
    for name in columns:
        if name in found:
            term = found.index(name)
            layout += [(term, level) for level in levels[term][1:]]
        elif name in position:
            layout.append(position[name])
    found_levels = {
        name: tuple(term_levels)
        for name, term_levels in zip(found, levels, strict=True)
    }
    return layout, found_levels


def found_kernel(kernel, n_numeric, found, max_bytes):
    """``kernel`` (a :func:`~dask_linreg._dask.graph.reduce_row_pass`
    kernel over ``[X | Y]``) with the terms ``found``, the last of its
    labels, as the indicators of each block's levels
    (:func:`~dask_linreg._numerics.found_levels.block_with_found_levels`)."""
    return partial(
        block_with_found_levels,
        kernel=kernel,
        n_numeric=n_numeric,
        n_found=len(found),
        term_names=tuple(found),
        max_bytes=max_bytes,
    )


def found_statistic(result, X, numeric, found):
    """After a pass of :func:`found_kernel`: the statistic over the model's
    columns (X's, in order, each found term as its indicators), the levels
    found, and X with those indicators as columns (lazy for Dask).

    Parameters
    ----------
    result : WithFoundLevels
    X : DataFrame
        The design the pass was over.
    numeric : sequence of str
        X's columns the pass took as numbers, in its order.
    found : tuple of str
    """
    layout, levels = _found_layout(X.columns, numeric, found, result.levels)
    return result.select(layout), levels, with_indicators(X, levels)
