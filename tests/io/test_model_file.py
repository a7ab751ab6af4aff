"""Model files: exact round trips, and clear errors for bad files."""

import json
import pickle
import time

import dask.array as da
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold, PredefinedSplit, ShuffleSplit

import dask_linreg.io._json as _json
from dask_linreg import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    LinearRegression,
    ModelFileError,
    Ridge,
    RidgeCV,
    load,
)
from dask_linreg.io._cli import main
from dask_linreg.io._codec import encode_param
from dask_linreg.io._model_file import UnstoredCV
from dask_linreg.io._schema import fitted_fields

from ..conftest import make_regression

N = 300
LABELS = np.arange(N) % 3
SPLITS = list(KFold(3).split(np.empty((N, 1))))
ONE, TWO = 1, 2  # targets

ESTIMATORS = [
    (LinearRegression(), ONE),
    (LinearRegression(solver="exact"), ONE),
    (LinearRegression(solver="qr", fit_intercept=False), ONE),
    (LinearRegression(fit_intercept=False), TWO),  # intercept_ 0.0 with 2 targets
    (LinearRegression(positive=True), ONE),
    (Ridge(alpha=[1.0, 3.0]), TWO),
    (Ridge(alpha=np.array([1.0, 3.0]), solver="exact"), TWO),
    (RidgeCV(), ONE),  # alphas a tuple, GCV
    (RidgeCV(alphas=[0.1, 1.0, 10.0], cv=3), ONE),
    (RidgeCV(alphas=[0.1, 1.0], cv=LABELS), ONE),
    (RidgeCV(alphas=[0.1, 1.0], cv=list(LABELS)), ONE),
    (RidgeCV(alphas=[0.1, 1.0], cv=LABELS.astype(str)), ONE),
    (RidgeCV(alphas=[0.1, 1.0], cv=KFold(3, shuffle=True, random_state=0)), ONE),
    (RidgeCV(alphas=[0.1, 1.0], cv=PredefinedSplit(LABELS)), ONE),
    (RidgeCV(alphas=[0.1, 1.0], cv=SPLITS), ONE),
    (RidgeCV(alphas=[0.1, 1.0], cv=3, alpha_per_target=True), TWO),
    (RidgeCV(alphas=[0.1, 1.0], alpha_per_target=True), TWO),
    (ElasticNet(alpha=0.05, l1_ratio=0.3), ONE),
    (ElasticNet(alpha=0.05), TWO),  # n_iter_ per target
    (Lasso(alpha=0.01), ONE),
    (ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=10, cv=3), ONE),
    (ElasticNetCV(alphas=np.array([0.1, 0.01]), cv=LABELS), ONE),
    (LassoCV(alphas=10, cv=3), ONE),
    (LassoCV(alphas=5, cv=KFold(3)), ONE),
]


def assert_same(loaded, original, where):
    """Equal values of the same types: arrays of the same dtype, splitters
    of the same class and parameters."""
    if isinstance(original, np.ndarray):
        assert isinstance(loaded, np.ndarray), where
        assert loaded.dtype == original.dtype, where
        np.testing.assert_array_equal(loaded, original, err_msg=where)
    elif isinstance(original, list | tuple):
        assert type(loaded) is type(original), where
        assert len(loaded) == len(original), where
        for a, b in zip(loaded, original, strict=True):
            assert_same(a, b, where)
    elif type(original).__module__.startswith("sklearn."):
        assert type(loaded) is type(original), where
        assert vars(loaded).keys() == vars(original).keys(), where
        for key, value in vars(original).items():
            assert_same(vars(loaded)[key], value, f"{where}.{key}")
    else:
        assert type(loaded) is type(original) or (
            isinstance(original, np.floating | np.integer) and loaded == original.item()
        ), where
        assert loaded == original, where


@pytest.mark.parametrize("estimator, n_targets", ESTIMATORS, ids=lambda e: repr(e))
def test_round_trip_is_bit_for_bit(estimator, n_targets, tmp_path):
    X, Y = make_regression(N, 4, 2, seed=1, offset=10.0)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    fitted = estimator.fit(frame, Y if n_targets == TWO else Y[:, 0])
    path = tmp_path / "model.json"
    fitted.save(path, metadata={"source": "test"})
    loaded = load(path)
    assert type(loaded) is type(fitted)
    original_params = fitted.get_params()
    assert loaded.get_params().keys() == original_params.keys()
    for key, value in original_params.items():
        assert_same(loaded.get_params()[key], value, key)
    np.testing.assert_array_equal(loaded.coef_, fitted.coef_)
    assert_same(loaded.intercept_, fitted.intercept_, "intercept_")
    assert list(loaded.feature_names_in_) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(loaded.predict(frame), fitted.predict(frame))
    for attribute, field in fitted_fields(type(fitted)).items():
        assert hasattr(loaded, attribute) == hasattr(fitted, attribute), attribute
        if not hasattr(fitted, attribute):
            assert field.optional, attribute
            continue
        value = getattr(fitted, attribute)
        if value is None or np.ndim(value) == 0:
            assert getattr(loaded, attribute) == value, attribute
        else:
            assert_same(getattr(loaded, attribute), np.asarray(value), attribute)
    if (
        isinstance(fitted, LinearRegression)
        and n_targets == ONE
        and not fitted.positive
    ):
        # The statistics travel too: inference and merging work after loading.
        np.testing.assert_allclose(
            loaded.inference().bse, fitted.inference().bse, rtol=1e-12
        )
        merged = loaded.merge(fitted)
        np.testing.assert_allclose(merged.coef_, fitted.coef_, rtol=1e-10)
    assert json.loads(path.read_text())["metadata"]["source"] == "test"
    # Saving the loaded model writes the same model again.
    loaded.save(tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    first = json.loads(path.read_text())
    first.pop("metadata"), again.pop("metadata")
    if first["target_names"] is None:  # filled in on loading
        first.pop("target_names"), again.pop("target_names")
    assert again == first


@pytest.mark.parametrize("estimator, n_targets", ESTIMATORS, ids=lambda e: repr(e))
def test_each_class_declares_every_fitted_attribute_it_sets(estimator, n_targets):
    X, Y = make_regression(N, 4, 2, seed=1)
    fitted = clone(estimator).fit(X, Y if n_targets == TWO else Y[:, 0])
    fields = fitted_fields(type(fitted))
    own_keys = {"coef_", "intercept_", "n_features_in_", "feature_names_in_"}
    public = {name for name in vars(fitted) if name.endswith("_")} - own_keys
    assert public <= set(fields)
    # Some are computed on first access (LinearRegression's singular_).
    available = {name for name in fields if hasattr(fitted, name)}
    assert {name for name, field in fields.items() if not field.optional} <= available


def test_the_classes_a_model_file_may_hold_are_the_exported_estimators():
    import dask_linreg.linear_model
    from dask_linreg.io._schema import estimator_classes

    exported = {
        name
        for name in dask_linreg.linear_model.__all__
        if hasattr(getattr(dask_linreg.linear_model, name), "fit")
    }
    assert set(estimator_classes()) == exported


def fit_small(estimator, cv_data=False):
    X, y = make_regression(N, 2, seed=2)
    return estimator.fit(X, y)


def test_fold_labels_of_a_series_come_back_as_an_array(tmp_path):
    model = fit_small(RidgeCV(cv=pd.Series(LABELS, name="fold")))
    model.save(tmp_path / "m.json")
    loaded = load(tmp_path / "m.json")
    assert isinstance(loaded.cv, np.ndarray)
    np.testing.assert_array_equal(loaded.cv, LABELS)
    np.testing.assert_array_equal(loaded.folds_, model.folds_)


@pytest.mark.parametrize("cls", [RidgeCV, ElasticNetCV])
def test_a_cv_the_file_cannot_hold_is_marked_and_refitting_it_raises(cls, tmp_path):
    X, y = make_regression(N, 2, seed=2)
    X, y = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    model = cls(cv=da.from_array(LABELS, chunks=100)).fit(X, y)
    model.save(tmp_path / "m.json")
    loaded = load(tmp_path / "m.json")
    assert loaded.cv == UnstoredCV("a dask.Array of shape (300,)")
    assert "UnstoredCV('a dask.Array of shape (300,)')" in repr(loaded)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.folds_, model.folds_)
    with pytest.raises(
        ValueError, match=r"cv of this model was a dask.Array .*set_params"
    ):
        loaded.fit(X.compute(), y.compute())
    # The mark survives another round trip.
    loaded.save(tmp_path / "again.json")
    assert load(tmp_path / "again.json").cv == loaded.cv


class OwnSplitter:
    """A splitter from outside scikit-learn: its folds are not stored."""

    def split(self, X, y=None, groups=None):
        return KFold(3).split(X)

    def __repr__(self):
        return "OwnSplitter()"


def test_a_splitter_from_outside_scikit_learn_is_marked(tmp_path):
    fit_small(RidgeCV(cv=OwnSplitter())).save(tmp_path / "m.json")
    assert load(tmp_path / "m.json").cv == UnstoredCV("OwnSplitter()")
    # A scikit-learn splitter whose parameters JSON cannot hold, too.
    random = ShuffleSplit(3, random_state=np.random.RandomState(0))
    assert encode_param("cv", random)["type"] == "unstored"


def test_metadata_and_parameters_that_cannot_be_written_raise(tmp_path):
    model = fit_small(LinearRegression())
    deep = {}
    for _ in range(40):
        deep = {"a": deep}
    with pytest.raises(ValueError, match="metadata nests more than 31 levels"):
        model.save(tmp_path / "m.json", metadata=deep)
    deepest = {}
    for _ in range(30):  # 31 levels with the metadata itself: 32 in the file
        deepest = {"a": deepest}
    model.save(tmp_path / "deepest.json", metadata=deepest)
    assert load(tmp_path / "deepest.json").n_features_in_ == 2
    with pytest.raises(TypeError, match="metadata cannot be written.*not JSON"):
        model.save(tmp_path / "m.json", metadata={"when": object()})
    with pytest.raises(TypeError, match="metadata must be a dict or None; got list"):
        model.save(tmp_path / "m.json", metadata=[1])
    with pytest.raises(TypeError, match=r"Parameter split_every=.* cannot be written"):
        encode_param("split_every", object())
    assert not (tmp_path / "m.json").exists()


# --- Files written by the previous format (version 1) still load.

V1_FILES = {
    "exact": '{"format":"dask-linreg-model","format_version":1,"library_version":"0.1.0","estimator":"LinearRegression","params":{"fit_intercept":true,"positive":false,"solver":"exact","split_every":null},"n_features_in":2,"feature_names_in":null,"coef":{"shape":[2],"values":[1.0615384615384615,0.2692307692307692]},"intercept":{"shape":[],"values":[0.038461538461538325]},"y_is_1d":true,"target_names":["y"],"weighted_fit":false,"fitted":{"solver_":"exact","digits_":15.653559774527022,"n_passes_":1,"rank_":2,"singular_":{"shape":[2],"values":[4.2325437031938975,1.5552836184718937]}},"statistics":{"kind":"exact","count":6,"positive_count":6,"log_weight_sum":0.0,"exponent":-2,"integers":[[24,60,20,70],[60,220,60,252],[20,60,28,72],[70,252,72,291]]},"metadata":{}}',  # noqa: E501
    "enet": '{"format":"dask-linreg-model","format_version":1,"library_version":"0.1.0","estimator":"ElasticNet","params":{"alpha":0.1,"fit_intercept":true,"l1_ratio":0.5,"max_iter":1000,"positive":false,"split_every":null,"tol":0.0001},"n_features_in":2,"feature_names_in":null,"coef":{"shape":[2,2],"values":[1.0416338312317026,0.16359002827257735,-1.0584659464509276,-0.0437771703848976]},"intercept":{"shape":[2],"values":[0.17625706502692884,5.599312508114734]},"y_is_1d":false,"target_names":null,"weighted_fit":false,"fitted":{"n_passes_":1,"n_iter_":[5,4]},"statistics":{"kind":"moments","count":6,"positive_count":6,"log_weight_sum":0.0,"weight_sum":6.0,"shift":{"shape":[4],"values":[2.5,0.8333333333333334,2.9166666666666665,2.9166666666666665]},"offset":{"shape":[4],"values":[0.0,-5.551115123125783e-17,1.4802973661668753e-16,1.4802973661668753e-16]},"comoment":{"shape":[4,4],"values":[17.5,2.5,19.25,-19.25,2.5,2.833333333333333,3.4166666666666665,-3.083333333333333,19.25,3.4166666666666665,21.708333333333332,-21.041666666666664,-19.25,-3.083333333333333,-21.041666666666664,21.708333333333332]}},"metadata":{}}',  # noqa: E501
    "ridgecv": '{"format":"dask-linreg-model","format_version":1,"library_version":"0.1.0","estimator":"RidgeCV","params":{"alpha_per_target":false,"alphas":[0.1,1.0],"cv":[0,1,0,1,0,1],"fit_intercept":true,"scoring":null,"split_every":null},"n_features_in":2,"feature_names_in":null,"coef":{"shape":[2],"values":[1.0090206185567012,0.23324742268041238]},"intercept":{"shape":[],"values":[0.1997422680412364]},"y_is_1d":true,"target_names":null,"weighted_fit":false,"fitted":{"solver_":"cholesky","digits_":15.03011461715404,"n_passes_":1,"alpha_":1.0,"best_score_":0.938338981924508},"statistics":{"kind":"moments","count":6,"positive_count":6,"log_weight_sum":0.0,"weight_sum":6.0,"shift":{"shape":[3],"values":[2.0,1.3333333333333333,2.5]},"offset":{"shape":[3],"values":[0.5,-0.49999999999999994,0.4166666666666667]},"comoment":{"shape":[3,3],"values":[17.5,2.5,19.25,2.5,2.8333333333333335,3.416666666666667,19.25,3.416666666666667,21.708333333333336]}},"metadata":{}}',  # noqa: E501
}
V1_DATA = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 2.0]])


@pytest.mark.parametrize(
    "name, reference",
    [
        ("exact", LinearRegression(solver="exact")),
        ("enet", ElasticNet(alpha=0.1)),
        ("ridgecv", RidgeCV(alphas=[0.1, 1.0], cv=[0, 1, 0, 1, 0, 1])),
    ],
)
def test_version_1_files_still_load(name, reference, tmp_path):
    path = tmp_path / "v1.json"
    path.write_text(V1_FILES[name])
    model = load(path)
    assert repr(model) == repr(reference)
    document = json.loads(V1_FILES[name])
    coef = np.reshape(document["coef"]["values"], document["coef"]["shape"])
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.predict(V1_DATA).shape[0] == 5
    if name == "exact":
        assert model.inference().bse.shape == (3,)
    if name == "enet":
        np.testing.assert_array_equal(model.n_iter_, [5, 4])


# --- The catalogue of bad files.


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """A valid model file of each class, as a JSON document."""
    folder = tmp_path_factory.mktemp("good")
    X, y = make_regression(60, 2, seed=2)
    models = [
        LinearRegression(),
        LinearRegression(solver="exact"),
        Ridge(),
        RidgeCV(alphas=[0.1, 1.0, 10.0], cv=3),
        ElasticNet(),
        Lasso(),
        ElasticNetCV(alphas=4, cv=3),
        LassoCV(alphas=4, cv=3),
    ]
    texts = {}
    for model in models:
        name = type(model).__name__ + (
            "-exact" if model.get_params().get("solver") == "exact" else ""
        )
        model.fit(X, y).save(folder / f"{name}.json")
        texts[name] = (folder / f"{name}.json").read_text()
    return texts


def write(tmp_path, content, name="bad.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def expect_error(path, message):
    """load fails with a ModelFileError naming the file and the problem."""
    with pytest.raises(ModelFileError, match=message) as info:
        load(path)
    text = str(info.value)
    assert text.startswith(f"{path} is not a valid dask-linreg model file: ")
    assert "\n" not in text


def edit(document, change):
    change(document)
    return document


def _set(*keys_and_value):
    *keys, last, value = keys_and_value

    def change(document):
        for key in keys:
            document = document[key]
        document[last] = value

    return change


def _pop(*keys):
    *keys, last = keys

    def change(document):
        for key in keys:
            document = document[key]
        document.pop(last)

    return change


BAD_DOCUMENTS = [
    ("a list", lambda d: [1, 2], "the top level is not a JSON object"),
    ("other format", _set("format", "onnx"), "'format' is 'onnx'"),
    ("wrong version", _set("format_version", 3), "format_version 3 is not supported"),
    ("bool version", _set("format_version", True), "format_version True is not"),
    ("missing version", _pop("format_version"), "has no 'format_version'"),
    ("unknown class", _set("estimator", "os.system"), "unknown estimator 'os.system'"),
    ("missing coef", _pop("coef"), "has no 'coef'"),
    ("unknown key", _set("coefs", 1), r"unknown key\(s\) \['coefs'\]"),
    ("y_is_1d text", _set("y_is_1d", "yes"), r"'y_is_1d' has the wrong type \(str\)"),
    ("metadata list", _set("metadata", []), "'metadata' has the wrong type"),
    (
        "coef shape",
        _set("coef", "shape", [3]),
        r"'coef' has 2 values but its shape \[3\] needs 3",
    ),
    ("coef width", _set("coef", "shape", [1, 2]), "'y_is_1d' is true but 'coef'"),
    ("coef rows", _set("coef", "shape", [2, 1]), r"'coef' has shape \(2, 1\)"),
    ("coef extra key", _set("coef", "dtype", "f8"), "'coef' must be an object with"),
    (
        "intercept shape",
        _set("intercept", "shape", [1]),
        r"'intercept' has shape \(1,\)",
    ),
    ("text numbers", _set("coef", "values", ["1", "2"]), "'coef' must hold numbers"),
    ("bool numbers", _set("coef", "values", [True, 2]), "'coef' must hold numbers"),
    ("huge integer", _set("coef", "values", [10**400, 1]), "beyond float64"),
    (
        "huge float",
        lambda d: json.dumps(edit(d, _set("coef", "values", [12345.5, 1]))).replace(
            "12345.5", "1e999"
        ),
        "'coef' holds a number beyond float64",
    ),
    (
        "huge float param",
        lambda d: json.dumps(edit(d, _set("params", "split_every", 12345.5))).replace(
            "12345.5", "-1e999"
        ),
        "parameter 'split_every' is a number beyond float64",
    ),
    ("n_features", _set("n_features_in", 0), "'n_features_in' is 0"),
    (
        "unknown param",
        _set("params", "copy_X", True),
        r"has no parameter\(s\) \['copy_X'\]",
    ),
    (
        "feature names",
        _set("feature_names_in", ["a"]),
        "feature_names_in must be 2 strings or null",
    ),
    ("target names", _set("target_names", [1]), "target_names must be 1 strings"),
    (
        "statistics shape",
        _set("statistics", "comoment", "shape", [1, 9]),
        r"'comoment' has shape \(1, 9\); expected \(q, q\) = \(3, 3\)",
    ),
    ("statistics kind", _set("statistics", "kind", "svd"), "kind 'svd' is unknown"),
    (
        "statistics key",
        _pop("statistics", "comoment"),
        r"'statistics' of kind 'moments' has no \['comoment'\]",
    ),
    ("negative count", _set("statistics", "count", -1), "'count' must hold integers"),
    (
        "positive count",
        _set("statistics", "positive_count", 10**6),
        "positive_count above count",
    ),
    (
        "fitted attribute",
        _set("fitted", "__class__", "x"),
        r"unknown fitted attribute\(s\) \['__class__'\]",
    ),
    ("rank text", _set("fitted", "rank_", "2"), "'rank_' must hold integers"),
    ("rank negative", _set("fitted", "rank_", -1), "'rank_' must hold integers from 0"),
    ("solver_", _set("fitted", "solver_", "magic"), "'solver_' must be one of"),
    ("digits_ bool", _set("fitted", "digits_", True), "'digits_' must hold numbers"),
    (
        "n_passes_",
        _set("fitted", "n_passes_", 0),
        "'n_passes_' must hold integers from 1",
    ),
    (
        "singular_ scalar",
        _set("fitted", "singular_", 1.0),
        r"'singular_' has shape \(\); expected \(n_singular\)",
    ),
    ("missing rank_", _pop("fitted", "rank_"), "fitted attribute 'rank_' of"),
]


@pytest.mark.parametrize(
    "change, message", [b[1:] for b in BAD_DOCUMENTS], ids=[b[0] for b in BAD_DOCUMENTS]
)
def test_bad_model_files_raise_a_clear_error(change, message, documents, tmp_path):
    document = json.loads(documents["LinearRegression"])
    expect_error(write(tmp_path, change(document) or document), message)


BAD_FITTED = [
    (
        "RidgeCV",
        _set("fitted", "fold_scores_", "shape", [3, 3, 2]),
        r"'fold_scores_' has 9 values but its shape",
    ),
    (
        "RidgeCV",
        lambda d: d["fitted"].update(
            fold_scores_={"shape": [2, 3, 1], "values": [0.0] * 6}
        ),
        r"'fold_scores_' has shape \(2, 3, 1\); expected \(n_folds, n_alphas, "
        r"n_targets\) = \(3, 3, 1\)",
    ),
    (
        "RidgeCV",
        _set("fitted", "alpha_", {"shape": [1], "values": [1.0]}),
        r"'alpha_' has shape \(1,\); expected a scalar",
    ),
    (
        "RidgeCV",
        _set("fitted", "best_score_", "nan"),
        "'best_score_' must hold numbers",
    ),
    (
        "RidgeCV",
        _set("fitted", "folds_", {"shape": [3], "values": [0, 1, 2]}),
        "'folds_' is an object without a 'type'",
    ),
    (
        "RidgeCV",
        _set("fitted", "folds_", "dtype", "<M8[ns]"),
        "'folds_' has an unknown dtype '<M8\\[ns\\]'",
    ),
    (
        "RidgeCV",
        _set("fitted", "folds_", "values", [0.5, 1, 2]),
        "'folds_' values do not fit its dtype <i8",
    ),
    ("RidgeCV", _set("fitted", "folds_", None), None),  # allowed: cv=None
    ("RidgeCV", _set("fitted", "scores_", None), "'scores_' must not be null"),
    ("RidgeCV", _pop("fitted", "scores_"), "fitted attribute 'scores_' of RidgeCV is"),
    (
        "ElasticNetCV",
        _set("fitted", "mse_path_", "shape", [3, 4]),
        r"'mse_path_' has shape \(3, 4\); expected \(n_l1_ratio, n_alphas, n_folds\) "
        r"= \(4, 3\)",
    ),
    (
        "ElasticNetCV",
        _set("fitted", "alphas_", "shape", [2, 2]),
        r"'alphas_' has shape \(2, 2\); expected \(n_l1_ratio, n_alphas\) = \(2,\)",
    ),
    ("LassoCV", _set("fitted", "n_iter_", 1.5), "'n_iter_' must hold integers"),
    (
        "ElasticNet",
        _set("fitted", "n_iter_", [3]),
        r"'n_iter_' must be an object with the keys 'shape', 'values'",
    ),
    ("Lasso", _set("fitted", "dual_gap_", "x"), "'dual_gap_' must hold numbers"),
    (
        "LinearRegression-exact",
        _set("statistics", "integers", "values", [1.5] * 16),
        "'integers' must hold integers",
    ),
    (
        "LinearRegression-exact",
        _set("statistics", "exponent", 0.5),
        "'exponent' must hold integers",
    ),
]


@pytest.mark.parametrize(
    "name, change, message",
    BAD_FITTED,
    ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_FITTED)],
)
def test_fitted_attributes_of_each_class_are_checked(
    name, change, message, documents, tmp_path
):
    document = json.loads(documents[name])
    change(document)
    path = write(tmp_path, document)
    if message is None:
        assert load(path).folds_ is None
    else:
        expect_error(path, message)


def _splitter(name, **params):
    return {"type": "splitter", "class": name, "params": params}


BAD_PARAMS = [
    ("LinearRegression", "positive", 1, "'positive' .* must be a bool. Got 1 "),
    (
        "LinearRegression",
        "split_every",
        1,
        r"'split_every' .* must be None or an int in the range \[2, inf\)\. Got 1",
    ),
    (
        "LinearRegression",
        "solver",
        "magic",
        "'solver' .* must be a str among {'auto', 'cholesky', 'qr', 'exact'}",
    ),
    ("Ridge", "alpha", "abc", r"'alpha' .* must be a float in the range \[0\.0, inf\)"),
    ("Ridge", "alpha", -5.0, r"or a non-empty array-like .*\. Got -5\.0 instead"),
    ("Ridge", "alpha", None, "'alpha' parameter of Ridge must be .* Got None instead"),
    ("Ridge", "alpha", [1.0, 2.0], "Number of targets and number of penalties"),
    ("Ridge", "solver", "xyz", "'solver' .* must be a str among .* Got 'xyz'"),
    ("Ridge", "fit_intercept", "yes", "'fit_intercept' .* a bool. Got 'yes' instead"),
    (
        "ElasticNet",
        "l1_ratio",
        2,
        r"'l1_ratio' .* must be a float in the range \[0\.0, 1\.0\]\. Got 2 instead",
    ),
    (
        "ElasticNet",
        "alpha",
        "abc",
        r"'alpha' .* in the range \[0\.0, inf\)\. Got 'abc'",
    ),
    (
        "ElasticNet",
        "max_iter",
        0,
        r"'max_iter' .* an int in the range \[1, inf\)\. Got 0",
    ),
    ("ElasticNet", "tol", -1.0, r"'tol' .* in the range \[0\.0, inf\)\. Got -1\.0"),
    ("Lasso", "alpha", -5, r"'alpha' parameter of Lasso must be .*\. Got -5 instead"),
    ("Lasso", "positive", "no", "'positive' parameter of Lasso must be a bool"),
    ("RidgeCV", "alphas", [], r"'alphas' .* Got \[\] instead\. It has shape \(0,\)"),
    ("RidgeCV", "alphas", [-1.0], r"'alphas' .* \(0\.0, inf\)\. Got \[-1\.0\] instead"),
    ("RidgeCV", "alphas", "abc", r"'alphas' .* of floats in the range \(0\.0, inf\)"),
    ("RidgeCV", "cv", -1, "'cv' .* Got -1 instead. Use cv=None"),
    ("RidgeCV", "cv", 1.5, "'cv' parameter of RidgeCV must be None, an int in the"),
    ("RidgeCV", "cv", "5", "'cv' .* Got '5' instead. A string is not a cv"),
    ("RidgeCV", "cv", [], r"'cv' .* Got \[\] instead\. cv as fold labels has shape"),
    ("RidgeCV", "cv", [[0, 1], [1, 0]], r"'cv' .* fold labels has shape \(2, 2\)"),
    ("RidgeCV", "scoring", "accuracy", "'scoring' .* must be None or a str among"),
    ("RidgeCV", "alpha_per_target", 0, "'alpha_per_target' .* must be a bool"),
    (
        "ElasticNetCV",
        "alphas",
        [],
        r"'alphas' .* must be an int in the range \[1, inf\)",
    ),
    ("ElasticNetCV", "alphas", 0, r"or a non-empty array-like .*\. Got 0 instead"),
    ("ElasticNetCV", "l1_ratio", 2, r"'l1_ratio' .* \[0\.0, 1\.0\]\. Got 2 instead"),
    (
        "ElasticNetCV",
        "l1_ratio",
        "abc",
        r"'l1_ratio' .* must be a float in the range \[0\.0, 1\.0\] or a non-empty",
    ),
    ("ElasticNetCV", "cv", -1, r"'cv' .* Got -1 instead\. Use cv=None \(5 folds\)"),
    ("ElasticNetCV", "cv", "5", "'cv' parameter of ElasticNetCV must be None, an int"),
    ("ElasticNetCV", "eps", 0, r"'eps' .* in the range \(0\.0, inf\)\. Got 0 instead"),
    ("LassoCV", "cv", True, "'cv' .* Got True instead"),
    ("LassoCV", "max_iter", 1.5, r"'max_iter' .* an int in the range \[1, inf\)"),
]


@pytest.mark.parametrize(
    "name, param, value, message",
    BAD_PARAMS,
    ids=[f"{b[0]}-{b[1]}={b[2]!r}" for b in BAD_PARAMS],
)
def test_every_parameter_is_checked_by_the_estimators_rules(
    name, param, value, message, documents, tmp_path
):
    document = json.loads(documents[name])
    document["params"][param] = value
    expect_error(
        write(tmp_path, document), f"parameter '{param}' is invalid: .*{message}"
    )


BAD_CODED_PARAMS = [
    (_splitter("os.system"), "names the splitter 'os.system'; expected one of KFold"),
    (_splitter("KFold", n_splits=1), "is an invalid KFold: k-fold cross-validation"),
    (_splitter("KFold", command="rm"), "has parameters KFold does not take"),
    ({"type": "pickle"}, "parameter 'cv' has an unknown type 'pickle'"),
    ({"a": 1}, "parameter 'cv' is an object without a 'type'"),
    ({"type": "tuple", "items": 3}, "parameter 'cv' items must be a list"),
    (
        {"type": "ndarray", "dtype": "<i8", "shape": [2], "values": [1]},
        r"parameter 'cv' has 1 values but its shape \[2\] needs 2",
    ),
    (
        {"type": "ndarray", "dtype": "|u1", "shape": [1], "values": [300]},
        "parameter 'cv' values are out of the range of |u1",
    ),
    (
        {"type": "ndarray", "dtype": "object", "shape": [1], "values": [1]},
        "parameter 'cv' of dtype object must hold strings",
    ),
    (
        {"type": "unstored", "description": 3},
        "parameter 'cv' description must be a string",
    ),
]


@pytest.mark.parametrize(
    "value, message", BAD_CODED_PARAMS, ids=[m for _, m in BAD_CODED_PARAMS]
)
def test_stored_cv_objects_are_checked(value, message, documents, tmp_path):
    document = json.loads(documents["RidgeCV"])
    document["params"]["cv"] = value
    expect_error(write(tmp_path, document), message)


# --- Bad text: size, encoding, nesting, numbers.


def test_deep_nesting_is_refused_quickly_without_recursion(tmp_path):
    path = write(tmp_path, "[" * 10_000 + "]" * 10_000)
    start = time.perf_counter()
    expect_error(path, "it nests arrays and objects more than 32 levels deep")
    assert time.perf_counter() - start < 1.0
    expect_error(write(tmp_path, '{"a":' * 100_000), "more than 32 levels deep")


def test_deep_metadata_in_a_model_file_is_refused(documents, tmp_path):
    document = json.loads(documents["LinearRegression"])
    text = json.dumps(document)
    deep = text.replace(
        '"metadata": {', '"metadata": {"x": ' + "[" * 40 + "]" * 40 + ", "
    )
    expect_error(write(tmp_path, deep), "more than 32 levels deep")


def test_brackets_inside_strings_do_not_count_as_nesting(documents, tmp_path):
    document = json.loads(documents["LinearRegression"])
    document["feature_names_in"] = ['[[[{"\\"' * 20, "\\\\" + "[" * 50]
    model = load(write(tmp_path, document))
    assert list(model.feature_names_in_) == document["feature_names_in"]


def test_a_file_over_the_size_cap_is_refused(documents, tmp_path, monkeypatch):
    path = write(tmp_path, documents["LinearRegression"])
    size = path.stat().st_size
    monkeypatch.setattr(_json, "MAX_FILE_BYTES", size)
    assert load(path).n_features_in_ == 2  # at the cap
    monkeypatch.setattr(_json, "MAX_FILE_BYTES", size - 1)
    expect_error(path, f"it has {size:,} bytes, more than the {size - 1:,} a model")


def test_a_pickle_is_never_unpickled(tmp_path):
    model = fit_small(LinearRegression())
    expect_error(
        write(tmp_path, pickle.dumps(model)), "it is a pickle, which load never"
    )


BAD_TEXTS = [
    ("empty", b"", "it is not JSON"),
    ("not json", b"this is not JSON", "it is not JSON"),
    (
        "binary",
        bytes(range(256)) * 4,
        r"it is not UTF-8 text \(byte 0x80 at offset 128",
    ),
    ("latin-1", '{"format": "café"}'.encode("latin-1"), "it is not UTF-8 text"),
    ("pickle protocol 0", pickle.dumps([1], protocol=0), "it is not JSON"),
    ("NaN", b'{"a": NaN}', "it contains NaN"),
    ("long integer", b'{"a": ' + b"9" * 5000 + b"}", "an integer of 5000 digits"),
    ("duplicate key", b'{"format": 1, "format": 2}', "the key 'format' appears twice"),
]


@pytest.mark.parametrize(
    "content, message", [b[1:] for b in BAD_TEXTS], ids=[b[0] for b in BAD_TEXTS]
)
def test_bad_text_raises_a_clear_error(content, message, tmp_path):
    expect_error(write(tmp_path, content), message)


def test_truncated_file_and_byte_order_mark(documents, tmp_path):
    text = documents["LinearRegression"]
    expect_error(write(tmp_path, text[:120]), r"it is not JSON \(or is truncated\)")
    bom = write(tmp_path, "\ufeff" + text, name="bom.json")
    assert load(bom).n_features_in_ == 2


def test_missing_file_and_unfitted_model_errors(tmp_path):
    with pytest.raises(ModelFileError, match="Cannot read model file .*absent.json"):
        load(tmp_path / "absent.json")
    with pytest.raises(ModelFileError, match="Cannot read model file .*Is a directory"):
        load(tmp_path)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LinearRegression().save(tmp_path / "m.json")


@pytest.mark.parametrize(
    "content, message",
    [
        ("[" * 10_000 + "]" * 10_000, "more than 32 levels deep"),
        (bytes(range(256)), "it is not UTF-8 text"),
        (b"\x80\x04garbage", "it is a pickle"),
        ('{"format": "dask-linreg-model", "format_version": 2}', "has no 'library_"),
    ],
    ids=["deep", "binary", "pickle", "incomplete"],
)
def test_cli_predict_with_a_bad_model_prints_one_line(
    content, message, tmp_path, capsys
):
    path = write(tmp_path, content)
    code = main(["predict", str(path), "data.csv", "--output", "out.parquet"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith(f"dask-linreg: error: {path} is not a valid dask-linreg")
    assert message in err


def test_a_model_loaded_without_statistics_predicts_and_refuses_the_rest(tmp_path):
    import json

    from dask_linreg import LinearRegression, load

    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(50)
    model = LinearRegression().fit(X, y)
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    document["statistics"] = None
    path.write_text(json.dumps(document))
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    for call in (
        lambda: loaded.inference(),
        lambda: loaded.partial_fit(X, y),
        lambda: model.merge(loaded),
    ):
        with pytest.raises(ValueError, match="needs the statistics of the fit"):
            call()
    with pytest.raises(TypeError, match="path must be a str or path-like; got None"):
        load(None)
