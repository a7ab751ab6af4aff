"""One model per group (``ols(..., split="store")``) against a pandas
groupby loop of scikit-learn fits and statsmodels' per-group WLS."""

import warnings

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyfixest
import pytest
import statsmodels.formula.api as smf
from sklearn.linear_model import LinearRegression as SklearnLinearRegression

from dask_linreg import SplitFit, ols

FORMULA = "y ~ x + np.log(z)"


@pytest.fixture(scope="module")
def stores():
    rng = np.random.default_rng(4)
    n = 4000
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n) + 1e3,
            "z": rng.uniform(1.0, 2.0, n),
            "store": rng.choice([f"s{i:02d}" for i in range(60)], n),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    frame.loc[frame.index[:2], "store"] = "tiny"  # two rows, three terms
    slope = frame["store"].str[-1].map(lambda c: float(ord(c) % 3))
    frame["y"] = slope * frame.x + np.log(frame.z) + rng.normal(size=n)
    return frame


@pytest.mark.parametrize("partitions", [None, 1, 7])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_group_equals_its_own_fit(stores, partitions, weighted):
    source = stores if partitions is None else dd.from_pandas(stores, partitions)
    with pytest.warns(UserWarning, match="1 of 61 groups of 'store' have no"):
        fit = ols(FORMULA, source, split="store", weights="w" if weighted else None)
    assert isinstance(fit, SplitFit) and len(fit) == 61
    assert list(fit.too_small) == ["tiny"]
    assert list(fit.params.columns) == ["Intercept", "x", "np.log(z)"]
    for store, group in stores.groupby("store"):
        assert fit.nobs[store] == len(group)
        if store == "tiny":
            # Underdetermined: a minimum-norm fit, no standard errors.
            assert fit.bse.loc[store].isna().all()
            continue
        X = np.column_stack([group.x, np.log(group.z)])
        weights = group.w if weighted else None
        reference = SklearnLinearRegression().fit(X, group.y, sample_weight=weights)
        np.testing.assert_allclose(
            fit.params.loc[store, ["x", "np.log(z)"]], reference.coef_, rtol=1e-8
        )
        np.testing.assert_allclose(
            fit.params.loc[store, "Intercept"], reference.intercept_, rtol=1e-8
        )
        expected = (
            smf.wls(FORMULA, group, weights=group.w)
            if weighted
            else smf.ols(FORMULA, group)
        ).fit()
        np.testing.assert_allclose(fit.bse.loc[store], expected.bse, rtol=1e-7)
        np.testing.assert_allclose(fit.pvalues.loc[store], expected.pvalues, rtol=1e-6)
        assert fit.rsquared[store] == pytest.approx(expected.rsquared, rel=1e-8)


def test_each_group_model_has_full_inference_and_predicts(stores):
    with pytest.warns(UserWarning):
        fit = ols(FORMULA, stores, split="store")
    group = stores[stores.store == "s05"]
    model = fit.model("s05")
    expected = smf.ols(FORMULA, group).fit()
    results = model.inference()
    np.testing.assert_allclose(results.params, expected.params, rtol=1e-8)
    np.testing.assert_allclose(results.bse, expected.bse, rtol=1e-8)
    np.testing.assert_allclose(
        model.predict(group.head(5)), expected.predict(group.head(5)), rtol=1e-10
    )
    with pytest.raises(KeyError, match="no group 'nope'"):
        fit.model("nope")


def test_one_compute_and_bad_arguments(stores, computes):
    ddf = dd.from_pandas(stores[stores.store != "tiny"], npartitions=4)
    computes.clear()
    ols(FORMULA, ddf, split="store")
    assert len(computes) == 1
    with pytest.raises(ValueError, match="split='nope' is not a column"):
        ols(FORMULA, stores, split="nope")
    with pytest.raises(ValueError, match="categorical terms"):
        ols("y ~ x + C(store)", stores, split="store")
    with pytest.raises(ValueError, match="absorbed part"):
        ols("y ~ x | store", stores, split="store")
    with pytest.raises(TypeError, match="split_every, split_out and max_bytes"):
        ols(FORMULA, stores, split="store", solver="qr")
    with pytest.raises(MemoryError, match="split column 'store' has"):
        ols(FORMULA, ddf, split="store", max_bytes=5000)


def test_many_groups(stores):
    rng = np.random.default_rng(1)
    n_groups = 20_000
    frame = pd.DataFrame(
        {
            "g": np.repeat(np.arange(n_groups), 4),
            "x": rng.normal(size=4 * n_groups),
        }
    )
    frame["y"] = 2.0 * frame.x + frame.g % 7 + rng.normal(size=len(frame))
    fit = ols("y ~ x", dd.from_pandas(frame, npartitions=6), split="g")
    assert len(fit) == n_groups and len(fit.too_small) == 0
    sums = frame.assign(xy=frame.x * frame.y, xx=frame.x**2).groupby("g").mean()
    slope = (sums.xy - sums.x * sums.y) / (sums.xx - sums.x**2)
    np.testing.assert_allclose(fit.params["x"], slope, rtol=1e-8)


@pytest.mark.parametrize("partitions", [None, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_clusters_kept_at_fit_time_need_no_second_pass(
    stores, partitions, weighted, computes
):
    frame = stores[stores.store != "tiny"].assign(x=lambda t: t.x - 1e3)
    source = frame if partitions is None else dd.from_pandas(frame, partitions)
    weights = "w" if weighted else None
    computes.clear()
    model = ols(FORMULA, source, cluster="store", weights=weights)
    cr1 = model.inference(cov_type="cluster")
    crv3 = model.inference(cov_type="CRV3")
    assert len(computes) <= 1  # the fit's pass only (none for pandas)
    expected = (
        smf.wls(FORMULA, frame, weights=frame.w)
        if weighted
        else smf.ols(FORMULA, frame)
    ).fit(cov_type="cluster", cov_kwds={"groups": frame["store"]})
    np.testing.assert_allclose(model.coef_, expected.params.iloc[1:], rtol=1e-10)
    np.testing.assert_allclose(cr1.bse, expected.bse, rtol=1e-8)
    assert cr1.n_groups == 60 and cr1.df_resid_inference == 59
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jackknife = pyfixest.feols(
            FORMULA, frame, vcov={"CRV3": "store"}, weights=weights
        )
    np.testing.assert_allclose(crv3.bse, jackknife.se(), rtol=1e-8)
    classical = (
        smf.wls(FORMULA, frame, weights=frame.w)
        if weighted
        else smf.ols(FORMULA, frame)
    ).fit()
    np.testing.assert_allclose(model.inference().bse, classical.bse, rtol=1e-8)


def test_cluster_arguments_are_checked(stores):
    frame = stores[stores.store != "tiny"]
    model = ols(FORMULA, frame, cluster="store")
    with pytest.raises(ValueError, match="needs no data, y or groups"):
        model.inference(cov_type="cluster", groups=frame["store"])
    plain = ols(FORMULA, frame)
    with pytest.raises(
        ValueError, match="fit with ols\\(formula, data, cluster=...\\)"
    ):
        plain.inference(cov_type="CRV3")
    with pytest.raises(ValueError, match="split= and cluster= together"):
        ols(FORMULA, frame, cluster="store", split="store")
    with pytest.raises(ValueError, match="cluster='nope' is not a column"):
        ols(FORMULA, frame, cluster="nope")
