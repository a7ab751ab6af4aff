"""Regression summaries: a text table like statsmodels', and frames.

:class:`Summary` is built from :class:`~dask_linreg.RegressionResults`
(one per target) and only reads them: its text is written once, when it is
created, as the results are snapshots.
"""

import textwrap

import numpy as np
import pandas as pd

from dask_linreg.inference._checks import check_level

__all__ = ["Summary"]

#: Width of the text summary, statsmodels' (78 characters).
_STATISTIC_WIDTH = 78


class Summary:
    """A regression summary: a text table like statsmodels', and frames.

    ``str(summary)`` (or ``print(summary)``) gives the text; the same
    numbers are in :attr:`coefficients` and :attr:`statistics`.  Like the
    results it is made of, a snapshot of the fit it was taken from.

    Parameters
    ----------
    results : list of RegressionResults
        One per target, in the order of the targets.
    alpha : float, default=0.05
        Level of the confidence intervals.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        One row per coefficient (indexed by ``(target, term)`` when there
        are several targets): ``coef``, ``std err``, ``t``, ``P>|t|``,
        interval bounds, ``identified``.
    statistics : pandas.DataFrame
        Model statistics (rows) per target (columns).
    """

    def __init__(self, results, alpha=0.05):
        alpha = check_level(alpha)
        self._results = list(results)
        self._alpha = alpha
        tables = [r.coefficient_table(alpha) for r in self._results]
        if len(tables) == 1:
            self.coefficients = tables[0]
        else:
            self.coefficients = pd.concat(
                tables, keys=[r.target for r in self._results], names=["target"]
            )
        self.statistics = pd.concat([r.statistics() for r in self._results], axis=1)
        # Written once: the results are snapshots, and so is the text.
        self._text = "\n\n".join(_target_text(r, alpha) for r in self._results)

    def as_text(self):
        """The summary as text.

        Returns
        -------
        str
        """
        return self._text

    def __str__(self):
        return self.as_text()

    def __repr__(self):
        return self.as_text()

    def _repr_html_(self):
        return (
            "<pre>"
            + self.as_text().replace("&", "&amp;").replace("<", "&lt;")
            + "</pre>"
        )


def _format_number(value, width=10, precision=4):
    """statsmodels' table format: fixed decimals, or 3 significant digits
    in exponent form for very large or small magnitudes."""
    if value is None or not np.isfinite(value):
        return "nan".rjust(width)
    value = float(value)
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-4):
        return f"{value:{width}.3g}"
    return f"{value:{width}.{precision}f}"


def _target_text(results, alpha):
    weighted = results._weighted
    title = f"{'WLS' if weighted else 'OLS'} Regression Results"
    left = [
        ("Dep. Variable:", results.target),
        ("Model:", "WLS" if weighted else "OLS"),
        ("Method:", "Least Squares"),
        ("No. Observations:", f"{results.nobs}"),
        ("Df Residuals:", f"{results.df_resid}"),
        ("Df Model:", f"{results.df_model}"),
        ("Covariance Type:", results.cov_type),
    ]
    kind = getattr(results, "rsquared_kind", None) or (
        None if results.k_constant else "uncentered"
    )
    r2 = f"R-squared ({kind}):" if kind else "R-squared:"
    adj = f"Adj. R-squared ({kind}):" if kind else "Adj. R-squared:"
    right = [
        (r2, f"{results.rsquared:.3f}"),
        (adj, f"{results.rsquared_adj:.3f}"),
        ("F-statistic:", f"{results.fvalue:#.4g}"),
        ("Prob (F-statistic):", f"{results.f_pvalue:#.3g}"),
        ("Log-Likelihood:", f"{results.llf:#.5g}"),
        ("AIC:", f"{results.aic:#.4g}"),
        ("BIC:", f"{results.bic:#.4g}"),
    ]
    lines = [title.center(_STATISTIC_WIDTH), "=" * _STATISTIC_WIDTH]
    for (lk, lv), (rk, rv) in zip(left, right, strict=True):
        lv, rv = str(lv).strip(), str(rv).strip()
        lines.append(
            f"{lk:<18}{lv[-19:]:>19}   {rk:<{38 - max(len(rv), 9)}}{rv:>{max(len(rv), 9)}}"
        )
    lines.append("=" * _STATISTIC_WIDTH)
    table = results.coefficient_table(alpha)
    letter = "t" if results.use_t else "z"
    width = max(12, *(len(str(name)) + 1 for name in table.index))
    width = min(width, 30)
    header = (
        " " * width
        + f"{'coef':>11}{'std err':>11}{letter:>10}{'P>|' + letter + '|':>9}"
        + f"{'[' + format(alpha / 2, 'g'):>12}{format(1 - alpha / 2, 'g') + ']':>12}"
    )
    lines += [header, "-" * max(_STATISTIC_WIDTH, len(header))]
    for name, row in table.iterrows():
        label = str(name)[: width - 1].ljust(width)
        if not row["identified"]:
            lines.append(
                label + "not identified (collinear with other columns)".rjust(40)
            )
            continue
        lines.append(
            label
            + _format_number(row["coef"], 11, 4)
            + _format_number(row["std err"], 11, 3)
            + _format_number(row[letter], 10, 3)
            + f"{row[f'P>|{letter}|']:9.3f}"
            + _format_number(row.iloc[4], 12, 3)
            + _format_number(row.iloc[5], 12, 3)
        )
    lines.append("=" * max(_STATISTIC_WIDTH, len(header)))
    lines.append(
        f"Condition No. (sqrt(w) [1 | X]): {results.condition_number:.3g}"
        if results.k_constant
        else f"Condition No. (sqrt(w) X): {results.condition_number:.3g}"
    )
    notes = [
        f"Solved by {results._solver!r} from statistics merged over the data in "
        f"{results._n_passes} pass(es)."
    ]
    if results.cov_type == "nonrobust":
        notes.append(
            "Standard errors assume that the covariance matrix of the errors is "
            "correctly specified."
        )
    elif results.cov_type == "cluster":
        notes.append(
            f"Standard errors are robust to correlation within {results.n_groups} "
            "clusters (CR1, small-sample corrected)."
        )
    else:
        notes.append(
            f"Standard errors are heteroskedasticity robust ({results.cov_type})."
        )
    if results.n_dropped:
        notes.append(
            f"{results.n_dropped} row(s) with a missing value were left out "
            f"(missing='drop'); No. Observations counts the {results.nobs} kept."
        )
    missing = [n for n, ok in results.identified.items() if not ok]
    if missing:
        notes.append(
            f"The design has rank {results.df_model + results.k_constant} < "
            f"{len(results.identified)}: {', '.join(missing)} are not identified "
            "(exactly collinear); their coefficients are the minimum-norm choice "
            "and carry no inference."
        )
    lines.append("Notes:")
    for i, note in enumerate(notes, start=1):
        lines += textwrap.wrap(
            f"[{i}] {note}", _STATISTIC_WIDTH, subsequent_indent="    "
        )
    return "\n".join(lines)
