"""Clusters kept at fit time for any absorbed model (``ols("y ~ x | firm +
year", data, cluster="state")``): CRV1 one and two ways and the CRV3
jackknife from the one pass, against pyfixest and against the same
standard errors computed by a second pass over the data."""

import dask.dataframe as dd
import numpy as np
import pytest

from dask_linreg import ols
from tests.linear_model._panels import FORMULA, feols, source


@pytest.fixture(scope="module")
def grouped(panel):
    """The panel with a clustering nested in no absorbed factor (as numbers,
    and as strings)."""
    group = (panel.firm * 7 + panel.year) % 13
    return panel.assign(group=group, label="g" + group.astype(str))


@pytest.mark.parametrize("partitions", [None, 5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "absorbed, cluster",
    [
        ("firm + year", "firm"),
        ("firm + year", "state"),
        ("firm + year", "group"),
        ("firm", "state"),
        ("firm", "year"),
        ("firm", "label"),
        ("year", "firm"),
    ],
)
def test_crv1_kept_at_fit_time_matches_pyfixest_and_a_second_pass(
    grouped, partitions, weighted, absorbed, cluster, computes
):
    data = source(grouped, partitions)
    weights = "w" if weighted else None
    formula = f"{FORMULA} | {absorbed}"
    computes.clear()
    model = ols(formula, data, weights=weights, cluster=cluster)
    assert len(computes) == (1 if partitions else 0)
    results = model.inference(cov_type="cluster")
    assert len(computes) == (1 if partitions else 0)
    expected = feols(formula, grouped, vcov={"CRV1": cluster}, weights=weights)
    names = list(expected.coef().index)
    np.testing.assert_allclose(model.coef_, expected.coef()[names], rtol=1e-8)
    np.testing.assert_allclose(results.bse, expected.se()[names], rtol=1e-6)
    assert results.df_resid_inference == expected._df_t
    assert results.n_groups == expected._G[0]
    # The same covariance from a model that reads the data again: the kept
    # statistics are the per-cluster scores' sums, exactly.
    plain = ols(formula, grouped, weights=weights)
    again = plain.inference(
        grouped, cov_type="cluster", groups=cluster, sample_weight=weights
    )
    np.testing.assert_allclose(results.cov_params(), again.cov_params(), rtol=1e-10)
    # The iid and HC-free parts of the fit are those of a fit without clusters.
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-12)
    np.testing.assert_allclose(model.inference().bse, plain.inference().bse, rtol=1e-12)


@pytest.mark.parametrize("partitions", [None, 4])
@pytest.mark.parametrize(
    "absorbed, clusters",
    [
        ("firm + year", ["firm", "year"]),
        ("year", ["state", "group"]),
        ("firm + year", ["label", "firm"]),
    ],
)
def test_two_way_clusters_kept_at_fit_time(
    grouped, partitions, absorbed, clusters, computes
):
    formula = f"{FORMULA} | {absorbed}"
    computes.clear()
    model = ols(formula, source(grouped, partitions), weights="w", cluster=clusters)
    results = model.inference(cov_type="cluster")
    assert len(computes) == (1 if partitions else 0)
    expected = feols(formula, grouped, vcov={"CRV1": "+".join(clusters)}, weights="w")
    names = list(expected.coef().index)
    np.testing.assert_allclose(results.bse, expected.se()[names], rtol=1e-6)
    assert results.df_resid_inference == expected._df_t
    plain = ols(formula, grouped, weights="w")
    again = plain.inference(
        grouped, cov_type="cluster", groups=clusters, sample_weight="w"
    )
    np.testing.assert_allclose(results.cov_params(), again.cov_params(), rtol=1e-10)
    with pytest.raises(ValueError, match="CRV3.*is one-way"):
        model.inference(cov_type="CRV3")


@pytest.mark.parametrize("partitions", [None, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "absorbed, cluster",
    [("firm", "state"), ("firm + state", "state"), ("state", "state")],
)
def test_crv3_when_the_absorbed_factors_nest_in_the_clusters(
    grouped, partitions, weighted, absorbed, cluster
):
    weights = "w" if weighted else None
    formula = f"{FORMULA} | {absorbed}"
    model = ols(formula, source(grouped, partitions), weights=weights, cluster=cluster)
    results = model.inference(cov_type="CRV3")
    expected = feols(formula, grouped, vcov={"CRV3": cluster}, weights=weights)
    names = list(expected.coef().index)
    np.testing.assert_allclose(results.bse, expected.se()[names], rtol=1e-6)
    assert results.df_resid_inference == expected._df_t


def test_crv3_refused_where_a_factor_is_not_nested(grouped):
    model = ols(FORMULA + " | firm + year", grouped, cluster="firm")
    with pytest.raises(ValueError, match="'year'.*Use cov_type='cluster'"):
        model.inference(cov_type="CRV3")
    # The refused call leaves the model as it was.
    np.testing.assert_allclose(
        model.inference(cov_type="cluster").bse,
        ols(FORMULA + " | firm + year", grouped)
        .inference(grouped, cov_type="cluster", groups="firm")
        .bse,
        rtol=1e-10,
    )


def test_many_levels_two_ways_every_solver_keeps_the_clusters(movers):
    formula = FORMULA + " | worker + firm"
    data = dd.from_pandas(movers, 4)
    direct = ols(formula, data, cluster="firm", fixef_solver="direct")
    kept = direct.inference(cov_type="cluster")
    again = ols(formula, movers, fixef_solver="direct").inference(
        movers, cov_type="cluster", groups="firm"
    )
    np.testing.assert_allclose(kept.cov_params(), again.cov_params(), rtol=1e-10)
    cg = ols(formula, data, cluster="firm", fixef_solver="cg")
    np.testing.assert_allclose(cg.coef_, direct.coef_, rtol=1e-10)
    np.testing.assert_allclose(
        cg.inference(cov_type="cluster").cov_params(), kept.cov_params(), rtol=1e-8
    )
    # The passes count the connected components too (their last pass links
    # the levels), where pyfixest counts one reference level per factor.
    passes = ols(formula, data, cluster="firm", fixef_solver="passes")
    assert passes.n_effects_ == direct.n_effects_ == cg.n_effects_
    expected = feols(formula, movers, vcov={"CRV1": "firm"})
    assert direct.n_effects_ < expected._k_fe.sum() - 1
    np.testing.assert_allclose(passes.coef_, expected.coef(), rtol=1e-8)
    np.testing.assert_allclose(
        passes.inference(cov_type="cluster").cov_params(),
        kept.cov_params(),
        rtol=1e-7,
    )


def test_split_out_and_partitionings_agree(grouped):
    formula = FORMULA + " | firm + year"
    reference = ols(formula, grouped, cluster="group").inference(cov_type="cluster")
    for partitions, split_out in [(1, 1), (7, 3), (13, 2)]:
        results = ols(
            formula,
            dd.from_pandas(grouped, partitions),
            cluster="group",
            split_out=split_out,
        ).inference(cov_type="cluster")
        np.testing.assert_allclose(
            results.cov_params(), reference.cov_params(), rtol=1e-10
        )


def test_a_missing_cluster_label_drops_its_row(grouped):
    holed = grouped.astype({"group": "float64"})
    holed.loc[holed.index[::17], "group"] = np.nan
    formula = FORMULA + " | firm + year"
    with pytest.raises(ValueError, match="group"):
        ols(formula, holed, cluster="group")
    model = ols(formula, dd.from_pandas(holed, 3), cluster="group", missing="drop")
    kept = holed.dropna()
    expected = ols(formula, kept, cluster="group")
    assert model.inference().nobs == expected.inference().nobs
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-12)
    np.testing.assert_allclose(
        model.inference(cov_type="cluster").cov_params(),
        expected.inference(cov_type="cluster").cov_params(),
        rtol=1e-10,
    )


def test_too_many_clusters_raise_memory_error_naming_them(grouped):
    with pytest.raises(MemoryError, match="clusters 'group' kept at fit time"):
        ols(
            FORMULA + " | firm",
            dd.from_pandas(grouped, 3),
            cluster="group",
            max_bytes=30_000,
        )
