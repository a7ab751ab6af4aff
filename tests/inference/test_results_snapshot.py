"""Inference results are snapshots: nothing the model does later changes them."""

import numpy as np
import pandas as pd
import pytest

from dask_linreg import LinearRegression

from ..conftest import make_regression

COLUMNS = ["a", "b", "c"]


def snapshot(results, summary, X_new):
    """Every number (and text) the results give, as plain copies."""
    prediction = results.get_prediction(X_new, sample_weight=2.0)
    return {
        "summary": str(summary),
        "summary_coefficients": summary.coefficients.copy(),
        "summary_statistics": summary.statistics.copy(),
        "own_summary": str(results.summary(alpha=0.1)),
        "params": results.params.copy(),
        "bse": results.bse.copy(),
        "tvalues": results.tvalues.copy(),
        "pvalues": results.pvalues.copy(),
        "identified": results.identified.copy(),
        "cov": results.cov_params(),
        "conf_int": results.conf_int(0.1),
        "statistics": results.statistics(),
        "target": results.target,
        "t_test": results.t_test("a - 2 * b = 1, c = 0"),
        "f_test": results.f_test("a = b, c = 0"),
        "wald_test": results.wald_test(np.eye(4)[1:], use_f=False),
        "prediction": prediction.summary_frame(alpha=0.1),
        "predicted_mean": prediction.predicted_mean.copy(),
        "conf_int_obs": prediction.conf_int(obs=True),
        "scalars": {
            name: getattr(results, name)
            for name in [
                "nobs",
                "df_model",
                "df_resid",
                "scale",
                "ssr",
                "rsquared",
                "fvalue",
                "llf",
                "aic",
                "condition_number",
                "k_constant",
                "cov_type",
                "use_t",
            ]
        },
    }


def assert_same(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        other = after[key]
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, other, check_exact=True, obj=key)
        elif isinstance(value, pd.Series):
            pd.testing.assert_series_equal(value, other, check_exact=True, obj=key)
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, other, err_msg=key)
        else:
            assert value == other, key


def fitted(rng, weighted=False):
    X, y = make_regression(120, 3, seed=31)
    frame = pd.DataFrame(X, columns=COLUMNS)
    w = rng.uniform(0.5, 2.0, 120) if weighted else None
    return LinearRegression().fit(frame, pd.Series(y, name="sales"), w), frame, y


def later_partial_fit(model, rng):
    X, y = make_regression(60, 3, seed=32)
    model.partial_fit(pd.DataFrame(X, columns=COLUMNS), y, rng.uniform(1, 3, 60))


def later_fit_of_other_data(model, rng):
    X, y = make_regression(80, 5, seed=33)
    model.set_params(solver="qr").fit(
        pd.DataFrame(X, columns=list("vwxyz")), pd.Series(y, name="other")
    )


def later_fit_without_intercept(model, rng):
    X, y = make_regression(90, 3, seed=34)
    model.set_params(fit_intercept=False).fit(pd.DataFrame(X, columns=COLUMNS), y)


def later_in_place_changes(model, rng):
    model.coef_ *= 3.0
    model.intercept_ = -7.0
    summary = model._inference_summary()
    for array in (summary.x_mean, summary.centered_cov, summary.ssr):
        array[...] = 0.0
    model.feature_names_in_[0] = "renamed"


@pytest.mark.parametrize(
    "change",
    [
        later_partial_fit,
        later_fit_of_other_data,
        later_fit_without_intercept,
        later_in_place_changes,
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_results_and_summaries_do_not_change_when_the_model_does(change, weighted, rng):
    model, frame, y = fitted(rng, weighted)
    results = model.inference()
    summary = model.summary()
    X_new = frame.iloc[:7]
    before = snapshot(results, summary, X_new)
    change(model, rng)
    assert_same(before, snapshot(results, summary, X_new))


def test_result_arrays_share_no_memory_with_the_model(rng):
    X, y = make_regression(100, 3, seed=35)
    for fit_intercept in [True, False]:
        model = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
        results = model.inference()
        params = results.params.copy()
        coef = results.params.to_numpy()[int(fit_intercept) :]
        assert not np.shares_memory(coef, model.coef_)
        model.coef_[:] = 0.0
        pd.testing.assert_series_equal(results.params, params, check_exact=True)
        cov = results.cov_params()
        cov.iloc[:, :] = 0.0  # a copy: the results keep theirs
        assert (np.diag(results.cov_params()) > 0).all()
        prediction = results.get_prediction(X[:3])
        prediction.predicted_mean[:] = 0.0  # a copy too
        np.testing.assert_allclose(
            prediction.summary_frame()["mean"],
            X[:3] @ params.to_numpy()[-3:] + (params.iloc[0] if fit_intercept else 0.0),
        )


def test_summary_text_keeps_the_solver_and_weighting_of_its_fit(rng):
    model, frame, y = fitted(rng, weighted=False)
    summary = model.summary()
    assert "OLS Regression Results" in str(summary)
    assert "Solved by 'cholesky'" in str(summary)
    later_partial_fit(model, rng)  # weighted rows make the model WLS
    later_fit_of_other_data(model, rng)  # refit with solver="qr"
    assert "OLS Regression Results" in str(summary)
    assert "Solved by 'cholesky'" in str(summary)
    assert "Solved by 'qr'" in str(model.summary())


def test_prediction_checks_new_rows_against_the_fit_of_the_results(rng):
    model, frame, y = fitted(rng)
    results = model.inference()
    expected = results.get_prediction(frame.iloc[:4]).summary_frame()
    later_fit_of_other_data(model, rng)  # now 5 features named v..z
    pd.testing.assert_frame_equal(
        results.get_prediction(frame.iloc[:4]).summary_frame(), expected
    )
    with (
        pytest.warns(UserWarning, match="does not have valid feature names"),
        pytest.raises(ValueError, match="X has 5 features, but LinearRegression"),
    ):
        results.get_prediction(np.ones((2, 5)))
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        results.get_prediction(frame.iloc[:4].rename(columns={"a": "v"}))
