"""ols() and design() against statsmodels' formulas on the same data."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from dask_linreg import Ridge, design, fit_formula, ols
from tests.linear_model._statsmodels_oracle import assert_ols_matches_statsmodels


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 800
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(1.0, 3.0, n),
            "x3": rng.normal(size=n) + 3.0,
            "region": rng.choice(list("abcd"), n),
            "channel": rng.choice(["web", "store", "phone"], n),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    frame["y"] = (
        frame.x1
        + np.log(frame.x2)
        + (frame.region == "b")
        + 0.1 * frame.x1 * (frame.x3 - 3.0)
        + rng.normal(size=n)
    )
    return frame


FORMULAS = [
    "y ~ x1 + np.log(x2) + C(region)",
    "y ~ x1 + x1:x3 + I(x1**2) + C(region) + C(channel, levels=['web', 'store', 'phone'])",
    "y ~ C(region) + x1 - 1",
    "np.log(x2) ~ x1 + channel + 0",
]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("partitions", [None, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_ols_matches_statsmodels(data, formula, partitions, weighted):
    assert_ols_matches_statsmodels(formula, data, partitions, weighted)


def test_one_compute_fits_a_formula_over_dask(data, computes):
    ols("y ~ x1 + np.log(x2) + C(region)", dd.from_pandas(data, npartitions=4))
    assert len(computes) == 1


def test_design_serves_the_other_estimators(data):
    X, y, fit_intercept = design("y ~ x1 + np.log(x2) + C(region)", data)
    assert list(X.columns) == ["x1", "np.log(x2)", "C(region)"] and fit_intercept
    model = Ridge(alpha=1.0).fit(X, y)
    dummies = pd.get_dummies(X, columns=["C(region)"], dtype=float)
    from sklearn.linear_model import Ridge as SklearnRidge

    expected = SklearnRidge(alpha=1.0).fit(dummies, y)
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-9)
    assert model.coef_names_[2] == "C(region)[a]"


@pytest.mark.parametrize(
    "formula, message",
    [
        ("y ~ center(x1)", "stateful transform \\(center\\)"),
        ("y ~ x1 + nope", "names column 'nope', which the data do not have"),
        ("y ~ C(region, Sum)", "treatment coding is the only contrast"),
        ("y ~ x1 ~ x2", "cannot be parsed|needs a target"),
        ("y ~ x1 | region + region", "absorbs a column twice"),
        ("y ~ x1 | region + plant", "absorbed column .plant. is not a column"),
        ("y ~ C(x1)", "column 'x1' is numeric .* make it a category first"),
    ],
)
def test_formulas_that_cannot_be_fitted_are_refused_before_the_pass(
    data, formula, message, computes
):
    ddf = dd.from_pandas(data, npartitions=2)
    with pytest.raises(ValueError, match=message):
        ols(formula, ddf)
    assert computes == []


def test_absorbed_parts_are_for_ols_only(data):
    with pytest.raises(ValueError, match="fitted by dask_linreg.ols only"):
        design("y ~ x1 | region", data)
    with pytest.raises(ValueError, match="fitted by dask_linreg.ols only"):
        fit_formula(Ridge(), "y ~ x1 | region", data)


def test_ols_arguments_are_checked(data, tmp_path):
    with pytest.raises(TypeError, match="takes the intercept from the formula"):
        ols("y ~ x1", data, fit_intercept=False)
    with pytest.raises(ValueError, match="weights='nope' is not a column"):
        ols("y ~ x1", data, weights="nope")
    with pytest.raises(TypeError, match="formula must be a string"):
        ols(3, data)
    with pytest.raises(TypeError, match="data must be a pandas or Dask DataFrame"):
        ols("y ~ x1", data.to_numpy())
    model = ols("y ~ x1 + C(region)", data)
    with pytest.raises(
        TypeError,
        match="fitted from a formula \\(ols\\(\\) or fit_formula\\(\\)\\) cannot be saved",
    ):
        model.save(tmp_path / "model.json")
    assert model.score(data, data["y"]) == pytest.approx(
        smf.ols("y ~ x1 + C(region)", data).fit().rsquared, rel=1e-10
    )
