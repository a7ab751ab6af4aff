"""Demo: fit a linear model on a few million rows of a Dask array.

Run with ``python -m dask_linreg.io.demo``.  It starts a local cluster (the
library itself never does), generates the data on the workers, fits
:class:`dask_linreg.LinearRegression` in one pass, and prints the
coefficients, R² and the time taken.
"""

import argparse
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster, wait

from dask_linreg.linear_model import LinearRegression


def make_data(n_samples, n_features, chunk_rows, seed=0):
    """Lazy regression data with known coefficients.

    Returns
    -------
    X : dask.array.Array of shape (n_samples, n_features)
    y : dask.array.Array of shape (n_samples,)
    true_coef : ndarray of shape (n_features,)
    """
    rng = da.random.default_rng(seed)
    true_coef = np.linspace(-2.0, 2.0, n_features)
    offsets = 3.0 * np.arange(n_features)
    X = rng.standard_normal((n_samples, n_features), chunks=(chunk_rows, -1)) + offsets
    noise = rng.standard_normal(n_samples, chunks=chunk_rows)
    y = X @ true_coef + 5.0 + noise
    return X, y, true_coef


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=4_000_000)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        print(f"Dashboard: {client.dashboard_link}")
        X, y, true_coef = make_data(args.n_samples, args.n_features, args.chunk_rows)
        X, y = client.persist([X, y])
        wait([X, y])
        print(
            f"Data: {args.n_samples:,} rows x {args.n_features} features "
            f"({X.nbytes / 1e9:.2f} GB) in {X.numblocks[0]} blocks on "
            f"{args.workers} workers"
        )
        start = time.perf_counter()
        model = LinearRegression().fit(X, y)
        elapsed = time.perf_counter() - start
        r2 = model.score(X, y)
        np.set_printoptions(precision=4, suppress=True)
        print(f"Fit time: {elapsed:.2f} s")
        print(f"Coefficients: {model.coef_}")
        print(f"True coefs:   {true_coef}")
        print(f"Intercept: {model.intercept_:.4f} (true 5.0)")
        print(f"R^2: {r2:.6f}")
        print(f"Max coefficient error: {np.abs(model.coef_ - true_coef).max():.2e}")


if __name__ == "__main__":
    main()
