"""Small, ill-conditioned least-squares problems with exact solutions.

Used by the accuracy tests and ``benchmarks/bench_accuracy.py``.  The
exact solution is computed with :class:`fractions.Fraction` from the very
float64 numbers an estimator is given, so "digits" measure how close a
method gets to the exact least-squares solution of the float64 data.
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["HardProblem", "hard_problems", "exact_least_squares", "correct_digits"]


@dataclass(frozen=True)
class HardProblem:
    """One test problem: data, model options and the exact answer."""

    name: str
    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    fit_intercept: bool
    coef: np.ndarray
    intercept: np.ndarray

    @property
    def raw_condition(self):
        """Condition number of the design as given (with a ones column)."""
        design = self.X
        if self.fit_intercept:
            design = np.column_stack([np.ones(len(self.X)), self.X])
        if self.sample_weight is not None:
            design = design * np.sqrt(self.sample_weight)[:, None]
        return float(np.linalg.cond(design))


def _solve_fractions(matrix, rhs):
    n = len(matrix)
    rows = [list(matrix[i]) + list(rhs[i]) for i in range(n)]
    for k in range(n):
        pivot = next(i for i in range(k, n) if rows[i][k] != 0)
        rows[k], rows[pivot] = rows[pivot], rows[k]
        head = rows[k][k]
        rows[k] = [v / head for v in rows[k]]
        for i in range(n):
            if i != k and rows[i][k] != 0:
                factor = rows[i][k]
                rows[i] = [
                    a - factor * b for a, b in zip(rows[i], rows[k], strict=True)
                ]
    return [row[n:] for row in rows]


def exact_least_squares(X, y, sample_weight=None, fit_intercept=True, alpha=0.0):
    """Exact weighted least squares (ridge if ``alpha > 0``) of float64 data,
    in rational arithmetic; the intercept is not penalized.

    Returns ``(coef, intercept)`` as float arrays of shapes
    ``(n_targets, n_features)`` and ``(n_targets,)`` (correctly rounded).
    The design must have full column rank.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    columns = [[Fraction(v) for v in column] for column in X.T]
    if fit_intercept:
        columns.insert(0, [Fraction(1)] * len(X))
    targets = [[Fraction(v) for v in column] for column in Y.T]
    weights = (
        [Fraction(1)] * len(X)
        if sample_weight is None
        else [Fraction(float(w)) for w in sample_weight]
    )
    weighted = [[w * v for w, v in zip(weights, c, strict=True)] for c in columns]
    gram = [
        [sum(a * b for a, b in zip(wc, c, strict=True)) for c in columns]
        for wc in weighted
    ]
    for i in range(int(fit_intercept), len(gram)):
        gram[i][i] += Fraction(float(alpha))
    rhs = [
        [sum(a * b for a, b in zip(wc, t, strict=True)) for t in targets]
        for wc in weighted
    ]
    solution = np.array(
        [[float(v) for v in row] for row in _solve_fractions(gram, rhs)]
    ).T
    if fit_intercept:
        return solution[:, 1:], solution[:, 0]
    return solution, np.zeros(Y.shape[1])


def correct_digits(estimate, exact):
    """Fewest correct significant digits over the entries,
    ``-log10(|estimate - exact| / |exact|)``, capped at 17."""
    estimate = np.asarray(estimate, dtype=np.float64).reshape(np.shape(exact))
    error = np.abs(estimate - exact) / np.abs(exact)
    with np.errstate(divide="ignore"):
        digits = -np.log10(np.maximum(error, 1e-17))
    return float(np.min(digits))


def _polynomial(x, degree):
    return np.vander(x, degree + 1, increasing=True)[:, 1:]


def hard_problems():
    """Twelve hard problems (see the numerics page of the docs).

    Returns
    -------
    list of HardProblem
    """
    rng = np.random.default_rng(20261126)
    specs = []

    def add(name, X, y, sample_weight=None, fit_intercept=True):
        specs.append((name, X, y, sample_weight, fit_intercept))

    x = np.linspace(1.0, 2.0, 60)
    add(
        "poly10 on [1, 2]",
        _polynomial(x, 10),
        np.sin(3 * x) + 0.01 * rng.standard_normal(60),
    )
    x = np.linspace(2.0, 3.0, 50)
    add(
        "poly10 on [2, 3]",
        _polynomial(x, 10),
        np.exp(x) + 0.1 * rng.standard_normal(50),
    )
    x = np.linspace(10.0, 11.0, 40)
    add(
        "poly5 on [10, 11]",
        _polynomial(x, 5),
        np.log(x) + 0.01 * rng.standard_normal(40),
    )
    x = np.linspace(10.0, 11.0, 40)
    add(
        "poly6 on [10, 11], large residual",
        _polynomial(x, 6),
        100 * rng.standard_normal(40) + x,
    )
    x = np.linspace(2.0, 3.0, 45)
    add(
        "poly8 on [2, 3], no intercept",
        _polynomial(x, 8),
        np.cos(x) + 0.001 * rng.standard_normal(45),
        fit_intercept=False,
    )
    x = np.linspace(0.5, 1.5, 70)
    add(
        "poly10 on [0.5, 1.5], residual >> signal",
        _polynomial(x, 10),
        1e-3 * x + rng.standard_normal(70),
    )
    x = np.linspace(1.0, 2.0, 55)
    add(
        "poly9 on [1, 2], weighted",
        _polynomial(x, 9),
        np.sqrt(x) + 0.01 * rng.standard_normal(55),
        sample_weight=rng.uniform(0.1, 5.0, 55),
    )
    spread = rng.standard_normal((80, 3))
    offsets = np.column_stack(
        [1e6 + spread[:, 0], 1e9 + spread[:, 1], 1e-3 * spread[:, 2]]
    )
    add(
        "offsets 1e6 and 1e9 next to a rate near zero",
        offsets,
        spread @ [2.0, -1.0, 3.0] + 0.1 * rng.standard_normal(80),
    )
    base = rng.standard_normal(60)
    near = np.column_stack(
        [base, base + 1e-7 * rng.standard_normal(60), rng.standard_normal(60)]
    )
    add(
        "near-collinear columns (1e-7)",
        near,
        near @ [1.0, 1.0, 0.5] + 0.01 * rng.standard_normal(60),
    )
    base = 1e6 + rng.standard_normal(60)
    near = np.column_stack(
        [base, base + 1e-4 * rng.standard_normal(60), rng.standard_normal(60)]
    )
    add(
        "near-collinear with offset 1e6, large residual",
        near,
        10 * rng.standard_normal(60) + near[:, 2],
    )
    spread = rng.standard_normal((50, 2))
    add(
        "offsets 1e6 without intercept",
        1e6 + spread,
        spread @ [1.0, 2.0] + 0.5 * rng.standard_normal(50),
        fit_intercept=False,
    )
    x = np.linspace(1.0, 2.0, 48)
    add(
        "poly8 on [1, 2], two targets",
        _polynomial(x, 8),
        np.column_stack([np.sin(x), 1e3 * np.cos(x)])
        + 0.01 * rng.standard_normal((48, 2)),
    )

    problems = []
    for name, X, y, sample_weight, fit_intercept in specs:
        coef, intercept = exact_least_squares(X, y, sample_weight, fit_intercept)
        if np.ndim(y) == 1:
            coef, intercept = coef[0], intercept[0]
        problems.append(
            HardProblem(name, X, y, sample_weight, fit_intercept, coef, intercept)
        )
    return problems
