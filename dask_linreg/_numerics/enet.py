"""Elastic net from merged statistics (NumPy + scikit-learn's solver).

The elastic-net objective of scikit-learn,

    1 / (2 W) * sum_i w_i (y_i - x_i @ b - b0)**2
        + alpha * l1_ratio * ||b||_1 + alpha * (1 - l1_ratio) / 2 * ||b||**2,

depends on the data only through the weighted means and cross-products of
``[X | y]``.  Any ``F`` with ``F.T @ F`` equal to the centered
cross-products is a dataset of ``m = p + k`` rows with the same residual sums
of squares up to a constant, so scikit-learn's coordinate descent
(:func:`sklearn.linear_model.enet_path`, with the covariance updates of
Friedman, Hastie & Tibshirani) runs on ``F`` with ``alpha`` rescaled by
``W / m``: the same iterates, the same dual-gap stopping rule, on a
p-by-p problem whatever the number of rows.
"""

import numpy as np
from sklearn.linear_model import enet_path

from dask_linreg._numerics.cv import held_out_errors

__all__ = ["elastic_net_path", "alpha_grid", "elastic_net_fold_errors"]


def elastic_net_path(
    moments,
    n_features,
    alphas,
    l1_ratio,
    *,
    fit_intercept,
    max_iter=1000,
    tol=1e-4,
    positive=False,
):
    """Elastic-net coefficients along decreasing ``alphas``, per target.

    Parameters
    ----------
    moments : StatisticKind
        Of ``[X | Y]``: any kind; a triangular factor is itself the root the
        coordinate descent runs on (no eigendecomposition of moments).
    n_features : int
    alphas : ndarray of shape (n_alphas,)
        Decreasing penalties (warm starts go from one to the next).
    l1_ratio : float
    fit_intercept : bool
    max_iter, tol, positive
        As in :class:`sklearn.linear_model.ElasticNet`.

    Returns
    -------
    coef : ndarray of shape (n_alphas, n_features, n_targets)
    intercept : ndarray of shape (n_alphas, n_targets)
    n_iter : ndarray of shape (n_targets,)
        Coordinate-descent sweeps at the last penalty.
    """
    p = n_features
    root = moments.root(p, fit_intercept=fit_intercept)[0]
    root_x, root_y = np.ascontiguousarray(root[:, :p]), root[:, p:]
    scale = moments.weight_sum / root.shape[0]
    gram = root_x.T @ root_x
    n_targets = root_y.shape[1]
    coef = np.zeros((len(alphas), p, n_targets))
    n_iter = np.zeros(n_targets, dtype=int)
    for t in range(n_targets):
        target = np.ascontiguousarray(root_y[:, t])
        _, path, _, iterations = enet_path(
            root_x,
            target,
            l1_ratio=l1_ratio,
            alphas=np.asarray(alphas) * scale,
            precompute=gram,
            Xy=root_x.T @ target,
            max_iter=max_iter,
            tol=tol,
            positive=positive,
            check_input=False,
            return_n_iter=True,
        )
        coef[:, :, t] = path.T
        n_iter[t] = iterations[-1]
    if fit_intercept:
        mean = moments.mean
        intercept = mean[p:][None, :] - np.einsum("i,aik->ak", mean[:p], coef)
    else:
        intercept = np.zeros((len(alphas), n_targets))
    return coef, intercept, n_iter


def alpha_grid(statistic, n_features, l1_ratio, *, fit_intercept, eps, n_alphas):
    """scikit-learn's grid: ``n_alphas`` log-spaced from ``alpha_max`` (the
    smallest penalty with all coefficients zero) down to ``eps * alpha_max``.

    ``statistic`` is the :class:`~dask_linreg._numerics.tsqr.TriangularMoments` of
    all rows.
    """
    p = n_features
    root = statistic.factor if fit_intercept else statistic.raw_factor()
    xy = root[:, :p].T @ root[:, p:]
    alpha_max = np.sqrt(np.sum(xy**2, axis=1)).max() / (statistic.weight_sum * l1_ratio)
    if alpha_max <= np.finfo(float).resolution:
        return np.full(n_alphas, np.finfo(float).resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def elastic_net_fold_errors(
    folds, n_features, alphas, l1_ratio, *, fit_intercept, max_iter, tol, positive
):
    """Weighted mean squared validation error of every penalty on every fold.

    Parameters
    ----------
    folds : list of TriangularMoments
        Per fold, of ``[X | y]``.

    Returns
    -------
    ndarray of shape (n_alphas, n_folds)
        For target 0 (the cross-validated estimators take one target); the
        held-out errors are norms of each fold's factor applied to the
        residual direction (:func:`~dask_linreg._numerics.cv.held_out_errors`).
    """

    def fit(training):
        coef, _, _ = elastic_net_path(
            training,
            n_features,
            alphas,
            l1_ratio,
            fit_intercept=fit_intercept,
            max_iter=max_iter,
            tol=tol,
            positive=positive,
        )
        return coef[:, :, :1]

    errors = [
        sse[:, 0] / validation.weight_sum
        for validation, sse in held_out_errors(
            folds, n_features, fit, fit_intercept=fit_intercept
        )
    ]
    return np.array(errors).T
