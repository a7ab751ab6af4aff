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
    with pytest.raises(ValueError, match="main effects only"):
        ols("y ~ x:C(kind)", stores.assign(kind="a"), split="store")
    with pytest.raises(ValueError, match="no intercept"):
        ols("y ~ x + C(kind) - 1", stores.assign(kind="a"), split="store")
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


@pytest.fixture(scope="module")
def channels(stores):
    """The stores with a channel (one store never sells online) and a
    boolean, as categorical terms."""
    rng = np.random.default_rng(9)
    frame = stores[stores.store != "tiny"].copy()
    channel = rng.choice(["phone", "store", "web"], len(frame))
    channel[frame.store.to_numpy() == "s07"] = "store"
    channel[frame.store.to_numpy() == "s11"] = rng.choice(
        ["phone", "store"], (frame.store == "s11").sum()
    )
    frame["channel"] = channel
    frame["promo"] = rng.uniform(size=len(frame)) < 0.3
    frame["y"] += (frame.channel == "web") * 2.0 + frame.promo * 0.5
    return frame


CATEGORICAL = "y ~ x + C(channel) + promo"


def _lazy(frame, partitions):
    """A Dask frame whose categorical columns' levels only the pass finds."""
    ddf = dd.from_pandas(frame.sort_values("channel"), npartitions=partitions)
    return ddf.astype({"channel": "string"})


@pytest.mark.parametrize("partitions", [None, 5])
def test_categorical_terms_in_every_groups_fit(channels, partitions, computes):
    source = channels if partitions is None else _lazy(channels, partitions)
    computes.clear()
    fit = ols(CATEGORICAL, source, split="store", weights="w")
    assert len(computes) == (1 if partitions else 0)
    names = ["Intercept", "x", "C(channel)[T.store]", "C(channel)[T.web]"]
    assert list(fit.params.columns) == [*names, "promo[T.True]"]
    for store, group in channels.groupby("store"):
        expected = smf.wls(CATEGORICAL, group, weights=group.w).fit()
        params = fit.params.loc[store]
        if store in ("s07", "s11"):
            # A level missing in the group: its indicator is zero there, the
            # fit rank-deficient (minimum norm), the other terms identified.
            assert fit.rank[store] == (2 if store == "s07" else 3)
            identified = ["x", "promo[T.True]"]
            np.testing.assert_allclose(
                params[identified], expected.params[identified], rtol=1e-8
            )
            continue
        np.testing.assert_allclose(params, expected.params[params.index], rtol=1e-8)
        np.testing.assert_allclose(
            fit.bse.loc[store], expected.bse[params.index], rtol=1e-7
        )
    group = channels[channels.store == "s03"]
    np.testing.assert_allclose(
        fit.model("s03").predict(group.head(5)),
        smf.wls(CATEGORICAL, group, weights=group.w).fit().predict(group.head(5)),
        rtol=1e-10,
    )


@pytest.mark.parametrize("partitions", [None, 5])
def test_categorical_terms_with_clusters_kept(channels, partitions, computes):
    source = channels if partitions is None else _lazy(channels, partitions)
    computes.clear()
    model = ols(CATEGORICAL, source, cluster="store")
    results = model.inference(cov_type="cluster")
    assert len(computes) == (1 if partitions else 0)
    expected = smf.ols(CATEGORICAL, channels).fit(
        cov_type="cluster", cov_kwds={"groups": channels.store}
    )
    names = list(model.feature_names_in_)
    np.testing.assert_allclose(model.coef_, expected.params[names], rtol=1e-8)
    # statsmodels solves the raw design, x offset by 1e3: its error under
    # another BLAS kernel reaches 2e-8 there (ours is the shifted one's).
    np.testing.assert_allclose(results.bse[1:], expected.bse[names], rtol=1e-6)
    np.testing.assert_allclose(
        model.predict(channels.head(7)), expected.predict(channels.head(7)), rtol=1e-10
    )
    hc1 = model.inference(source, cov_type="HC1")
    want = smf.ols(CATEGORICAL, channels).fit(cov_type="HC1")
    np.testing.assert_allclose(hc1.bse[1:], want.bse[names], rtol=1e-6)
    with pytest.raises(ValueError, match="'mail', which is not among"):
        model.predict(channels.head(3).assign(channel="mail"))


def test_categorical_terms_clustered_two_ways(channels):
    frame = channels.assign(week=np.arange(len(channels)) % 13)
    model = ols(CATEGORICAL, _lazy(frame, 4), cluster=["store", "week"])
    results = model.inference(cov_type="cluster")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pyfixest.feols(
            CATEGORICAL.replace("promo", "C(promo)"), frame, vcov={"CRV1": "store+week"}
        )
    np.testing.assert_allclose(model.coef_, expected.coef().iloc[1:], rtol=1e-8)
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
