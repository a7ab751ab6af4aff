"""Cross-validation from per-fold statistics (pure NumPy).

One pass yields the statistics of every fold (:func:`block_fold_factors`,
merged fold by fold with :func:`merge_folds`): the weighted means
and a triangular factor (TSQR) of the centered cross-products of
``[X | Y]``.  A fold's training statistics are the merge of the *other*
folds (an addition of disjoint row sets, never a subtraction), and every
penalty is evaluated on every fold from the statistics alone
(:func:`ridge_fold_scores`, :func:`ridge_gcv_scores`), with the held-out
squared errors taken as norms of the held-out fold's factor applied to the
residual direction (:func:`squared_errors`), so they keep their digits
however well the model fits.  :func:`best_candidate` chooses among the
candidates with a rule that rounding cannot flip.
"""

import numpy as np
from scipy import linalg

from dask_linreg._numerics.levels import block_level_moments
from dask_linreg._numerics.tsqr import (
    TriangularMoments,
    block_factor,
    empty_factor,
    merge_factors,
)

__all__ = [
    "HASHED_X_COLUMNS",
    "TIE_RTOL",
    "assign_folds",
    "block_fold_factors",
    "block_fold_level_moments",
    "merge_folds",
    "training_factors",
    "ridge_path",
    "squared_errors",
    "held_out_errors",
    "ridge_fold_scores",
    "ridge_gcv_scores",
    "fitted_r2",
    "penalty_preference",
    "best_candidate",
]

#: The fold of a row is a hash of its targets and of up to this many of its
#: first features.
HASHED_X_COLUMNS = 8
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(h):
    """The splitmix64 finalizer: every input bit changes about half the output."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def assign_folds(x_parts, y_parts, n_folds):
    """Fold index (0 .. n_folds - 1) of each row, from the row's values.

    Parameters
    ----------
    x_parts, y_parts : list of ndarray
        Column groups of X and Y (2-D) of a block of rows.
    n_folds : int

    Returns
    -------
    ndarray of int64, shape (n_rows,)

    Notes
    -----
    The float64 bits of the targets and of the first ``HASHED_X_COLUMNS``
    features are mixed with splitmix64: the fold depends on the row alone,
    not on its position, the chunking or the partitioning, and folds come
    out of nearly equal size for any data without many duplicate rows
    (identical rows share a fold).
    """
    n_rows = len(x_parts[0])
    if n_folds == 1:
        return np.zeros(n_rows, dtype=np.int64)
    columns = [*y_parts]
    remaining = HASHED_X_COLUMNS
    for part in x_parts:
        if remaining <= 0:
            break
        columns.append(part[:, :remaining])
        remaining -= part.shape[1]
    h = np.full(n_rows, _GOLDEN, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for part in columns:
            bits = np.asarray(part, dtype=np.float64)
            # +0.0 for -0.0, so that equal numbers hash equally.
            bits = (bits + 0.0).view(np.uint64)
            for j in range(bits.shape[1]):
                h = _mix(h ^ bits[:, j] + _GOLDEN)
    return (h % np.uint64(n_folds)).astype(np.int64)


def block_fold_factors(x_parts, y_parts, sample_weight, labels):
    """Statistics of ``[X | Y]`` per fold of a block of rows.

    Parameters
    ----------
    x_parts, y_parts : list of ndarray
    sample_weight : ndarray of shape (n_rows,) or None
    labels : ndarray of shape (n_rows,)
        Fold label of each row (integers from :func:`assign_folds`, or the
        user's labels of any sortable type).

    Returns
    -------
    dict
        Fold label -> :class:`~dask_linreg._numerics.tsqr.TriangularMoments`: the
        weighted means and a triangular factor of the centered
        cross-products, computed by Householder QR of the (shifted) rows.

    Notes
    -----
    A factor rather than the cross-products themselves: the held-out error
    of a model that fits almost exactly is a tiny quadratic form of the
    fold's cross-products, which their rounding (``eps * ||C||``) would
    swamp; the factor holds it to ``eps`` times the residual's own size
    (see :func:`squared_errors`).  Householder QR costs about 3 to 5 times
    the symmetric rank-k update of the moments.
    """
    columns = [np.asarray(c) for c in (*x_parts, *y_parts)]
    if sample_weight is not None:
        # Converted once, not once per fold.
        sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    return {
        key: block_factor(columns, sample_weight, rows=rows)
        for key, rows in _fold_rows(labels)
    }


def _fold_rows(labels):
    """``(label, row indices)`` of each fold of a block, labels sorted."""
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return
    # Row indices grouped by fold (one stable sort); each fold's rows are
    # gathered piece by piece, never copied as a whole.
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    bounds = np.r_[starts, len(labels)]
    for k, label in enumerate(ordered[starts]):
        key = label.item() if hasattr(label, "item") else label
        yield key, order[bounds[k] : bounds[k + 1]]


def block_fold_level_moments(
    x_parts, y_parts, sample_weight, labels, factors, **level_options
):
    """:class:`~dask_linreg._numerics.levels.LevelMoments` of ``[X | Y]``
    and the indicators of ``factors`` per fold of a block of rows.

    Parameters
    ----------
    x_parts, y_parts, sample_weight, labels
        As in :func:`block_fold_factors`.
    factors : sequence of (ndarray or pandas.Categorical)
        Each factor's labels.
    **level_options
        ``factor_names``, ``max_levels`` and ``terms`` of
        :func:`~dask_linreg._numerics.levels.block_level_moments`.

    Returns
    -------
    dict
        Fold label -> LevelMoments.  Cross-products rather than factors: a
        categorical design's statistic is built from per-level sums (see
        :func:`~dask_linreg._numerics.tsqr.factor_of_moments`).
    """
    folds = {}
    for key, rows in _fold_rows(labels):
        folds[key] = block_level_moments(
            [part[rows] for part in x_parts],
            [part[rows] for part in y_parts],
            [labels_of[rows] for labels_of in factors],
            None if sample_weight is None else np.asarray(sample_weight)[rows],
            **level_options,
        )
    return folds


def merge_folds(a, b):
    """Fold-by-fold merge of two :func:`block_fold_factors` (or
    :func:`block_fold_level_moments`) results."""
    merged = dict(a)
    for label, statistic in b.items():
        merged[label] = merged[label].merge(statistic) if label in a else statistic
    return merged


def training_factors(folds):
    """Statistics of all folds but one, for each fold, by additions only.

    Parameters
    ----------
    folds : list of TriangularMoments
        One per fold.

    Returns
    -------
    list of TriangularMoments
        ``training[k]`` is the merge of every fold except ``k``, from
        prefix and suffix merges (``2 K`` merges in all).
    """
    n = len(folds)
    q = folds[0].factor.shape[0]
    prefix = [empty_factor(q)]
    for factor in folds:
        prefix.append(merge_factors(prefix[-1], factor))
    suffix = [empty_factor(q)]
    for factor in reversed(folds):
        suffix.append(merge_factors(factor, suffix[-1]))
    suffix.reverse()
    return [merge_factors(prefix[k], suffix[k + 1]) for k in range(n)]


def ridge_path(statistic, n_features, alphas, *, fit_intercept):
    """Ridge coefficients for every penalty from one singular value
    decomposition.

    Parameters
    ----------
    statistic : TriangularMoments
        Of ``[X | Y]``.
    n_features : int
    alphas : ndarray of shape (n_alphas,)
    fit_intercept : bool

    Returns
    -------
    coef : ndarray of shape (n_alphas, n_features, n_targets)
    intercept : ndarray of shape (n_alphas, n_targets)
    eigenvalues : ndarray of shape (n_features,)
        Of the (centered) ``X.T W X``: the squared singular values of the
        factor's X block.

    Notes
    -----
    With ``R = [R_x | R_y]`` the factor (``R.T @ R`` the cross-products)
    and ``R_x = U S V.T``, the ridge solution is ``V diag(s / (s**2 +
    alpha)) U.T R_y``: the SVD of ``R_x`` never squares its condition
    number, as an eigendecomposition of ``X.T W X`` would.
    """
    p = n_features
    root = statistic.factor if fit_intercept else statistic.raw_factor()
    left, singular, right_t = linalg.svd(root[:, :p], full_matrices=False)
    projected = left.T @ root[:, p:]  # (p, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = singular[None, :] / (singular[None, :] ** 2 + alphas[:, None])
    # A zero penalty on a null direction: the minimum-norm solution drops it.
    shrink[~np.isfinite(shrink)] = 0.0
    coef = np.einsum("ji,aj,jk->aik", right_t, shrink, projected)
    mean = statistic.mean
    if fit_intercept:
        intercept = mean[p:] - np.einsum("i,aik->ak", mean[:p], coef)
    else:
        intercept = np.zeros((len(alphas), root.shape[1] - p))
    return coef, intercept, singular**2


def _mean_difference(a, b):
    """``mean(a) - mean(b)`` as a difference of nearby shifts plus a
    difference of small offsets (no large means subtracted)."""
    return (a.shift - b.shift) + (a.offset - b.offset)


def squared_errors(validation, training, n_features, coef, *, fit_intercept):
    """Weighted sum of squared errors, on the rows of ``validation``, of the
    models fitted on ``training``: shape (n_alphas, n_targets).

    Parameters
    ----------
    validation, training : TriangularMoments
        Of ``[X | Y]``; the same object for a model's own training error.
    n_features : int
    coef : ndarray of shape (n_alphas, n_features, n_targets)
        Fitted on ``training``, with the intercept (if any) that makes the
        residuals sum to zero there.
    fit_intercept : bool

    Notes
    -----
    With ``R`` the held-out factor (``R.T @ R`` its centered
    cross-products ``C``), ``m`` the means and ``v = [-b; 1]``::

        SSE = ||R @ v||**2 + W * (delta_y - delta_x @ b)**2

    where ``delta = m_validation - m_training`` (with an intercept) or
    ``delta = m_validation`` (without).  The expansion ``c_yy - 2 b.T c_xy
    + b.T C_xx b`` of the first term would cancel all but a fraction
    ``SSE / c_yy`` of its digits, and a root of ``C`` itself would inherit
    the cross-products' rounding ``eps * ||C||``; Householder QR of the rows
    makes the error of ``R @ v`` about ``eps * sum_j ||z_j|| |v_j|``, a
    small multiple of ``eps`` times the residual's norm unless the fit is
    nearly exact, and then still far smaller than the residual.
    """
    p = n_features
    root = validation.factor
    residual = root[None, :, p:] - np.einsum("ij,ajk->aik", root[:, :p], coef)
    spread = np.einsum("aik,aik->ak", residual, residual)
    if fit_intercept:
        delta = _mean_difference(validation, training)
    else:
        delta = validation.mean
    bias = delta[p:][None, :] - np.einsum("i,aik->ak", delta[:p], coef)
    return spread + validation.weight_sum * bias**2


def held_out_errors(folds, n_features, fit, *, fit_intercept):
    """Yield ``(validation, errors)`` per fold: the fold's statistic and the
    :func:`squared_errors` on it of the models ``fit`` trains on the other
    folds.

    Parameters
    ----------
    folds : list of TriangularMoments
        Per fold, of ``[X | Y]``.
    n_features : int
    fit : callable
        ``fit(training)`` -> coefficients of shape (n_alphas, n_features,
        n_targets), from the statistic of the training rows, with the
        intercept that makes their residuals sum to zero.
    fit_intercept : bool
    """
    for validation, training in zip(folds, training_factors(folds), strict=True):
        coef = fit(training)
        yield (
            validation,
            squared_errors(
                validation, training, n_features, coef, fit_intercept=fit_intercept
            ),
        )


def fitted_r2(statistic, n_features, coef, intercept):
    """R² of a fitted single-target model on the rows of ``statistic`` (its
    training data): no pass over the data.

    Parameters
    ----------
    statistic : TriangularMoments or Moments
        Of ``[X | y]``.  With a triangular factor the residual sum of
        squares is a norm of the factor applied to ``[-coef; 1]``, accurate
        to ``eps`` times the residual's own size; with moments it is the
        quadratic form of the cross-products, which carries their rounding
        ``eps * ||C||`` (pass the fit's factor where it kept one).
    n_features : int
    coef : ndarray of shape (n_features,)
    intercept : float
    """
    p = n_features
    coef = np.asarray(coef, dtype=np.float64).reshape(p)
    mean = statistic.mean
    bias = mean[p] - intercept - mean[:p] @ coef
    if isinstance(statistic, TriangularMoments):
        root = statistic.factor
        residual = root[:, p] - root[:, :p] @ coef
        spread = residual @ residual
        total = root[:, p] @ root[:, p]
    else:
        c = statistic.comoment
        spread = max(coef @ c[:p, :p] @ coef - 2 * coef @ c[:p, p] + c[p, p], 0.0)
        total = c[p, p]
    errors = float(spread + statistic.weight_sum * bias**2)
    if total == 0.0:  # a constant target, as scikit-learn's r2_score
        return 1.0 if errors == 0.0 else 0.0
    return 1.0 - errors / float(total)


#: A fold's target counts as constant (scikit-learn's R² is then 1 for a
#: perfect prediction and 0 otherwise) when its weighted standard deviation
#: is below this fraction of its mean: the spread that the rounding of
#: merged means (an ulp per merge) leaves on exactly constant data.
CONSTANT_SPREAD = 64 * np.finfo(np.float64).eps


def _r2_scores(errors, validation, n_features):
    """R² of every penalty and target on a held-out fold, scikit-learn's
    ``r2_score(force_finite=True)``: a constant target scores 1.0 when
    predicted perfectly and 0.0 otherwise, never -inf or NaN."""
    root = validation.factor[:, n_features:]
    total = np.einsum("ik,ik->k", root, root)
    resolution = (
        validation.weight_sum
        * (CONSTANT_SPREAD * np.abs(validation.mean[n_features:])) ** 2
    )
    constant = total <= resolution
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = 1.0 - errors / total[None, :]
    perfect = np.where(errors <= resolution[None, :], 1.0, 0.0)
    return np.where(constant[None, :], perfect, scores)


def ridge_fold_scores(folds, n_features, alphas, *, fit_intercept, scoring):
    """Validation score of every penalty on every fold.

    Parameters
    ----------
    folds : list of TriangularMoments
        Per fold, of ``[X | Y]``.
    n_features : int
    alphas : ndarray of shape (n_alphas,)
    fit_intercept : bool
    scoring : {"neg_mean_squared_error", "r2"}

    Returns
    -------
    ndarray of shape (n_folds, n_alphas, n_targets)
        Weighted mean squared error (negated) or R² of the model trained on
        the other folds, per target; R² of a fold whose target is constant
        is 1.0 if predicted perfectly and 0.0 otherwise (scikit-learn's
        ``r2_score``).
    """

    def fit(training):
        return ridge_path(training, n_features, alphas, fit_intercept=fit_intercept)[0]

    scores = []
    for validation, errors in held_out_errors(
        folds, n_features, fit, fit_intercept=fit_intercept
    ):
        if scoring == "r2":
            scores.append(_r2_scores(errors, validation, n_features))
        else:
            scores.append(-errors / validation.weight_sum)
    return np.array(scores)


def ridge_gcv_scores(statistic, n_features, alphas, *, fit_intercept, n_samples):
    """Generalized cross-validation (Golub, Heath & Wahba) of every penalty.

    ``GCV(alpha) = (RSS / n) / (1 - df / n)**2`` with ``df`` the trace of
    the hat matrix, ``sum(lambda / (lambda + alpha))`` (plus 1 for the
    intercept), from the eigenvalues of ``X.T W X``.

    Parameters
    ----------
    statistic : TriangularMoments
        Of ``[X | Y]``, all rows.

    Returns
    -------
    ndarray of shape (n_alphas, n_targets)
        ``-GCV``: larger is better, like the negated mean squared error it
        estimates.
    """
    coef, _, eigenvalues = ridge_path(
        statistic, n_features, alphas, fit_intercept=fit_intercept
    )
    errors = squared_errors(
        statistic, statistic, n_features, coef, fit_intercept=fit_intercept
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = eigenvalues[None, :] / (eigenvalues[None, :] + alphas[:, None])
    ratio[~np.isfinite(ratio)] = 0.0
    df = ratio.sum(axis=1) + (1.0 if fit_intercept else 0.0)
    n = float(n_samples)
    return -(errors / n) / (1.0 - df[:, None] / n) ** 2


#: Candidates whose validation error is within this relative distance of the
#: smallest are tied (see :func:`best_candidate`).
TIE_RTOL = 1e-10


def penalty_preference(penalties):
    """Rank of each candidate in the tie-break order: the largest penalty
    first (the most regularized model), equal penalties in the order given.

    Parameters
    ----------
    penalties : array-like of shape (n_candidates,)

    Returns
    -------
    ndarray of int of shape (n_candidates,)
        0 for the preferred candidate.
    """
    order = np.argsort(-np.asarray(penalties, dtype=np.float64), kind="stable")
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    return rank


def best_candidate(errors, preference, *, atol=0.0):
    """Index of the candidate of smallest validation error, with ties
    decided by a fixed preference, not by rounding.

    Parameters
    ----------
    errors : array-like of shape (n_candidates,)
        Validation error of each candidate (smaller is better); NaN counts
        as the worst.
    preference : ndarray of int of shape (n_candidates,)
        Tie-break rank of each candidate (0 first), e.g. from
        :func:`penalty_preference`.
    atol : float, default=0.0
        Absolute resolution of the errors (for errors formed as ``1 - R²``,
        which rounding knows only to about ``eps``).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When every error is NaN.

    Notes
    -----
    Candidates within ``TIE_RTOL * |best| + atol`` of the smallest error
    ``best`` are ties, and the tie goes to the candidate preferred by
    ``preference``.  ``TIE_RTOL = 1e-10`` is far above the rounding of the
    errors (sums of squares, accurate to a small multiple of ``eps``, 2e-16,
    on data that do not fit exactly), so which of several equally good
    candidates wins no longer depends on the BLAS kernel, the threads or
    the chunking; and far below any difference that means anything
    statistically: the standard error of a validation mean squared error
    over ``n`` rows is about ``sqrt(2 / n)`` of it, above ``1e-10`` for any
    data of fewer than ``1e20`` rows.
    """
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    valid = ~np.isnan(errors)
    if not valid.any():
        raise ValueError(
            f"All {errors.size} cross-validation scores are NaN, so no candidate "
            "can be chosen: the held-out errors could not be computed (too few "
            "rows, or values whose squares overflow float64)."
        )
    best = errors[valid].min()
    tied = valid & (errors <= best + TIE_RTOL * abs(best) + atol)
    candidates = np.flatnonzero(tied)
    return int(candidates[np.argmin(np.asarray(preference)[candidates])])
