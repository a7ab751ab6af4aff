"""Absorbed fixed effects of two or more factors from one pass (NumPy/SciPy).

The model ``y = X b + alpha_A + gamma_B + ... + e`` has one effect per
level of each absorbed factor.  A block of rows yields
:class:`MultiwayMoments`: each factor's
:class:`~dask_linreg._numerics.absorbed.GroupMoments` (its levels' weighted
means of ``Z = [X | Y]`` and its pooled within co-moments) and the
:class:`LevelCells`, the weighted count of each combination of levels that
occurs.  They merge by key.  On the client (:func:`absorb_factors`):

- singletons are removed iteratively, as fixest does, exactly: a singleton
  level's row is its mean, so the other factors' statistics are downdated
  by it (Chan's update in reverse), and the cells say where it was;
- the factor with the most levels, ``A``, is absorbed by its within
  co-moments ``C_A = Z' W M_A Z``; the others, ``B`` (``H`` levels in all),
  by the Schur complement over their indicators ``D_B``::

      S = D_B' W M_A D_B = D_B' W D_B - N_BA diag(1 / W_A) N_AB    (H x H)
      R = D_B' W M_A Z   = W_B (m_B - s) - N_BA (m_A - s)          (H x q)
      Z' W M_(A,B) Z     = C_A - R' S^- R

  with ``N_AB`` the weighted cross-counts from the cells and ``s`` a point
  of the data.  ``S`` is singular by one dimension per connected component
  of the factors' levels; with two factors one reference level per
  component (its effect set to 0, as fixest does) makes it positive
  definite and the solve a Cholesky factorization.  With three or more the
  rank is found by a pivoted Cholesky factorization.

The all-factors within co-moments are those of the rows demeaned by every
factor at once (what fixest's iterative demeaning converges to), so the
slopes, their covariance and the within R² follow as for one factor.
"""

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from dask_linreg._numerics.absorbed import GroupMoments, block_group_moments
from dask_linreg._numerics.keyed import (
    LevelBudget,
    group_keys,
    key_partitions,
    keyed_nbytes,
)
from dask_linreg._numerics.moments import Moments

__all__ = [
    "DIRECT_LEVELS",
    "AbsorbedFactors",
    "FixefSolve",
    "LevelCells",
    "MultiwayMoments",
    "absorb_factors",
    "block_level_cells",
    "block_multiway_moments",
    "conjugate_gradients",
    "indicator_rank",
    "level_cells",
]


@dataclass(frozen=True, eq=False)
class LevelCells:
    """The combinations of levels of several factors that occur, weighted.

    Attributes
    ----------
    keys : tuple of ndarray of shape (n_cells,)
        Each factor's level of each cell (one cell per distinct
        combination).
    counts, positive : ndarray of int64 of shape (n_cells,)
        Rows, and rows of positive weight, of each cell.
    weights : ndarray of shape (n_cells,)
        Each cell's weight sum.
    budget : LevelBudget
        The memory the cells may take, checked in every block and merge.
    """

    keys: tuple
    counts: np.ndarray
    positive: np.ndarray
    weights: np.ndarray
    budget: LevelBudget

    @property
    def n_cells(self):
        return len(self.counts)

    def __sizeof__(self):
        # What Dask weighs the statistic by (transfers, memory limits): its
        # arrays, not the few bytes of the object.
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def merge(self, other):
        """The cells of the union of two disjoint row sets."""
        return LevelCells.merge_all([self, other])

    def partition(self, n_parts):
        """The cells split by a hash of their first level into ``n_parts``
        (for a shuffled merge, ``split_out``)."""
        part = key_partitions(self.keys[0], n_parts)
        return [
            replace(
                self,
                keys=tuple(k[part == s] for k in self.keys),
                counts=self.counts[part == s],
                positive=self.positive[part == s],
                weights=self.weights[part == s],
            )
            for s in range(n_parts)
        ]

    @staticmethod
    def merge_all(cells):
        """The cells of the union of disjoint row sets, in one step."""
        cells = [c for c in cells if c.n_cells] or cells[:1]
        if len(cells) == 1:
            return cells[0]
        keys = [np.concatenate(k) for k in zip(*(c.keys for c in cells), strict=True)]
        return _summed_cells(
            keys,
            np.concatenate([c.counts for c in cells]),
            np.concatenate([c.positive for c in cells]),
            np.concatenate([c.weights for c in cells]),
            cells[0].budget,
        )


def _cell_budget(factor_names, max_bytes):
    names = " x ".join(map(repr, factor_names))
    return LevelBudget(
        names, max_bytes, "cross-counts of the absorbed columns", _bytes_per_cell
    )


def _bytes_per_cell(n_factors):
    return (n_factors + 3) * 8


def _summed_cells(keys, counts, positive, weights, budget):
    """Cells of rows (or of cells) with these levels: the distinct
    combinations, their counts and weights summed."""
    inverse, unique = group_keys(keys)
    n_cells = len(unique[0])
    budget.check(n_cells, len(keys))
    return LevelCells(
        unique,
        np.bincount(inverse, weights=counts, minlength=n_cells).astype(np.int64),
        np.bincount(inverse, weights=positive, minlength=n_cells).astype(np.int64),
        np.bincount(inverse, weights=weights, minlength=n_cells),
        budget,
    )


def level_cells(keys, counts, positive, weights, *, factor_names, max_bytes=None):
    """:class:`LevelCells` of cells given by their levels (finer cells, say:
    those of :class:`~dask_linreg._numerics.cluster_cells.ClusterCells`),
    the counts and weights of equal combinations summed."""
    return _summed_cells(
        [np.asarray(k) for k in keys],
        counts,
        positive,
        weights,
        _cell_budget(factor_names, max_bytes),
    )


def block_level_cells(labels, sample_weight, *, factor_names, max_bytes=None):
    """:class:`LevelCells` of one block of rows.

    Parameters
    ----------
    labels : sequence of ndarray of shape (n_rows,)
        Each factor's level of each row, none missing.
    sample_weight : ndarray of shape (n_rows,) or None
    factor_names : sequence of str
    max_bytes : int, default=None
    """
    n_rows = len(labels[0])
    weights = (
        np.ones(n_rows)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    return _summed_cells(
        [np.asarray(k) for k in labels],
        np.ones(n_rows, dtype=np.int64),
        (weights > 0).astype(np.int64),
        weights,
        _cell_budget(factor_names, max_bytes),
    )


@dataclass(frozen=True, eq=False)
class MultiwayMoments:
    """One pass's statistics for several absorbed factors.

    Attributes
    ----------
    factors : tuple of GroupMoments
        Each factor's per-level means and pooled within co-moments.
    cells : LevelCells or None
        The combinations of their levels that occur; None where they were
        not collected or did not fit.
    cells_policy : {"keep", "if_fit", "none"}
        ``"keep"``: cells that do not fit raise :class:`MemoryError`;
        ``"if_fit"``: they are dropped (None) instead; ``"none"``: none
        are collected.
    """

    factors: tuple
    cells: LevelCells | None
    cells_policy: str = "keep"

    @property
    def count(self):
        return self.factors[0].count

    @property
    def weight_sum(self):
        return self.factors[0].weight_sum

    def __sizeof__(self):
        # What Dask weighs the statistic by (transfers, memory limits): its
        # arrays, not the few bytes of the object.
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def merge(self, other):
        """The statistics of the union of two disjoint row sets."""
        return MultiwayMoments.merge_all([self, other])

    @staticmethod
    def merge_all(statistics):
        """The statistics of the union of disjoint row sets, the cells
        merged in one step."""
        factors = tuple(
            GroupMoments.merge_all(parts)
            for parts in zip(*(s.factors for s in statistics), strict=True)
        )
        policy = statistics[0].cells_policy
        parts = [s.cells for s in statistics]
        cells = None
        if all(c is not None for c in parts):
            cells = _cells_if_fit(LevelCells.merge_all, parts, policy)
        return MultiwayMoments(factors, cells, policy)

    def is_finite(self):
        """Whether everything that went in was finite."""
        return all(f.is_finite() for f in self.factors)

    def with_columns(self, index):
        """These statistics over the columns ``index`` of ``Z`` (``-1``: a
        column of zeros); the cells have no columns."""
        return replace(self, factors=tuple(f.with_columns(index) for f in self.factors))

    def partition(self, n_parts):
        """Each factor's statistics split by a hash of its levels, and the
        cells by their first level's, into ``n_parts`` (``split_out``)."""
        factors = [f.partition(n_parts) for f in self.factors]
        cells = (
            [None] * n_parts if self.cells is None else self.cells.partition(n_parts)
        )
        return [
            MultiwayMoments(tuple(f[s] for f in factors), cells[s], self.cells_policy)
            for s in range(n_parts)
        ]


def _cells_if_fit(make, argument, policy):
    """``make(argument)``, or None where the cells do not fit and
    ``policy`` is ``"if_fit"`` (the keyed budget raised)."""
    try:
        return make(argument)
    except MemoryError:
        if policy == "if_fit":
            return None
        raise


def block_multiway_moments(
    columns, sample_weight, labels, *, factor_names, max_bytes=None, cells="keep"
):
    """:class:`MultiwayMoments` of one block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        Column groups (2-D) of ``Z = [X | Y]``, side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    labels : sequence of ndarray of shape (n_rows,)
        Each absorbed factor's level of each row, none missing.
    factor_names : sequence of str
    max_bytes : int, default=None
        The most bytes each factor's statistics, and the cells, may take.
    cells : {"keep", "if_fit", "none"}, default="keep"
        The :attr:`MultiwayMoments.cells_policy`.
    """
    return MultiwayMoments(
        tuple(
            block_group_moments(
                columns,
                sample_weight,
                level,
                factor_name=name,
                max_bytes=max_bytes,
            )
            for level, name in zip(labels, factor_names, strict=True)
        ),
        None
        if cells == "none"
        else _cells_if_fit(
            partial(
                block_level_cells,
                sample_weight=sample_weight,
                factor_names=factor_names,
                max_bytes=max_bytes,
            ),
            labels,
            cells,
        ),
        cells,
    )


@dataclass(frozen=True, eq=False)
class AbsorbedFactors:
    """The absorbed part of a model, solved from its one-pass statistics.

    Attributes
    ----------
    moments : Moments
        ``Z' W M Z`` with ``M`` the projection off every factor's
        indicators (zero means), over the rows kept: the slopes' normal
        equations and their inference start from it.
    factor_names : tuple of str
    keys : tuple of ndarray
        Each factor's levels kept (sorted).
    effects : tuple of ndarray of shape (n_levels, q)
        Each factor's fixed effects of every column of ``Z``: a row's
        ``z - sum_j effects_j[level_j]`` is its demeaned value.  The
        effects of ``y - X b`` are those of ``y`` minus those of ``X`` times
        ``b``.
    n_effects : int
        The rank of the factors' indicators: the parameters they take from
        the degrees of freedom (all levels, less one per connected
        component per factor beyond the first).
    n_singletons : int
        Rows left out as singletons.
    weights : tuple of ndarray
        Each factor's level weights.
    cells : LevelCells or None
        The kept cells (several factors), for nesting checks.
    solve : FixefSolve
        How the absorbed normal equations were solved.
    max_bytes : int or None
        The most bytes a dense system may take (for :meth:`rank_of`).
    """

    moments: Moments
    factor_names: tuple
    keys: tuple
    effects: tuple
    n_effects: int
    n_singletons: int
    weights: tuple
    cells: LevelCells | None = None
    solve: "FixefSolve" = None
    max_bytes: int | None = None

    @property
    def n_levels(self):
        return tuple(len(k) for k in self.keys)

    def nested_in(self, j):
        """Indices of the factors each of whose levels lies within one
        level of factor ``j`` (``j`` itself included)."""
        if self.cells is None:
            return (j,)
        nested = []
        for factor, keys in enumerate(self.cells.keys):
            pairs = pd.DataFrame({"f": keys, "j": self.cells.keys[j]})
            if not pairs.groupby("f", sort=False)["j"].nunique().gt(1).any():
                nested.append(factor)
        return tuple(nested)

    def rank_of(self, factors):
        """The rank of the indicators of some of the factors (indices)."""
        if len(factors) == len(self.keys):
            return self.n_effects
        if self.cells is None:
            # The components unknown: one reference per factor beyond one.
            positive = sum(int(np.count_nonzero(self.weights[j] > 0)) for j in factors)
            return positive - (len(factors) - 1)
        codes = (
            None
            if self.cells is None
            else [np.searchsorted(self.keys[j], self.cells.keys[j]) for j in factors]
        )
        return indicator_rank(
            [self.weights[j] for j in factors],
            codes,
            None if self.cells is None else self.cells.weights,
            self.max_bytes,
        )


def absorb_factors(
    statistic, fixef_rm="singleton", *, solver="auto", tol=1e-10, max_iter=None
):
    """:class:`AbsorbedFactors` of one factor's :class:`GroupMoments` or
    several factors' :class:`MultiwayMoments`.

    Parameters
    ----------
    statistic : GroupMoments or MultiwayMoments
    fixef_rm : {"singleton", "none"}, default="singleton"
        ``"singleton"``: leave out, iteratively, the rows of levels with a
        single row of positive weight (fixest's default), which fit
        exactly and tell nothing about the slopes.
    solver : {"auto", "direct", "cg"}, default="auto"
        Several factors: how the Schur complement over the levels of all
        but the largest factor is solved.  ``"direct"`` factors it dense
        (exact; ``16 H**2`` bytes for ``H`` levels, checked against the
        statistics' ``max_bytes``), ``"cg"`` by conjugate gradients on the
        sparse cells (``tol``, ``max_iter``), ``"auto"`` the first up to
        :data:`DIRECT_LEVELS` levels when it fits, else the second.
    tol : float, default=1e-10
        ``"cg"``: the relative residual of the normal equations to reach.
    max_iter : int, default=None
        ``"cg"``: the most iterations (None: ``10 H``, at least 100).  Not
        converging is reported in ``solve``, not raised.

    Returns
    -------
    AbsorbedFactors
    """
    if isinstance(statistic, GroupMoments):
        kept = statistic.without_singletons() if fixef_rm == "singleton" else statistic
        return AbsorbedFactors(
            kept.within_moments(),
            (kept.factor_name,),
            (kept.keys,),
            (kept.means(),),
            int(np.count_nonzero(kept.weights > 0)),
            int(statistic.count - kept.count),
            (kept.weights,),
            solve=FixefSolve("direct"),
            max_bytes=kept.max_bytes,
        )
    factors, cells = list(statistic.factors), statistic.cells
    removed = 0
    if fixef_rm == "singleton":
        factors, cells, removed = _without_singletons(factors, cells)
    factors, cells = _without_empty_levels(factors, cells)
    largest = int(np.argmax([f.n_levels for f in factors]))
    within, effects, n_effects, solve = _schur_absorbed(
        factors, cells, largest, solver, tol, max_iter
    )
    first = factors[largest]
    moments = replace(
        first.within_moments(),
        comoment=within,
    )
    return AbsorbedFactors(
        moments,
        tuple(f.factor_name for f in factors),
        tuple(f.keys for f in factors),
        tuple(effects),
        n_effects,
        removed,
        tuple(f.weights for f in factors),
        cells,
        solve,
        first.max_bytes,
    )


def _cell_codes(factors, cells):
    """Each cell's level in each factor (an index into its keys)."""
    return [
        np.searchsorted(f.keys, k) for f, k in zip(factors, cells.keys, strict=True)
    ]


def _without_singletons(factors, cells):
    """Factors and cells without the rows of singleton levels, removed
    round by round until none is left (a removal can make new ones).

    A singleton level's one row of positive weight is the level's mean:
    every other factor's statistics are downdated by it exactly (its
    level's weight, mean and the pooled within co-moments, Chan's update
    reversed), and its cell says which levels it was in."""
    codes = _cell_codes(factors, cells)
    alive = np.ones(cells.n_cells, dtype=bool)
    state = [
        {
            "counts": f.counts.copy(),
            "positive": f.positive.copy(),
            "weights": f.weights.astype(np.float64),
            "offsets": f.offsets.copy(),
            "within": f.within.copy(),
            "log": f.log_weight_sum,
        }
        for f in factors
    ]
    removed_rows = 0
    while True:
        single = np.zeros(cells.n_cells, dtype=bool)
        value = np.zeros((cells.n_cells, factors[0].offsets.shape[1]))
        source = np.full(cells.n_cells, -1)
        for j, s in enumerate(state):
            hit = alive & (s["positive"][codes[j]] == 1) & (source < 0)
            # The row's value, about factor 0's shift.
            value[hit] = s["offsets"][codes[j][hit]] + (
                factors[j].shift - factors[0].shift
            )
            source[hit] = j
            single |= hit
        if not single.any():
            break
        rows = single & (cells.positive > 0)
        for j, s in enumerate(state):
            _downdate(
                s, factors[j].shift - factors[0].shift, codes[j], rows, value, cells
            )
            counts = np.bincount(
                codes[j][single],
                weights=cells.counts[single],
                minlength=len(s["counts"]),
            )
            s["counts"] -= counts.astype(np.int64)
            positive = np.bincount(
                codes[j][single],
                weights=cells.positive[single],
                minlength=len(s["counts"]),
            )
            s["positive"] -= positive.astype(np.int64)
            s["log"] -= float(np.log(cells.weights[rows]).sum())
        alive &= ~single
        removed_rows += int(cells.counts[single].sum())
    factors = [
        replace(
            f,
            counts=s["counts"],
            positive=s["positive"],
            weights=s["weights"],
            offsets=s["offsets"],
            within=s["within"],
            log_weight_sum=s["log"],
        )
        for f, s in zip(factors, state, strict=True)
    ]
    kept = replace(
        cells,
        keys=tuple(k[alive] for k in cells.keys),
        counts=cells.counts[alive],
        positive=cells.positive[alive],
        weights=cells.weights[alive],
    )
    return factors, kept, removed_rows


def _downdate(state, shift_gap, codes, rows, value, cells):
    """Take the single rows ``rows`` (cells of one row of positive weight,
    ``value`` about factor 0's shift) out of one factor's levels."""
    if not rows.any():
        return
    level = codes[rows]
    w = cells.weights[rows]
    z = value[rows] - shift_gap  # about this factor's shift
    n_levels = len(state["weights"])
    removed_w = np.bincount(level, weights=w, minlength=n_levels)
    sums = np.zeros((n_levels, z.shape[1]))
    np.add.at(sums, level, z * w[:, None])
    touched = removed_w > 0
    removed_mean = np.zeros_like(sums)
    removed_mean[touched] = sums[touched] / removed_w[touched, None]
    # The removed rows' own within co-moments about their mean per level.
    spread = (z - removed_mean[level]) * np.sqrt(w)[:, None]
    within_removed = spread.T @ spread
    total = state["weights"]
    rest = total - removed_w
    mean = state["offsets"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rest_mean = np.where(
            (rest > 0)[:, None],
            (total[:, None] * mean - removed_w[:, None] * removed_mean) / rest[:, None],
            0.0,
        )
        coupling = np.where(total > 0, removed_w * rest / total, 0.0)
    gap = (removed_mean - rest_mean)[touched] * np.sqrt(coupling[touched])[:, None]
    state["within"] -= within_removed + gap.T @ gap
    state["offsets"] = np.where(touched[:, None], rest_mean, mean)
    state["weights"] = np.where(touched, rest, total)


def _without_empty_levels(factors, cells):
    """Each factor without its levels of no rows left."""
    return [f.subset(f.counts > 0) for f in factors], cells


@dataclass(frozen=True, eq=False)
class _IndicatorSystem:
    """The Schur complement ``S`` over the indicators of all factors but
    the largest, ``A`` (see the module's notes), kept sparse: ``S @ x`` is
    ``among @ x - cross' diag(1 / W_A) cross @ x``."""

    largest: int
    others: list
    starts: np.ndarray
    cross: scipy.sparse.csr_matrix
    among: scipy.sparse.csr_matrix
    inverse_a: np.ndarray
    b_weights: np.ndarray

    @property
    def n_levels(self):
        return int(self.starts[-1])

    def dense(self):
        """``S`` as a dense array."""
        return (
            self.among.toarray()
            - (self.cross.T @ scipy.sparse.diags(self.inverse_a) @ self.cross).toarray()
        )

    def diagonal(self):
        """The diagonal of ``S``, 0 where it is rounding: a level of ``B``
        whose rows all lie in levels of ``A`` that lie in it has
        ``W_b - sum_a N_ab**2 / W_a = 0`` exactly, but cancellation leaves
        about ``eps W_b`` (and scaling by it would turn its row's rounding
        into entries of order one)."""
        squared = self.cross.multiply(self.cross)
        diagonal = self.among.diagonal() - squared.T @ self.inverse_a
        return np.where(diagonal > _ROUNDING * self.b_weights, diagonal, 0.0)

    def matvec(self, x):
        """``S @ x`` without forming ``S`` (its fill can be far denser than
        the cells)."""
        return self.among @ x - self.cross.T @ (
            self.inverse_a[:, None] * (self.cross @ x)
        )

    def free(self):
        """Two factors: the levels of ``B`` whose effects are free, all but
        one reference level per connected component; None for more."""
        if len(self.others) != 1:
            return None
        return _free_levels(self.cross, self.b_weights)

    def rank(self, dense=True):
        """The rank of all the factors' indicators: exact with two factors;
        with more, exact from the dense ``S`` (``dense``), otherwise the
        bound of one null direction per connected component of each other
        factor with ``A``."""
        rank_a = int(np.count_nonzero(self.inverse_a > 0))
        free = self.free()
        if free is not None:
            return rank_a + int(free.sum())
        if dense:
            return (
                rank_a
                + _solve_semidefinite(self.dense(), None, None, self.diagonal())[1]
            )
        rank_b = 0
        for i in range(len(self.others)):
            columns = slice(self.starts[i], self.starts[i + 1])
            rank_b += int(
                _free_levels(self.cross[:, columns], self.b_weights[columns]).sum()
            )
        return rank_a + rank_b


def _indicator_system(level_weights, codes, cell_weights, largest):
    """:class:`_IndicatorSystem` of factors of these level weights, given
    each cell's level in each factor and its weight."""
    others = [j for j in range(len(level_weights)) if j != largest]
    sizes = [len(level_weights[j]) for j in others]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n_b = int(starts[-1])
    g = len(level_weights[largest])
    b_codes = np.concatenate([codes[j] + starts[i] for i, j in enumerate(others)])
    a_codes = np.tile(codes[largest], len(others))
    cross = scipy.sparse.csr_matrix(
        (np.tile(cell_weights, len(others)), (a_codes, b_codes)), shape=(g, n_b)
    )
    # D_B' W D_B: each factor's weights on the diagonal, the cross-counts
    # of two of them off it.
    rows, columns = [], []
    for i, j in enumerate(others):
        for m, k in enumerate(others):
            rows.append(codes[j] + starts[i])
            columns.append(codes[k] + starts[m])
    among = scipy.sparse.csr_matrix(
        (
            np.tile(cell_weights, len(others) ** 2),
            (np.concatenate(rows), np.concatenate(columns)),
        ),
        shape=(n_b, n_b),
    )
    a_weights = level_weights[largest]
    with np.errstate(divide="ignore"):
        inverse_a = np.where(a_weights > 0, 1.0 / a_weights, 0.0)
    b_weights = np.concatenate([level_weights[j] for j in others])
    return _IndicatorSystem(largest, others, starts, cross, among, inverse_a, b_weights)


def indicator_rank(level_weights, codes, cell_weights, max_bytes=None):
    """The rank of the indicators of factors with these level weights
    (levels of zero weight do not count), their cells' levels ``codes``
    and weights; with three or more factors whose dense system would take
    more than ``max_bytes``, the bound of :meth:`_IndicatorSystem.rank`."""
    if len(level_weights) == 1:
        return int(np.count_nonzero(level_weights[0] > 0))
    largest = int(np.argmax([len(w) for w in level_weights]))
    system = _indicator_system(level_weights, codes, cell_weights, largest)
    return system.rank(dense=_dense_fits(system.n_levels, max_bytes))


@dataclass(frozen=True)
class FixefSolve:
    """How the absorbed normal equations were solved.

    Attributes
    ----------
    solver : {"direct", "cg", "passes"}
        ``"direct"``: a (pivoted) Cholesky factorization of the dense
        Schur complement; ``"cg"``: Jacobi-preconditioned conjugate
        gradients on the sparse one; ``"passes"``: conjugate gradients
        over the rows (:mod:`dask_linreg._numerics.demean`).
    n_iter : int
        Conjugate-gradient iterations (0 for ``"direct"``).
    residual : float
        The largest relative residual ``|R - S x| / |R|`` over the columns
        of ``Z`` (0.0 for ``"direct"``).
    converged : bool
    """

    solver: str
    n_iter: int = 0
    residual: float = 0.0
    converged: bool = True


#: A Schur complement's diagonal entry below this share of its level's
#: weight is cancellation, not information.
_ROUNDING = 1e-12

#: Above this many levels besides the largest factor's, ``solver="auto"``
#: solves by conjugate gradients: a dense factorization costs
#: ``H**3 / 3`` flops and ``16 H**2`` bytes, each CG iteration a few
#: passes over the cells.
DIRECT_LEVELS = 2000


def _dense_fits(n_b, max_bytes):
    return max_bytes is None or n_b * n_b * 8 * 2 <= max_bytes


def _schur_absorbed(factors, cells, largest, solver="auto", tol=1e-10, max_iter=None):
    """The all-factors within co-moments, every factor's effects of ``Z``,
    the rank of the indicators and the :class:`FixefSolve` (see the
    module's notes)."""
    a = factors[largest]
    system = _indicator_system(
        [f.weights for f in factors],
        _cell_codes(factors, cells),
        cells.weights,
        largest,
    )
    n_b = system.n_levels
    if solver == "auto":
        fits = _dense_fits(n_b, a.max_bytes)
        solver = "direct" if n_b <= DIRECT_LEVELS and fits else "cg"
    if solver == "direct" and a.max_bytes is not None:
        _check_schur_bytes(factors, largest, n_b, a.max_bytes)
    others, starts, cross = system.others, system.starts, system.cross
    b_offsets = np.vstack(
        [factors[j].offsets + (factors[j].shift - a.shift) for j in others]
    )
    own = system.b_weights[:, None] * b_offsets
    through_a = cross.T @ a.offsets
    right = own - through_a
    # A column constant within A's levels has R = 0 exactly; what is left is
    # the cancellation's rounding, outside S's range: 0 (its effects are 0).
    rounding = np.linalg.norm(np.abs(own) + np.abs(through_a), axis=0)
    right[:, np.linalg.norm(right, axis=0) <= 1e-12 * rounding] = 0.0
    free = system.free()
    if solver == "direct":
        solution, rank = _solve_semidefinite(
            system.dense(), right, free, system.diagonal()
        )
        reduction = right.T @ solution
        report = FixefSolve("direct")
    else:
        solution, report = conjugate_gradients(system, right, free, tol, max_iter)
        # R' S^- R from an approximate solution x: R'x + x'R - x'Sx errs by
        # -(x - x*)' S (x - x*), quadratic in the solution's error.
        product = right.T @ solution
        reduction = product + product.T - solution.T @ system.matvec(solution)
        rank = system.rank(dense=False) - int(np.count_nonzero(a.weights > 0))
    within = a.within - reduction
    within = (within + within.T) / 2
    a_effects = a.offsets - system.inverse_a[:, None] * (cross @ solution)
    a_effects = a_effects + a.shift
    a_effects[a.weights <= 0] = np.nan
    effects = [None] * len(factors)
    effects[largest] = a_effects
    for i, j in enumerate(others):
        block = solution[starts[i] : starts[i + 1]].copy()
        block[factors[j].weights <= 0] = np.nan
        effects[j] = block
    n_effects = int(np.count_nonzero(a.weights > 0)) + int(rank)
    return within, effects, n_effects, report


def conjugate_gradients(system, right, free, tol, max_iter):
    """A solution of ``S x = right``, column by column, by conjugate
    gradients preconditioned by ``diag(S)``: on the ``free`` levels (two
    factors; the others' effects are 0) or on all (the system is
    consistent, so CG stays in ``S``'s range).  Stops when every column's
    true residual is within ``tol`` of its right-hand side, or after
    ``max_iter`` iterations (default ``10 * n_levels``)."""
    n, q = right.shape
    diagonal = system.diagonal()
    active = diagonal > 0
    if free is not None:
        active &= free
    inverse = np.where(active, 1.0 / np.where(active, diagonal, 1.0), 0.0)
    if max_iter is None:
        max_iter = max(100, 10 * n)
    solution = np.zeros((n, q))
    scale = np.linalg.norm(right[active], axis=0)
    target = tol * scale
    residual = right.copy()
    n_iter = 0
    true_norm = scale.copy()
    while n_iter < max_iter:
        # (Re)start from the true residual: the recursive one drifts.
        z = inverse[:, None] * residual
        direction = z.copy()
        rz = np.einsum("ij,ij->j", residual, z)
        while n_iter < max_iter:
            norm = np.linalg.norm(residual[active], axis=0)
            going = norm > target
            if not going.any():
                break
            product = system.matvec(direction)
            curvature = np.einsum("ij,ij->j", direction, product)
            step = np.where(
                going & (curvature > 0),
                rz / np.where(curvature > 0, curvature, 1.0),
                0.0,
            )
            solution += step * direction
            residual -= step * product
            z = inverse[:, None] * residual
            rz_next = np.einsum("ij,ij->j", residual, z)
            ratio = np.where(rz > 0, rz_next / np.where(rz > 0, rz, 1.0), 0.0)
            direction = z + ratio * direction
            rz = rz_next
            n_iter += 1
        residual = right - system.matvec(solution)
        residual[~active] = 0.0
        true_norm = np.linalg.norm(residual, axis=0)
        if np.all(true_norm <= target):
            break
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(scale > 0, true_norm / np.where(scale > 0, scale, 1), 0.0)
    worst = float(relative.max()) if q else 0.0
    return solution, FixefSolve("cg", n_iter, worst, bool(worst <= tol))


def _check_schur_bytes(factors, largest, n_b, max_bytes):
    needed = n_b * n_b * 8 * 2
    if needed > max_bytes:
        names = ", ".join(
            repr(f.factor_name) for j, f in enumerate(factors) if j != largest
        )
        raise MemoryError(
            f"the absorbed columns {names} have {n_b:,} levels in all besides the "
            f"largest factor {factors[largest].factor_name!r}; their dense system of "
            f"{n_b:,} x {n_b:,} takes {needed / 2**20:,.1f} MiB, more than "
            f"max_bytes={max_bytes:,}. Raise max_bytes if the client has the "
            "memory, or absorb fewer levels (enter a small factor as C(column))."
        )


def _free_levels(cross, b_weights):
    """Two factors: the levels of ``B`` whose effects are free, all but one
    reference level (the first) per connected component of the levels
    (their effects are identified only up to a constant per component)."""
    g, n_b = cross.shape
    linked = cross.tocoo()
    graph = scipy.sparse.coo_matrix(
        (np.ones(linked.nnz), (linked.row, linked.col + g)), shape=(g + n_b, g + n_b)
    )
    _, labels = connected_components(graph, directed=False)
    b_labels = labels[g:]
    free = np.ones(n_b, dtype=bool)
    positive = b_weights > 0
    # The first positive-weight B level of each component is its reference.
    order = np.flatnonzero(positive)
    _, first = np.unique(b_labels[order], return_index=True)
    free[order[first]] = False
    free[~positive] = False
    return free


def _solve_semidefinite(schur, right, free, diagonal):
    """A solution of ``schur @ x = right`` (``right`` in its range) and the
    rank of ``schur``: on the ``free`` levels by Cholesky (two factors),
    otherwise by a pivoted Cholesky factorization that finds the rank.
    ``diagonal`` is ``schur``'s, rounding set to 0 (those levels' effects
    are 0)."""
    n = schur.shape[0]
    if right is None:
        right = np.zeros((n, 0))
    solution = np.zeros_like(right)
    if n == 0:
        return solution, 0
    scale = np.where(
        diagonal > 0, 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1)), 0
    )
    scaled = schur * scale[:, None] * scale[None, :]
    if free is not None:
        index = np.flatnonzero(free)
        if len(index):
            factor = scipy.linalg.cho_factor(
                scaled[np.ix_(index, index)], lower=True, check_finite=False
            )
            solution[index] = scale[index, None] * scipy.linalg.cho_solve(
                factor, scale[index, None] * right[index], check_finite=False
            )
        return solution, len(index)
    factor, pivots, rank, _ = scipy.linalg.lapack.dpstrf(scaled, lower=1, tol=1e-11 * n)
    pivots = pivots - 1
    index = pivots[:rank]
    lower = np.tril(factor[:rank, :rank])
    rhs = scale[index, None] * right[index]
    inner = scipy.linalg.solve_triangular(lower, rhs, lower=True, check_finite=False)
    solution[index] = scale[index, None] * scipy.linalg.solve_triangular(
        lower.T, inner, lower=False, check_finite=False
    )
    return solution, int(rank)
