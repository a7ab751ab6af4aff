"""One absorbed fixed effect (``ols("y ~ x | firm")``) against pyfixest's
``feols`` on the same data: slopes, iid standard errors, within R², the
fixed effects and the observation counts."""

import warnings

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyfixest
import pytest

from dask_linreg import FixedEffectsRegression, ols

FORMULA = "y ~ x1 + x2 + np.log(z)"


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(8)
    n = 1500
    # Unbalanced: firms of very different sizes, some singletons.
    firm = np.concatenate([rng.zipf(1.6, n - 20) % 200, np.arange(500, 520)])
    frame = pd.DataFrame(
        {
            "firm": firm.astype(np.int64),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n) + 1e4,
            "z": rng.uniform(1.0, 3.0, n),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    frame["y"] = (
        frame.x1
        - 0.5 * frame.x2
        + np.log(frame.z)
        + np.sin(frame.firm) * 3
        + rng.normal(size=n)
    )
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)


def _feols(formula, data, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyfixest.feols(formula, data, vcov="iid", **options)


def _compare(model, expected, data, weights=None):
    results = model.inference()
    names = list(expected.coef().index)
    np.testing.assert_allclose(model.coef_, expected.coef()[names], rtol=1e-8)
    np.testing.assert_allclose(results.bse, expected.se()[names], rtol=1e-6)
    assert results.nobs == expected._N
    assert model.r2_within_ == pytest.approx(expected._r2_within, rel=1e-8)
    # The fixed effects exactly: mean_g(y) - mean_g(X) @ coef (pyfixest's
    # iterative solve gives them to about 1e-7).
    columns = data.assign(**{"np.log(z)": np.log(data["z"])})[[*names, "y"]]
    w = np.ones(len(data)) if weights is None else data[weights].to_numpy()
    sums = (columns * w[:, None]).groupby(data["firm"]).sum()
    means = sums.div(pd.Series(w, index=data.index).groupby(data["firm"]).sum(), axis=0)
    exact = means["y"] - means[names].to_numpy() @ model.coef_
    ours = model.fixed_effects_
    np.testing.assert_allclose(ours, exact[ours.index], rtol=1e-10, atol=1e-9)
    (effects,) = expected.fixef().values()
    # pyfixest leaves the singletons out (we keep them: each fits its row).
    assert set(effects) <= set(map(str, ours.index))
    common = [k for k in ours.index if str(k) in effects]
    np.testing.assert_allclose(
        ours[common], [effects[str(k)] for k in common], rtol=1e-5
    )


@pytest.mark.parametrize("partitions", [None, 1, 4, 13])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fixef_rm", ["singleton", "none"])
def test_one_fixed_effect_matches_pyfixest(panel, partitions, weighted, fixef_rm):
    source = panel if partitions is None else dd.from_pandas(panel, partitions)
    model = ols(
        FORMULA + " | firm",
        source,
        weights="w" if weighted else None,
        fixef_rm=fixef_rm,
    )
    expected = _feols(
        FORMULA + " | firm",
        panel,
        weights="w" if weighted else None,
        fixef_rm=fixef_rm,
    )
    _compare(model, expected, panel, "w" if weighted else None)
    singletons = int((panel["firm"].value_counts() == 1).sum())
    assert singletons >= 20
    assert model.n_singletons_ == (singletons if fixef_rm == "singleton" else 0)
    head = panel.head(50)
    predicted = np.asarray(model.predict(source.head(50) if partitions else head))
    want = expected.predict(head)
    # pyfixest gives NaN for the singletons' rows (their effect fits them),
    # and its effects to its iterative solve's tolerance (ours are exact).
    singleton = np.isnan(want)
    np.testing.assert_allclose(predicted[~singleton], want[~singleton], rtol=1e-6)
    np.testing.assert_allclose(predicted[singleton], head["y"][singleton], rtol=1e-8)


def test_a_level_in_one_partition_only_and_empty_partitions(panel):
    frame = panel.copy()
    frame.loc[frame.index[-30:], "firm"] = 999
    frame["keep"] = (frame.index < 400) | (frame.index >= 800)
    ddf = dd.from_pandas(frame, npartitions=8)
    ddf = ddf[ddf["keep"]]
    model = ols(FORMULA + " | firm", ddf)
    kept = frame[frame["keep"]]
    _compare(model, _feols(FORMULA + " | firm", kept), kept)
    assert 999 in model.fixed_effects_.index.astype(int)


def test_estimator_on_columns_one_compute_and_missing_rows(panel, computes):
    holes = panel.copy()
    holes.loc[[3, 10], "x1"] = np.nan
    holes.loc[[5], "firm"] = None
    ddf = dd.from_pandas(holes, npartitions=4)
    computes.clear()
    model = FixedEffectsRegression("firm", missing="drop").fit(
        ddf[["x1", "x2", "firm"]], ddf["y"]
    )
    assert len(computes) == 1
    expected = _feols("y ~ x1 + x2 | firm", holes.dropna(subset=["x1", "firm"]))
    np.testing.assert_allclose(model.coef_, expected.coef().to_numpy(), rtol=1e-8)
    assert model._fit_state.dropped == 3
    with pytest.raises(ValueError, match="missing"):
        FixedEffectsRegression("firm").fit(holes[["x1", "x2", "firm"]], holes["y"])


def test_bad_input_is_named(panel):
    with pytest.raises(ValueError, match="absorb='nope' is not a column of X"):
        FixedEffectsRegression("nope").fit(panel[["x1", "firm"]], panel["y"])
    with pytest.raises(TypeError, match="pandas or Dask DataFrame"):
        FixedEffectsRegression("firm").fit(panel[["x1"]].to_numpy(), panel["y"])
    with pytest.raises(ValueError, match="absorbs a column twice"):
        ols("y ~ x1 | firm + firm", panel)
    with pytest.raises(ValueError, match="only one absorbed part"):
        ols("y ~ x1 | firm | x2 ~ z", panel)
    with pytest.raises(ValueError, match="the absorbed column 'plant' is not"):
        ols("y ~ x1 | plant", panel)
    with pytest.raises(MemoryError, match="absorbed column 'firm' has"):
        ols("y ~ x1 | firm", dd.from_pandas(panel, 3), max_bytes=2000)
    model = ols("y ~ x1 | firm", panel)
    with pytest.raises(ValueError, match="level 12345, which the model has no"):
        model.predict(panel.head(2).assign(firm=12345))
    coef = model.coef_.copy()
    with pytest.raises(ValueError):
        model.fit(panel[["x1", "firm"]].assign(x1=np.inf), panel["y"])
    np.testing.assert_array_equal(model.coef_, coef)


def test_from_parquet(panel, tmp_path):
    for i, rows in enumerate(np.array_split(np.arange(len(panel)), 3)):
        panel.iloc[rows].to_parquet(tmp_path / f"part{i}.parquet")
    ddf = dd.read_parquet(tmp_path)
    model = ols(FORMULA + " | firm", ddf)
    _compare(model, _feols(FORMULA + " | firm", panel), panel)
    predicted = model.predict(ddf).compute().to_numpy()
    assert predicted.shape == (len(panel),) and np.isfinite(predicted).all()


@pytest.mark.parametrize("partitions", [None, 5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fixef_rm", ["singleton", "none"])
@pytest.mark.parametrize(
    "cov_type, vcov", [("HC1", "hetero"), ("cluster", {"CRV1": "firm"})]
)
def test_robust_standard_errors_match_pyfixest(
    panel, partitions, weighted, fixef_rm, cov_type, vcov
):
    source = panel if partitions is None else dd.from_pandas(panel, partitions)
    weights = "w" if weighted else None
    model = ols(FORMULA + " | firm", source, weights=weights, fixef_rm=fixef_rm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pyfixest.feols(
            FORMULA + " | firm", panel, vcov=vcov, weights=weights, fixef_rm=fixef_rm
        )
    results = model.inference(source, cov_type=cov_type, sample_weight=weights)
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-8)
    np.testing.assert_allclose(results.tvalues, expected.tstat(), rtol=1e-8)
    if cov_type == "cluster":
        assert results.df_resid_inference == results.n_groups - 1


def test_robust_inference_arguments_are_checked(panel):
    model = ols("y ~ x1 | firm", panel)
    with pytest.raises(ValueError, match="groups='nope' is not a column of the data"):
        model.inference(panel, cov_type="cluster", groups="nope")
    with pytest.raises(ValueError, match="groups is for cov_type='cluster' only"):
        model.inference(panel, cov_type="HC1", groups="firm")
    with pytest.raises(ValueError, match="'nonrobust', 'HC1', 'cluster' or 'CRV3'"):
        model.inference(panel, cov_type="HC3")
    with pytest.raises(ValueError, match="needs one pass over the training data"):
        model.inference(cov_type="HC1")
    with pytest.raises(ValueError, match="not the data the model was fitted on"):
        model.inference(panel.iloc[:500], cov_type="HC1")
    columns = FixedEffectsRegression("firm").fit(panel[["x1", "firm"]], panel["y"])
    with pytest.raises(ValueError, match="pass X and y"):
        columns.inference(panel[["x1", "firm"]], cov_type="HC1")
    hc1 = columns.inference(panel[["x1", "firm"]], panel["y"], cov_type="HC1")
    np.testing.assert_allclose(
        hc1.bse, model.inference(panel, cov_type="HC1").bse, rtol=1e-12
    )


def test_summary_labels_the_within_r2(panel):
    results = ols("y ~ x1 | firm", panel).inference()
    assert results.rsquared_kind == "within"
    text = str(results.summary())
    assert "R-squared (within):" in text and "uncentered" not in text


@pytest.mark.parametrize("partitions", [None, 4])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fixef_rm", ["singleton", "none"])
def test_clusters_kept_at_fit_time_need_no_pass(
    panel, partitions, weighted, fixef_rm, computes
):
    source = panel if partitions is None else dd.from_pandas(panel, partitions)
    weights = "w" if weighted else None
    computes.clear()
    model = ols(
        FORMULA + " | firm", source, weights=weights, cluster="firm", fixef_rm=fixef_rm
    )
    # One compute for Dask data (pandas data go to local threads directly).
    passes = len(computes)
    assert passes == (1 if partitions else 0)
    plain = ols(FORMULA + " | firm", panel, weights=weights, fixef_rm=fixef_rm)
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-12)
    for cov_type, vcov in [("cluster", {"CRV1": "firm"}), ("CRV3", {"CRV3": "firm"})]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = pyfixest.feols(
                FORMULA + " | firm",
                panel,
                vcov=vcov,
                weights=weights,
                fixef_rm=fixef_rm,
            )
        results = model.inference(cov_type=cov_type)
        np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
        np.testing.assert_allclose(results.tvalues, expected.tstat(), rtol=1e-6)
        assert results.df_resid_inference == expected._df_t
    assert len(computes) == passes
    with pytest.raises(ValueError, match="needs no data"):
        model.inference(panel, cov_type="cluster")
    with pytest.raises(ValueError, match="needs the clusters' statistics"):
        plain.inference(cov_type="CRV3")
    with pytest.raises(ValueError, match="cluster='nope' is not a column of data"):
        ols(FORMULA + " | firm", panel, cluster="nope")
    with pytest.raises(ValueError, match="split= and an absorbed part"):
        ols(FORMULA + " | firm", panel, split="z")


def test_a_saturated_fit_has_no_robust_standard_errors():
    """No residual degree of freedom: NaN standard errors for HC1 as for
    the classical ones, not a division by zero."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"firm": [0, 0, 1, 1, 2, 2], "x": rng.normal(size=6)})
    frame["y"] = frame.x + rng.normal(size=6)
    model = ols("y ~ x + I(x**2) + I(x**3) | firm", frame)
    assert model.inference().df_resid == 0
    assert model.inference().bse.isna().all()
    assert model.inference(frame, cov_type="HC1").bse.isna().all()
