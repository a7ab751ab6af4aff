"""missing="drop": rows with a missing value left out inside the one pass,
against statsmodels' missing="drop" on the same data."""

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import dask_linreg
from dask_linreg import LinearRegression, ols

RTOL = 1e-8


@pytest.fixture(scope="module")
def holes():
    rng = np.random.default_rng(11)
    n = 500
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "region": rng.choice(["a", "b", "c"], n).astype(object),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    frame["y"] = frame["x1"] + frame["x2"].astype(float) * 0.3 + rng.normal(size=n)
    frame.loc[[3, 40], "x1"] = np.nan
    frame.loc[[5], "x2"] = pd.NA
    frame.loc[[7, 300], "y"] = np.nan
    frame.loc[[9], "region"] = None
    frame.loc[[11, 12], "w"] = np.nan
    return frame


def _expected(frame, formula, weighted):
    data = frame.astype({"x2": float})
    if weighted:
        return smf.wls(formula, data, weights=data["w"], missing="drop").fit()
    return smf.ols(formula, data, missing="drop").fit()


@pytest.mark.parametrize("partitions", [None, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_drop_matches_statsmodels(holes, partitions, weighted):
    source = (
        holes if partitions is None else dd.from_pandas(holes, npartitions=partitions)
    )
    formula = "y ~ x1 + x2 + C(region)"
    model = ols(formula, source, weights="w" if weighted else None, missing="drop")
    expected = _expected(holes, formula, weighted)
    results = model.inference()
    names = ["Intercept" if n == "intercept" else n for n in results.params.index]
    np.testing.assert_allclose(results.params, expected.params[names], rtol=RTOL)
    np.testing.assert_allclose(results.bse, expected.bse[names], rtol=RTOL)
    np.testing.assert_allclose(results.rsquared, expected.rsquared, rtol=RTOL)
    np.testing.assert_allclose(results.fvalue, expected.fvalue, rtol=RTOL)
    assert results.nobs == expected.nobs
    assert results.n_dropped == len(holes) - expected.nobs == (8 if weighted else 6)
    assert f"{results.n_dropped} row(s) with a missing value were left out" in str(
        model.summary()
    )


@pytest.mark.parametrize("kind", ["numpy", "dask array", "dask dataframe"])
def test_drop_on_numeric_inputs(holes, kind):
    X = holes[["x1", "x2"]].astype(float).to_numpy()
    y = holes["y"].to_numpy()
    if kind == "dask array":
        X, y = da.from_array(X, chunks=(120, 1)), da.from_array(y, chunks=120)
    elif kind == "dask dataframe":
        ddf = dd.from_pandas(holes.astype({"x2": float}), npartitions=3)
        X, y = ddf[["x1", "x2"]], ddf["y"]
    model = LinearRegression(missing="drop").fit(X, y)
    kept = holes[["x1", "x2", "y"]].astype(float).dropna()
    expected = sm.OLS(kept["y"], sm.add_constant(kept[["x1", "x2"]])).fit()
    np.testing.assert_allclose(model.coef_, expected.params[["x1", "x2"]], rtol=RTOL)
    assert model.inference().n_dropped == 5
    # score leaves out the same rows.
    np.testing.assert_allclose(model.score(X, y), expected.rsquared, rtol=1e-10)


@pytest.mark.parametrize(
    "estimator",
    ["Ridge", "RidgeCV", "ElasticNet", "Lasso", "ElasticNetCV", "LassoCV"],
)
def test_every_estimator_drops_like_a_fit_on_the_complete_rows(holes, estimator):
    X = holes[["x1", "x2"]].astype(float).to_numpy()
    y = holes["y"].to_numpy()
    keep = ~np.isnan(X).any(axis=1) & ~np.isnan(y)
    make = getattr(dask_linreg, estimator)
    params = {"cv": 3} if estimator.endswith("CV") else {}
    dropped = make(missing="drop", **params).fit(X, y)
    complete = make(**params).fit(X[keep], y[keep])
    np.testing.assert_allclose(dropped.coef_, complete.coef_, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="non-finite|contains NaN"):
        make(**params).fit(X, y)


def test_inf_is_never_dropped_and_partial_fit_counts_every_batch(holes):
    X = holes[["x1", "x2"]].astype(float).to_numpy()
    y = holes["y"].to_numpy()
    model = LinearRegression(missing="drop")
    model.partial_fit(X[:250], y[:250]).partial_fit(X[250:], y[250:])
    assert model.inference().n_dropped == 5
    X[100, 0] = np.inf
    with pytest.raises(ValueError, match=r"Input X contains 1 non-finite value"):
        LinearRegression(missing="drop").fit(X, y)
    with pytest.raises(ValueError, match="'missing' parameter of LinearRegression"):
        LinearRegression(missing="ignore").fit(X, y)


def test_a_model_file_keeps_the_count_of_rows_dropped(holes, tmp_path):
    import json

    from dask_linreg import load

    model = ols("y ~ x1 + C(region)", holes, missing="drop")
    X, y, _ = dask_linreg.design("y ~ x1 + C(region)", holes)
    saved = LinearRegression(missing="drop").fit(X, y)
    saved.save(tmp_path / "model.json")
    loaded = load(tmp_path / "model.json")
    assert loaded.inference().n_dropped == model.inference().n_dropped == 5
    document = json.loads((tmp_path / "model.json").read_text())
    document["rows_dropped"] = -1
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="'rows_dropped' is -1; expected a count"):
        load(tmp_path / "bad.json")
