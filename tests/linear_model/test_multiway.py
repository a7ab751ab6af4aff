"""Two and more absorbed fixed effects (``ols("y ~ x | firm + year")``)
against pyfixest's ``feols`` and linearmodels' ``PanelOLS`` on the same
data: slopes, standard errors (iid, HC1, CRV1), degrees of freedom, within
R², predictions and the fixed effects' normal equations."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from dask_linreg import FixedEffectsRegression, ols
from tests.linear_model._panels import FORMULA
from tests.linear_model._panels import feols as _feols
from tests.linear_model._panels import source as _source


def _kept_rows(fit, n_rows):
    """Positions of the rows pyfixest fitted (singletons left out)."""
    return np.setdiff1d(np.arange(n_rows), list(fit._na_index))


def _components(frame, columns=("firm", "year")):
    """Connected components of the levels of two factors."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a = pd.factorize(frame[columns[0]])[0]
    b = pd.factorize(frame[columns[1]])[0]
    n = a.max() + 1 + b.max() + 1
    graph = coo_matrix((np.ones(len(a)), (a, b + a.max() + 1)), shape=(n, n))
    return connected_components(graph, directed=False)[0]


@pytest.mark.parametrize("partitions", [None, 1, 5, 17])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fixef_rm", ["singleton", "none"])
def test_two_fixed_effects_match_pyfixest(panel, partitions, weighted, fixef_rm):
    weights = "w" if weighted else None
    source = _source(panel, partitions)
    model = ols(FORMULA + " | firm + year", source, weights=weights, fixef_rm=fixef_rm)
    expected = _feols(
        FORMULA + " | firm + year", panel, weights=weights, fixef_rm=fixef_rm
    )
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    results = model.inference()
    assert results.nobs == expected._N
    # The effects counted exactly: every level less one per connected
    # component of the year levels (pyfixest: one in all, fixest's
    # approximation; the kept singletons of firm 901 in 1991 are a
    # component of their own).
    fitted = (
        panel if fixef_rm == "none" else panel.iloc[_kept_rows(expected, len(panel))]
    )
    components = _components(fitted)
    assert components == (2 if fixef_rm == "none" else 1)
    assert results.df_resid == expected._N - 2 - (expected._k_fe.sum() - components)
    pyfixest_df = expected._N - 2 - (expected._k_fe.sum() - 1)
    np.testing.assert_allclose(
        results.bse,
        expected.se() * np.sqrt(pyfixest_df / results.df_resid),
        rtol=1e-6,
    )
    assert model.r2_within_ == pytest.approx(expected._r2_within, rel=1e-8)
    assert model.fixef_sizes_ == {
        name.split("(")[-1].rstrip(")"): size for name, size in expected._k_fe.items()
    }
    assert model.n_singletons_ == len(panel) - expected._N
    if fixef_rm == "singleton":
        # Three rounds: the one-row firms, then the years they leave alone,
        # then the firm of two rows one of which was in such a year.
        assert model.n_singletons_ > 3
    rows = panel.head(200)
    want = expected.predict(rows)
    got = np.asarray(model.predict(_source(rows, partitions and 2)))
    known = ~np.isnan(want)
    assert known.sum() > 150
    np.testing.assert_allclose(got[known], want[known], rtol=1e-6)


def test_the_fixed_effects_solve_the_normal_equations(panel):
    model = ols(FORMULA + " | firm + year", panel, weights="w", fixef_rm="none")
    effects = model.fixed_effects_
    assert set(effects) == {"firm", "year"}
    residual = (
        panel["y"]
        - panel[["x1", "x2"]].to_numpy() @ model.coef_
        - effects["firm"][panel["firm"]].to_numpy()
        - effects["year"][panel["year"]].to_numpy()
    )
    weighted = residual * panel["w"]
    scale = np.abs(weighted).sum()
    for column in ("firm", "year"):
        sums = weighted.groupby(panel[column]).sum()
        assert np.abs(sums).max() < 1e-9 * scale
    for column in ("x1", "x2"):
        assert abs((weighted * panel[column]).sum()) < 1e-9 * scale * 1e4
    # One reference level per connected component, in the smaller factor.
    assert (effects["year"] == 0).sum() == 2
    assert effects["year"].index[effects["year"] == 0].min() == 1990


@pytest.mark.parametrize("partitions", [None, 6])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "cov_type, groups, vcov",
    [
        ("HC1", None, "hetero"),
        ("cluster", None, {"CRV1": "firm"}),
        ("cluster", "year", {"CRV1": "year"}),
    ],
)
def test_robust_standard_errors_match_pyfixest(
    panel, partitions, weighted, cov_type, groups, vcov
):
    weights = "w" if weighted else None
    source = _source(panel, partitions)
    model = ols(FORMULA + " | firm + year", source, weights=weights)
    expected = _feols(FORMULA + " | firm + year", panel, vcov=vcov, weights=weights)
    results = model.inference(
        source, cov_type=cov_type, groups=groups, sample_weight=weights
    )
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
    np.testing.assert_allclose(results.pvalues, expected.pvalue(), rtol=1e-6)


def test_nested_factors_count_once_when_clustered(panel):
    """firm lies within state: clustered by state, both factors are nested
    and count one parameter in all (fixest's fixef.K = "nested")."""
    formula = FORMULA + " | firm + state"
    model = ols(formula, panel)
    expected = _feols(formula, panel, vcov={"CRV1": "state"})
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    results = model.inference(panel, cov_type="cluster", groups="state")
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
    # Unclustered, the state effects are redundant given the firms': counted
    # exactly, they take no degree of freedom (pyfixest counts 7 - 1).
    assert model.n_effects_ == model.fixef_sizes_["firm"]
    iid = _feols(formula, panel)
    pyfixest_df = iid._N - 2 - (iid._k_fe.sum() - 1)
    ours = model.inference()
    assert pyfixest_df == ours.df_resid - 6
    np.testing.assert_allclose(
        ours.bse, iid.se() * np.sqrt(pyfixest_df / ours.df_resid), rtol=1e-6
    )


@pytest.mark.parametrize("partitions", [None, 4])
def test_three_fixed_effects_match_pyfixest(panel, partitions):
    frame = panel.assign(region=np.random.default_rng(3).integers(0, 9, len(panel)))
    formula = FORMULA + " | firm + year + region"
    model = ols(formula, _source(frame, partitions), weights="w")
    expected = _feols(formula, frame, weights="w")
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    np.testing.assert_allclose(model.inference().bse, expected.se(), rtol=1e-6)
    assert model.n_effects_ == expected._k_fe.sum() - 2
    want = expected.predict(frame.head(100))
    got = model.predict(frame.head(100))
    known = ~np.isnan(want)
    np.testing.assert_allclose(got[known], want[known], rtol=1e-6)


def test_entity_and_time_effects_match_linearmodels(panel):
    from linearmodels.panel import PanelOLS

    frame = panel.drop_duplicates(["firm", "year"])
    model = ols(FORMULA + " | firm + year", frame, fixef_rm="none")
    indexed = frame.set_index(["firm", "year"])
    expected = PanelOLS(
        indexed["y"], indexed[["x1", "x2"]], entity_effects=True, time_effects=True
    ).fit(cov_type="unadjusted")
    np.testing.assert_allclose(model.coef_, expected.params, rtol=1e-8)
    ours = model.inference()
    # linearmodels counts one reference level in all; the singleton firm
    # 901 of 1991 is a second connected component, which we count.
    assert _components(frame) == 2
    assert ours.df_resid == expected.df_resid + 1
    np.testing.assert_allclose(
        ours.bse,
        expected.std_errors * np.sqrt(expected.df_resid / ours.df_resid),
        rtol=1e-6,
    )
    clustered = PanelOLS(
        indexed["y"], indexed[["x1", "x2"]], entity_effects=True, time_effects=True
    ).fit(cov_type="clustered", cluster_entity=True)
    ours = model.inference(frame, cov_type="cluster", groups="firm")
    # linearmodels' small-sample factor differs from fixest's by the
    # effects it counts: compare up to it.
    ratio = np.asarray(ours.bse) / np.asarray(clustered.std_errors)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-8)


def test_one_compute_and_a_level_in_one_partition_only(panel, computes):
    frame = panel.copy()
    frame.loc[frame.index[-40:], "firm"] = 999
    ddf = dd.from_pandas(frame, npartitions=8)
    computes.clear()
    model = FixedEffectsRegression(["firm", "year"]).fit(
        ddf[["x1", "x2", "firm", "year"]], ddf["y"]
    )
    assert len(computes) == 1
    expected = _feols(FORMULA + " | firm + year", frame)
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    assert list(model.feature_names_in_) == ["x1", "x2", "firm", "year"]
    assert 999 in model.fixed_effects_["firm"].index


def test_bad_input_is_named(panel):
    with pytest.raises(ValueError, match="absorb='nope' is not a column of X"):
        FixedEffectsRegression(["firm", "nope"]).fit(
            panel[["x1", "firm", "year"]], panel["y"]
        )
    with pytest.raises(ValueError, match="absorb"):
        FixedEffectsRegression(["firm", "firm"]).fit(panel[["x1", "firm"]], panel["y"])
    with pytest.raises(MemoryError, match="cross-counts of the absorbed columns"):
        ols(
            "y ~ x1 | firm + year",
            dd.from_pandas(panel, 3),
            max_bytes=20_000,
            fixef_solver="direct",
        )
    plants = panel.assign(plant=np.arange(len(panel)) % 800)
    with pytest.raises(MemoryError, match="'firm' have .* dense system"):
        ols("y ~ x1 | firm + plant", plants, max_bytes=150_000, fixef_solver="direct")
    model = ols("y ~ x1 | firm + year", panel)
    with pytest.raises(ValueError, match="'year' has level 1800"):
        model.predict(panel.head(3).assign(year=1800))
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="x1"):
        model.fit(panel[["x1", "firm", "year"]].assign(x1=np.inf), panel["y"])
    np.testing.assert_array_equal(model.coef_, coef)


@pytest.mark.parametrize("partitions", [None, 5])
@pytest.mark.parametrize(
    "absorbed, cluster",
    [
        ("firm", "state"),  # nested
        ("firm + year", "state"),  # firm nested, year not
        ("firm + year", "group"),  # neither
        ("year", "firm"),  # not nested: each year has many firms
    ],
)
def test_clusters_that_are_not_absorbed(panel, partitions, absorbed, cluster):
    frame = panel.assign(group=np.arange(len(panel)) % 37)
    formula = f"{FORMULA} | {absorbed}"
    source = _source(frame, partitions)
    model = ols(formula, source, weights="w")
    expected = _feols(formula, frame, vcov={"CRV1": cluster}, weights="w")
    results = model.inference(
        source, cov_type="cluster", groups=cluster, sample_weight="w"
    )
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
    np.testing.assert_allclose(results.pvalues, expected.pvalue(), rtol=1e-6)
    assert results.n_groups == expected._G[0]


def test_cluster_labels_for_an_estimator_fit(panel):
    columns = panel[["x1", "x2", "firm", "year"]]
    model = FixedEffectsRegression(["firm", "year"]).fit(columns, panel["y"])
    by_labels = model.inference(
        columns, panel["y"], cov_type="cluster", groups=panel["state"].to_numpy()
    )
    expected = _feols(FORMULA + " | firm + year", panel, vcov={"CRV1": "state"})
    np.testing.assert_allclose(by_labels.bse, expected.se(), rtol=1e-6)
    with pytest.raises(ValueError, match="groups='state' is not an absorbed column"):
        model.inference(columns, panel["y"], cov_type="cluster", groups="state")


@pytest.mark.parametrize("partitions", [None, 5])
@pytest.mark.parametrize(
    "absorbed, clusters",
    [
        ("firm + year", ["firm", "year"]),  # both absorbed, both nested
        ("firm", ["firm", "year"]),  # year not absorbed, firm nested
        ("year", ["state", "group"]),  # neither absorbed nor nested
    ],
)
def test_two_way_clustering_matches_pyfixest(panel, partitions, absorbed, clusters):
    frame = panel.assign(group=np.arange(len(panel)) % 37)
    formula = f"{FORMULA} | {absorbed}"
    source = _source(frame, partitions)
    model = ols(formula, source, weights="w")
    expected = _feols(formula, frame, vcov={"CRV1": "+".join(clusters)}, weights="w")
    results = model.inference(
        source, cov_type="cluster", groups=clusters, sample_weight="w"
    )
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
    np.testing.assert_allclose(
        results.pvalues, expected.pvalue(), rtol=1e-6, atol=1e-15
    )
    assert results.n_groups == min(expected._G)


@pytest.mark.parametrize("partitions", [None, 4])
def test_two_way_clustering_without_fixed_effects(panel, partitions):
    from dask_linreg import LinearRegression

    expected = _feols(FORMULA, panel, vcov={"CRV1": "firm+year"}, weights="w")
    source = _source(panel, partitions)
    model = ols(FORMULA, source, weights="w")
    results = model.inference(
        source, cov_type="cluster", groups=("firm", "year"), sample_weight="w"
    )
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
    assert results.n_groups == min(expected._G)
    columns = LinearRegression().fit(
        panel[["x1", "x2"]], panel["y"], sample_weight=panel["w"]
    )
    by_frame = columns.inference(
        panel[["x1", "x2"]],
        panel["y"],
        sample_weight=panel["w"],
        cov_type="cluster",
        groups=panel[["firm", "year"]],
    )
    np.testing.assert_allclose(by_frame.bse, expected.se(), rtol=1e-6)
    with pytest.raises(ValueError, match="groups has 3 columns"):
        columns.inference(
            panel[["x1", "x2"]],
            panel["y"],
            cov_type="cluster",
            groups=panel[["firm", "year", "state"]],
        )
    with pytest.raises(ValueError, match="names columns"):
        columns.inference(
            panel[["x1", "x2"]], panel["y"], cov_type="cluster", groups=["firm", "year"]
        )


def test_string_levels_and_missing_rows(panel):
    frame = panel.assign(
        firm=("f" + panel["firm"].astype(str)).astype(object),
        year=panel["year"].astype(str),
    )
    frame.loc[[3, 10], "x1"] = np.nan
    frame.loc[[5, 8], "year"] = None
    ddf = dd.from_pandas(frame, npartitions=6)
    model = ols(FORMULA + " | firm + year", ddf, missing="drop")
    kept = frame.dropna(subset=["x1", "year"])
    expected = _feols(FORMULA + " | firm + year", kept)
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    assert model._fit_state.dropped == 4
    clustered = model.inference(ddf, cov_type="cluster", groups="firm")
    want = _feols(FORMULA + " | firm + year", kept, vcov={"CRV1": "firm"})
    np.testing.assert_allclose(clustered.bse, want.se(), rtol=1e-6)
    assert "f1" in model.fixed_effects_["firm"].index
    with pytest.raises(ValueError, match="missing"):
        ols(FORMULA + " | firm + year", ddf)


LEVELS = "['a', 'b', 'c', 'd', 'e']"


@pytest.mark.parametrize("partitions", [None, 4])
@pytest.mark.parametrize("given_levels", [False, True])
def test_categorical_terms_beside_absorbed_factors(panel, partitions, given_levels):
    frame = panel.assign(
        region=np.array(list("abcde"))[np.arange(len(panel)) % 5],
        kind=pd.Categorical(np.where(panel.x1 > 0, "hi", "lo")),
    )
    formula = "y ~ x1 + C(region) + kind + x2 | firm + year"
    expected = _feols(formula, frame, vcov={"CRV1": "firm"}, weights="w")
    if partitions is None:
        source, ours = frame, formula
    else:
        # Dask: region's levels given, or found in the pass.
        source = dd.from_pandas(frame, partitions).categorize(columns=["kind"])
        ours = (
            formula.replace("C(region)", f"C(region, levels={LEVELS})")
            if given_levels
            else formula
        )
    model = ols(ours, source, weights="w")
    names = [n for n in model.feature_names_in_ if n not in ("firm", "year")]
    assert [n.replace(f", levels={LEVELS}", "") for n in names] == list(
        expected.coef().index
    )
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    results = model.inference(
        source, cov_type="cluster", groups="firm", sample_weight="w"
    )
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
    rows = frame.head(60)
    want = expected.predict(rows)
    got = np.asarray(
        model.predict(
            rows
            if partitions is None
            else dd.from_pandas(rows, 2).categorize(columns=["kind"])
        )
    )
    known = ~np.isnan(want)
    np.testing.assert_allclose(got[known], want[known], rtol=1e-6)
    with pytest.raises(ValueError, match="'z', which is not among"):
        model.predict(rows.assign(region="z"))
    with pytest.raises(ValueError, match="main effects only"):
        ols("y ~ x1 * C(region) | firm", frame)


@pytest.mark.parametrize("partitions", [None, 6])
@pytest.mark.parametrize("absorbed", ["worker + firm", "worker + firm + year"])
def test_conjugate_gradients_match_pyfixest(movers, partitions, absorbed):
    formula = f"{FORMULA} | {absorbed}"
    source = _source(movers, partitions)
    model = ols(formula, source, weights="w", fixef_solver="cg")
    assert model.fixef_solver_ == "cg"
    assert 0 < model.fixef_n_iter_ and model.fixef_residual_ <= 1e-10
    direct = ols(formula, source, weights="w", fixef_solver="direct")
    assert direct.fixef_solver_ == "direct" and direct.fixef_n_iter_ == 0
    np.testing.assert_allclose(model.coef_, direct.coef_, rtol=1e-11)
    assert model.n_effects_ == direct.n_effects_
    # pyfixest counts one reference level per extra factor, ours one per
    # connected component of each with the workers: ``extra`` effects more
    # in pyfixest's denominators (n - K) of every small-sample factor.
    iid = _feols(formula, movers, weights="w")
    kept = movers.iloc[_kept_rows(iid, len(movers))]
    extra = sum(
        _components(kept, ("worker", other)) - 1 for other in absorbed.split(" + ")[1:]
    )
    assert extra > 0
    nobs, k = iid._N, 2
    ours_free = {
        "nonrobust": nobs - k - model.n_effects_,
        "HC1": nobs - k - model.n_effects_,
        # firm nested in the clusters: K counts the others' effects, plus one.
        "cluster": nobs - k - (model.n_effects_ - model.fixef_sizes_["firm"] + 1),
    }
    assert model.inference().df_resid == ours_free["nonrobust"]
    for vcov, cov_type, groups in [
        ("iid", "nonrobust", None),
        ("hetero", "HC1", None),
        ({"CRV1": "firm"}, "cluster", "firm"),
    ]:
        expected = _feols(formula, movers, vcov=vcov, weights="w")
        np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
        results = (
            model.inference()
            if cov_type == "nonrobust"
            else model.inference(
                source, cov_type=cov_type, groups=groups, sample_weight="w"
            )
        )
        free = ours_free[cov_type]
        want = expected.se() * np.sqrt((free - extra) / free)
        np.testing.assert_allclose(results.bse, want, rtol=1e-6)
    assert model.r2_within_ == pytest.approx(expected._r2_within, rel=1e-8)
    # The fixed effects solve the absorbed normal equations.
    kept = movers.iloc[_kept_rows(expected, len(movers))]
    residual = kept["y"] - kept[["x1", "x2"]].to_numpy() @ model.coef_
    for column, effects in model.fixed_effects_.items():
        residual = residual - effects[kept[column]].to_numpy()
    weighted = residual * kept["w"]
    for column in model.fixed_effects_:
        sums = weighted.groupby(kept[column]).sum()
        assert np.abs(sums).max() < 1e-9 * np.abs(weighted).sum()
    rows = movers.head(300)
    want = expected.predict(rows)
    got = np.asarray(model.predict(rows))
    known = ~np.isnan(want)
    np.testing.assert_allclose(
        got, np.asarray(direct.predict(rows)), rtol=1e-9, equal_nan=True
    )
    # pyfixest's iterated effects solve their normal equations to about
    # 1e-6 here (ours to 1e-12): its predictions agree that far.
    np.testing.assert_allclose(got[known], want[known], rtol=1e-5)


def test_auto_solves_by_conjugate_gradients_when_the_dense_system_does_not_fit(
    movers,
):
    formula = FORMULA + " | worker + firm"
    # The dense system of the firms (over 800 kept) takes 16 bytes per pair.
    small = 16 * 800 * 800
    model = ols(formula, movers, max_bytes=small)
    assert model.fixef_solver_ == "cg"
    with pytest.raises(MemoryError, match="'firm' have .* dense system"):
        ols(formula, movers, max_bytes=small, fixef_solver="direct")
    assert ols(formula, movers).fixef_solver_ == "direct"
    np.testing.assert_allclose(model.coef_, _feols(formula, movers).coef(), rtol=1e-8)


def test_conjugate_gradients_that_do_not_converge_raise_and_change_nothing(movers):
    model = ols(FORMULA + " | worker + firm", movers)
    coef = model.coef_.copy()
    params = model.get_params()
    model.set_params(fixef_solver="cg", fixef_maxiter=3)
    X = movers[["x1", "x2", "worker", "firm"]]
    with pytest.raises(RuntimeError, match="did not converge: after 3 conjugate"):
        model.fit(X, movers["y"])
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.fixef_solver_ == "direct"
    assert params["fixef_solver"] == "auto"
    for bad, match in [
        ({"fixef_solver": "lsmr"}, "fixef_solver"),
        ({"fixef_tol": 0.0}, "fixef_tol"),
        ({"fixef_maxiter": 0}, "fixef_maxiter"),
    ]:
        with pytest.raises(ValueError, match=match):
            FixedEffectsRegression(["worker", "firm"], **bad).fit(X, movers["y"])


@pytest.mark.parametrize("partitions", [None, 5])
@pytest.mark.parametrize("fixef_rm", ["singleton", "none"])
def test_passes_over_the_rows_match_the_one_pass_solve(panel, partitions, fixef_rm):
    """Without the cross-counts: singletons round by round, the levels'
    normal equations and the demeaned co-moments, each a pass."""
    source = _source(panel, partitions)
    formula = FORMULA + " | firm + year"
    passes = ols(formula, source, weights="w", fixef_rm=fixef_rm, fixef_solver="passes")
    direct = ols(formula, source, weights="w", fixef_rm=fixef_rm)
    assert passes.fixef_solver_ == "passes" and passes.fixef_residual_ <= 1e-10
    # Singleton rounds, the iterations, and the last pass.
    assert passes.n_passes_ >= passes.fixef_n_iter_ + 3
    np.testing.assert_allclose(passes.coef_, direct.coef_, rtol=1e-11)
    assert passes.n_singletons_ == direct.n_singletons_
    assert passes.r2_within_ == pytest.approx(direct.r2_within_, rel=1e-11)
    for column in ("firm", "year"):
        pd.testing.assert_index_equal(
            passes.fixed_effects_[column].index, direct.fixed_effects_[column].index
        )
    rows = panel.head(300)
    np.testing.assert_allclose(
        np.asarray(passes.predict(rows)),
        np.asarray(direct.predict(rows)),
        rtol=1e-9,
        equal_nan=True,
    )
    # The passes count the connected components, as the one-pass solve.
    assert passes.n_effects_ == direct.n_effects_
    np.testing.assert_allclose(
        passes.inference().bse, direct.inference().bse, rtol=1e-8
    )
    results = passes.inference(
        source, cov_type="cluster", groups="firm", sample_weight="w"
    )
    again = direct.inference(
        source, cov_type="cluster", groups="firm", sample_weight="w"
    )
    np.testing.assert_allclose(results.bse, again.bse, rtol=1e-8)
    expected = _feols(formula, panel, weights="w", fixef_rm=fixef_rm)
    if fixef_rm == "none":
        # Firms 900-902 of years of their own are a component apart: one
        # reference level more than pyfixest's one per extra factor.
        assert passes.n_effects_ == expected._k_fe.sum() - 2
        return
    # Without the singletons the panel is connected: pyfixest's count.
    assert passes.n_effects_ == expected._k_fe.sum() - 1
    np.testing.assert_allclose(passes.inference().bse, expected.se(), rtol=1e-6)
    clustered = _feols(
        formula, panel, weights="w", fixef_rm=fixef_rm, vcov={"CRV1": "firm"}
    )
    np.testing.assert_allclose(results.bse, clustered.se(), rtol=1e-6)


@pytest.mark.parametrize("absorbed", ["worker + firm", "worker + firm + year"])
def test_passes_when_the_cross_counts_do_not_fit(movers, absorbed):
    formula = f"{FORMULA} | {absorbed}"
    source = dd.from_pandas(movers, 4)
    # The levels' statistics fit in 110 kB, the cells (over 3,000) not.
    model = ols(formula, source, weights="w", max_bytes=110_000)
    assert model.fixef_solver_ == "passes"
    with pytest.raises(MemoryError, match="cross-counts of the absorbed columns"):
        ols(formula, source, weights="w", max_bytes=110_000, fixef_solver="cg")
    expected = _feols(formula, movers, weights="w")
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    direct = ols(formula, movers, weights="w")
    np.testing.assert_allclose(model.coef_, direct.coef_, rtol=1e-10)
    # The workers and firms fall apart in several components, which the
    # passes count as the one-pass solve does (pyfixest: one per factor).
    assert model.n_effects_ == direct.n_effects_
    assert model.n_effects_ < expected._k_fe.sum() - absorbed.count("+")
    np.testing.assert_allclose(model.inference().bse, direct.inference().bse, rtol=1e-7)
    assert model.n_singletons_ == direct.n_singletons_ == len(movers) - expected._N


def test_passes_that_do_not_converge_raise(panel):
    model = FixedEffectsRegression(
        ["firm", "year"], fixef_solver="passes", fixef_maxiter=2
    )
    with pytest.raises(RuntimeError, match="after 2 conjugate-gradient iterations"):
        model.fit(panel[["x1", "x2", "firm", "year"]], panel["y"])
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("partitions", [None, 5])
def test_two_way_clusters_kept_at_fit_time(panel, partitions, computes):
    """``ols(..., cluster=["firm", "year"])``: each clustering's and their
    intersection's moments kept in the one pass, CR1 two ways from them."""
    source = _source(panel, partitions)
    computes.clear()
    model = ols(FORMULA, source, weights="w", cluster=["firm", "year"])
    results = model.inference(cov_type="cluster", use_t=True)
    if partitions is not None:
        assert len(computes) == 1
    expected = _feols(FORMULA, panel, vcov={"CRV1": "firm+year"}, weights="w")
    # pyfixest's slope of x2 (offset 1e4) is 3.6e-8 off statsmodels' here.
    np.testing.assert_allclose(model.coef_, expected.coef().iloc[1:], rtol=1e-7)
    unclustered = ols(FORMULA, source, weights="w")
    np.testing.assert_allclose(model.coef_, unclustered.coef_, rtol=1e-11)
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)
    np.testing.assert_allclose(
        results.pvalues.iloc[1:], expected.pvalue().iloc[1:], rtol=1e-6, atol=1e-20
    )
    # pyfixest's intercept errs about 1e4 times more than its slopes (x2's
    # offset), by 1.4e-6 in its p-value under OpenBLAS's Sandybridge kernel.
    np.testing.assert_allclose(
        results.pvalues.iloc[0], expected.pvalue().iloc[0], rtol=2e-5
    )
    assert results.n_groups == min(expected._G)
    # The same as the robust pass of a model fitted without the clusters.
    passed = unclustered.inference(
        source, cov_type="cluster", groups=["firm", "year"], sample_weight="w"
    )
    np.testing.assert_allclose(results.bse, passed.bse, rtol=1e-10)
    with pytest.raises(ValueError, match="CRV3.*one-way"):
        model.inference(cov_type="CRV3")
    # Given the data, a robust pass gives the same.
    again = model.inference(
        source, cov_type="cluster", groups=["firm", "year"], sample_weight="w"
    )
    np.testing.assert_allclose(again.bse, results.bse, rtol=1e-10)


def test_two_way_cluster_arguments_are_checked(panel):
    for bad, match in [
        (["firm", "firm"], "two different columns"),
        (["firm", "year", "state"], "two different columns"),
        (["firm", "nope"], "cluster='nope' is not a column"),
    ]:
        with pytest.raises(ValueError, match=match):
            ols(FORMULA, panel, cluster=bad)
    with pytest.raises(MemoryError, match="firm"):
        ols(FORMULA, panel, cluster=["firm", "year"], max_bytes=20_000)


@pytest.mark.filterwarnings("ignore:female has no variation")
def test_a_column_the_fixed_effects_absorb_in_every_solver(movers):
    """A worker-level trait beside worker effects (three factors, CG and
    passes): collinear, as the direct solve finds it, not a diverging
    solve or a spurious slope; an empty Dask partition is fine."""
    frame = movers.assign(female=(movers.worker % 2).astype(float))
    formula = "y ~ x1 + female | worker + firm + year"
    with pytest.warns(UserWarning, match="female has no variation"):
        direct = ols(formula, frame, fixef_solver="direct")
    source = dd.from_pandas(frame, 4).map_partitions(
        lambda part: part[part.index % 4 != 1] if len(part) else part
    )
    empty = dd.from_pandas(frame, 3).map_partitions(
        lambda part: part[part.index >= 2000]
    )
    for solver, data in [("cg", frame), ("passes", source), ("passes", empty)]:
        model = ols(formula, data, fixef_solver=solver)
        assert model.rank_ == direct.rank_ == 1
        if data is frame:
            np.testing.assert_allclose(model.coef_, direct.coef_, rtol=1e-9, atol=1e-12)
        else:
            reference = ols(formula, data.compute(), fixef_solver="direct")
            np.testing.assert_allclose(
                model.coef_, reference.coef_, rtol=1e-9, atol=1e-12
            )


def test_kept_clusters_of_no_weight_are_not_counted(panel):
    frame = panel.assign(w=np.where(panel["year"] == 2005, 0.0, panel["w"]))
    for cluster, groups in [("year", "year"), (["firm", "year"], ["firm", "year"])]:
        kept = ols(FORMULA, frame, weights="w", cluster=cluster)
        passed = ols(FORMULA, frame, weights="w").inference(
            frame, cov_type="cluster", groups=groups, sample_weight="w"
        )
        results = kept.inference(cov_type="cluster")
        assert results.n_groups == passed.n_groups
        np.testing.assert_allclose(results.bse, passed.bse, rtol=1e-10)
