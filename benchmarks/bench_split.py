#!/usr/bin/env python
"""Time one model per group from Parquet against a pandas groupby loop.

Data: N rows of 5 regressors and ``y`` in G groups (``store``), in F
Parquet files (written untimed).  Timed side by side on the threaded
scheduler:

- ``ours``: ``ols("y ~ x0 + ... + x4", dd.read_parquet(path), split="store")``
  (every group from its keyed statistics, one pass).
- ``groupby``: ``pd.read_parquet(path)`` (not timed) and a groupby-apply of
  scikit-learn's ``LinearRegression().fit`` on each group.

The largest coefficient difference (over the groups with a unique fit) is
printed too.  Run ``python
benchmarks/bench_split.py --help``.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.linear_model import LinearRegression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dask_linreg import ols  # noqa: E402

FEATURES = [f"x{j}" for j in range(5)]
FORMULA = "y ~ " + " + ".join(FEATURES)


def write_parquet(folder, n, n_groups, n_files, seed=0):
    rng = np.random.default_rng(seed)
    slopes = rng.standard_normal((n_groups, 5))
    bounds = np.linspace(0, n, n_files + 1).astype(int)
    for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        rows = stop - start
        store = rng.integers(0, n_groups, rows)
        X = rng.standard_normal((rows, 5))
        y = np.einsum("ij,ij->i", X, slopes[store]) + rng.standard_normal(rows)
        columns = {name: X[:, j] for j, name in enumerate(FEATURES)}
        columns["store"] = store
        columns["y"] = y
        pq.write_table(pa.table(columns), Path(folder) / f"part-{i:04d}.parquet")


def groupby_fits(frame):
    def fit(group):
        model = LinearRegression().fit(group[FEATURES].to_numpy(), group["y"])
        return pd.Series([model.intercept_, *model.coef_])

    return frame.groupby("store")[[*FEATURES, "y"]].apply(fit)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    results = {"rows": args.rows, "groups": args.groups, "files": args.files}
    with tempfile.TemporaryDirectory() as folder, dask.config.set(scheduler="threads"):
        write_parquet(folder, args.rows, args.groups, args.files)
        start = time.perf_counter()
        fit = ols(FORMULA, dd.read_parquet(folder), split="store")
        results["ours_s"] = time.perf_counter() - start
        print(
            f"ours: {len(fit):,} groups of {args.rows:,} rows in "
            f"{results['ours_s']:.2f} s ({len(fit.too_small)} too small)"
        )
        frame = pd.read_parquet(folder)
        start = time.perf_counter()
        reference = groupby_fits(frame)
        results["groupby_s"] = time.perf_counter() - start
        # Groups with fewer rows than terms have no unique fit to compare.
        determined = reference.index.difference(fit.too_small)
        ours = fit.params.loc[determined].to_numpy()
        difference = float(np.max(np.abs(ours - reference.loc[determined].to_numpy())))
        results["max_coef_difference"] = difference
        print(
            f"pandas groupby-apply of scikit-learn fits: {results['groupby_s']:.2f} s; "
            f"ours / it = {results['ours_s'] / results['groupby_s']:.3f}; largest "
            f"|coef difference| = {difference:.1e}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
