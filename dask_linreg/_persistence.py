"""Model files: fitted estimators as JSON, loaded without executing code.

A model file is a JSON object::

    {"format": "dask-linreg-model", "format_version": 1,
     "library_version": "0.1.0", "estimator": "LinearRegression",
     "params": {...}, "n_features_in": 3, "feature_names_in": [...] | null,
     "coef": {"shape": [3], "values": [...]}, "intercept": {...},
     "fitted": {...}, "statistics": {...} | null, "metadata": {...}}

Floats are written with Python's shortest round-trip representation, so
``load(save(model))`` has bit-for-bit the same coefficients.  The merged
statistics of the fit (a few p-by-p arrays; exact cross-products as JSON
integers) are kept when present, so inference, ``partial_fit`` and
``merge`` work on a loaded model too.  Loading reads only data: the class
comes from a fixed registry, never from the file.
"""

import json
import math
import numbers
from datetime import UTC, datetime

import numpy as np

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "save", "load"]

FORMAT = "dask-linreg-model"
FORMAT_VERSION = 1

#: Fitted attributes kept besides coef_ and intercept_, with their kinds.
_FITTED = {
    "solver_": "str",
    "digits_": "float",
    "n_passes_": "int",
    "rank_": "int",
    "singular_": "array",
    "alpha_": "number_or_array",
    "l1_ratio_": "float",
    "best_score_": "number_or_array",
    "n_iter_": "int_or_list",
}
_STATISTIC_FIELDS = {
    "moments": ("shift", "offset", "comoment"),
    "factor": ("shift", "offset", "factor"),
}


class ModelFileError(ValueError):
    """A model file is not a valid dask-linreg model; the message says why."""


def _registry():
    from dask_linreg._elastic_net import ElasticNet, ElasticNetCV, Lasso, LassoCV
    from dask_linreg._linear_model import LinearRegression, Ridge
    from dask_linreg._ridge_cv import RidgeCV

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


def _array(values):
    values = np.asarray(values, dtype=np.float64)
    return {"shape": list(values.shape), "values": values.ravel().tolist()}


def _json_param(name, value):
    """A parameter as JSON; fold labels and splitters are not model state."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, list | tuple | np.ndarray):
        array = np.asarray(value)
        if array.ndim == 1 and array.dtype.kind in "if":
            return array.tolist()
    # cv given as fold labels or a splitter: what it was does not change
    # the fitted model; record only that it was given.
    if name == "cv":
        return None
    raise TypeError(f"Parameter {name}={value!r} cannot be written to a model file.")


def _statistics_json(statistic):
    if statistic is None:
        return None
    kind, result = statistic[:2]
    common = {
        "kind": kind,
        "count": int(result.count),
        "positive_count": int(result.positive_count),
        "log_weight_sum": float(result.log_weight_sum),
    }
    if kind == "exact":
        return {
            **common,
            "exponent": int(result.exponent),
            "integers": [[int(v) for v in row] for row in result.integers],
        }
    fields = {name: _array(getattr(result, name)) for name in _STATISTIC_FIELDS[kind]}
    return {**common, "weight_sum": float(result.weight_sum), **fields}


def save(estimator, path, *, metadata=None):
    """Write a fitted estimator to ``path`` as a JSON model file.

    Parameters
    ----------
    estimator : fitted dask_linreg estimator
    path : str or path-like
    metadata : dict, default=None
        Extra JSON-serializable information (data source, times...).
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    name = type(estimator).__name__
    if name not in _registry():
        raise TypeError(f"{name} cannot be saved as a dask-linreg model file.")
    fitted = {}
    for attribute, kind in _FITTED.items():
        if hasattr(estimator, attribute):
            value = getattr(estimator, attribute)
            if kind in ("array", "number_or_array") and np.ndim(value) > 0:
                value = _array(value)
            elif isinstance(value, np.generic):
                value = value.item()
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            fitted[attribute] = value
    names = getattr(estimator, "feature_names_in_", None)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "estimator": name,
        "params": {
            key: _json_param(key, value)
            for key, value in estimator.get_params().items()
        },
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": None if names is None else [str(n) for n in names],
        "coef": _array(estimator.coef_),
        "intercept": _array(estimator.intercept_),
        "y_is_1d": bool(getattr(estimator, "_y_is_1d", np.ndim(estimator.coef_) == 1)),
        "target_names": list(getattr(estimator, "_target_names", []) or []) or None,
        "weighted_fit": bool(getattr(estimator, "_weighted_fit", False)),
        "fitted": fitted,
        "statistics": _statistics_json(getattr(estimator, "_statistic", None)),
        "metadata": {
            "saved": datetime.now(UTC).isoformat(timespec="seconds"),
            **(metadata or {}),
        },
    }
    text = json.dumps(document, allow_nan=False, indent=1)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)


def _library_version():
    from dask_linreg import __version__

    return __version__


def _fail(path, problem):
    raise ModelFileError(f"{path} is not a valid dask-linreg model file: {problem}.")


def _require(document, key, kinds, path, where="the file"):
    if key not in document:
        _fail(path, f"{where} has no {key!r}")
    value = document[key]
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        _fail(path, f"{key!r} in {where} has the wrong type ({type(value).__name__})")
    return value


def _read_array(value, path, key, shape=None):
    if not isinstance(value, dict) or set(value) != {"shape", "values"}:
        _fail(path, f"{key!r} must be an object with 'shape' and 'values'")
    dims, values = value["shape"], value["values"]
    if not (
        isinstance(dims, list)
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims)
    ):
        _fail(path, f"{key!r} has an invalid shape {dims!r}")
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        _fail(path, f"{key!r} values must be a list of numbers")
    if len(values) != math.prod(dims):
        _fail(
            path,
            f"{key!r} has {len(values)} values but its shape {dims} needs "
            f"{math.prod(dims)}",
        )
    array = np.array(values, dtype=np.float64).reshape(dims)
    if not np.isfinite(array).all():
        _fail(path, f"{key!r} contains non-finite numbers")
    if shape is not None and tuple(dims) not in shape:
        _fail(
            path,
            f"{key!r} has shape {tuple(dims)}; expected "
            + " or ".join(str(s) for s in shape),
        )
    return array


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
        If the file is not JSON, is truncated, has another format or
        version, misses a key, or has values of the wrong type, shape or
        non-finite numbers; the message names the problem.
    """
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise ModelFileError(f"Cannot read model file {path}: {error}.") from None
    try:
        document = json.loads(
            text, parse_constant=lambda c: _fail(path, f"it contains {c}")
        )
    except json.JSONDecodeError as error:
        _fail(path, f"it is not JSON (or is truncated): {error}")
    if not isinstance(document, dict):
        _fail(path, "the top level is not a JSON object")
    if document.get("format") != FORMAT:
        _fail(path, f"'format' is {document.get('format')!r}, expected {FORMAT!r}")
    version = _require(document, "format_version", (int,), path)
    if version != FORMAT_VERSION:
        _fail(
            path,
            f"format_version {version} is not supported (this library reads "
            f"version {FORMAT_VERSION})",
        )
    name = _require(document, "estimator", (str,), path)
    registry = _registry()
    if name not in registry:
        _fail(
            path,
            f"unknown estimator {name!r}; expected one of {', '.join(sorted(registry))}",
        )
    cls = registry[name]
    params = _require(document, "params", (dict,), path)
    known = set(cls().get_params())
    unknown = set(params) - known
    if unknown:
        _fail(path, f"{name} has no parameter(s) {sorted(unknown)}")
    for key, value in params.items():
        if not (
            value is None
            or isinstance(value, bool | int | float | str)
            or (
                isinstance(value, list)
                and all(isinstance(v, int | float) for v in value)
            )
        ):
            _fail(path, f"parameter {key!r} has a value of the wrong type")
    try:
        estimator = cls(**params)
        estimator._check_params()
    except (TypeError, ValueError) as error:
        _fail(path, f"its parameters are invalid: {error}")
    n_features = _require(document, "n_features_in", (int,), path)
    if n_features < 1:
        _fail(path, f"n_features_in is {n_features}")
    names = document.get("feature_names_in")
    if names is not None:
        if not (
            isinstance(names, list)
            and len(names) == n_features
            and all(isinstance(n, str) for n in names)
        ):
            _fail(path, f"feature_names_in must be {n_features} strings or null")
    coef = _read_array(_require(document, "coef", (dict,), path), path, "coef")
    if coef.ndim not in (1, 2) or coef.shape[-1] != n_features:
        _fail(
            path,
            f"'coef' has shape {coef.shape}; expected ({n_features},) or "
            f"(n_targets, {n_features})",
        )
    expected_intercept = [()] if coef.ndim == 1 else [(coef.shape[0],)]
    intercept = _read_array(
        _require(document, "intercept", (dict,), path),
        path,
        "intercept",
        expected_intercept,
    )
    estimator.n_features_in_ = n_features
    if names is not None:
        estimator.feature_names_in_ = np.array(names, dtype=object)
    estimator.coef_ = coef
    estimator.intercept_ = float(intercept) if coef.ndim == 1 else intercept
    fitted = _require(document, "fitted", (dict,), path)
    for attribute, value in fitted.items():
        if attribute not in _FITTED:
            _fail(path, f"unknown fitted attribute {attribute!r}")
        kind = _FITTED[attribute]
        if isinstance(value, dict):
            value = _read_array(value, path, attribute)
        elif kind == "str" and not isinstance(value, str):
            _fail(path, f"{attribute!r} must be a string")
        elif kind != "str" and not (
            isinstance(value, int | float)
            or (isinstance(value, list) and all(isinstance(v, int) for v in value))
        ):
            _fail(path, f"{attribute!r} must be a number")
        setattr(estimator, attribute, value)
    y_is_1d = document.get("y_is_1d", coef.ndim == 1)
    estimator._y_is_1d = bool(y_is_1d)
    n_targets = 1 if coef.ndim == 1 else coef.shape[0]
    targets = document.get("target_names")
    if targets is not None and not (
        isinstance(targets, list)
        and len(targets) == n_targets
        and all(isinstance(t, str) for t in targets)
    ):
        _fail(path, f"target_names must be {n_targets} strings or null")
    estimator._target_names = targets or (
        ["y"] if n_targets == 1 else [f"y{i}" for i in range(n_targets)]
    )
    estimator._weighted_fit = bool(document.get("weighted_fit", False))
    statistics = document.get("statistics")
    if statistics is not None:
        estimator._statistic = _read_statistics(
            statistics, path, n_features + n_targets
        )
        estimator._fit_summary_cache = None
    return estimator


def _read_statistics(statistics, path, q):
    from dask_linreg._exact import ExactCrossProducts
    from dask_linreg._factor import TriangularMoments
    from dask_linreg._stats import Moments

    where = "'statistics'"
    if not isinstance(statistics, dict):
        _fail(path, f"{where} must be an object or null")
    kind = _require(statistics, "kind", (str,), path, where)
    counts = {
        "count": _require(statistics, "count", (int,), path, where),
        "positive_count": _require(statistics, "positive_count", (int,), path, where),
    }
    log_sum = _require(statistics, "log_weight_sum", (int, float), path, where)
    if kind == "exact":
        exponent = _require(statistics, "exponent", (int,), path, where)
        rows = _require(statistics, "integers", (list,), path, where)
        if len(rows) != q + 1 or not all(
            isinstance(r, list)
            and len(r) == q + 1
            and all(isinstance(v, int) and not isinstance(v, bool) for v in r)
            for r in rows
        ):
            _fail(path, f"exact statistics must be {q + 1}x{q + 1} integers")
        integers = np.empty((q + 1, q + 1), dtype=object)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                integers[i, j] = v
        result = ExactCrossProducts(
            counts["count"],
            integers,
            exponent,
            positive_count=counts["positive_count"],
            log_weight_sum=float(log_sum),
        )
        return kind, result, None
    if kind not in _STATISTIC_FIELDS:
        _fail(path, f"unknown statistics kind {kind!r}")
    weight_sum = _require(statistics, "weight_sum", (int, float), path, where)
    shapes = {
        "shift": [(q,)],
        "offset": [(q,)],
        "comoment": [(q, q)],
        "factor": [(q, q)],
    }
    arrays = [
        _read_array(
            _require(statistics, name, (dict,), path, where), path, name, shapes[name]
        )
        for name in _STATISTIC_FIELDS[kind]
    ]
    cls = Moments if kind == "moments" else TriangularMoments
    result = cls(
        counts["count"],
        float(weight_sum),
        *arrays,
        positive_count=counts["positive_count"],
        log_weight_sum=float(log_sum),
    )
    return kind, result, None
