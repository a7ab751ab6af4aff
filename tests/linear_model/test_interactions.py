"""Interactions with categorical columns (``x1:C(region)``, ``C(a):C(b)``)
against statsmodels' formulas on the same data."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from sklearn.linear_model import Ridge as SklearnRidge

from dask_linreg import ElasticNet, LinearRegression, Ridge, design, fit_formula, ols
from tests.linear_model._statsmodels_oracle import (
    RTOL,
    assert_matches_statsmodels,
    assert_ols_matches_statsmodels,
    statsmodels_names,
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 900
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(1.0, 3.0, n),
            "region": rng.choice(list("abcd"), n),
            "channel": pd.Categorical(
                rng.choice(["web", "store", "phone"], n),
                categories=["web", "store", "phone"],
            ),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    frame["region"] = frame["region"].astype("string")
    slope = frame["region"].map({"a": 0.0, "b": 1.0, "c": -0.5, "d": 2.0})
    frame["y"] = (
        1.0
        + slope.to_numpy(dtype=float) * frame.x1
        + np.log(frame.x2)
        + 0.7
        * ((frame.region == "b") & (frame.channel == "store")).to_numpy(dtype=float)
        + rng.normal(size=n)
    )
    return frame


FORMULAS = [
    "y ~ x1 + C(region) + x1:C(region)",
    "y ~ C(region) * C(channel)",
    "y ~ C(region):C(channel)",
    "y ~ x1:C(region) + np.log(x2)",
    "y ~ C(region) + C(region):x1 + x1:x2",
    "y ~ x1 * x2 * C(region)",
    "y ~ channel:x1:region + x2",
    "y ~ C(region) * channel - 1",
    "y ~ 0 + C(region):C(channel)",
]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("partitions", [None, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_interactions_match_statsmodels(data, formula, partitions, weighted):
    assert_ols_matches_statsmodels(formula, data, partitions, weighted)


def test_column_order_and_names_follow_formulaic(data):
    model = ols("y ~ C(region) * C(channel)", data)
    names = list(model.coef_names_)
    assert names[:5] == [
        "C(region)[T.b]",
        "C(region)[T.c]",
        "C(region)[T.d]",
        "C(channel)[T.store]",
        "C(channel)[T.phone]",
    ]
    # The first factor varies fastest, as formulaic orders the columns.
    assert names[5:8] == [
        "C(region)[T.b]:C(channel)[T.store]",
        "C(region)[T.c]:C(channel)[T.store]",
        "C(region)[T.d]:C(channel)[T.store]",
    ]


def test_a_pair_seen_in_one_partition_only_and_empty_partitions(data):
    frame = data.copy()
    frame["region"] = frame["region"].astype(object)
    # Level "e" only in the last rows (one partition), a pair ("e", "web")
    # nowhere else; filtering empties some partitions.
    frame.loc[frame.index[-12:], "region"] = "e"
    frame.loc[frame.index[-12:-6], "channel"] = "web"
    frame["keep"] = (frame.index < 150) | (frame.index >= 600)
    ddf = dd.from_pandas(frame, npartitions=9)
    ddf = ddf[ddf["keep"]]
    kept = frame[frame["keep"]]
    formula = "y ~ x1 * C(region) + C(region):C(channel)"
    model = ols(formula, ddf)
    expected = smf.ols(formula, kept).fit()
    results = model.inference()
    names = statsmodels_names(results)
    assert "C(region)[T.e]:C(channel)[web]" not in names  # spanned: reduced
    assert "x1:C(region)[T.e]" in names
    identified = results.identified.to_numpy()
    # Pairs never seen are zero columns: unidentified here, zero in
    # statsmodels' minimum-norm solve.
    np.testing.assert_allclose(
        results.params[identified],
        expected.params[np.asarray(names)[identified]],
        rtol=1e-7,
        atol=1e-10,
    )


def test_parquet_with_unknown_categories(data, tmp_path):
    frame = data.copy()
    frame["region"] = frame["region"].astype("category")
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 4)):
        frame.iloc[rows].to_parquet(tmp_path / f"part{i}.parquet")
    ddf = dd.read_parquet(tmp_path)
    formula = "y ~ x1 * region + region:channel"
    assert_matches_statsmodels(
        ols(formula, ddf), smf.ols(formula, frame).fit(), frame, ddf
    )


def test_missing_values_are_dropped_from_interactions(data):
    frame = data.copy()
    frame["x1"] = frame["x1"].mask(frame.index % 17 == 3)
    frame["region"] = frame["region"].mask(frame.index % 23 == 5)
    formula = "y ~ x1 * C(region) + C(region):C(channel)"
    model = ols(formula, dd.from_pandas(frame, npartitions=3), missing="drop")
    # patsy cannot sort pd.NA among the levels: it is given None.
    oracle = frame.astype({"region": object})
    oracle["region"] = oracle["region"].where(oracle["region"].notna(), None)
    expected = smf.ols(formula, oracle, missing="drop").fit()
    results = model.inference()
    names = statsmodels_names(results)
    np.testing.assert_allclose(results.params, expected.params[names], rtol=RTOL)
    np.testing.assert_allclose(results.bse, expected.bse[names], rtol=RTOL)
    assert results.nobs == expected.nobs
    assert results.n_dropped == len(frame) - expected.nobs


def test_one_compute_fits_interactions(data, computes):
    ols("y ~ x1 * C(region) + C(region):channel", dd.from_pandas(data, npartitions=4))
    assert len(computes) == 1


def test_penalized_models_keep_every_level_of_every_term(data):
    formula = "y ~ x1 * C(region)"
    model = fit_formula(Ridge(alpha=2.0), formula, data)
    names = list(model.coef_names_)
    assert names == [
        "x1",
        "C(region)[a]",
        "C(region)[b]",
        "C(region)[c]",
        "C(region)[d]",
        "x1:C(region)[a]",
        "x1:C(region)[b]",
        "x1:C(region)[c]",
        "x1:C(region)[d]",
    ]
    levels = np.array(list("abcd"))
    indicators = (data["region"].to_numpy()[:, None] == levels).astype(float)
    dense = np.column_stack(
        [data.x1, indicators, data.x1.to_numpy()[:, None] * indicators]
    )
    expected = SklearnRidge(alpha=2.0).fit(dense, data.y)
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, expected.intercept_, rtol=1e-9)
    np.testing.assert_allclose(
        model.predict(data.head(20)), expected.predict(dense[:20]), rtol=1e-9
    )
    lasso = fit_formula(ElasticNet(alpha=0.01, l1_ratio=0.5), formula, data)
    assert list(lasso.coef_names_) == names


def test_fit_formula_does_not_change_the_estimator(data):
    estimator = LinearRegression(fit_intercept=False)
    fitted = fit_formula(estimator, "y ~ x1:C(region)", data)
    assert fitted is not estimator and fitted.fit_intercept
    assert not hasattr(estimator, "coef_") and not estimator.fit_intercept


def test_design_refuses_what_a_frame_cannot_express(data):
    with pytest.raises(ValueError, match="fit_formula\\(estimator, formula, data\\)"):
        design("y ~ x1:C(region)", data)
    with pytest.raises(TypeError, match="LinearRegression, Ridge, ElasticNet or Lasso"):
        from dask_linreg import RidgeCV

        fit_formula(RidgeCV(), "y ~ x1", data)


def test_too_many_combinations_fail_naming_the_factors(data):
    with pytest.raises(
        ValueError,
        match=r"interaction of 'C\(region\)' and 'C\(channel\)' has more than "
        r"max_levels=5 level combinations",
    ):
        ols(
            "y ~ C(region):C(channel)",
            dd.from_pandas(data, npartitions=2),
            max_levels=5,
        )


def test_get_prediction_of_interactions(data):
    formula = "y ~ x1 * C(region) + C(region):C(channel)"
    model = ols(formula, data)
    expected = smf.ols(formula, data).fit()
    new = data.head(30)
    frame = model.inference().get_prediction(new).summary_frame()
    want = expected.get_prediction(new).summary_frame()
    np.testing.assert_allclose(frame["mean"], want["mean"], rtol=1e-9)
    np.testing.assert_allclose(frame["mean_se"], want["mean_se"], rtol=1e-7)


def test_partial_fit_of_a_formula_model_says_to_merge(data):
    model = ols("y ~ x1 * C(region)", data)
    coef = model.coef_.copy()
    with pytest.raises(TypeError, match=r"fitted from the formula .* merge\(\)"):
        model.partial_fit(data[["x1", "region"]], data["y"])
    np.testing.assert_array_equal(model.coef_, coef)
    merged = model.merge(ols("y ~ x1 * C(region)", data.iloc[:100]))
    expected = smf.ols("y ~ x1 * C(region)", pd.concat([data, data.iloc[:100]])).fit()
    names = statsmodels_names(merged.inference())
    np.testing.assert_allclose(merged.inference().params, expected.params[names])
