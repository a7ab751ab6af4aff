"""Categorical columns of a DataFrame X: which they are, and their encoding.

A column of ``category`` dtype, of a string dtype (``str``,
``string[pyarrow]``, object of strings) or of bool is a *factor*: it enters
the model as indicator columns of its levels, which the pass finds
(:mod:`dask_linreg._numerics.levels`).  Nothing here computes anything.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dask_linreg._numerics.levels import indicator_names

__all__ = ["FactorDesign", "factor_columns", "indicator_frame", "level_codes"]


def _is_factor_dtype(dtype, values=None):
    """Whether a column of ``dtype`` is categorical; an object column of
    pandas ``values`` is when they are not numbers."""
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        if pd.api.types.is_object_dtype(dtype) and values is not None:
            inferred = pd.api.types.infer_dtype(values, skipna=True)
            return inferred in ("string", "boolean", "categorical", "empty") and bool(
                len(values)
            )
        return True
    return False


def factor_columns(X):
    """The names of the categorical columns of a pandas or Dask DataFrame
    (in column order); empty for anything else."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or getattr(X, "ndim", 0) != 2:
        return []
    in_memory = isinstance(X, pd.DataFrame)
    return [
        column
        for column, dtype in dtypes.items()
        if _is_factor_dtype(dtype, X[column] if in_memory else None)
    ]


def _known_order(dtype):
    """A categorical dtype's categories as the strings the pass compares
    (None when unknown, as in a Dask frame read from Parquet)."""
    if not isinstance(dtype, pd.CategoricalDtype) or dtype.categories is None:
        return None
    categories = dtype.categories
    if len(categories) == 1 and categories[0] == "__UNKNOWN_CATEGORIES__":
        return None
    if pd.api.types.is_bool_dtype(categories.dtype):
        return None
    return np.asarray([str(c) for c in categories], dtype=object)


@dataclass(frozen=True)
class FactorDesign:
    """How the columns of X become the model's columns.

    Attributes
    ----------
    columns : tuple of str
        X's columns in order.
    factors : tuple of str
        The categorical ones, in order.
    orders : tuple of (ndarray or None)
        Per factor, its categories' order when its dtype gives one (levels
        are otherwise sorted).
    levels : tuple of ndarray or None
        Per factor, the levels of the fitted model in their order (None
        before the pass).
    drop_first : tuple of bool or None
        Per factor, whether its first level is the reference.
    """

    columns: tuple
    factors: tuple
    orders: tuple
    levels: tuple | None = None
    drop_first: tuple | None = None

    @classmethod
    def of(cls, X, factors):
        return cls(
            tuple(str(c) for c in X.columns),
            tuple(str(f) for f in factors),
            tuple(_known_order(X[f].dtype) for f in factors),
        )

    @property
    def numeric(self):
        """X's numeric columns, in order."""
        return tuple(c for c in self.columns if c not in self.factors)

    def feature_order(self):
        """``(name, None)`` for numeric columns, ``(name, f)`` for factor f."""
        return [
            (c, self.factors.index(c) if c in self.factors else None)
            for c in self.columns
        ]

    def encoding(self, *, fit_intercept, full_one_hot):
        """Per factor, whether its first level is dropped: treatment coding
        with an intercept (R, statsmodels, formulaic); without one the first
        factor keeps every level; ``full_one_hot`` keeps every level of all
        (penalized models, whose penalty identifies them)."""
        if full_one_hot:
            return tuple(False for _ in self.factors)
        return tuple(fit_intercept or i > 0 for i in range(len(self.factors)))

    def n_coefficients(self):
        """The model's columns (of a fitted design)."""
        widths = [
            len(levels) - int(drop)
            for levels, drop in zip(self.levels, self.drop_first, strict=True)
        ]
        return len(self.numeric) + sum(widths)

    def coefficient_names(self):
        """The model's column names, as ``coef_names_`` holds them."""
        names = []
        for name, factor in self.feature_order():
            if factor is None:
                names.append(name)
                continue
            names += indicator_names(
                name, list(self.levels[factor]), self.drop_first[factor]
            )
        return names

    def message_names(self):
        """How the pass names each factor in its messages."""
        return tuple(f"X column {f!r}" for f in self.factors)


def level_codes(design, frame, *, handle_unknown="error"):
    """Each factor's level index per row of a pandas ``frame`` (new data).

    A level the model was not fitted on raises, naming the column and the
    level; with ``handle_unknown="ignore"`` it gets code -1 (all the
    factor's indicators zero: the reference level under treatment coding).
    Missing values raise.
    """
    codes = []
    for name, levels in zip(design.factors, design.levels, strict=True):
        values = frame[name]
        missing = values.isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"X column {name!r} has {int(missing.sum())} missing value(s) "
                "(NaN or None); a categorical column needs a level in every row."
            )
        labels = values.to_numpy(dtype=object)
        labels = labels.astype(str) if labels.dtype == object else labels
        index = pd.Index(np.asarray(levels)).get_indexer(labels)
        unknown = index < 0
        if unknown.any() and handle_unknown == "error":
            first = str(labels[np.flatnonzero(unknown)[0]])
            raise ValueError(
                f"X column {name!r} has level {first!r}, which the model was not "
                f"fitted on (it knows {len(levels)}: "
                f"{', '.join(repr(str(level)) for level in list(levels)[:5])}"
                f"{', ...' if len(levels) > 5 else ''}). Pass "
                "handle_unknown='ignore' to predict it as the reference level."
            )
        codes.append(index)
    return codes


def indicator_frame(frame, design, handle_unknown="error"):
    """The model's columns of a pandas ``frame`` (new data), indicators
    built: what ``get_prediction`` needs of each row (``x' C x``).

    Only for the rows of one partition of new data, whose indicators are a
    few columns per level; the fit never builds them.
    """
    codes = dict(
        zip(
            design.factors,
            level_codes(design, frame, handle_unknown=handle_unknown),
            strict=True,
        )
    )
    names = design.coefficient_names()
    values = np.zeros((len(frame), len(names)))
    position = 0
    for name, factor in design.feature_order():
        if factor is None:
            values[:, position] = frame[name].to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            position += 1
            continue
        first = int(design.drop_first[factor])
        width = len(design.levels[factor]) - first
        index = codes[name] - first
        rows = np.flatnonzero(index >= 0)
        values[rows, position + index[rows]] = 1.0
        position += width
    return pd.DataFrame(values, index=frame.index, columns=names)
