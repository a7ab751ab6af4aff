"""Bad input to the results API is refused with a message that names it."""

import warnings

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from dask_linreg import LinearRegression

from ..conftest import make_regression


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(100, 2, seed=41)
    return X, y


@pytest.fixture(scope="module")
def results(data):
    X, y = data
    return LinearRegression().fit(X, y).inference()


#: How a restriction that patsy cannot read is refused.
CANNOT_READ = "Cannot read restriction "


@pytest.mark.parametrize(
    ("r_matrix", "q", "error", "match"),
    [
        (np.ones((1, 1, 3)), None, ValueError, "r_matrix must be 1D .* or 2D"),
        (np.ones((2, 2)), None, ValueError, "r_matrix has 2 columns; expected one"),
        (np.zeros((0, 3)), None, ValueError, "r_matrix has no rows"),
        ([], None, ValueError, "r_matrix has no rows"),
        ([[1, 0, 0], [0, 1]], None, ValueError, "not a rectangular array"),
        ([np.nan, 1.0, 0.0], None, ValueError, "r_matrix contains 1 non-finite"),
        ([np.inf, 1.0, 0.0], None, ValueError, "r_matrix contains 1 non-finite"),
        ([[0, 1, 0], [0, 0, 0]], None, ValueError, r"row\(s\) \[1\] are all zeros"),
        (None, None, TypeError, "r_matrix must be an array of numbers .* got None"),
        ({"x0": 1}, None, TypeError, "r_matrix must be an array of numbers"),
        (np.array([["a", "b", "c"]]), None, TypeError, "r_matrix must be an array"),
        (np.array([[1j, 0, 0]]), None, TypeError, "dtype complex128"),
        (["x0 = 1", 3], None, TypeError, "mixes strings and other values"),
        (np.eye(3), [1.0, 2.0], ValueError, r"q has shape \(2,\); expected \(3,\)"),
        (np.eye(3), np.ones((3, 3)), ValueError, r"q has shape \(3, 3\)"),
        (np.eye(3), [0.0, np.nan, 0.0], ValueError, "q contains non-finite"),
        (np.eye(3), "a", TypeError, "q must be a number or an array of numbers"),
        ("x0 = 1", [2.0], ValueError, "q must be None when the restrictions are"),
        ("", None, ValueError, "r_matrix '' holds no restriction"),
        (" , ", None, ValueError, "holds no restriction"),
        ("x9 = 0", None, ValueError, "names 'x9', which is not a coefficient"),
        ("x0 = nan", None, ValueError, "names 'nan', which is not a coefficient"),
        ("x10 = 0", None, ValueError, "names 'x10', which is not a coefficient"),
        ("`zz` = 0", None, ValueError, "names 'zz', which is not a coefficient"),
        (["x0 = 1", " "], None, ValueError, "Restriction ' ' is empty"),
        ("x0 ^ 2 = 0", None, ValueError, CANNOT_READ + "'x0 \\^ 2 = 0' at '\\^ 2 = 0'"),
        ("x0 == 1", None, ValueError, CANNOT_READ + "'x0 == 1' at '= 1'"),
        ("x0 =", None, ValueError, "at '=': expected a noun, but instead the"),
        ("= x0", None, ValueError, CANNOT_READ + "'= x0': expected a noun"),
        ("x0 = 1,", None, ValueError, "at ',': expected a noun"),
        ("1 = 2", None, ValueError, "no variables appear in constraint"),
        ("x0 = 1, 1 = 2", None, ValueError, "at '1 = 2': no variables appear"),
        ("x0 - x0 = 0", None, ValueError, "no variables appear in constraint"),
        ("`x0` - x0 = 0", None, ValueError, "names no coefficient once its terms"),
        ("x0 x1 = 1", None, ValueError, "at 'x1 = 1': expected an operator"),
        ("x0 + 2 3 = 1", None, ValueError, "at '3 = 1': expected an operator"),
        ("x0 + = 1", None, ValueError, "at '= 1': expected a noun"),
        ("* x0 = 1", None, ValueError, CANNOT_READ + "'\\* x0 = 1': expected a noun"),
        ("2 * = x0", None, ValueError, "at '= x0': expected a noun"),
        ("(x0 = 1", None, ValueError, "Unmatched '\\('"),
        ("x0 * x1 = 0", None, ValueError, "Can't multiply one variable by another"),
        ("x0 / x1 = 1", None, ValueError, "at 'x1 = 1': Can't divide by a variable"),
        ("x0 = 1e999", None, ValueError, "has a number too large for float64"),
    ],
)
@pytest.mark.parametrize("method", ["t_test", "f_test", "wald_test"])
def test_bad_restrictions_are_refused_naming_the_argument(
    results, method, r_matrix, q, error, match
):
    with pytest.raises(error, match=match):
        getattr(results, method)(r_matrix, q)


def test_restrictions_parse_products_either_way_round_and_backticked_names(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a,b", "c"])
    results = LinearRegression().fit(frame, y).inference()
    reference = sm.OLS(y, sm.add_constant(X)).fit()
    ours = results.t_test("`a,b` * 2 - c = 1, -c = 0")
    theirs = reference.t_test((np.array([[0, 2, -1], [0, 0, -1]]), [1, 0]))
    np.testing.assert_allclose(ours["effect"], np.ravel(theirs.effect) - [1, 0])
    np.testing.assert_allclose(ours["std err"], np.ravel(theirs.sd), rtol=1e-8)


@pytest.mark.parametrize(
    "text",
    [
        "2 * 3 = x0",
        "x0 = x1 = 0",
        "(x0 + x1) / 2 = 1",
        "-x0 = -1, x1 = 1e-3",
        "x0 - 2 * (x1 - 1)",
    ],
)
def test_restrictions_as_text_read_as_statsmodels_reads_them(data, text):
    X, y = data
    results = LinearRegression().fit(X, y).inference()
    exog = pd.DataFrame(sm.add_constant(X), columns=["intercept", "x0", "x1"])
    theirs = sm.OLS(y, exog).fit().t_test(text)
    ours = results.t_test(text)
    assert len(ours) == np.ravel(theirs.sd).size
    np.testing.assert_allclose(ours["std err"], np.ravel(theirs.sd), rtol=1e-8)
    np.testing.assert_allclose(
        ours["t"], np.ravel(theirs.tvalue), rtol=1e-8, atol=1e-10
    )


def test_names_that_start_with_an_operator_are_read_in_backticks(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["(a)", "-b"])
    results = LinearRegression().fit(frame, y).inference()
    same = results.t_test(np.array([[0.0, 1.0, -1.0]]), [2.0])
    ours = results.t_test("`(a)` - `-b` = 2")
    pd.testing.assert_frame_equal(ours, same)


def test_dependent_restrictions_warn_and_count_once_like_statsmodels(results, data):
    X, y = data
    reference = sm.OLS(y, sm.add_constant(X)).fit()
    restrictions = np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.warns(UserWarning, match="3 restrictions are linearly dependent"):
        ours = results.f_test(restrictions)
    with pytest.warns(UserWarning, match="not have full rank"):
        theirs = reference.f_test(restrictions)
    assert (ours.df_num, ours.df_denom) == (2, 97) == (theirs.df_num, theirs.df_denom)
    np.testing.assert_allclose(ours.statistic, theirs.fvalue, rtol=1e-8)
    np.testing.assert_allclose(ours.pvalue, theirs.pvalue, rtol=1e-8)
    with pytest.warns(UserWarning, match="linearly dependent"):
        chi2 = results.wald_test(restrictions, use_f=False)
    assert chi2.df_num == 2 and chi2.df_denom is None


def test_tests_without_residual_degrees_of_freedom_give_nan():
    X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 3.0]])
    results = LinearRegression().fit(X, np.array([1.0, 2.0, 4.0])).inference()
    test = results.f_test("x0 = 0")
    assert np.isnan(test.statistic) and np.isnan(test.pvalue)


@pytest.mark.parametrize(
    ("alpha", "error"),
    [
        (0, ValueError),
        (1, ValueError),
        (1.5, ValueError),
        (-0.1, ValueError),
        (float("nan"), ValueError),
        ("0.05", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_levels_out_of_range_are_refused_everywhere(results, data, alpha, error):
    prediction = results.get_prediction(data[0][:3])
    calls = [
        lambda: results.conf_int(alpha=alpha),
        lambda: results.coefficient_table(alpha=alpha),
        lambda: results.summary(alpha=alpha),
        lambda: results.t_test("x0 = 0", alpha=alpha),
        lambda: prediction.conf_int(alpha=alpha),
        lambda: prediction.summary_frame(alpha=alpha),
    ]
    for call in calls:
        with pytest.raises(error, match="alpha must be a number strictly between"):
            call()


def test_levels_may_be_numpy_numbers(results):
    np.testing.assert_array_equal(
        results.conf_int(alpha=np.float32(0.25)), results.conf_int(alpha=0.25)
    )


def test_use_f_and_obs_must_be_bools(results, data):
    with pytest.raises(ValueError, match="use_f must be a bool or None; got 'yes'"):
        results.wald_test("x0 = 0", use_f="yes")
    with pytest.raises(ValueError, match="obs must be a bool; got 1"):
        results.get_prediction(data[0][:3]).conf_int(obs=1)


def _as(kind, X):
    """X as a NumPy array, a pandas or Dask frame (columns 0, 1 ...: no
    feature names, as in the fit) or a Dask array of several blocks."""
    if kind == "numpy":
        return X
    if kind == "dask array":
        return da.from_array(X, chunks=(2, 1))
    frame = pd.DataFrame(X)
    return frame if kind == "pandas" else dd.from_pandas(frame, npartitions=2)


KINDS = ["numpy", "pandas", "dask array", "dask dataframe"]


@pytest.mark.parametrize("kind", KINDS)
def test_prediction_with_the_wrong_number_of_columns_is_refused(results, kind):
    with pytest.raises(
        ValueError, match="X has 3 features, but LinearRegression is expecting 2"
    ):
        results.get_prediction(_as(kind, np.ones((4, 3))))


@pytest.mark.parametrize("kind", KINDS)
def test_prediction_on_non_numeric_columns_is_refused_before_computing(kind):
    X, y = make_regression(40, 2, seed=42)
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    results = LinearRegression().fit(frame, y).inference()
    bad = frame.iloc[:4].assign(x1=list("abcd"))
    if kind == "numpy":
        with pytest.raises(TypeError, match="X has dtype <U"):
            results.get_prediction(bad.to_numpy().astype(str))
        return
    if kind == "dask array":
        with pytest.raises(TypeError, match="X has dtype <U"):
            results.get_prediction(da.from_array(bad.to_numpy().astype(str)))
        return
    if kind == "dask dataframe":
        bad = dd.from_pandas(bad, npartitions=2)
    with pytest.raises(TypeError, match="X column 'x1' has dtype"):
        results.get_prediction(bad)


@pytest.mark.parametrize("kind", KINDS)
def test_prediction_on_nan_is_refused(results, kind):
    X = np.ones((4, 2))
    X[3, 1] = np.nan
    if kind in ("numpy", "pandas"):
        with pytest.raises(ValueError, match="Input X contains NaN"):
            results.get_prediction(_as(kind, X))
        return
    prediction = results.get_prediction(_as(kind, X))  # lazy: nothing read yet
    where = "row block 1" if kind == "dask array" else "partition 1"
    with pytest.raises(ValueError, match=f"X contains 1 non-finite .* in {where}"):
        prediction.summary_frame().compute()
    with pytest.raises(ValueError, match=f"X contains 1 non-finite .* in {where}"):
        prediction.compute()


def test_prediction_of_nullable_columns_with_missing_values_is_refused(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    results = LinearRegression().fit(frame, y).inference()
    nullable = pd.DataFrame(
        {"x0": pd.array([1, None, 3], dtype="Int64"), "x1": [0.5, 0.5, 0.5]}
    )
    prediction = results.get_prediction(dd.from_pandas(nullable, npartitions=1))
    with pytest.raises(ValueError, match="X contains 1 non-finite .* in partition 0"):
        prediction.summary_frame().compute()


@pytest.mark.parametrize(
    ("sample_weight", "error", "match"),
    [
        (np.ones(3), ValueError, r"sample_weight has shape \(3,\); expected \(4,\)"),
        (np.ones((4, 1)), ValueError, r"sample_weight has shape \(4, 1\)"),
        ([1.0, np.nan, 1.0, 1.0], ValueError, "1 value.* not positive and finite"),
        ([1.0, 0.0, -1.0, 1.0], ValueError, "2 value.* not positive and finite"),
        (0.0, ValueError, "sample_weight must be positive and finite"),
        (-2.0, ValueError, "sample_weight must be positive and finite"),
        (np.inf, ValueError, "sample_weight must be positive and finite"),
        ("2", TypeError, "sample_weight must be a positive number"),
        (True, TypeError, "sample_weight must be a positive number"),
        (["a"] * 4, TypeError, "sample_weight must be a positive number .* dtype <U1"),
    ],
)
@pytest.mark.parametrize("kind", ["numpy", "pandas"])
def test_prediction_weights_are_checked(results, kind, sample_weight, error, match):
    with pytest.raises(error, match=match):
        results.get_prediction(_as(kind, np.ones((4, 2))), sample_weight=sample_weight)


@pytest.mark.parametrize("kind", ["dask array", "dask dataframe"])
def test_prediction_weights_of_dask_input_are_checked(results, kind):
    X = _as(kind, np.ones((4, 2)))
    with pytest.raises(TypeError, match="must be a single float for Dask input"):
        results.get_prediction(X, sample_weight=np.ones(4))
    with pytest.raises(TypeError, match="must be a single float for Dask input"):
        results.get_prediction(X, sample_weight=da.ones(4, chunks=2))
    with pytest.raises(ValueError, match="sample_weight must be positive and finite"):
        results.get_prediction(X, sample_weight=np.nan)
    weighted = results.get_prediction(X, sample_weight=np.float32(4.0)).compute()
    np.testing.assert_allclose(
        weighted.conf_int(obs=True),
        results.get_prediction(np.ones((4, 2)), sample_weight=4.0).conf_int(obs=True),
    )


def test_robust_f_with_fewer_clusters_than_slopes_matches_statsmodels_silently(rng):
    X, y = make_regression(60, 4, seed=43)
    groups = np.arange(60) % 3  # 3 clusters: a covariance of rank 2
    model = LinearRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = model.inference(X, y, cov_type="cluster", groups=groups)
    with pytest.warns(UserWarning, match="not have full rank"):
        reference = sm.OLS(y, sm.add_constant(X)).fit(
            cov_type="cluster", cov_kwds={"groups": groups}
        )
        theirs = reference.fvalue, reference.f_pvalue
    np.testing.assert_allclose(results.fvalue, theirs[0], rtol=1e-8)
    np.testing.assert_allclose(results.f_pvalue, theirs[1], rtol=1e-8)
