"""partial_fit and merge: streaming fits equal one fit on all the rows."""

import pickle
import warnings

import dask.array as da
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from dask_linreg import AccuracyWarning, LinearRegression, Ridge

from ..conftest import make_regression


def assert_same_model(ours, reference, rtol=1e-10):
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, reference.intercept_, rtol=rtol)


def batches(n, sizes):
    edges = np.cumsum([0, *sizes])
    assert edges[-1] == n
    return list(zip(edges[:-1], edges[1:], strict=True))


@pytest.mark.parametrize("solver", ["auto", "cholesky", "qr", "exact"])
@pytest.mark.parametrize(
    "estimator", [LinearRegression(), Ridge(alpha=2.0)], ids=["ols", "ridge"]
)
def test_partial_fit_over_batches_equals_one_fit(estimator, solver, rng):
    X, Y = make_regression(900, 4, 2, seed=1, offset=1e4)
    w = rng.uniform(0.5, 2.0, 900)
    model = clone(estimator).set_params(solver=solver)
    streaming = pickle.loads(pickle.dumps(model))
    for start, stop in batches(900, [100, 1, 350, 449]):
        # Batches as NumPy and as Dask arrays of several blocks alike.
        if start % 2:
            streaming.partial_fit(X[start:stop], Y[start:stop], w[start:stop])
        else:
            streaming.partial_fit(
                da.from_array(X[start:stop], chunks=60),
                da.from_array(Y[start:stop], chunks=60),
                da.from_array(w[start:stop], chunks=60),
            )
        assert streaming.n_passes_ == 1
    reference = model.fit(X, Y, sample_weight=w)
    assert_same_model(streaming, reference)
    assert streaming.solver_ == {"auto": "cholesky"}.get(solver, solver)


def test_partial_fit_then_inference_equals_fit_then_inference():
    X, y = make_regression(500, 3, seed=2)
    streaming = LinearRegression()
    for start, stop in batches(500, [200, 300]):
        streaming.partial_fit(X[start:stop], y[start:stop])
    ours = streaming.inference()
    reference = LinearRegression().fit(X, y).inference()
    np.testing.assert_allclose(ours.bse, reference.bse, rtol=1e-10)
    assert ours.nobs == 500 and ours.df_resid == 496


def test_merge_of_models_fitted_on_disjoint_rows_equals_one_fit(rng):
    X, y = make_regression(800, 5, seed=3)
    w = rng.uniform(0.5, 2.0, 800)
    columns = list("abcde")
    frame = pd.DataFrame(X, columns=columns)
    monday = LinearRegression().fit(frame[:300], y[:300], w[:300])
    tuesday = LinearRegression().fit(frame[300:], y[300:], w[300:])
    merged = monday.merge(tuesday)
    assert merged is not monday and merged is not tuesday
    reference = LinearRegression().fit(frame, y, w)
    assert_same_model(merged, reference)
    assert list(merged.feature_names_in_) == columns and merged.n_passes_ == 0
    assert_same_model(monday + tuesday, reference)
    assert merged.rank_ == 5
    np.testing.assert_allclose(
        merged.inference().bse, reference.inference().bse, rtol=1e-10
    )


def test_merge_of_different_statistics_keeps_the_less_accurate_kind():
    X, y = make_regression(600, 3, seed=4, offset=1e3)
    exact = LinearRegression(solver="exact").fit(X[:200], y[:200])
    qr = LinearRegression(solver="qr").fit(X[200:400], y[200:400])
    moments = LinearRegression(solver="cholesky").fit(X[400:], y[400:])
    both = exact.merge(qr)
    assert both.solver_ == "qr" and exact.solver_ == "exact"
    everything = both.merge(moments)
    assert everything.solver_ == "cholesky"
    assert_same_model(everything, LinearRegression().fit(X, y))
    assert_same_model(qr.merge(exact).merge(moments), everything)


def test_ridge_merge_uses_its_alpha_per_target():
    X, Y = make_regression(400, 3, 2, seed=5)
    a = Ridge(alpha=[1.0, 10.0]).fit(X[:150], Y[:150])
    b = Ridge(alpha=[1.0, 10.0]).fit(X[150:], Y[150:])
    assert_same_model(a + b, Ridge(alpha=[1.0, 10.0]).fit(X, Y))


def test_fit_discards_what_partial_fit_accumulated():
    X, y = make_regression(300, 2, seed=6)
    model = LinearRegression().partial_fit(X[:100], y[:100])
    model.fit(X[100:], y[100:])
    model.partial_fit(X[:100], y[:100])
    assert_same_model(model, LinearRegression().fit(X, y))


def test_partial_fit_warns_that_auto_cannot_take_a_second_pass(rng):
    t = rng.uniform(0, 1, 400)
    X = np.column_stack([t**k for k in range(1, 9)])
    y = X @ np.ones(8) + 1e-3 * rng.standard_normal(400)
    with pytest.warns(AccuracyWarning, match="partial_fit cannot take"):
        LinearRegression().partial_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)
        LinearRegression(solver="exact").partial_fit(X, y)


def test_streaming_and_merge_errors_name_the_problem():
    X, y = make_regression(100, 3, seed=7)
    model = LinearRegression().partial_fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        model.partial_fit(X[:, :2], y)
    with pytest.raises(ValueError, match="y has 2 target"):
        model.partial_fit(X, np.c_[y, y])
    with pytest.raises(TypeError, match="Only two LinearRegression models"):
        model.merge(Ridge().fit(X, y))
    with pytest.raises(ValueError, match="different parameters.*fit_intercept"):
        model.merge(LinearRegression(fit_intercept=False).fit(X, y))
    with pytest.raises(ValueError, match="fitted on 3 and 2 features"):
        model.merge(LinearRegression().fit(X[:, :2], y))
    with pytest.raises(ValueError, match="different feature names"):
        model.merge(LinearRegression().fit(pd.DataFrame(X, columns=list("abc")), y))
    with pytest.raises(ValueError, match="targets"):
        model.merge(LinearRegression().fit(X, np.c_[y, y]))
    with pytest.raises(ValueError, match="alpha=1.0 vs 2.0"):
        Ridge().fit(X, y).merge(Ridge(alpha=2.0).fit(X, y))
