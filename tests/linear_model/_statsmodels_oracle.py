"""A formula fit compared with statsmodels' on the same pandas data."""

import dask.dataframe as dd
import numpy as np
import statsmodels.formula.api as smf

from dask_linreg import ols

RTOL = 1e-8


def statsmodels_names(results):
    """Our inference's parameter names as statsmodels spells them."""
    return ["Intercept" if n == "intercept" else n for n in results.params.index]


def assert_matches_statsmodels(model, expected, data, source):
    """Coefficients (by name), SEs, SSR, R² and F (with an intercept) to
    ``RTOL``, and predictions on ``source`` (the fit's data)."""
    results = model.inference()
    names = statsmodels_names(results)
    assert sorted(names) == sorted(expected.params.index)
    np.testing.assert_allclose(
        results.params, expected.params[names], rtol=RTOL, atol=1e-12
    )
    np.testing.assert_allclose(results.bse, expected.bse[names], rtol=RTOL)
    np.testing.assert_allclose(results.ssr, expected.ssr, rtol=RTOL)
    if "Intercept" in expected.params.index:
        np.testing.assert_allclose(results.rsquared, expected.rsquared, rtol=RTOL)
        np.testing.assert_allclose(results.fvalue, expected.fvalue, rtol=RTOL)
    prediction = model.predict(source)
    prediction = prediction.compute() if hasattr(prediction, "compute") else prediction
    np.testing.assert_allclose(
        np.asarray(prediction), expected.predict(data), atol=1e-8
    )


def assert_ols_matches_statsmodels(formula, data, partitions, weighted):
    """``ols`` on ``data`` (pandas, or Dask of ``partitions``), weighted by
    its column ``w`` or not, against statsmodels' ``ols``/``wls``."""
    source = (
        data if partitions is None else dd.from_pandas(data, npartitions=partitions)
    )
    model = ols(formula, source, weights="w" if weighted else None)
    expected = (
        smf.wls(formula, data, weights=data["w"]).fit()
        if weighted
        else smf.ols(formula, data).fit()
    )
    assert_matches_statsmodels(model, expected, data, source)
