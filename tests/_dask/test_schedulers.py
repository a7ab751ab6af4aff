import threading
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as sk
import threadpoolctl
from distributed import Client, LocalCluster, get_task_stream

from dask_linreg import LinearRegression, Ridge

from ..conftest import make_regression


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(3000, 6, 2, seed=0, offset=100.0)
    w = np.random.default_rng(1).uniform(0.5, 2.0, 3000)
    return X, y, w


@pytest.fixture(scope="module")
def reference(data):
    X, y, w = data
    with dask.config.set(scheduler="sync"):
        return LinearRegression().fit(X, y, sample_weight=w)


@pytest.fixture(scope="module")
def cluster_client():
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def dask_inputs(data):
    X, y, w = data
    return (
        da.from_array(X, chunks=(250, 4)),
        da.from_array(y, chunks=(250, 2)),
        da.from_array(w, chunks=250),
    )


@pytest.mark.parametrize("scheduler", ["threads", "sync", "processes"])
def test_same_coefficients_on_local_schedulers(scheduler, data, reference):
    with dask.config.set(scheduler=scheduler):
        model = LinearRegression().fit(*dask_inputs(data))
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-10)


def test_same_coefficients_on_a_two_worker_local_cluster(
    cluster_client, data, reference
):
    assert len(cluster_client.scheduler_info()["workers"]) == 2
    X, y, w = dask_inputs(data)
    X, y, w = cluster_client.persist([X, y, w])
    model = LinearRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-10)
    # Both workers took part: the blocks were reduced where they live.
    processing = cluster_client.run(lambda dask_worker: len(dask_worker.data))
    assert all(count > 0 for count in processing.values())
    # predict and score run on the cluster too, lazily until computed.
    predictions = model.predict(X)
    np.testing.assert_allclose(
        predictions.compute(), reference.predict(data[0]), rtol=1e-10
    )
    assert model.score(X, y, sample_weight=w) == pytest.approx(
        reference.score(data[0], data[1], sample_weight=data[2]), rel=1e-10
    )


def test_dask_dataframe_on_a_local_cluster(cluster_client, data):
    X, y, _ = data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(target=y[:, 0])
    ddf = dd.from_pandas(frame, npartitions=6).persist()
    features = [f"x{i}" for i in range(6)]
    model = Ridge(alpha=3.0).fit(ddf[features], ddf["target"])
    expected = Ridge(alpha=3.0).fit(frame[features], frame["target"])
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-10)
    np.testing.assert_allclose(
        model.predict(ddf[features]).compute().to_numpy(),
        expected.predict(frame[features]),
        rtol=1e-10,
    )


def test_in_memory_input_is_reduced_locally_even_with_a_client(
    cluster_client, data, reference
):
    X, y, w = data
    with get_task_stream(cluster_client) as in_memory_tasks:
        model = LinearRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)
    assert in_memory_tasks.data == []
    # The same recorder does see a fit of a Dask array on the cluster.
    with get_task_stream(cluster_client) as dask_tasks:
        LinearRegression().fit(*dask_inputs(data))
    assert len(dask_tasks.data) > 0


def _blas_threads():
    return [
        pool["num_threads"]
        for pool in threadpoolctl.threadpool_info()
        if pool["user_api"] == "blas"
    ]


def test_concurrent_threaded_fits_are_right_and_restore_the_blas_threads():
    # Fits from several threads of one process at once (a web service's
    # pool): each gets its own data's coefficients, and the process-global
    # BLAS thread count is the original again once they are all done (a
    # per-fit threadpool_limits left it at 1 when fits overlapped).
    n_threads, rounds = 6, 3
    datasets = [make_regression(50_000, 10, seed=s) for s in range(n_threads)]
    expected = [sk.LinearRegression().fit(X, y).coef_ for X, y in datasets]
    before = _blas_threads()
    for _ in range(rounds):
        barrier = threading.Barrier(n_threads)

        def fit(data, barrier=barrier):
            X, y = data
            barrier.wait()
            return LinearRegression().fit(da.from_array(X, chunks=5000), y).coef_

        with ThreadPoolExecutor(n_threads) as pool:
            coefs = list(pool.map(fit, datasets))
        for coef, reference in zip(coefs, expected, strict=True):
            np.testing.assert_allclose(coef, reference, rtol=1e-10)
        assert _blas_threads() == before
