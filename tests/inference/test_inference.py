"""Inference against statsmodels' OLS/WLS and NIST's certified values."""

import pickle

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.datasets import load_diabetes

from dask_linreg import LinearRegression

from ..conftest import CountingSource, make_regression

RTOL = 1e-8
SCALARS = [
    "nobs",
    "df_model",
    "df_resid",
    "scale",
    "ssr",
    "ess",
    "rsquared",
    "rsquared_adj",
    "fvalue",
    "f_pvalue",
    "mse_model",
    "mse_resid",
    "mse_total",
    "llf",
    "aic",
    "bic",
    "condition_number",
]
P_VALUES = {"pvalues", "f_pvalue"}


def assert_agrees(ours, theirs, name):
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    # p-values: 1e-8 relative, or 1e-6 absolute where tiny.
    atol = 1e-6 if name in P_VALUES else 0.0
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=atol, err_msg=name)


def assert_matches_statsmodels(results, reference, robust=False):
    for name in ["params", "bse", "tvalues", "pvalues"]:
        assert_agrees(getattr(results, name), getattr(reference, name), name)
    for name in SCALARS:
        if robust and name in ("fvalue", "f_pvalue"):
            theirs = getattr(reference, name)
        else:
            theirs = getattr(reference, name)
        assert_agrees(getattr(results, name), theirs, name)
    assert_agrees(results.conf_int(0.1), reference.conf_int(0.1), "conf_int")
    # Entries that are zero in exact arithmetic: compare on the scale of
    # the standard errors (correlations to 1e-8).
    ours, theirs = np.asarray(results.cov_params()), np.asarray(reference.cov_params())
    scale = np.sqrt(np.outer(np.diag(theirs), np.diag(theirs)))
    assert np.all(np.abs(ours - theirs) <= RTOL * scale), "cov_params"


def statsmodels_fit(X, y, w=None, fit_intercept=True, **fit_kwargs):
    exog = sm.add_constant(X, has_constant="add") if fit_intercept else X
    model = sm.OLS(y, exog) if w is None else sm.WLS(y, exog, weights=w)
    return model.fit(**fit_kwargs)


def test_diabetes_summary_matches_statsmodels_ols():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = LinearRegression().fit(X, y)
    results = model.inference()
    reference = statsmodels_fit(X, y)
    assert_matches_statsmodels(results, reference)
    assert list(results.params.index) == ["intercept", *X.columns]
    assert results.target == "target"
    text = str(model.summary())
    assert "OLS Regression Results" in text and "bmi" in text and "R-squared" in text


def test_longley_matches_nist_certified_values_with_every_solver():
    # NIST StRD, Longley (1967): certified to 15 digits; condition number
    # about 5e9, where normal equations without care lose everything.
    certified_params = [
        -3482258.63459582,
        15.0618722713733,
        -0.358191792925910e-01,
        -2.02022980381683,
        -1.03322686717359,
        -0.511041056535807e-01,
        1829.15146461355,
    ]
    certified_bse = [
        890420.383607373,
        84.9149257747669,
        0.334910077722432e-01,
        0.488399681651699,
        0.214274163161675,
        0.226073200069370,
        455.478499142212,
    ]
    data = sm.datasets.longley.load_pandas()
    reference = statsmodels_fit(data.exog, data.endog)
    for solver in ["auto", "qr", "exact"]:
        results = LinearRegression(solver=solver).fit(data.exog, data.endog).inference()
        np.testing.assert_allclose(results.params, certified_params, rtol=1e-10)
        np.testing.assert_allclose(results.bse, certified_bse, rtol=1e-10)
        np.testing.assert_allclose(np.sqrt(results.scale), 304.854073561965, rtol=1e-12)
        np.testing.assert_allclose(results.rsquared, 0.995479004577296, rtol=1e-13)
        assert_matches_statsmodels(results, reference)


@pytest.mark.parametrize("solver", ["cholesky", "qr", "exact"])
def test_weighted_dask_fit_matches_statsmodels_wls(solver, rng):
    X, y = make_regression(600, 5, seed=1, offset=1e3)
    w = rng.uniform(0.2, 3.0, 600)
    model = LinearRegression(solver=solver).fit(
        da.from_array(X, chunks=77),
        da.from_array(y, chunks=77),
        da.from_array(w, chunks=77),
    )
    assert_matches_statsmodels(model.inference(), statsmodels_fit(X, y, w))
    assert "WLS Regression Results" in str(model.summary())


def test_zero_weight_rows_are_absent_as_in_statsmodels_without_them(rng):
    X, y = make_regression(300, 4, seed=2)
    w = rng.uniform(0.5, 2.0, 300)
    w[::7] = 0.0
    results = LinearRegression().fit(X, y, sample_weight=w).inference()
    kept = w > 0
    assert results.nobs == kept.sum()
    assert_matches_statsmodels(results, statsmodels_fit(X[kept], y[kept], w[kept]))


def test_no_intercept_uses_uncentered_r2_and_f_like_statsmodels(rng):
    X, y = make_regression(400, 3, seed=3)
    w = rng.uniform(0.5, 2.0, 400)
    results = LinearRegression(fit_intercept=False).fit(X, y, w).inference()
    reference = statsmodels_fit(X, y, w, fit_intercept=False)
    assert reference.k_constant == 0
    assert_matches_statsmodels(results, reference)
    assert list(results.params.index) == ["x0", "x1", "x2"]
    assert results.uncentered_tss is not None and results.centered_tss is None


def test_multi_output_gives_one_result_per_target():
    X, Y = make_regression(500, 4, 3, seed=4)
    frame = pd.DataFrame(Y, columns=["a", "b", "c"])
    model = LinearRegression().fit(X, frame)
    results = model.inference()
    assert [r.target for r in results] == ["a", "b", "c"]
    for t, result in enumerate(results):
        assert_matches_statsmodels(result, statsmodels_fit(X, Y[:, t]))
    summary = model.summary()
    assert summary.coefficients.index.names == ["target", "term"]
    assert summary.coefficients.shape[0] == 3 * 5
    assert list(summary.statistics.columns) == ["a", "b", "c"]


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3"])
def test_heteroskedasticity_robust_covariances_match_statsmodels(cov_type, rng):
    X, y = make_regression(500, 4, seed=5)
    y = y + X[:, 0] * rng.standard_normal(500)  # heteroskedastic
    w = rng.uniform(0.5, 2.0, 500)
    Xd, yd, wd = (da.from_array(a, chunks=64) for a in (X, y, w))
    model = LinearRegression().fit(Xd, yd, wd)
    results = model.inference(Xd, yd, sample_weight=wd, cov_type=cov_type)
    reference = statsmodels_fit(X, y, w, cov_type=cov_type)
    assert not results.use_t and not reference.use_t
    assert_matches_statsmodels(results, reference, robust=True)
    frame = results.get_prediction(X[:9]).summary_frame(alpha=0.1)
    expected = reference.get_prediction(sm.add_constant(X[:9], has_constant="add"))
    assert_agrees(frame, expected.summary_frame(alpha=0.1), "prediction")


def test_cluster_robust_covariance_matches_statsmodels_with_string_labels(rng):
    X, y = make_regression(600, 3, seed=6)
    labels = rng.integers(0, 25, 600)
    y = y + rng.standard_normal(25)[labels]  # a shared shock per cluster
    names = np.array([f"firm-{i}" for i in labels])
    model = LinearRegression().fit(X, y)
    for use_t in [None, True]:
        results = model.inference(X, y, cov_type="cluster", groups=names, use_t=use_t)
        reference = statsmodels_fit(
            X, y, cov_type="cluster", cov_kwds={"groups": labels}, use_t=use_t
        )
        assert results.n_groups == 25 and results.df_resid_inference == 24
        assert_matches_statsmodels(results, reference, robust=True)


def test_cluster_labels_from_a_dask_dataframe_with_weights(rng):
    X, y = make_regression(400, 3, seed=7)
    w = rng.uniform(0.5, 2.0, 400)
    labels = np.repeat(np.arange(40), 10)  # contiguous: split across blocks
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y, w=w, g=labels)
    ddf = dd.from_pandas(frame, npartitions=7)
    model = LinearRegression().fit(ddf[["a", "b", "c"]], ddf["y"], ddf["w"])
    results = model.inference(
        ddf[["a", "b", "c"]],
        ddf["y"],
        sample_weight=ddf["w"],
        cov_type="cluster",
        groups=ddf["g"],
    )
    reference = statsmodels_fit(
        frame[["a", "b", "c"]], y, w, cov_type="cluster", cov_kwds={"groups": labels}
    )
    assert results.target == "y"
    assert_matches_statsmodels(results, reference, robust=True)


def test_classical_inference_takes_no_pass_and_robust_exactly_one():
    X, y = make_regression(1000, 5, seed=8)
    sources = [CountingSource(X), CountingSource(y)]
    Xd = da.from_array(sources[0], chunks=(100, 5), asarray=False)
    yd = da.from_array(sources[1], chunks=100, asarray=False)
    computes = []

    def counting_scheduler(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        model = LinearRegression().fit(Xd, yd)
        assert len(computes) == 1
        read = sources[0].elements_read
        str(model.summary())
        model.inference().f_test("x0 = x1")
        assert len(computes) == 1 and sources[0].elements_read == read
        model.inference(Xd, yd, cov_type="HC3")
        assert len(computes) == 2
        assert sources[0].elements_read == 2 * X.size


@pytest.mark.filterwarnings(
    "ignore::statsmodels.tools.sm_exceptions.SingularMatrixWarning"
)
def test_rank_deficient_fit_says_which_coefficients_are_not_identified(rng):
    X, y = make_regression(300, 3, seed=9)
    # A one-hot block plus intercept: the dummies and the intercept are
    # collinear; x0..x2 stay identified.
    dummies = np.eye(3)[rng.integers(0, 3, 300)]
    design = np.hstack([X, dummies])
    y = y + dummies @ np.array([1.0, -1.0, 2.0])
    model = LinearRegression().fit(design, y)
    results = model.inference()
    assert results.identified.tolist() == [False, True, True, True, False, False, False]
    assert results.df_model == 5
    reference = statsmodels_fit(design, y)
    identified = results.identified.to_numpy()
    assert_agrees(results.bse[identified], reference.bse[identified], "bse")
    assert_agrees(results.pvalues[identified], reference.pvalues[identified], "pvalues")
    for name in ["scale", "rsquared", "fvalue", "llf", "aic", "df_resid"]:
        assert_agrees(getattr(results, name), getattr(reference, name), name)
    assert results.bse[~identified].isna().all()
    table = model.summary().coefficients
    assert table.loc[~identified, "coef"].isna().all()
    text = str(model.summary())
    assert "not identified" in text and "intercept, x3, x4, x5" in text
    # Contrasts between dummies are estimable; a single dummy is not.
    test = results.t_test("x3 - x4 = 0")
    ref_test = reference.t_test("x4 - x5 = 0")
    assert_agrees(test["std err"], np.ravel(ref_test.sd), "contrast se")
    with pytest.raises(ValueError, match="not identified.*x3"):
        results.f_test("x3 = 0")
    frame = results.get_prediction(design[:5]).summary_frame()
    expected = reference.get_prediction(sm.add_constant(design[:5], has_constant="add"))
    assert_agrees(frame, expected.summary_frame(), "prediction")


def test_f_t_and_wald_tests_match_statsmodels():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    results = LinearRegression().fit(X, y).inference()
    reference = statsmodels_fit(X, y)
    restrictions = np.zeros((2, 11))
    restrictions[0, 1], restrictions[0, 2] = 1.0, -1.0
    restrictions[1, 3] = 1.0
    q = [0.0, 500.0]
    ours = results.f_test(restrictions, q)
    theirs = reference.f_test((restrictions, q))
    assert_agrees(ours.statistic, theirs.fvalue, "F")
    assert_agrees(ours.pvalue, theirs.pvalue, "pvalues")
    assert (ours.df_num, ours.df_denom) == (2, 431)
    same = results.f_test("age = sex, bmi = 500")
    assert same == ours
    chi2 = results.wald_test("age = sex, bmi = 500", use_f=False)
    theirs = reference.wald_test((restrictions, q), use_f=False, scalar=True)
    assert_agrees(chi2.statistic, theirs.statistic, "chi2")
    assert_agrees(chi2.pvalue, theirs.pvalue, "pvalues")
    table = results.t_test("2 * bmi - bp = 100, s5 = 0")
    theirs = reference.t_test("2 * bmi - bp = 100, s5 = 0")
    assert_agrees(table["effect"], np.ravel(theirs.effect) - [100, 0], "effect")
    assert_agrees(table["std err"], np.ravel(theirs.sd), "sd")
    assert_agrees(table["P>|t|"], np.ravel(theirs.pvalue), "pvalues")


def test_prediction_intervals_are_lazy_for_dask_and_match_statsmodels(rng):
    X, y = make_regression(500, 3, seed=10)
    w = rng.uniform(0.5, 2.0, 500)
    columns = ["x0", "x1", "x2"]
    model = LinearRegression().fit(pd.DataFrame(X, columns=columns), y, w)
    results = model.inference()
    reference = statsmodels_fit(X, y, w)
    expected = reference.get_prediction(
        sm.add_constant(X[:50], has_constant="add"), weights=2.0
    ).summary_frame(alpha=0.01)
    frame = pd.DataFrame(X[:50], columns=columns, index=np.arange(50) + 7)
    lazy = results.get_prediction(
        dd.from_pandas(frame, npartitions=3), sample_weight=2.0
    )
    summary_frame = lazy.summary_frame(alpha=0.01)
    assert isinstance(summary_frame, dd.DataFrame)
    computed = summary_frame.compute()
    assert list(computed.index) == list(frame.index)
    assert_agrees(computed.to_numpy(), expected.to_numpy(), "prediction")
    unnamed = LinearRegression().fit(X, y, w).inference()
    from_array = unnamed.get_prediction(da.from_array(X[:50], chunks=20), 2.0)
    assert isinstance(from_array.predicted_mean, da.Array)
    assert_agrees(from_array.summary_frame(0.01).compute(), expected, "prediction")
    in_memory = unnamed.get_prediction(X[:50], sample_weight=np.full(50, 2.0))
    assert_agrees(in_memory.summary_frame(0.01), expected, "prediction")
    assert_agrees(in_memory.conf_int(obs=True, alpha=0.01), expected.iloc[:, 4:], "obs")


def test_inference_survives_pickling():
    X, y = make_regression(200, 3, seed=11)
    model = pickle.loads(pickle.dumps(LinearRegression().fit(X, y)))
    assert_matches_statsmodels(model.inference(), statsmodels_fit(X, y))


def test_inference_errors_name_the_problem():
    X, y = make_regression(100, 2, seed=12)
    model = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="cov_type must be one of"):
        model.inference(cov_type="HC4")
    with pytest.raises(ValueError, match="needs one pass over the training data"):
        model.inference(cov_type="HC1")
    with pytest.raises(ValueError, match="needs no pass"):
        model.inference(X, y)
    with pytest.raises(ValueError, match="needs groups"):
        model.inference(X, y, cov_type="cluster")
    with pytest.raises(ValueError, match="only used with cov_type='cluster'"):
        model.inference(X, y, cov_type="HC0", groups=np.zeros(100))
    with pytest.raises(ValueError, match="at least 2 clusters"):
        model.inference(X, y, cov_type="cluster", groups=np.zeros(100))
    with pytest.raises(ValueError, match="not the data the model was fitted on"):
        model.inference(X, y + 1.0, cov_type="HC0")
    with pytest.raises(ValueError, match="X has 100 rows but groups has 99"):
        model.inference(X, y, cov_type="cluster", groups=np.zeros(99))
    with pytest.raises(ValueError, match="use_t must be a bool"):
        model.inference(use_t="yes")
    results = model.inference()
    with pytest.raises(ValueError, match="names 'x9', which is not a coefficient"):
        results.f_test("x9 = 0")
    with pytest.raises(ValueError, match="Cannot read restriction"):
        results.f_test("x0 ^ 2 = 0")
    with pytest.raises(ValueError, match="r_matrix has 2 columns; expected one per"):
        results.f_test(np.eye(2))
    with pytest.raises(ValueError, match="alpha must be a number strictly between"):
        results.conf_int(alpha=1.5)
    with pytest.raises(ValueError, match="X has 3 features"):
        results.get_prediction(np.ones((2, 3)))
    with pytest.raises(TypeError, match="single float for Dask input"):
        results.get_prediction(da.ones((4, 2)), sample_weight=np.ones(4))


@pytest.mark.parametrize("cov_type", ["HC3", "cluster"])
def test_score_sums_of_blocks_merge_to_those_of_the_whole(cov_type, rng):
    from functools import reduce

    from dask_linreg._numerics.sandwich import ScoreModel, block_scores, merge_scores

    X, Y = make_regression(250, 3, 2, seed=14)
    w = rng.uniform(0.5, 2.0, 250)
    groups = rng.integers(0, 12, 250)
    model = ScoreModel(
        coef=rng.standard_normal((3, 2)),
        x_mean=X.mean(axis=0),
        y_mean=Y.mean(axis=0),
        fit_intercept=True,
        cov_type=cov_type,
        centered_cov=np.linalg.inv(np.cov(np.c_[np.ones(250), X].T) + np.eye(4)),
    )
    cuts = [0, 1, 40, 41, 170, 250]
    parts = [
        block_scores([X[a:b]], [Y[a:b]], w[a:b], groups[a:b], model)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]
    merged = reduce(merge_scores, parts)
    whole = block_scores([X[:, :1], X[:, 1:]], [Y], w, groups, model, piece_rows=7)
    assert merged.count == whole.count == 250
    np.testing.assert_allclose(merged.ssr, whole.ssr, rtol=1e-13)
    if cov_type == "cluster":
        np.testing.assert_array_equal(merged.cluster_labels, np.arange(12))
        np.testing.assert_allclose(
            merged.cluster_scores, whole.cluster_scores, atol=1e-12
        )
    else:
        np.testing.assert_allclose(merged.meat, whole.meat, rtol=1e-12)


def test_no_residual_degrees_of_freedom_give_nan_not_errors():
    X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 3.0]])
    model = LinearRegression().fit(X, np.array([1.0, 2.0, 4.0]))
    results = model.inference()
    assert results.df_resid == 0
    assert np.isnan(results.scale) and np.isnan(results.rsquared_adj)
    assert np.isnan(results.fvalue) and results.bse.isna().all()
    assert "nan" in str(model.summary())
