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
from dask_linreg._folds import assign_folds, block_fold_moments, merge_fold_moments
from dask_linreg._inference import block_scores, merge_scores
from dask_linreg._stats import block_moments, merge_moments
from dask_linreg._validation import find_block_faults

__all__ = [
    "DEFAULT_SPLIT_EVERY",
    "STATISTICS",
    "reduce_statistic",
    "reduce_in_memory",
    "reduce_scores",
    "reduce_fold_moments",
    "lazy_predict",
]

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


def _merge_summaries(merge, summaries):
    """Merge ``(statistic, InputFaults)`` pairs, in order."""
    summaries = list(summaries)
    result, faults = summaries[0]
    for other_result, other_faults in summaries[1:]:
        result = merge(result, other_result)
        faults = faults.merge(other_faults)
    return result, faults


def _reduce_chunk(merge, block, axis=None, keepdims=None):
    return _merge_summaries(merge, _flatten(block))


def _reduce_combine(merge, parts, axis=None, keepdims=None):
    return _merge_summaries(merge, _flatten(parts))


def _reduce_aggregate(merge, parts, axis=None, keepdims=None):
    return _wrap(_merge_summaries(merge, _flatten(parts)), shape=())


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
    _, merge = STATISTICS[statistic]
    return _tree_reduce(
        partial(_block_summary, statistic),
        merge,
        _row_block_arguments(x, y, sample_weight),
        n_blocks=x.numblocks[0],
        split_every=split_every,
        scheduler=scheduler,
    )


def _row_block_arguments(x, y, sample_weight, *companions):
    """``blockwise`` arguments pairing row block i of every input.

    X's column blocks come as a list; a 1-D y and the companions (weights,
    labels) as one block each; a missing companion is passed as None.
    """
    arguments = [x, "ij", y, "ik" if y.ndim == 2 else "i"]
    for companion in (sample_weight, *companions):
        arguments += [companion, None if companion is None else "i"]
    return arguments


def reduce_in_memory(x, y, sample_weight=None, *, statistic="moments"):
    """:func:`reduce_statistic` for NumPy data of one block, without Dask.

    Small in-memory fits skip the task graph, whose fixed cost (a few
    milliseconds) would exceed the arithmetic.
    """
    y_parts = [y] if y.ndim == 2 else y  # as blockwise passes them
    summary = _block_summary(statistic, [x], y_parts, sample_weight)
    return summary[0]


def _tree_reduce(block_function, merge, arguments, *, n_blocks, split_every, scheduler):
    """Map ``block_function`` over row blocks, merge in a tree, compute once."""
    split_every = DEFAULT_SPLIT_EVERY if split_every is None else split_every
    summaries = da.blockwise(
        block_function,
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
        chunk=partial(_reduce_chunk, merge),
        combine=partial(_reduce_combine, merge),
        aggregate=partial(_reduce_aggregate, merge),
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


def _block_scores(model, x_parts, y_parts, sample_weight=None, groups=None):
    """Robust-pass sums and input faults of one row block (runs on a worker)."""
    if not isinstance(y_parts, list):
        y_parts = [y_parts.reshape(-1, 1)]
    faults = find_block_faults(x_parts, y_parts, sample_weight)
    if groups is not None and len(groups) != len(x_parts[0]):
        raise ValueError(
            f"groups has {len(groups)} rows in a row block where X has "
            f"{len(x_parts[0])}: groups must have the row blocks of X."
        )
    if faults.row_mismatch is not None:
        # A block without rows stands in; the fault is raised after the pass.
        x_parts = [p[:0] for p in x_parts]
        y_parts = [p[:0] for p in y_parts]
        sample_weight = None if sample_weight is None else sample_weight[:0]
        groups = None if groups is None else groups[:0]
    sums = block_scores(x_parts, y_parts, sample_weight, groups, model)
    return _wrap((sums, faults), shape=(1,))


def reduce_scores(
    x, y, sample_weight, groups, model, *, split_every=None, scheduler=None
):
    """The robust pass: :class:`~dask_linreg._inference.ScoreSums` over all rows.

    Parameters
    ----------
    x, y, sample_weight
        As in :func:`reduce_statistic`.
    groups : dask.array.Array of shape (n_samples,) or None
        Cluster labels, with the row blocks of ``x``.
    model : ScoreModel
        The fitted model (a few small arrays, embedded in the graph).
    split_every, scheduler
        As in :func:`reduce_statistic`.

    Returns
    -------
    sums : ScoreSums
    faults : InputFaults
    """
    return _tree_reduce(
        partial(_block_scores, model),
        merge_scores,
        _row_block_arguments(x, y, sample_weight, groups),
        n_blocks=x.numblocks[0],
        split_every=split_every,
        scheduler=scheduler,
    )


class _FoldsFinite:
    """The ``is_finite`` of all folds of a block, for the fault check."""

    def __init__(self, folds):
        self.folds = folds

    def is_finite(self):
        return all(moments.is_finite() for moments in self.folds.values())


def _block_folds(n_folds, x_parts, y_parts, sample_weight=None, labels=None):
    """Per-fold moments and input faults of one row block (on a worker)."""
    if not isinstance(y_parts, list):
        y_parts = [y_parts.reshape(-1, 1)]
    faults = find_block_faults(x_parts, y_parts, sample_weight)
    if labels is not None and len(labels) != len(x_parts[0]):
        raise ValueError(
            f"cv has {len(labels)} fold labels in a row block where X has "
            f"{len(x_parts[0])} rows: fold labels must have the row blocks of X."
        )
    if faults.row_mismatch is not None:
        return _wrap(({}, faults), shape=(1,))
    if labels is None:
        labels = assign_folds(x_parts, y_parts, n_folds)
    folds = block_fold_moments(x_parts, y_parts, sample_weight, labels)
    faults = find_block_faults(x_parts, y_parts, sample_weight, _FoldsFinite(folds))
    return _wrap((folds, faults), shape=(1,))


def reduce_fold_moments(
    x, y, sample_weight, labels, *, n_folds=None, split_every=None, scheduler=None
):
    """Moments of ``[x | y]`` per cross-validation fold, in one pass.

    Parameters
    ----------
    x, y, sample_weight
        As in :func:`reduce_statistic`.
    labels : dask.array.Array of shape (n_samples,) or None
        The fold of each row; None assigns ``n_folds`` folds by a hash of
        each row (:func:`~dask_linreg._folds.assign_folds`).
    n_folds : int, default=None
    split_every, scheduler
        As in :func:`reduce_statistic`.

    Returns
    -------
    folds : dict
        Fold label -> Moments.
    faults : InputFaults
    """
    return _tree_reduce(
        partial(_block_folds, n_folds),
        merge_fold_moments,
        _row_block_arguments(x, y, sample_weight, labels),
        n_blocks=x.numblocks[0],
        split_every=split_every,
        scheduler=scheduler,
    )


def lazy_predict(x, coef, intercept):
    """``x @ coef.T + intercept`` as a lazy Dask array.

    ``coef`` has shape (n_features,) or (n_targets, n_features).
    """
    return x @ np.asarray(coef).T + intercept
