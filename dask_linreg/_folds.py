"""Cross-validation from per-fold statistics (pure NumPy).

One pass yields the moments of every fold (:func:`block_fold_moments`,
merged fold by fold with :func:`merge_fold_moments`).  A fold's training
statistics are the merge of the *other* folds (an addition of disjoint row
sets, never a subtraction), and every penalty is evaluated on every fold
from the statistics alone (:func:`ridge_fold_scores`,
:func:`ridge_gcv_scores`).
"""

import numpy as np
from scipy import linalg

from dask_linreg._stats import block_moments, empty_moments, merge_moments

__all__ = [
    "HASHED_X_COLUMNS",
    "assign_folds",
    "block_fold_moments",
    "merge_fold_moments",
    "training_moments",
    "ridge_path",
    "ridge_fold_scores",
    "ridge_gcv_scores",
    "fitted_r2",
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


def block_fold_moments(x_parts, y_parts, sample_weight, labels):
    """Moments of ``[X | Y]`` per fold of a block of rows.

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
        Fold label -> :class:`~dask_linreg._stats.Moments`.
    """
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return {}
    # Row indices grouped by fold (one stable sort); each fold's rows are
    # gathered piece by piece into the statistic's scratch buffer, never
    # copied as a whole.
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    bounds = np.r_[starts, len(labels)]
    folds = {}
    for k, label in enumerate(ordered[starts]):
        rows = order[bounds[k] : bounds[k + 1]]
        key = label.item() if hasattr(label, "item") else label
        folds[key] = block_moments([*x_parts, *y_parts], sample_weight, rows=rows)
    return folds


def merge_fold_moments(a, b):
    """Fold-by-fold merge of two :func:`block_fold_moments` results."""
    merged = dict(a)
    for label, moments in b.items():
        merged[label] = merge_moments(merged[label], moments) if label in a else moments
    return merged


def training_moments(folds):
    """Moments of all folds but one, for each fold, by additions only.

    Parameters
    ----------
    folds : list of Moments
        One per fold.

    Returns
    -------
    list of Moments
        ``training[k]`` is the merge of every fold except ``k``, from
        prefix and suffix merges (``2 K`` merges in all).
    """
    n = len(folds)
    q = folds[0].comoment.shape[0]
    prefix = [empty_moments(q)]
    for moments in folds:
        prefix.append(merge_moments(prefix[-1], moments))
    suffix = [empty_moments(q)]
    for moments in reversed(folds):
        suffix.append(merge_moments(moments, suffix[-1]))
    suffix.reverse()
    return [merge_moments(prefix[k], suffix[k + 1]) for k in range(n)]


def ridge_path(moments, n_features, alphas, *, fit_intercept):
    """Ridge coefficients for every penalty from one eigendecomposition.

    Parameters
    ----------
    moments : Moments
        Of ``[X | Y]``.
    n_features : int
    alphas : ndarray of shape (n_alphas,)
    fit_intercept : bool

    Returns
    -------
    coef : ndarray of shape (n_alphas, n_features, n_targets)
    intercept : ndarray of shape (n_alphas, n_targets)
    eigenvalues : ndarray of shape (n_features,)
        Of the (centered) ``X.T W X``.
    """
    p = n_features
    cross = moments.comoment if fit_intercept else moments.raw_cross_products()
    xx, xy = cross[:p, :p], cross[:p, p:]
    eigenvalues, eigenvectors = linalg.eigh(xx, driver="evd")
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    projected = eigenvectors.T @ xy  # (p, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = 1.0 / (eigenvalues[None, :] + alphas[:, None])  # (A, p)
    # A zero penalty on a null direction: the minimum-norm solution drops it.
    shrink[~np.isfinite(shrink)] = 0.0
    coef = np.einsum("ij,aj,jk->aik", eigenvectors, shrink, projected)
    mean = moments.mean
    if fit_intercept:
        intercept = mean[p:] - np.einsum("i,aik->ak", mean[:p], coef)
    else:
        intercept = np.zeros((len(alphas), xy.shape[1]))
    return coef, intercept, eigenvalues


def _squared_errors(moments, n_features, coef, intercept):
    """Weighted sum of squared errors of every ``(coef, intercept)`` on the
    rows of ``moments``: shape (n_alphas, n_targets)."""
    p = n_features
    c = moments.comoment
    cxx, cxy, cyy = c[:p, :p], c[:p, p:], np.diag(c[p:, p:])
    spread = (
        np.einsum("aik,ij,ajk->ak", coef, cxx, coef)
        - 2 * np.einsum("aik,ik->ak", coef, cxy)
        + cyy[None, :]
    )
    mean = moments.mean
    bias = mean[p:][None, :] - intercept - np.einsum("i,aik->ak", mean[:p], coef)
    return np.clip(spread, 0.0, None) + moments.weight_sum * bias**2


def fitted_r2(moments, n_features, coef, intercept):
    """R² of a fitted single-target model on the rows of ``moments`` (its
    training data): no pass over the data.

    Parameters
    ----------
    moments : Moments
        Of ``[X | y]``.
    n_features : int
    coef : ndarray of shape (n_features,)
    intercept : float
    """
    errors = _squared_errors(
        moments,
        n_features,
        np.reshape(coef, (1, n_features, 1)),
        np.array([[intercept]], dtype=np.float64),
    )
    total = moments.comoment[n_features, n_features]
    return 1.0 - float(errors[0, 0]) / total


def ridge_fold_scores(folds, n_features, alphas, *, fit_intercept, scoring):
    """Validation score of every penalty on every fold.

    Parameters
    ----------
    folds : list of Moments
        Per fold, of ``[X | Y]``.
    n_features : int
    alphas : ndarray of shape (n_alphas,)
    fit_intercept : bool
    scoring : {"neg_mean_squared_error", "r2"}

    Returns
    -------
    ndarray of shape (n_folds, n_alphas, n_targets)
        Weighted mean squared error (negated) or R² of the model trained on
        the other folds, per target.
    """
    scores = []
    for validation, training in zip(folds, training_moments(folds), strict=True):
        coef, intercept, _ = ridge_path(
            training, n_features, alphas, fit_intercept=fit_intercept
        )
        errors = _squared_errors(validation, n_features, coef, intercept)
        if scoring == "r2":
            total = np.diag(validation.comoment)[n_features:]
            with np.errstate(divide="ignore", invalid="ignore"):
                scores.append(1.0 - errors / total[None, :])
        else:
            scores.append(-errors / validation.weight_sum)
    return np.array(scores)


def ridge_gcv_scores(moments, n_features, alphas, *, fit_intercept, n_samples):
    """Generalized cross-validation (Golub, Heath & Wahba) of every penalty.

    ``GCV(alpha) = (RSS / n) / (1 - df / n)**2`` with ``df`` the trace of
    the hat matrix, ``sum(lambda / (lambda + alpha))`` (plus 1 for the
    intercept), from the eigenvalues of ``X.T W X``.

    Returns
    -------
    ndarray of shape (n_alphas, n_targets)
        ``-GCV``: larger is better, like the negated mean squared error it
        estimates.
    """
    coef, intercept, eigenvalues = ridge_path(
        moments, n_features, alphas, fit_intercept=fit_intercept
    )
    if fit_intercept:
        errors = _squared_errors(moments, n_features, coef, intercept)
    else:
        raw = moments.raw_cross_products()
        p = n_features
        errors = (
            np.einsum("aik,ij,ajk->ak", coef, raw[:p, :p], coef)
            - 2 * np.einsum("aik,ik->ak", coef, raw[:p, p:])
            + np.diag(raw[p:, p:])[None, :]
        )
        errors = np.clip(errors, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = eigenvalues[None, :] / (eigenvalues[None, :] + alphas[:, None])
    ratio[~np.isfinite(ratio)] = 0.0
    df = ratio.sum(axis=1) + (1.0 if fit_intercept else 0.0)
    n = float(n_samples)
    return -(errors / n) / (1.0 - df[:, None] / n) ** 2
