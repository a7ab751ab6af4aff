import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from dask_linreg import LinearRegression, Ridge

from ..conftest import make_regression


@pytest.fixture
def data():
    return make_regression(60, 3, seed=0)


def as_dask(*arrays, chunks=10):
    return [None if a is None else da.from_array(a, chunks=chunks) for a in arrays]


@pytest.mark.parametrize("on_dask", [True, False])
@pytest.mark.parametrize(
    "name, value, message",
    [
        (
            "X",
            np.nan,
            r"Input X contains 1 non-finite value\(s\) \(NaN or inf\), the first in row block 2",
        ),
        (
            "X",
            np.inf,
            r"Input X contains 1 non-finite value\(s\) \(NaN or inf\), the first in row block 2",
        ),
        ("y", -np.inf, r"Input y contains 1 non-finite value\(s\)"),
        (
            "sample_weight",
            np.nan,
            r"Input sample_weight contains 1 non-finite value\(s\)",
        ),
        (
            "sample_weight",
            -1.0,
            r"sample_weight contains 1 negative value\(s\), the first in row block 2",
        ),
    ],
)
def test_bad_values_are_found_in_the_pass_and_named(
    data, on_dask, name, value, message
):
    X, y = data
    inputs = {"X": X.copy(), "y": y.copy(), "sample_weight": np.ones(60)}
    target = inputs[name]
    if target.ndim == 2:
        target[25, 1] = value
    else:
        target[25] = value
    if on_dask:
        X, y, w = as_dask(inputs["X"], inputs["y"], inputs["sample_weight"])
        message = message
    else:
        X, y, w = inputs["X"], inputs["y"], inputs["sample_weight"]
        # In memory the data are cut into one block; scikit-learn's
        # validate_data checks an in-memory y (a vector) itself.
        message = message.replace("row block 2", "row block 0")
        if name == "y":
            message = "Input y contains infinity"
    with pytest.raises(ValueError, match=message):
        LinearRegression().fit(X, y, sample_weight=w)


def test_non_finite_values_are_counted_across_blocks(data):
    X, y = data
    X = X.copy()
    X[[5, 6, 45], 0] = np.nan
    X[50, 2] = np.inf
    with pytest.raises(
        ValueError, match=r"contains 4 non-finite value\(s\).*row block 0"
    ):
        Ridge().fit(*as_dask(X, y))


def test_overflowing_cross_products_are_reported(data):
    # solver="auto" would go exact instead (tests/linear_model/test_edge_cases.py).
    X, y = data
    with pytest.raises(
        ValueError, match="overflow float64.*Rescale X, y or sample_weight"
    ):
        LinearRegression(solver="cholesky").fit(da.from_array(X * 1e200, chunks=10), y)


def test_blocks_of_different_row_counts_are_found_in_the_pass():
    frame = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) ** 0.5})
    X = dd.from_pandas(frame, npartitions=2).to_dask_array()
    # Same number of blocks, unknown sizes: only the pass can tell.
    y = dd.from_pandas(pd.Series(np.arange(21.0)), npartitions=2).to_dask_array()
    with pytest.raises(
        ValueError,
        match="X and y have different numbers of rows in row block 0: 10 and 11",
    ):
        LinearRegression().fit(X, y)


def test_unknown_blocks_that_cannot_be_matched_fail_before_computing():
    frame = pd.DataFrame({"a": np.arange(20.0)})
    X = dd.from_pandas(frame, npartitions=2).to_dask_array()
    y = dd.from_pandas(frame["a"], npartitions=3).to_dask_array()
    with pytest.raises(
        ValueError, match=r"different numbers of row blocks \(2 and 3\)"
    ):
        LinearRegression().fit(X, y)
    with pytest.raises(
        ValueError, match="y is in memory but X is a Dask collection with unknown"
    ):
        LinearRegression().fit(X, np.arange(20.0))


def test_known_lengths_that_differ_fail_before_computing(data):
    X, y = data
    with pytest.raises(ValueError, match="X has 60 rows but y has 59"):
        LinearRegression().fit(
            da.from_array(X, chunks=10), da.from_array(y[:-1], chunks=7)
        )
    with pytest.raises(ValueError, match="X has 60 rows but sample_weight has 3"):
        LinearRegression().fit(da.from_array(X, chunks=10), y, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match=r"X has 60 rows but sample_weight has 3"):
        LinearRegression().fit(X, y, sample_weight=[1, 2, 3])


def test_string_and_object_columns_are_categorical_and_others_named():
    frame = pd.DataFrame({"age": [1.0, 2.0, 3.0, 5.0], "city": ["a", "b", "a", "b"]})
    ddf = dd.from_pandas(frame, npartitions=1)
    y = [1.0, 2.0, 3.0, 4.0]
    assert list(LinearRegression().fit(ddf, ddf["age"]).coef_names_) == [
        "age",
        "city[T.b]",
    ]
    with pytest.raises(TypeError, match="y column 'city' has dtype"):
        LinearRegression().fit(ddf[["age"]], ddf["city"])
    assert LinearRegression().fit(frame, y).coef_.shape == (2,)
    frame["city"] = frame["city"].astype(object)
    assert LinearRegression().fit(frame, y).coef_.shape == (2,)
    # Object columns of numbers are numbers, as scikit-learn converts them.
    frame["city"] = np.array([4.0, 5.0, 7.0, 1.0], dtype=object)
    model = LinearRegression().fit(frame, y)
    assert model.n_features_in_ == 2 and not hasattr(model, "coef_names_")
    frame["mixed"] = np.array([1.0, "a", None, 2], dtype=object)
    with pytest.raises(
        TypeError,
        match="X column 'mixed' holds mixed-integer values, expected numbers or categories",
    ):
        LinearRegression().fit(frame, y)
    frame["when"] = pd.to_datetime(["2020-01-01"] * 4)
    with pytest.raises(TypeError, match="X column 'when' has dtype datetime64"):
        LinearRegression().fit(frame[["age", "when"]], y)


def test_complex_input_is_rejected_before_computing(data):
    X, y = data
    # ValueError, as scikit-learn's estimator checks expect; the same
    # message for NumPy, pandas and Dask input, naming X or y.
    message = "{}( column 0)? has complex dtype complex128: Complex data not supported"
    for X_complex in (X + 1j, pd.DataFrame(X + 1j), da.from_array(X + 1j, chunks=10)):
        with pytest.raises(ValueError, match=message.format("X")):
            LinearRegression().fit(X_complex, y)
    for y_complex in (y + 1j, pd.Series(y + 1j)):
        with pytest.raises(ValueError, match=message.format("y")):
            LinearRegression().fit(X, y_complex)
    with pytest.raises(ValueError, match=message.format("y")):
        LinearRegression().fit(
            da.from_array(X, chunks=10), da.from_array(y + 1j, chunks=10)
        )


def test_wrong_dimensions_are_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="Expected a 2D array for X, got a 1D array"):
        LinearRegression().fit(da.from_array(X[:, 0], chunks=10), y)
    with pytest.raises(ValueError, match="sample_weight must be 1D; got a 2D array"):
        LinearRegression().fit(
            *as_dask(X, y), sample_weight=da.ones((60, 2), chunks=10)
        )
    with pytest.raises(ValueError, match="requires y to be passed"):
        LinearRegression().fit(da.from_array(X, chunks=10), None)


def test_predict_checks_feature_count_and_names(data):
    X, y = data
    model = LinearRegression().fit(da.from_array(X, chunks=10), y)
    with pytest.raises(
        ValueError, match="X has 2 features, but LinearRegression is expecting 3"
    ):
        model.predict(da.from_array(X[:, :2], chunks=10))
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    ddf = dd.from_pandas(frame, npartitions=2)
    named = LinearRegression().fit(ddf[["a", "b", "c"]], ddf["y"])
    with pytest.raises(ValueError, match="feature names should match"):
        named.predict(dd.from_pandas(frame[["b", "a", "c"]], npartitions=2))


#: How every message about Ridge's alpha starts, in scikit-learn's words.
RIDGE_ALPHA = (
    r"The 'alpha' parameter of Ridge must be a float in the range \[0\.0, inf\) or a "
    r"non-empty array-like of shape \(n_targets,\) of floats in the range \[0\.0, inf\)"
)


@pytest.mark.parametrize(
    "alpha, message",
    [
        (-1.0, rf"{RIDGE_ALPHA}.* Got -1\.0 instead\.$"),
        (np.nan, rf"{RIDGE_ALPHA}.* Got nan instead\.$"),
        (
            [1.0, 2.0],
            "Number of targets and number of penalties do not correspond: 1 != 2",
        ),
        ([[1.0]], r"Got \[\[1\.0\]\] instead\. It has shape \(1, 1\)\."),
        (True, rf"{RIDGE_ALPHA}.* Got True instead\.$"),
        ("1", rf"{RIDGE_ALPHA}.* Got '1' instead\.$"),
        (
            [True, 1.0],
            r"Got \[True, 1\.0\] instead\. Bools and strings are not numbers here\.",
        ),
    ],
)
def test_bad_alpha_is_rejected(data, alpha, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        Ridge(alpha=alpha).fit(da.from_array(X, chunks=10), y)


@pytest.mark.parametrize("split_every", [1, 2.5, True, "8"])
def test_bad_split_every_is_rejected(data, split_every):
    X, y = data
    with pytest.raises(
        ValueError,
        match=r"The 'split_every' parameter of LinearRegression must be None or an "
        r"int in the range \[2, inf\)\. Got .* instead\.",
    ):
        LinearRegression(split_every=split_every).fit(X, y)


def test_all_zero_weights_and_empty_input_are_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        LinearRegression().fit(*as_dask(X, y, np.zeros(60)))
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        LinearRegression().fit(*as_dask(X[:0], y[:0]))
