"""What the inputs hold: dtype and shape checks of NumPy, pandas and Dask
inputs that name the input (and column) before any conversion.

Nothing here computes a Dask collection.
"""

import numbers

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["is_dask"]


def is_dask(obj):
    """Whether ``obj`` is a Dask collection (array, dataframe, series)."""
    return dask.is_dask_collection(obj)


def _is_dask_frame(obj):
    return isinstance(obj, dd.DataFrame)


def _is_dask_series(obj):
    return isinstance(obj, dd.Series)


def _check_column_dtype(name, column, dtype):
    """Raise unless ``dtype`` is real numeric (bool included): ValueError for
    complex numbers (as scikit-learn), TypeError for anything else."""
    dtype = (
        np.dtype(dtype)
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype)
        else dtype
    )
    where = f"{name} column {column!r}" if column is not None else name
    if pd.api.types.is_complex_dtype(dtype):
        # ValueError, as scikit-learn raises for complex data.
        raise ValueError(
            f"{where} has complex dtype {dtype}: Complex data not supported. "
            "Use the real part or split real and imaginary parts into columns."
        )
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return
    raise TypeError(
        f"{where} has dtype {dtype}, expected numbers (int, float or bool)"
        f"{_CATEGORICAL_HINT if name == 'X' and column is not None else ''}. "
        "Encode or drop it, or convert it with pandas.to_numeric."
    )


#: X's columns may also be categorical (see dask_linreg._dask.factors).
_CATEGORICAL_HINT = " or categories (category, string or bool dtype)"


_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal", "boolean"}


def _check_pandas_column(name, column, values):
    if pd.api.types.is_object_dtype(values.dtype):
        # Object columns of numbers are fine (they are converted); name any
        # other before NumPy's conversion fails without saying where.
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred not in _NUMERIC_INFERRED and len(values):
            hint = _CATEGORICAL_HINT if name == "X" else ""
            raise TypeError(
                f"{name} column {column!r} holds {inferred} values, expected "
                f"numbers{hint}. Encode or drop it, or convert it with "
                "pandas.to_numeric."
            )
        if any(value is pd.NA for value in values):
            # NumPy cannot make pandas' NA a float (NaN would be reported).
            raise TypeError(
                f"{name} column {column!r} holds pandas.NA in an object column; "
                "convert it with pandas.to_numeric (NA becomes NaN, which fit "
                "reports) or give it a nullable dtype such as Float64."
            )
        return
    _check_column_dtype(name, column, values.dtype)


def _check_pandas_dtypes(name, obj):
    """Name the offending column of a pandas input before NumPy conversion."""
    if isinstance(obj, pd.DataFrame):
        for column, values in obj.items():
            _check_pandas_column(name, column, values)
    elif isinstance(obj, pd.Series):
        _check_pandas_column(name, obj.name, obj)


def _describe_ndim(name, ndim, ndims):
    if ndims == (2,):
        hint = (
            f" Reshape your data with {name}.reshape(-1, 1) if it has a single feature."
            if ndim == 1
            else ""
        )
        return f"Expected a 2D array for {name}, got a {ndim}D array instead.{hint}"
    expected = " or ".join(f"{d}D" for d in ndims)
    return f"{name} must be {expected}; got a {ndim}D array."


def _check_in_memory(name, obj, *, ndims):
    """Name ``obj``'s problem before scikit-learn's conversion would say it
    without naming the input: dimensions, no columns, duplicate column
    names, complex, string or object values.

    Sparse X is left to scikit-learn, which names the input; the targets
    and weights must be dense.
    """
    if obj is None:
        if name == "X":
            raise ValueError(
                "X is None; expected an array-like of shape (n_samples, n_features)."
            )
        return
    if sparse.issparse(obj):
        if name != "X":
            raise TypeError(
                f"{name} is a sparse matrix; pass it as a dense array "
                f"({name}.toarray())."
            )
        return
    if isinstance(obj, pd.DataFrame | pd.Series):
        ndim = obj.ndim
        if ndim == 2:
            duplicated = obj.columns[obj.columns.duplicated()].unique().tolist()
            if duplicated:
                raise ValueError(
                    f"{name} has duplicate column names {duplicated}: give each "
                    "column its own name."
                )
        _check_pandas_dtypes(name, obj)
    else:
        try:
            values = np.asarray(obj)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"{name} is not a rectangular array of numbers: {error}"
            ) from None
        ndim = values.ndim
        if ndim not in ndims:
            raise ValueError(_describe_ndim(name, ndim, ndims))
        if values.dtype.kind == "O":
            # Converted as scikit-learn converts object arrays (numbers or
            # strings of numbers); what does not convert is named.
            try:
                values.astype(np.float64)
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"{name} holds values that are not numbers: {error}."
                ) from None
        else:
            _check_column_dtype(name, None, values.dtype)
    if ndim not in ndims:
        raise ValueError(_describe_ndim(name, ndim, ndims))
    shape = obj.shape if isinstance(obj, pd.DataFrame | pd.Series) else values.shape
    if ndim == 2 and shape[1] == 0:
        raise ValueError(
            "y has 0 targets; expected at least one column."
            if name == "y"
            else f"{name} has 0 feature(s) (shape={shape}) while a minimum of 1 is "
            "required."
        )


def _n_rows(obj):
    return obj.shape[0] if hasattr(obj, "shape") else np.asarray(obj).shape[0]


def _check_same_length(name, X, companion):
    """X and an in-memory companion have one row each per sample."""
    rows, other = _n_rows(X), _n_rows(companion)
    if rows != other:
        raise ValueError(f"X has {rows} rows but {name} has {other}.")


def _in_memory_labels(name, labels, n_samples):
    """Cluster or fold labels in memory as a 1-D NumPy array, by position."""
    values = np.asarray(labels)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1D; got an array of shape {values.shape}.")
    if values.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} rows but {name} has {values.shape[0]}.")
    return _labels_in_memory(name, values)


def _labels_in_memory(name, values):
    """In-memory labels with none missing; object labels as strings."""
    missing = int(np.count_nonzero(pd.isna(values)))
    if missing:
        raise ValueError(
            f"{name} contains {missing} missing label(s) (NaN or None): every row "
            "needs a label."
        )
    return values.astype(str) if values.dtype.kind == "O" else values


def _check_dask_dtypes(name, obj):
    """The dtype checks of :func:`_dask_to_array`, without converting."""
    if _is_dask_frame(obj):
        for column, dtype in obj.dtypes.items():
            _check_column_dtype(name, column, dtype)
    else:
        _check_column_dtype(name, obj.name, obj.dtype)


def _scalar_weight(value):
    """A scalar ``sample_weight`` (one weight for every row) as a float."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise TypeError(
            "sample_weight must be a number or an array of one weight per row; "
            f"got {value!r}."
        )
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"sample_weight is {value!r} for every row; a single weight must be "
            "positive and finite."
        )
    return value
