"""Accurate solves: from a triangular factor (``"qr"``) and from exact
cross-products (``"exact"``), plus the accuracy estimates that ``"auto"``
uses to choose between them.  Plain NumPy/SciPy and :mod:`fractions`.

Coefficients have shape ``(n_features, n_targets)``.
"""

from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
from scipy import linalg

from dask_linreg._numerics.solve import (
    RANK_RCOND,
    cholesky_least_squares,
    least_squares_and_spectrum,
    singular_values,
    solve_ridge,
)

__all__ = [
    "EPS",
    "FACTOR_RCOND",
    "Solution",
    "factor_equations",
    "exact_equations",
    "solve_factor",
    "solve_exact",
    "solve_normal",
    "with_lstsq_singular",
]

EPS = np.finfo(np.float64).eps

#: Scaled singular values below ``FACTOR_RCOND * n_features`` times the
#: largest are treated as zero by the ``"qr"`` and ``"exact"`` solvers: a
#: relative perturbation of the data of a few units in the last place could
#: make them vanish, so the data do not determine those directions.
FACTOR_RCOND = 10 * EPS


@dataclass(frozen=True)
class Solution:
    """Coefficients and what is known of their accuracy.

    Attributes
    ----------
    coef : ndarray of shape (n_features, n_targets)
    rank : int
        Numerical rank of the design.
    singular : ndarray or None
        Singular values of the (centered, weighted) design, largest first;
        None when the solve did not need them (least squares from the
        normal equations by Cholesky), which
        :meth:`~dask_linreg._numerics.moments.Moments.singular_values` then
        computes on demand.
    digits : float
        Estimated correct significant digits of ``coef`` relative to the
        exact least-squares solution of the float64 data.
    data_digits : float
        Digits of ``coef`` that the data themselves determine: the
        sensitivity of the solution to relative changes of one unit in the
        last place of the data, ``eps * cond * (1 + cond * residual ratio)``.
    condition : float
        Condition number of the column-scaled design (over the kept rank).
    rank_uncertain : bool
        Whether directions were dropped by a method that cannot tell an
        exact dependence from a weak but real direction (the normal
        equations); ``"auto"`` then takes a more accurate pass.
    factor : ndarray of shape (q, q) or None
        The triangular factor of the cross-products of ``[X | Y]`` that the
        exact solve computed (kept for inference, which needs it again).
    """

    coef: np.ndarray
    rank: int
    singular: np.ndarray
    digits: float
    data_digits: float
    condition: float
    rank_uncertain: bool = False
    factor: np.ndarray | None = None


def _digits(relative_error):
    return float(
        np.clip(-np.log10(max(relative_error, EPS / 2)), 0.0, -np.log10(EPS / 2))
    )


def _sensitivity_digits(condition, residual_norm, scaled_largest, scaled_coef_norm):
    ratio = residual_norm / max(scaled_largest * scaled_coef_norm, np.finfo(float).tiny)
    return _digits(EPS * condition * (1.0 + condition * ratio))


def _normal_equations_accuracy(scaled_eigenvalues, rcond):
    """``(digits, condition, truncated)`` of the normal equations from the
    eigenvalues of the column-scaled ``xx``.

    ``condition`` is the scaled design's, ``sqrt(lambda_max / lambda_min)``
    over the kept eigenvalues; the normal equations lose its square.
    ``truncated`` says eigenvalues below ``rcond`` times the largest were
    dropped: exact dependence, or directions too weak for ``xx`` to resolve,
    which only a more accurate method can tell apart.
    """
    if scaled_eigenvalues.size == 0:
        return _digits(EPS), 1.0, False
    largest = scaled_eigenvalues[-1]
    kept = scaled_eigenvalues[scaled_eigenvalues > rcond * largest]
    condition_squared = largest / kept[0]
    digits = _digits(EPS * condition_squared * scaled_eigenvalues.size)
    truncated = kept.size < scaled_eigenvalues.size
    return digits, float(np.sqrt(condition_squared)), truncated


def solve_normal(equations, alpha=None):
    """Least squares (or ridge) from the normal equations, with accuracy.

    Parameters
    ----------
    equations : NormalEquations
    alpha : ndarray of shape (n_targets,), default=None
        Ridge penalties; None for ordinary least squares.

    Returns
    -------
    Solution

    Notes
    -----
    A Cholesky factorization with LAPACK's condition estimate answers when
    the estimate shows the rank is certain
    (:func:`~dask_linreg._numerics.solve.cholesky_least_squares`); the
    accuracy is then judged by the estimate, which is at least the 2-norm
    condition up to its error, so no more digits are promised than the
    eigenvalues would have; the singular values are then left out
    (``singular`` None).  Otherwise the scaled eigendecomposition decides
    the rank and gives the condition exactly.
    """
    xx, xy = equations.xx, equations.xy
    # Cholesky first; the eigendecomposition only where the condition
    # estimate leaves the rank in doubt.
    by_cholesky = cholesky_least_squares(xx, xy)
    if by_cholesky is not None:
        coef, rank, condition_squared = by_cholesky
        digits = _digits(EPS * condition_squared * rank)
        condition, truncated = float(np.sqrt(condition_squared)), False
    else:
        coef, rank, spectrum = least_squares_and_spectrum(xx, xy)
        digits, condition, truncated = _normal_equations_accuracy(spectrum, RANK_RCOND)
    # What the data determine is not resolved by xx beyond its rank
    # threshold; eps * condition is an optimistic bound.
    data_digits = _digits(EPS * condition)
    # The spectrum of xx is not needed to solve least squares: left to
    # whoever asks (Moments.singular_values), where Cholesky answered.
    singular = None
    if alpha is not None or by_cholesky is None:
        singular = singular_values(xx, equations.n_samples)
    if alpha is not None:
        coef = solve_ridge(xx, xy, alpha)
        # Ridge conditioning: (s_max**2 + alpha) / (s_min**2 + alpha).
        smallest_alpha = float(np.min(alpha))
        largest = singular[0] ** 2 if singular.size else 0.0
        smallest = singular[-1] ** 2 if singular.size == xx.shape[0] else 0.0
        if smallest_alpha > 0 or smallest > 0:
            ridge_condition = (largest + smallest_alpha) / (smallest + smallest_alpha)
            digits = max(digits, _digits(EPS * ridge_condition * xx.shape[0]))
            data_digits = max(data_digits, digits)
    return Solution(coef, rank, singular, digits, data_digits, condition, truncated)


def factor_equations(moments, n_features, *, fit_intercept):
    """``(R, x_offset, y_offset)`` from merged :class:`TriangularMoments`.

    ``R`` is the q-by-q factor of the centered (or, without an intercept,
    raw) cross-products of ``[X | Y]``.
    """
    if fit_intercept:
        factor, offset = moments.factor, moments.mean
    else:
        factor, offset = moments.raw_factor(), np.zeros_like(moments.mean)
    return factor, offset[:n_features], offset[n_features:]


def _min_norm(r11, r12, rcond):
    """Minimum-norm solution of ``min ||r11 @ b - r12||`` by a scaled SVD.

    ``r11`` is any matrix with ``r11.T @ r11`` equal to the cross-products
    of X (a triangular factor, possibly with permuted columns).

    Returns ``(coef, rank, scaled singular values, scale)``.
    """
    p = r11.shape[1]
    # hypot: squaring entries beyond 1e154 would overflow.
    scale = np.hypot.reduce(r11, axis=0) if r11.shape[0] else np.zeros(p)
    active = np.flatnonzero(scale > 0)
    coef = np.zeros((p, r12.shape[1]))
    if active.size == 0:
        return coef, 0, np.zeros(0), scale
    left, singular, right_t = linalg.svd(
        r11[:, active] / scale[active], full_matrices=False
    )
    kept = singular > rcond * active.size * singular[0]
    scaled_coef = right_t[kept].T @ ((left[:, kept].T @ r12) / singular[kept][:, None])
    active_coef = scaled_coef / scale[active][:, None]
    if not kept.all():
        null_space, _ = linalg.qr(
            right_t[~kept].T / scale[active][:, None], mode="economic"
        )
        active_coef -= null_space @ (null_space.T @ active_coef)
    coef[active] = active_coef
    return coef, int(kept.sum()), singular[kept], scale


def _residual_norm(factor, p):
    """Largest residual norm over targets, from the trailing block of R."""
    if factor.shape[0] <= p:
        return 0.0
    return float(np.linalg.norm(factor[p:, p:], axis=0).max(initial=0.0))


def solve_factor(factor, n_features, alpha=None, *, rcond=FACTOR_RCOND):
    """Least squares (or ridge) from a triangular factor of ``[X | Y]``.

    Parameters
    ----------
    factor : ndarray of shape (q, q)
        ``R`` with ``R.T @ R`` the cross-products of ``[X | Y]``.
    n_features : int
    alpha : ndarray of shape (n_targets,), default=None
        Ridge penalties; None for ordinary least squares.
    rcond : float, default=FACTOR_RCOND

    Returns
    -------
    Solution

    Notes
    -----
    Least squares: ``R11 b = R12`` in the least-squares sense, by an SVD of
    the column-scaled ``R11`` (the condition number is not squared), with
    the minimum-norm solution when the scaled rank is deficient.  Ridge:
    the QR factorization of ``[R11; sqrt(alpha) I]`` against
    ``[R12; 0]`` per distinct alpha.
    """
    p = n_features
    r11, r12 = factor[:p, :p], factor[:p, p:]
    residual = _residual_norm(factor, p)
    singular = linalg.svdvals(r11)
    coef, rank, scaled_singular, scale = _min_norm(r11, r12, rcond)
    condition = float(scaled_singular[0] / scaled_singular[-1]) if rank else 1.0
    scaled_norm = float(np.linalg.norm(coef * scale[:, None], axis=0).max(initial=0.0))
    largest = float(scaled_singular[0]) if rank else 1.0
    data_digits = _sensitivity_digits(condition, residual, largest, scaled_norm)
    digits = data_digits
    if alpha is not None:
        smallest_alpha = float(np.min(alpha))
        if smallest_alpha > 0:
            # [R11; sqrt(alpha) I] has condition sqrt((s_max^2 + a) / (s_min^2 + a)).
            ridge_condition = np.sqrt(
                (singular[0] ** 2 + smallest_alpha)
                / (singular[-1] ** 2 + smallest_alpha)
            )
            digits = max(digits, _digits(EPS * ridge_condition))
            data_digits = max(data_digits, digits)
        coef = np.empty_like(coef)
        for value in np.unique(alpha):
            targets = np.flatnonzero(alpha == value)
            if value == 0.0:
                coef[:, targets] = _min_norm(r11, r12[:, targets], rcond)[0]
                continue
            stacked = np.vstack([r11, np.sqrt(value) * np.eye(p)])
            rhs = np.vstack([r12[:, targets], np.zeros((p, targets.size))])
            coef[:, targets] = linalg.lstsq(stacked, rhs)[0]
    return Solution(coef, rank, singular, digits, data_digits, condition)


@dataclass(frozen=True)
class ExactEquations:
    """Exact normal equations as an integer matrix times a rational scale.

    Attributes
    ----------
    integers : list of list of int
        ``N`` such that ``scale * N`` are the exact centered (or raw)
        cross-products of ``[X | Y]``.
    scale : fractions.Fraction
        Positive scale.
    """

    integers: list
    scale: Fraction


def exact_equations(exact, n_features, *, fit_intercept):
    """Exact normal equations from :class:`ExactCrossProducts`.

    Returns
    -------
    equations : ExactEquations
    x_offset, y_offset : ndarray of float
        Weighted means (zeros without an intercept), rounded to float64.

    Notes
    -----
    With ``G = 2**e * I`` the exact cross-products of ``[1 | Z]``, the
    centered ones are ``(2**e / I_00) * (I_00 * I_zz - I_z0 * I_0z)``: an
    integer matrix times a scale, so elimination needs no fractions.
    """
    g = exact.integers
    q = g.shape[0] - 1
    weight = int(g[0, 0])
    sums = [int(g[0, j]) for j in range(1, q + 1)]
    power = Fraction(2) ** exact.exponent
    if fit_intercept:
        integers = [
            [weight * int(g[i, j]) - sums[i - 1] * sums[j - 1] for j in range(1, q + 1)]
            for i in range(1, q + 1)
        ]
        scale = power / weight
        offset = np.array([float(Fraction(s, weight)) for s in sums])
    else:
        integers = [[int(g[i, j]) for j in range(1, q + 1)] for i in range(1, q + 1)]
        scale = power
        offset = np.zeros(q)
    return ExactEquations(integers, scale), offset[:n_features], offset[n_features:]


def _scaled_root(value, square):
    """``value / sqrt(square)`` as a float, for rationals of any size."""
    # sqrt(a / b) = sqrt(a) / sqrt(b) taken apart: the ratio itself may not
    # fit in a float even when the result does.
    ratio = Fraction(value * value) / square
    exponent = (ratio.numerator.bit_length() - ratio.denominator.bit_length()) // 2
    magnitude = float(np.sqrt(float(ratio / Fraction(2) ** (2 * exponent))))
    magnitude = float(np.ldexp(magnitude, exponent))
    return magnitude if value > 0 else -magnitude


def _exact_factor(equations, p):
    """Float triangular factor of exact cross-products, by exact elimination.

    Symmetric fraction-free (Bareiss) elimination of the integer matrix,
    pivoting on the largest scaled pivot among X's columns (a column's
    squared distance to the span of the previous pivots, relative to its
    squared norm), then on Y's columns.  With ``m_k`` the k-th pivot (a
    leading principal minor, ``m_-1 = 1``), row ``k`` of the factor is
    ``a_kj / sqrt(m_k m_(k-1))``, rounded to float64 only at the end: the
    factor is accurate to about a unit in the last place entrywise, however
    ill-conditioned the data.  X columns exactly dependent on the pivots
    get zero rows.

    Returns
    -------
    factor : ndarray of shape (q, q)
        ``R`` whose first ``p`` rows belong to X and last ``q - p`` rows to
        Y, columns in the original order, with ``R.T @ R`` the cross-products
        up to rounding.
    reduced : list of list of int
        The eliminated integer rows, in pivot order.
    order : list of int
        Original column of each position.
    """
    a = [row[:] for row in equations.integers]
    q = len(a)
    norms = [a[i][i] for i in range(q)]
    order = list(range(q))
    factor = np.zeros((q, q))
    previous = 1
    rows_used = {True: 0, False: 0}
    for k in range(q):
        for is_x in (True, False):
            candidates = [i for i in range(k, q) if (order[i] < p) == is_x]
            candidates = [i for i in candidates if a[i][i] > 0]
            if candidates:
                break
        else:
            break
        # The largest a_ii / norm_i, compared as integers.
        pivot = candidates[0]
        for i in candidates[1:]:
            if a[i][i] * norms[order[pivot]] > a[pivot][pivot] * norms[order[i]]:
                pivot = i
        a[k], a[pivot] = a[pivot], a[k]
        for row in a:
            row[k], row[pivot] = row[pivot], row[k]
        order[k], order[pivot] = order[pivot], order[k]
        head = a[k][k]
        is_x = order[k] < p
        out = factor[rows_used[is_x] + (0 if is_x else p)]
        rows_used[is_x] += 1
        # The factor of scale * N: a_kj * sqrt(scale / (m_k m_(k-1))).
        denominator = Fraction(head * previous) / equations.scale
        for j in range(k, q):
            if a[k][j]:
                out[order[j]] = _scaled_root(a[k][j], denominator)
        for i in range(k + 1, q):
            a_ik = a[i][k]
            row_i = a[i]
            for j in range(i, q):
                row_i[j] = (head * row_i[j] - a_ik * a[k][j]) // previous
                a[j][i] = row_i[j]
        previous = head
    return factor, a, order


def _back_substitute(reduced, order, p, targets):
    """Exact solution from the eliminated rows of :func:`_exact_factor`.

    At full rank the first ``p`` pivots are X's columns and their rows form
    an upper triangular system for the Y columns ``targets``.
    """
    columns = {original: position for position, original in enumerate(order)}
    solution = np.zeros((p, len(targets)))
    for t, target in enumerate(targets):
        y_position = columns[p + target]
        values = [Fraction(0)] * p
        for i in reversed(range(p)):
            row = reduced[i]
            total = Fraction(row[y_position])
            for j in range(i + 1, p):
                total -= row[j] * values[j]
            values[i] = total / row[i]
        for i in range(p):
            solution[order[i], t] = float(values[i])
    return solution


def _integer_solve(matrix, rhs):
    """Exact solution of ``matrix @ x = rhs`` for integer matrices.

    Fraction-free (Bareiss) forward elimination, then back-substitution in
    :class:`~fractions.Fraction`; the matrix must be nonsingular.
    """
    n, k = len(matrix), len(rhs[0])
    a = [matrix[i][:] + rhs[i][:] for i in range(n)]
    previous = 1
    for col in range(n):
        pivot = next(i for i in range(col, n) if a[i][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        head = a[col][col]
        for i in range(col + 1, n):
            a_ic = a[i][col]
            row_i, row_c = a[i], a[col]
            for j in range(col + 1, n + k):
                row_i[j] = (head * row_i[j] - a_ic * row_c[j]) // previous
            row_i[col] = 0
        previous = head
    solution = [[Fraction(0)] * k for _ in range(n)]
    for i in reversed(range(n)):
        for t in range(k):
            total = Fraction(a[i][n + t])
            for j in range(i + 1, n):
                total -= a[i][j] * solution[j][t]
            solution[i][t] = total / a[i][i]
    return solution


def solve_exact(equations, n_features, alpha=None, *, rcond=FACTOR_RCOND):
    """Least squares (or ridge) from exact cross-products.

    Parameters
    ----------
    equations : ExactEquations
        Exact cross-products of ``[X | Y]``.
    n_features : int
    alpha : ndarray of shape (n_targets,), default=None
        Ridge penalties; None for ordinary least squares.
    rcond : float, default=FACTOR_RCOND

    Returns
    -------
    Solution

    Notes
    -----
    The rank is decided on an accurately rounded triangular factor (see
    :func:`solve_factor`).  At full rank the normal equations, which are
    exact, are solved exactly (integer elimination): the coefficients are
    the exact least-squares (or ridge) solution of the float64 data,
    correctly rounded.  When the data do not determine all directions, the
    minimum-norm solution of the rank-truncated problem comes from the
    factor.
    """
    p = n_features
    n = equations.integers
    q = len(n)
    factor, reduced, order = _exact_factor(equations, p)
    by_factor = solve_factor(factor, p, alpha, rcond=rcond)
    penalties = np.zeros(q - p) if alpha is None else alpha
    full_rank = by_factor.rank == p
    coef = by_factor.coef.copy()
    for value in np.unique(penalties):
        targets = np.flatnonzero(penalties == value)
        if value == 0.0:
            if full_rank:
                # The elimination that gave the factor already solved it.
                coef[:, targets] = _back_substitute(reduced, order, p, targets)
            continue
        # scale * (N + (alpha / scale) I): clear the penalty's denominator.
        ratio = Fraction(float(value)) / equations.scale
        matrix = [
            [
                ratio.denominator * n[i][j] + (ratio.numerator if i == j else 0)
                for j in range(p)
            ]
            for i in range(p)
        ]
        rhs = [[ratio.denominator * n[i][p + t] for t in targets] for i in range(p)]
        exact = _integer_solve(matrix, rhs)
        coef[:, targets] = np.array([[float(v) for v in row] for row in exact])
    digits = _digits(EPS) if full_rank else by_factor.digits
    return Solution(
        coef,
        by_factor.rank,
        by_factor.singular,
        digits,
        by_factor.data_digits,
        by_factor.condition,
        factor=factor,
    )


def with_lstsq_singular(solution, n_samples, n_features):
    """``solution`` with as many singular values as :func:`scipy.linalg.lstsq`
    reports (at most the number of rows)."""
    return replace(solution, singular=solution.singular[: min(n_samples, n_features)])
