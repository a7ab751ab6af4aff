"""Model files: fitted estimators as JSON, loaded without executing code.

A model file is a JSON object::

    {"format": "dask-linreg-model", "format_version": 2,
     "library_version": "0.1.0", "estimator": "LinearRegression",
     "params": {...}, "n_features_in": 3, "feature_names_in": [...] | null,
     "coef": {"shape": [3], "values": [...]}, "intercept": {...},
     "y_is_1d": true, "target_names": [...] | null, "weighted_fit": false,
     "fitted": {...}, "statistics": {...} | null, "metadata": {...}}

Floats are written with Python's shortest round-trip representation, so
``load(save(model))`` has bit-for-bit the same coefficients.  The merged
statistics of the fit (a few p-by-p arrays; exact cross-products as JSON
integers) are kept when present, so inference, ``partial_fit`` and
``merge`` work on a loaded model too.

Loading reads only data: the class comes from a fixed registry, never from
the file, and so do the scikit-learn splitters a ``cv`` may hold.  Every
value is checked by one mechanism each:

- the parameters by the estimator's own rules (the checks ``fit`` makes
  before it reads data), after decoding them with one codec;
- the fitted attributes against :data:`_FITTED`, one table of their kind
  and shape per class, which ``save`` writes from too;
- the statistics against the fields their kind declares
  (:data:`dask_linreg._numerics.kinds.KINDS`), the same way;
- the text before parsing: at most :data:`MAX_FILE_BYTES`, UTF-8, and
  nested at most :data:`MAX_DEPTH` levels (found by a scan that does not
  recurse, so a deep file never reaches the recursive JSON parser).

Anything else is a :class:`ModelFileError` naming the file.
"""

import inspect
import json
import math
import numbers
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from dask_linreg._numerics.kinds import KINDS, kind_named

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "ModelFileError",
    "UnstoredCV",
    "save",
    "load",
]

FORMAT = "dask-linreg-model"
#: Version 2 (this library): cv of every kind, all fitted attributes of the
#: cross-validated models, flat exact statistics.  Version 1 files load too.
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)

#: Largest model file :func:`load` reads, in bytes.  A model with 4,096
#: features and its statistics (the widest the docs measure) takes about
#: 0.35 GB.
MAX_FILE_BYTES = 1 << 30

#: Deepest nesting of JSON arrays and objects accepted.  The format itself
#: needs 7 (``cv`` given as a list of ``(train, test)`` index pairs); the
#: rest is room for ``metadata``.
MAX_DEPTH = 32

#: Longest integer accepted (Python's own default limit); exact statistics
#: need at most about 1,300 digits.
_MAX_INT_DIGITS = 4300


class ModelFileError(ValueError):
    """A model file is not a valid dask-linreg model; the message says why."""


class UnstoredCV:
    """The ``cv`` of a loaded model that the model file could not hold.

    Fold labels in a Dask collection (never computed by ``save``), labels of
    another dtype than booleans, numbers and strings, and splitters from
    outside :mod:`sklearn.model_selection` are replaced in the file by a
    description of what they were.  The loaded model has this object as its
    ``cv``; refitting raises a ValueError that says to set ``cv`` again,
    rather than choosing another validation.

    Parameters
    ----------
    description : str
        What ``cv`` was, e.g. ``"a dask.Array of shape (1000,)"``.
    """

    def __init__(self, description):
        self.description = str(description)

    def _error(self):
        return ValueError(
            f"cv of this model was {self.description}, which its model file could "
            "not hold; set it again with set_params(cv=...) before fitting."
        )

    def split(self, X=None, y=None, groups=None):
        """Raise: the folds are unknown."""
        raise self._error()

    def get_n_splits(self, X=None, y=None, groups=None):
        """Raise: the folds are unknown."""
        raise self._error()

    def __repr__(self):
        return f"UnstoredCV({self.description!r})"

    def __eq__(self, other):
        return type(other) is UnstoredCV and other.description == self.description

    def __hash__(self):
        return hash(self.description)


def _registry():
    from dask_linreg.linear_model._elastic_net import (
        ElasticNet,
        ElasticNetCV,
        Lasso,
        LassoCV,
    )
    from dask_linreg.linear_model._least_squares import LinearRegression, Ridge
    from dask_linreg.linear_model._ridge_cv import RidgeCV

    classes = [
        LinearRegression,
        Ridge,
        RidgeCV,
        ElasticNet,
        Lasso,
        ElasticNetCV,
        LassoCV,
    ]
    return {cls.__name__: cls for cls in classes}


# ---------------------------------------------------------------------------
# Fitted attributes and statistics: one table each, read by save and load.


@dataclass(frozen=True)
class _Field:
    """How one stored value is checked.

    kind : "float" (finite), "score" (may be -inf or NaN, written as the
        strings "-Infinity", "Infinity", "NaN"), "int" (int64, at least
        ``minimum``), "bigint" (any Python int), "str" (one of
        ``choices``) or "labels" (an array of fold labels, with its dtype).
    shape : tuple of str
        Dimension names; see :func:`_dimensions`.  A name not given there
        (``n_folds``, ``n_alphas``...) is bound by its first use and must
        agree wherever else it appears; None is any shape.  ``()`` is a
        scalar, written as a bare JSON value; arrays are ``{"shape": [...],
        "values": [...]}``.
    optional : bool
        May be absent (attributes only some versions of a class have).
    nullable : bool
        May be null (``fold_scores_`` of a RidgeCV with ``cv=None``).
    """

    kind: str
    shape: tuple | None = ()
    minimum: int = 0
    choices: tuple = ()
    optional: bool = False
    nullable: bool = False


_COEF = _Field("float", None)  # coef_ and intercept_: checked in _build
_SOLVED = {
    "solver_": _Field("str", choices=tuple(kind.solver for kind in KINDS)),
    "digits_": _Field("float"),
    "n_passes_": _Field("int", minimum=1),
}
_PATH = {
    "n_iter_": _Field("int", ("y_targets",)),
    "dual_gap_": _Field("float", ("y_targets",), optional=True),
    "n_passes_": _Field("int", minimum=1),
}
_PATH_CV = {
    "alpha_": _Field("float"),
    "l1_ratio_": _Field("float"),
    "alphas_": _Field("float", ("n_l1_ratio", "n_alphas")),
    "folds_": _Field("labels", ("n_folds",)),
    "mse_path_": _Field("score", ("n_l1_ratio", "n_alphas", "n_folds")),
    "n_iter_": _Field("int"),
    "dual_gap_": _Field("float", optional=True),
    "n_passes_": _Field("int", minimum=1),
}

#: The fitted attributes of each class, besides ``coef_``, ``intercept_``,
#: ``n_features_in_`` and ``feature_names_in_`` (which have their own keys).
_FITTED = {
    "LinearRegression": {
        **_SOLVED,
        "rank_": _Field("int"),
        "singular_": _Field("float", ("n_singular",)),
    },
    "Ridge": _SOLVED,
    "RidgeCV": {
        **_SOLVED,
        "alpha_": _Field("float", ("alpha_targets",)),
        "best_score_": _Field("score", ("alpha_targets",)),
        "folds_": _Field("labels", ("n_folds",), nullable=True),
        "scores_": _Field("score", ("n_alphas", "score_targets")),
        "fold_scores_": _Field(
            "score", ("n_folds", "n_alphas", "n_targets"), nullable=True
        ),
    },
    "ElasticNet": _PATH,
    "Lasso": _PATH,
    "ElasticNetCV": _PATH_CV,
    "LassoCV": _PATH_CV,
}


def _statistic_fields(kind):
    """The stored fields of a kind of statistic, from the kind itself."""
    return {name: _Field(*spec) for name, spec in kind.stored_fields.items()}


def _dimensions(estimator, n_features, n_targets, y_is_1d):
    """The dimension names of the shape rules that the parameters fix."""
    targets = (n_targets,)
    per_target = bool(getattr(estimator, "alpha_per_target", False))
    return {
        "n_features": (n_features,),
        "n_targets": targets,
        # ElasticNet's n_iter_: an int for a 1-D y.
        "y_targets": () if y_is_1d else targets,
        # RidgeCV's alpha_ and best_score_; scores_ keeps the targets.
        "alpha_targets": targets if per_target and not y_is_1d else (),
        "score_targets": targets if per_target else (),
        "n_l1_ratio": np.shape(getattr(estimator, "l1_ratio", 0.0))[:1],
        "q": (n_features + n_targets,),
        "q + 1": (n_features + n_targets + 1,),
    }


# ---------------------------------------------------------------------------
# Values: one codec for parameters (and fold labels), one for table fields.

#: Splitters a cv may be: rebuilt by name from sklearn.model_selection.
_SPLITTERS = (
    "KFold",
    "GroupKFold",
    "StratifiedKFold",
    "StratifiedGroupKFold",
    "ShuffleSplit",
    "GroupShuffleSplit",
    "StratifiedShuffleSplit",
    "PredefinedSplit",
    "TimeSeriesSplit",
    "LeaveOneOut",
    "LeavePOut",
    "LeaveOneGroupOut",
    "LeavePGroupsOut",
    "RepeatedKFold",
    "RepeatedStratifiedKFold",
)
#: dtypes of stored arrays of parameters and labels (numpy's ``dtype.str``;
#: also "<U<width>" for strings and "object" for object arrays of strings).
_DTYPES = {
    np.dtype(t).str: t
    for t in (
        np.bool_,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.float16,
        np.float32,
        np.float64,
    )
}


_STR_DTYPE = re.compile(r"<U([1-9][0-9]{0,5})")


class _Unstorable(Exception):
    """A value that JSON cannot hold; the message says what it is."""


def _splitter_class(name):
    import sklearn.model_selection

    return getattr(sklearn.model_selection, name) if name in _SPLITTERS else None


def _splitter_arguments(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [
        p.name
        for p in parameters
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _splitter_params(splitter):
    """A splitter's constructor arguments, as scikit-learn's repr finds them."""
    params = {}
    for name in _splitter_arguments(type(splitter)):
        value = getattr(splitter, name, None)
        if value is None and hasattr(splitter, "cvargs"):  # Repeated*
            value = splitter.cvargs.get(name)
        params[name] = value
    return params


def _describe(value):
    kind = f"{type(value).__module__.split('.')[0]}.{type(value).__qualname__}"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        known = all(isinstance(d, numbers.Number) for d in shape)
        return f"a {kind} of shape {shape}" if known else f"a {kind}"
    text = repr(value)
    return f"{text[:200]}..." if len(text) > 200 else text


def _encode(value):
    """A parameter value as JSON; raises _Unstorable."""
    import pandas as pd

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise _Unstorable(f"{value!r} (JSON has no non-finite numbers)")
        return float(value)
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"type": "tuple", "items": [_encode(v) for v in value]}
    if isinstance(value, UnstoredCV):
        return {"type": "unstored", "description": value.description}
    if isinstance(value, pd.Series | pd.Index):
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    name = type(value).__name__
    if type(value) is _splitter_class(name):
        params = _splitter_params(value)
        encoded = {key: _encode(v) for key, v in params.items()}
        try:
            same = repr(type(value)(**params)) == repr(value)
        except (TypeError, ValueError):
            same = False
        if not same:
            raise _Unstorable(_describe(value))
        return {"type": "splitter", "class": name, "params": encoded}
    raise _Unstorable(_describe(value))


def _encode_array(array):
    if array.dtype.str in _DTYPES:
        dtype = array.dtype.str
        if dtype[1] in "f" and not np.isfinite(array).all():
            raise _Unstorable(f"{_describe(array)} with non-finite values")
    elif array.dtype.kind == "U":
        dtype = array.dtype.str
    elif array.dtype.kind == "O" and all(isinstance(v, str) for v in array.flat):
        dtype = "object"
    else:
        raise _Unstorable(f"{_describe(array)} of dtype {array.dtype}")
    return {
        "type": "ndarray",
        "dtype": dtype,
        "shape": list(array.shape),
        "values": array.ravel().tolist(),
    }


def _encode_param(name, value):
    try:
        return _encode(value)
    except _Unstorable as error:
        if name == "cv":
            # Never a silent change of meaning: the loaded cv says what it
            # was and refuses to split.
            return _encode(UnstoredCV(str(error)))
        raise TypeError(
            f"Parameter {name}={error} cannot be written to a model file."
        ) from None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _keys(value, keys, where):
    if not isinstance(value, dict) or set(value) != set(keys):
        raise ValueError(
            f"{where} must be an object with the keys {', '.join(map(repr, keys))}"
        )


def _shape_list(dims, values, where):
    if not (isinstance(dims, list) and all(_is_int(d) and d >= 0 for d in dims)):
        raise ValueError(f"{where} has an invalid shape {dims!r}")
    if not isinstance(values, list):
        raise ValueError(f"{where} values must be a list")
    if len(values) != math.prod(dims):
        raise ValueError(
            f"{where} has {len(values)} values but its shape {dims} needs "
            f"{math.prod(dims)}"
        )
    return tuple(dims)


def _decode_array(value, where):
    _keys(value, ("type", "dtype", "shape", "values"), where)
    dtype, values = value["dtype"], value["values"]
    shape = _shape_list(value["shape"], values, where)
    width = _STR_DTYPE.fullmatch(dtype) if isinstance(dtype, str) else None
    if dtype == "object" or width:
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"{where} of dtype {dtype} must hold strings")
        if width and not all(len(v) <= int(width[1]) for v in values):
            raise ValueError(f"{where} holds strings longer than its dtype {dtype}")
        array = np.empty(len(values), dtype=object)
        array[:] = values
        if width:
            array = array.astype(dtype)
        return array.reshape(shape)
    if dtype not in _DTYPES:
        raise ValueError(f"{where} has an unknown dtype {dtype!r}")
    kind = np.dtype(dtype).kind
    allowed = {"b": {bool}, "f": {int, float}}.get(kind, {int})
    if not set(map(type, values)) <= allowed:
        raise ValueError(f"{where} values do not fit its dtype {dtype}")
    try:
        with np.errstate(over="raise"):
            array = np.array(values, dtype=_DTYPES[dtype])
    except (OverflowError, FloatingPointError):
        raise ValueError(f"{where} values are out of the range of {dtype}") from None
    if kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{where} values are out of the range of {dtype}")
    return array.reshape(shape)


def _decode(value, where):
    """Inverse of :func:`_encode`; raises ValueError saying what is wrong."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is a number beyond float64")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_decode(v, where) for v in value]
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise ValueError(f"{where} is an object without a 'type'")
    kind = value["type"]
    if kind == "tuple":
        _keys(value, ("type", "items"), where)
        if not isinstance(value["items"], list):
            raise ValueError(f"{where} items must be a list")
        return tuple(_decode(v, where) for v in value["items"])
    if kind == "ndarray":
        return _decode_array(value, where)
    if kind == "unstored":
        _keys(value, ("type", "description"), where)
        if not isinstance(value["description"], str):
            raise ValueError(f"{where} description must be a string")
        return UnstoredCV(value["description"])
    if kind == "splitter":
        _keys(value, ("type", "class", "params"), where)
        name, params = value["class"], value["params"]
        cls = _splitter_class(name) if isinstance(name, str) else None
        if cls is None:
            raise ValueError(
                f"{where} names the splitter {name!r}; expected one of "
                f"{', '.join(_SPLITTERS)} (from sklearn.model_selection)"
            )
        if not isinstance(params, dict) or set(params) - set(_splitter_arguments(cls)):
            raise ValueError(f"{where} has parameters {name} does not take")
        params = {key: _decode(v, where) for key, v in params.items()}
        try:
            return cls(**params)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where} is an invalid {name}: {error}") from None
    raise ValueError(f"{where} has an unknown type {kind!r}")


def _check_cv(cv):
    """What ``fold_labels`` accepts as ``cv``, checked without the data: the
    estimators' own check, after the forms only a model file has."""
    from dask_linreg.linear_model._cv import check_cv

    if isinstance(cv, UnstoredCV) or (
        cv is not None and type(cv) is _splitter_class(type(cv).__name__)
    ):
        return
    check_cv(cv)


def _encode_field(value, field):
    if value is None:
        return None
    if field.kind == "labels":
        return _encode_array(np.asarray(value))
    array = np.asarray(value)
    values = array.ravel().tolist()
    if field.kind == "score":
        values = [
            v
            if math.isfinite(v)
            else {math.inf: "Infinity", -math.inf: "-Infinity"}.get(v, "NaN")
            for v in values
        ]
    if array.ndim == 0:
        return values[0]
    return {"shape": list(array.shape), "values": values}


_SCORE_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _decode_scalars(values, field, where):
    """The values of a field as an array (object dtype for "str", "bigint")."""
    kind = field.kind
    types = set(map(type, values))  # type checks at C speed: files are large
    if kind == "str":
        if not (types <= {str} and set(values) <= set(field.choices)):
            raise ValueError(
                f"{where} must be one of {', '.join(map(repr, field.choices))}"
            )
        return np.array(values, dtype=object)
    if kind in ("int", "bigint"):
        if not types <= {int}:
            raise ValueError(f"{where} must hold integers")
        if kind == "bigint":
            array = np.empty(len(values), dtype=object)
            array[:] = values
            return array
        low, high = field.minimum, 2**63 - 1
        if values and not low <= min(values) <= max(values) <= high:
            raise ValueError(f"{where} must hold integers from {low} to {high}")
        return np.array(values, dtype=np.int64)
    if kind == "score" and str in types:
        values = [_SCORE_CONSTANTS.get(v, v) if type(v) is str else v for v in values]
        types = set(map(type, values))
    if not types <= {int, float}:
        raise ValueError(f"{where} must hold numbers")
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:
        array = np.array([math.inf])
    if kind == "float" and not np.isfinite(array).all():
        # 1e999 parses as inf (NaN and Infinity are refused while parsing).
        raise ValueError(f"{where} holds a number beyond float64")
    return array


def _decode_field(value, field, dims, where):
    """A stored value checked against its field; binds free dimensions."""
    if value is None:
        if not field.nullable:
            raise ValueError(f"{where} must not be null")
        return None
    if field.kind == "labels":
        array = _decode(value, where)
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{where} must be an array of fold labels")
        actual = array.shape
    elif isinstance(value, dict | list):
        _keys(value, ("shape", "values"), where)
        actual = _shape_list(value["shape"], value["values"], where)
        values = value["values"]
    else:
        actual, values = (), [value]
    expected = [] if field.shape is not None else list(actual)
    for name in field.shape or ():
        if name not in dims and len(expected) < len(actual):
            dims[name] = (actual[len(expected)],)  # bound by its first use
        expected.extend(dims.get(name, ("?",)))
    if tuple(expected) != actual:
        rule = (
            f"({', '.join(field.shape)}) = {tuple(expected)}"
            if expected
            else "a scalar"
        )
        raise ValueError(f"{where} has shape {actual}; expected {rule}")
    if field.kind == "labels":
        return array
    array = _decode_scalars(values, field, where)
    return array.reshape(actual) if actual else array[:1].tolist()[0]


# ---------------------------------------------------------------------------
# save


def _nests_deeper(data, limit):
    """Whether JSON text nests arrays and objects more than ``limit`` deep.

    A scan at C speed, without recursion: escaped backslashes and quotes are
    dropped, every byte but quotes and brackets deleted, then the depth of
    the brackets outside strings is summed chunk by chunk (linear time and
    bounded memory, however many quotes or brackets the text has).
    """
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    tokens = text.translate(None, _NOT_TOKENS)
    if tokens.count(b"[") + tokens.count(b"{") <= limit:
        return False
    tokens = np.frombuffer(tokens, dtype=np.uint8)
    inside = depth = 0
    for start in range(0, tokens.size, _CHUNK):
        chunk = tokens[start : start + _CHUNK]
        # 1 from an opening quote to its closing one: inside a string.
        parity = np.bitwise_xor.accumulate((chunk == ord('"')).view(np.uint8))
        parity ^= inside
        steps = ((chunk == ord("[")) | (chunk == ord("{"))).view(np.int8) - (
            (chunk == ord("]")) | (chunk == ord("}"))
        ).view(np.int8)
        steps[parity.view(bool)] = 0
        levels = np.cumsum(steps, dtype=np.int32)
        if depth + int(levels.max()) > limit:
            return True
        inside, depth = int(parity[-1]), depth + int(levels[-1])
    return False


_NOT_TOKENS = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_CHUNK = 1 << 20


def _statistics_json(statistic):
    if statistic is None:
        return None
    kind = type(statistic)
    return {
        "kind": kind.name,
        **{
            name: _encode_field(getattr(statistic, name), field)
            for name, field in _statistic_fields(kind).items()
        },
    }


def save(estimator, path, *, metadata=None):
    """Write a fitted estimator to ``path`` as a JSON model file.

    Parameters
    ----------
    estimator : fitted dask_linreg estimator
    path : str or path-like
    metadata : dict, default=None
        Extra JSON-serializable information (data source, times...), nested
        at most ``MAX_DEPTH - 1`` levels (itself included).

    Raises
    ------
    TypeError
        If the estimator is not one of this library's, or a parameter or
        ``metadata`` cannot be written as JSON.  A ``cv`` that cannot be
        written (a Dask collection of labels, another splitter) is stored
        as an :class:`UnstoredCV` saying what it was.
    ValueError
        If ``metadata`` nests too deeply or holds non-finite numbers.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    name = type(estimator).__name__
    if name not in _registry() or type(estimator) is not _registry()[name]:
        raise TypeError(f"{name} cannot be saved as a dask-linreg model file.")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(
            f"metadata must be a dict or None; got {type(metadata).__name__}."
        )
    metadata = {
        "saved": datetime.now(UTC).isoformat(timespec="seconds"),
        **(metadata or {}),
    }
    try:
        text = json.dumps(metadata, allow_nan=False)
    except TypeError as error:
        raise TypeError(
            f"metadata cannot be written to a model file: {error}."
        ) from None
    except (ValueError, RecursionError) as error:
        raise ValueError(
            f"metadata cannot be written to a model file: {error}."
        ) from None
    if _nests_deeper(text.encode(), MAX_DEPTH - 1):
        raise ValueError(
            f"metadata nests more than {MAX_DEPTH - 1} levels (itself included), "
            "more than a model file may hold."
        )
    fitted = {}
    for attribute, field in _FITTED[name].items():
        if hasattr(estimator, attribute):
            try:
                fitted[attribute] = _encode_field(getattr(estimator, attribute), field)
            except _Unstorable as error:
                raise TypeError(
                    f"{attribute}={error} cannot be written to a model file."
                ) from None
    names = getattr(estimator, "feature_names_in_", None)
    state = estimator._fit_state
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "estimator": name,
        "params": {
            key: _encode_param(key, value)
            for key, value in estimator.get_params(deep=False).items()
        },
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": None if names is None else [str(n) for n in names],
        "coef": _encode_field(estimator.coef_, _COEF),
        "intercept": _encode_field(estimator.intercept_, _Field("float")),
        "y_is_1d": bool(state.y_is_1d),
        "target_names": list(state.target_names) or None,
        "weighted_fit": bool(state.weighted_fit),
        "fitted": fitted,
        "statistics": _statistics_json(state.statistic),
        "metadata": metadata,
    }
    if isinstance(document["intercept"], float):  # one array form for both
        document["intercept"] = {"shape": [], "values": [document["intercept"]]}
    # One top-level key a line; each value by json's C encoder (indent would
    # take the pure-Python one, 10 times slower on the statistics).
    text = (
        "{\n"
        + ",\n".join(
            f" {json.dumps(key)}: {json.dumps(value, allow_nan=False)}"
            for key, value in document.items()
        )
        + "\n}\n"
    )
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)


def _library_version():
    from dask_linreg._version import __version__

    return __version__


# ---------------------------------------------------------------------------
# load


def _fail(path, problem):
    raise ModelFileError(f"{path} is not a valid dask-linreg model file: {problem}.")


def _read_text(path):
    """The file's text, checked for size and encoding; raises ModelFileError."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_FILE_BYTES:
                _fail(
                    path,
                    f"it has {size:,} bytes, more than the {MAX_FILE_BYTES:,} "
                    "a model file may have",
                )
            data = file.read(MAX_FILE_BYTES + 1)  # also for pipes and devices
    except OSError as error:
        raise ModelFileError(f"Cannot read model file {path}: {error}.") from None
    if len(data) > MAX_FILE_BYTES:
        _fail(
            path, f"it has more than the {MAX_FILE_BYTES:,} bytes a model file may have"
        )
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        _fail(
            path,
            "it is a pickle, which load never reads; model files are JSON "
            "written by save()",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        _fail(
            path,
            f"it is not UTF-8 text (byte {data[error.start]:#04x} at offset "
            f"{error.start}); model files are JSON written by save()",
        )
    if _nests_deeper(data, MAX_DEPTH):
        _fail(path, f"it nests arrays and objects more than {MAX_DEPTH} levels deep")
    return text


def _parse(text, path):
    def pairs(items):
        keys = [key for key, _ in items]
        if len(set(keys)) != len(keys):
            duplicate = next(k for k in keys if keys.count(k) > 1)
            _fail(path, f"the key {duplicate!r} appears twice in one object")
        return dict(items)

    def integer(literal):
        if len(literal) > _MAX_INT_DIGITS:
            _fail(path, f"it holds an integer of {len(literal)} digits")
        return int(literal)

    try:
        return json.loads(
            text,
            object_pairs_hook=pairs,
            parse_int=integer,
            parse_constant=lambda c: _fail(path, f"it contains {c}"),
        )
    except ModelFileError:
        raise
    except (ValueError, RecursionError) as error:
        # JSONDecodeError, or an integer of more digits than Python converts.
        _fail(path, f"it is not JSON (or is truncated): {error}")


#: Keys of the top level and their JSON types.
_TOP_LEVEL = {
    "format": (str,),
    "format_version": (int,),
    "library_version": (str,),
    "estimator": (str,),
    "params": (dict,),
    "n_features_in": (int,),
    "feature_names_in": (list, type(None)),
    "coef": (dict,),
    "intercept": (dict,),
    "y_is_1d": (bool,),
    "target_names": (list, type(None)),
    "weighted_fit": (bool,),
    "fitted": (dict,),
    "statistics": (dict, type(None)),
    "metadata": (dict,),
}


def _upgrade_v1(document):
    """A version-1 document in the form of version 2.

    Version 1 wrote a cv given as labels or a splitter as null (so a loaded
    RidgeCV with such a cv means GCV, as it did), kept fewer fitted
    attributes (those it lacks stay absent), wrote ElasticNet's per-target
    ``n_iter_`` as a bare list and exact statistics as rows.
    """
    document = dict(document)
    document.setdefault("y_is_1d", None)  # from coef below
    document.setdefault("target_names", None)
    document.setdefault("weighted_fit", False)
    document.setdefault("metadata", {})
    fitted = document.get("fitted")
    if isinstance(fitted, dict) and isinstance(fitted.get("n_iter_"), list):
        values = fitted["n_iter_"]
        fitted = {**fitted, "n_iter_": {"shape": [len(values)], "values": values}}
        document["fitted"] = fitted
    statistics = document.get("statistics")
    if isinstance(statistics, dict) and isinstance(statistics.get("integers"), list):
        rows = statistics["integers"]
        if all(isinstance(r, list) and len(r) == len(rows) for r in rows):
            document["statistics"] = {
                **statistics,
                "integers": {
                    "shape": [len(rows), len(rows)],
                    "values": [v for r in rows for v in r],
                },
            }
    return document


def load(path):
    """Read a model file written by :meth:`save`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator
        A fitted estimator of the class named in the file.

    Raises
    ------
    ModelFileError
        If the file cannot be read, is larger than :data:`MAX_FILE_BYTES`,
        is not UTF-8 JSON (a pickle, binary data, a truncated file), nests
        deeper than :data:`MAX_DEPTH`, has another format or version, misses
        a key, or has a value of the wrong type, shape or range, or a
        parameter the estimator rejects; the message names the file and the
        problem.
    """
    if not isinstance(path, str | bytes | os.PathLike):
        raise TypeError(f"path must be a str or path-like; got {path!r}.")
    document = _parse(_read_text(path), path)
    if not isinstance(document, dict):
        _fail(path, "the top level is not a JSON object")
    if document.get("format") != FORMAT:
        _fail(path, f"'format' is {document.get('format')!r}, expected {FORMAT!r}")
    if "format_version" not in document:
        _fail(path, "the file has no 'format_version'")
    version = document["format_version"]
    if not _is_int(version) or version not in _READABLE_VERSIONS:
        _fail(
            path,
            f"format_version {version!r} is not supported (this library reads "
            f"versions {', '.join(map(str, _READABLE_VERSIONS))})",
        )
    if version == 1:
        document = _upgrade_v1(document)
    unknown = sorted(set(document) - set(_TOP_LEVEL))
    if unknown:
        _fail(path, f"unknown key(s) {unknown}")
    for key, kinds in _TOP_LEVEL.items():
        if key not in document:
            _fail(path, f"the file has no {key!r}")
        value = document[key]
        if version == 1 and key == "y_is_1d" and value is None:
            continue
        if (
            not isinstance(value, kinds)
            or isinstance(value, bool)
            and bool not in kinds
        ):
            _fail(path, f"{key!r} has the wrong type ({type(value).__name__})")
    try:
        return _build(document, path)
    except ValueError as error:
        if isinstance(error, ModelFileError):
            raise
        _fail(path, str(error).rstrip("."))


def _build(document, path):
    """The estimator of a checked top level; ValueError names the field."""
    name = document["estimator"]
    registry = _registry()
    if name not in registry:
        raise ValueError(
            f"unknown estimator {name!r}; expected one of {', '.join(sorted(registry))}"
        )
    cls = registry[name]
    n_features = document["n_features_in"]
    if n_features < 1:
        raise ValueError(f"'n_features_in' is {n_features}; expected at least 1")
    coef = _decode_field(document["coef"], _COEF, {}, "'coef'")
    if np.ndim(coef) not in (1, 2) or coef.shape[-1] != n_features:
        raise ValueError(
            f"'coef' has shape {np.shape(coef)}; expected ({n_features},) or "
            f"(n_targets, {n_features})"
        )
    n_targets = 1 if coef.ndim == 1 else coef.shape[0]
    y_is_1d = document["y_is_1d"]
    if y_is_1d is None:
        y_is_1d = coef.ndim == 1
    if y_is_1d and coef.ndim != 1:
        raise ValueError("'y_is_1d' is true but 'coef' has one row per target")
    intercept = np.asarray(
        _decode_field(document["intercept"], _COEF, {}, "'intercept'")
    )
    if intercept.shape not in ((), coef.shape[:1] if coef.ndim == 2 else ()):
        raise ValueError(
            f"'intercept' has shape {intercept.shape}; expected ()"
            + (f" or ({n_targets},)" if coef.ndim == 2 else "")
        )

    estimator = _estimator(cls, document["params"], n_targets)

    names = document["feature_names_in"]
    if names is not None and not (
        len(names) == n_features and all(isinstance(n, str) for n in names)
    ):
        raise ValueError(f"feature_names_in must be {n_features} strings or null")
    targets = document["target_names"]
    if targets is not None and not (
        len(targets) == n_targets and all(isinstance(t, str) for t in targets)
    ):
        raise ValueError(f"target_names must be {n_targets} strings or null")

    dims = _dimensions(estimator, n_features, n_targets, y_is_1d)
    table = _FITTED[name]
    fitted = document["fitted"]
    unknown = sorted(set(fitted) - set(table))
    if unknown:
        raise ValueError(f"unknown fitted attribute(s) {unknown} of {name}")
    values = {}
    for attribute, field in table.items():
        if attribute in fitted:
            values[attribute] = _decode_field(
                fitted[attribute], field, dims, f"{attribute!r}"
            )
        elif not field.optional and document["format_version"] >= 2:
            raise ValueError(f"fitted attribute {attribute!r} of {name} is missing")
    statistics = document["statistics"]
    statistic = None if statistics is None else _read_statistics(statistics, dims)

    estimator.n_features_in_ = n_features
    if names is not None:
        estimator.feature_names_in_ = np.array(names, dtype=object)
    estimator.coef_ = coef
    estimator.intercept_ = float(intercept) if intercept.ndim == 0 else intercept
    for attribute, value in values.items():
        setattr(estimator, attribute, value)
    from dask_linreg.linear_model._state import FitState

    estimator._fit_state = FitState(
        statistic=statistic,
        solve_factor=None,
        y_is_1d=bool(y_is_1d),
        target_names=tuple(
            targets
            or (["y"] if n_targets == 1 else [f"y{i}" for i in range(n_targets)])
        ),
        weighted_fit=document["weighted_fit"],
    )
    return estimator


def _check_params(estimator, n_targets):
    """The checks fit makes of the parameters before it reads data."""
    estimator._check_params(n_targets=n_targets)
    if "cv" in estimator.get_params(deep=False):
        _check_cv(estimator.cv)


def _estimator(cls, stored, n_targets):
    """The estimator of the stored parameters, checked by its own rules."""
    known = cls().get_params(deep=False)
    unknown = sorted(set(stored) - set(known))
    if unknown:
        raise ValueError(f"{cls.__name__} has no parameter(s) {unknown}")
    params = {
        key: _decode(value, f"parameter {key!r}") for key, value in stored.items()
    }
    estimator = cls(**params)
    try:
        _check_params(estimator, n_targets)
    except (TypeError, ValueError) as error:
        # Name the parameter: the first one that fails with the others at
        # their defaults (None when only a combination fails).
        for key, value in params.items():
            try:
                _check_params(cls(**{key: value}), n_targets)
            except (TypeError, ValueError) as alone:
                raise ValueError(f"parameter {key!r} is invalid: {alone}") from None
        raise ValueError(f"its parameters are invalid together: {error}") from None
    return estimator


def _read_statistics(statistics, dims):
    name = statistics.get("kind")
    try:
        kind = kind_named(name)
    except KeyError:
        raise ValueError(
            f"'statistics' kind {name!r} is unknown; expected one of "
            f"{', '.join(repr(k.name) for k in KINDS)}"
        ) from None
    fields = _statistic_fields(kind)
    missing = sorted(set(fields) - set(statistics))
    unknown = sorted(set(statistics) - set(fields) - {"kind"})
    if missing or unknown:
        raise ValueError(
            f"'statistics' of kind {name!r} "
            + (f"has no {missing}" if missing else f"has unknown keys {unknown}")
        )
    values = {
        key: _decode_field(statistics[key], field, dims, f"{key!r}")
        for key, field in fields.items()
    }
    if values["positive_count"] > values["count"]:
        raise ValueError("'statistics' has positive_count above count")
    return kind(**values)
