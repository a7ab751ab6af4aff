"""A failed call changes nothing: a fitted model stays exactly as it was."""

import copy

import dask.array as da
import numpy as np
import pandas as pd
import pytest

from dask_linreg import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    LinearRegression,
    Ridge,
    RidgeCV,
)

from ..conftest import make_regression

ESTIMATORS = [
    LinearRegression(),
    Ridge(alpha=0.5),
    RidgeCV(alphas=[0.1, 1.0, 10.0]),
    RidgeCV(alphas=[0.1, 1.0, 10.0], cv=3),
    ElasticNet(alpha=0.01),
    Lasso(alpha=0.01),
    ElasticNetCV(cv=3, alphas=5),
    LassoCV(cv=3, alphas=5),
]


def same_state(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        other = after[key]
        if isinstance(value, np.ndarray):
            assert isinstance(other, np.ndarray) and np.array_equal(
                value, other, equal_nan=value.dtype.kind == "f"
            ), key
        elif key != "_inference_cache":
            assert type(value) is type(other), key


def bad_refits(n_rows):
    """Data with one more column, each with one fault."""
    X, y = make_regression(n_rows, 4, seed=9)
    X_nan = X.copy()
    X_nan[5, 2] = np.nan
    weights = np.ones(n_rows)
    weights[3] = -1.0
    # Strings are categorical; only some estimators take them.
    frame = pd.DataFrame(X, columns=list("abcd")).assign(d=pd.Timestamp("2020"))
    return {
        "nan in X (numpy)": (X_nan, y, None),
        "nan in X (dask)": (da.from_array(X_nan, chunks=20), y, None),
        "negative weight": (da.from_array(X, chunks=20), y, weights),
        "datetime column": (frame, y, None),
        "y of other length": (X, y[:-1], None),
    }


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize("fault", list(bad_refits(60)))
def test_a_failed_refit_leaves_the_fitted_model_as_it_was(estimator, fault):
    X, y = make_regression(60, 3, seed=8)
    model = copy.deepcopy(estimator).fit(X, y)
    before = dict(vars(model))
    prediction = model.predict(X)
    X_bad, y_bad, w_bad = bad_refits(60)[fault]
    with pytest.raises((ValueError, TypeError)):
        model.fit(X_bad, y_bad, sample_weight=w_bad)
    same_state(before, vars(model))
    np.testing.assert_array_equal(model.predict(X), prediction)


@pytest.mark.parametrize("estimator", [LinearRegression(), Ridge()], ids=repr)
@pytest.mark.parametrize("fault", list(bad_refits(60)))
def test_a_failed_partial_fit_leaves_the_model_as_it_was(estimator, fault):
    X, y = make_regression(60, 4, seed=8)
    model = copy.deepcopy(estimator).partial_fit(X, y)
    before = dict(vars(model))
    prediction = model.predict(X)
    X_bad, y_bad, w_bad = bad_refits(60)[fault]
    if fault == "datetime column":
        X_bad = X_bad.drop(columns="d")
    with pytest.raises((ValueError, TypeError)):
        model.partial_fit(X_bad, y_bad, sample_weight=w_bad)
    same_state(before, vars(model))
    np.testing.assert_array_equal(model.predict(X), prediction)
    # The next batch continues from the earlier ones only.
    model.partial_fit(X, y)
    expected = copy.deepcopy(estimator).fit(np.vstack([X, X]), np.concatenate([y, y]))
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-10)


def test_a_failed_merge_leaves_both_models_as_they_were():
    X, y = make_regression(60, 3, seed=8)
    a, b = LinearRegression().fit(X, y), LinearRegression().fit(X[:, :2], y)
    before_a, before_b = dict(vars(a)), dict(vars(b))
    with pytest.raises(ValueError, match="fitted on 3 and 2 features"):
        a.merge(b)
    same_state(before_a, vars(a))
    same_state(before_b, vars(b))
