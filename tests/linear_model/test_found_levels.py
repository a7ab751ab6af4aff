"""Categorical terms beside absorbed fixed effects whose levels the pass
finds (Dask columns of strings, unknown categoricals, booleans):
``ols("y ~ x1 + C(region) | firm", ddf)`` in one pass, against pyfixest
and against the same model with the levels given before the pass."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from dask_linreg import ols
from dask_linreg._numerics.absorbed import block_group_moments
from dask_linreg._numerics.cluster_cells import block_with_cluster_cells
from dask_linreg._numerics.found_levels import (
    WithFoundLevels,
    block_with_found_levels,
    sorted_levels,
)
from dask_linreg._numerics.multiway import block_multiway_moments
from tests.linear_model._panels import feols

REGIONS = np.array(["north", "south", "east", "west", "centre"], dtype=object)


@pytest.fixture(scope="module")
def regional(panel):
    """The panel with a region (levels unevenly spread: one level only in
    the last rows, so only in the last partition) and a boolean."""
    n = len(panel)
    region = REGIONS[np.arange(n) % 4].copy()
    region[-40:] = "centre"
    frame = panel.assign(region=region, large=panel.x1 > 0.5)
    frame["y"] = (
        frame.y + (frame.region == "south") * 2.0 - (frame.region == "centre") * 1.0
    )
    frame["y"] += np.where(frame.large, 0.7, 0.0)
    return frame


def _unknown(frame, partitions):
    """A Dask frame whose region is strings, and (partition by partition) an
    unknown categorical for ``kind``: no level known before the pass."""
    ddf = dd.from_pandas(frame, npartitions=partitions)
    return ddf.assign(region=ddf.region.astype("string"))


def _one_factor(columns, sample_weight, labels):
    return block_group_moments(
        columns, sample_weight, labels[0], factor_name="firm", max_bytes=1 << 30
    )


def _multiway(columns, sample_weight, labels):
    return block_multiway_moments(
        columns,
        sample_weight,
        labels,
        factor_names=("firm", "year"),
        max_bytes=1 << 30,
        cells="keep",
    )


def _clustered(columns, sample_weight, labels):
    return block_with_cluster_cells(
        columns,
        sample_weight,
        labels,
        n_factors=1,
        clusterings=(1,),
        names=("firm", "state"),
        max_bytes=1 << 30,
    )


def _arrays(statistic):
    """The float arrays of a statistic, in a fixed order."""
    if hasattr(statistic, "factors"):
        return [a for f in statistic.factors for a in _arrays(f)]
    if hasattr(statistic, "absorbed"):
        return _arrays(statistic.absorbed) + _arrays(statistic.clusters)
    return [statistic.shift + statistic.offsets, statistic.within, statistic.weights]


@pytest.mark.parametrize(
    "kernel, label_columns",
    [
        (_one_factor, ["firm"]),
        (_multiway, ["firm", "year"]),
        (_clustered, ["firm", "state"]),
    ],
)
def test_merged_blocks_equal_the_statistic_of_known_levels(
    regional, kernel, label_columns
):
    """Blocks with different levels, embedded in the union and merged, are
    the statistic of the blocks with every level's indicator as a column."""
    frame = regional
    x = frame[["x1", "x2"]].to_numpy()
    y = frame[["y"]].to_numpy()
    w = frame["w"].to_numpy()
    terms = [frame["region"].to_numpy(), frame["large"].to_numpy()]
    labels = [frame[c].to_numpy() for c in label_columns]
    bounds = [0, 700, 1500, len(frame)]
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        parts.append(
            block_with_found_levels(
                [x[lo:hi], y[lo:hi]],
                w[lo:hi],
                [*(a[lo:hi] for a in labels), *(t[lo:hi] for t in terms)],
                kernel=kernel,
                n_numeric=2,
                n_found=2,
                term_names=("C(region)", "large"),
                max_bytes=1 << 30,
            )
        )
    assert [len(p.levels[0]) for p in parts] == [4, 4, 5]
    merged = WithFoundLevels.merge_all(parts)
    pairwise = parts[0].merge(parts[1]).merge(parts[2])
    levels = [np.unique([str(v) for v in t]) for t in terms]
    assert [list(m) for m in merged.levels] == [list(v) for v in levels]
    # Known levels: every indicator a column of every block.
    indicators = [
        (np.asarray([str(v) for v in t])[:, None] == v[None, :]).astype(float)
        for t, v in zip(terms, levels, strict=True)
    ]
    z = np.hstack([x, *indicators])
    expected = None
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        block = kernel([z[lo:hi], y[lo:hi]], w[lo:hi], [a[lo:hi] for a in labels])
        expected = block if expected is None else expected.merge(block)
    layout = [0, 1, *((t, v) for t in range(2) for v in merged.levels[t])]
    for got in (merged, pairwise):
        for a, b in zip(_arrays(got.select(layout)), _arrays(expected), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


def test_sorted_levels_as_strings_with_missing_labels():
    levels, codes = sorted_levels(np.array(["b", None, "a", 1, "1", "b"], dtype=object))
    assert list(levels) == ["1", "a", "b"]
    assert list(codes) == [2, -1, 1, 0, 0, 2]


@pytest.mark.parametrize("partitions", [1, 5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x1 + C(region) + x2 | firm",
        "y ~ C(region) + x1 + large | firm + year",
        "y ~ region | firm",
    ],
)
def test_levels_found_in_the_pass_match_pyfixest(
    regional, partitions, weighted, formula, computes
):
    data = _unknown(regional, partitions)
    weights = "w" if weighted else None
    computes.clear()
    model = ols(formula, data, weights=weights)
    assert len(computes) == 1
    expected = feols(formula, regional, weights=weights)
    names = [n for n in model.feature_names_in_ if n not in ("firm", "year")]
    # pyfixest takes a boolean as a number; its indicator is the same column.
    assert names == [
        "large[T.True]" if n == "large" else n for n in expected.coef().index
    ]
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    np.testing.assert_allclose(model.inference().bse, expected.se(), rtol=1e-6)
    hc1 = model.inference(data, cov_type="HC1", sample_weight=weights)
    want = feols(formula, regional, vcov="hetero", weights=weights)
    np.testing.assert_allclose(hc1.bse, want.se(), rtol=1e-6)
    # The same model as with the levels given: the same numbers.
    given = ols(formula, regional, weights=weights)
    np.testing.assert_allclose(model.coef_, given.coef_, rtol=1e-10)
    rows = regional.head(50)
    np.testing.assert_allclose(
        np.asarray(model.predict(rows)), np.asarray(given.predict(rows)), rtol=1e-10
    )
    with pytest.raises(ValueError, match="'nowhere', which is not among"):
        model.predict(rows.assign(region="nowhere"))


@pytest.mark.parametrize(
    "absorbed, cluster", [("firm", "state"), ("firm + year", "firm")]
)
def test_clusters_at_fit_time_with_found_levels(regional, absorbed, cluster, computes):
    formula = f"y ~ x1 + C(region) | {absorbed}"
    data = _unknown(regional, 4)
    computes.clear()
    model = ols(formula, data, cluster=cluster, weights="w")
    results = model.inference(cov_type="cluster")
    assert len(computes) == 1
    expected = feols(formula, regional, vcov={"CRV1": cluster}, weights="w")
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    np.testing.assert_allclose(results.bse, expected.se(), rtol=1e-6)


@pytest.mark.parametrize("options", [{"split_out": 3}, {"fixef_solver": "passes"}])
def test_split_out_and_the_passes_fallback(regional, options):
    formula = "y ~ x1 + C(region) | firm + year"
    model = ols(formula, _unknown(regional, 6), **options)
    expected = feols(formula, regional)
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    np.testing.assert_allclose(model.inference().bse, expected.se(), rtol=1e-6)


def test_missing_levels_drop_rows_or_are_named(regional):
    frame = regional.assign(region=regional.region.where(regional.index % 97 != 3))
    data = _unknown(frame, 4)
    model = ols("y ~ x1 + C(region) | firm", data, missing="drop")
    kept = frame.dropna(subset=["region"])
    expected = feols("y ~ x1 + C(region) | firm", kept)
    np.testing.assert_allclose(model.coef_, expected.coef(), rtol=1e-8)
    assert model._fit_state.dropped == len(frame) - len(kept)
    with pytest.raises(ValueError, match="categorical term 'C\\(region\\)'"):
        ols("y ~ x1 + C(region) | firm", data)


def test_a_term_of_too_many_levels_is_refused_before_the_pass_runs_out(regional):
    frame = regional.assign(code=regional.index.astype(str))
    with pytest.raises(MemoryError, match="code.*Absorb it"):
        ols(
            "y ~ x1 + code | firm",
            _unknown(frame, 2).astype({"code": "string"}),
            max_bytes=1 << 20,
        )


def test_found_levels_are_sorted_as_strings_the_first_the_reference(regional):
    frame = regional.assign(
        region=pd.Categorical(regional.region, categories=REGIONS[::-1])
    )
    ddf = dd.from_pandas(frame, npartitions=3)
    # Categories unknown on the Dask frame: the pass finds them, sorted.
    ddf = ddf.assign(region=ddf.region.cat.as_unknown())
    model = ols("y ~ x1 + region | firm", ddf)
    names = [n for n in model.feature_names_in_ if n != "firm"]
    assert names == ["x1", *(f"region[T.{r}]" for r in sorted(REGIONS)[1:])]
