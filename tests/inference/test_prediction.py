"""get_prediction on every input fit accepts, read once, against statsmodels."""

import threading

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from dask_linreg import LinearRegression, PredictionResults

from ..conftest import CountingSource, make_regression

RTOL = 1e-8
COLUMNS = ["a", "b", "c", "d", "e"]


@pytest.fixture(scope="module")
def problem():
    X, y = make_regression(200, 5, seed=21, offset=3.0)
    w = np.random.default_rng(21).uniform(0.5, 2.0, 200)
    exog = sm.add_constant(X, has_constant="add")
    reference = sm.WLS(y, exog, weights=w).fit()
    return X, y, w, reference


def expected_frame(reference, X, alpha=0.05, weights=1.0):
    exog = sm.add_constant(X, has_constant="add")
    return reference.get_prediction(exog, weights=weights).summary_frame(alpha=alpha)


def assert_frame_matches(frame, expected):
    np.testing.assert_allclose(
        np.asarray(frame, dtype=float), expected.to_numpy(), rtol=RTOL
    )


def unknown_rows(x):
    """``x`` with row blocks of unknown size (as after boolean indexing)."""
    keep = da.ones(x.shape[0], chunks=x.chunks[0], dtype=bool)
    out = x[keep]
    assert np.isnan(out.shape[0])
    return out


class _CountingPartitions:
    """Makes partition ``i`` of a frame of X, counting each time."""

    def __init__(self, X, npartitions, index_offset):
        self.X = X
        self.bounds = np.linspace(0, len(X), npartitions + 1).astype(int)
        self.index_offset = index_offset
        self.reads = []
        self._lock = threading.Lock()

    def __dask_tokenize__(self):
        return ("counting-partitions", id(self))

    def __call__(self, i):
        with self._lock:
            self.reads.append(i)
        lo, hi = self.bounds[i], self.bounds[i + 1]
        index = pd.Index(np.arange(lo, hi) + self.index_offset, name="row")
        return pd.DataFrame(self.X[lo:hi], columns=COLUMNS, index=index)


def counting_frame(X, npartitions, index_offset=0):
    """A Dask DataFrame whose partitions count how often they are made."""
    partitions = _CountingPartitions(X, npartitions, index_offset)
    meta = pd.DataFrame(
        {c: pd.Series([], dtype=np.float64) for c in COLUMNS},
        index=pd.Index([], dtype=np.int64, name="row"),
    )
    frame = dd.from_map(partitions, range(npartitions), meta=meta)
    return frame, partitions.reads


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda X: da.from_array(X, chunks=(50, 2)), id="column-chunks"),
        pytest.param(lambda X: da.from_array(X, chunks=(37, 1)), id="one-per-column"),
        pytest.param(
            lambda X: unknown_rows(da.from_array(X, chunks=(60, 5))), id="unknown-rows"
        ),
        pytest.param(
            lambda X: unknown_rows(da.from_array(X, chunks=(45, 3))),
            id="unknown-rows-and-column-chunks",
        ),
        pytest.param(
            lambda X: dd.from_pandas(pd.DataFrame(X), npartitions=1).to_dask_array(),
            id="from-dataframe",
        ),
    ],
)
def test_prediction_on_any_dask_array_fit_accepts_matches_statsmodels(make, problem):
    X, y, w, reference = problem
    Xd = make(X)
    results = LinearRegression().fit(X, y, w).inference()
    prediction = results.get_prediction(Xd, sample_weight=2.0)
    expected = expected_frame(reference, X, alpha=0.1, weights=2.0)
    frame = prediction.summary_frame(alpha=0.1)
    assert isinstance(frame, dd.DataFrame)
    assert list(frame.columns) == list(expected.columns)
    assert_frame_matches(frame.compute(), expected)
    mean, se, ci, obs = dask.compute(
        prediction.predicted_mean,
        prediction.se_mean,
        prediction.conf_int(alpha=0.1),
        prediction.conf_int(obs=True, alpha=0.1),
    )
    np.testing.assert_allclose(mean, expected["mean"], rtol=RTOL)
    np.testing.assert_allclose(se, expected["mean_se"], rtol=RTOL)
    assert_frame_matches(ci, expected[["mean_ci_lower", "mean_ci_upper"]])
    assert_frame_matches(obs, expected[["obs_ci_lower", "obs_ci_upper"]])


def test_prediction_on_a_dask_dataframe_keeps_its_index_and_partitions(problem):
    X, y, w, reference = problem
    index = pd.Index([f"r{i:03d}" for i in range(200)], name="id")
    frame = pd.DataFrame(X, columns=COLUMNS, index=index)
    frame["d"] = np.arange(200)  # an integer column among floats
    ddf = dd.from_pandas(frame, npartitions=6)
    model = LinearRegression().fit(frame, y, w)
    reference = sm.WLS(y, sm.add_constant(frame.to_numpy(float)), weights=w).fit()
    prediction = model.inference().get_prediction(ddf)
    lazy = prediction.summary_frame(alpha=0.01)
    assert isinstance(lazy, dd.DataFrame) and lazy.npartitions == 6
    computed = lazy.compute()
    assert computed.index.equals(index)
    expected = expected_frame(reference, frame.to_numpy(float), alpha=0.01)
    assert_frame_matches(computed, expected)
    mean, ci = dask.compute(prediction.predicted_mean, prediction.conf_int())
    np.testing.assert_allclose(mean, expected["mean"], rtol=RTOL)
    assert_frame_matches(
        ci,
        expected_frame(reference, frame.to_numpy(float))[
            ["mean_ci_lower", "mean_ci_upper"]
        ],
    )


# Dask warns when arrays and data frames are computed together; the graph is
# still one, and X is read once.
@pytest.mark.filterwarnings("ignore:Computing mixed collections:UserWarning")
def test_prediction_quantities_computed_together_read_x_once(problem):
    X, y, w, reference = problem
    model = LinearRegression().fit(X, y, w)
    results = model.inference()
    source = CountingSource(X)
    Xd = da.from_array(source, chunks=(40, 2), asarray=False)
    computes = []

    def counting_scheduler(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        prediction = results.get_prediction(Xd)
        assert source.elements_read == 0 and not computes  # lazy
        mean, se, ci, obs, frame = dask.compute(
            prediction.predicted_mean,
            prediction.se_mean,
            prediction.conf_int(),
            prediction.conf_int(obs=True, alpha=0.2),
            prediction.summary_frame(alpha=0.1),
        )
        assert len(computes) == 1 and source.elements_read == X.size
        again = prediction.summary_frame(alpha=0.1).compute()
        assert len(computes) == 2 and source.elements_read == 2 * X.size
        # compute() reads X once and gives the in-memory results.
        in_memory = prediction.compute()
        assert len(computes) == 3 and source.elements_read == 3 * X.size
    np.testing.assert_array_equal(again.to_numpy(), frame.to_numpy())
    assert isinstance(in_memory, PredictionResults)
    assert isinstance(in_memory.predicted_mean, np.ndarray)
    np.testing.assert_array_equal(in_memory.predicted_mean, mean)
    np.testing.assert_array_equal(in_memory.se_mean, se)
    np.testing.assert_array_equal(in_memory.conf_int(), ci)
    np.testing.assert_array_equal(in_memory.conf_int(obs=True, alpha=0.2), obs)
    assert_frame_matches(
        in_memory.summary_frame(alpha=0.1), expected_frame(reference, X, alpha=0.1)
    )


def test_prediction_on_a_dask_dataframe_reads_each_partition_once(problem):
    X, y, w, reference = problem
    model = LinearRegression().fit(pd.DataFrame(X, columns=COLUMNS), y, w)
    results = model.inference()
    ddf, reads = counting_frame(X, npartitions=4, index_offset=1000)
    prediction = results.get_prediction(ddf)
    assert reads == []
    frame, mean, se, ci = dask.compute(
        prediction.summary_frame(),
        prediction.predicted_mean,
        prediction.se_mean,
        prediction.conf_int(obs=True),
    )
    assert sorted(reads) == [0, 1, 2, 3]
    expected = expected_frame(reference, X)
    assert list(frame.index) == list(range(1000, 1200))
    assert_frame_matches(frame, expected)
    np.testing.assert_allclose(mean, expected["mean"], rtol=RTOL)
    np.testing.assert_allclose(se, expected["mean_se"], rtol=RTOL)
    assert_frame_matches(ci, expected[["obs_ci_lower", "obs_ci_upper"]])
    in_memory = prediction.compute()
    assert sorted(reads) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert in_memory.summary_frame().index.equals(frame.index)


def test_in_memory_prediction_with_weights_and_pandas_index_matches_statsmodels(
    problem,
):
    X, y, w, reference = problem
    model = LinearRegression().fit(pd.DataFrame(X, columns=COLUMNS), y, w)
    frame = pd.DataFrame(X[:30], columns=COLUMNS, index=np.arange(30) * 3)
    weights = np.linspace(0.5, 3.0, 30)
    prediction = model.inference().get_prediction(frame, sample_weight=weights)
    summary = prediction.summary_frame(alpha=0.2)
    assert summary.index.equals(frame.index)
    expected = expected_frame(reference, X[:30], alpha=0.2, weights=weights)
    assert_frame_matches(summary, expected)
    assert_frame_matches(
        prediction.conf_int(obs=True, alpha=0.2),
        expected[["obs_ci_lower", "obs_ci_upper"]],
    )
    assert prediction.compute() is prediction
