"""Edge cases: extreme magnitudes and weights, zero-weight blocks, nullable
dtypes, parameter checks."""

import warnings

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as sk

from dask_linreg import AccuracyWarning, LinearRegression, Ridge

from ..conftest import make_regression


@pytest.mark.parametrize("solver", ["cholesky", "qr", "exact", "auto"])
def test_nan_in_a_block_whose_weights_are_all_zero_is_still_reported(solver):
    rng = np.random.default_rng(0)
    n = 20_000
    X, y = rng.standard_normal((n, 2)), rng.standard_normal(n)
    w = np.ones(n)
    w[:10_000] = 0.0
    X[9_000, 1] = np.nan  # past the first piece of the zero-weight block
    with pytest.raises(ValueError, match=r"Input X contains 1 non-finite value\(s\)"):
        LinearRegression(solver=solver).fit(
            da.from_array(X, chunks=10_000),
            da.from_array(y, chunks=10_000),
            da.from_array(w, chunks=10_000),
        )


@pytest.mark.parametrize("solver", ["cholesky", "qr", "exact"])
@pytest.mark.parametrize("factor", [1e-300, 1e300])
def test_scaling_all_weights_changes_nothing(solver, factor):
    X, y = make_regression(60, 3, seed=1)
    w = np.random.default_rng(2).uniform(0.5, 2, 60)
    expected = LinearRegression(solver=solver).fit(X, y, sample_weight=w).coef_
    if solver == "exact" and factor > 1:
        # Dekker's exact product w * x overflows beyond about 1e300.
        with pytest.raises(ValueError, match="Rescale X, y or sample_weight"):
            LinearRegression(solver=solver).fit(X, y, sample_weight=w * factor)
        return
    model = LinearRegression(solver=solver).fit(
        da.from_array(X, chunks=10),
        da.from_array(y, chunks=10),
        da.from_array(w * factor, chunks=10),
    )
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-10)


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1e160, 1e200])
def test_extreme_magnitudes_escalate_with_auto_and_are_refused_by_float_solvers(scale):
    X, y = make_regression(40, 2, seed=3)
    expected = sk.LinearRegression().fit(X, y).coef_ / scale
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = LinearRegression().fit(da.from_array(X * scale, chunks=10), y)
    assert model.solver_ == "exact" and model.n_passes_ == 2
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-10)
    for solver in ["cholesky", "qr"]:
        with pytest.raises(
            ValueError,
            match=r"X column 0 has values of magnitude about \d+e[-+]\d+|overflow float64",
        ):
            LinearRegression(solver=solver).fit(X * scale, y)
    frame = pd.DataFrame(X * scale, columns=["tiny", "other"])
    with pytest.raises(ValueError, match="X column 'tiny' has values of magnitude"):
        LinearRegression(solver="qr").fit(frame, y)
    with pytest.raises(
        ValueError, match="y column 0 has values of magnitude|overflow float64"
    ):
        LinearRegression(solver="cholesky").fit(X, y * scale)


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean"])
def test_nullable_dtype_columns_of_a_dask_dataframe(dtype):
    rng = np.random.default_rng(4)
    values = rng.integers(0, 2, 40) if dtype == "boolean" else rng.integers(0, 9, 40)
    frame = pd.DataFrame(
        {"a": rng.standard_normal(40), "b": pd.array(values, dtype=dtype)}
    )
    y = frame["a"] * 2 + rng.standard_normal(40)
    ddf = dd.from_pandas(frame.assign(y=y), npartitions=3)
    model = LinearRegression().fit(ddf[["a", "b"]], ddf["y"])
    expected = sk.LinearRegression().fit(frame.astype(float), y)
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-10)
    frame.loc[5, "b"] = pd.NA
    ddf = dd.from_pandas(frame.assign(y=y), npartitions=3)
    # A boolean column is categorical (its indicator of True is the 0/1
    # column): a missing value is a missing level.
    message = (
        r"X column 'b' contains 1 missing label"
        if dtype == "boolean"
        else r"Input X contains 1 non-finite value\(s\)"
    )
    with pytest.raises(ValueError, match=message):
        LinearRegression().fit(ddf[["a", "b"]], ddf["y"])


def test_parameters_and_shapes_are_checked_before_computing():
    X, y = make_regression(30, 2, seed=5)
    Xd, yd = da.from_array(X, chunks=10), da.from_array(y, chunks=10)
    computes = []

    def counting(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.get(dsk, keys, **kwargs)

    cases = [
        (
            Ridge(alpha=None),
            Xd,
            yd,
            None,
            "The 'alpha' parameter of Ridge must be .* Got None instead.",
        ),
        (
            Ridge(alpha="a"),
            Xd,
            yd,
            None,
            "The 'alpha' parameter of Ridge must be .* Got 'a' instead.",
        ),
        (
            LinearRegression(fit_intercept="no"),
            Xd,
            yd,
            None,
            "The 'fit_intercept' parameter of LinearRegression must be a bool.",
        ),
        (LinearRegression(), da.zeros((30, 0), chunks=10), yd, None, r"0 feature\(s\)"),
        (LinearRegression(), Xd, da.zeros((30, 0), chunks=10), None, "y has 0 targets"),
        (
            LinearRegression(),
            Xd,
            yd,
            -np.ones(30),
            r"sample_weight contains 30 negative",
        ),
        (LinearRegression(), Xd, yd, np.zeros(30), "sample_weight sums to zero"),
        (LinearRegression(), Xd, yd, 0.0, "sample_weight is 0.0 for every row"),
    ]
    with dask.config.set(scheduler=counting):
        for estimator, X_, y_, w, message in cases:
            with pytest.raises(ValueError, match=message):
                estimator.fit(X_, y_, sample_weight=w)
    assert computes == []
    with pytest.raises(TypeError, match="y has dtype <U1, expected numbers"):
        LinearRegression().fit(X, np.array(list("ab") * 15))


def test_exactly_dependent_columns_do_not_warn_with_cholesky():
    X, y = make_regression(50, 3, seed=6)
    X = np.column_stack([X, X[:, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)
        model = LinearRegression(solver="cholesky").fit(X, y)
    assert model.rank_ == 3
    np.testing.assert_allclose(
        model.coef_, sk.LinearRegression().fit(X, y).coef_, rtol=1e-8
    )


def test_statistics_too_large_for_the_client_fail_before_the_pass(monkeypatch):
    import dask

    import dask_linreg._dask.inputs as _validation

    monkeypatch.setattr(_validation, "available_memory", lambda: 50_000_000)
    X = da.ones((100, 999), chunks=(10, 999))
    computes = []

    def counting_scheduler(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        with pytest.raises(
            MemoryError, match=r"1,000 columns of \[X \| y\] need 0.01 GB"
        ):
            LinearRegression().fit(X, da.ones(100, chunks=10))
    assert computes == []
