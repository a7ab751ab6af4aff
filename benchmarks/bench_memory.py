#!/usr/bin/env python
"""Out-of-core fits: worker memory does not grow with the number of rows.

Writes Parquet datasets of two sizes (by default 2 and 4 GiB of float64,
several times the workers' memory), then, on a ``LocalCluster`` of 2 worker
processes with a memory limit each (default 1 GiB), fits
``LinearRegression`` on ``dask.dataframe.read_parquet`` of each, sampling
every worker's resident memory every 0.1 s during the fit.  Prints the time,
the peak worker memory and the coefficient error for each size: the peak
should be about the same for both (a few row groups per worker, plus the
interpreter), far below the data.  It also reports the BLAS threads each
worker runs with (one per worker thread: no oversubscription).

``python benchmarks/bench_memory.py [--sizes-gib 2,4] [--memory-limit 1GiB]
[--folder /tmp/dask_linreg_bench]``
"""

import argparse
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

try:
    import dask_linreg  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import os

    os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)

N_FEATURES = 50
ROWS_PER_FILE = 100_000  # 41 MB of float64 per file
COEF = np.linspace(-1.0, 1.0, N_FEATURES)


def write_dataset(folder, gib):
    """Parquet files of random rows, written file by file (bounded memory)."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    n_files = max(1, int(gib * 2**30 / (ROWS_PER_FILE * (N_FEATURES + 1) * 8)))
    columns = [f"x{i}" for i in range(N_FEATURES)]
    for i in range(n_files):
        path = folder / f"part-{i:04d}.parquet"
        if path.exists():
            continue
        rng = np.random.default_rng(i)
        X = rng.standard_normal((ROWS_PER_FILE, N_FEATURES))
        frame = pd.DataFrame(X, columns=columns)
        frame["y"] = X @ COEF + 3.0 + rng.standard_normal(ROWS_PER_FILE)
        frame.to_parquet(path)
    return n_files * ROWS_PER_FILE


def worker_memory(client):
    import psutil

    return client.run(lambda: psutil.Process().memory_info().rss)


def blas_threads(client):
    from threadpoolctl import threadpool_info

    return client.run(lambda: sorted({i["num_threads"] for i in threadpool_info()}))


def fit_and_watch(client, folder):
    import dask.dataframe as dd

    from dask_linreg import LinearRegression

    frame = dd.read_parquet(folder)
    X, y = frame[[f"x{i}" for i in range(N_FEATURES)]], frame["y"]
    peak = dict.fromkeys(worker_memory(client), 0)
    done = threading.Event()

    def watch():
        while not done.is_set():
            try:
                for worker, rss in worker_memory(client).items():
                    peak[worker] = max(peak.get(worker, 0), rss)
            except Exception:  # a worker restarting
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    start = time.perf_counter()
    model = LinearRegression().fit(X, y)
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    return model, seconds, max(peak.values())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-gib", default="2,4")
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--folder", default="/tmp/dask_linreg_bench")
    parser.add_argument("--keep", action="store_true", help="keep the files")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    base = Path(args.folder)
    sizes = [float(s) for s in args.sizes_gib.split(",")]
    datasets = []
    for gib in sizes:
        folder = base / f"{gib:g}GiB"
        start = time.perf_counter()
        rows = write_dataset(folder, gib)
        print(f"wrote {folder}: {rows:,} rows ({time.perf_counter() - start:.0f} s)")
        datasets.append((gib, folder, rows))
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        idle = max(worker_memory(client).values())
        print(
            f"2 workers x 1 thread, memory limit {args.memory_limit} each; "
            f"BLAS threads per worker: {sorted(blas_threads(client).values())}; "
            f"idle worker memory {idle / 2**20:.0f} MiB"
        )
        print(
            f"{'data':>10}{'rows':>14}{'fit s':>8}{'peak worker MiB':>17}{'coef err':>11}"
        )
        for gib, folder, rows in datasets:
            model, seconds, peak = fit_and_watch(client, folder)
            error = np.abs(model.coef_ - COEF).max()
            print(
                f"{gib:>7g} GiB{rows:>14,}{seconds:>8.1f}{peak / 2**20:>17.0f}"
                f"{error:>11.1e}"
            )
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
