"""On a real multi-process cluster: a worker killed mid-fit, data locality.

The clusters here are ``LocalCluster(processes=True)``: each worker is a
separate process under a nanny, as on a real cluster, talking over TCP on
loopback.
"""

import os
import threading
import time

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster, wait

from dask_linreg import LinearRegression

from ..conftest import make_regression


@pytest.fixture(scope="module")
def cluster():
    import dask

    # Work stealing moves a task (and its block) to an idle worker when
    # timings say so: whether it does depends on the machine's speed, not on
    # the graph. The locality test checks the graph (each task reads only
    # its own block, so the scheduler can place it with the data); the
    # failure tests do not depend on stealing.
    with (
        dask.config.set({"distributed.scheduler.work-stealing": False}),
        LocalCluster(
            n_workers=3,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
    ):
        yield cluster


def kill_worker_soon(client, address, delay):
    """Kill the worker process at ``address`` after ``delay`` seconds."""

    def kill():
        time.sleep(delay)
        try:
            client.run(os._exit, 1, workers=[address])
        except Exception:  # the dying worker closes the connection
            pass

    thread = threading.Thread(target=kill)
    thread.start()
    return thread


def test_fit_survives_a_worker_killed_while_reading_files(cluster, tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((30_000, 4)), columns=list("abcd"))
    frame["y"] = frame @ np.arange(1.0, 5.0) + 1.0 + rng.standard_normal(30_000)
    dd.from_pandas(frame, npartitions=30).to_parquet(tmp_path / "data")

    def slow(part):  # long enough to kill a worker in the middle
        time.sleep(0.15)
        return part

    with Client(cluster) as client:
        table = dd.read_parquet(tmp_path / "data").map_partitions(slow)
        X, y = table[list("abcd")], table["y"]
        undisturbed = LinearRegression().fit(X, y)
        victim = next(iter(client.scheduler_info()["workers"]))
        killer = kill_worker_soon(client, victim, delay=0.5)
        start = time.perf_counter()
        disturbed = LinearRegression().fit(X, y)
        assert time.perf_counter() - start > 0.5  # the kill came mid-fit
        killer.join()
        # The nanny restarted the worker (at a new address); the lost tasks
        # were recomputed from the files.
        client.wait_for_workers(3, timeout=60)
        assert victim not in client.scheduler_info()["workers"]
    # The reduction order is fixed by the graph: only BLAS rounding may differ.
    np.testing.assert_allclose(disturbed.coef_, undisturbed.coef_, rtol=1e-12)
    np.testing.assert_allclose(disturbed.intercept_, undisturbed.intercept_, rtol=1e-12)


def test_fit_recomputes_persisted_blocks_lost_with_their_worker(cluster):
    X, y = make_regression(30_000, 5, seed=1)

    def slow(block):
        time.sleep(0.1)
        return block

    with Client(cluster) as client:
        Xd = da.from_array(X, chunks=(1_000, 5)).persist()
        yd = da.from_array(y, chunks=1_000).persist()
        wait([Xd, yd])
        holders = client.who_has(Xd)
        victim = next(iter(next(iter(holders.values()))))
        undisturbed = LinearRegression().fit(Xd.map_blocks(slow), yd)
        killer = kill_worker_soon(client, victim, delay=0.5)
        start = time.perf_counter()
        disturbed = LinearRegression().fit(Xd.map_blocks(slow), yd)
        assert time.perf_counter() - start > 0.5  # the kill came mid-fit
        killer.join()
        client.wait_for_workers(3, timeout=60)
        assert victim not in client.scheduler_info()["workers"]
    np.testing.assert_allclose(disturbed.coef_, undisturbed.coef_, rtol=1e-12)
    np.testing.assert_allclose(disturbed.intercept_, undisturbed.intercept_, rtol=1e-12)


def test_no_block_of_x_moves_between_workers_during_a_fit(cluster):
    X, y = make_regression(240_000, 50, seed=2)
    with Client(cluster) as client:
        Xd = da.from_array(X, chunks=(20_000, 50))  # 8 MB blocks
        yd = da.from_array(y, chunks=20_000)
        Xd, yd = client.persist([Xd, yd])
        wait([Xd, yd])
        client.run(lambda dask_worker: dask_worker.transfer_incoming_log.clear())
        LinearRegression().fit(Xd, yd)
        logs = client.run(lambda dask_worker: list(dask_worker.transfer_incoming_log))
    moved = {}
    for log in logs.values():
        for entry in log:
            for key, size in entry["keys"].items():
                name = key[0] if isinstance(key, tuple) else key
                moved[name] = moved.get(name, 0) + size
    # Every task that reads a block of X runs where the block is; what
    # travels is y's blocks (when persisted elsewhere) and the statistics,
    # (p + 2)**2 floats per partial result.
    assert moved.get(Xd.name, 0) == 0
    assert sum(moved.values()) < y.nbytes + 4 * Xd.numblocks[0] * 8 * (50 + 2) ** 2


def test_retries_make_a_transient_read_error_succeed(cluster, tmp_path):
    import dask

    X, y = make_regression(10_000, 3, seed=3)
    markers = tmp_path / "markers"
    markers.mkdir()

    def flaky(block, block_info=None):
        # Fails the first time each block is read (an injected I/O error);
        # the marker files are shared by the worker processes.
        marker = markers / f"block-{block_info[0]['chunk-location'][0]}"
        if not marker.exists():
            marker.touch()
            raise OSError("injected I/O error on the first read")
        return block

    with Client(cluster):
        Xd = da.from_array(X, chunks=(1_000, 3)).map_blocks(flaky, dtype=float)
        yd = da.from_array(y, chunks=1_000)
        with pytest.raises(OSError, match="injected I/O error"):
            LinearRegression().fit(Xd, yd)
        for marker in markers.iterdir():
            marker.unlink()
        # New keys: the scheduler may still hold the failed ones for a moment.
        Xd = da.from_array(X, chunks=(1_000, 3)).map_blocks(
            flaky, dtype=float, name="flaky-read-with-retries"
        )
        with dask.annotate(retries=2):
            model = LinearRegression().fit(Xd, yd)
    assert len(list(markers.iterdir())) == 10  # every block failed once
    reference = LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-12)


def test_categorical_columns_fit_on_a_cluster_as_on_threads(cluster):
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "shop": rng.choice([f"s{i}" for i in range(40)], n),
            "kind": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        }
    )
    frame["y"] = frame["x"] + frame["shop"].str[1:].astype(float) / 10
    ddf = dd.from_pandas(frame, npartitions=12)
    local = LinearRegression().fit(ddf[["x", "shop", "kind"]], ddf["y"])
    with Client(cluster):
        remote = LinearRegression().fit(ddf[["x", "shop", "kind"]], ddf["y"])
        prediction = remote.predict(ddf[["x", "shop", "kind"]]).compute()
    assert list(remote.coef_names_) == list(local.coef_names_)
    np.testing.assert_allclose(remote.coef_, local.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        prediction.to_numpy(), local.predict(frame[["x", "shop", "kind"]]), atol=1e-10
    )
