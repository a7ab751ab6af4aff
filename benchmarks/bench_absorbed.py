#!/usr/bin/env python
"""Time absorbed fixed effects from Parquet against pyfixest in memory.

Data: N rows of 5 regressors ``x0 .. x4``, ``y`` and a factor ``firm`` of
L levels (every level in about every file, as in a panel) and, with
``--second-levels H``, a factor ``year`` of H levels, in F Parquet files
(written untimed).  Timed side by side, each the best of ``--repeat`` runs
after a warm-up:

- ``ours``: ``ols("y ~ x0 + ... + x4 | firm [+ year]", dd.read_parquet(path))``
  (on the LocalCluster also with each ``--split-out``)
  on the threaded scheduler (and, with ``--cluster``, on a 2-worker
  LocalCluster, with each worker's peak memory, the bytes the workers sent
  each other as Dask counts them, and every byte over the loopback network).
- ``pyfixest``: ``pyfixest.feols(same, pd.read_parquet(path), vcov="iid")``
  on the table in memory (its own read not timed), at
  ``--in-memory-rows`` rows (default: all), with ours on the same rows.

Each run also prints its peak resident memory, measured in a fresh process
(``VmHWM``).  Run ``python benchmarks/bench_absorbed.py --help``.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FORMULA = "y ~ x0 + x1 + x2 + x3 + x4 | firm"


def formula(second_levels):
    return FORMULA + (" + year" if second_levels else "")


def write_parquet(folder, n, n_levels, n_files, second_levels=0, seed=0):
    rng = np.random.default_rng(seed)
    effects = rng.standard_normal(n_levels)
    year_effects = rng.standard_normal(max(second_levels, 1))
    beta = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    bounds = np.linspace(0, n, n_files + 1).astype(int)
    for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        rows = stop - start
        firm = rng.integers(0, n_levels, rows)
        X = rng.standard_normal((rows, 5)) + effects[firm, None]
        y = X @ beta + effects[firm] + rng.standard_normal(rows)
        columns = {f"x{j}": X[:, j] for j in range(5)}
        columns["firm"] = firm
        if second_levels:
            year = rng.integers(0, second_levels, rows)
            X[:, 1] += year_effects[year]
            y += year_effects[year] * 2.0
            columns["x1"] = X[:, 1]
            columns["year"] = year
        columns["y"] = y
        pq.write_table(pa.table(columns), Path(folder) / f"part-{i:04d}.parquet")


#: Run in a fresh process: one fit, its time and the peak memory.
_CHILD = """
import sys, time, json
sys.path.insert(0, {root!r})
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM'):
            return int(line.split()[1]) / 1e3
kind, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
split_out = int(sys.argv[4]) if len(sys.argv) > 4 else 1
formula = {formula!r}
client = None
if kind == "pyfixest":
    import warnings
    import pandas as pd, pyfixest
    warnings.simplefilter("ignore")
    frame = pd.read_parquet(path)
    def run():
        return pyfixest.feols(formula, frame, vcov="iid").coef().to_numpy()
else:
    import dask, dask.dataframe as dd
    from dask_linreg import ols
    client = None
    if kind == "cluster":
        from distributed import Client, LocalCluster
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
    def run():
        with dask.config.set(scheduler=client or "threads"):
            return ols(formula, dd.read_parquet(path), split_out=split_out).coef_
def loopback_bytes():
    import psutil
    counters = psutil.net_io_counters(pernic=True).get("lo")
    return 0 if counters is None else counters.bytes_sent
coef = run()
times = []
sent = loopback_bytes()
for _ in range(repeat):
    start = time.perf_counter()
    coef = run()
    times.append(time.perf_counter() - start)
sent = (loopback_bytes() - sent) / repeat
result = {{"seconds": min(times), "peak_mb": hwm(), "coef": coef.tolist()}}
if client is not None:
    # Every byte over the loopback network (a LocalCluster's workers,
    # scheduler and client talk over TCP), per timed fit.
    result["loopback_mb_per_fit"] = sent / 1e6
if client is not None:
    def worker_stats(dask_worker):
        return {{"peak_mb": hwm(), "sent_mb": dask_worker.transfer_outgoing_bytes_total / 1e6}}
    stats = client.run(worker_stats)
    result["worker_peak_mb"] = [s["peak_mb"] for s in stats.values()]
    # Over the warm-up and the timed runs: divide by their number.
    result["worker_sent_mb_per_fit"] = sum(s["sent_mb"] for s in stats.values()) / (repeat + 1)
print(json.dumps(result))
"""


def timed(kind, path, repeat, second_levels=0, split_out=1):
    code = _CHILD.format(
        root=str(Path(__file__).resolve().parent.parent),
        formula=formula(second_levels),
    )
    out = subprocess.run(
        [sys.executable, "-c", code, kind, str(path), str(repeat), str(split_out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--levels", type=int, default=100_000)
    parser.add_argument("--second-levels", type=int, default=0)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--in-memory-rows", type=int, default=None)
    parser.add_argument("--cluster", action="store_true")
    parser.add_argument(
        "--split-out",
        type=int,
        nargs="+",
        default=[1],
        help="on the LocalCluster, fit with each of these split_out",
    )
    parser.add_argument("--skip-pyfixest", action="store_true")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    results = {
        "rows": args.rows,
        "levels": args.levels,
        "second_levels": args.second_levels,
        "files": args.files,
    }
    second = args.second_levels
    with tempfile.TemporaryDirectory() as big, tempfile.TemporaryDirectory() as small:
        start = time.perf_counter()
        write_parquet(big, args.rows, args.levels, args.files, second)
        print(
            f"wrote {args.rows:,} rows, {args.levels:,} levels"
            + (f" and {second:,}" if second else "")
            + f" in {time.perf_counter() - start:.0f} s"
        )
        ours = timed("threads", big, args.repeat, second)
        results["ours"] = ours
        print(f"ours, threads: {ours['seconds']:.2f} s, peak {ours['peak_mb']:.0f} MB")
        for split_out in args.split_out if args.cluster else []:
            cluster = timed("cluster", big, args.repeat, second, split_out)
            key = "ours_cluster" + (f"_split_out_{split_out}" if split_out > 1 else "")
            results[key] = cluster
            print(
                f"ours, 2-worker LocalCluster, split_out={split_out}: "
                f"{cluster['seconds']:.2f} s, client "
                f"peak {cluster['peak_mb']:.0f} MB, worker peaks "
                f"{', '.join(f'{m:.0f}' for m in cluster['worker_peak_mb'])} MB, "
                f"{cluster['worker_sent_mb_per_fit']:.0f} MB sent between workers "
                f"per fit (Dask's count), {cluster['loopback_mb_per_fit']:.0f} MB "
                "over the loopback network per fit"
            )
        if not args.skip_pyfixest:
            path, reference = big, ours
            if args.in_memory_rows and args.in_memory_rows != args.rows:
                path = small
                write_parquet(
                    small, args.in_memory_rows, args.levels, args.files, second
                )
                reference = timed("threads", small, args.repeat, second)
                results["ours_in_memory_rows"] = reference
                print(
                    f"ours on {args.in_memory_rows:,} rows: "
                    f"{reference['seconds']:.2f} s, peak {reference['peak_mb']:.0f} MB"
                )
            theirs = timed("pyfixest", path, args.repeat, second)
            results["pyfixest"] = theirs
            difference = np.max(
                np.abs(np.array(theirs["coef"]) - np.array(reference["coef"]))
            )
            print(
                f"pyfixest in memory: {theirs['seconds']:.2f} s, peak "
                f"{theirs['peak_mb']:.0f} MB; ours / it = "
                f"{reference['seconds'] / theirs['seconds']:.3f}; largest "
                f"|coef difference| = {difference:.1e}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
