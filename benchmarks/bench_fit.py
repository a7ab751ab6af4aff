#!/usr/bin/env python
"""Time ``dask_linreg.LinearRegression.fit`` against NumPy floors and peers.

For each problem size, on the same in-memory data in one run, this times

- two floors on the in-memory data.  The *syrk floor* is one symmetric
  BLAS product ``Z.T @ Z`` of ``Z = [X | y]`` (one C-contiguous array, built
  once, untimed) and the Cholesky solve of the normal equations read from it:
  the least work any one-pass normal-equations method does.  It is the faster
  of NumPy's own BLAS threads over the whole array and two halves of the rows
  in two threads with one BLAS thread each.  The *memory floor* is one read
  of ``X``: ``X[half].sum(axis=0)`` on each half in two threads;
- ``dask_linreg.LinearRegression().fit`` on a persisted Dask array, on the
  threaded scheduler and on a two-worker ``distributed.LocalCluster``, and
  on that cluster the *cluster floor*: one task per block computing its
  ``Zb.T @ Zb``, one sum, the solve on the client;
- ``sklearn.linear_model.LinearRegression`` on the NumPy array;
- ``dask_ml.linear_model.LinearRegression``, its default solver and
  ``solver="lbfgs"``, on the persisted Dask array (threaded scheduler);

and prints each time as a ratio to both floors, with the coefficients' error
against an accurate least-squares solution, and the peak memory that our
threaded fit allocates beyond the data.

Run ``python benchmarks/bench_fit.py --help`` for the options; ``--quick``
is a smoke run of a few seconds.
"""

import argparse
import concurrent.futures
import functools
import gc
import json
import logging
import math
import os
import platform
import sys
import time
import tracemalloc
import uuid
import warnings
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import scipy
import scipy.linalg
import sklearn
from sklearn.linear_model import LinearRegression as SkLinearRegression
from threadpoolctl import threadpool_info, threadpool_limits

try:
    import dask_linreg
except ImportError:
    # Run from a checkout without installing: use the package next to this
    # script, and export the path so that LocalCluster worker processes (which
    # unpickle our functions by module name) can import it too.
    _ROOT = str(Path(__file__).resolve().parent.parent)
    sys.path.insert(0, _ROOT)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p
    )
    import dask_linreg

from dask_linreg import LinearRegression
from dask_linreg.linear_model._base import EXACT_MAX_COLUMNS

DEFAULT_SIZES = "2000000x50,200000x500,20000x2000"
QUICK_SIZES = "200000x50,20000x200"

#: Target bytes of one row block of X when --chunk-rows is not given.
TARGET_BLOCK_BYTES = 64 << 20
#: Fewest row blocks when --chunk-rows is not given, so that even small
#: problems exercise the tree merge and keep both cores busy.
MIN_BLOCKS = 8

#: The syrk floor is the faster of its two variants.
SYRK_FLOOR_METHODS = ("floor-syrk-blas", "floor-syrk-halves")
MEMORY_FLOOR_METHOD = "floor-memory"
FLOOR_METHODS = (*SYRK_FLOOR_METHODS, MEMORY_FLOOR_METHOD)
METHODS = (
    *FLOOR_METHODS,
    "ours-threads",
    "ours-qr",
    "ours-exact",
    "ours-cluster",
    "floor-cluster",
    "sklearn",
    "dask-lstsq",
    "dask-ml",
    "dask-ml-lbfgs",
    "dask-ml-newton",
    "spark-normal",
)
SKIPPABLE = METHODS[len(FLOOR_METHODS) :]
#: Methods timed once whatever --repeat says: they take minutes at full size.
SLOW_METHODS = ("dask-ml", "dask-ml-lbfgs", "dask-ml-newton", "spark-normal")

MB = 1e6
#: Seconds between two timed runs on the cluster (see time_on_cluster).
CLUSTER_PAUSE = 0.25


def say(*args):
    """Print and flush, so that progress shows while a long fit runs."""
    print(*args, flush=True)


# --------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------


def parse_sizes(text):
    """Parse ``"2000000x50,200000x500"`` into ``[(2000000, 50), (200000, 500)]``."""
    sizes = []
    for item in text.split(","):
        try:
            n, p = (int(v.replace("_", "")) for v in item.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"bad size {item!r}; expected ROWSxCOLUMNS, e.g. 2000000x50"
            ) from None
        if n < 2 or p < 1:
            raise argparse.ArgumentTypeError(f"bad size {item!r}")
        sizes.append((n, p))
    return sizes


def parse_skip(text):
    """Parse a comma list of method names to skip, checking each name."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SKIPPABLE))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"cannot skip {', '.join(unknown)}; choose from {', '.join(SKIPPABLE)} "
            "(the floor is always run: every ratio is relative to it)"
        )
    return set(names)


def default_chunk_rows(n, p):
    """Rows per block: about 64 MiB blocks, at least 8 blocks, and a number
    of blocks that is a multiple of the core count so no core idles at the end.
    """
    cores = os.cpu_count() or 1
    n_blocks = max(MIN_BLOCKS, math.ceil(n * p * 8 / TARGET_BLOCK_BYTES))
    n_blocks = math.ceil(n_blocks / cores) * cores
    return max(1, math.ceil(n / n_blocks))


def make_data(n, p, seed):
    """Standard normal X with large column offsets, and a linear y.

    The offsets ``1e3 * arange(p)`` make the uncentered cross-products
    ill-conditioned: they cost a centered method nothing but show what the
    floor's plain normal equations lose.

    Returns
    -------
    X : ndarray of shape (n, p), C-contiguous float64
    y : ndarray of shape (n,)
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X += 1e3 * np.arange(p)
    beta = rng.standard_normal(p)
    y = X @ beta
    y += 2.0 + rng.standard_normal(n)
    return X, y


def reference_coef(X, y, *, fit_intercept):
    """Accurate least-squares coefficients, by pivoted QR (``gelsy``).

    With an intercept the data are centered first, which removes the
    offsets and leaves a well-conditioned problem.  Without one (for the
    floor, which fits none) the QR runs on X itself: backward stable, so
    still far more accurate than the normal equations.
    """
    if fit_intercept:
        X = X - X.mean(axis=0)
        y = y - y.mean()
        overwrite = True
    else:
        overwrite = False
    coef = scipy.linalg.lstsq(
        X, y, lapack_driver="gelsy", overwrite_a=overwrite, check_finite=False
    )[0]
    return coef


def coef_error(coef, reference):
    """``max |coef - reference| / max |reference|``."""
    coef = np.asarray(coef, dtype=np.float64).reshape(-1)
    return float(np.max(np.abs(coef - reference)) / np.max(np.abs(reference)))


# --------------------------------------------------------------------------
# Dask arrays over the data
# --------------------------------------------------------------------------


def local_blocks(a, chunk_rows):
    """A persisted Dask array whose row blocks are views of ``a``.

    This is what ``da.from_array(a, chunks).persist()`` should give on the
    threaded scheduler, but recent Dask's ``from_array`` copies a NumPy array
    first; building the graph of views directly keeps exactly one copy of
    the data in memory, as a user's persisted array would.
    """
    n = a.shape[0]
    starts = range(0, n, chunk_rows)
    name = f"bench-{uuid.uuid4().hex}"
    tail = (0,) * (a.ndim - 1)
    graph = {(name, i, *tail): a[s : s + chunk_rows] for i, s in enumerate(starts)}
    chunks = (tuple(min(chunk_rows, n - s) for s in starts),) + tuple(
        (d,) for d in a.shape[1:]
    )
    meta = np.empty((0,) * a.ndim, dtype=a.dtype)
    array = da.Array(graph, name, chunks, dtype=a.dtype, meta=meta)
    array = array.persist(scheduler="sync")
    held = dict(array.__dask_graph__())
    keys = list(dask.core.flatten(array.__dask_keys__()))
    if not all(np.shares_memory(held[key], a) for key in keys):
        raise RuntimeError("persisted blocks are copies, not views, of the data")
    return array


def cluster_blocks(client, arrays, chunk_rows):
    """Scatter row blocks of ``arrays`` to the workers and persist them there.

    Block ``i`` of every array goes to worker ``i % n_workers``, so X's and
    y's blocks are on the same worker and the fit moves no data.  Each
    worker then holds an aligned copy of its blocks, as if it had read them.

    Returns
    -------
    list of dask.array.Array
        One persisted Dask array per input, with rows in blocks of
        ``chunk_rows``.
    """
    import distributed

    workers = sorted(client.scheduler_info()["workers"])
    n = arrays[0].shape[0]
    starts = list(range(0, n, chunk_rows))
    pieces = [[] for _ in arrays]
    for i, start in enumerate(starts):
        for a, out in zip(arrays, pieces, strict=True):
            block = a[start : start + chunk_rows]
            # hash=False: tokenizing would read every byte of the data.
            future = client.scatter(
                block, workers=[workers[i % len(workers)]], hash=False
            )
            meta = np.empty((0,) * a.ndim, dtype=a.dtype)
            out.append(da.from_delayed(future, block.shape, a.dtype, meta=meta))
    # A block received over the network lies at any byte offset of its
    # message: not aligned for its dtype, and NumPy hands no unaligned
    # operand to the BLAS.  Data a worker reads itself (Parquet, Zarr) are
    # aligned, as are these copies made on the workers holding the blocks.
    persisted = client.persist(
        [da.concatenate(p, axis=0).map_blocks(_aligned) for p in pieces]
    )
    distributed.wait(persisted)
    return persisted


def _aligned(block):
    return np.require(block, requirements="A")


# --------------------------------------------------------------------------
# The methods
# --------------------------------------------------------------------------


def stacked(X, y):
    """``Z = [X | y]`` as one C-contiguous array (built once, untimed)."""
    return np.ascontiguousarray(np.hstack([X, y[:, None]]))


def solve_from_gram(G):
    """Coefficients from ``G = Z.T @ Z``: ``gram = G[:p, :p]``, ``xty = G[:p, p]``.

    A Cholesky factorization and solve of a ``p x p`` system: microseconds to
    milliseconds, kept in the syrk floor as part of the floor's work.
    """
    p = G.shape[0] - 1
    return scipy.linalg.cho_solve(scipy.linalg.cho_factor(G[:p, :p]), G[:p, p])


def floor_syrk_blas(Z):
    """Syrk floor, variant (a): one ``Z.T @ Z`` on NumPy's own BLAS threads,
    then the Cholesky solve (included in the time).

    NumPy recognizes ``Z.T @ Z`` and calls BLAS ``syrk``, which reads ``Z``
    once and computes one triangle.
    """
    return solve_from_gram(Z.T @ Z)


def floor_syrk_halves(Z, pool):
    """Syrk floor, variant (b): ``Z.T @ Z`` of two halves of the rows on two
    threads, partial products added, then the Cholesky solve (included).

    Call with BLAS limited to one thread: NumPy releases the GIL in BLAS,
    so the two threads run on two cores without oversubscribing them.
    """
    half = Z.shape[0] // 2

    def part(rows):
        zh = Z[rows]
        return zh.T @ zh

    first, second = pool.map(part, (slice(0, half), slice(half, None)))
    return solve_from_gram(first + second)


def floor_memory(X, pool):
    """Memory floor: one read of ``X``, ``X[half].sum(axis=0)`` on each half
    in two threads (call with BLAS limited to one thread).  No solve: it is
    the time to stream the data from memory once, nothing more.
    """
    half = X.shape[0] // 2
    parts = pool.map(
        lambda rows: X[rows].sum(axis=0), (slice(0, half), slice(half, None))
    )
    return sum(parts)


def fit_ours(X, y, solver="auto"):
    """``dask_linreg.LinearRegression(solver=solver).fit`` on the active scheduler."""
    return LinearRegression(solver=solver).fit(X, y).coef_


def fit_sklearn(X, y):
    """``sklearn.linear_model.LinearRegression().fit`` on NumPy data."""
    return SkLinearRegression().fit(X, y).coef_


def fit_dask_lstsq(X, y):
    """``dask.array.linalg.lstsq`` (TSQR) on ``[X | 1]``: Dask's own solver."""
    ones = da.ones((X.shape[0], 1), chunks=(X.chunks[0], 1))
    design = da.hstack([X, ones]).rechunk({1: -1})
    coef, _, _, _ = da.linalg.lstsq(design, y)
    return np.asarray(coef.compute())[:-1]


def time_spark(X, y, repeat):
    """Best time of Spark MLlib's ``LinearRegression(solver="normal")`` on a
    ``local[2]`` session; the data are loaded into Spark and cached first
    (untimed), as ours are persisted.  Returns ``(seconds, coef)``."""
    import tempfile

    import pandas as pd
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression as SparkLinearRegression
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("dask_linreg-bench")
        .config("spark.driver.memory", "8g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        with tempfile.TemporaryDirectory() as folder:
            columns = [f"x{i}" for i in range(X.shape[1])]
            frame = pd.DataFrame(X, columns=columns).assign(y=y)
            frame.to_parquet(f"{folder}/data.parquet", row_group_size=250_000)
            table = (
                VectorAssembler(inputCols=columns, outputCol="features")
                .transform(spark.read.parquet(f"{folder}/data.parquet"))
                .select("features", "y")
                .cache()
            )
            table.count()
            estimator = SparkLinearRegression(
                featuresCol="features",
                labelCol="y",
                solver="normal",
                regParam=0.0,
                standardization=False,
            )
            seconds, model = best_time(lambda: estimator.fit(table), repeat)
            table.unpersist()
        return seconds, np.asarray(model.coefficients.toArray())
    finally:
        spark.stop()


def fit_dask_ml(X, y, **params):
    """``dask_ml.linear_model.LinearRegression(**params).fit``."""
    from dask_ml.linear_model import LinearRegression as DaskMLLinearRegression

    with warnings.catch_warnings():
        # dask-ml passes deprecated Dask config keys on every call.
        warnings.simplefilter("ignore", FutureWarning)
        return np.asarray(DaskMLLinearRegression(**params).fit(X, y).coef_)


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def best_time(fn, repeat, *, warmup=False, pause=0.0):
    """Best wall time of ``repeat`` calls of ``fn``, and its last result.

    With ``warmup``, one untimed call first, so that a single repeat does not
    charge BLAS thread start-up and first-touch page faults to the method.
    ``pause`` seconds are slept, untimed, before each call.
    """
    best = math.inf
    result = fn() if warmup else None
    for _ in range(repeat):
        # Collect garbage outside the timed region so a previous run's
        # cycles are not charged to this one.
        gc.collect()
        time.sleep(pause)
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_allocation(fn):
    """Peak bytes allocated by ``fn()`` beyond what existed before it.

    NumPy reports its data buffers to :mod:`tracemalloc`, so this counts
    every array the fit creates, in any thread.  It misses memory that BLAS
    allocates for itself (a fixed per-thread buffer in OpenBLAS).
    """
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class Table:
    """Results of one problem size: a progress line per measurement, and a
    table of ratios once the floor is final.
    """

    def __init__(self):
        self.rows = {}

    def add(self, method, seconds=None, error=None, note="", failure=None):
        """Record a method's best time (the minimum over calls to ``add``)."""
        row = self.rows.setdefault(
            method,
            {"method": method, "seconds": None, "coef_rel_error": error, "note": note},
        )
        if failure is not None:
            row["failure"] = failure
            say(f"  .. {method}: failed: {failure}")
            return
        if row["seconds"] is None or seconds < row["seconds"]:
            row["seconds"], row["coef_rel_error"] = seconds, error
        err = "-" if error is None else f"{error:.1e}"
        say(f"  .. {method}: {seconds:.3f} s, coef err {err}")

    @property
    def floor(self):
        """The syrk floor: the faster syrk variant's best time."""
        return min(self.rows[m]["seconds"] for m in SYRK_FLOOR_METHODS)

    @property
    def memory_floor(self):
        """The memory floor's best time: one read of X in two threads."""
        return self.rows[MEMORY_FLOOR_METHOD]["seconds"]

    def show(self):
        """Print the table and return its rows, with ratios to both floors."""
        floor, memory = self.floor, self.memory_floor
        say(
            f"  {'method':<18} {'seconds':>9} {'x syrk':>8} {'x mem':>8} "
            f"{'coef err':>9}  note"
        )
        say(f"  {'-' * 18} {'-' * 9} {'-' * 8} {'-' * 8} {'-' * 9}  {'-' * 4}")
        rows = []
        for row in self.rows.values():
            seconds = row["seconds"]
            ratio = None if seconds is None else seconds / floor
            row["ratio_to_syrk_floor"] = ratio
            # The name plot_results.py (and older results) read.
            row["ratio_to_floor"] = ratio
            row["ratio_to_memory_floor"] = None if seconds is None else seconds / memory
            rows.append(row)
            method = row["method"]
            if "failure" in row:
                say(
                    f"  {method:<18} {'failed':>9} {'':>8} {'':>8} {'':>9}  "
                    f"{row['failure']}"
                )
                continue
            error = row["coef_rel_error"]
            err = "-" if error is None else f"{error:.1e}"
            say(
                f"  {method:<18} {seconds:9.3f} {ratio:8.2f} "
                f"{row['ratio_to_memory_floor']:8.2f} {err:>9}  {row['note']}"
            )
        return rows


def time_floors(X, Z, repeat, table, reference):
    """Time the two syrk floor variants and the memory floor into ``table``."""
    notes = {
        "floor-syrk-blas": "Z.T @ Z + solve, NumPy BLAS threads; no intercept",
        "floor-syrk-halves": "Z.T @ Z + solve, 2 threads x 1 BLAS thread; no intercept",
        "floor-memory": "one read of X: X[half].sum(axis=0), 2 threads",
    }
    seconds, coef = best_time(lambda: floor_syrk_blas(Z), repeat, warmup=True)
    table.add(
        "floor-syrk-blas",
        seconds,
        coef_error(coef, reference),
        notes["floor-syrk-blas"],
    )
    with (
        concurrent.futures.ThreadPoolExecutor(2) as pool,
        # The limit is process-wide, so it is set once around both threads.
        threadpool_limits(limits=1, user_api="blas"),
    ):
        seconds, coef = best_time(
            lambda: floor_syrk_halves(Z, pool), repeat, warmup=True
        )
        table.add(
            "floor-syrk-halves",
            seconds,
            coef_error(coef, reference),
            notes["floor-syrk-halves"],
        )
        seconds, _ = best_time(lambda: floor_memory(X, pool), repeat, warmup=True)
        table.add("floor-memory", seconds, None, notes["floor-memory"])


def time_beside_floor(fit, Z, repeat, table, reference):
    """Best time and last result of ``fit()``, timed in ``repeat`` rounds
    each also timing :func:`floor_syrk_halves` right before it (added to
    ``table``, whose best counts), and the median of the rounds' ratios:
    the two side by side see the same state of a noisy, shared machine.
    """
    ratios, best, coef = [], math.inf, None
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for _ in range(repeat):
            with threadpool_limits(limits=1, user_api="blas"):
                floor_seconds, floor_coef = best_time(
                    lambda: floor_syrk_halves(Z, pool), 1
                )
            table.add(
                "floor-syrk-halves", floor_seconds, coef_error(floor_coef, reference)
            )
            seconds, coef = best_time(fit, 1)
            best = min(best, seconds)
            ratios.append(seconds / floor_seconds)
    return best, coef, float(np.median(ratios))


def run_size(n, p, args, skip):
    """Time every method on one problem size; return the results as a dict."""
    chunk_rows = args.chunk_rows or default_chunk_rows(n, p)
    n_blocks = math.ceil(n / chunk_rows)
    block_bytes = min(chunk_rows, n) * p * 8
    X, y = make_data(n, p, args.seed)
    load = os.getloadavg()
    say(
        f"\n== n={n:,} x p={p}: X {X.nbytes / MB:.1f} MB in {n_blocks} blocks of "
        f"{chunk_rows:,} rows ({block_bytes / MB:.1f} MB each); best of "
        f"{args.repeat} (dask-ml: 1); load average {load[0]:.2f}"
    )
    ref = reference_coef(X, y, fit_intercept=True)
    ref_no_intercept = reference_coef(X, y, fit_intercept=False)
    # Untimed: the syrk floors read [X | y] as one array, in one pass.
    Z = stacked(X, y)
    table = Table()
    # The floor is timed first and again last, and the best of both counts:
    # the denominator of every ratio should not carry a passing disturbance.
    time_floors(X, Z, args.repeat, table, ref_no_intercept)

    peak = median_ratio = None
    if "ours-threads" not in skip:
        Xd, yd = local_blocks(X, chunk_rows), local_blocks(y, chunk_rows)
        with dask.config.set(scheduler="threads"):
            # Untimed: tracemalloc slows allocation.  Also warms up.
            peak = peak_allocation(lambda: fit_ours(Xd, yd))
            seconds, coef, median_ratio = time_beside_floor(
                lambda: fit_ours(Xd, yd), Z, args.repeat, table, ref_no_intercept
            )
        table.add(
            "ours-threads", seconds, coef_error(coef, ref), "threaded scheduler; 1 pass"
        )
        say(
            "  .. ours-threads / floor-syrk-halves, median of the rounds' ratios: "
            f"{median_ratio:.2f}"
        )
        # The accurate solvers on the same data; "auto" above stays one pass
        # on these well-conditioned data (it is the cholesky path).
        for solver in ("qr", "exact"):
            method = f"ours-{solver}"
            if method in skip or (solver == "exact" and p + 1 > EXACT_MAX_COLUMNS):
                continue
            with dask.config.set(scheduler="threads"):
                seconds, coef = best_time(
                    functools.partial(fit_ours, Xd, yd, solver), args.repeat
                )
            table.add(
                method,
                seconds,
                coef_error(coef, ref),
                f"solver={solver!r}, threads; 1 pass",
            )

    if "ours-cluster" not in skip:
        note = "LocalCluster 2 x 1 thread; 1 pass"
        try:
            (seconds, coef), cluster_floor = time_on_cluster(
                X, y, Z, chunk_rows, args.repeat, floor="floor-cluster" not in skip
            )
        except Exception as exc:  # report and go on with the other methods
            table.add("ours-cluster", note=note, failure=f"{type(exc).__name__}: {exc}")
        else:
            table.add("ours-cluster", seconds, coef_error(coef, ref), note)
            if cluster_floor is not None:
                seconds, coef = cluster_floor
                table.add(
                    "floor-cluster",
                    seconds,
                    coef_error(coef, ref_no_intercept),
                    "same cluster: Zb.T @ Zb per block, 1 sum, solve; no intercept",
                )

    if "sklearn" not in skip:
        seconds, coef = best_time(lambda: fit_sklearn(X, y), args.repeat)
        table.add("sklearn", seconds, coef_error(coef, ref), "NumPy input, in memory")

    if "dask-lstsq" not in skip:
        Xd, yd = local_blocks(X, chunk_rows), local_blocks(y, chunk_rows)
        with dask.config.set(scheduler="threads"):
            seconds, coef = best_time(lambda: fit_dask_lstsq(Xd, yd), args.repeat)
        table.add(
            "dask-lstsq",
            seconds,
            coef_error(coef, ref),
            "dask.array.linalg.lstsq: 1 pass, builds Q (n x p)",
        )

    for method, params in (
        ("dask-ml", {}),
        ("dask-ml-lbfgs", {"solver": "lbfgs"}),
        ("dask-ml-newton", {"solver": "newton"}),
    ):
        if method in skip:
            continue
        note = "threaded scheduler, one pass per iteration, " + (
            f"solver={params['solver']!r}" if params else "default solver"
        )
        Xd, yd = local_blocks(X, chunk_rows), local_blocks(y, chunk_rows)
        try:
            with dask.config.set(scheduler="threads"):
                seconds, coef = best_time(
                    functools.partial(fit_dask_ml, Xd, yd, **params), 1
                )
        except Exception as exc:  # dask-ml may not support this Dask version
            table.add(method, note=note, failure=f"{type(exc).__name__}: {exc}")
        else:
            table.add(method, seconds, coef_error(coef, ref), note)

    if "spark-normal" not in skip:
        note = "Spark MLlib solver='normal', local[2]; 1 pass over cached data"
        try:
            seconds, coef = time_spark(X, y, 1)
        except Exception as exc:  # pyspark or Java missing: report, go on
            table.add("spark-normal", note=note, failure=f"{type(exc).__name__}: {exc}")
        else:
            table.add("spark-normal", seconds, coef_error(coef, ref), note)

    time_floors(X, Z, args.repeat, table, ref_no_intercept)
    rows = table.show()
    say(
        "  coef err: max |coef - ref| / max |ref|, ref = pivoted QR least squares "
        "(with intercept; the floors' ref has none)"
    )
    say(
        f"  floors: syrk {table.floor:.3f} s (x syrk), memory "
        f"{table.memory_floor:.3f} s (x mem)"
    )
    cluster = table.rows.get("ours-cluster", {}).get("seconds")
    cluster_floor = table.rows.get("floor-cluster", {}).get("seconds")
    if cluster and cluster_floor:
        say(
            f"  cluster: ours {cluster:.3f} s = {cluster / cluster_floor:.2f} x the "
            f"cluster floor ({cluster_floor:.3f} s = {cluster_floor / table.floor:.2f}"
            " x syrk)"
        )
    if peak is not None:
        say(
            f"  ours-threads peak allocation during fit: {peak / MB:.1f} MB = "
            f"{peak / block_bytes:.2f} blocks = {peak / X.nbytes:.3f} x X "
            f"(X {X.nbytes / MB:.1f} MB, block {block_bytes / MB:.1f} MB)"
        )
    return {
        "n_samples": n,
        "n_features": p,
        "chunk_rows": chunk_rows,
        "n_blocks": n_blocks,
        "x_bytes": X.nbytes,
        "block_bytes": block_bytes,
        "load_average_at_start": list(load),
        # floor_seconds: the syrk floor (the name older results use).
        "floor_seconds": table.floor,
        "syrk_floor_seconds": table.floor,
        "memory_floor_seconds": table.memory_floor,
        "cluster_floor_seconds": cluster_floor,
        "methods": rows,
        "ours_threads_peak_bytes": peak,
        "ours_threads_median_round_ratio": median_ratio,
    }


def floor_cluster(Zd):
    """Cluster floor: on the workers' blocks of ``Z = [X | y]``, one task per
    block computing ``Zb.T @ Zb`` (one syrk), the products added in one
    task, and the Cholesky solve on the client.

    The least any one-pass fit on the cluster does: the same syrk per block,
    one task per block, one merge, the result sent to the client.  What a
    fit costs beyond it is its own work (centering, checks, the solve); what
    the floor costs beyond the syrk floor is the cluster's (scheduling,
    moving the products, one BLAS thread per worker).
    """
    grams = [dask.delayed(gram)(block) for block in Zd.to_delayed().ravel()]
    return solve_from_gram(dask.delayed(summed)(grams).compute())


def gram(block):
    """``block.T @ block`` (one syrk)."""
    return block.T @ block


def summed(grams):
    """The sum of ``grams``, added into one new array (not concatenated)."""
    total = grams[0].copy()
    for gram in grams[1:]:
        total += gram
    return total


def time_on_cluster(X, y, Z, chunk_rows, repeat, *, floor=True):
    """Best time of our fit on a fresh two-worker LocalCluster, and (with
    ``floor``) of :func:`floor_cluster` on the same cluster.

    The data are scattered to the workers before timing: only the fit is
    timed.  The workers hold their own copy of the data (and of ``Z`` for
    the floor, block ``i`` of each on the same worker).

    Returns
    -------
    ours : (seconds, coef)
    floor : (seconds, coef) or None
    """
    from distributed import Client, LocalCluster

    arrays = [X, y, Z] if floor else [X, y]
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            # Far above the data each worker holds, so nothing spills.
            memory_limit=max(4 << 30, 2 * sum(a.nbytes for a in arrays)),
            dashboard_address=None,
            # Workers log heartbeat errors while the cluster shuts down.
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        Xd, yd, *rest = cluster_blocks(client, arrays, chunk_rows)
        fit_ours(Xd, yd)  # warm-up: workers import dask_linreg
        # The same graph again returns at once while the scheduler still
        # holds the last run's keys (their release is asynchronous): each
        # run waits for it, untimed.
        timed = functools.partial(best_time, repeat=repeat, pause=CLUSTER_PAUSE)
        ours = timed(lambda: fit_ours(Xd, yd))
        if not floor:
            return ours, None
        (Zd,) = rest
        cluster_floor = timed(lambda: floor_cluster(Zd), warmup=True)
        # Ours again after the floor: the best of both counts for each, so
        # that neither carries a disturbance the other escaped.
        ours = min(ours, timed(lambda: fit_ours(Xd, yd)), key=_seconds)
        return ours, cluster_floor


def _seconds(timed):
    return timed[0]


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def machine_info():
    """CPU, memory, library versions and the BLAS NumPy and SciPy use."""
    try:
        import dask_ml

        dask_ml_version = dask_ml.__version__
    except ImportError:
        dask_ml_version = None
    import distributed

    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                line.split(":", 1)[1].strip()
                for line in f
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    package_dir = Path(dask_linreg.__file__).parent
    blas = [
        {
            key: lib.get(key)
            for key in (
                "internal_api",
                "version",
                "num_threads",
                "threading_layer",
                "architecture",
                "filepath",
            )
        }
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    ]
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "dask": dask.__version__,
        "distributed": distributed.__version__,
        "scikit-learn": sklearn.__version__,
        "dask-ml": dask_ml_version,
        "dask_linreg": f"{dask_linreg.__version__} ({package_dir})",
        "blas": blas,
    }


def print_machine(info):
    memory = f"{info['memory_bytes'] / 2**30:.1f} GiB" if info["memory_bytes"] else "?"
    say(f"machine: {info['cpu_count']} CPUs ({info['cpu_model']}), {memory} RAM")
    say(f"         {info['platform']}, Python {info['python']}")
    say(
        "versions: "
        + ", ".join(
            f"{name} {info[name]}"
            for name in (
                "numpy",
                "scipy",
                "dask",
                "distributed",
                "scikit-learn",
                "dask-ml",
            )
        )
    )
    say(f"dask_linreg: {info['dask_linreg']}")
    for lib in info["blas"]:
        say(
            f"BLAS: {lib['internal_api']} {lib['version']} ({lib['architecture']}, "
            f"{lib['threading_layer']}, {lib['num_threads']} threads) "
            f"{Path(lib['filepath']).name}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help=f"comma list of ROWSxCOLUMNS [default: {DEFAULT_SIZES}; "
        f"with --quick: {QUICK_SIZES}]",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per method; the best is reported (dask-ml runs once) "
        "[default: 3; with --quick: 1]",
    )
    parser.add_argument(
        "--skip",
        type=parse_skip,
        default=set(),
        help=f"comma list of methods not to run, from: {', '.join(SKIPPABLE)}",
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        help="rows per Dask block [default: about 64 MiB blocks, at least "
        f"{MIN_BLOCKS} blocks, a multiple of the CPU count]",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one repeat: a smoke run"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the random data [default: 0]"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = parse_sizes(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        parser.error("--chunk-rows must be at least 1")

    info = machine_info()
    print_machine(info)
    results = {
        "machine": info,
        "config": {
            "sizes": [f"{n}x{p}" for n, p in args.sizes],
            "repeat": args.repeat,
            "skip": sorted(args.skip),
            "chunk_rows": args.chunk_rows,
            "seed": args.seed,
        },
        "sizes": [],
    }
    for n, p in args.sizes:
        results["sizes"].append(run_size(n, p, args, args.skip))
        gc.collect()
        if args.json:
            # Written after every size, so a run cut short keeps what it did.
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
