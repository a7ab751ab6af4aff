#!/usr/bin/env python
"""The absorbed normal equations of two large factors: dense Cholesky
against conjugate gradients, and pyfixest, on a workers x firms panel.

Data (in memory, pandas): W workers of S spells each; a worker stays in
his home firm except that each spell moves to a random firm with
probability 0.3, so the firms are linked by movers only (the AKM design
of labour economics); 3 regressors and ``y``.  For each size, timed side
by side in one run, each the best of ``--repeat``:

- ``direct``: ``ols("y ~ x0 + x1 + x2 | worker + firm", fixef_solver="direct")``
  (the dense Schur complement over the firms, Cholesky); skipped above
  ``--direct-max`` firms (16 H² bytes, H³/3 flops).
- ``cg``: the same with ``fixef_solver="cg"`` (Jacobi-preconditioned
  conjugate gradients on the sparse cells), its iterations and residual.
- ``passes``: ``fixef_solver="passes"`` on the same table as a persisted
  Dask DataFrame of ``--partitions`` partitions: no cross-counts, one pass
  over the rows per iteration (the fallback where the cells do not fit);
  its passes.
- ``pyfixest``: ``pyfixest.feols`` of the same formula (its alternating
  projections).

The largest coefficient difference from ``direct`` (or pyfixest) is
printed too.  Run ``python benchmarks/bench_fixef_solve.py --help``.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dask_linreg import ols  # noqa: E402

FORMULA = "y ~ x0 + x1 + x2 | worker + firm"


def panel(n_workers, n_firms, spells, seed=0):
    rng = np.random.default_rng(seed)
    worker = np.repeat(np.arange(n_workers), spells)
    home = rng.integers(0, n_firms, n_workers)
    moved = rng.uniform(size=len(worker)) < 0.3
    firm = np.where(moved, rng.integers(0, n_firms, len(worker)), home[worker])
    n = len(worker)
    frame = pd.DataFrame({"worker": worker, "firm": firm})
    for j in range(3):
        frame[f"x{j}"] = rng.standard_normal(n) + np.sin(firm * (j + 1))
    frame["y"] = (
        frame.x0
        - 0.5 * frame.x1
        + 0.2 * frame.x2
        + np.cos(worker)
        + np.sin(3 * firm)
        + rng.standard_normal(n)
    )
    return frame


def best(repeat, run, *args, **kwargs):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, nargs="+", default=[1000, 4000, 20000])
    parser.add_argument("--workers-per-firm", type=int, default=10)
    parser.add_argument("--spells", type=int, default=5)
    parser.add_argument("--direct-max", type=int, default=8000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    import pyfixest

    rows = []
    for n_firms in args.firms:
        frame = panel(n_firms * args.workers_per_firm, n_firms, args.spells)
        row = {"rows": len(frame), "workers": n_firms * args.workers_per_firm}
        row["firms"] = n_firms
        if n_firms <= args.direct_max:
            row["direct_s"], direct = best(
                args.repeat, ols, FORMULA, frame, fixef_solver="direct"
            )
        else:
            direct = None
        row["cg_s"], cg = best(args.repeat, ols, FORMULA, frame, fixef_solver="cg")
        row["cg_iterations"] = cg.fixef_n_iter_
        row["cg_residual"] = cg.fixef_residual_
        persisted = dd.from_pandas(frame, npartitions=args.partitions).persist()
        row["passes_s"], passes = best(
            args.repeat, ols, FORMULA, persisted, fixef_solver="passes"
        )
        row["passes"] = passes.n_passes_
        row["passes_vs_cg"] = float(np.max(np.abs(passes.coef_ / cg.coef_ - 1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row["pyfixest_s"], theirs = best(
                args.repeat, pyfixest.feols, FORMULA, frame, vcov="iid"
            )
        reference = direct.coef_ if direct is not None else theirs.coef().to_numpy()
        row["cg_vs_" + ("direct" if direct is not None else "pyfixest")] = float(
            np.max(np.abs(cg.coef_ / reference - 1))
        )
        row["pyfixest_vs_cg"] = float(
            np.max(np.abs(theirs.coef().to_numpy() / cg.coef_ - 1))
        )
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
