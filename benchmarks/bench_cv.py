#!/usr/bin/env python
"""Time cross-validated penalties: one pass against refitting per fold.

On the same in-memory data, in one run, for each size this times

- ``dask_linreg.RidgeCV(alphas=50 values, cv=5)`` on a persisted Dask array
  (threaded scheduler), and ``RidgeCV`` without folds (GCV);
- scikit-learn's ``GridSearchCV(Ridge(), 50 alphas, cv=the same 5 folds,
  scoring="neg_mean_squared_error")`` on the NumPy array (``n_jobs=2``);
- ``dask_linreg.ElasticNetCV(l1_ratio=[0.1, 0.5, 0.9], alphas=100, cv=5)``
  and scikit-learn's ``ElasticNetCV`` with the same folds and grid;
- ``dask_linreg.LinearRegression().fit``, the cost of one pass, for scale;

and prints the times, the ratios to ours, whether both chose the same
penalty, and the passes over the data ours took.

``python benchmarks/bench_cv.py --quick`` is a smoke run.
"""

import argparse
import sys
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from sklearn import linear_model as sk
from sklearn.model_selection import GridSearchCV, PredefinedSplit

try:
    import dask_linreg  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dask_linreg import ElasticNetCV, LinearRegression, RidgeCV
from dask_linreg._numerics.cv import assign_folds

DEFAULT_SIZES = "2000000x50"
QUICK_SIZES = "100000x20"
ALPHAS = np.logspace(-2, 5, 50)
L1_RATIOS = [0.1, 0.5, 0.9]


def make_data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = rng.standard_normal(p) * (rng.random(p) < 0.3)
    y = X @ coef + 1.0 + 5.0 * rng.standard_normal(n)
    return X, y


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def passes_of(fn):
    computes = []

    def counting(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting):
        fn()
    return len(computes)


def run_size(n, p, skip):
    X, y = make_data(n, p)
    chunk = max(n // 16, 1)
    Xd = da.from_array(X, chunks=(chunk, p)).persist()
    yd = da.from_array(y, chunks=chunk).persist()
    folds = assign_folds([X], [y[:, None]], 5)
    splits = [
        (np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(5)
    ]
    rows = []

    def ours(name, make):
        seconds, model = timed(lambda: make().fit(Xd, yd))
        rows.append((name, seconds, passes_of(lambda: make().fit(Xd, yd)), model))

    ours("ours LinearRegression.fit", LinearRegression)
    ours("ours RidgeCV cv=5, 50 alphas", lambda: RidgeCV(alphas=ALPHAS, cv=5))
    ours("ours RidgeCV GCV, 50 alphas", lambda: RidgeCV(alphas=ALPHAS))
    ours(
        "ours ElasticNetCV 5x100x3",
        lambda: ElasticNetCV(l1_ratio=L1_RATIOS, alphas=100, cv=5),
    )
    if "sklearn" not in skip:
        search = GridSearchCV(
            sk.Ridge(),
            {"alpha": ALPHAS},
            cv=PredefinedSplit(folds),
            scoring="neg_mean_squared_error",
            n_jobs=2,
        )
        seconds, fitted = timed(lambda: search.fit(X, y))
        rows.append(("sklearn GridSearchCV(Ridge)", seconds, None, fitted))
        enet = sk.ElasticNetCV(l1_ratio=L1_RATIOS, alphas=100, cv=splits, n_jobs=2)
        seconds, fitted = timed(lambda: enet.fit(X, y))
        rows.append(("sklearn ElasticNetCV", seconds, None, fitted))
    by_name = {name: (seconds, model) for name, seconds, _, model in rows}
    print(f"\n{n:,} x {p}  ({n * p * 8 / 2**20:.0f} MiB of X, {chunk:,}-row blocks)")
    print(f"{'method':<34}{'seconds':>10}{'passes':>8}  chosen")
    for name, seconds, passes, model in rows:
        if hasattr(model, "best_params_"):
            chosen = f"alpha={model.best_params_['alpha']:.4g}"
        elif hasattr(model, "l1_ratio_"):
            chosen = f"alpha={model.alpha_:.4g}, l1_ratio={model.l1_ratio_}"
        elif hasattr(model, "alpha_"):
            chosen = f"alpha={model.alpha_:.4g}"
        else:
            chosen = ""
        passes = "" if passes is None else str(passes)
        print(f"{name:<34}{seconds:>10.2f}{passes:>8}  {chosen}")
    if "sklearn" not in skip:
        for ours_name, theirs_name in [
            ("ours RidgeCV cv=5, 50 alphas", "sklearn GridSearchCV(Ridge)"),
            ("ours ElasticNetCV 5x100x3", "sklearn ElasticNetCV"),
        ]:
            ratio = by_name[theirs_name][0] / by_name[ours_name][0]
            print(f"{theirs_name} / {ours_name}: {ratio:.1f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES)
    parser.add_argument("--skip", default="", help="'sklearn' to time only ours")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    for size in (QUICK_SIZES if args.quick else args.sizes).split(","):
        n, p = (int(v) for v in size.lower().split("x"))
        run_size(n, p, skip)


if __name__ == "__main__":
    main()
