"""Input checks and conversion: everything ``fit`` needs to know about its
inputs before the pass, with nothing computed.  Rows are matched by
position; Dask DataFrame companions are combined partition by partition;
NumPy blocks are views of the caller's memory.

NumPy and pandas inputs go through scikit-learn's public
:func:`~sklearn.utils.validation.validate_data`.
"""

from dataclasses import dataclass, field, replace
from functools import partial

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data

from dask_linreg._dask.columns import (
    _check_column_dtype,
    _check_dask_dtypes,
    _check_in_memory,
    _check_same_length,
    _in_memory_labels,
    _is_dask_frame,
    _is_dask_series,
    _labels_in_memory,
    _scalar_weight,
    is_dask,
)
from dask_linreg._dask.factors import FactorDesign, factor_columns

__all__ = [
    "check_groups",
    "Features",
    "FitInputs",
    "check_fit_inputs",
    "check_predict_input",
    "available_memory",
    "check_statistic_memory",
]

# Row blocks of about this many bytes when a NumPy array is cut for the pass.
_NUMPY_BLOCK_BYTES = 32 << 20


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


def _feature_frame(X):
    """Something ``validate_data(skip_check_array=True)`` can read names from.

    A Dask dataframe becomes an empty pandas frame with its columns, so that
    scikit-learn's own feature-name checks apply without computing anything.
    """
    if _is_dask_frame(X):
        return pd.DataFrame(columns=X.columns)
    return X


def _positional_partition(
    x, *companions, names, numeric, factors=(), partition_info=None
):
    """The values of one partition of X and of its companions, row by row.

    Rows are matched by position (scikit-learn's rule), never by index:
    pandas would join the partitions on their indexes.  Returns a one-row
    object Series holding ``(x_values, {name: values})``: the numeric
    inputs as float64 arrays, views of the partition's own block where
    they are float64 already (a frame read from Parquet holds its float64
    columns in one block); labels keep their dtype.
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
    values = {}
    for name, part in zip(names, companions, strict=True):
        if part is None:
            continue
        if name in numeric:
            values[name] = _float_values(part)
        elif name in factors:
            # Levels are compared as strings, whatever the column's dtype; a
            # categorical keeps its categories, whose order the pass carries
            # (the metadata may not know them, as read from Parquet).
            values[name] = (
                part.array
                if isinstance(part.dtype, pd.CategoricalDtype)
                else part.to_numpy(dtype=object)
            )
        else:
            values[name] = part.to_numpy(dtype=_label_dtype(part.dtype))
    return pd.Series([(_float_values(x), values)], dtype=object)


def _label_dtype(dtype):
    """NumPy numbers stay as they are; other labels are compared as objects."""
    if isinstance(dtype, np.dtype) and pd.api.types.is_numeric_dtype(dtype):
        return dtype
    return np.dtype(object)


def _float_values(part):
    """A pandas frame or series as float64 values, NA (nullable dtypes) as
    NaN: a view of its block when it is float64 already."""
    dtypes = part.dtypes if part.ndim == 2 else [part.dtype]
    if part.ndim == 2 and part.shape[1] == 0:
        return np.empty((len(part), 0))
    if all(dtype == np.float64 for dtype in dtypes):
        return part.to_numpy()
    return part.to_numpy(dtype=np.float64, na_value=np.nan)


def _same_partitions_frames(X, companions):
    """The companions that are Dask DataFrames/Series with X's partitions."""
    return {
        name: obj
        for name, obj in companions.items()
        if (_is_dask_frame(obj) or _is_dask_series(obj))
        and obj.npartitions == X.npartitions
    }


def _part_of(holders, name):
    """One input's values from a block of :func:`_positional_partition`'s
    holders (``name`` None: X's)."""
    x_values, values = holders[0]
    return x_values if name is None else values[name]


def _combine_by_position(X, companions, label_names, factor_names=()):
    """Dask arrays of X and of the companions of the same partitions as X.

    Converted together, one partition at a time and by position: columns of
    one Dask DataFrame converted one by one may come out in different row
    blocks (Dask plans each projection of a Parquet dataset separately), and
    frames with other indexes must not be joined on them.  One task per
    partition holds every input's values; each input's array takes its
    part, so nothing is copied side by side.

    Returns
    -------
    x : dask.array.Array
    arrays : dict
        Name -> Dask array for each combined companion (2-D for a
        DataFrame ``y``, 1-D otherwise).
    """
    names = list(companions)
    numeric = [n for n in names if n not in label_names and n not in factor_names]
    holders = dd.map_partitions(
        _positional_partition,
        X,
        *companions.values(),
        names=names,
        numeric=numeric,
        factors=tuple(factor_names),
        meta=pd.Series([], dtype=object),
        align_dataframes=False,
        enforce_metadata=False,
    ).to_dask_array()
    rows = ((np.nan,) * holders.numblocks[0],)

    def part(name, width, dtype):
        columns = () if width is None else ((width,),)
        return holders.map_blocks(
            _part_of,
            name,
            chunks=rows + columns,
            new_axis=None if width is None else 1,
            dtype=dtype,
            meta=np.empty((0,) * (1 if width is None else 2), dtype=dtype),
        )

    x = part(None, len(X.columns), np.float64)
    arrays = {}
    for name in names:
        companion = companions[name]
        if name in factor_names:
            arrays[name] = part(name, None, np.dtype(object))
        elif name in label_names:
            arrays[name] = part(name, None, _label_dtype(companion._meta.dtype))
        else:
            width = len(companion.columns) if _is_dask_frame(companion) else None
            arrays[name] = part(name, width, np.float64)
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
    labels : dask.array.Array or ndarray of shape (n_samples,), tuple or None
        Cluster, fold or absorbed labels, row-aligned like y (any sortable
        dtype); a tuple of them when several were given.
    design : FactorDesign or None
        X's categorical columns and their encoding, when it has some: then
        ``x`` holds only its numeric columns, and ``factors`` the labels.
    factors : tuple of dask.array.Array
        Each categorical column's labels (object), row-aligned like y.
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
    design: FactorDesign | None = None
    factors: tuple = ()

    def store_features(self, estimator):
        """Record the features on ``estimator``: the last step of a fit."""
        self.features.store(estimator)

    @property
    def n_targets(self):
        """Number of columns of y (1 for a vector)."""
        return 1 if self.y_is_1d else self.y.shape[1]


def _check_weight_values(weights, missing="raise"):
    """Weights already in memory are checked before the pass (NaN, a
    missing weight, leaves its row out with ``missing="drop"``)."""
    if missing == "drop":
        weights = weights[~np.isnan(weights)]
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
    categorical=False,
    formula_terms=None,
    allow_no_features=False,
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
    messages; or a tuple of several, with a tuple of names) are aligned
    with the rows like ``y``.  With
    ``categorical``, a DataFrame X may have categorical columns
    (:mod:`dask_linreg._dask.factors`); otherwise they are refused.
    ``formula_terms`` are the model's terms when X is a formula's design
    (:class:`~dask_linreg._dask.factors.FactorDesign`).  With
    ``allow_no_features``, a Dask X may have no numeric column (the
    model's columns come from labels).

    Returns
    -------
    FitInputs
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y "
            "is None."
        )
    factors = factor_columns(X)
    if factors and not categorical:
        raise TypeError(
            f"X column {factors[0]!r} is categorical (dtype {X[factors[0]].dtype}), "
            f"and {type(estimator).__name__} does not take categorical columns: "
            "LinearRegression, Ridge, ElasticNet and Lasso do, or encode it "
            "first (e.g. pandas.get_dummies)."
        )
    if factors and not is_dask(X):
        X, y, sample_weight, labels = _frames_of_partitions(
            X,
            y,
            sample_weight,
            labels,
            labels_name,
            getattr(estimator, "missing", "raise"),
        )
        inputs = check_fit_inputs(
            estimator,
            X,
            y,
            sample_weight,
            reset=reset,
            labels=labels,
            labels_name=labels_name,
            categorical=True,
            formula_terms=formula_terms,
        )
        return replace(inputs, local=True)
    if not is_dask(X):
        return _check_fit_inputs_in_memory(
            estimator, X, y, sample_weight, reset, allow_numpy, labels, labels_name
        )
    if factors:
        # The model's columns are named after X's (region[T.b]).
        _validate_features(
            estimator, _feature_frame(X), skip_check_array=True, reset=reset
        )
        if not all(isinstance(c, str) for c in X.columns):
            raise TypeError(
                "X has categorical columns, and then its columns need string "
                f"names (the model's columns are named after them); got "
                f"{list(X.columns)}."
            )
    design = FactorDesign.of(X, factors, formula_terms) if factors else None
    X_numeric = X[list(design.numeric)] if design else X
    x = _dask_to_array("X", X_numeric)
    if x.ndim != 2:
        raise ValueError(
            f"Expected a 2D array for X, got a {x.ndim}D array instead. Reshape "
            "it with X.reshape(-1, 1) for a single feature."
        )
    if x.shape[1] == 0 and not design and not allow_no_features:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={x.shape}) while a minimum of 1 "
            "is required."
        )
    _, features = _validate_features(
        estimator, _feature_frame(X), skip_check_array=True, reset=reset
    )
    companions = {"y": y, "sample_weight": sample_weight}
    label_pairs = _label_pairs(labels, labels_name)
    label_names = {name for name, _ in label_pairs}
    companions.update(label_pairs)
    factor_keys = design.message_names() if design else ()
    for key, column in zip(factor_keys, factors, strict=True):
        companions[key] = X[column]
    together = {}
    if _is_dask_frame(X):
        frames = _same_partitions_frames(X, companions)
        for name, obj in frames.items():
            if name not in label_names and name not in factor_keys:
                _check_dask_dtypes(name, obj)
        if frames:
            x, together = _combine_by_position(
                X_numeric, frames, label_names, factor_keys
            )
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
        _check_weight_values(
            np.asarray(sample_weight, dtype=np.float64),
            getattr(estimator, "missing", "raise"),
        )
    if weights is not None and weights.ndim != 1:
        raise ValueError(f"sample_weight must be 1D; got a {weights.ndim}D array.")
    label_arrays = [
        together[name] if name in together else check_groups(obj, x, name=name)
        for name, obj in label_pairs
    ]
    return FitInputs(
        x,
        y_array,
        weights,
        y_is_1d,
        features,
        labels=_as_given(labels, label_arrays),
        design=design,
        factors=tuple(together[key] for key in factor_keys),
    )


def _frames_of_partitions(X, y, sample_weight, labels, labels_name, missing):
    """In-memory inputs with a categorical X as Dask collections of the
    same partitions (row blocks of about ``_NUMPY_BLOCK_BYTES``), matched
    by position as in-memory rows are."""
    _refuse_dask_companions(y, sample_weight, labels, labels_name)
    _check_in_memory("y", y, ndims=(1, 2))
    _check_same_length("y", X, y)
    n_rows = len(X)
    rows = _numpy_row_chunks(n_rows, X.shape[1] + 1)[0]
    npartitions = max(1, -(-n_rows // rows))
    index = pd.RangeIndex(n_rows)

    def frame(obj, name):
        if obj is None:
            return None
        if isinstance(obj, pd.DataFrame | pd.Series):
            obj = obj.set_axis(index)
        else:
            values = np.asarray(obj)
            obj = (
                pd.DataFrame(values, index=index)
                if values.ndim == 2
                else pd.Series(values, index=index, name=name)
            )
        return dd.from_pandas(obj, npartitions=npartitions, sort=False)

    if sample_weight is not None and np.isscalar(sample_weight):
        weights = sample_weight
    else:
        if sample_weight is not None:
            _check_in_memory("sample_weight", sample_weight, ndims=(1,))
            if len(sample_weight) != n_rows:
                raise ValueError(
                    f"X has {n_rows} rows but sample_weight has {len(sample_weight)}."
                )
            _check_weight_values(np.asarray(sample_weight, dtype=np.float64), missing)
        weights = frame(sample_weight, "sample_weight")
    if labels is not None:
        labels = frame(_in_memory_labels(labels_name, labels, n_rows), labels_name)
    return (
        frame(X.set_axis(index), None),
        frame(y, None),
        weights,
        labels,
    )


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


def _label_pairs(labels, labels_name):
    """``(name, labels)`` of each label companion: none, one, or a tuple of
    several (``labels_name`` then a tuple of their names)."""
    if labels is None:
        return []
    if isinstance(labels, tuple):
        return list(zip(labels_name, labels, strict=True))
    return [(labels_name, labels)]


def _as_given(labels, arrays):
    """Checked label arrays in the form ``labels`` came in."""
    if labels is None:
        return None
    return tuple(arrays) if isinstance(labels, tuple) else arrays[0]


def _refuse_dask_companions(y, sample_weight, labels, labels_name):
    """In-memory X takes in-memory companions only."""
    for name, obj in [
        ("y", y),
        ("sample_weight", sample_weight),
        *_label_pairs(labels, labels_name),
    ]:
        if is_dask(obj):
            raise TypeError(
                f"X is in memory but {name} is a Dask collection: pass both in "
                "memory, or both as Dask collections (e.g. X as "
                "dask.array.from_array(X) or dask.dataframe.from_pandas(X))."
            )


def _check_fit_inputs_in_memory(
    estimator, X, y, sample_weight, reset, allow_numpy, labels, labels_name
):
    _refuse_dask_companions(y, sample_weight, labels, labels_name)
    _check_in_memory("X", X, ndims=(2,))
    _check_in_memory("y", y, ndims=(1, 2))
    _check_same_length("y", X, y)
    # Finiteness is checked inside the pass, not by a second sweep here.
    if getattr(estimator, "missing", "raise") == "drop":
        # y's NaN are rows to leave out, which scikit-learn's y check refuses.
        X, features = _validate_features(
            estimator, X, ensure_all_finite=False, reset=reset
        )
        y = check_array(y, ensure_2d=False, ensure_all_finite=False, dtype=np.float64)
    else:
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
    label_values = [
        _in_memory_labels(name, obj, n_samples)
        for name, obj in _label_pairs(labels, labels_name)
    ]
    rows = _numpy_row_chunks(n_samples, X.shape[1] + (1 if y_is_1d else y.shape[1]))
    if allow_numpy and n_samples <= rows[0]:
        return FitInputs(
            X,
            y,
            weights,
            y_is_1d,
            features,
            local=True,
            labels=_as_given(labels, label_values),
        )
    x = _blocks_of_views(X, rows + (-1,))
    y_array = _blocks_of_views(y, rows + (() if y_is_1d else (-1,)))
    if weights is not None:
        weights = _blocks_of_views(weights, rows)
    label_values = [da.from_array(v, chunks=rows, name=False) for v in label_values]
    return FitInputs(
        x,
        y_array,
        weights,
        y_is_1d,
        features,
        local=True,
        labels=_as_given(labels, label_values),
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


#: The share of this machine's memory keyed statistics (per absorbed level,
#: per group) may take by default.
KEYED_MEMORY_SHARE = 0.25


def default_keyed_bytes():
    """The default cap of keyed statistics: a share of the client's memory
    (they are merged, and solved, on the client)."""
    import psutil

    return int(psutil.virtual_memory().total * KEYED_MEMORY_SHARE)


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
