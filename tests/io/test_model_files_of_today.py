"""Model files written by version 0.1.0 (format 2) on 2026-12-01, before the
package was reorganized into layers, still load and predict the same."""

import json
from pathlib import Path

import numpy as np
import pytest

from dask_linreg import LinearRegression, load

FILES = Path(__file__).parent / "model_files"
EXPECTED = json.loads((FILES / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED["predictions"]))
def test_a_model_file_written_before_loads_and_predicts_the_same(name):
    model = load(FILES / f"{name}.json")
    X = np.array(EXPECTED["X"])
    # The same up to the rounding of X @ coef, whose order of summation is
    # the BLAS kernel's: at most p * eps * (|X| @ |coef| + |intercept|).
    coef = np.abs(np.asarray(model.coef_)).T
    bound = (
        X.shape[1] * np.finfo(float).eps * (np.abs(X) @ coef + np.abs(model.intercept_))
    )
    predicted = model.predict(X)
    expected = np.asarray(EXPECTED["predictions"][name])
    assert predicted.shape == expected.shape
    assert np.all(np.abs(predicted - expected) <= bound.reshape(expected.shape))
    if isinstance(model, LinearRegression):
        # Its statistics came back too: inference needs no data.
        results = model.inference()
        assert np.all(np.isfinite(results.bse))
        assert results.nobs == 40
