"""What a model file may hold: the estimators, their fields, their shapes.

Nothing here is a table of classes.  The estimators are those that
:mod:`dask_linreg.linear_model` exports; each class declares its fitted
attributes once, in ``_fitted_attributes``, and each kind of statistic its
stored fields, in ``stored_fields``
(:data:`dask_linreg._numerics.kinds.KINDS`).  Both are plain tuples
``(type, shape[, minimum][, {options}])``, turned here into the
:class:`Field` that ``save`` writes by and ``load`` checks by.
"""

import math
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

import dask_linreg.linear_model
from dask_linreg.io._codec import decode
from dask_linreg.io._json import check_keys, encode_array, shape_of

__all__ = [
    "COEF",
    "Field",
    "decode_field",
    "dimensions",
    "encode_field",
    "estimator_classes",
    "field_of",
    "fitted_fields",
    "statistic_fields",
]


@dataclass(frozen=True)
class Field:
    """How one stored value is checked.

    kind : "float" (finite), "score" (may be -inf or NaN, written as the
        strings "-Infinity", "Infinity", "NaN"), "int" (int64, at least
        ``minimum``), "bigint" (any Python int), "str" (one of
        ``choices``) or "labels" (an array of fold labels, with its dtype).
    shape : tuple of str
        Dimension names; see :func:`dimensions`.  A name not given there
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


def field_of(spec):
    """The :class:`Field` of a declared ``(type, shape[, minimum][, {options}])``."""
    *positional, last = spec
    if isinstance(last, dict):
        return Field(*positional, **last)
    return Field(*spec)


#: coef_ and intercept_: any shape, checked against each other by load.
COEF = Field("float", None)


def estimator_classes():
    """Name -> class of the estimators a model file may hold: those that
    :mod:`dask_linreg.linear_model` exports."""
    module = dask_linreg.linear_model
    classes = (getattr(module, name) for name in module.__all__)
    return {
        cls.__name__: cls
        for cls in classes
        if isinstance(cls, type) and issubclass(cls, BaseEstimator)
    }


def fitted_fields(cls):
    """The fitted attributes of an estimator class, as it declares them, in
    the order they are written and checked (a free dimension is bound by
    its first use)."""
    return {name: field_of(spec) for name, spec in cls._fitted_attributes.items()}


def statistic_fields(kind):
    """The stored fields of a kind of statistic, from the kind itself."""
    return {name: field_of(spec) for name, spec in kind.stored_fields.items()}


def dimensions(estimator, n_features, n_targets, y_is_1d):
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
# Values of fields


def encode_field(value, field):
    """A fitted attribute or a statistic's field as JSON."""
    if value is None:
        return None
    if field.kind == "labels":
        return encode_array(np.asarray(value))
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


def decode_field(value, field, dims, where):
    """A stored value checked against its field; binds free dimensions."""
    if value is None:
        if not field.nullable:
            raise ValueError(f"{where} must not be null")
        return None
    if field.kind == "labels":
        array = decode(value, where)
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{where} must be an array of fold labels")
        actual = array.shape
    elif isinstance(value, dict | list):
        check_keys(value, ("shape", "values"), where)
        actual = shape_of(value["shape"], value["values"], where)
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
