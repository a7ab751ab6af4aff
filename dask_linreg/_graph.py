"""The Dask layer: map the per-block statistic over row blocks, merge the
results in a tree inside the graph, and compute once.

No algebra happens here beyond calling :mod:`dask_linreg._stats`.  The graph
is built with public Dask APIs (``blockwise`` and ``reduction``), so it
runs on whatever scheduler is active: the threaded default, ``processes``,
``sync`` or a ``distributed.Client`` the user created.  Only the small
:class:`~dask_linreg._stats.Moments` objects travel between tasks.
"""

import dask
import dask.array as da
import numpy as np
from threadpoolctl import threadpool_limits

from dask_linreg._stats import block_moments, empty_moments, merge_moments
from dask_linreg._validation import find_block_faults

__all__ = ["DEFAULT_SPLIT_EVERY", "reduce_moments", "lazy_predict"]

#: Fan-in of the merge tree when ``split_every`` is None.
DEFAULT_SPLIT_EVERY = 8


def _block_summary(x_parts, y_parts, block_ids, sample_weight=None):
    """Moments and input faults of one row block (runs on a worker).

    Returns a one-element object array so that Dask can treat the result as
    a block of an array and reduce it with :func:`dask.array.reduction`.
    """
    block = int(block_ids[0])
    faults = find_block_faults(block, x_parts, y_parts, sample_weight)
    if faults.row_mismatch is not None:
        q = sum(p.shape[1] for p in x_parts) + sum(p.shape[1] for p in y_parts)
        summary = (empty_moments(q), faults)
    else:
        moments = block_moments([*x_parts, *y_parts], sample_weight)
        faults = find_block_faults(block, x_parts, y_parts, sample_weight, moments)
        summary = (moments, faults)
    return _wrap(summary, shape=(1,))


def _wrap(summary, shape):
    wrapped = np.empty(shape, dtype=object)
    wrapped[...] = [summary] if shape else None
    if not shape:
        wrapped[()] = summary
    return wrapped


def _flatten(nested):
    """Summaries from the (possibly nested) lists Dask's reduction passes."""
    if isinstance(nested, list):
        for item in nested:
            yield from _flatten(item)
    elif isinstance(nested, np.ndarray):
        yield from nested.ravel()
    else:
        yield nested


def _merge_summaries(summaries):
    """Merge ``(Moments, InputFaults)`` pairs, in order."""
    summaries = list(summaries)
    moments, faults = summaries[0]
    for other_moments, other_faults in summaries[1:]:
        moments = merge_moments(moments, other_moments)
        faults = faults.merge(other_faults)
    return moments, faults


def _reduce_chunk(block, axis=None, keepdims=None):
    return _merge_summaries(_flatten(block))


def _reduce_combine(parts, axis=None, keepdims=None):
    return _merge_summaries(_flatten(parts))


def _reduce_aggregate(parts, axis=None, keepdims=None):
    return _wrap(_merge_summaries(_flatten(parts)), shape=())


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
    n_blocks = x.numblocks[0]
    # Each row block learns its index from a tiny companion array, for the
    # error messages.
    block_ids = da.arange(n_blocks, chunks=1)
    arguments = [x, "ij", y, "ik", block_ids, "i"]
    if sample_weight is not None:
        arguments += [sample_weight, "i"]
    summaries = da.blockwise(
        _block_summary,
        "i",
        *arguments,
        concatenate=False,
        align_arrays=False,
        adjust_chunks={"i": 1},
        dtype=object,
        meta=np.empty((0,), dtype=object),
    )
    root = da.reduction(
        summaries,
        chunk=_reduce_chunk,
        combine=_reduce_combine,
        aggregate=_reduce_aggregate,
        axis=0,
        concatenate=False,
        split_every=split_every,
        dtype=object,
        meta=np.empty((), dtype=object),
    )
    # Several threads each running a multi-threaded BLAS oversubscribe the
    # cores; one BLAS thread per task is faster (distributed workers already
    # set this through their environment).
    if _uses_local_threads(scheduler) and n_blocks > 1:
        with threadpool_limits(limits=1, user_api="blas"):
            (result,) = dask.compute(root, scheduler=scheduler)
    else:
        (result,) = dask.compute(root, scheduler=scheduler)
    moments, faults = result[()] if isinstance(result, np.ndarray) else result
    return moments, faults


def lazy_predict(x, coef, intercept):
    """``x @ coef.T + intercept`` as a lazy Dask array.

    ``coef`` has shape (n_features,) or (n_targets, n_features).
    """
    return x @ np.asarray(coef).T + intercept
