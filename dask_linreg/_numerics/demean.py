"""Absorbed factors whose cross-counts do not fit: the normal equations of
all their levels solved over the rows, one pass per iteration (NumPy).

Where the cells of :mod:`dask_linreg._numerics.multiway` (one per
combination of levels that occurs) would not fit in memory, nothing but
the levels' own statistics is kept, and the rows are read again:

- each round of singleton removal (fixest's ``fixef_rm="singleton"``) is a
  pass counting each level's rows of positive weight among the rows kept
  (:func:`block_level_sums`, which also sums the levels' weights and
  shifted columns, the right-hand side ``D' W (Z - s)``);
- conjugate gradients preconditioned by the levels' weights solve
  ``D' W D a = D' W (Z - s)`` for every column of ``Z = [X | Y]`` at once,
  ``D`` the indicators of every level of every factor; each product
  ``D' W D v`` is one pass (:func:`block_normal_product`): a row's
  ``sum_j v_j[level_j]``, weighted and summed by level;
- a last pass sums ``r' W r`` of the demeaned rows ``r = z - s - sum_j
  a_j[level_j]`` (:func:`block_demeaned_products`): ``Z' W M Z`` with an
  error of the order of the solve's error squared, as fixest's
  alternating projections but from the rows themselves, not from the
  difference of two large sums.

The last pass also links the levels of the first two factors that share
a row (:class:`LevelForest`, a spanning forest of their levels: ``O(levels)``
memory, not the cells' ``O(pairs)``): the fixed effects take ``sum of levels
- components`` parameters, the components of those two factors' levels, and
one reference level less for each further factor (fixest's count: exact for
two factors, as the one-pass solves, an upper bound beyond).
"""

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from dask_linreg._numerics.moments import Moments
from dask_linreg._numerics.multiway import conjugate_gradients

__all__ = [
    "PASSES_MAX_ITER",
    "LevelForest",
    "LevelSums",
    "ProductsAndForest",
    "SummedArray",
    "block_demeaned_products",
    "block_level_sums",
    "block_normal_product",
    "level_codes",
    "solve_by_passes",
]

#: The most conjugate-gradient iterations (passes over the data) by default.
PASSES_MAX_ITER = 500


def level_codes(labels, keys, excluded):
    """Each row's level in each factor and whether it is kept.

    Parameters
    ----------
    labels : sequence of ndarray of shape (n_rows,)
        Each factor's level of each row (then, possibly, other labels the
        pass drops missing rows by: ignored here).
    keys : sequence of ndarray
        Each factor's levels (sorted), as the first pass found them.
    excluded : sequence of ndarray of bool
        Each factor's levels left out (singletons): their rows are not kept.

    Returns
    -------
    codes : list of ndarray of int64
    kept : ndarray of bool of shape (n_rows,)
    """
    n_rows = len(labels[0]) if labels else 0
    kept = np.ones(n_rows, dtype=bool)
    codes = []
    for level, key, out in zip(labels[: len(keys)], keys, excluded, strict=True):
        code = np.searchsorted(key, level)
        inside = np.minimum(code, max(len(key) - 1, 0))
        if len(key) == 0 or not np.array_equal(key[inside], level):
            raise ValueError(
                "a level appeared that the first pass over the data did not "
                "see: the data changed between passes (persist it, or fit "
                "from files that do not change)."
            )
        codes.append(code)
        kept &= ~out[code]
    return codes, kept


def _stacked(columns):
    """``Z`` of column groups side by side, float64."""
    parts = [np.asarray(c, dtype=np.float64) for c in columns]
    return np.hstack([c if c.ndim == 2 else c.reshape(c.shape[0], 1) for c in parts])


def _weights(sample_weight, n_rows):
    if sample_weight is None:
        return np.ones(n_rows)
    return np.asarray(sample_weight, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class LevelSums:
    """Per-level sums over kept rows, each factor's levels stacked.

    Attributes
    ----------
    counts, positive : ndarray of int64 of shape (n_levels,)
        Rows, and rows of positive weight, of each level.
    weights : ndarray of shape (n_levels,)
        Each level's weight sum (the diagonal of ``D' W D``).
    sums : ndarray of shape (n_levels, q)
        ``D' W (Z - s)``.
    log_weight_sum : float
        ``sum log(w)`` over the kept rows of positive weight.
    """

    counts: np.ndarray
    positive: np.ndarray
    weights: np.ndarray
    sums: np.ndarray
    log_weight_sum: float

    def merge(self, other):
        return LevelSums(
            self.counts + other.counts,
            self.positive + other.positive,
            self.weights + other.weights,
            self.sums + other.sums,
            self.log_weight_sum + other.log_weight_sum,
        )

    def is_finite(self):
        return bool(np.isfinite(self.sums).all() and np.isfinite(self.weights).all())


def block_level_sums(columns, sample_weight, labels, *, keys, excluded, starts, shift):
    """:class:`LevelSums` of one block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        Column groups of ``Z``, side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    labels, keys, excluded
        As in :func:`level_codes`.
    starts : ndarray of int64
        Where each factor's levels start in the stack (and the total last).
    shift : ndarray of shape (q,)
        ``s``, a point of the data (for the sums' accuracy).
    """
    z = _stacked(columns) - shift
    n_rows = z.shape[0]
    w = _weights(sample_weight, n_rows)
    codes, kept = level_codes(labels, keys, excluded)
    n = int(starts[-1])
    counts = np.zeros(n, dtype=np.int64)
    positive = np.zeros(n, dtype=np.int64)
    weights = np.zeros(n)
    sums = np.zeros((n, z.shape[1]))
    w_kept = np.where(kept, w, 0.0)
    for start, code in zip(starts[:-1], codes, strict=True):
        index = code + start
        counts += np.bincount(index[kept], minlength=n)
        positive += np.bincount(index[kept & (w > 0)], minlength=n)
        weights += np.bincount(index, weights=w_kept, minlength=n)
        for column in range(z.shape[1]):
            sums[:, column] += np.bincount(
                index, weights=w_kept * z[:, column], minlength=n
            )
    used = kept & (w > 0)
    return LevelSums(counts, positive, weights, sums, float(np.log(w[used]).sum()))


@dataclass(frozen=True, eq=False)
class SummedArray:
    """An array summed over blocks of rows (``D' W D v``, or ``r' W r``)."""

    value: np.ndarray

    def merge(self, other):
        return SummedArray(self.value + other.value)

    def is_finite(self):
        return bool(np.isfinite(self.value).all())


def block_normal_product(
    columns, sample_weight, labels, *, keys, excluded, starts, vectors
):
    """``D' W D vectors`` over one block of rows (a :class:`SummedArray`):
    each kept row's
    ``sum_j vectors[level_j]``, weighted and summed by level.

    Parameters
    ----------
    columns : sequence of ndarray
        Not used (the rows' values do not enter ``D' W D``).
    sample_weight : ndarray of shape (n_rows,) or None
    labels, keys, excluded, starts
        As in :func:`block_level_sums`.
    vectors : ndarray of shape (n_levels, q)
    """
    codes, kept = level_codes(labels, keys, excluded)
    w = np.where(kept, _weights(sample_weight, len(kept)), 0.0)
    indices = [code + start for start, code in zip(starts[:-1], codes, strict=True)]
    row_sums = sum(vectors[index] for index in indices)
    weighted = row_sums * w[:, None]
    n = vectors.shape[0]
    product = np.zeros_like(vectors)
    for index in indices:
        for column in range(vectors.shape[1]):
            product[:, column] += np.bincount(
                index, weights=weighted[:, column], minlength=n
            )
    return SummedArray(product)


def block_demeaned_products(
    columns, sample_weight, labels, *, keys, excluded, starts, shift, effects
):
    """``r' W r`` over one block of rows, ``r = z - shift - sum_j
    effects[level_j]`` over the kept rows, and the :class:`LevelForest` of
    the first two factors' levels over its kept rows of positive weight
    (a :class:`ProductsAndForest`).

    Parameters
    ----------
    columns, sample_weight, labels, keys, excluded, starts, shift
        As in :func:`block_level_sums`.
    effects : ndarray of shape (n_levels, q)
        The solution ``a`` of the levels' normal equations.
    """
    codes, kept = level_codes(labels, keys, excluded)
    residual = _stacked(columns) - shift
    for start, code in zip(starts[:-1], codes, strict=True):
        residual -= effects[code + start]
    w = np.where(kept, _weights(sample_weight, len(kept)), 0.0)
    scaled = residual * np.sqrt(w)[:, None]
    linked = w > 0
    forest = LevelForest.of_edges(
        codes[0][linked] + starts[0], codes[1][linked] + starts[1], starts[2]
    )
    return ProductsAndForest(SummedArray(scaled.T @ scaled), forest)


@dataclass(frozen=True, eq=False)
class LevelForest:
    """The connected components of the levels of two factors, two levels
    linked where a row has both: each level's component, named by its
    smallest level (a spanning forest of stars, ``O(levels)``, whatever
    the number of pairs that occur).

    Attributes
    ----------
    root : ndarray of intp of shape (n_levels,)
        The two factors' levels stacked; a level no row has is its own.
    """

    root: np.ndarray

    @classmethod
    def of_edges(cls, first, second, n_levels):
        """The components of ``n_levels`` levels linked by the pairs
        ``(first[i], second[i])``."""
        graph = scipy.sparse.coo_matrix(
            (np.ones(len(first), dtype=np.int8), (first, second)),
            shape=(n_levels, n_levels),
        )
        _, component = connected_components(graph, directed=False)
        smallest = np.full(component.max(initial=-1) + 1, n_levels, dtype=np.intp)
        np.minimum.at(smallest, component, np.arange(n_levels))
        return cls(smallest[component])

    def merge(self, other):
        n = len(self.root)
        nodes = np.arange(n)
        return LevelForest.of_edges(
            np.concatenate([nodes, nodes]), np.concatenate([self.root, other.root]), n
        )

    def is_finite(self):
        return True

    def n_components(self, present):
        """Components among the levels ``present`` (a boolean mask)."""
        return len(np.unique(self.root[present]))


@dataclass(frozen=True, eq=False)
class ProductsAndForest:
    """The last pass's ``r' W r`` and the first two factors' components."""

    products: SummedArray
    forest: LevelForest

    def merge(self, other):
        return ProductsAndForest(
            self.products.merge(other.products), self.forest.merge(other.forest)
        )

    def is_finite(self):
        return self.products.is_finite()


@dataclass(frozen=True, eq=False)
class _RowSystem:
    """``D' W D`` of every level, applied by a pass over the rows."""

    diagonal_weights: np.ndarray
    product: object

    def diagonal(self):
        return self.diagonal_weights

    def matvec(self, vectors):
        return self.product(vectors)


def solve_by_passes(statistic, run_pass, fixef_rm="singleton", *, tol, max_iter):
    """The absorbed part of a model from its first pass's per-level
    statistics and further passes over the rows (see the module's notes).

    Parameters
    ----------
    statistic : MultiwayMoments
        The first pass's statistics (their cells are not needed).
    run_pass : callable
        ``run_pass(kernel, **broadcast)`` maps ``kernel(columns,
        sample_weight, labels, **broadcast)`` over the row blocks (the first
        pass's rows) and merges the results; ``broadcast`` holds the large
        arguments (the levels, the vectors), which every block reads.
    fixef_rm : {"singleton", "none"}
    tol : float
        The relative residual of the levels' normal equations to reach.
    max_iter : int or None
        The most iterations (None: :data:`PASSES_MAX_ITER`).

    Returns
    -------
    solved : dict
        The :class:`~dask_linreg._numerics.multiway.AbsorbedFactors` fields.
    n_passes : int
        Passes over the rows, the first not counted.
    """
    factors = statistic.factors
    keys = tuple(f.keys for f in factors)
    starts = np.concatenate([[0], np.cumsum([len(k) for k in keys])]).astype(np.int64)
    shift = factors[0].shift

    def by_factor(stacked):
        """Each factor's rows of an array over the stacked levels."""
        return [stacked[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]

    if fixef_rm == "singleton":
        excluded = [f.positive == 1 for f in factors]
    else:
        excluded = [np.zeros(len(k), dtype=bool) for k in keys]
    n_passes = 0
    while True:
        sums = run_pass(
            partial(block_level_sums, starts=starts, shift=shift),
            keys=keys,
            excluded=tuple(excluded),
        )
        n_passes += 1
        if fixef_rm != "singleton":
            break
        # A removal can leave new singletons: round by round, as fixest.
        new = [
            (positive == 1) & ~out
            for positive, out in zip(by_factor(sums.positive), excluded, strict=True)
        ]
        if not any(n.any() for n in new):
            break
        excluded = [out | n for out, n in zip(excluded, new, strict=True)]

    def product(vectors):
        nonlocal n_passes
        n_passes += 1
        result = run_pass(
            partial(block_normal_product, starts=starts),
            keys=keys,
            excluded=tuple(excluded),
            vectors=vectors,
        )
        return result.value

    system = _RowSystem(sums.weights, product)
    solution, report = conjugate_gradients(
        system,
        sums.sums,
        None,
        tol,
        PASSES_MAX_ITER if max_iter is None else max_iter,
    )
    report = replace(report, solver="passes")
    largest = int(np.argmax([len(k) for k in keys]))
    pieces = [piece.copy() for piece in by_factor(solution)]
    weights = by_factor(sums.weights)
    counts = by_factor(sums.counts)
    # One reference level per factor beyond the largest (effect 0), its
    # effect moved to the largest factor's: the fitted rows do not change.
    for j, piece in enumerate(pieces):
        if j != largest and (weights[j] > 0).any():
            reference = piece[np.flatnonzero(weights[j] > 0)[0]].copy()
            piece -= reference
            pieces[largest] += reference
    effects = np.vstack(pieces)
    products = run_pass(
        partial(block_demeaned_products, starts=starts, shift=shift),
        keys=keys,
        excluded=tuple(excluded),
        effects=effects,
    )
    n_passes += 1
    comoment = (products.products.value + products.products.value.T) / 2
    q = comoment.shape[0]
    moments = Moments(
        int(counts[0].sum()),
        float(weights[0].sum()),
        np.zeros(q),
        np.zeros(q),
        comoment,
        positive_count=int(by_factor(sums.positive)[0].sum()),
        log_weight_sum=sums.log_weight_sum,
    )
    kept = [c > 0 for c in counts]
    tables = []
    for j, (piece, weight, keep) in enumerate(zip(pieces, weights, kept, strict=True)):
        table = piece + shift if j == largest else piece
        table[weight <= 0] = np.nan
        tables.append(table[keep])
    present = [w > 0 for w in weights]
    n_effects = (
        sum(int(np.count_nonzero(p)) for p in present)
        - products.forest.n_components(np.concatenate(present[:2]))
        - (len(keys) - 2)
    )
    solved = {
        "moments": moments,
        "factor_names": tuple(f.factor_name for f in factors),
        "keys": tuple(k[keep] for k, keep in zip(keys, kept, strict=True)),
        "effects": tuple(tables),
        "n_effects": n_effects,
        "n_singletons": int(statistic.count - moments.count),
        "weights": tuple(w[keep] for w, keep in zip(weights, kept, strict=True)),
        "solve": report,
    }
    return solved, n_passes
