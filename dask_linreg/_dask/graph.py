"""The Dask layer: map the per-block statistic over row blocks, merge the
results in a tree inside the graph, and compute once.

No algebra happens here beyond calling the block and merge functions of
:mod:`dask_linreg._numerics.moments`, :mod:`dask_linreg._numerics.tsqr` and
:mod:`dask_linreg._numerics.exact`.  The graph is built with public Dask APIs
(``blockwise``, ``to_delayed`` and ``delayed``), so it runs on whatever
scheduler is active: the threaded default, ``processes``, ``sync`` or a
``distributed.Client`` the user created.  Only the small statistics travel
between tasks.
"""

import ctypes
import functools
from dataclasses import replace
from functools import partial

import dask
import dask.array as da
import numpy as np
from threadpoolctl import ThreadpoolController

from dask_linreg._numerics.absorbed import block_absorbed_scores
from dask_linreg._numerics.cv import (
    assign_folds,
    block_fold_factors,
    block_fold_level_moments,
    merge_folds,
)
from dask_linreg._numerics.faults import (
    InputFaults,
    complete_rows,
    find_block_faults,
)
from dask_linreg._numerics.levels import block_level_moments
from dask_linreg._numerics.moments import (
    Moments,
    block_residual_moments,
    merge_moments,
)
from dask_linreg._numerics.sandwich import (
    block_level_scores,
    block_scores,
    merge_scores,
)

__all__ = [
    "DEFAULT_SPLIT_EVERY",
    "reduce_statistic",
    "reduce_level_statistic",
    "reduce_in_memory",
    "reduce_scores",
    "reduce_absorbed_scores",
    "reduce_row_pass",
    "reduce_fold_factors",
    "one_label_kernel",
    "reduce_fold_level_statistic",
    "reduce_residual_moments",
    "reduce_in_memory_residuals",
    "lazy_predict",
]

#: How messages name the two clusterings of two-way clustering.
TWO_WAY_NAMES = ("groups (first clustering)", "groups (second clustering)")

#: Fan-in of the merge tree when ``split_every`` is None, and the least
#: fan-in chosen by the size of the statistic (:func:`effective_split_every`).
DEFAULT_SPLIT_EVERY = 8

#: The largest fan-in chosen by the size of the statistic.
MAX_SPLIT_EVERY = 32

# Small statistics are merged up to MAX_SPLIT_EVERY at a time while a merge
# task holds at most this many bytes of them: each task of the tree costs
# the scheduler a round trip, more than merging a small statistic.
# Measured on a 2-worker LocalCluster, 2,000 blocks of 1,000 x 21: fan-in 32
# fits in 0.85x the time of fan-in 8 (64: no faster).
_MERGE_BYTES = 8 << 20


def checked_block(
    compute,
    names,
    x_parts,
    y_parts,
    sample_weight=None,
    *companions,
    drop=None,
    broadcast=None,
):
    """``compute(x_parts, y_parts, sample_weight, *companions)`` on one row
    block, with the block's input faults (runs on a worker).

    ``drop`` (``missing="drop"``): the names of the companions that, with
    X, y and the weights, leave a row out when one of them is missing
    (NaN, None or NA); the count is in the faults.  None: missing values
    are faults.

    A 1-D y comes as one block and is made a column; ``names`` name the
    companions (cluster or fold labels) in messages.  When the inputs
    disagree on the number of rows, a block without rows stands in and the
    fault is raised after the pass; otherwise non-finite values are counted
    when the result is not finite (its ``is_finite()``).  ``broadcast``: keyword
    arguments of ``compute`` that every block gets (one array of the graph,
    not a copy per task).  Returns a one-element object array so that Dask
    can treat the result as a block of an array, which the merge tree
    regroups.
    """
    if broadcast:
        compute = partial(compute, **broadcast)
    if not isinstance(y_parts, list):
        y_parts = [y_parts.reshape(-1, 1)]
    dropped = 0
    if drop is not None and all(
        p is None or p.shape[0] == x_parts[0].shape[0]
        for p in (*y_parts, sample_weight, *companions)
    ):
        keep = complete_rows(
            x_parts,
            y_parts,
            sample_weight,
            [c for n, c in zip(names, companions, strict=True) if n in drop],
        )
        if keep is not None:
            dropped = int(keep.size - np.count_nonzero(keep))
            x_parts = [p[keep] for p in x_parts]
            y_parts = [p[keep] for p in y_parts]
            sample_weight = None if sample_weight is None else sample_weight[keep]
            companions = [None if c is None else c[keep] for c in companions]
    faults = find_block_faults(
        x_parts, y_parts, sample_weight, dict(zip(names, companions, strict=True))
    )
    stand_in = faults.row_mismatch is not None or faults.missing_labels()
    if stand_in:
        x_parts = [p[:0] for p in x_parts]
        y_parts = [p[:0] for p in y_parts]
        sample_weight = None if sample_weight is None else sample_weight[:0]
        companions = [None if c is None else c[:0] for c in companions]
    # Object labels (strings, or numbers mixed with strings) are compared
    # as strings, as in-memory labels are.
    companions = [
        c.astype(str) if c is not None and c.dtype == object else c for c in companions
    ]
    result = compute(x_parts, y_parts, sample_weight, *companions)
    if not stand_in and not result.is_finite():
        faults = find_block_faults(x_parts, y_parts, sample_weight, finite=False)
    if dropped:
        faults = replace(faults, dropped=dropped)
    return _wrap((result, faults), shape=(1,))


def _block_statistic(kind, x_parts, y_parts, sample_weight):
    return kind.of_block([*x_parts, *y_parts], sample_weight)


def _merge(a, b):
    return a.merge(b)


def _wrap(summary, shape):
    wrapped = np.empty(shape, dtype=object)
    wrapped.flat[0] = summary
    return wrapped


def _merge_summaries(merge, summaries):
    """Merge ``(statistic, InputFaults)`` pairs, in order: all at once where
    the statistic has a ``merge_all`` (a keyed table merged pairwise would be
    re-sorted at every step)."""
    summaries = list(summaries)
    result, faults = summaries[0]
    for _, other_faults in summaries[1:]:
        faults = faults.merge(other_faults)
    merge_all = getattr(type(result), "merge_all", None)
    if merge is _merge and merge_all is not None and len(summaries) > 1:
        return merge_all([s[0] for s in summaries]), faults
    for other_result, _ in summaries[1:]:
        result = merge(result, other_result)
    return result, faults


def _merge_run(merge, *summaries, blocks=False):
    """A run of summaries merged in order: one task of the merge tree.
    ``blocks``: they are the block step's one-element arrays."""
    if blocks:
        summaries = [block[0] for block in summaries]
    return _merge_summaries(merge, summaries)


@functools.cache
def _thread_local_blas_setters():
    """The BLAS libraries' functions that set the calling thread's own BLAS
    thread count (OpenBLAS >= 0.3.27, MKL), each returning the previous
    count; empty when the loaded BLAS has none."""
    setters = []
    for library in ThreadpoolController().lib_controllers:
        name = _THREAD_LOCAL_SETTERS.get(library.internal_api)
        setter = getattr(library.dynlib, name, None) if name else None
        if setter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
            setters.append(setter)
    return tuple(setters)


_THREAD_LOCAL_SETTERS = {
    "openblas": "openblas_set_num_threads_local",
    "mkl": "MKL_Set_Num_Threads_Local",
}


def _with_one_blas_thread(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with one BLAS thread in the calling
    thread only.

    Tasks on the threaded scheduler each running a multi-threaded BLAS
    oversubscribe the cores.  The process-wide count (threadpoolctl's
    ``threadpool_limits``) is not safe to change here: fits running at once
    in threads of one process would race on saving and restoring it, and
    OpenBLAS ignores a change from threads other than the one that set it
    first.  The thread-local count touches only this task's thread; with a
    BLAS that has none, the task runs with the BLAS's own threads.
    """
    setters = _thread_local_blas_setters()
    previous = [setter(1) for setter in setters]
    try:
        return function(*args, **kwargs)
    finally:
        for setter, count in zip(setters, previous, strict=True):
            setter(count)


def _uses_local_threads(scheduler, collection):
    """Whether computing ``collection`` runs its tasks in threads of this
    process: the threaded scheduler, named or the default one."""
    if scheduler is not None:
        return scheduler == "threads"
    chosen = dask.base.get_scheduler(collections=[collection])
    return chosen is dask.threaded.get


def reduce_statistic(
    x,
    y,
    sample_weight=None,
    *,
    kind=Moments,
    split_every=None,
    scheduler=None,
    missing="raise",
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
    kind : StatisticKind, default=Moments
        Which statistic (one of :data:`dask_linreg._numerics.kinds.KINDS`).
    split_every : int, default=None
        Fan-in of the merge tree; None chooses it by the size of the
        statistic (:func:`effective_split_every`).
    scheduler : str, default=None
        Passed to :func:`dask.compute`; None uses the active scheduler.
    missing : {"raise", "drop"}, default="raise"
        ``"drop"``: rows with a missing value (NaN) in x, y or the weights
        are left out in the pass, and counted (``faults.dropped``); else
        they are faults.

    Returns
    -------
    result : StatisticKind
    faults : InputFaults
    """
    n_columns = x.shape[1] + (y.shape[1] if y.ndim > 1 else 1)
    return _checked_reduce(
        partial(_block_statistic, kind),
        _merge,
        x,
        y,
        sample_weight,
        missing=missing,
        split_every=effective_split_every(split_every, n_columns),
        scheduler=scheduler,
    )


def _dropping(missing, names=()):
    """``checked_block``'s ``drop`` for a ``missing`` parameter."""
    return frozenset(names) if missing == "drop" else None


def _block_level_statistic(
    factor_names, max_levels, terms, x_parts, y_parts, sample_weight, *factors
):
    return block_level_moments(
        x_parts,
        y_parts,
        factors,
        sample_weight,
        factor_names=factor_names,
        max_levels=max_levels,
        terms=terms,
    )


def reduce_level_statistic(
    x,
    y,
    sample_weight,
    factors,
    *,
    factor_names,
    message_names,
    terms=None,
    max_levels=None,
    split_every=None,
    scheduler=None,
    missing="raise",
):
    """:class:`~dask_linreg._numerics.levels.LevelMoments` of ``[x | y]``
    and the indicators of the ``factors``' levels, found in the same pass.

    Parameters
    ----------
    x, y, sample_weight
        As in :func:`reduce_statistic`.
    factors : sequence of dask.array.Array of shape (n_samples,)
        Each categorical column's labels, with x's row blocks.
    factor_names : sequence of str
        Their column names.
    message_names : sequence of str
        How messages name them (missing labels).
    terms : sequence of IndicatorTerm, default=None
        The indicator blocks (interactions, slopes per level); None: one
        per factor.
    max_levels : int, default=None
        Checked on the workers in every block and merge.
    missing : {"raise", "drop"}, default="raise"
        As in :func:`reduce_statistic`; a missing level drops its row too.

    Returns
    -------
    result : LevelMoments
    faults : InputFaults
    """
    compute = partial(
        _block_level_statistic,
        tuple(factor_names),
        max_levels,
        None if terms is None else tuple(terms),
    )
    return _checked_reduce(
        compute,
        _merge,
        x,
        y,
        sample_weight,
        factors,
        names=message_names,
        drop_names=message_names,
        missing=missing,
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


def reduce_in_memory(x, y, sample_weight=None, *, kind=Moments, missing="raise"):
    """:func:`reduce_statistic` for NumPy data of one block, without Dask.

    Small in-memory fits skip the task graph, whose fixed cost (a few
    milliseconds) would exceed the arithmetic.
    """
    y_parts = [y] if y.ndim == 2 else y  # as blockwise passes them
    summary = checked_block(
        partial(_block_statistic, kind),
        (),
        [x],
        y_parts,
        sample_weight,
        drop=_dropping(missing),
    )
    return summary[0]


def reduce_in_memory_residuals(
    x, y, sample_weight, coef, intercept, *, missing="raise"
):
    """:func:`reduce_residual_moments` for NumPy data of one block."""
    y_parts = [y] if y.ndim == 2 else y  # as blockwise passes them
    compute = partial(_block_residuals, coef, intercept)
    return checked_block(
        compute, (), [x], y_parts, sample_weight, drop=_dropping(missing)
    )[0]


def effective_split_every(split_every, n_columns=None):
    """The merge tree's fan-in for a ``split_every`` parameter.

    None: for a statistic of ``n_columns`` columns of ``[X | y]`` (about
    ``8 (q + 1)**2`` bytes), as many as fit in 8 MiB, from
    ``DEFAULT_SPLIT_EVERY`` (8) to ``MAX_SPLIT_EVERY`` (32): 32 up to 180
    columns, 8 from 362.  Without ``n_columns``, 8.
    """
    if split_every is not None:
        return split_every
    if n_columns is None:
        return DEFAULT_SPLIT_EVERY
    fitting = _MERGE_BYTES // (8 * (n_columns + 1) ** 2)
    return int(min(MAX_SPLIT_EVERY, max(DEFAULT_SPLIT_EVERY, fitting)))


def _checked_reduce(
    compute,
    merge,
    x,
    y,
    sample_weight,
    companions=(),
    *,
    names=(),
    drop_names=(),
    missing,
    split_every,
    scheduler,
    split_out=1,
    broadcast=None,
):
    """:func:`checked_block` of ``compute`` on each row block of ``x``,
    ``y``, the weights and the ``companions`` (called ``names`` in messages;
    with ``missing="drop"`` a missing value among ``drop_names`` leaves its
    row out too), merged in a tree by ``merge`` (``split_out`` trees of
    hashed key partitions, for keyed statistics)."""
    return _tree_reduce(
        partial(
            checked_block, compute, tuple(names), drop=_dropping(missing, drop_names)
        ),
        merge,
        _row_block_arguments(x, y, sample_weight, *companions),
        n_blocks=x.numblocks[0],
        split_every=split_every,
        scheduler=scheduler,
        split_out=split_out,
        broadcast=broadcast,
    )


def _tree_reduce(
    block_function,
    merge,
    arguments,
    *,
    n_blocks,
    split_every,
    scheduler,
    split_out=1,
    broadcast=None,
):
    """Map ``block_function`` over row blocks, merge in a tree, compute once."""
    # A fan-in beyond the number of blocks merges them all in one task
    # anyway: capped, equal trees get equal keys.
    split_every = min(effective_split_every(split_every), max(n_blocks, 2))
    # Several threads each running a multi-threaded BLAS oversubscribe the
    # cores; one BLAS thread per task is faster (distributed workers already
    # set this through their environment).
    if n_blocks > 1 and _uses_local_threads(scheduler, arguments[0]):
        block_function = partial(_with_one_blas_thread, block_function)
        joined = _joined_small_blocks(arguments, split_every)
        if joined is not arguments:
            result, faults = _summarized(
                block_function,
                merge,
                joined,
                split_every,
                scheduler,
                split_out,
                broadcast,
            )
            if faults.counts or faults.row_mismatch is not None:
                # Rare, and the fit fails: once more on the blocks as given,
                # so that the message names the user's row block.
                return _summarized(
                    block_function,
                    merge,
                    arguments,
                    split_every,
                    scheduler,
                    broadcast=broadcast,
                )
            return result, faults
    return _summarized(
        block_function, merge, arguments, split_every, scheduler, split_out, broadcast
    )


def _with_broadcast(block_function, names, *arguments):
    """``block_function`` of the row blocks' arguments, the last
    ``len(names)`` of them (whole arrays) as the keyword arguments
    ``names``."""
    split = len(arguments) - len(names)
    values = [holder[0] for holder in arguments[split:]]
    return block_function(
        *arguments[:split], broadcast=dict(zip(names, values, strict=True))
    )


def _partitioned(n_parts, block):
    """A block's summary split into ``n_parts`` of disjoint keys (its
    statistic's ``partition``), the faults with the first."""
    statistic, faults = block[0]
    parts = statistic.partition(n_parts)
    empty = InputFaults(n_blocks=0)
    return tuple((part, faults if s == 0 else empty) for s, part in enumerate(parts))


def _merge_tree(merge, level, split_every, token, blocks):
    """The delayed merges of runs of ``split_every`` of ``level``, to one."""
    depth = 0
    while len(level) > 1 or depth == 0:
        merge_run = dask.delayed(
            partial(_merge_run, merge, blocks=blocks and not depth)
        )
        level = [
            merge_run(
                *level[start : start + split_every],
                dask_key_name=f"merge-summaries-{token}-{depth}-{start}",
            )
            for start in range(0, len(level), split_every)
        ]
        depth += 1
    return level[0]


def _summarized(
    block_function,
    merge,
    arguments,
    split_every,
    scheduler,
    split_out=1,
    broadcast=None,
):
    """``block_function`` on each row block of ``arguments``, the summaries
    merged in a tree, computed once.

    ``split_out > 1`` (keyed statistics): each block's summary is split by a
    hash of its keys into ``split_out`` parts, each part merged in its own
    tree (on whichever worker), and the trees' disjoint results merged last:
    no task but the last holds every key, and each block's keys move once
    (Dask's ``groupby(..., split_out=)`` shuffle, for mergeable statistics).

    ``broadcast`` (a dict of any objects): keyword arguments every block's
    function gets, each one task of the graph that every block depends on
    (sent to each worker once, not embedded in every task).
    """
    if broadcast:
        names = tuple(broadcast)
        block_function = partial(_with_broadcast, block_function, names)
        whole = []
        for name in names:
            # Any object, held by a one-element array: one chunk, one task.
            holder = _wrap(broadcast[name], shape=(1,))
            whole += [da.from_array(holder, chunks=1, name=False), None]
        arguments = [*arguments, *whole]
    summaries = da.blockwise(
        block_function,
        "i",
        *arguments,
        concatenate=False,
        align_arrays=False,
        adjust_chunks={"i": 1},
        dtype=object,
        meta=np.empty((0,), dtype=object),
        token="block-summary",
    )
    # The tree is delayed merges of runs of split_every summaries, each
    # task naming its inputs' keys.  (dask.array.reduction adds a task per
    # block, its "chunk" step, and a rechunk of the summaries one getitem
    # per block: on 2,000 small blocks either costs as much as the blocks'
    # own arithmetic.)
    level = list(summaries.to_delayed(optimize_graph=True).ravel())
    token = dask.base.tokenize(summaries.name, split_every, split_out)
    if split_out <= 1:
        top = _merge_tree(merge, level, split_every, token, blocks=True)
    else:
        split = dask.delayed(partial(_partitioned, split_out), nout=split_out)
        parts = [
            split(block, dask_key_name=f"split-summaries-{token}-{i}")
            for i, block in enumerate(level)
        ]
        tops = [
            _merge_tree(
                merge, [p[s] for p in parts], split_every, f"{token}-{s}", blocks=False
            )
            for s in range(split_out)
        ]
        top = dask.delayed(partial(_merge_run, merge))(
            *tops, dask_key_name=f"merge-partitions-{token}"
        )
    (result,) = dask.compute(top, scheduler=scheduler)
    return result


#: On the local threaded scheduler, runs of consecutive row blocks of at
#: most this many bytes in all (and at most ``split_every`` blocks) are
#: joined into one block: a task costs the scheduler about as much as the
#: statistic of a block of 1,000 x 20 rows, and the join of a run this
#: small is cheaper than its tasks.
_JOINED_BYTES = 2 << 20


def _joined_small_blocks(arguments, split_every):
    """``arguments`` with runs of small row blocks joined (every input
    alike), when every block's size is known and small; else as they are.

    Only where the tasks share memory (the local threaded scheduler): on a
    cluster, joining would move blocks between workers.
    """
    arrays = arguments[0::2]
    present = [a for a in arrays if a is not None]
    rows = present[0].chunks[0]
    if any(np.isnan(r) for a in present for r in a.chunks[0]):
        return arguments
    width = sum(int(np.prod(a.shape[1:], dtype=np.int64)) for a in present)
    run = min(split_every, _JOINED_BYTES // max(max(rows) * width * 8, 1))
    if run < 2:
        return arguments
    joined_rows = tuple(sum(rows[i : i + run]) for i in range(0, len(rows), run))
    joined = list(arguments)
    for position in range(0, len(arguments), 2):
        if arguments[position] is not None:
            joined[position] = arguments[position].rechunk({0: joined_rows})
    return joined


class _ScoresFinite:
    """Robust-pass sums with the ``is_finite`` of the fault check."""

    def __init__(self, sums):
        self.sums = sums

    def is_finite(self):
        return bool(np.isfinite(self.sums.ssr).all())


def _block_scores(model, x_parts, y_parts, sample_weight, *groups):
    # Two label arrays: two-way clustering.
    groups = groups[0] if len(groups) == 1 else tuple(groups)
    return _ScoresFinite(block_scores(x_parts, y_parts, sample_weight, groups, model))


def _merge_scores(a, b):
    return _ScoresFinite(merge_scores(a.sums, b.sums))


def reduce_scores(
    x,
    y,
    sample_weight,
    groups,
    model,
    *,
    factors=(),
    message_names=(),
    split_every=None,
    scheduler=None,
    missing="raise",
):
    """The robust pass: :class:`~dask_linreg._numerics.sandwich.ScoreSums` over all rows.

    Parameters
    ----------
    x, y, sample_weight
        As in :func:`reduce_statistic` (``x``: the numeric columns).
    groups : dask.array.Array of shape (n_samples,), a tuple of two, or None
        Cluster labels, with the row blocks of ``x`` (two: two-way
        clustering).
    model : ScoreModel or LevelScoreModel
        The fitted model (a few small arrays, embedded in the graph); a
        :class:`~dask_linreg._numerics.sandwich.LevelScoreModel` for a model
        with categorical columns.
    factors : sequence of dask.array.Array, default=()
        Each categorical column's labels, with x's row blocks.
    message_names : sequence of str, default=()
        How messages name the factors.
    split_every, scheduler, missing
        As in :func:`reduce_statistic`.

    Returns
    -------
    sums : ScoreSums
    faults : InputFaults
    """
    block = _block_level_scores if factors else _block_scores
    two_way = isinstance(groups, tuple)
    sums, faults = _checked_reduce(
        partial(block, model),
        _merge_scores,
        x,
        y,
        sample_weight,
        (*groups, *factors) if two_way else (groups, *factors),
        names=(*TWO_WAY_NAMES, *message_names)
        if two_way
        else ("groups", *message_names),
        drop_names=message_names,
        missing=missing,
        split_every=split_every,
        scheduler=scheduler,
    )
    return sums.sums, faults


def _block_level_scores(model, x_parts, y_parts, sample_weight, groups, *factors):
    return _ScoresFinite(
        block_level_scores(x_parts, y_parts, sample_weight, groups, factors, model)
    )


def _first_labels(block, columns, sample_weight, labels, **options):
    return block(columns, sample_weight, labels[0], **options)


def one_label_kernel(block, **options):
    """A :func:`reduce_row_pass` kernel of a block function that takes one
    array of labels (``block(columns, sample_weight, labels, **options)``)."""
    return partial(_first_labels, block, **options)


def _block_row_pass(kernel, x_parts, y_parts, sample_weight, *labels, **broadcast):
    return kernel([*x_parts, *y_parts], sample_weight, list(labels), **broadcast)


def reduce_row_pass(
    kernel,
    x,
    y,
    sample_weight,
    labels,
    *,
    message_names,
    split_every=None,
    split_out=1,
    scheduler=None,
    missing="raise",
    broadcast=None,
):
    """``kernel(columns, sample_weight, labels)`` of each row block, merged:
    the pass of an absorbed model's keyed statistics, or one more pass over
    the rows of a first one (the same rows dropped).

    Parameters
    ----------
    kernel : callable
        Returns a statistic with ``merge`` and ``is_finite`` (and
        ``partition`` for ``split_out > 1``).
    x, y, sample_weight
        As in :func:`reduce_statistic`.
    labels : tuple of dask.array.Array of shape (n_samples,)
        Labels of each row (absorbed factors, clusters), with x's row
        blocks; a missing label drops its row too (``missing="drop"``).
    message_names : tuple of str
        How messages name the labels.
    split_every, scheduler, missing
        As in :func:`reduce_statistic`.
    split_out : int, default=1
        Merge the keyed statistics in this many trees of hashed levels
        (:func:`_summarized`).
    broadcast : dict, default=None
        Keyword arguments of ``kernel`` (large values: each one task of the
        graph, sent to each worker once).

    Returns
    -------
    result
    faults : InputFaults
    """
    return _reduce_labelled(
        partial(_block_row_pass, kernel),
        x,
        y,
        sample_weight,
        labels,
        message_names,
        missing=missing,
        split_every=split_every,
        scheduler=scheduler,
        split_out=split_out,
        broadcast=broadcast,
    )


def _reduce_labelled(
    block_function,
    x,
    y,
    sample_weight,
    labels,
    message_names,
    *,
    missing,
    split_every,
    scheduler,
    split_out=1,
    broadcast=None,
):
    """:func:`_checked_reduce` of a statistic that merges itself, with
    several label companions (``labels``, called ``message_names``), each of
    which drops its row when missing (``missing="drop"``)."""
    return _checked_reduce(
        block_function,
        _merge,
        x,
        y,
        sample_weight,
        tuple(labels),
        names=tuple(message_names),
        drop_names=tuple(message_names),
        missing=missing,
        split_every=split_every,
        scheduler=scheduler,
        split_out=split_out,
        broadcast=broadcast,
    )


def _block_absorbed_scores(model, x_parts, y_parts, sample_weight, *labels):
    return block_absorbed_scores(x_parts, y_parts, sample_weight, labels, model)


def reduce_absorbed_scores(
    x,
    y,
    sample_weight,
    labels,
    model,
    *,
    message_names,
    split_every=None,
    scheduler=None,
    missing="raise",
):
    """:func:`reduce_scores` of a within model (``labels`` a tuple: each
    absorbed factor's levels, then the clusters where they are none of
    them, with x's row blocks; ``message_names`` their names;
    ``model`` an :class:`~dask_linreg._numerics.absorbed.AbsorbedScoreModel`).

    Returns
    -------
    result : AbsorbedScores
    faults : InputFaults
    """
    return _reduce_labelled(
        partial(_block_absorbed_scores, model),
        x,
        y,
        sample_weight,
        labels,
        message_names,
        missing=missing,
        split_every=split_every,
        scheduler=scheduler,
    )


class _FoldsFinite:
    """The ``is_finite`` of all folds of a block, for the fault check."""

    def __init__(self, folds):
        self.folds = folds

    def is_finite(self):
        return all(moments.is_finite() for moments in self.folds.values())


def _block_folds(n_folds, x_parts, y_parts, sample_weight, labels):
    if labels is None:
        labels = assign_folds(x_parts, y_parts, n_folds)
    return _FoldsFinite(block_fold_factors(x_parts, y_parts, sample_weight, labels))


def _merge_folds(a, b):
    return _FoldsFinite(merge_folds(a.folds, b.folds))


def reduce_fold_factors(
    x,
    y,
    sample_weight,
    labels,
    *,
    n_folds=None,
    split_every=None,
    scheduler=None,
    missing="raise",
):
    """Triangular factors of ``[x | y]`` per cross-validation fold, in one pass.

    Parameters
    ----------
    x, y, sample_weight
        As in :func:`reduce_statistic`.
    labels : dask.array.Array of shape (n_samples,) or None
        The fold of each row; None assigns ``n_folds`` folds by a hash of
        each row (:func:`~dask_linreg._numerics.cv.assign_folds`).
    n_folds : int, default=None
    split_every, scheduler, missing
        As in :func:`reduce_statistic`.

    Returns
    -------
    folds : dict
        Fold label -> TriangularMoments.
    faults : InputFaults
    """
    folds, faults = _checked_reduce(
        partial(_block_folds, n_folds),
        _merge_folds,
        x,
        y,
        sample_weight,
        (labels,),
        names=("cv",),
        missing=missing,
        split_every=split_every,
        scheduler=scheduler,
    )
    return folds.folds, faults


def _block_fold_levels(
    n_folds, level_options, x_parts, y_parts, sample_weight, labels, *factors
):
    if labels is None:
        labels = assign_folds(x_parts, y_parts, n_folds)
    return _FoldsFinite(
        block_fold_level_moments(
            x_parts, y_parts, sample_weight, labels, factors, **level_options
        )
    )


def reduce_fold_level_statistic(
    x,
    y,
    sample_weight,
    labels,
    factors,
    *,
    n_folds=None,
    factor_names,
    message_names,
    terms=None,
    max_levels=None,
    split_every=None,
    scheduler=None,
    missing="raise",
):
    """:class:`~dask_linreg._numerics.levels.LevelMoments` per
    cross-validation fold, the levels found in the same pass.

    Parameters
    ----------
    x, y, sample_weight, labels, n_folds
        As in :func:`reduce_fold_factors`.
    factors, factor_names, message_names, terms, max_levels
        As in :func:`reduce_level_statistic`.
    split_every, scheduler, missing
        As in :func:`reduce_statistic`; a missing level drops its row too.

    Returns
    -------
    folds : dict
        Fold label -> LevelMoments (each fold's own levels).
    faults : InputFaults
    """
    level_options = {
        "factor_names": tuple(factor_names),
        "max_levels": max_levels,
        "terms": None if terms is None else tuple(terms),
    }
    folds, faults = _checked_reduce(
        partial(_block_fold_levels, n_folds, level_options),
        _merge_folds,
        x,
        y,
        sample_weight,
        (labels, *factors),
        names=("cv", *message_names),
        drop_names=message_names,
        missing=missing,
        split_every=split_every,
        scheduler=scheduler,
    )
    return folds.folds, faults


def _block_residuals(coef, intercept, x_parts, y_parts, sample_weight):
    return block_residual_moments(x_parts, y_parts, sample_weight, coef, intercept)


def reduce_residual_moments(
    x,
    y,
    sample_weight,
    coef,
    intercept,
    *,
    split_every=None,
    scheduler=None,
    missing="raise",
):
    """Moments of ``[y - x @ coef - intercept | y]``, in one pass: what
    ``score`` needs.  Faults name X, y and sample_weight themselves.

    Parameters
    ----------
    x, y, sample_weight
        As in :func:`reduce_statistic`.
    coef : ndarray of shape (n_features, n_targets)
    intercept : ndarray of shape (n_targets,)
    split_every, scheduler, missing
        As in :func:`reduce_statistic`.

    Returns
    -------
    moments : Moments
    faults : InputFaults
    """
    compute = partial(_block_residuals, coef, intercept)
    return _checked_reduce(
        compute,
        merge_moments,
        x,
        y,
        sample_weight,
        missing=missing,
        split_every=split_every,
        scheduler=scheduler,
    )


def lazy_predict(x, coef, intercept):
    """``x @ coef.T + intercept`` as a lazy Dask array.

    ``coef`` has shape (n_features,) or (n_targets, n_features).
    """
    return x @ np.asarray(coef).T + intercept
