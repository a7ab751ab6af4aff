#!/usr/bin/env python
"""Time a fit with categorical columns from Parquet against its alternatives.

Data: N rows of 10 numeric columns ``x0 .. x9``, a string column ``c1000``
of 1,000 levels and a string column ``c20`` of 20 levels, and ``y``, in F
Parquet files (written untimed).  Timed side by side, on the threaded
scheduler, each the best of ``--repeat`` runs after a warm-up:

- ``ours``: ``ddf = dd.read_parquet(path)`` and
  ``LinearRegression().fit(ddf[features], ddf["y"])``: levels found in the
  pass, indicators never built.
- ``(a) dummies``: our fit on the same design already materialized as
  numeric dummies (treatment coded, 1,027 columns), a Dask array held in
  memory (so this floor does not even pay the read).  With ``--lazy-dummies``
  (for sizes whose dummies do not fit in memory: 10,000,000 rows are 82 GB of
  them) the dummies are built per partition from the Parquet files instead,
  with the known levels (no scan), and fitted in the same one pass.
- ``(b) dask-ml``: ``Categorizer`` + ``DummyEncoder`` +
  ``dask_ml.linear_model.LinearRegression(solver="newton")`` on the same
  Dask DataFrame (skipped when dask-ml is not installed).
- ``(c) statsmodels``: ``smf.ols("y ~ x0 + ... + C(c1000) + C(c20)",
  frame).fit()`` on the pandas frame in memory.

Then ``ours`` alone at ``--memory-rows`` and ``--scale`` times as many
rows (files of 250,000 rows each), each in a fresh process, prints its peak
resident memory: flat in the rows means the pass holds a few partitions and
the statistics, not the data.

Run ``python benchmarks/bench_categorical.py --help`` for the options.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dask_linreg import LinearRegression  # noqa: E402

NUMERIC = [f"x{j}" for j in range(10)]
#: Rows per Parquet file of the memory runs.
ROWS_PER_FILE = 250_000
FEATURES = [*NUMERIC, "c1000", "c20"]


def write_parquet(folder, n, n_files, seed=0):
    """Write the table in ``n_files`` files; returns the pandas frame when
    ``keep`` (small sizes), else None."""
    rng = np.random.default_rng(seed)
    beta = rng.standard_normal(10)
    effects = {"c1000": rng.standard_normal(1000), "c20": rng.standard_normal(20)}
    bounds = np.linspace(0, n, n_files + 1).astype(int)
    for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        rows = stop - start
        X = rng.standard_normal((rows, 10)) + 100.0 * np.arange(10)
        codes = {name: rng.integers(0, len(e), rows) for name, e in effects.items()}
        y = X @ beta + rng.standard_normal(rows)
        for name, effect in effects.items():
            y += effect[codes[name]]
        columns = {f"x{j}": X[:, j] for j in range(10)}
        for name, code in codes.items():
            columns[name] = np.char.add("L", code.astype(str).astype(object)).astype(
                object
            )
        columns["y"] = y
        pq.write_table(pa.table(columns), Path(folder) / f"part-{i:04d}.parquet")


def best_time(function, repeat):
    function()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def ours(path):
    ddf = dd.read_parquet(path)
    return LinearRegression().fit(ddf[FEATURES], ddf["y"])


def dummies_array(frame):
    """The treatment-coded design as a float64 Dask array in memory."""
    design = pd.get_dummies(frame[FEATURES], columns=["c1000", "c20"], drop_first=True)
    values = design.to_numpy(dtype=np.float64)
    rows = max(1, len(values) // 8)
    return da.from_array(values, chunks=(rows, -1)).persist(), frame["y"].to_numpy()


def lazy_dummies_fit(path):
    """Our fit of the treatment-coded dummies built partition by partition
    from Parquet (the levels given, as if known in advance)."""
    ddf = dd.read_parquet(path)
    levels = {
        "c1000": [f"L{i}" for i in range(1000)],
        "c20": [f"L{i}" for i in range(20)],
    }

    def dummies(part):
        coded = part[[*FEATURES, "y"]].astype(
            {name: pd.CategoricalDtype(lv) for name, lv in levels.items()}
        )
        return pd.get_dummies(
            coded, columns=list(levels), drop_first=True, dtype=np.float64
        )

    # One frame of dummies and y: its columns come from the same partitions.
    table = ddf.map_partitions(dummies, meta=dummies(ddf._meta))
    return LinearRegression().fit(table.drop(columns="y"), table["y"])


def dask_ml_fit(path):
    from dask_ml.linear_model import LinearRegression as DaskMLRegression
    from dask_ml.preprocessing import Categorizer, DummyEncoder

    ddf = dd.read_parquet(path)[[*FEATURES, "y"]]
    table = Categorizer(columns=["c1000", "c20"]).fit_transform(ddf)
    table = DummyEncoder(columns=["c1000", "c20"], drop_first=True).fit_transform(table)
    X = table.drop(columns="y").to_dask_array(lengths=True).astype(np.float64)
    y = table["y"].to_dask_array(lengths=True)
    return DaskMLRegression(solver="newton").fit(X, y)


def statsmodels_fit(frame):
    import statsmodels.formula.api as smf

    formula = "y ~ " + " + ".join(NUMERIC) + " + C(c1000) + C(c20)"
    return smf.ols(formula, frame).fit()


def peak_memory(n, n_files):
    """Peak resident memory (MB) of one fit of ``n`` rows from Parquet, in a
    fresh process (before and after the fit)."""
    # VmHWM, the peak of the process's memory, starts afresh at exec (the
    # parent's ru_maxrss would carry over); the files are written here.
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "import bench_categorical as b\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'):\n"
        "            return int(line.split()[1]) / 1e3\n"
        "before = hwm()\n"
        "b.ours(sys.argv[1])\n"
        "print(before, hwm())\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        write_parquet(folder, n, n_files)
        out = subprocess.run(
            [sys.executable, "-c", code, folder],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    return float(out[0]), float(out[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["dummies", "dask-ml", "statsmodels", "memory"],
    )
    parser.add_argument(
        "--memory-rows",
        type=int,
        default=None,
        help="rows of the smaller memory run (default --rows); the larger has "
        "--scale times as many",
    )
    parser.add_argument(
        "--lazy-dummies",
        action="store_true",
        help="build (a)'s dummies per partition from Parquet instead of "
        "holding them in memory",
    )
    parser.add_argument(
        "--in-memory-rows",
        type=int,
        default=None,
        help="run (b) and (c) on the first this many rows only (they hold the "
        "table, or its dummies, in memory), with ours on the same rows",
    )
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    results = {"rows": args.rows, "files": args.files}
    in_memory_rows = args.in_memory_rows or args.rows
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryDirectory() as small_folder,
        dask.config.set(scheduler="threads"),
    ):
        write_parquet(folder, args.rows, args.files)
        model = ours(folder)
        results["ours_s"] = best_time(lambda: ours(folder), args.repeat)
        print(
            f"ours (Parquet, {args.rows:,} rows, {len(model.coef_)} coefficients): "
            f"{results['ours_s']:.3f} s"
        )
        if "dummies" not in args.skip and args.lazy_dummies:
            results["dummies_s"] = best_time(
                lambda: lazy_dummies_fit(folder), args.repeat
            )
            results["dummies_kind"] = "built per partition from Parquet"
        elif "dummies" not in args.skip:
            X, y = dummies_array(pd.read_parquet(folder))
            results["dummies_s"] = best_time(
                lambda: LinearRegression().fit(X, y), args.repeat
            )
            results["dummies_kind"] = "a Dask array in memory"
            del X
        # (b) and (c) hold the table (or its dummies) in memory: at most
        # in_memory_rows, against ours on the same rows.
        small = folder
        if in_memory_rows != args.rows:
            small = small_folder
            write_parquet(small, in_memory_rows, args.files)
            model = ours(small)
            results["in_memory_rows"] = in_memory_rows
            results["ours_small_s"] = best_time(lambda: ours(small), args.repeat)
            print(f"ours on {in_memory_rows:,} rows: {results['ours_small_s']:.3f} s")
        if "dask-ml" not in args.skip:
            try:
                import dask_ml  # noqa: F401
            except ImportError:
                print("dask-ml not installed: skipped")
            else:
                results["dask_ml_s"] = best_time(lambda: dask_ml_fit(small), 1)
        if "statsmodels" not in args.skip:
            frame = pd.read_parquet(small)
            expected = statsmodels_fit(frame)
            results["statsmodels_s"] = best_time(lambda: statsmodels_fit(frame), 1)
            names = list(model.coef_names_)
            mapped = [
                f"C({n.split('[')[0]})[{n.split('[', 1)[1]}" if "[" in n else n
                for n in names
            ]
            results["max_coef_difference"] = float(
                np.max(np.abs(model.coef_ - expected.params[mapped].to_numpy()))
            )
            del frame
    ours_small = results.get("ours_small_s", results["ours_s"])
    for key, label, reference in [
        (
            "dummies_s",
            f"(a) dummies ({results.get('dummies_kind')})",
            results["ours_s"],
        ),
        ("dask_ml_s", f"(b) dask-ml on {in_memory_rows:,} rows", ours_small),
        ("statsmodels_s", f"(c) statsmodels on {in_memory_rows:,} rows", ours_small),
    ]:
        if key in results:
            print(
                f"{label}: {results[key]:.3f} s, ours / it = "
                f"{reference / results[key]:.3f}"
            )
    if "max_coef_difference" in results:
        print(f"largest |coef - statsmodels| = {results['max_coef_difference']:.2e}")
    if "memory" not in args.skip:
        small = args.memory_rows or args.rows
        for n in (small, args.scale * small):
            # Files (partitions) of the same size at both sizes: what the
            # pass holds at once is a few partitions and the statistics.
            before, after = peak_memory(n, max(1, n // ROWS_PER_FILE))
            results[f"peak_rss_mb_{n}"] = after
            print(
                f"peak RSS of a fit of {n:,} rows: {after:.0f} MB "
                f"(before the fit: {before:.0f} MB)"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
