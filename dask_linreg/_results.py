"""Inference results: coefficient tables, tests and prediction intervals.

The objects here hold only small arrays computed by
:mod:`dask_linreg._inference` (nothing refers to the data), and mirror the
names of statsmodels' ``RegressionResults`` so that its users find their
way: ``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int()``,
``rsquared``, ``fvalue``, ``llf``, ``f_test()``, ``get_prediction()``...
"""

import re
import textwrap
from dataclasses import dataclass

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
from scipy import stats

from dask_linreg._inference import NULL_TOLERANCE, uncenter

__all__ = [
    "RegressionResults",
    "Summary",
    "TestResult",
    "PredictionResults",
]

_STATISTIC_WIDTH = 78


def _ratio(numerator, denominator):
    """``numerator / denominator`` as a float, NaN for a zero denominator
    (no residual degrees of freedom, a constant target)."""
    if denominator == 0:
        return float("nan")
    return float(numerator) / float(denominator)


def _distribution(use_t, df):
    return stats.t(df) if use_t else stats.norm()


class RegressionResults:
    """Inference for one target of a fitted :class:`~dask_linreg.LinearRegression`.

    Created by :meth:`LinearRegression.inference
    <dask_linreg.LinearRegression.inference>`; all attributes are computed
    from the fit's merged statistics (and, for robust covariances, from one
    more pass), so nothing here touches the data.  Names follow statsmodels'
    ``RegressionResults``; the weights are precision weights as in
    statsmodels' ``WLS`` (rows of zero weight are absent).

    Attributes
    ----------
    params : pandas.Series
        Coefficients, the intercept first (named ``"intercept"``) when the
        model has one.
    bse, tvalues, pvalues : pandas.Series
        Standard errors, t (or z) statistics and two-sided p-values; NaN for
        coefficients that are not identified.
    identified : pandas.Series of bool
        Whether the data determine each coefficient (False for the
        coefficients involved in an exact collinearity).
    nobs : int
        Rows of positive weight.
    df_model, df_resid : int
        Rank of the design without the intercept, and ``nobs`` minus the
        rank with it.
    scale : float
        Residual variance ``ssr / df_resid`` (sigma²).
    ssr, ess : float
        Weighted residual and explained sums of squares.
    centered_tss, uncentered_tss : float
        Weighted total sum of squares about the weighted mean, and about 0;
        only the one that matches the model (with or without intercept) is
        set, the other is None.
    rsquared, rsquared_adj : float
        R² and adjusted R² (uncentered without an intercept, as statsmodels).
    fvalue, f_pvalue : float
        F statistic that all coefficients but the intercept are zero, and its
        p-value; with a robust covariance, the Wald F statistic.
    mse_model, mse_resid, mse_total : float
    llf, aic, bic : float
        Gaussian log-likelihood and information criteria.
    condition_number : float
        Ratio of the largest to the smallest singular value of the weighted
        design ``sqrt(w) [1 | X]``.
    cov_type : str
        ``"nonrobust"``, ``"HC0"`` ... ``"HC3"`` or ``"cluster"``.
    use_t : bool
        Whether p-values and intervals use the t distribution (else normal).
    df_resid_inference : int
        Degrees of freedom of the t and F distributions: ``df_resid``, or
        the number of clusters minus one for ``"cluster"``.
    n_groups : int or None
        Number of clusters for ``"cluster"``.
    target : str
        Name of the target.
    """

    def __init__(
        self,
        *,
        model,
        target,
        params,
        names,
        summary,
        target_index,
        centered_cov,
        cov_type,
        use_t,
        n_groups=None,
    ):
        self._model = model
        self._summary = summary
        self._centered_cov = centered_cov
        self.target = target
        self.cov_type = cov_type
        self.use_t = use_t
        self.n_groups = n_groups
        index = pd.Index(names)
        self._names = list(names)
        self.params = pd.Series(params, index=index, name="coef")
        self.identified = pd.Series(
            np.linalg.norm(summary.null_space, axis=1) <= NULL_TOLERANCE,
            index=index,
            name="identified",
        )
        cov = uncenter(centered_cov, summary.x_mean, summary.fit_intercept)
        unidentified = ~self.identified.to_numpy()
        cov[unidentified, :] = np.nan
        cov[:, unidentified] = np.nan
        self._cov = cov
        self.nobs = summary.nobs
        self.df_model = summary.df_model
        self.df_resid = summary.df_resid
        self.df_resid_inference = (
            n_groups - 1 if cov_type == "cluster" else summary.df_resid
        )
        self.k_constant = int(summary.fit_intercept)
        self.ssr = float(summary.ssr[target_index])
        tss = float(summary.tss[target_index])
        self.centered_tss = tss if summary.fit_intercept else None
        self.uncentered_tss = None if summary.fit_intercept else tss
        self.ess = tss - self.ssr
        self.scale = _ratio(self.ssr, self.df_resid)
        self.rsquared = 1.0 - _ratio(self.ssr, tss)
        self.rsquared_adj = 1.0 - _ratio(self.nobs - self.k_constant, self.df_resid) * (
            1.0 - self.rsquared
        )
        self.mse_model = _ratio(self.ess, self.df_model)
        self.mse_resid = self.scale
        self.mse_total = _ratio(tss, self.nobs - self.k_constant)
        self.bse = pd.Series(np.sqrt(np.diag(cov)), index=index, name="std err")
        with np.errstate(divide="ignore", invalid="ignore"):
            self.tvalues = pd.Series(
                self.params.to_numpy() / self.bse.to_numpy(), index=index, name="t"
            )
        distribution = self._distribution()
        self.pvalues = pd.Series(
            2 * distribution.sf(np.abs(self.tvalues.to_numpy())),
            index=index,
            name="P>|t|",
        )
        self.llf = float(summary.llf[target_index])
        n_parameters = self.df_model + self.k_constant
        self.aic = -2 * self.llf + 2 * n_parameters
        self.bic = -2 * self.llf + np.log(self.nobs) * n_parameters
        self.condition_number = summary.condition_number
        self.fvalue, self.f_pvalue = self._overall_f()

    def _distribution(self):
        return _distribution(self.use_t, self.df_resid_inference)

    def _overall_f(self):
        slopes = [
            j
            for j in range(self.k_constant, len(self._names))
            if self.identified.iloc[j]
        ]
        if self.df_model == 0 or not slopes:
            return np.nan, np.nan
        if self.cov_type == "nonrobust":
            fvalue = _ratio(self.mse_model, self.mse_resid)
            if self.df_resid <= 0:
                return fvalue, float("nan")
            return fvalue, float(stats.f.sf(fvalue, self.df_model, self.df_resid))
        restrictions = np.eye(len(self._names))[slopes]
        test = self.f_test(restrictions)
        return test.statistic, test.pvalue

    def cov_params(self):
        """Covariance matrix of the coefficients (``scale`` included).

        Returns
        -------
        pandas.DataFrame of shape (k, k)
            NaN in the rows and columns of coefficients not identified.
        """
        return pd.DataFrame(self._cov, index=self._names, columns=self._names)

    def conf_int(self, alpha=0.05):
        """Confidence intervals of the coefficients.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``, one row per coefficient.
        """
        _check_level(alpha)
        quantile = self._distribution().isf(alpha / 2)
        half = quantile * self.bse.to_numpy()
        params = self.params.to_numpy()
        return pd.DataFrame(
            {"lower": params - half, "upper": params + half}, index=self._names
        )

    def coefficient_table(self, alpha=0.05):
        """The coefficient rows of the summary as a DataFrame.

        Columns ``coef``, ``std err``, ``t`` (``z`` with a normal
        distribution), ``P>|t|`` (``P>|z|``), the interval bounds
        (``[0.025``, ``0.975]`` at ``alpha=0.05``) and ``identified``.
        Coefficients that are not identified have NaN in every numeric
        column.
        """
        interval = self.conf_int(alpha)
        letter = "t" if self.use_t else "z"
        table = pd.DataFrame(
            {
                "coef": self.params.to_numpy(),
                "std err": self.bse.to_numpy(),
                letter: self.tvalues.to_numpy(),
                f"P>|{letter}|": self.pvalues.to_numpy(),
                f"[{alpha / 2:g}": interval["lower"].to_numpy(),
                f"{1 - alpha / 2:g}]": interval["upper"].to_numpy(),
                "identified": self.identified.to_numpy(),
            },
            index=pd.Index(self._names, name="term"),
        )
        table.loc[~self.identified.to_numpy(), table.columns[:-1]] = np.nan
        return table

    def statistics(self):
        """The model statistics of the summary's header as a Series."""
        return pd.Series(
            {
                "nobs": self.nobs,
                "df_model": self.df_model,
                "df_resid": self.df_resid,
                "scale": self.scale,
                "rsquared": self.rsquared,
                "rsquared_adj": self.rsquared_adj,
                "fvalue": self.fvalue,
                "f_pvalue": self.f_pvalue,
                "llf": self.llf,
                "aic": self.aic,
                "bic": self.bic,
                "condition_number": self.condition_number,
            },
            name=self.target,
            dtype=object,
        )

    def summary(self, alpha=0.05):
        """A statsmodels-style summary of this target.

        Parameters
        ----------
        alpha : float, default=0.05
            Level of the confidence intervals.

        Returns
        -------
        Summary
        """
        return Summary([self], alpha)

    # -- tests of linear restrictions ------------------------------------

    def _restrictions(self, r_matrix, q):
        matrix = _parse_restrictions(r_matrix, self._names)
        if isinstance(matrix, tuple):
            matrix, parsed_q = matrix
            if q is None:
                q = parsed_q
        matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
        if matrix.shape[1] != len(self._names):
            raise ValueError(
                f"r_matrix has {matrix.shape[1]} columns; expected one per "
                f"coefficient ({len(self._names)}: {', '.join(self._names)})."
            )
        q = np.zeros(matrix.shape[0]) if q is None else np.asarray(q, dtype=float)
        q = np.broadcast_to(q.reshape(-1), (matrix.shape[0],))
        null = self._summary.null_space
        if null.size:
            leak = np.linalg.norm(matrix @ null, axis=1)
            bad = leak > NULL_TOLERANCE * np.maximum(np.linalg.norm(matrix, axis=1), 1)
            if bad.any():
                involved = [
                    self._names[j]
                    for j in np.flatnonzero(~self.identified.to_numpy())
                    if np.any(matrix[bad, j] != 0)
                ]
                raise ValueError(
                    f"Restriction(s) {list(np.flatnonzero(bad))} involve "
                    f"coefficients that are not identified ({', '.join(involved)}): "
                    "the data do not determine them."
                )
        cov = uncenter(
            self._centered_cov, self._summary.x_mean, self._summary.fit_intercept
        )
        return matrix, q, cov

    def t_test(self, r_matrix, q=None, alpha=0.05):
        """Test each linear restriction ``r @ params = q`` separately.

        Parameters
        ----------
        r_matrix : array-like of shape (m, k) or (k,), or str
            Restrictions, one per row; or a string like ``"x1 = x2, x3 =
            0"`` (coefficient names, numbers, ``+ - *``, ``=``; names that
            are not identifiers go in backticks).
        q : array-like of shape (m,), default=None
            Right-hand sides; zeros by default (or those of the string).
        alpha : float, default=0.05
            Level of the intervals.

        Returns
        -------
        pandas.DataFrame
            One row per restriction: ``effect``, ``std err``, ``t`` (or
            ``z``), ``P>|t|`` and the interval.
        """
        _check_level(alpha)
        matrix, q, cov = self._restrictions(r_matrix, q)
        effect = matrix @ self.params.to_numpy() - q
        se = np.sqrt(np.einsum("ij,jk,ik->i", matrix, cov, matrix))
        statistic = effect / se
        distribution = self._distribution()
        quantile = distribution.isf(alpha / 2)
        letter = "t" if self.use_t else "z"
        return pd.DataFrame(
            {
                "effect": effect,
                "std err": se,
                letter: statistic,
                f"P>|{letter}|": 2 * distribution.sf(np.abs(statistic)),
                f"[{alpha / 2:g}": effect - quantile * se,
                f"{1 - alpha / 2:g}]": effect + quantile * se,
            },
            index=pd.Index([f"c{i}" for i in range(len(effect))], name="restriction"),
        )

    def f_test(self, r_matrix, q=None):
        """Joint F test of the linear restrictions ``R @ params = q``.

        ``F = (R b - q).T (R V R.T)^-1 (R b - q) / m`` with ``V`` the
        covariance of this result (robust if requested), compared with an F
        distribution on ``(m, df_resid_inference)`` degrees of freedom.

        Parameters
        ----------
        r_matrix : array-like of shape (m, k) or (k,), or str
            As in :meth:`t_test`.
        q : array-like of shape (m,), default=None

        Returns
        -------
        TestResult
        """
        return self.wald_test(r_matrix, q, use_f=True)

    def wald_test(self, r_matrix, q=None, *, use_f=None):
        """Wald test of ``R @ params = q``: F form, or chi² with ``use_f=False``.

        Parameters
        ----------
        r_matrix : array-like of shape (m, k) or (k,), or str
            As in :meth:`t_test`.
        q : array-like of shape (m,), default=None
        use_f : bool, default=None
            F distribution (statistic divided by ``m``) or chi² on ``m``
            degrees of freedom; None follows ``use_t``.

        Returns
        -------
        TestResult
        """
        matrix, q, cov = self._restrictions(r_matrix, q)
        use_f = self.use_t if use_f is None else use_f
        difference = matrix @ self.params.to_numpy() - q
        middle = matrix @ cov @ matrix.T
        value = float(difference @ np.linalg.lstsq(middle, difference, rcond=None)[0])
        m = matrix.shape[0]
        if use_f:
            statistic = value / m
            pvalue = stats.f.sf(statistic, m, self.df_resid_inference)
            return TestResult("F", statistic, float(pvalue), m, self.df_resid_inference)
        return TestResult("chi2", value, float(stats.chi2.sf(value, m)), m, None)

    # -- prediction --------------------------------------------------------

    def get_prediction(self, X, sample_weight=None):
        """Predictions for new rows with their standard errors.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            New rows.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Precision weights of the new observations: the observation
            interval uses variance ``scale / w`` (statsmodels' ``weights``).

        Returns
        -------
        PredictionResults
            Lazy when X is a Dask collection.
        """
        from dask_linreg._validation import check_predict_input, is_dask

        x = check_predict_input(self._model, X)
        if sample_weight is not None and not np.isscalar(sample_weight):
            if is_dask(X) or is_dask(sample_weight):
                raise TypeError(
                    "sample_weight of get_prediction must be a single float for "
                    "Dask input (or an array for in-memory X)."
                )
        return PredictionResults(self, X, x, sample_weight)

    def _prediction_columns(self, x, weights, alpha):
        """Mean, its standard error and both intervals for rows ``x`` (NumPy)."""
        summary = self._summary
        fit_intercept = summary.fit_intercept
        centered = x - summary.x_mean
        if fit_intercept:
            z = np.column_stack([np.ones(len(x)), centered])
        else:
            z = centered
        params = self.params.to_numpy()
        coef = params[self.k_constant :]
        centered_intercept = params[0] + summary.x_mean @ coef if fit_intercept else 0.0
        mean = centered @ coef + centered_intercept
        variance = np.einsum("ij,jk,ik->i", z, self._centered_cov, z)
        null = summary.null_space
        if null.size:
            # A row outside the design's row space has no determined mean.
            leak = np.linalg.norm(_uncentered_rows(z, summary) @ null, axis=1)
            scale = np.maximum(np.linalg.norm(_uncentered_rows(z, summary), axis=1), 1)
            variance = np.where(leak > NULL_TOLERANCE * scale, np.nan, variance)
        se_mean = np.sqrt(np.clip(variance, 0.0, None))
        se_obs = np.sqrt(se_mean**2 + self.scale / weights)
        quantile = self._distribution().isf(alpha / 2)
        return np.column_stack(
            [
                mean,
                se_mean,
                mean - quantile * se_mean,
                mean + quantile * se_mean,
                mean - quantile * se_obs,
                mean + quantile * se_obs,
            ]
        )


def _uncentered_rows(z, summary):
    if not summary.fit_intercept:
        return z
    rows = z.copy()
    rows[:, 1:] += summary.x_mean
    return rows


def _check_level(alpha):
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ValueError(
            f"alpha must be a number strictly between 0 and 1; got {alpha!r}."
        )


@dataclass(frozen=True)
class TestResult:
    """Result of a Wald, F or chi² test.

    Attributes
    ----------
    distribution : {"F", "chi2"}
    statistic : float
    pvalue : float
    df_num : int
    df_denom : int or None
        None for chi².
    """

    __test__ = False  # not a pytest test class

    distribution: str
    statistic: float
    pvalue: float
    df_num: int
    df_denom: int | None

    def __str__(self):
        df = (
            f"df_num={self.df_num}, df_denom={self.df_denom}"
            if self.df_denom is not None
            else f"df={self.df_num}"
        )
        return f"<{self.distribution} test: {self.distribution}={self.statistic:.6g}, p={self.pvalue:.4g}, {df}>"


_FRAME_COLUMNS = [
    "mean",
    "mean_se",
    "mean_ci_lower",
    "mean_ci_upper",
    "obs_ci_lower",
    "obs_ci_upper",
]


class PredictionResults:
    """Predictions with standard errors and intervals (statsmodels'
    ``get_prediction`` result); lazy for Dask input.

    Attributes
    ----------
    predicted_mean : ndarray or dask array of shape (n_samples,)
    se_mean : ndarray or dask array of shape (n_samples,)
        Standard error of the predicted mean (NaN for a row the data do not
        determine, in a rank-deficient fit).
    """

    def __init__(self, results, X, x, sample_weight):
        self._results = results
        self._X = X
        self._x = x
        self._weights = 1.0 if sample_weight is None else sample_weight
        if not np.isscalar(self._weights):
            self._weights = np.asarray(self._weights, dtype=np.float64)
            if self._weights.shape != (x.shape[0],):
                raise ValueError(
                    f"sample_weight has shape {self._weights.shape}; expected "
                    f"({x.shape[0]},)."
                )
        columns = self._columns(0.05)
        self.predicted_mean = columns[:, 0]
        self.se_mean = columns[:, 1]

    def _columns(self, alpha):
        results, weights = self._results, self._weights
        if isinstance(self._x, da.Array):
            return self._x.map_blocks(
                lambda block: results._prediction_columns(block, weights, alpha),
                chunks=(self._x.chunks[0], (len(_FRAME_COLUMNS),)),
                dtype=np.float64,
            )
        return results._prediction_columns(np.asarray(self._x), weights, alpha)

    def conf_int(self, obs=False, alpha=0.05):
        """Intervals for the mean (or, with ``obs=True``, a new observation).

        Returns
        -------
        ndarray or dask array of shape (n_samples, 2)
        """
        _check_level(alpha)
        columns = self._columns(alpha)
        return columns[:, 4:6] if obs else columns[:, 2:4]

    def summary_frame(self, alpha=0.05):
        """The predictions as a frame, statsmodels' column names.

        Parameters
        ----------
        alpha : float, default=0.05
            Intervals of coverage ``1 - alpha``.

        Returns
        -------
        pandas.DataFrame or dask.dataframe.DataFrame
            Columns ``mean``, ``mean_se``, ``mean_ci_lower``,
            ``mean_ci_upper``, ``obs_ci_lower``, ``obs_ci_upper``; a Dask
            DataFrame (nothing computed) for Dask input, with X's index and
            partitions when X is a Dask DataFrame.
        """
        _check_level(alpha)
        results, weights = self._results, self._weights
        if isinstance(self._X, dd.DataFrame):
            meta = pd.DataFrame(
                {c: pd.Series([], dtype=np.float64) for c in _FRAME_COLUMNS}
            )
            return self._X.map_partitions(
                _prediction_frame, results, weights, alpha, meta=meta
            )
        columns = self._columns(alpha)
        if isinstance(columns, da.Array):
            return dd.from_dask_array(columns, columns=_FRAME_COLUMNS)
        index = self._X.index if isinstance(self._X, pd.DataFrame) else None
        return pd.DataFrame(columns, columns=_FRAME_COLUMNS, index=index)


def _prediction_frame(frame, results, weights, alpha):
    values = frame.to_numpy(dtype=np.float64)
    columns = results._prediction_columns(values, weights, alpha)
    return pd.DataFrame(columns, columns=_FRAME_COLUMNS, index=frame.index)


# -- restrictions given as text ----------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|`(?P<quoted>[^`]+)`|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op>[-+*=]))"
)


def _parse_restrictions(r_matrix, names):
    """A string (or list of strings) of restrictions as ``(R, q)``; other
    inputs are returned unchanged."""
    if isinstance(r_matrix, str):
        r_matrix = [part for part in r_matrix.split(",") if part.strip()]
    elif not (
        isinstance(r_matrix, list | tuple)
        and r_matrix
        and all(isinstance(r, str) for r in r_matrix)
    ):
        return r_matrix
    rows, rhs = [], []
    for text in r_matrix:
        row, value = _parse_one(text, names)
        rows.append(row)
        rhs.append(value)
    return np.array(rows), np.array(rhs)


def _parse_one(text, names):
    tokens, position = [], 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if not match or match.end() == position:
            raise ValueError(
                f"Cannot read restriction {text!r} at {stripped[position:]!r}: use "
                "coefficient names, numbers, +, -, * and =."
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    sides = [[]]
    for token in tokens:
        if token == ("op", "="):
            sides.append([])
        else:
            sides[-1].append(token)
    if len(sides) > 2:
        raise ValueError(f"Restriction {text!r} has more than one '='.")
    row = np.zeros(len(names))
    constant = 0.0
    for side, sign in zip(sides, (1.0, -1.0), strict=False):
        side_row, side_constant = _parse_side(side, names, text)
        row += sign * side_row
        constant += sign * side_constant
    if not row.any():
        raise ValueError(f"Restriction {text!r} names no coefficient.")
    return row, -constant


def _parse_side(tokens, names, text):
    row = np.zeros(len(names))
    constant = 0.0
    i = 0
    while i < len(tokens):
        sign = 1.0
        while i < len(tokens) and tokens[i][0] == "op" and tokens[i][1] in "+-":
            sign *= -1.0 if tokens[i][1] == "-" else 1.0
            i += 1
        factor = 1.0
        name = None
        if i < len(tokens) and tokens[i][0] == "number":
            factor = float(tokens[i][1])
            i += 1
            if i < len(tokens) and tokens[i] == ("op", "*"):
                i += 1
        if i < len(tokens) and tokens[i][0] in ("name", "quoted"):
            name = tokens[i][1]
            i += 1
        elif factor == 1.0 and (i >= len(tokens) or tokens[i][0] != "number"):
            if i > 0 and tokens[i - 1][0] != "number":
                raise ValueError(f"Restriction {text!r} has a dangling operator.")
        if name is None:
            constant += sign * factor
            continue
        if name not in names:
            raise ValueError(
                f"Restriction {text!r} names {name!r}, which is not a coefficient; "
                f"the coefficients are {', '.join(names)}."
            )
        row[names.index(name)] += sign * factor
    return row, constant


# -- the summary --------------------------------------------------------------


class Summary:
    """A regression summary: a text table like statsmodels', and frames.

    ``str(summary)`` (or ``print(summary)``) gives the text; the same
    numbers are in :attr:`coefficients` and :attr:`statistics`.

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
        _check_level(alpha)
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

    def as_text(self):
        """The summary as text."""
        return "\n\n".join(_target_text(r, self._alpha) for r in self._results)

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
    model = results._model
    weighted = getattr(model, "_weighted_fit", False)
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
    r2 = "R-squared:" if results.k_constant else "R-squared (uncentered):"
    adj = "Adj. R-squared:" if results.k_constant else "Adj. R-squared (uncentered):"
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
        f"Solved by {model.solver_!r} from statistics merged over the data in "
        f"{model.n_passes_} pass(es)."
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
