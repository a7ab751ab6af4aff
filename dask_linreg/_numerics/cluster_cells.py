"""The clusters of a model with absorbed fixed effects, kept in its one pass
(pure NumPy).

A cluster's score in such a model is ``s_g = sum_{i in g} w_i x~_i e_i``,
``x~`` the rows demeaned by every absorbed factor and ``e`` the residual:
``s_g = M_g[:p] v`` with ``v = (-b, 1)`` and ``M_g = sum_{i in g} w_i z~_i
z~_i'`` over ``Z = [X | Y]``.  The demeaning subtracts the sum of the row's
levels' effects, which is the same for every row of one *cell*, a
combination of the row's levels and its cluster.  So, with ``m_c`` and
``W_c`` a cell's weighted mean and weight and ``D_c theta`` its levels'
effects::

    M_g = C_g + sum_{c in g} W_c (m_c - D_c theta)(m_c - D_c theta)'

where ``C_g`` is the cluster's *within-cell* co-moments, the rows demeaned
by their cell's mean: known in the pass, before the effects are.  A block of
rows yields :class:`ClusterCells` (each cell's count, weight and shifted
mean; each cluster's ``C_g``); they merge by key with the Chan, Golub &
LeVeque update, a cell seen by several parts adding each part's ``W_p (m_p -
m)(m_p - m)'`` to its cluster.  Once the effects are solved, the scores
(CR1, one or two ways) and, where every absorbed factor is nested in the
clusters, the leave-one-cluster-out fits (CRV3) follow with no second pass.
Memory: ``q + k + 4`` numbers per cell and ``q**2`` per cluster.
"""

from dataclasses import dataclass, replace

import numpy as np

from dask_linreg._numerics.absorbed import block_group_moments
from dask_linreg._numerics.keyed import (
    byte_size,
    group_keys,
    key_partitions,
    keyed_nbytes,
    level_rows,
    merged_means,
    summed_counts,
    taken_columns,
    taken_means,
)
from dask_linreg._numerics.multiway import block_multiway_moments

__all__ = [
    "AbsorbedClusterScores",
    "ClusterCells",
    "WithClusterCells",
    "block_cluster_cells",
    "block_with_cluster_cells",
]


@dataclass(frozen=True, eq=False)
class ClusterCells:
    """Per cell (a combination of the absorbed levels and the clusters) the
    weighted mean of ``Z = [X | Y]``, per cluster its within-cell
    co-moments.

    Attributes
    ----------
    keys : tuple of ndarray of shape (n_cells,)
        Each cell's level of each absorbed factor, then of each clustering
        that is not one of them; sorted lexicographically.
    clusterings : tuple of int
        Which of ``keys`` are the clusterings (one, or two for two-way
        clustering, whose clusters are then the pairs).
    counts, positive : ndarray of int64 of shape (n_cells,)
        Rows, and rows of positive weight, of each cell.
    weights : ndarray of shape (n_cells,)
    shift : ndarray of shape (q,)
        A point inside the data.
    offsets : ndarray of shape (n_cells, q)
        Each cell's weighted mean minus ``shift``.
    cell_cluster : ndarray of intp of shape (n_cells,)
        Each cell's cluster, an index into ``within``.
    within : ndarray of shape (n_clusters, q, q)
        Each cluster's co-moments of its rows demeaned by their cell's mean.
    n_factors : int
        How many of ``keys`` are absorbed factors.
    names : tuple of str
        The columns of ``keys``, for messages.
    max_bytes : int or None
        The most bytes the statistics may take, checked in every block and
        merge (:class:`MemoryError`).
    """

    keys: tuple
    clusterings: tuple
    counts: np.ndarray
    positive: np.ndarray
    weights: np.ndarray
    shift: np.ndarray
    offsets: np.ndarray
    cell_cluster: np.ndarray
    within: np.ndarray
    n_factors: int
    names: tuple
    max_bytes: int | None = None

    @property
    def n_cells(self):
        return len(self.counts)

    @property
    def n_clusters(self):
        return len(self.within)

    def __sizeof__(self):
        # What Dask weighs the statistic by (transfers, memory limits).
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def merge(self, other):
        """The statistics of the union of two disjoint row sets."""
        return ClusterCells.merge_all([self, other])

    def is_finite(self):
        """Whether everything that went in was finite."""
        return bool(np.isfinite(self.within).all() and np.isfinite(self.offsets).all())

    def with_columns(self, index):
        """These statistics over the columns ``index`` of ``Z`` (``-1``: a
        column of zeros, :func:`~dask_linreg._numerics.keyed.taken_columns`)."""
        return replace(
            self,
            **taken_means(self, index),
            within=taken_columns(self.within, index, (1, 2)),
        )

    @staticmethod
    def merge_all(parts):
        """The statistics of the union of disjoint row sets, in one step:
        the cells of all parts joined by one factorization, each cell's
        merged mean first, then each part's deviation from it added to its
        cluster's co-moments."""
        parts = [p for p in parts if p.n_cells] or list(parts[:1])
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        keys = tuple(
            np.concatenate(column)
            for column in zip(*(p.keys for p in parts), strict=True)
        )
        inverse, unique = group_keys(keys)
        n_cells = len(unique[0])
        cell_cluster, cluster_keys = group_keys(
            tuple(unique[c] for c in first.clusterings)
        )
        n_clusters = len(cluster_keys[0])
        q = first.offsets.shape[1]
        first.check_bytes(n_cells, n_clusters, q)
        weights, offsets, cell_weights, means = merged_means(parts, inverse, n_cells)
        within = np.zeros((n_clusters, q, q))
        start = 0
        for p in parts:
            # A part's clusters, among the merged ones: its cells' merged
            # cells' clusters (each of its clusters has a cell).
            merged = cell_cluster[inverse[start : start + p.n_cells]]
            position = np.empty(p.n_clusters, dtype=np.intp)
            position[p.cell_cluster] = merged
            within[position] += p.within
            start += p.n_cells
        # Chan's update, for the cells more than one part saw.
        shared = (np.bincount(inverse, minlength=n_cells) > 1)[inverse]
        deviation = (offsets[shared] - means[inverse[shared]]) * np.sqrt(
            weights[shared]
        )[:, None]
        _add_outer_products(within, cell_cluster[inverse[shared]], deviation)

        return replace(
            first,
            keys=unique,
            counts=summed_counts(parts, "counts", inverse, n_cells),
            positive=summed_counts(parts, "positive", inverse, n_cells),
            weights=cell_weights,
            offsets=means,
            cell_cluster=cell_cluster,
            within=within,
        )

    def check_bytes(self, n_cells, n_clusters, q):
        """Raise :class:`MemoryError` when the statistics of ``n_cells``
        cells and ``n_clusters`` clusters over ``q`` columns do not fit in
        ``max_bytes``."""
        needed = 8 * (n_cells * (q + len(self.keys) + 4) + n_clusters * q * q)
        if self.max_bytes is not None and needed > self.max_bytes:
            clusters = " and ".join(repr(self.names[c]) for c in self.clusterings)
            factors = " + ".join(map(repr, self.names[: self.n_factors]))
            raise MemoryError(
                f"the clusters {clusters} kept at fit time, with the absorbed "
                f"{factors}, have {n_cells:,} cells (combinations of levels and "
                f"clusters) and {n_clusters:,} clusters so far; their statistics "
                f"over {q} columns take {byte_size(needed)}, more than "
                f"max_bytes={self.max_bytes:,}. Raise max_bytes if the client has the "
                "memory, or fit without cluster= and cluster afterwards with "
                "inference(data, cov_type='cluster', groups=...) (one more pass)."
            )

    def partition(self, n_parts):
        """The cells and clusters split by a hash of the (first) clustering's
        labels into ``n_parts`` (``split_out``): a cluster and its cells go
        to the same part."""
        part = key_partitions(self.keys[self.clusterings[0]], n_parts)
        cluster_part = np.empty(self.n_clusters, dtype=part.dtype)
        cluster_part[self.cell_cluster] = part
        parts = []
        for s in range(n_parts):
            cells = part == s
            clusters = cluster_part == s
            renumbered = np.cumsum(clusters) - 1
            parts.append(
                replace(
                    self,
                    keys=tuple(k[cells] for k in self.keys),
                    counts=self.counts[cells],
                    positive=self.positive[cells],
                    weights=self.weights[cells],
                    offsets=self.offsets[cells],
                    cell_cluster=renumbered[self.cell_cluster[cells]],
                    within=self.within[clusters],
                )
            )
        return parts

    def absorbed_scores(self, factor_keys, effects):
        """The clusters' statistics of a solved absorbed model.

        Parameters
        ----------
        factor_keys : tuple of ndarray
            Each absorbed factor's levels of the fit (sorted; singletons left
            out): cells with a level not among them are not in the fit.  Such
            a cell has one row of positive weight (a singleton's), so its
            cluster's within-cell co-moments hold nothing of it.
        effects : tuple of ndarray of shape (n_levels, q)
            Each factor's fixed effects of every column of ``Z``.

        Returns
        -------
        AbsorbedClusterScores
        """
        n_factors = self.n_factors
        kept = self.weights > 0
        positions = []
        for level, keys in zip(self.keys[:n_factors], factor_keys, strict=True):
            position = np.searchsorted(keys, level)
            inside = position < len(keys)
            found = np.zeros(len(level), dtype=bool)
            found[inside] = keys[position[inside]] == level[inside]
            kept &= found
            positions.append(np.where(found, position, 0))
        demeaned = self.shift + self.offsets[kept]
        for position, effect in zip(positions, effects, strict=True):
            demeaned -= effect[position[kept]]
        # Fit rows whose levels have no effect (zero weight) are not kept.
        kept_cells = np.flatnonzero(kept)
        finite = np.isfinite(demeaned).all(axis=1)
        kept_cells, demeaned = kept_cells[finite], demeaned[finite]
        cluster = self.cell_cluster[kept_cells]
        cluster_weights = np.bincount(
            cluster, weights=self.weights[kept_cells], minlength=self.n_clusters
        )
        scaled = demeaned * np.sqrt(self.weights[kept_cells])[:, None]
        full = self.within.copy()
        _add_outer_products(full, cluster, scaled)
        alive = cluster_weights > 0
        renumbered = np.cumsum(alive) - 1
        # Any cell of a cluster has its labels.
        first_cell = np.zeros(self.n_clusters, dtype=np.intp)
        first_cell[self.cell_cluster] = np.arange(self.n_cells)
        cluster_keys = tuple(self.keys[c][first_cell[alive]] for c in self.clusterings)
        factor_codes = tuple(p[kept_cells] for p in positions)
        labels = tuple(self.keys[c][kept_cells] for c in self.clusterings)
        return AbsorbedClusterScores(
            cluster_keys,
            full[alive],
            factor_codes,
            labels,
            tuple(c < n_factors for c in self.clusterings),
            renumbered[cluster],
            tuple(self.names[c] for c in self.clusterings),
        )


def _add_outer_products(target, groups, rows):
    """``target[g] += sum of r r'`` over the rows ``r`` of each group ``g``."""
    if not len(rows):
        return
    n, q = target.shape[0], rows.shape[1]
    upper = np.triu_indices(q)
    added = np.zeros((n, q, q))
    for j, k in zip(*upper, strict=True):
        added[:, j, k] = np.bincount(
            groups, weights=rows[:, j] * rows[:, k], minlength=n
        )
    added[:, upper[1], upper[0]] = added[:, upper[0], upper[1]]
    target += added


@dataclass(frozen=True, eq=False)
class AbsorbedClusterScores:
    """The clusters of a solved absorbed model (:meth:`ClusterCells.absorbed_scores`).

    Attributes
    ----------
    cluster_keys : tuple of ndarray of shape (G,)
        Each cluster's label in each clustering (the pairs, two ways), of
        the clusters with a positive-weight row in the fit.
    comoments : ndarray of shape (G, q, q)
        ``M_g``: each cluster's co-moments of the demeaned rows.
    factor_codes : tuple of ndarray of shape (n_cells,)
        The fit's cells' level of each absorbed factor (indices).
    labels : tuple of ndarray of shape (n_cells,)
        The fit's cells' cluster labels in each clustering.
    absorbed : tuple of bool
        Whether each clustering is an absorbed factor.
    cell_cluster : ndarray of intp of shape (n_cells,)
        The fit's cells' cluster (an index into ``comoments``).
    names : tuple of str
        The clusterings' columns.
    """

    cluster_keys: tuple
    comoments: np.ndarray
    factor_codes: tuple
    labels: tuple
    absorbed: tuple
    cell_cluster: np.ndarray
    names: tuple

    @property
    def factor_name(self):
        """The clusterings' columns, for messages."""
        return " and ".join(self.names)

    @property
    def n_clusters(self):
        return len(self.comoments)

    def __sizeof__(self):
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def scores(self, coef, clustering=None):
        """Each cluster's score ``M_g[:p] (-b, 1)``: per cluster of the
        finest clustering (``clustering`` None: the clusters, or for two
        ways their pairs), or of clustering ``0`` or ``1`` (the pairs'
        scores summed).

        Parameters
        ----------
        coef : ndarray of shape (p, n_targets)

        Returns
        -------
        labels : ndarray of shape (G,)
            The clusters' labels, sorted (pairs: their index).
        scores : ndarray of shape (G, p, n_targets)
        """
        p, n_targets = coef.shape
        direction = np.vstack([-coef, np.eye(n_targets)])
        scores = np.einsum("gij,jt->git", self.comoments[:, :p, :], direction)
        if clustering is None:
            return np.arange(len(scores)), scores
        codes, (labels,) = group_keys((self.cluster_keys[clustering],))
        summed = np.zeros((len(labels), p * n_targets))
        np.add.at(summed, codes, scores.reshape(len(scores), -1))
        return labels, summed.reshape(len(labels), p, n_targets)

    def nested(self, clustering):
        """Indices of the absorbed factors each of whose levels (in the
        fit) lies in one cluster of ``clustering``."""
        cluster_codes, _ = group_keys((self.labels[clustering],))
        nested = []
        for j, codes in enumerate(self.factor_codes):
            _, (levels, _) = group_keys((codes, cluster_codes))
            if not len(levels) or np.bincount(levels).max() <= 1:
                nested.append(j)
        return tuple(nested)

    def leave_one_out(self, within, n_features):
        """Each cluster's leave-one-out slopes, one target: ``(C - M_g) b_g =
        c - c_g``, ``C`` the fit's within co-moments (exact when every
        absorbed factor is nested in the clusters: the left-out cluster's
        levels leave with it, the others' effects stay).

        Returns
        -------
        ndarray of shape (G, p)
        """
        p = n_features
        rest = within[None, :, :] - self.comoments
        # A replicate whose equations are singular takes the minimum-norm
        # solution, as pyfixest's refits do.
        return np.einsum(
            "gij,gj->gi",
            np.linalg.pinv(rest[:, :p, :p], hermitian=True),
            rest[:, :p, p],
        )


def block_cluster_cells(
    columns,
    sample_weight,
    labels,
    *,
    n_factors,
    clusterings,
    names,
    max_bytes=None,
):
    """:class:`ClusterCells` of one block of rows.

    Parameters
    ----------
    columns : sequence of ndarray
        Column groups (2-D) of ``Z = [X | Y]``, side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    labels : sequence of ndarray of shape (n_rows,)
        Each absorbed factor's level of each row, then each clustering's
        label that is not one of them; none missing.
    n_factors : int
    clusterings : tuple of int
        Which of ``labels`` are the clusterings.
    names : tuple of str
        The columns of ``labels``.
    max_bytes : int, default=None
    """
    keys = tuple(np.asarray(k) for k in labels)
    inverse, cell_keys = group_keys(keys)
    cell_cluster, cluster_keys = group_keys(tuple(cell_keys[c] for c in clusterings))
    empty = ClusterCells(
        cell_keys,
        tuple(clusterings),
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.zeros(0),
        np.zeros(0),
        np.zeros((0, 0)),
        cell_cluster,
        np.zeros((0, 0, 0)),
        int(n_factors),
        tuple(map(str, names)),
        max_bytes,
    )
    n_clusters = len(cluster_keys[0])
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        rows = level_rows(
            columns,
            sample_weight,
            inverse,
            check_levels=lambda n, q: empty.check_bytes(n, n_clusters, q),
        )
        within = rows.pooled_comoments(cell_cluster, n_clusters)
    return replace(
        empty,
        counts=rows.counts,
        positive=rows.positive,
        weights=rows.level_weights,
        shift=rows.shift,
        offsets=rows.offsets,
        within=within,
    )


@dataclass(frozen=True, eq=False)
class WithClusterCells:
    """An absorbed model's one-pass statistic and its :class:`ClusterCells`.

    Attributes
    ----------
    absorbed : GroupMoments or MultiwayMoments
    clusters : ClusterCells
    """

    absorbed: object
    clusters: ClusterCells

    def __sizeof__(self):
        return object.__sizeof__(self) + keyed_nbytes(vars(self).values())

    def merge(self, other):
        return WithClusterCells.merge_all([self, other])

    @staticmethod
    def merge_all(parts):
        kind = type(parts[0].absorbed)
        return WithClusterCells(
            kind.merge_all([p.absorbed for p in parts]),
            ClusterCells.merge_all([p.clusters for p in parts]),
        )

    def is_finite(self):
        return self.absorbed.is_finite() and self.clusters.is_finite()

    def with_columns(self, index):
        return WithClusterCells(
            self.absorbed.with_columns(index), self.clusters.with_columns(index)
        )

    def partition(self, n_parts):
        return [
            WithClusterCells(*pair)
            for pair in zip(
                self.absorbed.partition(n_parts),
                self.clusters.partition(n_parts),
                strict=True,
            )
        ]


def block_with_cluster_cells(
    columns, sample_weight, labels, *, n_factors, clusterings, names, max_bytes=None
):
    """:class:`WithClusterCells` of one block: the absorbed factors'
    :class:`~dask_linreg._numerics.absorbed.GroupMoments` (one) or
    :class:`~dask_linreg._numerics.multiway.MultiwayMoments` (several,
    without their cells: those follow from the cluster cells) and the
    block's :class:`ClusterCells` (arguments as :func:`block_cluster_cells`)."""
    if n_factors == 1:
        absorbed = block_group_moments(
            columns,
            sample_weight,
            labels[0],
            factor_name=names[0],
            max_bytes=max_bytes,
        )
    else:
        absorbed = block_multiway_moments(
            columns,
            sample_weight,
            labels[:n_factors],
            factor_names=names[:n_factors],
            max_bytes=max_bytes,
            cells="none",
        )
    return WithClusterCells(
        absorbed,
        block_cluster_cells(
            columns,
            sample_weight,
            labels,
            n_factors=n_factors,
            clusterings=clusterings,
            names=names,
            max_bytes=max_bytes,
        ),
    )
