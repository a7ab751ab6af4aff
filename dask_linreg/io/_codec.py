"""The codec of parameter values (and fold labels) in model files.

One encoding for every parameter: JSON scalars and lists as themselves,
tuples, NumPy arrays (with their dtype), scikit-learn splitters (rebuilt by
name from a fixed list of :mod:`sklearn.model_selection`, never from the
file) and :class:`UnstoredCV`.  Decoding builds nothing else.
"""

import inspect
import math
import numbers

import numpy as np

from dask_linreg.io._json import (
    Unstorable,
    check_keys,
    decode_array,
    describe,
    encode_array,
)
from dask_linreg.linear_model._cv import check_cv as check_estimator_cv

__all__ = ["SPLITTERS", "UnstoredCV", "check_cv", "decode", "encode", "encode_param"]


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

    def split(self, X=None, y=None, groups=None):
        """Raise: the folds are unknown."""
        raise _unknown_folds(self)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Raise: the folds are unknown."""
        raise _unknown_folds(self)

    def __repr__(self):
        return f"UnstoredCV({self.description!r})"

    def __eq__(self, other):
        return type(other) is UnstoredCV and other.description == self.description

    def __hash__(self):
        return hash(self.description)


def _unknown_folds(cv):
    return ValueError(
        f"cv of this model was {cv.description}, which its model file could "
        "not hold; set it again with set_params(cv=...) before fitting."
    )


#: Splitters a cv may be: rebuilt by name from sklearn.model_selection.
SPLITTERS = (
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


def _splitter_class(name):
    import sklearn.model_selection

    return getattr(sklearn.model_selection, name) if name in SPLITTERS else None


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


def encode(value):
    """A parameter value as JSON; raises Unstorable."""
    import pandas as pd

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise Unstorable(f"{value!r} (JSON has no non-finite numbers)")
        return float(value)
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"type": "tuple", "items": [encode(v) for v in value]}
    if isinstance(value, UnstoredCV):
        return {"type": "unstored", "description": value.description}
    if isinstance(value, pd.Series | pd.Index):
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        return encode_array(value)
    name = type(value).__name__
    if type(value) is _splitter_class(name):
        params = _splitter_params(value)
        encoded = {key: encode(v) for key, v in params.items()}
        try:
            same = repr(type(value)(**params)) == repr(value)
        except (TypeError, ValueError):
            same = False
        if not same:
            raise Unstorable(describe(value))
        return {"type": "splitter", "class": name, "params": encoded}
    raise Unstorable(describe(value))


def encode_param(name, value):
    """The parameter ``name`` as JSON; a ``cv`` JSON cannot hold becomes an
    :class:`UnstoredCV`, any other raises TypeError."""
    try:
        return encode(value)
    except Unstorable as error:
        if name == "cv":
            # Never a silent change of meaning: the loaded cv says what it
            # was and refuses to split.
            return encode(UnstoredCV(str(error)))
        raise TypeError(
            f"Parameter {name}={error} cannot be written to a model file."
        ) from None


def decode(value, where):
    """Inverse of :func:`encode`; raises ValueError saying what is wrong."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is a number beyond float64")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [decode(v, where) for v in value]
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise ValueError(f"{where} is an object without a 'type'")
    kind = value["type"]
    if kind == "tuple":
        check_keys(value, ("type", "items"), where)
        if not isinstance(value["items"], list):
            raise ValueError(f"{where} items must be a list")
        return tuple(decode(v, where) for v in value["items"])
    if kind == "ndarray":
        return decode_array(value, where)
    if kind == "unstored":
        check_keys(value, ("type", "description"), where)
        if not isinstance(value["description"], str):
            raise ValueError(f"{where} description must be a string")
        return UnstoredCV(value["description"])
    if kind == "splitter":
        check_keys(value, ("type", "class", "params"), where)
        name, params = value["class"], value["params"]
        cls = _splitter_class(name) if isinstance(name, str) else None
        if cls is None:
            raise ValueError(
                f"{where} names the splitter {name!r}; expected one of "
                f"{', '.join(SPLITTERS)} (from sklearn.model_selection)"
            )
        if not isinstance(params, dict) or set(params) - set(_splitter_arguments(cls)):
            raise ValueError(f"{where} has parameters {name} does not take")
        params = {key: decode(v, where) for key, v in params.items()}
        try:
            return cls(**params)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where} is an invalid {name}: {error}") from None
    raise ValueError(f"{where} has an unknown type {kind!r}")


def check_cv(cv):
    """What ``fold_labels`` accepts as ``cv``, checked without the data: the
    estimators' own check, after the forms only a model file has."""
    if isinstance(cv, UnstoredCV) or (
        cv is not None and type(cv) is _splitter_class(type(cv).__name__)
    ):
        return
    check_estimator_cv(cv)
