#!/usr/bin/env python
"""Time the inference of ``LinearRegression`` against its fit and statsmodels.

On the same in-memory data, in one run, for each size this times

- ``fit`` on a persisted Dask array (threaded scheduler): the baseline;
- ``inference()`` and the printed ``summary()`` (no pass over the data);
- ``inference(X, y, cov_type=...)`` for HC1, HC3 and cluster (one pass each);
- statsmodels' ``OLS(y, add_constant(X)).fit()`` with its summary, and with
  ``cov_type="HC3"`` and ``"cluster"``, on the NumPy array;

and prints each time as a ratio to our fit, the passes over the data each
took (counted by a scheduler wrapper), and the largest relative difference of
the standard errors from statsmodels'.

``python benchmarks/bench_inference.py --quick`` is a smoke run.
"""

import argparse
import sys
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import statsmodels.api as sm

try:
    import dask_linreg  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dask_linreg import LinearRegression

DEFAULT_SIZES = "2000000x50,200000x200"
QUICK_SIZES = "100000x20"
N_CLUSTERS = 1000


def make_data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    groups = rng.integers(0, N_CLUSTERS, n)
    noise = (1 + np.abs(X[:, 0])) * rng.standard_normal(n)
    y = (
        X @ rng.standard_normal(p)
        + 3.0
        + noise
        + rng.standard_normal(N_CLUSTERS)[groups]
    )
    return X, y, groups


class PassCounter:
    """A scheduler that counts its computes (one per pass over the data)."""

    def __init__(self):
        self.computes = 0

    def __call__(self, dsk, keys, **kwargs):
        self.computes += 1
        return dask.threaded.get(dsk, keys, **kwargs)


def timed(fn, repeat):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_size(n, p, repeat):
    X, y, groups = make_data(n, p)
    chunk = max(n // 16, 1)
    Xd = da.from_array(X, chunks=(chunk, p)).persist()
    yd = da.from_array(y, chunks=chunk).persist()
    gd = da.from_array(groups, chunks=chunk).persist()
    counter = PassCounter()
    rows = []

    def ours(name, fn):
        # Timed on the default threaded scheduler (a custom scheduler
        # function would not get its BLAS threads limited); passes counted
        # in one more run.
        seconds, result = timed(fn, repeat)
        before = counter.computes
        with dask.config.set(scheduler=counter):
            fn()
        rows.append((name, seconds, counter.computes - before, result))

    model = LinearRegression()
    ours("fit", lambda: model.fit(Xd, yd))
    ours("inference + summary", lambda: (model.inference(), str(model.summary()))[0])
    ours("HC1 (1 pass)", lambda: model.inference(Xd, yd, cov_type="HC1"))
    ours("HC3 (1 pass)", lambda: model.inference(Xd, yd, cov_type="HC3"))
    ours(
        "cluster (1 pass)",
        lambda: model.inference(Xd, yd, cov_type="cluster", groups=gd),
    )
    exog = sm.add_constant(X)
    references = {}
    for name, kwargs in [
        ("statsmodels OLS + summary", {}),
        ("statsmodels HC3", {"cov_type": "HC3"}),
        (
            "statsmodels cluster",
            {"cov_type": "cluster", "cov_kwds": {"groups": groups}},
        ),
    ]:

        def fit_statsmodels(kwargs=kwargs):
            result = sm.OLS(y, exog).fit(**kwargs)
            str(result.summary())
            return result

        seconds, result = timed(fit_statsmodels, repeat)
        references[name] = result
        rows.append((name, seconds, None, result))
    base = rows[0][1]
    print(f"\n{n:,} x {p}  ({n * p * 8 / 2**20:.0f} MiB of X, {chunk:,}-row blocks)")
    print(
        f"{'method':<28}{'seconds':>10}{'x fit':>8}{'passes':>8}{'max rel diff of SE':>20}"
    )
    compare = {
        "inference + summary": "statsmodels OLS + summary",
        "HC3 (1 pass)": "statsmodels HC3",
        "cluster (1 pass)": "statsmodels cluster",
    }
    for name, seconds, passes, result in rows:
        difference = ""
        if name in compare:
            theirs = references[compare[name]].bse
            difference = f"{np.max(np.abs(result.bse.to_numpy() / theirs - 1)):.1e}"
        passes = "" if passes is None else str(passes)
        print(
            f"{name:<28}{seconds:>10.3f}{seconds / base:>8.2f}{passes:>8}{difference:>20}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="e.g. 2000000x50")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else args.sizes
    repeat = 1 if args.quick else args.repeat
    for size in sizes.split(","):
        n, p = (int(v) for v in size.lower().split("x"))
        run_size(n, p, repeat)


if __name__ == "__main__":
    main()
