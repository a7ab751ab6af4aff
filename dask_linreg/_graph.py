"""The Dask layer: map the per-block statistic over row blocks, merge the
results in a tree inside the graph, and compute once.

No algebra happens here beyond calling :mod:`dask_linreg._stats`.  The graph
is built with public Dask APIs (``to_delayed`` and ``dask.delayed``), so it
runs on whatever scheduler is active: the threaded default, ``processes``,
``sync`` or a ``distributed.Client`` the user created.  Only the small
:class:`~dask_linreg._stats.Moments` objects travel between tasks.
"""

import dask
import numpy as np
from threadpoolctl import threadpool_limits

from dask_linreg._stats import block_moments, empty_moments, merge_moments
from dask_linreg._validation import find_block_faults

__all__ = ["DEFAULT_SPLIT_EVERY", "reduce_moments", "lazy_predict"]

#: Fan-in of the merge tree when ``split_every`` is None.
DEFAULT_SPLIT_EVERY = 8


def _block_summary(block, x_parts, y_parts, sample_weight):
    """Moments and input faults of one row block (runs on a worker)."""
    faults = find_block_faults(block, x_parts, y_parts, sample_weight)
    if faults.row_mismatch is not None:
        q = sum(p.shape[1] for p in x_parts) + sum(p.shape[1] for p in y_parts)
        return empty_moments(q), faults
    moments = block_moments([*x_parts, *y_parts], sample_weight)
    return moments, find_block_faults(block, x_parts, y_parts, sample_weight, moments)


def _merge_summaries(summaries):
    """Merge a list of ``(Moments, InputFaults)`` (runs on a worker)."""
    moments, faults = summaries[0]
    for other_moments, other_faults in summaries[1:]:
        moments = merge_moments(moments, other_moments)
        faults = faults.merge(other_faults)
    return moments, faults


def _tree_reduce(items, split_every):
    while len(items) > 1:
        items = [
            dask.delayed(_merge_summaries, pure=True)(items[i : i + split_every])
            for i in range(0, len(items), split_every)
        ]
    return items[0]


def _uses_local_threads(scheduler):
    if scheduler is not None:
        return scheduler == "threads"
    return dask.base.get_scheduler() is dask.threaded.get


def reduce_moments(x, y, sample_weight=None, *, split_every=None, scheduler=None):
    """Moments of ``[x | y]`` over all rows, in one pass and one compute.

    Parameters
    ----------
    x : dask.array.Array of shape (n_samples, n_features)
        Any chunking, row block sizes possibly unknown; several column
        blocks are read side by side, never concatenated.
    y : dask.array.Array of shape (n_samples, n_targets)
        Same number of row blocks as ``x``.
    sample_weight : dask.array.Array of shape (n_samples,), default=None
        Same number of row blocks as ``x``.
    split_every : int, default=None
        Fan-in of the merge tree; ``DEFAULT_SPLIT_EVERY`` if None.
    scheduler : str, default=None
        Passed to :func:`dask.compute`; None uses the active scheduler.

    Returns
    -------
    moments : Moments
    faults : InputFaults
    """
    split_every = DEFAULT_SPLIT_EVERY if split_every is None else split_every
    x_blocks = x.to_delayed()
    y_blocks = y.to_delayed()
    w_blocks = [None] * x_blocks.shape[0]
    if sample_weight is not None:
        w_blocks = list(sample_weight.to_delayed())
    summaries = [
        dask.delayed(_block_summary, pure=True)(
            block, list(x_blocks[block]), list(y_blocks[block]), w_blocks[block]
        )
        for block in range(x_blocks.shape[0])
    ]
    root = _tree_reduce(summaries, split_every)
    # Several threads each running a multi-threaded BLAS oversubscribe the
    # cores; one BLAS thread per task is faster (distributed workers already
    # set this through their environment).
    if _uses_local_threads(scheduler) and len(summaries) > 1:
        with threadpool_limits(limits=1, user_api="blas"):
            (moments, faults) = dask.compute(root, scheduler=scheduler)[0]
    else:
        (moments, faults) = dask.compute(root, scheduler=scheduler)[0]
    return moments, faults


def lazy_predict(x, coef, intercept):
    """``x @ coef.T + intercept`` as a lazy Dask array.

    ``coef`` has shape (n_features,) or (n_targets, n_features).
    """
    return x @ np.asarray(coef).T + intercept

