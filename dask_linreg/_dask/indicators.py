"""Treatment-coded indicator columns of a formula's categorical terms, for
models that take numeric columns only (absorbed fixed effects).

A model with absorbed fixed effects has no intercept of its own, so each
categorical term ``C(region)`` enters as the indicators of all its levels
but the first (fixest's and formulaic's treatment coding).  The levels must
be known before the pass: the column's categories (a pandas or known Dask
categorical), ``C(column, levels=[...])``, or an in-memory column's values.
Nothing is computed here; Dask frames get one lazy ``map_partitions``.
"""

import numpy as np
import pandas as pd

from dask_linreg._dask.columns import is_dask

__all__ = ["indicator_levels", "with_indicators"]


def indicator_levels(X, factors):
    """The levels of each categorical term of a formula's design ``X``.

    Parameters
    ----------
    X : pandas or Dask DataFrame
        The design, its categorical terms as columns.
    factors : sequence of CategoricalTerm

    Returns
    -------
    dict
        Term name -> tuple of its levels, as strings, sorted as the
        categories are.

    Raises
    ------
    ValueError
        For a Dask column whose categories are not known before the pass.
    """
    levels = {}
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
            raise ValueError(
                f"{term.name}: with absorbed fixed effects, a categorical term's "
                "levels must be known before the pass; give them as "
                f"C({term.column}, levels=[...]), or make the column a categorical "
                f"of known categories (ddf.categorize(columns=[{term.column!r}]))."
            )
        levels[term.name] = tuple(values)
    return levels


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
