#!/usr/bin/env python
"""Draw the benchmark figure of the docs and the README from saved results.

Reads the JSON that ``bench_fit.py --json PATH`` writes (by default
``benchmarks/results/bench_fit.json``, the run the docs quote) and draws, per
problem size, each method's fit time as a multiple of the syrk floor, on a
log scale, into ``docs/_static/bench_fit.png``.

``python benchmarks/plot_results.py [RESULTS.json] [--output PNG]``
(needs matplotlib, in the ``docs`` extra).
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
LABELS = {
    "floor-syrk-halves": "syrk floor (Z.T @ Z + solve, 2 threads)",
    "floor-memory": "memory floor (one read of X)",
    "ours-threads": "dask_linreg, threads",
    "ours-cluster": "dask_linreg, LocalCluster",
    "floor-cluster": "cluster floor (syrk per block + sum)",
    "ours-qr": "dask_linreg, solver='qr'",
    "ours-exact": "dask_linreg, solver='exact'",
    "sklearn": "scikit-learn LinearRegression",
    "dask-ml-newton": "dask-ml, newton",
    "dask-ml-lbfgs": "dask-ml, lbfgs",
    "dask-ml": "dask-ml, default",
    "dask-lstsq": "dask.array.linalg.lstsq",
    "spark-normal": "Spark MLlib, normal",
}


def plot(results, output):
    sizes = results["sizes"]
    figure, axes = plt.subplots(
        1, len(sizes), figsize=(4.6 * len(sizes), 4.4), sharey=True
    )
    axes = [axes] if len(sizes) == 1 else list(axes)
    for ax, size in zip(axes, sizes, strict=True):
        ratios = {m["method"]: m["ratio_to_floor"] for m in size["methods"]}
        names = [name for name in LABELS if name in ratios]
        values = [ratios[name] for name in names]
        colors = [
            "#2a6fb0"
            if name.startswith("ours")
            else "#d0d0d0"
            if name.startswith("floor")
            else "#999999"
            for name in names
        ]
        # One row per method in every panel (a method not run leaves a gap).
        positions = [list(LABELS).index(name) for name in names]
        ax.barh(positions, values, color=colors)
        ax.set_yticks(range(len(LABELS)), list(LABELS.values()))
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.8)
        for y, value in zip(positions, values, strict=True):
            ax.text(value * 1.1, y, f"{value:.3g}x", va="center", fontsize=8)
        ax.set_title(f"{size['n_samples']:,} x {size['n_features']}", fontsize=10)
        ax.set_xlabel("fit time / syrk floor (log scale)")
        ax.set_xlim(min(0.5, min(values) / 1.5), max(values) * 4)
    axes[0].invert_yaxis()
    figure.suptitle(
        "Fit time on the same in-memory data, 2 cores (lower is better)", fontsize=11
    )
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    print(f"wrote {output}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "results", nargs="?", default=HERE / "results" / "bench_fit.json", type=Path
    )
    parser.add_argument(
        "--output",
        default=HERE.parent / "docs" / "_static" / "bench_fit.png",
        type=Path,
    )
    args = parser.parse_args(argv)
    plot(json.loads(args.results.read_text()), args.output)


if __name__ == "__main__":
    main()
