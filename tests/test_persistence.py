"""Model files: exact round trips, and clear errors for bad files."""

import json

import numpy as np
import pandas as pd
import pytest

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

from .conftest import make_regression

ESTIMATORS = [
    LinearRegression(),
    LinearRegression(solver="exact"),
    LinearRegression(solver="qr", fit_intercept=False),
    LinearRegression(positive=True),
    Ridge(alpha=[1.0, 3.0]),
    RidgeCV(alphas=[0.1, 1.0, 10.0], cv=3),
    ElasticNet(alpha=0.05, l1_ratio=0.3),
    Lasso(alpha=0.01),
    ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=10, cv=3),
    LassoCV(alphas=10, cv=3),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: repr(e))
def test_round_trip_is_bit_for_bit(estimator, tmp_path):
    X, Y = make_regression(300, 4, 2, seed=1, offset=10.0)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    y = Y if isinstance(estimator, Ridge) else Y[:, 0]
    fitted = estimator.fit(frame, y)
    path = tmp_path / "model.json"
    fitted.save(path, metadata={"source": "test"})
    loaded = load(path)
    assert type(loaded) is type(fitted)
    assert repr(loaded) == repr(fitted)
    np.testing.assert_array_equal(loaded.coef_, fitted.coef_)
    np.testing.assert_array_equal(loaded.intercept_, fitted.intercept_)
    assert list(loaded.feature_names_in_) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(loaded.predict(frame), fitted.predict(frame))
    if isinstance(fitted, LinearRegression) and not fitted.positive:
        # The statistics travel too: inference and merging work after loading.
        np.testing.assert_allclose(
            loaded.inference().bse, fitted.inference().bse, rtol=1e-12
        )
        merged = loaded.merge(fitted)
        np.testing.assert_allclose(merged.coef_, fitted.coef_, rtol=1e-10)
    assert json.loads(path.read_text())["metadata"]["source"] == "test"


def valid_document(tmp_path):
    X, y = make_regression(100, 2, seed=2)
    path = tmp_path / "good.json"
    LinearRegression().fit(X, y).save(path)
    return json.loads(path.read_text())


def write(tmp_path, document, name="bad.json"):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def edit(document, change):
    change(document)
    return document


BAD_FILES = [
    ("not json", lambda d: "this is not JSON", "it is not JSON"),
    ("truncated", lambda d: json.dumps(d)[:120], "it is not JSON (or is truncated)"),
    ("a list", lambda d: [1, 2], "the top level is not a JSON object"),
    (
        "other format",
        lambda d: edit(d, lambda x: x.update(format="onnx")),
        "'format' is 'onnx'",
    ),
    (
        "wrong version",
        lambda d: edit(d, lambda x: x.update(format_version=2)),
        "format_version 2 is not supported",
    ),
    (
        "missing version",
        lambda d: edit(d, lambda x: x.pop("format_version")),
        "has no 'format_version'",
    ),
    (
        "unknown class",
        lambda d: edit(d, lambda x: x.update(estimator="os.system")),
        "unknown estimator 'os.system'",
    ),
    ("missing coef", lambda d: edit(d, lambda x: x.pop("coef")), "has no 'coef'"),
    (
        "coef shape",
        lambda d: edit(d, lambda x: x["coef"].update(shape=[3])),
        "'coef' has 2 values but its shape [3] needs 3",
    ),
    (
        "coef width",
        lambda d: edit(d, lambda x: x["coef"].update(shape=[1, 2])),
        "'intercept' has shape ()",
    ),
    (
        "non-finite",
        lambda d: json.dumps(d).replace('"values": [', '"values": [NaN, ', 1),
        "it contains NaN",
    ),
    (
        "text numbers",
        lambda d: edit(d, lambda x: x["coef"].update(values=["1", "2"])),
        "'coef' values must be a list of numbers",
    ),
    (
        "unknown param",
        lambda d: edit(d, lambda x: x["params"].update(copy_X=True)),
        "has no parameter(s) ['copy_X']",
    ),
    (
        "invalid param",
        lambda d: edit(d, lambda x: x["params"].update(solver="magic")),
        "its parameters are invalid: solver must be one of",
    ),
    (
        "feature names",
        lambda d: edit(d, lambda x: x.update(feature_names_in=["a"])),
        "feature_names_in must be 2 strings or null",
    ),
    (
        "statistics shape",
        lambda d: edit(d, lambda x: x["statistics"]["comoment"].update(shape=[1, 9])),
        "'comoment' has shape (1, 9); expected (3, 3)",
    ),
    (
        "fitted attribute",
        lambda d: edit(d, lambda x: x["fitted"].update(__class__="x")),
        "unknown fitted attribute '__class__'",
    ),
]


@pytest.mark.parametrize(
    "change, message", [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_bad_model_files_raise_a_clear_error(change, message, tmp_path):
    path = write(tmp_path, change(valid_document(tmp_path)))
    with pytest.raises(
        ModelFileError, match="is not a valid dask-linreg model file"
    ) as info:
        load(path)
    assert message in str(info.value)


def test_missing_file_and_unfitted_model_errors(tmp_path):
    with pytest.raises(ModelFileError, match="Cannot read model file"):
        load(tmp_path / "absent.json")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LinearRegression().save(tmp_path / "m.json")
