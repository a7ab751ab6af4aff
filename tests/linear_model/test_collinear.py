"""Columns without variation once the fixed effects (or a group's mean) are
taken out: an attribute of each firm with firm effects, a trend in the
years with year effects, a store's own attribute in a split fit.  What is
left of them is rounding or the solve's error, and a slope fitted to it is
noise of any size; they are out of the rank, their slopes 0 and standard
errors NaN, as fixest and pyfixest drop them, on pandas and on Dask alike."""

import warnings

import dask.dataframe as dd
import numpy as np
import pytest
import statsmodels.formula.api as smf

from dask_linreg import ols
from tests.linear_model._panels import feols


@pytest.fixture(scope="module")
def attributed(panel):
    """The panel with each firm's own attributes (one of a large offset)
    and a linear trend in the years."""
    firm = panel.firm.to_numpy()
    return panel.assign(
        size=np.sin(firm) * 3 + 10.3,
        listed=np.cos(firm) * 3 + 1e6,
        age=(panel.year - 1990) * 1.0 + 1e3,
    )


@pytest.mark.parametrize("partitions", [None, 1, 5])
@pytest.mark.parametrize(
    "absorbed, solver, dropped",
    [
        ("firm", "auto", ["size", "listed"]),
        ("firm + year", "direct", ["size", "listed", "age"]),
        ("firm + year", "cg", ["size", "listed", "age"]),
        ("firm + year", "passes", ["size", "listed", "age"]),
    ],
)
def test_columns_the_fixed_effects_absorb_are_dropped(
    attributed, partitions, absorbed, solver, dropped
):
    data = attributed if partitions is None else dd.from_pandas(attributed, partitions)
    formula = f"y ~ x1 + size + x2 + listed + age | {absorbed}"
    with pytest.warns(UserWarning, match=f"{', '.join(dropped)} have no variation"):
        model = ols(formula, data, fixef_solver=solver)
    names = [n for n in model.feature_names_in_ if n not in ("firm", "year")]
    coef = dict(zip(names, model.coef_, strict=True))
    assert all(coef[name] == 0.0 for name in dropped)
    results = model.inference()
    assert results.bse[dropped].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = feols(formula, attributed, vcov="hetero")
    kept = list(expected.coef().index)
    assert sorted(kept + dropped) == sorted(names)
    np.testing.assert_allclose(
        [coef[name] for name in kept], expected.coef(), rtol=1e-8
    )
    hc1 = model.inference(data, cov_type="HC1")
    np.testing.assert_allclose(hc1.bse[kept], expected.se(), rtol=1e-6)
    assert model.rank_ == len(kept)


@pytest.mark.parametrize("partitions", [None, 7])
def test_a_groups_own_constant_column_is_out_of_its_rank(attributed, partitions):
    frame = attributed[attributed.firm < 12]
    data = frame if partitions is None else dd.from_pandas(frame, partitions)
    fit = ols("y ~ x1 + size + x2", data, split="firm")
    assert (fit.params["size"] == 0.0).all()
    assert fit.bse["size"].isna().all()
    for firm, group in frame.groupby("firm"):
        if len(group) < 6:
            continue
        expected = smf.ols("y ~ x1 + x2", group).fit()
        np.testing.assert_allclose(
            fit.params.loc[firm, ["Intercept", "x1", "x2"]], expected.params, rtol=1e-8
        )
        np.testing.assert_allclose(
            fit.bse.loc[firm, ["x1", "x2"]], expected.bse[["x1", "x2"]], rtol=1e-7
        )
        assert fit.rank[firm] == 2
