#!/usr/bin/env python
"""Time ``LinearRegression.fit`` on Parquet files and on many small blocks.

Two cases, each timed as a ratio to the least work that reads the same data
once on the same scheduler:

- ``parquet``: N x P float64 columns ``x0 .. x{P-1}`` and ``y`` in F Parquet
  files in a temporary directory (written untimed; default 5,000,000 x 20 in
  20 files).  Floor: ``dd.read_parquet(path).sum().compute()``.  Ours:
  ``ddf = dd.read_parquet(path)`` and
  ``LinearRegression().fit(ddf[features], ddf["y"])``.  Both time the
  ``read_parquet`` call too.  Also timed: the syrk floor, the same read and
  one ``Z.T @ Z`` per partition of all its columns, summed (the least work
  of any one-pass fit by the normal equations).
- ``blocks``: a persisted 2,000,000 x 20 Dask array in 2,000 blocks of 1,000
  rows (views of one NumPy array on the threaded scheduler; blocks scattered
  to the workers on the cluster).  Floor: ``X.sum(axis=0).compute()``.  Ours:
  ``LinearRegression().fit(X, y)``.

Each case runs on the threaded scheduler and on a two-worker
``distributed.LocalCluster`` (one thread per worker, processes), on the same
data, and prints ``ours / floor``: the best of ``--repeat`` rounds, each round
one call of the floor and one of ours side by side, after one untimed
warm-up call of each; and the median of the rounds' ratios.

Run ``python benchmarks/bench_tables.py --help`` for the options; ``--quick``
is a smoke run of a few seconds.
"""

import argparse
import contextlib
import gc
import json
import logging
import math
import os
import sys
import tempfile
from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench_fit also makes a checkout's dask_linreg importable, on the workers too.
from bench_fit import (  # noqa: E402
    CLUSTER_PAUSE,
    best_time,
    cluster_blocks,
    gram,
    local_blocks,
    machine_info,
    parse_sizes,
    print_machine,
    say,
    summed,
)

from dask_linreg import LinearRegression  # noqa: E402

CASES = ("parquet", "blocks")
SCHEDULERS = ("threads", "cluster")

DEFAULTS = {
    "parquet_size": "5000000x20",
    "files": 20,
    "blocks_size": "2000000x20",
    "block_rows": 1000,
    "repeat": 3,
}
QUICK = {
    "parquet_size": "200000x20",
    "files": 4,
    "blocks_size": "200000x20",
    "block_rows": 1000,
    "repeat": 1,
}

MB = 1e6


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def make_rows(rng, rows, p, beta):
    """``rows`` rows of X (standard normal plus column offsets ``1e3 * j``,
    as in bench_fit.py) and ``y = X @ beta + 2 + noise``."""
    X = rng.standard_normal((rows, p))
    X += 1e3 * np.arange(p)
    y = X @ beta
    y += 2.0 + rng.standard_normal(rows)
    return X, y


def write_parquet(folder, n, p, n_files, seed):
    """Write ``n`` rows of columns ``x0 .. x{p-1}, y`` to ``n_files`` files.

    Returns the total bytes of the files.
    """
    rng = np.random.default_rng(seed)
    beta = rng.standard_normal(p)
    bounds = np.linspace(0, n, n_files + 1).astype(int)
    for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        X, y = make_rows(rng, stop - start, p, beta)
        columns = {f"x{j}": X[:, j] for j in range(p)}
        columns["y"] = y
        pq.write_table(pa.table(columns), Path(folder) / f"part-{i:04d}.parquet")
    return sum(f.stat().st_size for f in Path(folder).iterdir())


# --------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------


def parquet_floor(path):
    """One read of every column: ``dd.read_parquet(path).sum().compute()``."""
    return dd.read_parquet(path).sum().compute()


def parquet_syrk_floor(path):
    """The same read and one ``Z.T @ Z`` per partition of ``Z`` (all its
    columns, ``[X | y]``: a view of the partition, never copied), the
    products added in one task: the least work of any one-pass fit by the
    normal equations."""
    grams = [
        dask.delayed(_partition_gram)(part)
        for part in dd.read_parquet(path).to_delayed()
    ]
    return dask.delayed(summed)(grams).compute()


def _partition_gram(frame):
    return gram(frame.to_numpy())


def parquet_ours(path, features):
    """``LinearRegression().fit(ddf[features], ddf["y"])`` on ``read_parquet``."""
    ddf = dd.read_parquet(path)
    return LinearRegression().fit(ddf[features], ddf["y"]).coef_


def blocks_floor(X):
    """One read of X: ``X.sum(axis=0).compute()``."""
    return X.sum(axis=0).compute()


def blocks_ours(X, y):
    """``LinearRegression().fit(X, y)``."""
    return LinearRegression().fit(X, y).coef_


def parquet_calls(folder, features):
    return {
        "floor": lambda: parquet_floor(folder),
        "syrk_floor": lambda: parquet_syrk_floor(folder),
        "ours": lambda: parquet_ours(folder, features),
    }


def blocks_calls(X, y):
    return {"floor": lambda: blocks_floor(X), "ours": lambda: blocks_ours(X, y)}


def time_rounds(calls, repeat, *, pause=0.0):
    """Best time of each of ``calls`` (name -> function; ``"floor"`` and
    ``"ours"`` among them), and the median of the rounds' ratios of ours to
    the floor.

    Each round times one call of each, one right after the other, so that
    they see the same state of this noisy, shared machine (the median
    ratio of the rounds shows how far that state moves the best times).
    One untimed warm-up call of each comes first, and ``pause`` untimed
    seconds before each call (on a cluster: see
    ``bench_fit.time_on_cluster``).  BLAS is held to one thread per task
    (on the threaded scheduler; a cluster's workers have one already), as
    our fit holds it itself.
    """
    times = {name: [] for name in calls}
    with threadpool_limits(limits=1, user_api="blas"):
        for call in calls.values():
            call()
        for _ in range(repeat):
            for name, call in calls.items():
                seconds, result = best_time(call, 1, pause=pause)
                times[name].append(seconds)
                if name == "ours" and not np.all(np.isfinite(result)):
                    raise RuntimeError("the fit returned non-finite coefficients")
    ratios = np.divide(times["ours"], times["floor"])
    best = {name: min(values) for name, values in times.items()}
    return {**best, "median_ratio": float(np.median(ratios))}


@contextlib.contextmanager
def local_client():
    """A client of a fresh two-worker, one-thread-each LocalCluster."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # Workers log heartbeat errors while the cluster shuts down.
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def record(rows, case, scheduler, timings, note):
    """Print one case's times and ratios and add them to ``rows``."""
    floor_seconds, ours_seconds = timings["floor"], timings["ours"]
    syrk_seconds = timings.get("syrk_floor")
    ratio = ours_seconds / floor_seconds
    syrk_ratio = None if syrk_seconds is None else ours_seconds / syrk_seconds
    syrk_text = (
        ""
        if syrk_seconds is None
        else f", syrk floor {syrk_seconds:.3f} s "
        f"({syrk_seconds / floor_seconds:.2f}x the floor; ours/syrk floor "
        f"{syrk_ratio:.2f})"
    )
    say(
        f"  .. {case} {scheduler}: floor {floor_seconds:.3f} s, ours "
        f"{ours_seconds:.3f} s, ours/floor {ratio:.2f} (median of the rounds' "
        f"ratios {timings['median_ratio']:.2f}){syrk_text}"
    )
    rows.append(
        {
            "case": case,
            "scheduler": scheduler,
            "floor_seconds": floor_seconds,
            "ours_seconds": ours_seconds,
            "ratio": ratio,
            "median_round_ratio": timings["median_ratio"],
            "syrk_floor_seconds": syrk_seconds,
            "syrk_floor_ratio": syrk_ratio,
            "note": note,
        }
    )


def run_parquet(args, rows):
    (n, p) = args.parquet_size
    features = [f"x{j}" for j in range(p)]
    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as folder:
        size = write_parquet(folder, n, p, args.files, args.seed)
        say(
            f"\n== parquet: {n:,} x {p} + y in {args.files} files "
            f"({size / MB:.1f} MB on disk, {n * (p + 1) * 8 / MB:.1f} MB as "
            f"float64) in {folder}; best of {args.repeat}; load average "
            f"{os.getloadavg()[0]:.2f}"
        )
        note = "floor: dd.read_parquet(path).sum().compute()"
        if "threads" not in args.skip:
            with dask.config.set(scheduler="threads"):
                timings = time_rounds(
                    parquet_calls(folder, features),
                    args.repeat,
                )
            record(rows, "parquet", "threads", timings, note)
        if "cluster" not in args.skip:
            with local_client():
                timings = time_rounds(
                    parquet_calls(folder, features),
                    args.repeat,
                    pause=CLUSTER_PAUSE,
                )
            record(rows, "parquet", "cluster", timings, note)


def run_blocks(args, rows):
    (n, p) = args.blocks_size
    chunk = args.block_rows
    rng = np.random.default_rng(args.seed)
    X, y = make_rows(rng, n, p, rng.standard_normal(p))
    say(
        f"\n== blocks: {n:,} x {p} ({X.nbytes / MB:.1f} MB) in "
        f"{math.ceil(n / chunk):,} blocks of {chunk:,} rows, persisted; best of "
        f"{args.repeat}; load average {os.getloadavg()[0]:.2f}"
    )
    note = "floor: X.sum(axis=0).compute()"
    if "threads" not in args.skip:
        Xd, yd = local_blocks(X, chunk), local_blocks(y, chunk)
        with dask.config.set(scheduler="threads"):
            timings = time_rounds(blocks_calls(Xd, yd), args.repeat)
        record(rows, "blocks", "threads", timings, note)
        del Xd, yd
    if "cluster" not in args.skip:
        with local_client() as client:
            Xd, yd = cluster_blocks(client, [X, y], chunk)
            timings = time_rounds(
                blocks_calls(Xd, yd),
                args.repeat,
                pause=CLUSTER_PAUSE,
            )
            del Xd, yd
        record(rows, "blocks", "cluster", timings, note)


def show(rows):
    say(
        f"\n  {'case':<8} {'scheduler':<9} {'floor s':>9} {'ours s':>9} "
        f"{'ours/floor':>10} {'median':>6} {'ours/syrk floor':>15}"
    )
    say(f"  {'-' * 8} {'-' * 9} {'-' * 9} {'-' * 9} {'-' * 10} {'-' * 6} {'-' * 15}")
    for row in rows:
        syrk = row["syrk_floor_ratio"]
        say(
            f"  {row['case']:<8} {row['scheduler']:<9} {row['floor_seconds']:9.3f} "
            f"{row['ours_seconds']:9.3f} {row['ratio']:10.2f} "
            f"{row['median_round_ratio']:6.2f} "
            f"{'' if syrk is None else format(syrk, '.2f'):>15}"
        )


def parse_names(choices):
    def parse(text):
        names = {name.strip() for name in text.split(",") if name.strip()}
        unknown = sorted(names - set(choices))
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(unknown)}; choose from {', '.join(choices)}"
            )
        return names

    return parse


def one_size(text):
    sizes = parse_sizes(text)
    if len(sizes) != 1:
        raise argparse.ArgumentTypeError(f"expected one ROWSxCOLUMNS, got {text!r}")
    return sizes[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases",
        type=parse_names(CASES),
        default=set(CASES),
        help=f"comma list of cases to run, from: {', '.join(CASES)} [default: both]",
    )
    parser.add_argument(
        "--skip",
        type=parse_names(SCHEDULERS),
        default=set(),
        help=f"comma list of schedulers not to run, from: {', '.join(SCHEDULERS)}",
    )
    parser.add_argument(
        "--parquet-size",
        type=one_size,
        default=None,
        help=f"ROWSxCOLUMNS of the Parquet data [default: "
        f"{DEFAULTS['parquet_size']}; with --quick: {QUICK['parquet_size']}]",
    )
    parser.add_argument(
        "--files",
        type=int,
        default=None,
        help=f"Parquet files [default: {DEFAULTS['files']}; with --quick: "
        f"{QUICK['files']}]",
    )
    parser.add_argument(
        "--blocks-size",
        type=one_size,
        default=None,
        help=f"ROWSxCOLUMNS of the many-blocks array [default: "
        f"{DEFAULTS['blocks_size']}; with --quick: {QUICK['blocks_size']}]",
    )
    parser.add_argument(
        "--block-rows",
        type=int,
        default=None,
        help=f"rows per block of the many-blocks array [default: "
        f"{DEFAULTS['block_rows']}]",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="timed runs after one warm-up; the best is reported [default: "
        f"{DEFAULTS['repeat']}; with --quick: {QUICK['repeat']}]",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one repeat: a smoke run"
    )
    parser.add_argument(
        "--tmp-dir",
        default=None,
        help="where to make the temporary Parquet folder [default: the system's]",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the random data [default: 0]"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    for key, value in base.items():
        if getattr(args, key) is None:
            setattr(args, key, parse_sizes(value)[0] if key.endswith("size") else value)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.files < 1 or args.block_rows < 1:
        parser.error("--files and --block-rows must be at least 1")

    info = machine_info()
    print_machine(info)
    rows = []
    if "parquet" in args.cases:
        run_parquet(args, rows)
        gc.collect()
    if "blocks" in args.cases:
        run_blocks(args, rows)
    show(rows)
    if args.json:
        config = {
            key: (f"{v[0]}x{v[1]}" if isinstance(v, tuple) else v)
            for key, v in vars(args).items()
            if key not in ("json",)
        }
        config["cases"] = sorted(args.cases)
        config["skip"] = sorted(args.skip)
        results = {"machine": info, "config": config, "results": rows}
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
