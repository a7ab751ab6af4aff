"""Input checks: type and shape checks before any computation, and the
value checks (non-finite values, negative weights, misaligned blocks) that
are found inside the single pass over the data and raised afterwards.

Nothing here computes a Dask collection.  NumPy and pandas inputs go through
scikit-learn's public :func:`~sklearn.utils.validation.validate_data`.
"""

import numbers
from dataclasses import dataclass, field
from functools import partial

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils.validation import validate_data

__all__ = [
    "is_dask",
    "InputFaults",
    "find_block_faults",
    "check_fit_inputs",
    "check_predict_input",
    "check_alpha",
    "check_bool",
    "check_groups",
    "check_split_every",
    "check_statistic_memory",
]

# Row blocks of about this many bytes when a NumPy array is cut for the pass.
_NUMPY_BLOCK_BYTES = 32 << 20


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
        f"{where} has dtype {dtype}, expected numbers (int, float or bool). "
        "Encode or drop it, or convert it with pandas.to_numeric."
    )


def _as_float_if_nullable(obj, dtypes):
    """Nullable pandas dtypes (Int64, Float64, boolean) as float64, lazily:
    their blocks would otherwise be object arrays, and NA becomes NaN, which
    the pass reports."""
    if any(isinstance(d, pd.api.extensions.ExtensionDtype) for d in dtypes):
        return obj.astype("float64")
    return obj


def _dask_to_array(name, obj):
    """A Dask array from a Dask array, series or dataframe, checking dtypes."""
    if _is_dask_frame(obj):
        for column, dtype in obj.dtypes.items():
            _check_column_dtype(name, column, dtype)
        return _as_float_if_nullable(obj, obj.dtypes.tolist()).to_dask_array()
    if _is_dask_series(obj):
        _check_column_dtype(name, obj.name, obj.dtype)
        return _as_float_if_nullable(obj, [obj.dtype]).to_dask_array()
    if isinstance(obj, da.Array):
        _check_column_dtype(name, None, obj.dtype)
        return obj
    raise TypeError(
        f"{name} is a Dask collection of type {type(obj).__name__}; expected a "
        "Dask array, DataFrame or Series."
    )


_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal", "boolean"}


def _check_pandas_column(name, column, values):
    if pd.api.types.is_object_dtype(values.dtype):
        # Object columns of numbers are fine (they are converted); name any
        # other before NumPy's conversion fails without saying where.
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred not in _NUMERIC_INFERRED and len(values):
            raise TypeError(
                f"{name} column {column!r} holds {inferred} values, expected "
                "numbers. Encode or drop it, or convert it with pandas.to_numeric."
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


def _feature_frame(X):
    """Something ``validate_data(skip_check_array=True)`` can read names from.

    A Dask dataframe becomes an empty pandas frame with its columns, so that
    scikit-learn's own feature-name checks apply without computing anything.
    """
    if _is_dask_frame(X):
        return pd.DataFrame(columns=X.columns)
    return X


def _positional_partition(x, *companions, names, numeric, partition_info=None):
    """One partition of X and its companions side by side, row by row.

    Rows are matched by position (scikit-learn's rule), never by index:
    pandas would join the partitions on their indexes.  The numeric inputs
    become one float64 block; labels keep their dtype.
    """
    rows = len(x)
    for name, part in zip(names, companions, strict=True):
        if part is not None and len(part) != rows:
            number = "" if partition_info is None else f" {partition_info['number']}"
            raise ValueError(
                f"X and {name} have different numbers of rows in partition"
                f"{number}: {rows} and {len(part)}. Rows are matched by position, "
                "partition by partition: give them the same partitions (e.g. take "
                "both from one dataframe)."
            )
    # Column by column into one frame: pandas makes it one float64 block,
    # the only copy, which to_dask_array then takes as it is.
    columns = [x.iloc[:, j] for j in range(x.shape[1])]
    frame = {}
    for name, part in zip(names, companions, strict=True):
        if part is None:
            continue
        if name not in numeric:
            frame[name] = part.to_numpy()
        elif part.ndim == 2:
            columns += [part.iloc[:, j] for j in range(part.shape[1])]
        else:
            columns.append(part)
    combined = pd.DataFrame(
        {j: _float_values(column) for j, column in enumerate(columns)},
        index=x.index,
    )
    for name, labels in frame.items():
        if not pd.api.types.is_numeric_dtype(labels.dtype):
            # Object, not pandas' inferred string dtype: sortable labels.
            labels = pd.Series(labels, index=combined.index, dtype=object)
        combined[name] = labels
    return combined


def _float_values(column):
    """A pandas column as float64 values, NA (nullable dtypes) as NaN."""
    if column.dtype == np.float64:
        return column.to_numpy()
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _same_partitions_frames(X, companions):
    """The companions that are Dask DataFrames/Series with X's partitions."""
    return {
        name: obj
        for name, obj in companions.items()
        if (_is_dask_frame(obj) or _is_dask_series(obj))
        and obj.npartitions == X.npartitions
    }


def _combine_by_position(X, companions, label_names):
    """Dask arrays of X and of the companions of the same partitions as X.

    Converted together, one partition at a time and by position: columns of
    one Dask DataFrame converted one by one may come out in different row
    blocks (Dask plans each projection of a Parquet dataset separately), and
    frames with other indexes must not be joined on them.

    Returns
    -------
    x : dask.array.Array
    arrays : dict
        Name -> Dask array for each combined companion (2-D for a
        DataFrame ``y``, 1-D otherwise).
    """
    names = list(companions)
    numeric = [n for n in names if n not in label_names]
    widths = {
        n: (len(companions[n].columns) if _is_dask_frame(companions[n]) else None)
        for n in numeric
    }
    p = len(X.columns)
    n_numeric = p + sum(1 if w is None else w for w in widths.values())
    meta = pd.DataFrame(
        np.empty((0, n_numeric)), index=X._meta.index, columns=range(n_numeric)
    )
    for name in names:
        if name in label_names:
            labels = companions[name]._meta
            dtype = (
                labels.dtype if pd.api.types.is_numeric_dtype(labels.dtype) else object
            )
            meta[name] = pd.Series([], index=meta.index, dtype=dtype)
    combined = dd.map_partitions(
        _positional_partition,
        X,
        *companions.values(),
        names=names,
        numeric=numeric,
        meta=meta,
        align_dataframes=False,
        enforce_metadata=False,
    )
    values = combined[list(range(n_numeric))].to_dask_array()
    x = values[:, :p]
    arrays, start = {}, p
    for name in numeric:
        width = widths[name]
        if width is None:
            arrays[name] = values[:, start]
            start += 1
        else:
            arrays[name] = values[:, start : start + width]
            start += width
    for name in label_names:
        if name in companions:
            arrays[name] = combined[name].to_dask_array()
    return x, arrays


def _row_chunks(array):
    return array.chunks[0]


def _align_rows(name, array, x):
    """Give ``array`` (a row-aligned companion of X) X's row blocks."""
    x_chunks, chunks = _row_chunks(x), _row_chunks(array)
    if chunks == x_chunks:
        return array
    known = not (np.isnan(x_chunks).any() or np.isnan(chunks).any())
    if known:
        if sum(x_chunks) != sum(chunks):
            raise ValueError(
                f"X has {int(sum(x_chunks))} rows but {name} has {int(sum(chunks))}."
            )
        return array.rechunk({0: x_chunks})
    if len(x_chunks) != len(chunks):
        raise ValueError(
            f"X and {name} have different numbers of row blocks ({len(x_chunks)} "
            f"and {len(chunks)}) and not all their sizes are known, so their rows "
            "cannot be matched. Take both from the same dataframe, or learn the "
            "sizes first with .compute_chunk_sizes() or to_dask_array(lengths=True)."
        )
    # Same number of blocks of unknown size: the pass checks that each pair
    # of blocks has the same number of rows.
    return array


def _as_dask_like_x(name, obj, x):
    """Turn a NumPy/pandas companion of a Dask X into a Dask array."""
    values = np.asarray(obj)
    if np.isnan(_row_chunks(x)).any():
        raise ValueError(
            f"{name} is in memory but X is a Dask collection with unknown row "
            "block sizes, so its rows cannot be matched to X's. Pass "
            f"{name} as a Dask collection with the same partitions as X, or "
            "learn X's sizes with X.compute_chunk_sizes()."
        )
    if values.shape[0] != x.shape[0]:
        raise ValueError(f"X has {x.shape[0]} rows but {name} has {values.shape[0]}.")
    return da.from_array(
        values, chunks=(_row_chunks(x),) + values.shape[1:], name=False
    )


def check_groups(groups, x, name="groups"):
    """Cluster (or fold) labels as a 1-D Dask array with the row blocks of
    ``x``, matched to the rows by position.

    Labels may be of any sortable type (integers, strings, categories).
    ``name`` is the argument named in messages.
    """
    if _is_dask_series(groups):
        if not pd.api.types.is_numeric_dtype(groups.dtype):
            # Dask converts extension dtypes (strings) to object anyway, with
            # a warning; say it explicitly.
            groups = groups.astype(object)
        labels = groups.to_dask_array()
    elif isinstance(groups, da.Array):
        labels = groups
    elif is_dask(groups):
        raise TypeError(
            f"{name} is a Dask collection of type {type(groups).__name__}; expected "
            "a Dask array or Series of labels, one per row."
        )
    else:
        values = np.asarray(groups)
        if values.ndim != 1:
            raise ValueError(
                f"{name} must be 1D; got an array of shape {values.shape}."
            )
        return _as_dask_like_x(name, _labels_in_memory(name, values), x)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1D; got a {labels.ndim}D array.")
    return _align_rows(name, labels, x)


@dataclass(frozen=True)
class Features:
    """What a fit learns of its columns: ``n_features_in_`` and, for string
    column names, ``feature_names_in_`` (None otherwise)."""

    n_features: int
    names: np.ndarray | None = None

    @classmethod
    def of(cls, estimator):
        """The features an estimator was fitted on."""
        return cls(
            estimator.n_features_in_, getattr(estimator, "feature_names_in_", None)
        )

    def store(self, estimator):
        """Set ``n_features_in_`` and ``feature_names_in_`` (or remove it)."""
        estimator.n_features_in_ = self.n_features
        if self.names is not None:
            estimator.feature_names_in_ = self.names
        elif "feature_names_in_" in vars(estimator):
            del estimator.feature_names_in_


_FEATURE_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


def _validate_features(estimator, *args, reset, **kwargs):
    """:func:`validate_data` without changing ``estimator``.

    With ``reset=True`` scikit-learn records the features on the estimator
    at once; a fit that fails later (NaN found in the pass, say) must leave
    a fitted model as it was, so they are taken off again and returned, to
    be stored with the other fitted attributes at the end.

    Returns
    -------
    validated : what validate_data returns
    features : Features
    """
    before = {
        k: vars(estimator)[k] for k in _FEATURE_ATTRIBUTES if k in vars(estimator)
    }
    try:
        validated = validate_data(estimator, *args, reset=reset, **kwargs)
        features = Features.of(estimator)
    finally:
        for key in _FEATURE_ATTRIBUTES:
            vars(estimator).pop(key, None)
        vars(estimator).update(before)
    return validated, features


@dataclass(frozen=True)
class FitInputs:
    """Validated, row-aligned Dask arrays for one pass.

    Attributes
    ----------
    x : dask.array.Array of shape (n_samples, n_features)
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : dask.array.Array of shape (n_samples,) or None
    y_is_1d : bool
        Whether y was given as a vector (then ``coef_`` is 1-D).
    features : Features
        The columns of X, stored on the estimator only when the fit
        succeeds (:meth:`store_features`).
    labels : dask.array.Array or ndarray of shape (n_samples,) or None
        Cluster or fold labels, row-aligned like y (any sortable dtype).
    local : bool
        Whether the data came in memory (NumPy/pandas): it is then reduced
        on local threads rather than shipped to a cluster.  Small in-memory
        data may be NumPy arrays instead of Dask arrays (``allow_numpy``).
    """

    x: da.Array | np.ndarray
    y: da.Array | np.ndarray
    sample_weight: da.Array | np.ndarray | None
    y_is_1d: bool
    features: Features
    local: bool = field(default=False)
    labels: da.Array | np.ndarray | None = None

    def store_features(self, estimator):
        """Record the features on ``estimator``: the last step of a fit."""
        self.features.store(estimator)

    @property
    def n_targets(self):
        """Number of columns of y (1 for a vector)."""
        return 1 if self.y_is_1d else self.y.shape[1]


def _check_weight_values(weights):
    """Weights already in memory are checked before the pass."""
    finite = np.isfinite(weights)
    if not finite.all():
        raise ValueError(
            f"Input sample_weight contains {int(np.size(finite) - finite.sum())} "
            "non-finite value(s) (NaN or inf)."
        )
    negative = int(np.count_nonzero(weights < 0))
    if negative:
        raise ValueError(
            f"sample_weight contains {negative} negative value(s); weights must be "
            "non-negative."
        )
    if not weights.any():
        raise ValueError(
            "sample_weight sums to zero: at least one weight must be positive."
        )


def _check_sample_weight_in_memory(sample_weight, n_samples):
    if np.isscalar(sample_weight):
        return np.full(n_samples, _scalar_weight(sample_weight))
    _check_in_memory("sample_weight", sample_weight, ndims=(1,))
    sample_weight = np.asarray(sample_weight)
    if sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} rows but sample_weight has {sample_weight.shape[0]}."
        )
    return sample_weight.astype(np.float64, copy=False)


def check_fit_inputs(
    estimator,
    X,
    y,
    sample_weight=None,
    *,
    reset=True,
    allow_numpy=False,
    labels=None,
    labels_name="groups",
):
    """Check and align the inputs of ``fit``; nothing is computed.

    Rows are matched by position, as scikit-learn does: in-memory inputs
    by their order, Dask collections block by block (partition by
    partition), never joined on an index.

    ``estimator`` is not changed: the returned features are stored by
    :meth:`FitInputs.store_features` once the fit has succeeded.  With
    ``reset=False`` (``partial_fit`` after the first call, ``score``), X is
    checked against the estimator's features instead.  With
    ``allow_numpy``, in-memory data small enough for one block stay NumPy
    arrays (no task graph is built for them; see ``reduce_in_memory``).
    ``labels`` (cluster or fold labels, called ``labels_name`` in
    messages) are aligned with the rows like ``y``.

    Returns
    -------
    FitInputs
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y "
            "is None."
        )
    if not is_dask(X):
        return _check_fit_inputs_in_memory(
            estimator, X, y, sample_weight, reset, allow_numpy, labels, labels_name
        )
    x = _dask_to_array("X", X)
    if x.ndim != 2:
        raise ValueError(
            f"Expected a 2D array for X, got a {x.ndim}D array instead. Reshape "
            "it with X.reshape(-1, 1) for a single feature."
        )
    if x.shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={x.shape}) while a minimum of 1 "
            "is required."
        )
    _, features = _validate_features(
        estimator, _feature_frame(X), skip_check_array=True, reset=reset
    )
    companions = {"y": y, "sample_weight": sample_weight}
    if labels is not None:
        companions[labels_name] = labels
    together = {}
    if _is_dask_frame(X):
        frames = _same_partitions_frames(X, companions)
        for name, obj in frames.items():
            if name != labels_name:
                _check_dask_dtypes(name, obj)
        if frames:
            x, together = _combine_by_position(X, frames, {labels_name})
    if "y" in together:
        y_array = together["y"]
    elif is_dask(y):
        y_array = _align_rows("y", _dask_to_array("y", y), x)
    else:
        _check_in_memory("y", y, ndims=(1, 2))
        y_array = _as_dask_like_x("y", y, x)
    if y_array.ndim not in (1, 2):
        raise ValueError(f"y must be 1D or 2D; got a {y_array.ndim}D array.")
    y_is_1d = y_array.ndim == 1
    if not y_is_1d and y_array.shape[1] == 0:
        raise ValueError("y has 0 targets; expected at least one column.")
    if sample_weight is None:
        weights = None
    elif "sample_weight" in together:
        weights = together["sample_weight"]
    elif is_dask(sample_weight):
        weights = _align_rows(
            "sample_weight", _dask_to_array("sample_weight", sample_weight), x
        )
    elif np.isscalar(sample_weight):
        value = _scalar_weight(sample_weight)
        # One weight per row of X, whatever its blocks (sizes unknown too).
        weights = x[:, 0].map_blocks(
            partial(np.full_like, fill_value=value, dtype=np.float64),
            dtype=np.float64,
        )
    else:
        _check_in_memory("sample_weight", sample_weight, ndims=(1,))
        weights = _as_dask_like_x("sample_weight", sample_weight, x)
        _check_weight_values(np.asarray(sample_weight, dtype=np.float64))
    if weights is not None and weights.ndim != 1:
        raise ValueError(f"sample_weight must be 1D; got a {weights.ndim}D array.")
    label_array = None
    if labels is not None:
        label_array = together.get(labels_name)
        if label_array is None:
            label_array = check_groups(labels, x, name=labels_name)
    return FitInputs(x, y_array, weights, y_is_1d, features, labels=label_array)


class _Views:
    """An array-like whose slices are views of a NumPy array.

    :func:`dask.array.from_array` copies anything with a ``copy`` method
    before slicing it; wrapping the array keeps the blocks views of the
    caller's memory, so an in-memory fit never copies X.
    """

    def __init__(self, array):
        self._array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.ndim = array.ndim

    def __getitem__(self, index):
        return self._array[index]


def _blocks_of_views(array, chunks):
    # name=False: a random name instead of hashing (reading) all the data.
    meta = np.empty((0,) * array.ndim, dtype=array.dtype)
    return da.from_array(
        _Views(array), chunks=chunks, name=False, asarray=False, meta=meta
    )


def _numpy_row_chunks(n_samples, n_columns):
    rows = max(1, _NUMPY_BLOCK_BYTES // (8 * max(n_columns, 1)))
    return (rows,)


def _check_fit_inputs_in_memory(
    estimator, X, y, sample_weight, reset, allow_numpy, labels, labels_name
):
    for name, obj in [
        ("y", y),
        ("sample_weight", sample_weight),
        (labels_name, labels),
    ]:
        if is_dask(obj):
            raise TypeError(
                f"X is in memory but {name} is a Dask collection: pass both in "
                "memory, or both as Dask collections (e.g. X as "
                "dask.array.from_array(X) or dask.dataframe.from_pandas(X))."
            )
    _check_in_memory("X", X, ndims=(2,))
    _check_in_memory("y", y, ndims=(1, 2))
    _check_same_length("y", X, y)
    # Finiteness is checked inside the pass, not by a second sweep here.
    (X, y), features = _validate_features(
        estimator,
        X,
        y,
        multi_output=True,
        y_numeric=True,
        ensure_all_finite=False,
        reset=reset,
    )
    n_samples = X.shape[0]
    y_is_1d = y.ndim == 1
    if not y_is_1d and y.shape[1] == 0:
        raise ValueError("y has 0 targets; expected at least one column.")
    weights = None
    if sample_weight is not None:
        weights = _check_sample_weight_in_memory(sample_weight, n_samples)
    label_values = None
    if labels is not None:
        label_values = _in_memory_labels(labels_name, labels, n_samples)
    rows = _numpy_row_chunks(n_samples, X.shape[1] + (1 if y_is_1d else y.shape[1]))
    if allow_numpy and n_samples <= rows[0]:
        return FitInputs(
            X, y, weights, y_is_1d, features, local=True, labels=label_values
        )
    x = _blocks_of_views(X, rows + (-1,))
    y_array = _blocks_of_views(y, rows + (() if y_is_1d else (-1,)))
    if weights is not None:
        weights = _blocks_of_views(weights, rows)
    if label_values is not None:
        label_values = da.from_array(label_values, chunks=rows, name=False)
    return FitInputs(
        x, y_array, weights, y_is_1d, features, local=True, labels=label_values
    )


def check_predict_input(estimator, X):
    """Check X for ``predict``: a Dask array/dataframe or a NumPy array.

    Dask inputs are checked for dtypes, feature count and names without
    computing anything; others go through ``validate_data``.
    """
    if not is_dask(X):
        _check_in_memory("X", X, ndims=(2,))
        return validate_data(estimator, X, reset=False)
    x = _dask_to_array("X", X)
    if x.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got a {x.ndim}D array instead.")
    validate_data(estimator, _feature_frame(X), skip_check_array=True, reset=False)
    return x


def available_memory():
    """Bytes of memory available on this (the client's) machine."""
    import psutil

    return psutil.virtual_memory().available


def check_statistic_memory(n_columns, split_every):
    """Fail before the pass when the statistics cannot fit in memory.

    A statistic of ``q`` columns of ``[X | y]`` is ``8 (q + 1)**2`` bytes;
    a merge task holds ``split_every`` of them plus its result, and the
    client's solve a few more (an eigendecomposition's workspace).
    """
    per_copy = 8 * (n_columns + 1) ** 2
    copies = split_every + 4
    available = available_memory()
    if per_copy * copies > available:
        raise MemoryError(
            f"The statistics of {n_columns:,} columns of [X | y] need "
            f"{per_copy / 1e9:.2f} GB each (8 (q + 1)**2 bytes), and the merge "
            f"tree and the solve hold about {copies} at once "
            f"({per_copy * copies / 1e9:.1f} GB); this machine has "
            f"{available / 1e9:.1f} GB available. Use fewer features (select or "
            "hash them), a smaller split_every, or a client with more memory."
        )


def check_bool(name, value):
    """A bool parameter (``numpy.bool_`` too), or a ValueError naming it."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a bool; got {value!r}.")
    return bool(value)


def check_split_every(split_every):
    """``split_every``: None or an integer of at least 2."""
    if split_every is not None and (
        not isinstance(split_every, numbers.Integral)
        or isinstance(split_every, bool)
        or split_every < 2
    ):
        raise ValueError(
            f"split_every must be an integer of at least 2 or None; got "
            f"{split_every!r}."
        )
    return split_every


def check_alpha(alpha, n_targets):
    """Ridge penalties as an array of shape (n_targets,), all non-negative."""
    values = list(alpha) if isinstance(alpha, list | tuple) else [alpha]
    if isinstance(alpha, np.ndarray):
        values = [] if alpha.dtype.kind in "iuf" else [alpha.dtype.type()]
    if any(isinstance(v, bool | np.bool_ | str | bytes) for v in values):
        raise ValueError(
            f"alpha must be a non-negative float or an array of them; got {alpha!r}."
        )
    try:
        alpha = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"alpha must be a non-negative float or an array of them; got {alpha!r}."
        ) from None
    if alpha.ndim > 1:
        raise ValueError(
            f"alpha must be a float or a 1D array; got shape {alpha.shape}."
        )
    if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
        raise ValueError(f"alpha must be non-negative and finite; got {alpha!r}.")
    if alpha.ndim == 1 and alpha.shape[0] != n_targets:
        if alpha.shape[0] == 1:
            return np.repeat(alpha, n_targets)
        raise ValueError(
            "Number of targets and number of penalties do not correspond: "
            f"{n_targets} != {alpha.shape[0]}"
        )
    return np.broadcast_to(alpha, (n_targets,)).copy()


@dataclass(frozen=True)
class InputFaults:
    """Problems with the values of the inputs, found during the pass.

    Attributes
    ----------
    counts : dict of str to (int, int)
        For each fault, the number of offending values and the first row
        block where one was seen.  Keys: ``"X"``, ``"y"``,
        ``"sample_weight"`` (non-finite values), ``"negative"`` (negative
        weights), ``"overflow"`` (cross-products beyond float64).
    row_mismatch : tuple or None
        ``(block, x_rows, name, rows)`` for the first row block where X and
        y or sample_weight disagree on the number of rows.
    n_blocks : int
        Number of consecutive row blocks these faults cover.  Block numbers
        count from the first of them, so merging in block order numbers the
        blocks of the whole array without any block knowing its position.
    """

    counts: dict = field(default_factory=dict)
    row_mismatch: tuple | None = None
    n_blocks: int = 1

    def merge(self, other):
        """The faults of these blocks followed by ``other``'s."""
        offset = self.n_blocks
        counts = dict(self.counts)
        for key, (count, block, *detail) in other.counts.items():
            first = (block + offset, *detail)
            if key in counts:
                count, first = counts[key][0] + count, counts[key][1:]
            counts[key] = (count, *first)
        row_mismatch = self.row_mismatch
        if row_mismatch is None and other.row_mismatch is not None:
            block, *rest = other.row_mismatch
            row_mismatch = (block + offset, *rest)
        return InputFaults(counts, row_mismatch, self.n_blocks + other.n_blocks)

    def missing_labels(self):
        """Whether some rows have no label (cluster or fold)."""
        return any(isinstance(key, tuple) for key in self.counts)

    def only_overflow(self):
        """Whether the only fault is cross-products overflowing float64."""
        return self.row_mismatch is None and set(self.counts) == {"overflow"}

    def raise_if_any(self, feature_names=None):
        """Raise a ValueError naming the input and the first offending block
        (and column; ``feature_names`` are X's column names, if any)."""
        if self.row_mismatch is not None:
            block, x_rows, name, rows = self.row_mismatch
            raise ValueError(
                f"X and {name} have different numbers of rows in row block {block}: "
                f"{x_rows} and {rows}. Give them the same partitions (e.g. take both "
                "from one dataframe)."
            )
        for name in ("X", "y", "sample_weight"):
            if name in self.counts:
                count, block, *column = self.counts[name]
                where = ""
                if column and name != "sample_weight":
                    label = column[0]
                    if name == "X" and feature_names is not None:
                        label = repr(str(feature_names[label]))
                    where = f", column {label}"
                raise ValueError(
                    f"Input {name} contains {count} non-finite value(s) (NaN or inf), "
                    f"the first in row block {block}{where}. Drop or impute them "
                    "before fitting."
                )
        if "negative" in self.counts:
            count, block = self.counts["negative"]
            raise ValueError(
                f"sample_weight contains {count} negative value(s), the first in row "
                f"block {block}; weights must be non-negative."
            )
        for key, (count, block) in self.counts.items():
            if isinstance(key, tuple) and key[0] == "missing":
                raise ValueError(
                    f"{key[1]} contains {count} missing label(s) (NaN or None), the "
                    f"first in row block {block}: every row needs a label."
                )
        if "overflow" in self.counts:
            _, block = self.counts["overflow"]
            raise ValueError(
                "The weighted cross-products of X and y overflow float64 (first in "
                f"row block {block}): the values are too large. Rescale X, y or "
                "sample_weight."
            )


def find_block_faults(x_parts, y_parts, sample_weight, companions=None, *, finite=None):
    """Faults of one row block (numbered 0; see :class:`InputFaults`).

    Row counts are compared first (``finite`` is then not needed), with
    ``companions`` (name -> array or None, e.g. cluster labels) too.
    Non-finite values are only counted when ``finite`` is False, i.e. the
    block's statistic is not finite: any NaN or inf in the data makes it
    so, and otherwise the count, a second sweep, is not needed.
    """
    x_rows = x_parts[0].shape[0]
    named = [("y", y_parts[0]), ("sample_weight", sample_weight)]
    named += list((companions or {}).items())
    for name, part in named:
        if part is not None and part.shape[0] != x_rows:
            return InputFaults(row_mismatch=(0, x_rows, name, part.shape[0]))
    counts = {}
    if sample_weight is not None:
        negative = int(np.count_nonzero(sample_weight < 0))
        if negative:
            counts["negative"] = (negative, 0)
    for name, labels in (companions or {}).items():
        missing = 0 if labels is None else int(np.count_nonzero(pd.isna(labels)))
        if missing:
            counts[("missing", name)] = (missing, 0)
    if finite is False:
        inputs = [("X", x_parts), ("y", y_parts)]
        if sample_weight is not None:
            inputs.append(("sample_weight", [sample_weight]))
        for name, parts in inputs:
            bad = [~np.isfinite(p).reshape(len(p), -1) for p in parts]
            count = sum(int(np.count_nonzero(b)) for b in bad)
            if count:
                # The first column with a non-finite value, counted across
                # the column blocks.
                per_column = np.concatenate([b.any(axis=0) for b in bad])
                counts[name] = (count, 0, int(np.flatnonzero(per_column)[0]))
        if not counts:
            counts["overflow"] = (0, 0)
    return InputFaults(counts)


#: Columns whose root mean square lies outside this range make cross-products
#: overflow or underflow float64 in the ``"cholesky"`` and ``"qr"`` solvers.
SAFE_MAGNITUDES = (1e-150, 1e150)


def extreme_column(statistic):
    """First column of ``[X | Y]`` whose magnitude float64 products cannot
    handle, as ``(index, root mean square)``, or None.

    ``statistic`` is a merged :class:`~dask_linreg._stats.Moments` or
    :class:`~dask_linreg._factor.TriangularMoments`; the root mean square
    is ``hypot(mean, spread)`` (never squared, so it does not overflow).
    """
    if hasattr(statistic, "comoment"):
        spread = np.sqrt(np.clip(np.diag(statistic.comoment), 0.0, None))
    else:
        spread = np.hypot.reduce(statistic.factor, axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        rms = np.hypot(statistic.mean, spread / np.sqrt(statistic.weight_sum))
    low, high = SAFE_MAGNITUDES
    bad = np.flatnonzero((rms > high) | ((rms > 0) & (rms < low)))
    return (int(bad[0]), float(rms[bad[0]])) if bad.size else None
