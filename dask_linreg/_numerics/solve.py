"""Solve the small p-by-p systems built from merged :class:`~._stats.Moments`.

Plain NumPy/SciPy; no Dask.  Coefficients are returned with shape
``(n_features, n_targets)``; the estimators transpose them to
scikit-learn's ``(n_targets, n_features)``.
"""

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize
from scipy.linalg import lapack

__all__ = [
    "RANK_RCOND",
    "NormalEquations",
    "normal_equations",
    "solve_least_squares",
    "least_squares_and_spectrum",
    "cholesky_least_squares",
    "solve_ridge",
    "singular_values",
    "r2_scores",
    "solve_nonnegative",
]

#: Eigenvalues of the column-scaled cross-product matrix below ``RANK_RCOND``
#: times the largest are treated as zero: singular values of the scaled,
#: centered design below ``1e-6`` times the largest.  Normal equations cannot
#: resolve directions much weaker than ``sqrt(eps)`` anyway.
RANK_RCOND = 1e-12

#: :func:`cholesky_least_squares` answers only below this estimated condition
#: number of the column-scaled cross-product matrix.  LAPACK's estimate is a
#: lower bound of the 1-norm condition, itself at least the 2-norm one, and
#: rarely off by more than a factor of 10: even 1000 times too small, it
#: would leave every eigenvalue above ``RANK_RCOND`` times the largest, so
#: the rank decision of :func:`least_squares_and_spectrum` could not differ.
CHOLESKY_MAX_CONDITION = 1e9


@dataclass(frozen=True)
class NormalEquations:
    """Weighted normal equations of a least-squares problem.

    Attributes
    ----------
    xx : ndarray of shape (n_features, n_features)
        Centered (``fit_intercept=True``) or raw weighted cross-products of X.
    xy : ndarray of shape (n_features, n_targets)
        The same for X against Y.
    yy : ndarray of shape (n_targets, n_targets)
        The same for Y.
    x_offset : ndarray of shape (n_features,)
        Weighted means of X, or zeros without an intercept.
    y_offset : ndarray of shape (n_targets,)
        Weighted means of Y, or zeros without an intercept.
    weight_sum : float
        Sum of the sample weights.
    n_samples : int
        Number of rows.
    """

    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray
    x_offset: np.ndarray
    y_offset: np.ndarray
    weight_sum: float
    n_samples: int


def normal_equations(moments, n_features, *, fit_intercept):
    """Split moments of ``[X | Y]`` into the normal equations of X and Y.

    Parameters
    ----------
    moments : Moments
        Merged statistics of the augmented matrix ``[X | Y]``.
    n_features : int
        Number of leading columns that belong to X.
    fit_intercept : bool
        Whether the model has an intercept: then the cross-products are
        centered at the weighted means; otherwise they are raw.

    Returns
    -------
    NormalEquations
    """
    p = n_features
    if fit_intercept:
        cross = moments.comoment
        offset = moments.mean
    else:
        cross = moments.raw_cross_products()
        offset = np.zeros_like(moments.mean)
    return NormalEquations(
        xx=cross[:p, :p],
        xy=cross[:p, p:],
        yy=cross[p:, p:],
        x_offset=offset[:p],
        y_offset=offset[p:],
        weight_sum=moments.weight_sum,
        n_samples=moments.count,
    )


def solve_least_squares(xx, xy, *, rcond=RANK_RCOND):
    """Minimum-norm least-squares coefficients from the normal equations.

    Parameters
    ----------
    xx : ndarray of shape (p, p)
        Symmetric positive semidefinite cross-products ``X.T W X``.
    xy : ndarray of shape (p, k)
        Cross-products ``X.T W Y``.
    rcond : float, default=RANK_RCOND
        Relative eigenvalue threshold of the rank decision, applied to the
        column-scaled matrix ``D^-1 xx D^-1`` with ``D = sqrt(diag(xx))``.

    Returns
    -------
    coef : ndarray of shape (p, k)
        The solution of smallest Euclidean norm among the least-squares
        solutions of the rank-truncated problem (scikit-learn's and LAPACK's
        convention for rank-deficient designs).
    rank : int
        Numerical rank of the design.

    Notes
    -----
    The rank is decided on the scaled problem so that a column's units do
    not decide whether it is kept.  The scaled solution ``z`` gives a
    particular solution ``D^-1 z``; the null space of the scaled problem
    maps to ``D^-1 N`` in the original coordinates, and projecting it out
    yields the minimum-norm solution there.  Columns with zero spread (all
    equal after centering, or all zero) get a zero coefficient.  A Cholesky
    factorization answers where its condition estimate leaves no doubt of
    the rank (:func:`cholesky_least_squares`).
    """
    by_cholesky = cholesky_least_squares(xx, xy) if rcond == RANK_RCOND else None
    if by_cholesky is not None:
        return by_cholesky[:2]
    coef, rank, _ = least_squares_and_spectrum(xx, xy, rcond=rcond)
    return coef, rank


def _scaled_active(xx):
    """``(active, scale, scaled_xx)``: the columns of nonzero spread, their
    scale ``sqrt(diag(xx))`` and ``D^-1 xx D^-1`` over them."""
    scale = np.sqrt(np.clip(np.diag(xx), 0.0, None))
    active = np.flatnonzero(scale > 0.0)
    scale = scale[active]
    # One new p x p array, scaled in place: at 2,000 columns each p x p
    # temporary costs about a tenth of the Cholesky factorization.
    if active.size == xx.shape[0]:
        scaled = np.divide(xx, scale)
    else:
        scaled = xx[np.ix_(active, active)]
        scaled /= scale
    scaled /= scale[:, None]
    return active, scale, scaled


def least_squares_and_spectrum(xx, xy, *, rcond=RANK_RCOND):
    """:func:`solve_least_squares`, also returning the eigenvalues of the
    column-scaled ``xx`` (ascending; empty if every column is constant)."""
    p, k = xy.shape
    coef = np.zeros((p, k))
    active, scale, scaled_xx = _scaled_active(xx)
    if active.size == 0:
        return coef, 0, np.zeros(0)
    scaled_xy = xy[active] / scale[:, None]
    # The divide-and-conquer driver is several times faster than the default.
    eigenvalues, eigenvectors = linalg.eigh(scaled_xx, driver="evd")
    kept = eigenvalues > rcond * eigenvalues[-1]
    basis = eigenvectors[:, kept]
    scaled_coef = basis @ ((basis.T @ scaled_xy) / eigenvalues[kept][:, None])
    active_coef = scaled_coef / scale[:, None]
    if not kept.all():
        null_space, _ = linalg.qr(
            eigenvectors[:, ~kept] / scale[:, None], mode="economic"
        )
        active_coef -= null_space @ (null_space.T @ active_coef)
    coef[active] = active_coef
    return coef, int(kept.sum()), eigenvalues


def cholesky_least_squares(xx, xy, *, max_condition=CHOLESKY_MAX_CONDITION):
    """:func:`solve_least_squares` by a Cholesky factorization, when the
    column-scaled ``xx`` is well enough conditioned for the rank to be sure.

    Parameters
    ----------
    xx : ndarray of shape (p, p)
        Symmetric positive semidefinite cross-products ``X.T W X``.
    xy : ndarray of shape (p, k)
        Cross-products ``X.T W Y``.
    max_condition : float, default=CHOLESKY_MAX_CONDITION
        Largest estimated condition number of the scaled ``xx`` answered.

    Returns
    -------
    tuple or None
        ``(coef, rank, condition)``: the coefficients (zero for columns of
        zero spread), the number of columns of nonzero spread and LAPACK's
        estimate of the 1-norm condition number of the scaled ``xx`` over
        them (``dpocon``).  None when the factorization fails or the
        estimate exceeds ``max_condition``: then only the eigendecomposition
        of :func:`least_squares_and_spectrum` can decide the rank.

    Notes
    -----
    A factorization and a condition estimate cost about a sixth of the
    eigendecomposition's work (``p**3 / 3`` flops against about ``2 p**3``),
    and both are backward stable on the scaled matrix: below the threshold
    the two solutions agree to the accuracy either has.
    """
    p, k = xy.shape
    active, scale, scaled_xx = _scaled_active(xx)
    if active.size == 0:
        return None
    norm = float(np.abs(scaled_xx).sum(axis=0).max())
    try:
        # scaled_xx is this function's own copy: factored in place.
        factor = linalg.cho_factor(
            scaled_xx, lower=False, overwrite_a=True, check_finite=False
        )[0]
    except linalg.LinAlgError:
        return None
    reciprocal_condition, info = lapack.dpocon(factor, norm)
    if info != 0 or not reciprocal_condition * max_condition >= 1.0:
        return None
    coef = np.zeros((p, k))
    scaled_coef = linalg.cho_solve((factor, False), xy[active] / scale[:, None])
    coef[active] = scaled_coef / scale[:, None]
    return coef, int(active.size), float(1.0 / reciprocal_condition)


def solve_ridge(xx, xy, alpha):
    """Ridge coefficients ``(xx + alpha I)^-1 xy``, one alpha per target.

    Parameters
    ----------
    xx : ndarray of shape (p, p)
        Symmetric positive semidefinite cross-products ``X.T W X``.
    xy : ndarray of shape (p, k)
        Cross-products ``X.T W Y``.
    alpha : ndarray of shape (k,)
        Non-negative penalty for each target.

    Returns
    -------
    coef : ndarray of shape (p, k)

    Notes
    -----
    Targets sharing a penalty share one Cholesky factorization.  A zero
    penalty, or one below ``RANK_RCOND`` times the largest diagonal entry of
    ``xx`` (which the rounding of ``xx`` already exceeds), gives the
    minimum-norm least-squares solution (:func:`solve_least_squares`).  A
    penalty too small for Cholesky to succeed falls back to an
    eigendecomposition of ``xx``.
    """
    p, k = xy.shape
    coef = np.empty((p, k))
    # A penalty below the rank threshold is lost in the rounding of xx:
    # such a problem is solved as (rank-truncated) least squares.
    negligible = RANK_RCOND * max(float(np.max(np.diag(xx), initial=0.0)), 0.0)
    for value in np.unique(alpha):
        targets = np.flatnonzero(alpha == value)
        if value <= negligible:
            coef[:, targets], _ = solve_least_squares(xx, xy[:, targets])
            continue
        penalized = xx + value * np.eye(p)
        try:
            factor = linalg.cho_factor(penalized, lower=False, check_finite=False)
            coef[:, targets] = linalg.cho_solve(factor, xy[:, targets])
        except linalg.LinAlgError:
            eigenvalues, eigenvectors = linalg.eigh(xx)
            eigenvalues = np.clip(eigenvalues, 0.0, None) + value
            coef[:, targets] = eigenvectors @ (
                (eigenvectors.T @ xy[:, targets]) / eigenvalues[:, None]
            )
    return coef


def singular_values(xx, n_samples):
    """Singular values of the (weighted, centered) design, largest first.

    The square roots of the eigenvalues of ``xx``, as many as
    ``min(n_samples, n_features)`` like :func:`scipy.linalg.lstsq` returns.
    Values below about ``sqrt(eps)`` times the largest are not resolved by
    the cross-product matrix and come out as rounding noise.
    """
    eigenvalues = linalg.eigvalsh(xx)[::-1]
    count = min(n_samples, xx.shape[0])
    return np.sqrt(np.clip(eigenvalues[:count], 0.0, None))


def r2_scores(moments, n_targets):
    """Coefficients of determination from moments of ``[Y - Y_pred | Y]``.

    Parameters
    ----------
    moments : Moments
        Merged statistics of residuals (first ``n_targets`` columns) and
        targets (last ``n_targets`` columns).
    n_targets : int

    Returns
    -------
    ndarray of shape (n_targets,)
        ``1 - sum(w r**2) / sum(w (y - mean(y))**2)`` per target.  A constant
        target scores 1.0 when predicted perfectly and 0.0 otherwise, as
        :func:`sklearn.metrics.r2_score` does.
    """
    k = n_targets
    residual_mean = moments.mean[:k]
    residual_ss = np.diag(moments.comoment)[:k] + moments.weight_sum * residual_mean**2
    total_ss = np.diag(moments.comoment)[k:]
    scores = np.ones(k)
    varying = total_ss != 0.0
    scores[varying] = 1.0 - residual_ss[varying] / total_ss[varying]
    scores[~varying & (residual_ss != 0.0)] = 0.0
    return scores


def solve_nonnegative(root_x, root_y):
    """Non-negative least squares from a root of the cross-products.

    Parameters
    ----------
    root_x : ndarray of shape (m, p)
    root_y : ndarray of shape (m, k)
        ``[root_x | root_y]`` has ``.T @`` itself equal to the (centered)
        cross-products of ``[X | Y]``, so ``||root_x b - root_y[:, t]||``
        differs from the residual norm of the data only by a constant.

    Returns
    -------
    coef : ndarray of shape (p, k)
        Per target, ``argmin ||X b - y||`` subject to ``b >= 0``, by the
        active-set method of Lawson & Hanson (:func:`scipy.optimize.nnls`),
        as scikit-learn's ``positive=True`` uses.
    """
    coef = np.zeros((root_x.shape[1], root_y.shape[1]))
    for t in range(root_y.shape[1]):
        coef[:, t] = optimize.nnls(root_x, root_y[:, t])[0]
    return coef
