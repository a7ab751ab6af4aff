"""The Dask layer: map the per-block statistic over row blocks, merge the
results in a tree inside the graph, and compute once.

No algebra happens here beyond calling the block and merge functions of
:mod:`dask_linreg._stats`, :mod:`dask_linreg._factor` and
:mod:`dask_linreg._exact`.  The graph is built with public Dask APIs
(``blockwise`` and ``reduction``), so it runs on whatever scheduler is
active: the threaded default, ``processes``, ``sync`` or a
``distributed.Client`` the user created.  Only the small statistics travel
between tasks.
"""

from functools import partial

import dask
import dask.array as da
import numpy as np
from threadpoolctl import threadpool_limits

from dask_linreg._exact import block_exact_cross_products, merge_exact
from dask_linreg._factor import block_factor, merge_factors
from dask_linreg._stats import block_moments, merge_moments
from dask_linreg._validation import find_block_faults

__all__ = ["DEFAULT_SPLIT_EVERY", "STATISTICS", "reduce_statistic", "lazy_predict"]

#: Fan-in of the merge tree when ``split_every`` is None.
DEFAULT_SPLIT_EVERY = 8

#: Per-block statistic and its merge, by name: centered cross-products
#: (normal equations), triangular factors (TSQR) and exact cross-products.
STATISTICS = {
    "moments": (block_moments, merge_moments),
    "factor": (block_factor, merge_factors),
    "exact": (block_exact_cross_products, merge_exact),
}


def _block_summary(statistic, x_parts, y_parts, sample_weight=None):
    """Statistic and input faults of one row block (runs on a worker).

    Returns a one-element object array so that Dask can treat the result as
    a block of an array and reduce it with :func:`dask.array.reduction`.
    """
    if not isinstance(y_parts, list):  # a 1-D y comes as one block
        y_parts = [y_parts.reshape(-1, 1)]
    faults = find_block_faults(x_parts, y_parts, sample_weight)
    if faults.row_mismatch is not None:
        # A block without rows stands in; the fault is raised after the pass.
        x_parts = [p[:0] for p in x_parts]
        y_parts = [p[:0] for p in y_parts]
        sample_weight = None
    block_statistic, _ = STATISTICS[statistic]
    result = block_statistic([*x_parts, *y_parts], sample_weight)
    if faults.row_mismatch is None:
        faults = find_block_faults(x_parts, y_parts, sample_weight, result)
    return _wrap((result, faults), shape=(1,))


def _wrap(summary, shape):
    wrapped = np.empty(shape, dtype=object)
    wrapped.flat[0] = summary
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


def _merge_summaries(statistic, summaries):
    """Merge ``(statistic, InputFaults)`` pairs, in order."""
    _, merge = STATISTICS[statistic]
    summaries = list(summaries)
    result, faults = summaries[0]
    for other_result, other_faults in summaries[1:]:
        result = merge(result, other_result)
        faults = faults.merge(other_faults)
    return result, faults


def _reduce_chunk(statistic, block, axis=None, keepdims=None):
    return _merge_summaries(statistic, _flatten(block))


def _reduce_combine(statistic, parts, axis=None, keepdims=None):
    return _merge_summaries(statistic, _flatten(parts))


def _reduce_aggregate(statistic, parts, axis=None, keepdims=None):
    return _wrap(_merge_summaries(statistic, _flatten(parts)), shape=())


def _uses_local_threads(scheduler):
    if scheduler is not None:
        return scheduler == "threads"
    return dask.base.get_scheduler() is dask.threaded.get


def reduce_statistic(
    x, y, sample_weight=None, *, statistic="moments", split_every=None, scheduler=None
):
    """A statistic of ``[x | y]`` over all rows, in one pass and one compute.

    Parameters
    ----------
    x : dask.array.Array of shape (n_samples, n_features)
        Any chunking, row block sizes possibly unknown; several column
        blocks are read side by side, never concatenated.
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_targets)
        Same number of row blocks as ``x``.
    sample_weight : dask.array.Array of shape (n_samples,), default=None
        Same number of row blocks as ``x``.
    statistic : {"moments", "factor", "exact"}, default="moments"
        Which statistic (see ``STATISTICS``).
    split_every : int, default=None
        Fan-in of the merge tree; ``DEFAULT_SPLIT_EVERY`` if None.
    scheduler : str, default=None
        Passed to :func:`dask.compute`; None uses the active scheduler.

    Returns
    -------
    result : Moments, TriangularMoments or ExactCrossProducts
    faults : InputFaults
    """
    split_every = DEFAULT_SPLIT_EVERY if split_every is None else split_every
    n_blocks = x.numblocks[0]
    arguments = [x, "ij", y, "ik" if y.ndim == 2 else "i"]
    if sample_weight is not None:
        arguments += [sample_weight, "i"]
    summaries = da.blockwise(
        partial(_block_summary, statistic),
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
        chunk=partial(_reduce_chunk, statistic),
        combine=partial(_reduce_combine, statistic),
        aggregate=partial(_reduce_aggregate, statistic),
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
    return result[()] if isinstance(result, np.ndarray) else result


def lazy_predict(x, coef, intercept):
    """``x @ coef.T + intercept`` as a lazy Dask array.

    ``coef`` has shape (n_features,) or (n_targets, n_features).
    """
    return x @ np.asarray(coef).T + intercept
