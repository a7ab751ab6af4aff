#!/usr/bin/env python
"""Small data: ``fit`` on NumPy arrays against scikit-learn, side by side.

A fit on in-memory data that fits one block skips the task graph; this
prints our time over scikit-learn's ``LinearRegression`` (and ``Ridge``) on
the same arrays, best of many repeats, for a few small shapes.

``python benchmarks/bench_small.py``
"""

import sys
import time
from pathlib import Path

import numpy as np
from sklearn import linear_model as sk

try:
    import dask_linreg  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dask_linreg import LinearRegression, Ridge

SHAPES = [(1_000, 10), (10_000, 10), (1_000, 100), (100_000, 20)]


def best_time(estimator, X, y, repeat):
    estimator().fit(X, y)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        estimator().fit(X, y)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    print(f"{'n x p':<14}{'model':<18}{'ours ms':>10}{'sklearn ms':>12}{'ratio':>8}")
    for n, p in SHAPES:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, p))
        y = X @ rng.standard_normal(p) + rng.standard_normal(n)
        repeat = max(5, 200_000 // n)
        for name, ours, theirs in [
            ("LinearRegression", LinearRegression, sk.LinearRegression),
            ("Ridge", Ridge, sk.Ridge),
        ]:
            mine = best_time(ours, X, y, repeat)
            reference = best_time(theirs, X, y, repeat)
            print(
                f"{f'{n:,} x {p}':<14}{name:<18}{mine * 1e3:>10.2f}"
                f"{reference * 1e3:>12.2f}{mine / reference:>8.2f}"
            )


if __name__ == "__main__":
    main()
