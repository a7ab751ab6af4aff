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
``merge`` work on a loaded model too.  A model fitted on categorical
columns also has ``"design": {"columns", "factors", "orders", "levels",
"drop_first", "terms", "statistics"}``: the levels and encoding of each
categorical column, the model's terms (each ``{"parts": [...], "value":
column or null}``, a part a numeric column's name or ``[factor, reduced]``:
interactions like ``x1:C(region)`` are terms; files written before them
have no ``"terms"``, read as one term per column) and the moments of every
term's indicator block (which ``partial_fit`` and ``merge`` continue from);
files without categorical columns have no such key.  A fit with ``missing="drop"`` that left rows out has
``"rows_dropped": n``.

Loading reads only data: the class comes from the estimators that
:mod:`dask_linreg.linear_model` exports, never from the file, and so do the
scikit-learn splitters a ``cv`` may hold.  Every value is checked by one
mechanism each:

- the parameters by the estimator's own rules (the checks ``fit`` makes
  before it reads data), after decoding them with one codec
  (:mod:`dask_linreg.io._codec`);
- the fitted attributes against the fields their class declares
  (``_fitted_attributes``), which ``save`` writes by too;
- the statistics against the fields their kind declares
  (:data:`dask_linreg._numerics.kinds.KINDS`), the same way
  (:mod:`dask_linreg.io._schema`);
- the text before parsing: at most :data:`MAX_FILE_BYTES`, UTF-8, and
  nested at most :data:`MAX_DEPTH` levels (:mod:`dask_linreg.io._json`).

The only private state written and read is the estimator's ``_fit_state``.
Anything else is a :class:`ModelFileError` naming the file.
"""

import json
import os
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from dask_linreg._dask.factors import FactorDesign
from dask_linreg._numerics.kinds import KINDS, kind_named
from dask_linreg._numerics.levels import LevelMoments, ModelTerm, main_effects
from dask_linreg._numerics.moments import Moments
from dask_linreg.io._codec import UnstoredCV, check_cv, decode, encode_param
from dask_linreg.io._json import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    ModelFileError,
    Unstorable,
    check_keys,
    dumps_document,
    fail,
    is_int,
    nests_deeper,
    parse,
    read_text,
)
from dask_linreg.io._schema import (
    COEF,
    Field,
    decode_field,
    dimensions,
    encode_field,
    estimator_classes,
    fitted_fields,
    statistic_fields,
)
from dask_linreg.linear_model._state import FitState

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


# ---------------------------------------------------------------------------
# save


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
        If the estimator is not one of this library's or was fitted by
        :func:`~dask_linreg.ols` (its formula), or a parameter or
        ``metadata`` cannot be written as JSON.  A ``cv`` that cannot be
        written (a Dask collection of labels, another splitter) is stored
        as an :class:`UnstoredCV` saying what it was.
    ValueError
        If ``metadata`` nests too deeply or holds non-finite numbers.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    cls = type(estimator)
    name = cls.__name__
    if estimator_classes().get(name) is not cls:
        raise TypeError(f"{name} cannot be saved as a dask-linreg model file.")
    if estimator._fit_state.formula is not None:
        raise TypeError(
            f"A {name} fitted from a formula (ols() or fit_formula()) cannot be "
            "saved as a model file: loading it would evaluate the formula's "
            "expressions, and a model file runs no code. Save a model fitted on "
            "dask_linreg.design(formula, data) (a formula without interactions "
            "of categorical columns), or pickle it."
        )
    metadata = _metadata_json(metadata)
    fitted = {}
    for attribute, field in fitted_fields(cls).items():
        if hasattr(estimator, attribute):
            try:
                fitted[attribute] = encode_field(getattr(estimator, attribute), field)
            except Unstorable as error:  # fold labels of another dtype
                raise TypeError(
                    f"{attribute}={error} cannot be written to a model file."
                ) from None
    names = getattr(estimator, "feature_names_in_", None)
    state = estimator._fit_state
    intercept = encode_field(estimator.intercept_, Field("float"))
    if isinstance(intercept, float):  # one array form for both
        intercept = {"shape": [], "values": [intercept]}
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "estimator": name,
        "params": {
            key: encode_param(key, value)
            for key, value in estimator.get_params(deep=False).items()
        },
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": None if names is None else [str(n) for n in names],
        "coef": encode_field(estimator.coef_, COEF),
        "intercept": intercept,
        "y_is_1d": bool(state.y_is_1d),
        "target_names": list(state.target_names) or None,
        "weighted_fit": bool(state.weighted_fit),
        "fitted": fitted,
        "statistics": _statistics_json(state.statistic),
        "metadata": metadata,
    }
    if state.design is not None:
        document["design"] = _design_json(state)
    if state.dropped:
        document["rows_dropped"] = int(state.dropped)
    text = dumps_document(document)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)


def _metadata_json(metadata):
    """The ``metadata`` a model file holds, with the time it is saved."""
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
    if nests_deeper(text.encode(), MAX_DEPTH - 1):
        raise ValueError(
            f"metadata nests more than {MAX_DEPTH - 1} levels (itself included), "
            "more than a model file may hold."
        )
    return metadata


def _design_json(state):
    """The categorical columns of a fit: their levels, encoding and the
    statistics of every level's indicator (what ``partial_fit`` and
    ``merge`` continue from)."""
    design = state.design
    # The categories' order the pass carried (unknown to the dtype, as read
    # from Parquet) is written as the order, so a continued fit keeps it.
    carried = state.levels.orders or (None,) * len(design.factors)
    orders = [
        o if o is not None else c for o, c in zip(design.orders, carried, strict=True)
    ]
    return {
        "columns": list(design.columns),
        "factors": list(design.factors),
        "orders": [None if o is None else [str(v) for v in o] for o in orders],
        "levels": [[str(v) for v in levels] for levels in design.levels],
        "drop_first": [bool(d) for d in design.drop_first],
        "terms": [_term_json(term) for term in design.terms],
        "statistics": _statistics_json(state.levels.moments),
    }


def _term_json(term):
    """A model term: its parts (a numeric column's name, or ``[factor,
    reduced]``) and the numeric column its indicators multiply."""
    parts = [p if isinstance(p, str) else [int(p[0]), bool(p[1])] for p in term.parts]
    return {"parts": parts, "value": term.value}


def _statistics_json(statistic):
    if statistic is None:
        return None
    kind = type(statistic)
    return {
        "kind": kind.name,
        **{
            name: encode_field(getattr(statistic, name), field)
            for name, field in statistic_fields(kind).items()
        },
    }


def _library_version():
    from dask_linreg._version import __version__

    return __version__


# ---------------------------------------------------------------------------
# load


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
#: Top-level keys a file may leave out: the categorical design.
_OPTIONAL = {"design": (dict,), "rows_dropped": (int,)}


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
    document = parse(read_text(path), path)
    if not isinstance(document, dict):
        fail(path, "the top level is not a JSON object")
    if document.get("format") != FORMAT:
        fail(path, f"'format' is {document.get('format')!r}, expected {FORMAT!r}")
    if "format_version" not in document:
        fail(path, "the file has no 'format_version'")
    version = document["format_version"]
    if not is_int(version) or version not in _READABLE_VERSIONS:
        fail(
            path,
            f"format_version {version!r} is not supported (this library reads "
            f"versions {', '.join(map(str, _READABLE_VERSIONS))})",
        )
    if version == 1:
        document = _upgrade_v1(document)
    unknown = sorted(set(document) - set(_TOP_LEVEL) - set(_OPTIONAL))
    if unknown:
        fail(path, f"unknown key(s) {unknown}")
    for key, kinds in [*_TOP_LEVEL.items(), *_OPTIONAL.items()]:
        if key not in document:
            if key in _OPTIONAL:
                continue
            fail(path, f"the file has no {key!r}")
        value = document[key]
        if version == 1 and key == "y_is_1d" and value is None:
            continue
        if (
            not isinstance(value, kinds)
            or isinstance(value, bool)
            and bool not in kinds
        ):
            fail(path, f"{key!r} has the wrong type ({type(value).__name__})")
    try:
        return _build(document)
    except ValueError as error:
        if isinstance(error, ModelFileError):
            raise
        fail(path, str(error).rstrip("."))


def _build(document):
    """The estimator of a checked top level; ValueError names the field."""
    name = document["estimator"]
    registry = estimator_classes()
    if name not in registry:
        raise ValueError(
            f"unknown estimator {name!r}; expected one of {', '.join(sorted(registry))}"
        )
    cls = registry[name]
    n_features = document["n_features_in"]
    if n_features < 1:
        raise ValueError(f"'n_features_in' is {n_features}; expected at least 1")
    design = None
    if "design" in document:
        design = _read_design(document["design"], n_features, document)
    n_coef = n_features if design is None else design.n_coefficients()
    coef = decode_field(document["coef"], COEF, {}, "'coef'")
    if np.ndim(coef) not in (1, 2) or coef.shape[-1] != n_coef:
        raise ValueError(
            f"'coef' has shape {np.shape(coef)}; expected ({n_coef},) or "
            f"(n_targets, {n_coef})"
        )
    n_targets = 1 if coef.ndim == 1 else coef.shape[0]
    y_is_1d = document["y_is_1d"]
    if y_is_1d is None:
        y_is_1d = coef.ndim == 1
    if y_is_1d and coef.ndim != 1:
        raise ValueError("'y_is_1d' is true but 'coef' has one row per target")
    intercept = np.asarray(decode_field(document["intercept"], COEF, {}, "'intercept'"))
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

    dims = dimensions(estimator, n_coef, n_targets, y_is_1d)
    fields = fitted_fields(cls)
    fitted = document["fitted"]
    unknown = sorted(set(fitted) - set(fields))
    if unknown:
        raise ValueError(f"unknown fitted attribute(s) {unknown} of {name}")
    values = {}
    for attribute, field in fields.items():
        if attribute in fitted:
            values[attribute] = decode_field(
                fitted[attribute], field, dims, f"{attribute!r}"
            )
        elif not field.optional and document["format_version"] >= 2:
            raise ValueError(f"fitted attribute {attribute!r} of {name} is missing")
    statistics = document["statistics"]
    statistic = None if statistics is None else _read_statistics(statistics, dims)
    levels = None
    if design is not None:
        if statistic is None:
            raise ValueError("a model with categorical columns needs 'statistics'")
        levels = _read_levels(document["design"], design, n_targets, estimator)

    estimator.n_features_in_ = n_features
    if names is not None:
        estimator.feature_names_in_ = np.array(names, dtype=object)
    estimator.coef_ = coef
    estimator.intercept_ = float(intercept) if intercept.ndim == 0 else intercept
    for attribute, value in values.items():
        setattr(estimator, attribute, value)
    estimator._fit_state = FitState(
        statistic=statistic,
        solve_factor=None,
        y_is_1d=bool(y_is_1d),
        target_names=tuple(
            targets
            or (["y"] if n_targets == 1 else [f"y{i}" for i in range(n_targets)])
        ),
        weighted_fit=document["weighted_fit"],
        design=design,
        levels=levels,
        dropped=_rows_dropped(document),
    )
    if design is not None:
        estimator._store_design(design, design.coefficient_names())
    return estimator


def _rows_dropped(document):
    """The rows a ``missing="drop"`` fit left out (0 when not stored)."""
    dropped = document.get("rows_dropped", 0)
    if isinstance(dropped, bool) or not is_int(dropped) or dropped < 0:
        raise ValueError(f"'rows_dropped' is {dropped!r}; expected a count")
    return int(dropped)


def _read_design(stored, n_features, document):
    """The :class:`FactorDesign` of a file's ``design``, checked."""
    keys = ("columns", "factors", "orders", "levels", "drop_first", "statistics")
    # Files before interactions have no "terms": one term per column.
    check_keys(stored, keys + ("terms",) if "terms" in stored else keys, "'design'")
    columns, factors = stored["columns"], stored["factors"]

    def strings(value, where):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"'design' {where} must be a list of strings")
        return tuple(value)

    columns, factors = strings(columns, "columns"), strings(factors, "factors")
    if len(columns) != n_features or document["feature_names_in"] != list(columns):
        raise ValueError("'design' columns must be the feature_names_in")
    if (
        not factors
        or not set(factors) <= set(columns)
        or len(set(factors)) < len(factors)
    ):
        raise ValueError("'design' factors must be distinct columns")
    k = len(factors)
    orders, levels, drop = stored["orders"], stored["levels"], stored["drop_first"]
    for name, value in (("orders", orders), ("levels", levels), ("drop_first", drop)):
        if not isinstance(value, list) or len(value) != k:
            raise ValueError(f"'design' {name} must have one entry per factor")
    orders = tuple(
        None if o is None else np.asarray(strings(o, "orders"), dtype=object)
        for o in orders
    )
    levels = tuple(np.asarray(strings(lv, "levels"), dtype=object) for lv in levels)
    if any(len(lv) == 0 or len(set(lv)) < len(lv) for lv in levels):
        raise ValueError("'design' levels must be distinct and non-empty per factor")
    if not all(isinstance(d, bool) for d in drop):
        raise ValueError("'design' drop_first must be booleans")
    design = FactorDesign(columns, factors, orders, levels, tuple(drop))
    if "terms" not in stored:
        return replace(design, terms=design.main_terms(design.drop_first))
    terms = _read_terms(stored["terms"], design)
    # The stored terms are the model's whatever the estimator's encoding.
    return replace(design, terms=terms, formula_terms=(terms, terms))


def _read_terms(stored, design):
    """The :class:`ModelTerm` of a file's ``design`` ``terms``, checked."""
    if not isinstance(stored, list) or not stored:
        raise ValueError("'design' terms must be a non-empty list")
    terms = []
    for term in stored:
        check_keys(term, ("parts", "value"), "a 'design' term")
        parts, value = term["parts"], term["value"]
        if not isinstance(parts, list) or not parts:
            raise ValueError("a 'design' term's parts must be a non-empty list")
        checked = []
        for part in parts:
            if isinstance(part, str):
                checked.append(part)
            elif (
                isinstance(part, list)
                and len(part) == 2
                and is_int(part[0])
                and 0 <= part[0] < len(design.factors)
                and isinstance(part[1], bool)
            ):
                checked.append((int(part[0]), part[1]))
            else:
                raise ValueError(
                    "a 'design' term's part must be a column name or [factor, "
                    f"reduced] with a factor below {len(design.factors)}; got "
                    f"{part!r}"
                )
        if value is not None and value not in design.numeric:
            raise ValueError(
                f"a 'design' term's value must be a numeric column or null; got "
                f"{value!r}"
            )
        term = ModelTerm(tuple(checked), value)
        if value is None and not term.factors:
            raise ValueError("a 'design' term needs a value or a factor")
        terms.append(term)
    return tuple(terms)


def _read_levels(stored, design, n_targets, estimator):
    """The statistics of every level's indicator (levels sorted, as the
    pass merges them)."""
    sorted_levels = tuple(np.sort(np.asarray(lv, dtype=str)) for lv in design.levels)
    n_numeric = len(design.numeric)
    blocks = design.indicator_terms()
    sizes = [int(np.prod([len(sorted_levels[f]) for f in b.factors])) for b in blocks]
    q = n_numeric + sum(sizes) + n_targets
    dims = {"q": (q,), "q + 1": (q + 1,)}
    moments = _read_statistics(stored["statistics"], dims)
    if not isinstance(moments, Moments):
        raise ValueError("'design' statistics must be of kind 'moments'")
    return LevelMoments(
        moments,
        sorted_levels,
        n_numeric,
        design.factors,
        getattr(estimator, "max_levels", None),
        None if blocks == main_effects(len(design.factors)) else blocks,
    )


def _check_params(estimator, n_targets):
    """The checks fit makes of the parameters before it reads data."""
    estimator._check_params(n_targets=n_targets)
    if "cv" in estimator.get_params(deep=False):
        check_cv(estimator.cv)


def _estimator(cls, stored, n_targets):
    """The estimator of the stored parameters, checked by its own rules."""
    known = cls().get_params(deep=False)
    unknown = sorted(set(stored) - set(known))
    if unknown:
        raise ValueError(f"{cls.__name__} has no parameter(s) {unknown}")
    params = {key: decode(value, f"parameter {key!r}") for key, value in stored.items()}
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
    fields = statistic_fields(kind)
    missing = sorted(set(fields) - set(statistics))
    unknown = sorted(set(statistics) - set(fields) - {"kind"})
    if missing or unknown:
        raise ValueError(
            f"'statistics' of kind {name!r} "
            + (f"has no {missing}" if missing else f"has unknown keys {unknown}")
        )
    values = {
        key: decode_field(statistics[key], field, dims, f"{key!r}")
        for key, field in fields.items()
    }
    if values["positive_count"] > values["count"]:
        raise ValueError("'statistics' has positive_count above count")
    return kind(**values)
