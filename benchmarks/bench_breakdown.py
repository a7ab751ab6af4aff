#!/usr/bin/env python
"""Where the threaded fit's time goes, beside the syrk floor, in one run.

On the data of ``bench_fit.py`` (standard normal X with column offsets
``1e3 * arange(p)``, a linear y; Dask blocks of about 64 MiB, views of the
data), each round times one after the other, BLAS held to one thread per
task:

- ``floor``: the syrk floor of ``bench_fit.py``, ``Z.T @ Z`` of
  ``Z = [X | y]`` on two halves of the rows in two threads, and its solve;
- the block statistic in stages, every block in a pool of two threads, no
  Dask: ``syrk of pieces``, the BLAS product of each block's X read in
  place in the statistic's pieces of rows (no shift, no y: the least any
  piecewise kernel multiplies); ``+ shifted copy``, the same products of
  the pieces shifted into scratch as the statistic does (``RowBlock``'s
  ``split_pieces``); ``statistic``, ``block_moments`` itself (adds the
  products with y and the column of ones, the centering, and the Python
  of each piece);
- ``fit``: ``LinearRegression().fit`` on the threaded scheduler, with its
  timeline from Dask's scheduler callbacks: the time to the first block's
  task (validation, graph), the blocks' busy time per core, and the time
  after the last block (merges, solve).

Each is printed as the median over the rounds of its ratio to the round's
floor.  Run ``python benchmarks/bench_breakdown.py --help`` for options.
"""

import argparse
import concurrent.futures
import json
import sys
import time
from pathlib import Path

import dask
import numpy as np
from dask.callbacks import Callback
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_fit  # noqa: E402 (the benchmarks' shared helpers and data)

from dask_linreg import LinearRegression  # noqa: E402
from dask_linreg._numerics.blas import syrk_accumulate  # noqa: E402
from dask_linreg._numerics.moments import (  # noqa: E402
    _NARROW_MAX_COLUMNS,
    _split_piece_rows,
    block_moments,
)
from dask_linreg._numerics.pieces import RowBlock  # noqa: E402

DEFAULT_SIZES = "2000000x50,200000x500"
BLOCK_TASK = "block-summary"


class BlockTimeline(Callback):
    """Times of the block tasks of one local-scheduler compute: when each
    was started and finished (the local scheduler starts a task as soon as
    it hands it to a free thread)."""

    def __init__(self):
        super().__init__()
        self.started, self.finished = {}, {}

    def _pretask(self, key, dsk, state):
        if BLOCK_TASK in str(key):
            self.started[key] = time.perf_counter()

    def _posttask(self, key, result, dsk, state, worker_id):
        if key in self.started:
            self.finished[key] = time.perf_counter()


def piece_spans(n_rows, n_columns):
    """The statistic's pieces of rows of a block (its default piece rows)."""
    step = _split_piece_rows(n_columns, n_rows)
    return [slice(s, min(s + step, n_rows)) for s in range(0, n_rows, step)]


def add_products(gram, piece):
    """``gram += piece.T @ piece`` as the statistic adds them: by NumPy up
    to 256 columns, beyond by the BLAS into the sum itself."""
    if piece.shape[1] > _NARROW_MAX_COLUMNS:
        syrk_accumulate(gram, piece)
    else:
        gram += piece.T @ piece


def syrk_of_pieces(Xb, yb):
    """``X.T @ X`` of the block's pieces, read in place."""
    gram = np.zeros((Xb.shape[1], Xb.shape[1]))
    for span in piece_spans(len(Xb), Xb.shape[1] + 1):
        add_products(gram, Xb[span])
    return gram


def shifted_pieces(Xb, yb):
    """The same products of the pieces shifted into scratch, as the
    statistic copies them."""
    block = RowBlock([Xb, yb])
    step = piece_spans(len(Xb), Xb.shape[1] + 1)[0].stop
    main = np.empty((step, Xb.shape[1]), order=block.main_group_order())
    rest = np.empty((step, 2), order="F")
    gram = np.zeros((Xb.shape[1], Xb.shape[1]))
    for _, piece, _ in block.split_pieces(main, rest, block.shift_point()):
        add_products(gram, piece)
    return gram


def statistic(Xb, yb):
    return block_moments([Xb, yb])


def run_size(n, p, repeat, seed):
    X, y = bench_fit.make_data(n, p, seed)
    Z = bench_fit.stacked(X, y)
    chunk_rows = bench_fit.default_chunk_rows(n, p)
    blocks = [
        (X[s : s + chunk_rows], y[s : s + chunk_rows, None])
        for s in range(0, n, chunk_rows)
    ]
    dX = bench_fit.local_blocks(X, chunk_rows)
    dy = bench_fit.local_blocks(y, chunk_rows)
    pool = concurrent.futures.ThreadPoolExecutor(2)

    def on_blocks(kernel):
        return lambda: list(pool.map(lambda b: kernel(*b), blocks))

    timelines = []

    def fit():
        timeline = BlockTimeline()
        with dask.config.set(scheduler="threads"), timeline:
            start = time.perf_counter()
            coef = LinearRegression().fit(dX, dy).coef_
            end = time.perf_counter()
        timelines.append((start, end, timeline))
        return coef

    calls = {
        "floor": lambda: bench_fit.floor_syrk_halves(Z, pool),
        "syrk of pieces": on_blocks(syrk_of_pieces),
        "+ shifted copy": on_blocks(shifted_pieces),
        "statistic": on_blocks(statistic),
        "fit": fit,
    }
    seconds = {name: [] for name in calls}
    with threadpool_limits(limits=1, user_api="blas"):
        for call in calls.values():
            call()
        timelines.clear()
        for _ in range(repeat):
            for name, call in calls.items():
                taken, _ = bench_fit.best_time(call, 1)
                seconds[name].append(taken)
    floor = np.array(seconds["floor"])
    ratios = {
        name: float(np.median(np.array(v) / floor)) for name, v in seconds.items()
    }
    # The fit's timeline, as fractions of the round's floor.
    to_first, busy, after_last = [], [], []
    for (start, end, timeline), floor_seconds in zip(timelines, floor, strict=True):
        to_first.append((min(timeline.started.values()) - start) / floor_seconds)
        after_last.append((end - max(timeline.finished.values())) / floor_seconds)
        task_seconds = sum(
            timeline.finished[k] - timeline.started[k] for k in timeline.finished
        )
        busy.append(task_seconds / 2 / floor_seconds)
    parts = {
        "fit: to the first block": float(np.median(to_first)),
        "fit: block tasks per core": float(np.median(busy)),
        "fit: after the last block": float(np.median(after_last)),
    }
    bench_fit.say(
        f"\n== n={n:,} x p={p}: {len(blocks)} blocks of {chunk_rows:,} rows, "
        f"{len(piece_spans(chunk_rows, p + 1))} pieces each; {repeat} rounds; "
        f"floor median {1e3 * np.median(floor):.1f} ms"
    )
    bench_fit.say("  stage                         x floor (median of rounds)")
    for name, ratio in {**ratios, **parts}.items():
        bench_fit.say(f"  {name:<29} {ratio:8.3f}")
    return {
        "n": n,
        "p": p,
        "blocks": len(blocks),
        "floor_median_seconds": float(np.median(floor)),
        "ratios": {**ratios, **parts},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="ROWSxCOLUMNS list")
    parser.add_argument("--repeat", type=int, default=11, help="rounds [11]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    info = bench_fit.machine_info()
    bench_fit.print_machine(info)
    results = [
        run_size(n, p, args.repeat, args.seed)
        for n, p in bench_fit.parse_sizes(args.sizes)
    ]
    if args.json:
        args.json.write_text(
            json.dumps({"machine": info, "sizes": results}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
