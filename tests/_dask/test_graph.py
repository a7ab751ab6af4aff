import threading

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask.callbacks import Callback

from dask_linreg import LinearRegression, Ridge
from dask_linreg._dask.graph import (
    DEFAULT_SPLIT_EVERY,
    MAX_SPLIT_EVERY,
    effective_split_every,
    reduce_statistic,
)
from dask_linreg._numerics.moments import block_moments

from ..conftest import CountingSource, make_regression


@pytest.mark.parametrize("estimator", [LinearRegression(split_every=2), Ridge()])
@pytest.mark.parametrize("weighted", [False, True])
def test_fit_reads_every_element_exactly_once_in_one_compute(estimator, weighted):
    X, y = make_regression(1000, 7, 2, seed=0)
    w = np.linspace(0.5, 1.5, 1000)
    sources = [CountingSource(X), CountingSource(y), CountingSource(w)]
    Xd = da.from_array(sources[0], chunks=(97, 3), asarray=False)
    yd = da.from_array(sources[1], chunks=(97, 1), asarray=False)
    wd = da.from_array(sources[2], chunks=97, asarray=False) if weighted else None
    computes = []

    def counting_scheduler(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        estimator.fit(Xd, yd, sample_weight=wd)
    assert len(computes) == 1
    assert sources[0].elements_read == X.size
    assert sources[1].elements_read == y.size
    assert sources[2].elements_read == (w.size if weighted else 0)


def test_reduce_statistic_equals_moments_of_the_whole_array():
    X, y = make_regression(500, 4, 2, seed=1)
    w = np.linspace(0, 2, 500)
    moments, faults = reduce_statistic(
        da.from_array(X, chunks=(33, 2)),
        da.from_array(y, chunks=(33, 2)),
        da.from_array(w, chunks=33),
        split_every=3,
    )
    faults.raise_if_any()
    whole = block_moments([X, y], w)
    assert moments.count == 500
    np.testing.assert_allclose(moments.mean, whole.mean, rtol=1e-13)
    np.testing.assert_allclose(moments.comoment, whole.comoment, rtol=1e-11, atol=1e-12)


def test_only_small_statistics_leave_the_data_blocks():
    # Every task of the summary and merge layers (named after our functions)
    # returns (Moments, InputFaults) with q-by-q statistics, q = 6 columns
    # of [X | y], never rows of data.
    X, y = make_regression(4000, 5, seed=2)
    outputs = []

    def record(key, result, dsk, state, worker_id):
        name = key[0] if isinstance(key, tuple) else key
        if "block-summary" in name:
            outputs.append(result[0])
        elif "merge-summaries" in name:
            outputs.append(result)

    with Callback(posttask=record), dask.config.set(scheduler="sync"):
        LinearRegression(split_every=2).fit(
            da.from_array(X, chunks=500), da.from_array(y, chunks=500)
        )
    assert len(outputs) >= 8
    for moments, faults in outputs:
        assert moments.comoment.shape == (6, 6)
        assert moments.shift.shape == moments.offset.shape == (6,)
        assert faults.counts == {} and faults.row_mismatch is None


@pytest.mark.parametrize("on_dask", [False, True, "dataframe"])
def test_fit_allocates_far_less_than_a_copy_of_x(on_dask):
    import tracemalloc

    X, y = make_regression(200_000, 20, seed=3)
    if on_dask == "dataframe":
        # The columns of a partition are read where they are: copying them
        # side by side (two partitions at a time, 8.4 MB) would show.
        frame = pd.DataFrame(np.column_stack([X, y]))
        ddf = dd.from_pandas(frame, npartitions=8).persist()
        X, y = ddf[list(range(20))], ddf[20]
    elif on_dask:
        X = da.from_array(X, chunks=(25_000, 20)).persist()
        y = da.from_array(y, chunks=25_000).persist()
    LinearRegression().fit(X, y)  # imports and caches warmed up
    tracemalloc.start()
    try:
        LinearRegression().fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # X is 32 MB; a copy of it (or of [X | y]) would show here.
    assert peak < 0.25 * 200_000 * 20 * 8


def test_small_in_memory_fit_builds_no_task_graph():
    X, y = make_regression(1000, 10, 2, seed=3)
    computes = []

    def counting_scheduler(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        small = LinearRegression().fit(X, y)
    assert computes == []
    reference = LinearRegression().fit(
        da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    )
    # Rounding differs with the blocking: bound it by the coefficients' scale
    # (a coefficient near zero has no relative digits to keep).
    scale = np.abs(reference.coef_).max()
    np.testing.assert_allclose(
        small.coef_, reference.coef_, rtol=1e-12, atol=1e-12 * scale
    )


def test_one_blas_thread_is_set_for_the_task_thread_only():

    import threadpoolctl

    from dask_linreg._dask.graph import (
        _thread_local_blas_setters,
        _with_one_blas_thread,
    )

    if not _thread_local_blas_setters():
        pytest.skip("the loaded BLAS has no thread-local thread count")

    def counts():
        return [
            pool["num_threads"]
            for pool in threadpoolctl.threadpool_info()
            if pool["user_api"] == "blas"
        ]

    before = counts()
    seen = {}

    def task():
        seen["inside"] = _with_one_blas_thread(counts)
        seen["after"] = counts()

    def main_while_task_runs():
        return counts()

    worker = threading.Thread(target=task)
    worker.start()
    worker.join()
    assert set(seen["inside"]) == {1}
    assert seen["after"] == before and main_while_task_runs() == before


def test_small_blocks_are_joined_into_fewer_tasks_on_threads_only():
    # 400 blocks of 10 rows: on the threaded scheduler runs of split_every
    # blocks make one task each (a task costs more than such a block); the
    # sync scheduler keeps a task per block.  Same statistics either way.
    X, y = make_regression(4000, 5, seed=4)
    Xd, yd = da.from_array(X, chunks=(10, 5)), da.from_array(y, chunks=10)
    summaries = {}

    def record(key, result, dsk, state, worker_id):
        name = key[0] if isinstance(key, tuple) else key
        if "block-summary" in name:
            summaries[scheduler] = summaries.get(scheduler, 0) + 1

    results = {}
    for scheduler in ("threads", "sync"):
        with Callback(posttask=record):
            results[scheduler], faults = reduce_statistic(
                Xd, yd, split_every=8, scheduler=scheduler
            )
        assert faults.counts == {} and faults.n_blocks == summaries[scheduler]
    assert summaries == {"threads": 50, "sync": 400}
    joined, separate = results["threads"], results["sync"]
    assert joined.count == separate.count == 4000
    np.testing.assert_allclose(joined.mean, separate.mean, rtol=1e-13)
    np.testing.assert_allclose(
        joined.comoment, separate.comoment, rtol=1e-12, atol=1e-12 * 4000
    )


@pytest.mark.parametrize(
    ("n_columns", "expected"),
    [(2, 32), (21, 32), (180, 32), (181, 31), (250, 16), (361, 8), (362, 8), (2001, 8)],
)
def test_default_fan_in_follows_the_size_of_the_statistic(n_columns, expected):
    # As many statistics of 8 (q + 1)**2 bytes as fit in 8 MiB, from 8 to 32.
    assert effective_split_every(None, n_columns) == expected
    assert DEFAULT_SPLIT_EVERY <= expected <= MAX_SPLIT_EVERY


def test_an_explicit_fan_in_is_kept_and_none_without_columns_is_eight():
    assert effective_split_every(3, 21) == 3
    assert effective_split_every(64, 2001) == 64
    assert effective_split_every(None) == DEFAULT_SPLIT_EVERY == 8


@pytest.mark.parametrize(("n_features", "merges"), [(4, 3), (400, 9)])
def test_the_default_tree_merges_small_statistics_32_at_a_time(n_features, merges):
    # 64 blocks on the sync scheduler (no joined blocks): 5 columns of
    # [X | y] merge 32 at a time (2 merges and the root), 401 columns 8 at
    # a time (8 and the root); the statistics agree with a fan-in of 2.
    n_rows = 64 * 8
    X, y = make_regression(n_rows, n_features, seed=5)
    Xd = da.from_array(X, chunks=(8, n_features))
    yd = da.from_array(y, chunks=8)
    counted = {"merges": 0}

    def record(key, result, dsk, state, worker_id):
        name = key[0] if isinstance(key, tuple) else key
        if name.startswith("merge-summaries"):
            counted["merges"] += 1

    with Callback(posttask=record):
        default, _ = reduce_statistic(Xd, yd, scheduler="sync")
    assert counted["merges"] == merges
    pairwise, _ = reduce_statistic(Xd, yd, split_every=2, scheduler="sync")
    assert default.count == pairwise.count == n_rows
    scale = np.abs(pairwise.comoment).max()
    np.testing.assert_allclose(
        default.comoment, pairwise.comoment, rtol=0, atol=1e-12 * scale
    )
