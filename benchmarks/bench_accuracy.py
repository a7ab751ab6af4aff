"""Digits of accuracy on small hard least-squares problems with exact answers.

For each problem of :func:`tests.hard_problems.hard_problems` (solved
exactly with fractions from the float64 data), prints the fewest correct
significant digits over the coefficients, ``-log10(|estimate - exact| /
|exact|)``, for NumPy's and SciPy's ``lstsq``, scikit-learn's
``LinearRegression``, statsmodels' ``OLS`` (if installed) and
``dask_linreg.LinearRegression`` with each solver.

Run: ``python benchmarks/bench_accuracy.py [--markdown | --rst]``.
"""

import argparse
import warnings

import numpy as np
import scipy.linalg
from sklearn.linear_model import LinearRegression as SkLinearRegression

from dask_linreg import LinearRegression
from tests.hard_problems import correct_digits, hard_problems


def _design(problem):
    """The design with a column of ones (if fitted) and weights applied."""
    X = problem.X
    if problem.fit_intercept:
        X = np.column_stack([np.ones(len(X)), X])
    root = (
        np.ones(len(X))
        if problem.sample_weight is None
        else np.sqrt(problem.sample_weight)
    )
    Y = problem.y.reshape(len(X), -1)
    return X * root[:, None], Y * root[:, None]


def _slopes(problem, solution):
    solution = solution.reshape(-1, np.shape(problem.y.reshape(len(problem.X), -1))[1])
    coef = solution[1:] if problem.fit_intercept else solution
    return coef.T.reshape(np.shape(problem.coef))


def numpy_lstsq(problem):
    A, Y = _design(problem)
    return _slopes(problem, np.linalg.lstsq(A, Y, rcond=None)[0])


def scipy_lstsq(problem):
    A, Y = _design(problem)
    return _slopes(problem, scipy.linalg.lstsq(A, Y)[0])


def sklearn_fit(problem):
    model = SkLinearRegression(fit_intercept=problem.fit_intercept)
    return model.fit(problem.X, problem.y, sample_weight=problem.sample_weight).coef_


def statsmodels_fit(problem):
    import statsmodels.api as sm

    A, Y = _design(problem)
    params = np.column_stack(
        [sm.OLS(Y[:, t], A).fit().params for t in range(Y.shape[1])]
    )
    return _slopes(problem, params)


def ours(solver):
    def fit(problem):
        model = LinearRegression(solver=solver, fit_intercept=problem.fit_intercept)
        return model.fit(
            problem.X, problem.y, sample_weight=problem.sample_weight
        ).coef_

    return fit


def methods():
    listed = [
        ("numpy lstsq", numpy_lstsq),
        ("scipy lstsq", scipy_lstsq),
        ("sklearn", sklearn_fit),
    ]
    try:
        import statsmodels  # noqa: F401
    except ImportError:
        pass
    else:
        listed.append(("statsmodels", statsmodels_fit))
    listed += [(f"ours {s}", ours(s)) for s in ("cholesky", "qr", "exact", "auto")]
    return listed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rst", action="store_true", help="print an RST list-table")
    args = parser.parse_args(argv)
    listed = methods()
    rows = []
    for problem in hard_problems():
        row = [problem.name, f"{problem.raw_condition:.0e}"]
        for _, method in listed:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    row.append(f"{correct_digits(method(problem), problem.coef):.1f}")
                except (np.linalg.LinAlgError, ValueError) as exc:
                    row.append(type(exc).__name__)
        rows.append(row)
    header = ["problem", "cond"] + [name for name, _ in listed]
    if args.rst:
        print(".. list-table::\n   :header-rows: 1\n")
        for row in [header, *rows]:
            print("   * - " + "\n     - ".join(row))
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
