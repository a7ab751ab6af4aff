"""Classical and robust inference from the merged statistics (pure NumPy).

Everything a regression table needs (standard errors, R², F, likelihood,
information criteria) follows from a *root* of the weighted cross-products
of ``[X | Y]``: any matrix ``F`` with ``F.T @ F`` equal to them (a
triangular factor, or a scaled eigendecomposition of the moments).  Working
from a root rather than from the cross-products themselves keeps residual
sums of squares and covariances as accurate as the fit's statistic allows.

Heteroskedasticity- and cluster-robust covariances need one more pass: each
row block yields the "meat" of the sandwich (:func:`block_scores`), merged
by addition (:func:`merge_scores`).

Coordinates: with an intercept the parameters are ``(intercept, coef)``,
but covariances are formed in the *centered* parametrization ``y = a +
(x - x_mean) @ coef``, where the intercept and the slopes decouple and no
large offsets are multiplied; :func:`uncenter` maps them back at the end.
"""

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from dask_linreg._numerics.levels import (
    block_level_moments,
    design_columns,
    model_term_rows,
    select_moments,
)
from dask_linreg._numerics.pieces import RowBlock, rows_per_piece

__all__ = [
    "DesignRoot",
    "FitSummary",
    "ScoreSums",
    "ScoreModel",
    "TwoWayScores",
    "pair_labels",
    "LevelScoreModel",
    "COV_TYPES",
    "design_root",
    "fit_summary",
    "block_scores",
    "block_level_scores",
    "merge_scores",
    "robust_covariance",
    "uncenter",
    "NULL_TOLERANCE",
]

#: Covariance types: classical, White's HC0-HC3, and cluster-robust (CR1).
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")

#: A coefficient (or restriction) is not identified when a unit null vector
#: of the design has a component beyond this.
NULL_TOLERANCE = 1e-7


@dataclass(frozen=True)
class DesignRoot:
    """What the inference needs of a fit's merged statistic.

    Attributes
    ----------
    root : ndarray of shape (m, p + k)
        ``root.T @ root`` equals the weighted cross-products of ``[X | Y]``,
        centered at the weighted means with an intercept, raw without.
    n_features : int
    x_mean, y_mean : ndarray
        Weighted means (zeros without an intercept).
    weight_sum : float
    nobs : int
        Rows of positive weight.
    log_weight_sum : float
        Sum of ``log(w)`` over those rows.
    fit_intercept : bool
    """

    root: np.ndarray
    n_features: int
    x_mean: np.ndarray
    y_mean: np.ndarray
    weight_sum: float
    nobs: int
    log_weight_sum: float
    fit_intercept: bool


def design_root(result, n_features, *, fit_intercept, factor=None):
    """:class:`DesignRoot` of a merged statistic (of any kind).

    Parameters
    ----------
    result : StatisticKind
    n_features : int
    fit_intercept : bool
    factor : ndarray, default=None
        For exact cross-products, the factor the solve already computed from
        the same statistic (:attr:`Solution.factor`); computed again if None.

    Returns
    -------
    DesignRoot
    """
    root, x_mean, y_mean = result.root(
        n_features, fit_intercept=fit_intercept, factor=factor
    )
    return DesignRoot(
        root=root,
        n_features=n_features,
        x_mean=x_mean,
        y_mean=y_mean,
        weight_sum=float(result.weight_sum),
        nobs=int(result.positive_count),
        log_weight_sum=float(result.log_weight_sum),
        fit_intercept=fit_intercept,
    )


@dataclass(frozen=True)
class FitSummary:
    """Per-target statistics of a least-squares fit that need no extra pass.

    Attributes
    ----------
    ssr, tss : ndarray of shape (n_targets,)
        Weighted residual sum of squares and total sum of squares (centered
        with an intercept, uncentered without, as statsmodels).
    rank : int
        Rank of the (centered) design.
    nobs : int
    df_model, df_resid : int
        ``rank`` and ``nobs - rank - fit_intercept``.
    llf : ndarray of shape (n_targets,)
        Gaussian log-likelihood with weights as precisions (statsmodels' WLS).
    centered_cov : ndarray of shape (k, k)
        ``(Z.T W Z)^+`` of the centered design ``Z = [1 | X - x_mean]`` (or
        ``X`` without an intercept), restricted to the identified
        directions: times ``scale`` it is the classical covariance.
    null_space : ndarray of shape (k, k - rank - fit_intercept)
        Orthonormal basis of the directions of the (uncentered) parameter
        vector the data do not determine.
    condition_number : float
        Ratio of the extreme singular values of ``sqrt(w) [1 | X]`` (or
        ``sqrt(w) X``), statsmodels' ``condition_number``.
    """

    ssr: np.ndarray
    tss: np.ndarray
    rank: int
    nobs: int
    df_model: int
    df_resid: int
    llf: np.ndarray
    centered_cov: np.ndarray
    null_space: np.ndarray
    condition_number: float
    x_mean: np.ndarray = field(repr=False)
    y_mean: np.ndarray = field(repr=False)
    weight_sum: float = 0.0
    fit_intercept: bool = True


def _pseudo_inverse(root_x, rank):
    """``(root_x.T root_x)^+`` over the ``rank`` strongest scaled directions,
    and an orthonormal basis of the remaining (null) directions."""
    p = root_x.shape[1]
    scale = np.hypot.reduce(root_x, axis=0) if root_x.shape[0] else np.zeros(p)
    active = np.flatnonzero(scale > 0)
    inverse = np.zeros((p, p))
    null_vectors = [np.eye(p)[:, j] for j in np.flatnonzero(scale == 0)]
    if active.size:
        _, singular, right_t = linalg.svd(
            root_x[:, active] / scale[active], full_matrices=True
        )
        kept = min(rank, singular.size)
        basis = right_t[:kept].T / singular[:kept]
        block = basis @ basis.T
        inverse[np.ix_(active, active)] = block / np.outer(scale[active], scale[active])
        for vector in right_t[kept:]:
            full = np.zeros(p)
            full[active] = vector / scale[active]
            null_vectors.append(full)
    if not null_vectors:
        return inverse, np.zeros((p, 0))
    null_space, _ = linalg.qr(np.column_stack(null_vectors), mode="economic")
    return inverse, null_space


def fit_summary(design, coef, rank):
    """:class:`FitSummary` from a :class:`DesignRoot` and the fitted coefficients.

    Parameters
    ----------
    design : DesignRoot
    coef : ndarray of shape (n_features, n_targets)
    rank : int
        The fit's rank of the (centered) design.

    Returns
    -------
    FitSummary
    """
    p = design.n_features
    root_x, root_y = design.root[:, :p], design.root[:, p:]
    residual = root_y - root_x @ coef
    ssr = np.einsum("ij,ij->j", residual, residual)
    tss = np.einsum("ij,ij->j", root_y, root_y)
    inverse, null_space = _pseudo_inverse(root_x, rank)
    nobs = design.nobs
    intercept = int(design.fit_intercept)
    df_resid = nobs - rank - intercept
    with np.errstate(divide="ignore"):
        llf = (
            -0.5 * nobs * (np.log(2 * np.pi) + np.log(ssr / nobs) + 1.0)
            + 0.5 * design.log_weight_sum
        )
    if design.fit_intercept:
        weight_sum = design.weight_sum
        centered_cov = linalg.block_diag(1.0 / weight_sum, inverse)
        # A null direction b of the centered design is (-x_mean @ b, b) in
        # the (intercept, coef) coordinates.
        lifted = np.vstack([-design.x_mean @ null_space, null_space])
        null_space = linalg.qr(lifted, mode="economic")[0] if lifted.size else lifted
        raw_root = np.vstack(
            [
                np.column_stack([np.zeros(root_x.shape[0]), root_x]),
                np.sqrt(weight_sum) * np.concatenate([[1.0], design.x_mean]),
            ]
        )
    else:
        centered_cov = inverse
        raw_root = root_x
    singular = linalg.svdvals(raw_root)
    singular = singular[: min(nobs, raw_root.shape[1])]
    with np.errstate(divide="ignore"):
        condition = (
            float(singular[0] / singular[-1]) if singular[-1] > 0 else float(np.inf)
        )
    return FitSummary(
        ssr=ssr,
        tss=tss,
        rank=rank,
        nobs=nobs,
        df_model=rank,
        df_resid=df_resid,
        llf=llf,
        centered_cov=centered_cov,
        null_space=null_space,
        condition_number=condition,
        x_mean=design.x_mean,
        y_mean=design.y_mean,
        weight_sum=design.weight_sum,
        fit_intercept=design.fit_intercept,
    )


def uncenter(centered_cov, x_mean, fit_intercept):
    """Covariance of ``(intercept, coef)`` from that of ``(a, coef)``.

    With ``intercept = a - x_mean @ coef``, the map is
    ``J = [[1, -x_mean], [0, I]]`` and the covariance ``J C J.T``.
    """
    if not fit_intercept:
        return centered_cov
    k = centered_cov.shape[0]
    jacobian = np.eye(k)
    jacobian[0, 1:] = -x_mean
    return jacobian @ centered_cov @ jacobian.T


@dataclass(frozen=True)
class ScoreModel:
    """The fitted model a robust pass evaluates residuals and scores with.

    Attributes
    ----------
    coef : ndarray of shape (n_features, n_targets)
    x_mean, y_mean : ndarray
        Centering (zeros without an intercept).
    fit_intercept : bool
    cov_type : str
        One of ``COV_TYPES`` other than ``"nonrobust"``.
    centered_cov : ndarray of shape (k, k)
        ``(Z.T W Z)^+``, for the leverages of HC2 and HC3.
    """

    coef: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    fit_intercept: bool
    cov_type: str
    centered_cov: np.ndarray


@dataclass(frozen=True)
class ScoreSums:
    """Mergeable sums of one robust pass.

    Attributes
    ----------
    count : int
        Rows seen.
    positive_count : int
        Rows of positive weight.
    ssr : ndarray of shape (n_targets,)
        Weighted residual sum of squares (checks that the pass saw the data
        the model was fitted on).
    meat : ndarray of shape (n_targets, k, k) or None
        ``sum_i u_it z_i z_i.T`` with the HC weight ``u_it`` (HC types).
    cluster_labels : ndarray of shape (n_clusters,) or None
        Sorted labels of the clusters with a positive-weight row.
    cluster_scores : ndarray of shape (n_clusters, k, n_targets) or None
        Per cluster, ``sum_i w_i e_it z_i``.
    """

    count: int
    positive_count: int
    ssr: np.ndarray
    meat: np.ndarray | None = None
    cluster_labels: np.ndarray | None = None
    cluster_scores: np.ndarray | None = None


@dataclass(frozen=True)
class TwoWayScores:
    """The sums of a robust pass clustered two ways (Cameron, Gelbach &
    Miller): by each clustering and by their intersection.

    Attributes
    ----------
    first, second, both : ScoreSums
        Clustered by the first labels, the second, and the pairs of them.
    """

    first: ScoreSums
    second: ScoreSums
    both: ScoreSums

    @property
    def count(self):
        return self.first.count

    @property
    def positive_count(self):
        return self.first.positive_count

    @property
    def ssr(self):
        return self.first.ssr

    @property
    def cluster_labels(self):
        """The labels of the clustering of fewer clusters."""
        return min(self.first.cluster_labels, self.second.cluster_labels, key=np.size)

    def merge(self, other):
        return TwoWayScores(
            merge_scores(self.first, other.first),
            merge_scores(self.second, other.second),
            merge_scores(self.both, other.both),
        )


def pair_labels(first, second):
    """One label per row for the intersection of two clusterings (both
    compared as strings)."""
    text = np.char.add(np.asarray(first).astype(str), "\x1f")
    return np.char.add(text, np.asarray(second).astype(str))


def block_scores(x_parts, y_parts, sample_weight, groups, model, *, piece_rows=None):
    """:class:`ScoreSums` of one block of rows (:class:`TwoWayScores` for
    ``groups`` a pair of label arrays).

    Parameters
    ----------
    x_parts, y_parts : list of ndarray
        Column groups of X and Y (2-D), side by side.
    sample_weight : ndarray of shape (n_rows,) or None
    groups : ndarray of shape (n_rows,), tuple of two of them, or None
        Cluster labels (``cov_type="cluster"``); two clusterings at once for
        two-way clustering.
    model : ScoreModel
    piece_rows : int, default=None
        Rows per cache-sized piece (as for the fit's statistics).

    Returns
    -------
    ScoreSums or TwoWayScores

    Notes
    -----
    Each piece of rows is written once, centered, into a scratch buffer
    ``z = [1 | X - x_mean]``; residuals, leverages and the weighted
    ``z.T diag(u) z`` are formed while it is in cache.  The block is never
    copied whole.
    """
    x_block = RowBlock(x_parts, sample_weight)
    n_rows, weights = x_block.n_rows, x_block.weights
    p, n_targets = model.coef.shape
    lead = int(model.fit_intercept)
    k = p + lead
    positive = n_rows if weights is None else int(np.count_nonzero(weights > 0))
    ssr = np.zeros(n_targets)
    cluster = model.cov_type == "cluster"
    if cluster:
        rows = slice(None) if weights is None else weights > 0
        labelings = (
            [groups[0], groups[1], pair_labels(*groups)]
            if isinstance(groups, tuple)
            else [groups]
        )
        clusterings = []
        for labeling in labelings:
            labels, inverse = np.unique(np.asarray(labeling)[rows], return_inverse=True)
            # Label index of each row; -1 for rows of zero weight.
            row_labels = np.full(n_rows, -1)
            row_labels[rows] = inverse.reshape(-1)
            clusterings.append(
                (labels, row_labels, np.zeros((labels.size, k, n_targets)))
            )
    else:
        meat = np.zeros((n_targets, k, k))
        piece_meat = np.empty((k, k))
    piece_rows = min(piece_rows or rows_per_piece(k, n_rows), max(n_rows, 1))
    # Scratch reused by every piece: fresh allocations of this size would
    # be mapped and page-faulted anew each time.
    buffer = np.empty((piece_rows, k))
    residuals = np.empty((piece_rows, n_targets))
    scratch = np.empty((piece_rows, k))
    z_pieces = x_block.pieces(buffer, model.x_mean, ones="first" if lead else None)
    y_pieces = RowBlock(y_parts).pieces(residuals, model.y_mean)
    for (span, z), (_, residual) in zip(z_pieces, y_pieces, strict=True):
        residual -= z[:, lead:] @ model.coef
        w = None if weights is None else weights[span]
        weighted = residual if w is None else w[:, None] * residual
        ssr += np.einsum("ij,ij->j", weighted, residual)
        if cluster:
            per_row = z[:, :, None] * weighted[:, None, :]
            for labels, row_labels, scores in clusterings:
                piece_labels = row_labels[span]
                kept = piece_labels >= 0
                scores += _sum_by_label(piece_labels[kept], labels.size, per_row[kept])
            continue
        squared = weighted**2
        if model.cov_type in ("HC2", "HC3"):
            product = np.matmul(z, model.centered_cov, out=scratch[: len(z)])
            leverage = np.einsum("ij,ij->i", product, z)
            if w is not None:
                leverage *= w
            # Rows of leverage 1 have zero residual; statsmodels gives them
            # NaN, a zero contribution is the limit.
            with np.errstate(divide="ignore", invalid="ignore"):
                power = 1.0 if model.cov_type == "HC2" else 2.0
                squared = np.where(
                    squared > 0, squared / (1.0 - leverage[:, None]) ** power, 0.0
                )
        root = np.sqrt(squared)
        for t in range(n_targets):
            scaled = np.multiply(z, root[:, t, None], out=scratch[: len(z)])
            np.matmul(scaled.T, scaled, out=piece_meat)
            meat[t] += piece_meat
    if cluster:
        sums = [
            ScoreSums(n_rows, positive, ssr, None, labels, scores)
            for labels, _, scores in clusterings
        ]
        return sums[0] if len(sums) == 1 else TwoWayScores(*sums)
    return ScoreSums(n_rows, positive, ssr, meat)


def _sum_by_label(inverse, n_labels, values):
    """Sums of ``values`` (rows, ...) over rows with equal ``inverse``."""
    indicator = sparse.csr_matrix(
        (np.ones(inverse.size), (inverse.reshape(-1), np.arange(inverse.size))),
        shape=(n_labels, inverse.size),
    )
    flat = values.reshape(values.shape[0], int(np.prod(values.shape[1:])))
    return np.asarray(indicator @ flat).reshape(n_labels, *values.shape[1:])


def merge_scores(a, b):
    """:class:`ScoreSums` (or :class:`TwoWayScores`) of the union of two
    disjoint row sets."""
    if isinstance(a, TwoWayScores):
        return a.merge(b)
    meat = None if a.meat is None else a.meat + b.meat
    labels = scores = None
    if a.cluster_labels is not None:
        both = np.concatenate([a.cluster_labels, b.cluster_labels])
        labels, inverse = np.unique(both, return_inverse=True)
        scores = _sum_by_label(
            inverse,
            labels.size,
            np.concatenate([a.cluster_scores, b.cluster_scores]),
        )
    return ScoreSums(
        a.count + b.count,
        a.positive_count + b.positive_count,
        a.ssr + b.ssr,
        meat,
        labels,
        scores,
    )


def robust_covariance(summary, sums, cov_type):
    """Sandwich covariances of ``(intercept, coef)``, one per target.

    Parameters
    ----------
    summary : FitSummary
    sums : ScoreSums
        From the robust pass over the fitted data.
    cov_type : {"HC0", "HC1", "HC2", "HC3", "cluster"}

    Returns
    -------
    covariances : ndarray of shape (n_targets, k, k)
        In the centered parametrization (see :func:`uncenter`).
    n_groups : int or None
        Number of clusters for ``"cluster"``.

    Notes
    -----
    ``B M B`` with the bread ``B = (Z.T W Z)^+`` and the meat ``M`` of
    :func:`block_scores`; HC1 multiplies by ``nobs / df_resid``, and the
    cluster-robust (CR1) covariance by ``G / (G - 1) * (nobs - 1) / (nobs -
    k)``, as statsmodels (and Stata) do.
    """
    bread = summary.centered_cov
    n_groups = None
    if cov_type == "cluster":
        if isinstance(sums, TwoWayScores):
            # Cameron, Gelbach & Miller: V_1 + V_2 - V_12, all with the
            # smaller number of clusters in the correction and the t
            # distribution (fixest's and pyfixest's cluster.df = "min").
            meat = (
                _cluster_meat(sums.first)
                + _cluster_meat(sums.second)
                - _cluster_meat(sums.both)
            )
            n_groups = int(sums.cluster_labels.size)
        else:
            meat = _cluster_meat(sums)
            n_groups = int(sums.cluster_scores.shape[0])
        k = bread.shape[0]
        nobs = summary.nobs
        correction = _ratio(n_groups, n_groups - 1.0) * _ratio(nobs - 1.0, nobs - k)
    else:
        meat = sums.meat
        correction = (
            _ratio(summary.nobs, summary.df_resid) if cov_type == "HC1" else 1.0
        )
    covariances = correction * (bread @ meat @ bread)
    return covariances, n_groups


def _ratio(numerator, denominator):
    """A small-sample correction, NaN where there is no degree of freedom
    left (a saturated fit, a single cluster): no standard error, as the
    classical one."""
    return numerator / denominator if denominator > 0 else np.nan


def _cluster_meat(sums):
    """``sum_g s_g s_g'`` per target, ``s_g`` the clusters' score sums."""
    per_target = np.moveaxis(sums.cluster_scores, 2, 0)  # (n_targets, G, k)
    return np.swapaxes(per_target, 1, 2) @ per_target


@dataclass(frozen=True)
class LevelScoreModel:
    """A fitted model with categorical columns, as a robust pass sees it.

    Attributes
    ----------
    score : ScoreModel
        Over the model's columns (``coef`` of shape (n_columns, n_targets),
        ``x_mean`` their means).
    model_terms : tuple of ModelTerm
        The model's terms, in the order of its columns.
    levels : tuple of ndarray
        Each factor's levels, in the model's order.
    numeric : tuple of str
        The names of the numeric columns of the pass's x, in order.
    factor_names : tuple of str
    indicator_terms : tuple of IndicatorTerm
        The indicator blocks the fit reduced for the model's terms.
    """

    score: ScoreModel
    model_terms: tuple
    levels: tuple
    numeric: tuple
    factor_names: tuple
    indicator_terms: tuple


def _level_codes(labels, levels, name):
    """Each row's index among the fitted ``levels`` (all must be known: the
    robust pass reads the data the model was fitted on)."""
    values = np.asarray(labels, dtype=object).astype(str)
    codes = pd.Index(np.asarray(levels, dtype=object)).get_indexer(values)
    if (codes < 0).any():
        raise ValueError(
            f"X column {name!r} has level {str(values[codes < 0][0])!r}, which the model "
            "was not fitted on: a robust covariance needs the data of the fit."
        )
    return codes


def _sparse_rows(model, x_columns, codes):
    """The model's centered design rows ``z_i = q_i - mu`` in sparse form.

    ``q_i`` holds, at ``positions`` (n_rows, n_slots), the intercept's 1
    (with one), each numeric term's centered value, and each indicator
    term's value at the row's column (0 where it has none); ``mu`` is the
    indicator columns' means (the numeric ones are centered in ``q``).
    """
    score = model.score
    lead = int(score.fit_intercept)
    k = score.coef.shape[0] + lead
    n_rows = len(x_columns[0]) if x_columns else len(codes[0])
    numeric_index = {name: j for j, name in enumerate(model.numeric)}
    positions, values = [], []
    if lead:
        positions.append(np.zeros(n_rows, dtype=np.int64))
        values.append(np.ones(n_rows))
    mu = np.zeros(k)
    start = lead
    for term, (index, width) in zip(
        model.model_terms,
        model_term_rows(model.model_terms, model.levels, codes),
        strict=True,
    ):
        value = None if term.value is None else x_columns[numeric_index[term.value]]
        if not term.factors:
            positions.append(np.full(n_rows, start, dtype=np.int64))
            values.append(value - score.x_mean[start - lead])
        else:
            valid = index >= 0
            positions.append(np.where(valid, start + index, 0))
            ones = np.ones(n_rows) if value is None else value
            values.append(np.where(valid, ones, 0.0))
            mu[start : start + width] = score.x_mean[
                start - lead : start - lead + width
            ]
        start += width
    return np.column_stack(positions), np.column_stack(values), mu


def block_level_scores(x_parts, y_parts, sample_weight, groups, factors, model):
    """:class:`ScoreSums` of one block of rows of a model with categorical
    columns, the indicators never built.

    Parameters
    ----------
    x_parts, y_parts, sample_weight, groups
        As in :func:`block_scores` (``x_parts``: the numeric columns).
    factors : sequence of (ndarray or pandas.Categorical)
        Each factor's labels.
    model : LevelScoreModel

    Returns
    -------
    ScoreSums

    Notes
    -----
    A row of the model has one column per term (its level's), so it is
    held sparse: ``s`` (column, value) slots.  Residuals and leverages
    ``w z' B z`` take ``O(s)`` and ``O(s**2)`` per row.  The HC meat
    ``sum_i u_i z_i z_i'`` is the ``u``-weighted moments of the same
    design, reduced by :func:`~dask_linreg._numerics.levels.block_level_moments`
    (per-level sums, numeric columns shifted) and moved to the model's
    centering: ``C_u + U d d'`` with ``d = m_u - x_mean``.  Cluster scores
    sum ``w e (q - mu)`` per cluster.
    """
    score = model.score
    x_block = RowBlock(x_parts, sample_weight)
    n_rows, weights = x_block.n_rows, x_block.weights
    x_columns = [
        np.asarray(part[:, j], dtype=np.float64)
        for part in x_parts
        for j in range(part.shape[1])
    ]
    y = np.column_stack(
        [np.asarray(part, dtype=np.float64) for part in y_parts]
    ).reshape(n_rows, -1)
    codes = [
        _level_codes(labels, levels, name)
        for labels, levels, name in zip(
            factors, model.levels, model.factor_names, strict=True
        )
    ]
    lead = int(score.fit_intercept)
    k = score.coef.shape[0] + lead
    n_targets = score.coef.shape[1]
    w = np.ones(n_rows) if weights is None else np.asarray(weights, dtype=np.float64)
    positive = n_rows if weights is None else int(np.count_nonzero(w > 0))
    positions, values, mu = _sparse_rows(model, x_columns, codes)
    full_coef = np.vstack([np.zeros((lead, n_targets)), score.coef])
    # e = (y - y_mean) - (q - mu) @ coef, q's numeric values centered.
    fitted = np.einsum("is,ist->it", values, full_coef[positions])
    residual = (y - score.y_mean) - fitted + mu @ full_coef
    weighted = w[:, None] * residual
    ssr = np.einsum("it,it->t", weighted, residual)
    if score.cov_type == "cluster":
        kept = w > 0
        labels, inverse = np.unique(np.asarray(groups)[kept], return_inverse=True)
        inverse = inverse.reshape(-1)
        scores = np.empty((labels.size, k, n_targets))
        flat = inverse[:, None] * k + positions[kept]
        for t in range(n_targets):
            per_slot = weighted[kept, t, None] * values[kept]
            sums = np.bincount(
                flat.ravel(), weights=per_slot.ravel(), minlength=labels.size * k
            ).reshape(labels.size, k)
            totals = np.bincount(
                inverse, weights=weighted[kept, t], minlength=labels.size
            )
            scores[:, :, t] = sums - np.outer(totals, mu)
        return ScoreSums(n_rows, positive, ssr, None, labels, scores)
    squared = weighted**2
    if score.cov_type in ("HC2", "HC3"):
        bread = score.centered_cov
        quadratic = np.zeros(n_rows)
        for a in range(positions.shape[1]):
            for b in range(positions.shape[1]):
                quadratic += (
                    values[:, a]
                    * values[:, b]
                    * bread[positions[:, a], positions[:, b]]
                )
        pulled = bread @ mu
        leverage = w * (
            quadratic
            - 2.0 * np.einsum("is,is->i", values, pulled[positions])
            + mu @ pulled
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            power = 1.0 if score.cov_type == "HC2" else 2.0
            squared = np.where(
                squared > 0, squared / (1.0 - leverage[:, None]) ** power, 0.0
            )
    meat = np.stack(
        [
            _weighted_meat(model, x_parts, factors, squared[:, t], lead, k)
            for t in range(n_targets)
        ]
    )
    return ScoreSums(n_rows, positive, ssr, meat)


def _weighted_meat(model, x_parts, factors, u, lead, k):
    """``sum_i u_i z_i z_i'`` in the model's columns and centering."""
    moments = block_level_moments(
        x_parts,
        [np.zeros((len(u), 1))],
        factors,
        u,
        factor_names=model.factor_names,
        terms=model.indicator_terms,
    )
    fitted = tuple(np.sort(np.asarray(lv, dtype=object)) for lv in model.levels)
    ordered = replace(moments.embedded(fitted), orders=None).reordered(model.levels)
    columns, _ = design_columns(ordered, model.model_terms, model.numeric)
    selected = select_moments(ordered.moments, columns)
    total = selected.weight_sum
    difference = selected.mean - model.score.x_mean
    meat = np.empty((k, k))
    inner = selected.comoment + total * np.outer(difference, difference)
    meat[lead:, lead:] = inner
    if lead:
        meat[0, 0] = total
        meat[0, 1:] = meat[1:, 0] = total * difference
    return meat
