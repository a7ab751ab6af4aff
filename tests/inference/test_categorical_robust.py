"""Robust covariances (HC0-HC3, cluster) of models with categorical columns
and interactions, against statsmodels' on the same data: one pass, the
model's rows held sparse, the indicators never built."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from dask_linreg import LinearRegression, ols

RTOL = 1e-8


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(21)
    n = 700
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "z": rng.uniform(1.0, 3.0, n),
            "g": rng.choice(list("abcd"), n),
            "h": rng.choice(["u", "v", "w"], n),
            "cluster": rng.integers(0, 30, n),
            "wt": rng.uniform(0.5, 2.0, n),
        }
    )
    scale = 1.0 + (frame["g"] == "a") + 0.5 * frame["z"]
    frame["y"] = (
        frame.x
        + frame["g"].map({"a": 0.0, "b": 1.0, "c": 2.0, "d": -1.0})
        + 0.5 * frame.x * (frame["h"] == "v")
        + rng.normal(size=n) * scale
    )
    return frame


def _names(results):
    return ["Intercept" if n == "intercept" else n for n in results.params.index]


@pytest.mark.parametrize(
    "formula",
    ["y ~ x + C(g)", "y ~ x * C(h) + C(g):C(h) + np.log(z)", "y ~ 0 + C(g):x + C(h)"],
)
@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3", "cluster"])
@pytest.mark.parametrize("weighted", [False, True])
def test_formula_models_match_statsmodels(data, formula, cov_type, weighted):
    model = ols(formula, data, weights="wt" if weighted else None)
    groups = {"groups": data["cluster"]} if cov_type == "cluster" else {}
    fitted = (
        smf.wls(formula, data, weights=data["wt"])
        if weighted
        else smf.ols(formula, data)
    )
    expected = fitted.fit(
        cov_type=cov_type,
        cov_kwds={"groups": data["cluster"]} if cov_type == "cluster" else None,
    )
    results = model.inference(
        data, cov_type=cov_type, sample_weight="wt" if weighted else None, **groups
    )
    names = _names(results)
    np.testing.assert_allclose(results.bse, expected.bse[names], rtol=RTOL)
    np.testing.assert_allclose(results.pvalues, expected.pvalues[names], rtol=1e-6)


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_dask_columns_in_any_partitioning(data, partitions):
    features = ["x", "g", "h"]
    model = LinearRegression().fit(data[features], data["y"])
    ddf = dd.from_pandas(data, npartitions=partitions)
    for cov_type in ("HC3", "cluster"):
        groups = {"groups": ddf["cluster"]} if cov_type == "cluster" else {}
        results = model.inference(ddf[features], ddf["y"], cov_type=cov_type, **groups)
        expected = smf.ols("y ~ x + g + h", data).fit(
            cov_type=cov_type,
            cov_kwds={"groups": data["cluster"]} if cov_type == "cluster" else None,
        )
        np.testing.assert_allclose(
            results.bse, expected.bse[_names(results)], rtol=RTOL
        )


def test_other_data_than_the_fit_is_refused(data):
    model = ols("y ~ x + C(g)", data)
    with pytest.raises(ValueError, match="not the data the model was fitted on"):
        model.inference(data.iloc[:300], cov_type="HC0")
    other = data.assign(g=data["g"].replace({"d": "e"}))
    with pytest.raises(ValueError, match="level 'e', which the model was not fitted"):
        model.inference(other, cov_type="HC1")
    with pytest.raises(ValueError, match="pass the data"):
        model.inference(cov_type="HC1")
    columns = LinearRegression().fit(data[["x", "g"]], data["y"])
    with pytest.raises(ValueError, match="categorical columns \\['g'\\]"):
        columns.inference(data[["x", "z"]].rename(columns={"z": "g"}), data["y"],
                          cov_type="HC0")  # fmt: skip


def test_a_formula_model_clusters_by_a_column_name(data):
    model = ols("y ~ x + C(g)", dd.from_pandas(data, npartitions=3))
    results = model.inference(
        dd.from_pandas(data, npartitions=3), cov_type="cluster", groups="cluster"
    )
    expected = smf.ols("y ~ x + C(g)", data).fit(
        cov_type="cluster", cov_kwds={"groups": data["cluster"]}
    )
    np.testing.assert_allclose(results.bse, expected.bse[_names(results)], rtol=RTOL)
    with pytest.raises(ValueError, match="groups='nope' is not a column"):
        model.inference(data, cov_type="cluster", groups="nope")
