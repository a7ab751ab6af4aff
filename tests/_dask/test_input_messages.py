"""Every entry point names the input and the problem, on NumPy, pandas and
Dask input alike, and rows are matched by position, never by index."""

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as sk

from dask_linreg import LinearRegression, Ridge

from ..conftest import make_regression


@pytest.fixture(scope="module")
def data():
    return make_regression(60, 3, seed=4)


def kinds(X, y):
    """The same data as NumPy, pandas, Dask arrays and Dask DataFrames."""
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    series = pd.Series(y, name="y")
    return {
        "numpy": (X, y),
        "pandas": (frame, series),
        "dask-array": (da.from_array(X, chunks=(20, 3)), da.from_array(y, chunks=20)),
        "dask-frame": (
            dd.from_pandas(frame, npartitions=3),
            dd.from_pandas(series, npartitions=3),
        ),
    }


KINDS = ["numpy", "pandas", "dask-array", "dask-frame"]


@pytest.mark.parametrize("kind", KINDS)
def test_score_names_y_when_y_holds_nan(data, kind):
    X, y = data
    y_nan = y.copy()
    y_nan[7] = np.nan
    X_kind, y_kind = kinds(X, y_nan)[kind]
    model = LinearRegression().fit(*kinds(X, y)[kind])
    with pytest.raises(ValueError, match=r"Input y contains (NaN|1 non-finite value)"):
        model.score(X_kind, y_kind)


@pytest.mark.parametrize("kind", KINDS)
def test_score_names_x_when_x_holds_nan(data, kind):
    X, y = data
    X_nan = X.copy()
    X_nan[3, 1] = np.inf
    X_kind, y_kind = kinds(X_nan, y)[kind]
    model = LinearRegression().fit(*kinds(X, y)[kind])
    with pytest.raises(ValueError, match=r"Input X contains"):
        model.score(X_kind, y_kind)


@pytest.mark.parametrize("kind", KINDS)
def test_score_matches_sklearn_and_names_bad_weights(data, kind):
    X, y = data
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    X_kind, y_kind = kinds(X, y)[kind]
    model = LinearRegression().fit(X_kind, y_kind)
    w_kind = da.from_array(w, chunks=20) if kind.startswith("dask") else w
    expected = sk.LinearRegression().fit(X, y).score(X, y, sample_weight=w)
    assert model.score(X_kind, y_kind, sample_weight=w_kind) == pytest.approx(
        expected, rel=1e-12
    )
    w_bad = w.copy()
    w_bad[5] = -1.0
    w_kind = da.from_array(w_bad, chunks=20) if kind.startswith("dask") else w_bad
    with pytest.raises(ValueError, match="sample_weight contains 1 negative value"):
        model.score(X_kind, y_kind, sample_weight=w_kind)


@pytest.mark.parametrize("method", ["fit", "score"])
def test_numpy_input_of_the_wrong_kind_is_named(data, method):
    X, y = data
    model = LinearRegression().fit(X, y)
    call = getattr(LinearRegression() if method == "fit" else model, method)
    with pytest.raises(ValueError, match="X has complex dtype"):
        call(X + 1j, y)
    with pytest.raises(ValueError, match="y has complex dtype"):
        call(X, y + 1j)
    with pytest.raises(ValueError, match="Expected a 2D array for X, got a 3D array"):
        call(X[:, :, None], y)
    with pytest.raises(ValueError, match="Expected a 2D array for X, got a 1D array"):
        call(X[:, 0], y)
    with pytest.raises(ValueError, match="y must be 1D or 2D; got a 3D array"):
        call(X, y[:, None, None])
    with pytest.raises(TypeError, match="y has dtype <U"):
        call(X, y.astype(str))
    with pytest.raises(TypeError, match="X holds values that are not numbers"):
        call(np.array([["a", 1.0]] * 60, dtype=object), y)
    with pytest.raises(ValueError, match="X has 60 rows but y has 59"):
        call(X, y[:-1])
    with pytest.raises(ValueError, match="X has 60 rows but sample_weight has 59"):
        call(X, y, sample_weight=np.ones(59))
    with pytest.raises(TypeError, match="sample_weight must be a number or an array"):
        call(X, y, sample_weight="heavy")
    with pytest.raises(ValueError, match="X is not a rectangular array of numbers"):
        call([[1.0, 2.0], [3.0]], [1.0, 2.0])


def test_in_memory_x_with_dask_y_is_refused_before_computing(data):
    X, y = data
    with pytest.raises(TypeError, match="X is in memory but y is a Dask collection"):
        LinearRegression().fit(X, da.from_array(y, chunks=20))
    with pytest.raises(
        TypeError, match="X is in memory but sample_weight is a Dask collection"
    ):
        LinearRegression().fit(X, y, sample_weight=da.ones(60, chunks=20))


def test_dask_frames_with_other_indexes_are_matched_by_position(data):
    X, y = data
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    # y and the weights carry other indexes (a shifted range, reversed):
    # pandas fits them by position, and so must the Dask path.
    y_series = pd.Series(y, index=np.arange(1000, 1060), name="y")
    w_series = pd.Series(w, index=np.arange(60)[::-1], name="w")
    expected = LinearRegression().fit(frame, y_series, sample_weight=w_series)
    reference = sk.LinearRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(expected.coef_, reference.coef_, rtol=1e-12)
    model = LinearRegression().fit(
        dd.from_pandas(frame, npartitions=3),
        dd.from_pandas(y_series, npartitions=3),
        sample_weight=dd.from_pandas(w_series, sort=False, npartitions=3),
    )
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-12)
    score = model.score(
        dd.from_pandas(frame, npartitions=3), dd.from_pandas(y_series, npartitions=3)
    )
    assert score == pytest.approx(reference.score(X, y), rel=1e-12)


def test_series_of_one_frame_with_a_reset_index_are_matched_by_position(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    frame.index = np.arange(60) * 7
    table = dd.from_pandas(frame, npartitions=3)
    target = table["y"].reset_index(drop=True)
    model = LinearRegression().fit(table[["a", "b", "c"]], target)
    reference = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-12)


def test_partitions_of_different_lengths_are_named(data):
    X, y = data
    table = dd.from_pandas(
        pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y), npartitions=3
    )
    # A filter on y alone keeps its partitions but not their lengths.
    target = table["y"][table["y"] > table["y"].min()]
    with pytest.raises(
        ValueError,
        match=r"X and y have different numbers of rows in partition \d: 20 and 19",
    ):
        LinearRegression().fit(table[["a", "b", "c"]], target)


def test_parquet_columns_and_cluster_labels_are_converted_together(tmp_path):
    rng = np.random.default_rng(5)
    n = 4000
    frame = pd.DataFrame(rng.standard_normal((n, 3)), columns=["a", "b", "c"])
    frame["y"] = frame @ [1.0, 2.0, 3.0] + rng.standard_normal(n)
    frame["firm"] = np.array([f"f{i}" for i in range(40)])[rng.integers(0, 40, n)]
    dd.from_pandas(frame, npartitions=8).to_parquet(tmp_path / "data")
    table = dd.read_parquet(tmp_path / "data")
    features = ["a", "b", "c"]
    model = LinearRegression().fit(table[features], table["y"])
    results = model.inference(
        table[features], table["y"], cov_type="cluster", groups=table["firm"]
    )
    memory = LinearRegression().fit(frame[features], frame["y"])
    expected = memory.inference(
        frame[features], frame["y"], cov_type="cluster", groups=frame["firm"]
    )
    np.testing.assert_allclose(results.bse, expected.bse, rtol=1e-10)


def test_ridge_named_columns_checks_survive_a_failed_refit(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = Ridge().fit(frame, y)
    with pytest.raises(TypeError, match="X column 'd' has dtype datetime64"):
        model.fit(frame.assign(d=pd.Timestamp("2020-01-01")), y)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_allclose(
        model.predict(frame), Ridge().fit(frame, y).predict(frame)
    )


def test_non_finite_values_name_the_first_column(data):
    X, y = data
    X_nan = X.copy()
    X_nan[25, 2] = np.nan
    X_nan[40, 1] = np.inf
    frame = pd.DataFrame(X_nan, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"2 non-finite value\(s\).*column 'c'"):
        LinearRegression().fit(
            dd.from_pandas(frame, npartitions=3),
            dd.from_pandas(pd.Series(y), npartitions=3),
        )
    # Column blocks are counted across: column 2 is in the second block.
    with pytest.raises(ValueError, match=r"row block 1, column 2\."):
        LinearRegression().fit(da.from_array(X_nan, chunks=(20, 2)), y)


@pytest.mark.parametrize("kind", ["numpy", "dask-array", "dask-series"])
@pytest.mark.parametrize("missing", [np.nan, None])
def test_missing_cluster_labels_are_refused(data, kind, missing):
    X, y = data
    labels = np.array(["a", "b", "c"] * 20, dtype=object)
    labels[[4, 33]] = missing
    model = LinearRegression().fit(X, y)
    groups = {
        "numpy": labels,
        "dask-array": da.from_array(labels, chunks=20),
        "dask-series": dd.from_pandas(pd.Series(labels), npartitions=3),
    }[kind]
    X_kind, y_kind = (X, y) if kind == "numpy" else kinds(X, y)["dask-array"]
    with pytest.raises(ValueError, match=r"groups contains 2 missing label\(s\)"):
        model.inference(X_kind, y_kind, cov_type="cluster", groups=groups)


def test_mixed_type_labels_are_compared_as_strings_on_every_input(data):
    X, y = data
    labels = np.array([1, "1", 2, "two"] * 15, dtype=object)
    model = LinearRegression().fit(X, y)
    memory = model.inference(X, y, cov_type="cluster", groups=labels)
    lazy = model.inference(
        *kinds(X, y)["dask-array"],
        cov_type="cluster",
        groups=da.from_array(labels, chunks=20),
    )
    np.testing.assert_allclose(lazy.bse, memory.bse, rtol=1e-12)


def test_a_scalar_weight_works_with_dask_dataframes(data):
    X, y = data
    X_frame, y_series = kinds(X, y)["dask-frame"]
    model = LinearRegression().fit(X_frame, y_series, sample_weight=2.0)
    reference = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-12)
    assert model.score(X_frame, y_series, sample_weight=2.0) == pytest.approx(
        reference.score(X, y), rel=1e-12
    )


def test_a_fan_in_beyond_the_number_of_blocks_is_one_merge(data):
    X, y = data
    model = LinearRegression(split_every=10**9).fit(da.from_array(X, chunks=20), y)
    reference = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-12)


@pytest.mark.parametrize(
    "X, y, error, message",
    [
        (None, "y", ValueError, "X is None; expected an array-like"),
        (3.0, "y", ValueError, "Expected a 2D array for X, got a 0D array"),
        ("X", 3.0, ValueError, "y must be 1D or 2D; got a 0D array"),
        ("empty frame", "y", ValueError, r"X has 0 feature\(s\) \(shape=\(60, 0\)\)"),
        (
            "X",
            "no targets",
            ValueError,
            "y has 0 targets; expected at least one column",
        ),
        ("duplicates", "y", ValueError, r"X has duplicate column names \['a'\]"),
        ("X", "sparse", TypeError, r"y is a sparse matrix; pass it as a dense array"),
    ],
)
def test_in_memory_inputs_of_the_wrong_shape_are_named(data, X, y, error, message):
    import scipy.sparse

    X_data, y_data = data
    X = (
        {
            "X": X_data,
            "empty frame": pd.DataFrame(index=range(60)),
            "duplicates": pd.DataFrame(X_data, columns=["a", "a", "b"]),
        }.get(X, X)
        if isinstance(X, str)
        else X
    )
    y = (
        {
            "y": y_data,
            "no targets": np.empty((60, 0)),
            "sparse": scipy.sparse.csr_matrix(y_data[:, None]),
        }.get(y, y)
        if isinstance(y, str)
        else y
    )
    with pytest.raises(error, match=message):
        LinearRegression().fit(X, y)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weight", [-1.0, 0.0, np.nan])
def test_a_single_bad_weight_is_named_the_same_way_on_every_input(data, kind, weight):
    X_kind, y_kind = kinds(*data)[kind]
    with pytest.raises(ValueError, match="sample_weight is .* for every row"):
        LinearRegression().fit(X_kind, y_kind, sample_weight=weight)


def test_pandas_na_in_an_object_column_is_named(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).astype({"b": object})
    frame.loc[3, "b"] = pd.NA
    with pytest.raises(TypeError, match=r"X column 'b' holds pandas.NA"):
        LinearRegression().fit(frame, y)
