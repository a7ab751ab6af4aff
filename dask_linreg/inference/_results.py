"""Inference results: coefficient tables, tests and prediction intervals.

The objects here hold only small arrays computed by
:mod:`dask_linreg._numerics.sandwich` (nothing refers to the data), and mirror the
names of statsmodels' ``RegressionResults`` so that its users find their
way: ``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int()``,
``rsquared``, ``fvalue``, ``llf``, ``f_test()``, ``get_prediction()``...
"""

import dataclasses
import numbers
import re
import textwrap
import warnings
from dataclasses import dataclass

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone

from dask_linreg._numerics.sandwich import NULL_TOLERANCE, uncenter

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


def _frozen(value):
    """A read-only copy of an array (other values unchanged): results never
    share memory with the estimator, which a later fit may change."""
    if not isinstance(value, np.ndarray):
        return value
    copy = np.array(value, copy=True)
    copy.flags.writeable = False
    return copy


def _frozen_summary(summary):
    """A :class:`~dask_linreg._numerics.sandwich.FitSummary` with read-only copies
    of its arrays."""
    return dataclasses.replace(
        summary,
        **{
            f.name: _frozen(getattr(summary, f.name))
            for f in dataclasses.fields(summary)
        },
    )


def _feature_checker(model):
    """An unfitted copy of ``model`` that knows only the fitted features:
    new X is checked against it (count and names, in scikit-learn's words),
    whatever the model is refitted on later."""
    checker = clone(model)
    checker.n_features_in_ = int(model.n_features_in_)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        checker.feature_names_in_ = _frozen(np.asarray(names, dtype=object))
    return checker


class RegressionResults:
    """Inference for one target of a fitted :class:`~dask_linreg.LinearRegression`.

    Created by :meth:`LinearRegression.inference
    <dask_linreg.LinearRegression.inference>`; all attributes are computed
    from the fit's merged statistics (and, for robust covariances, from one
    more pass), so nothing here touches the data.  Names follow statsmodels'
    ``RegressionResults``; the weights are precision weights as in
    statsmodels' ``WLS`` (rows of zero weight are absent).

    A snapshot: what it needs of the model (coefficients, statistics, names,
    features) is copied when it is created, so a later ``fit``,
    ``partial_fit`` or ``set_params`` of the model changes nothing here, and
    no array shares memory with the model's.

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
        # A snapshot: everything read of the model is copied now, so that a
        # later fit, partial_fit or set_params changes nothing here.
        summary = _frozen_summary(summary)
        centered_cov = _frozen(np.asarray(centered_cov, dtype=np.float64))
        self._summary = summary
        self._centered_cov = centered_cov
        self._weighted = bool(getattr(model, "_weighted_fit", False))
        self._solver = getattr(model, "solver_", None)
        self._n_passes = getattr(model, "n_passes_", None)
        self._features = _feature_checker(model)
        self.target = str(target)
        self.cov_type = str(cov_type)
        self.use_t = bool(use_t)
        self.n_groups = None if n_groups is None else int(n_groups)
        self._names = [str(name) for name in names]
        index = pd.Index(self._names)
        params = _frozen(np.asarray(params, dtype=np.float64))
        self._params = params
        self.params = pd.Series(params.copy(), index=index, name="coef")
        self.identified = pd.Series(
            np.linalg.norm(summary.null_space, axis=1) <= NULL_TOLERANCE,
            index=index,
            name="identified",
        )
        cov = np.array(
            uncenter(centered_cov, summary.x_mean, summary.fit_intercept), copy=True
        )
        unidentified = ~self.identified.to_numpy()
        cov[unidentified, :] = np.nan
        cov[:, unidentified] = np.nan
        self._cov = _frozen(cov)
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
                self._params / self.bse.to_numpy(), index=index, name="t"
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
        # As statsmodels: with fewer clusters than slopes, the robust
        # covariance is singular and F counts the independent directions.
        test = self._wald(restrictions, None, use_f=True, warn=False)
        return test.statistic, test.pvalue

    def cov_params(self):
        """Covariance matrix of the coefficients (``scale`` included).

        Returns
        -------
        pandas.DataFrame of shape (k, k)
            NaN in the rows and columns of coefficients not identified.
        """
        return pd.DataFrame(self._cov.copy(), index=self._names, columns=self._names)

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
        params = self._params
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
                "coef": self._params,
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
        matrix, q = _check_restrictions(r_matrix, q, self._names)
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
        effect = matrix @ self._params - q
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
        return self._wald(r_matrix, q, use_f=True)

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
        if use_f is not None and not isinstance(use_f, bool | np.bool_):
            raise ValueError(f"use_f must be a bool or None; got {use_f!r}.")
        return self._wald(r_matrix, q, self.use_t if use_f is None else bool(use_f))

    def _wald(self, r_matrix, q, use_f, warn=True):
        matrix, q, cov = self._restrictions(r_matrix, q)
        difference = matrix @ self._params - q
        middle = matrix @ cov @ matrix.T
        m = matrix.shape[0]
        if not np.all(np.isfinite(middle)) or not middle.any():
            # No residual degrees of freedom (or an exact fit): no covariance,
            # no test.
            value, rank = float("nan"), m
        else:
            rank = int(np.linalg.matrix_rank(middle))
            solution = np.linalg.lstsq(middle, difference, rcond=None)[0]
            value = float(difference @ solution)
            if rank < m and warn:
                # statsmodels' rule: the test has as many degrees of freedom
                # as independent restrictions.
                warnings.warn(
                    f"The {m} restrictions are linearly dependent (the covariance "
                    f"of R @ params has rank {rank}): the test has {rank} "
                    "degree(s) of freedom. Drop the redundant rows to silence "
                    "this warning.",
                    UserWarning,
                    stacklevel=3,
                )
        if use_f:
            statistic = value / rank
            pvalue = stats.f.sf(statistic, rank, self.df_resid_inference)
            return TestResult(
                "F", statistic, float(pvalue), rank, self.df_resid_inference
            )
        return TestResult("chi2", value, float(stats.chi2.sf(value, rank)), rank, None)

    # -- prediction --------------------------------------------------------

    def get_prediction(self, X, sample_weight=None):
        """Predictions for new rows with their standard errors.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            New rows, with the features of the fit.  Dask arrays may have
            any chunking (several column blocks, row blocks of unknown
            size), as in ``fit``.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Positive precision weights of the new observations: the
            observation interval uses variance ``scale / w`` (statsmodels'
            ``weights``).  A single float for Dask X.

        Returns
        -------
        PredictionResults
            Lazy when X is a Dask collection: nothing is read until its
            quantities are computed, and X is read once for all the
            quantities computed together (see :class:`PredictionResults`).

        Raises
        ------
        ValueError
            If X does not have the fit's features, holds NaN or inf (for Dask
            X when computed, naming the row block), or if sample_weight is
            not positive and finite or not one weight per row.
        TypeError
            If a column of X or sample_weight is not numeric, or if
            sample_weight is an array with Dask X.
        """
        from dask_linreg._dask.columns import is_dask
        from dask_linreg._dask.inputs import check_predict_input

        x = check_predict_input(self._features, X)
        lazy = is_dask(X)
        weights = _check_prediction_weights(
            sample_weight, None if lazy else x.shape[0], lazy
        )
        model = _PredictionModel(
            params=self._params,
            centered_cov=self._centered_cov,
            x_mean=self._summary.x_mean,
            null_space=self._summary.null_space,
            fit_intercept=bool(self._summary.fit_intercept),
            scale=self.scale,
        )
        distribution = (self.use_t, self.df_resid_inference)
        if isinstance(X, dd.DataFrame):
            base = X.map_partitions(
                _prediction_partition, model, weights, meta=_empty_frame(_BASE_COLUMNS)
            )
        elif lazy:
            if x.numblocks[1] > 1:
                # Column blocks side by side: each row block is needed whole.
                x = x.rechunk({1: -1})
            base = x.map_blocks(
                _prediction_block,
                model,
                weights,
                chunks=(x.chunks[0], (len(_BASE_COLUMNS),)),
                dtype=np.float64,
                meta=np.empty((0, len(_BASE_COLUMNS))),
            )
        else:
            base = _frozen(_prediction_base(np.asarray(x, np.float64), weights, model))
        index = X.index if isinstance(X, pd.DataFrame) else None
        return PredictionResults(base, distribution, index=index)


@dataclass(frozen=True)
class _PredictionModel:
    """What a prediction needs of the results (small arrays only)."""

    params: np.ndarray
    centered_cov: np.ndarray
    x_mean: np.ndarray
    null_space: np.ndarray
    fit_intercept: bool
    scale: float


def _prediction_base(x, weights, model):
    """Columns ``mean``, ``mean_se`` and ``obs_se`` for rows ``x`` (NumPy):
    everything the intervals need, whatever their level."""
    centered = x - model.x_mean
    if model.fit_intercept:
        z = np.column_stack([np.ones(len(x)), centered])
        coef = model.params[1:]
        centered_intercept = model.params[0] + model.x_mean @ coef
    else:
        z = centered
        coef = model.params
        centered_intercept = 0.0
    mean = centered @ coef + centered_intercept
    variance = np.einsum("ij,jk,ik->i", z, model.centered_cov, z)
    null = model.null_space
    if null.size:
        # A row outside the design's row space has no determined mean.
        rows = z.copy()
        if model.fit_intercept:
            rows[:, 1:] += model.x_mean
        leak = np.linalg.norm(rows @ null, axis=1)
        scale = np.maximum(np.linalg.norm(rows, axis=1), 1)
        variance = np.where(leak > NULL_TOLERANCE * scale, np.nan, variance)
    se_mean = np.sqrt(np.clip(variance, 0.0, None))
    se_obs = np.sqrt(se_mean**2 + model.scale / weights)
    return np.column_stack([mean, se_mean, se_obs])


def _check_finite_rows(values, where):
    finite = np.isfinite(values)
    if not finite.all():
        raise ValueError(
            f"X contains {int(finite.size - finite.sum())} non-finite value(s) "
            f"(NaN or inf){where}."
        )


def _prediction_block(block, model, weights, block_info=None):
    values = np.asarray(block, dtype=np.float64)
    location = None if not block_info else block_info[0].get("chunk-location")
    _check_finite_rows(
        values, "" if location is None else f" in row block {location[0]}"
    )
    return _prediction_base(values, weights, model)


def _prediction_partition(frame, model, weights, partition_info=None):
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    number = None if not partition_info else partition_info.get("number")
    _check_finite_rows(values, "" if number is None else f" in partition {number}")
    return pd.DataFrame(
        _prediction_base(values, weights, model),
        columns=_BASE_COLUMNS,
        index=frame.index,
    )


def _check_prediction_weights(sample_weight, n_samples, lazy):
    """``sample_weight`` of ``get_prediction``: 1.0, a positive float, or
    (in-memory X) a read-only array of one positive weight per row."""
    from dask_linreg._dask.columns import is_dask

    if sample_weight is None:
        return 1.0
    if np.ndim(sample_weight) == 0 and not is_dask(sample_weight):
        value = (
            sample_weight.item() if hasattr(sample_weight, "item") else sample_weight
        )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                "sample_weight must be a positive number or an array of them; got "
                f"{sample_weight!r}."
            )
        if not (np.isfinite(value) and value > 0):
            raise ValueError(
                "sample_weight must be positive and finite (the variance of a new "
                f"observation is scale / sample_weight); got {sample_weight!r}."
            )
        return float(value)
    if lazy or is_dask(sample_weight):
        raise TypeError(
            "sample_weight of get_prediction must be a single float for Dask "
            "input (or an array for in-memory X)."
        )
    weights = np.asarray(sample_weight)
    if weights.dtype.kind not in "iuf":
        raise TypeError(
            "sample_weight must be a positive number or an array of them; got an "
            f"array of dtype {weights.dtype}."
        )
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape}; expected ({n_samples},): "
            "one weight per row of X."
        )
    weights = weights.astype(np.float64)
    bad = int(np.count_nonzero(~(np.isfinite(weights) & (weights > 0))))
    if bad:
        raise ValueError(
            f"sample_weight has {bad} value(s) that are not positive and finite "
            "(the variance of a new observation is scale / sample_weight)."
        )
    return _frozen(weights)


def _check_level(alpha):
    """The level of an interval or test, a float strictly in (0, 1)."""
    if isinstance(alpha, bool | np.bool_) or not isinstance(alpha, numbers.Real):
        raise TypeError(
            f"alpha must be a number strictly between 0 and 1; got {alpha!r}."
        )
    if not 0 < alpha < 1:
        raise ValueError(
            f"alpha must be a number strictly between 0 and 1; got {alpha!r}."
        )
    return float(alpha)


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
_BASE_COLUMNS = ["mean", "mean_se", "obs_se"]


def _empty_frame(columns):
    return pd.DataFrame({c: pd.Series([], dtype=np.float64) for c in columns})


def _interval_block(base, quantile, obs):
    mean, se = base[:, 0], base[:, 2 if obs else 1]
    return np.column_stack([mean - quantile * se, mean + quantile * se])


def _frame_block(base, quantile):
    return np.column_stack(
        [
            base[:, :2],
            _interval_block(base, quantile, obs=False),
            _interval_block(base, quantile, obs=True),
        ]
    )


def _frame_partition(base, quantile):
    values = base.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        _frame_block(values, quantile), columns=_FRAME_COLUMNS, index=base.index
    )


def _interval_partition(base, quantile, obs):
    values = base.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        _interval_block(values, quantile, obs),
        columns=["lower", "upper"],
        index=base.index,
    )


def _frame_of_block(base, quantile, start):
    index = None if start is None else pd.RangeIndex(start, start + len(base))
    return pd.DataFrame(
        _frame_block(base, quantile), columns=_FRAME_COLUMNS, index=index
    )


class PredictionResults:
    """Predictions with standard errors and intervals (statsmodels'
    ``get_prediction`` result); lazy for Dask input.

    Created by :meth:`RegressionResults.get_prediction`.  For Dask X every
    quantity is a lazy view of one computation over X's row blocks (the
    mean, its standard error and that of a new observation): computing
    several of them together, ``dask.compute(pred.predicted_mean,
    pred.se_mean, pred.conf_int())``, or one ``summary_frame()``, reads X
    once; :meth:`compute` reads it once and gives the in-memory results.
    Separate ``.compute()`` calls read X once each.

    Attributes
    ----------
    predicted_mean : ndarray, dask array or dask Series of shape (n_samples,)
        NumPy for in-memory X, a Dask array for a Dask array, a Dask Series
        with X's index and partitions for a Dask DataFrame.
    se_mean : ndarray, dask array or dask Series of shape (n_samples,)
        Standard error of the predicted mean (NaN for a row the data do not
        determine, in a rank-deficient fit); of the kind of
        ``predicted_mean``.
    """

    def __init__(self, base, distribution, *, index=None):
        self._base = base
        self._use_t, self._df = distribution
        self._index = index
        if isinstance(base, dd.DataFrame):
            self.predicted_mean = base["mean"]
            self.se_mean = base["mean_se"]
        elif isinstance(base, da.Array):
            self.predicted_mean = base[:, 0]
            self.se_mean = base[:, 1]
        else:
            self.predicted_mean = base[:, 0].copy()
            self.se_mean = base[:, 1].copy()

    def _quantile(self, alpha):
        alpha = _check_level(alpha)
        return float(_distribution(self._use_t, self._df).isf(alpha / 2))

    def compute(self, **kwargs):
        """The in-memory results, X read once.

        Parameters
        ----------
        **kwargs
            Passed to :func:`dask.compute` (``scheduler=`` ...).

        Returns
        -------
        PredictionResults
            With NumPy ``predicted_mean`` and ``se_mean``, a pandas
            ``summary_frame`` (with X's index for a Dask DataFrame); ``self``
            when already in memory.
        """
        if isinstance(self._base, np.ndarray):
            return self
        (base,) = dask.compute(self._base, **kwargs)
        index = None
        if isinstance(base, pd.DataFrame):
            index, base = base.index, base.to_numpy(dtype=np.float64)
        return PredictionResults(
            _frozen(np.asarray(base, dtype=np.float64)),
            (self._use_t, self._df),
            index=index,
        )

    def conf_int(self, obs=False, alpha=0.05):
        """Intervals for the mean (or, with ``obs=True``, a new observation).

        Parameters
        ----------
        obs : bool, default=False
            Interval for a new observation (the mean's uncertainty plus the
            noise, of variance ``scale / sample_weight``) instead of the mean.
        alpha : float, default=0.05
            Intervals of coverage ``1 - alpha``.

        Returns
        -------
        ndarray, dask array or dask DataFrame of shape (n_samples, 2)
            Lower and upper bounds; a Dask DataFrame (columns ``lower``,
            ``upper``, X's index) for a Dask DataFrame X.
        """
        if not isinstance(obs, bool | np.bool_):
            raise ValueError(f"obs must be a bool; got {obs!r}.")
        quantile, obs = self._quantile(alpha), bool(obs)
        base = self._base
        if isinstance(base, dd.DataFrame):
            return base.map_partitions(
                _interval_partition,
                quantile,
                obs,
                meta=_empty_frame(["lower", "upper"]),
            )
        if isinstance(base, da.Array):
            return base.map_blocks(
                _interval_block,
                quantile,
                obs,
                chunks=(base.chunks[0], (2,)),
                dtype=np.float64,
                meta=np.empty((0, 2)),
            )
        return _interval_block(base, quantile, obs)

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
            partitions when X is a Dask DataFrame, one partition per row
            block of a Dask array (indexed 0 to n - 1; each block from 0 when
            the block sizes are unknown).  The index of a pandas X is kept.
        """
        quantile = self._quantile(alpha)
        base = self._base
        meta = _empty_frame(_FRAME_COLUMNS)
        if isinstance(base, dd.DataFrame):
            return base.map_partitions(_frame_partition, quantile, meta=meta)
        if isinstance(base, da.Array):
            sizes = base.chunks[0]
            known = not any(np.isnan(sizes))
            starts = (
                np.cumsum((0, *sizes[:-1])).tolist() if known else [None] * len(sizes)
            )
            divisions = None
            if known and all(sizes) and sum(sizes):
                divisions = (*starts, int(sum(sizes)) - 1)
            # The row blocks of the same graph as predicted_mean and se_mean:
            # computed together with them, X is read once.
            blocks = base.to_delayed(optimize_graph=False).ravel()
            parts = [
                dask.delayed(_frame_of_block, pure=True)(block, quantile, start)
                for block, start in zip(blocks, starts, strict=True)
            ]
            return dd.from_delayed(
                parts, meta=meta, divisions=divisions, verify_meta=False
            )
        return pd.DataFrame(
            _frame_block(base, quantile), columns=_FRAME_COLUMNS, index=self._index
        )


# -- restrictions ---------------------------------------------------------------


def _describe(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _numeric_array(name, value, what):
    """``value`` as a float64 array, or a TypeError naming ``name``."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be {what}; got {_describe(value)}, which is not a "
            f"rectangular array ({error})."
        ) from None
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be {what}; got {_describe(value)} (dtype {array.dtype})."
        )
    return array.astype(np.float64)


def _check_restrictions(r_matrix, q, names):
    """Restrictions ``R @ params = q`` as a float matrix of shape (m, k) and
    a vector of shape (m,), or a ValueError/TypeError saying what is wrong."""
    k = len(names)
    parsed = _parse_restrictions(r_matrix, names)
    if parsed is not None:
        if q is not None:
            raise ValueError(
                "q must be None when the restrictions are written as text: put "
                "the right-hand sides in the text (for example 'x1 = 2')."
            )
        matrix, values = parsed
        if not (np.isfinite(matrix).all() and np.isfinite(values).all()):
            raise ValueError(
                f"r_matrix {_describe(r_matrix)} has a number too large for float64."
            )
        return matrix, values
    what = (
        "an array of numbers (one row per restriction, one column per "
        "coefficient) or restrictions written as text such as 'x1 = x2'"
    )
    if r_matrix is None:
        raise TypeError(f"r_matrix must be {what}; got None.")
    matrix = _numeric_array("r_matrix", r_matrix, what)
    if matrix.size == 0 and (matrix.ndim == 1 or matrix.shape[0] == 0):
        raise ValueError("r_matrix has no rows: give at least one restriction.")
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2:
        raise ValueError(
            "r_matrix must be 1D (one restriction) or 2D (one row per "
            f"restriction); got an array of shape {np.shape(r_matrix)}."
        )
    if matrix.shape[1] != k:
        raise ValueError(
            f"r_matrix has {matrix.shape[1]} columns; expected one per "
            f"coefficient ({k}: {', '.join(names)})."
        )
    finite = np.isfinite(matrix)
    if not finite.all():
        raise ValueError(
            f"r_matrix contains {int(finite.size - finite.sum())} non-finite "
            "value(s) (NaN or inf)."
        )
    empty = np.flatnonzero(~matrix.any(axis=1))
    if empty.size:
        raise ValueError(
            f"r_matrix row(s) {empty.tolist()} are all zeros: a restriction must "
            "involve at least one coefficient."
        )
    m = matrix.shape[0]
    if q is None:
        return matrix, np.zeros(m)
    values = _numeric_array(
        "q", q, "a number or an array of numbers, one per restriction"
    )
    if values.ndim == 0:
        values = np.full(m, float(values))
    elif values.size == m and (values.ndim == 1 or values.shape == (m, 1)):
        values = values.reshape(m)
    else:
        raise ValueError(
            f"q has shape {values.shape}; expected ({m},): one value per "
            "restriction (row of r_matrix)."
        )
    if not np.isfinite(values).all():
        raise ValueError("q contains non-finite values (NaN or inf).")
    return matrix, values


_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|`(?P<quoted>[^`]+)`|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op>[-+*=]))"
)

#: Commas outside backticks separate restrictions.
_SEPARATOR = re.compile(r",(?=(?:[^`]*`[^`]*`)*[^`]*$)")


def _parse_restrictions(r_matrix, names):
    """A string (or list of strings) of restrictions as ``(R, q)``; None for
    other inputs."""
    if isinstance(r_matrix, str):
        parts = _SEPARATOR.split(r_matrix)
        if not any(part.strip() for part in parts):
            raise ValueError(
                f"r_matrix {r_matrix!r} holds no restriction: write them like "
                "'x1 = x2, x3 = 0'."
            )
        r_matrix = [part for part in parts if part.strip()]
    elif not (
        isinstance(r_matrix, list | tuple)
        and r_matrix
        and any(isinstance(r, str) for r in r_matrix)
    ):
        return None
    elif not all(isinstance(r, str) for r in r_matrix):
        raise TypeError(
            "r_matrix must be a string, a list of strings, or an array of "
            f"numbers; got a list that mixes strings and other values: "
            f"{_describe(r_matrix)}."
        )
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
    if not tokens:
        raise ValueError(f"Restriction {text!r} is empty.")
    sides = [[]]
    for token in tokens:
        if token == ("op", "="):
            sides.append([])
        else:
            sides[-1].append(token)
    if len(sides) > 2:
        raise ValueError(f"Restriction {text!r} has more than one '='.")
    if any(not side for side in sides):
        raise ValueError(
            f"Restriction {text!r} has nothing on one side of '='; write it like "
            "'x1 = 0'."
        )
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
    """``[sign] term (sign term)*`` with a term ``number``, ``name``,
    ``number * name`` or ``name * number``."""

    def fail(at):
        where = " ".join(value for _, value in tokens[at:]) if at < len(tokens) else ""
        raise ValueError(
            f"Restriction {text!r} is not a sum of terms like 2 * x1"
            + (f" at {where!r}" if where else " (it ends with an operator)")
            + ": join terms with + or -, and multiply a coefficient by a number "
            "with *."
        )

    row = np.zeros(len(names))
    constant = 0.0
    i, n = 0, len(tokens)

    def is_op(j, ops):
        return j < n and tokens[j][0] == "op" and tokens[j][1] in ops

    while i < n:
        sign = 1.0
        while is_op(i, "+-"):
            sign *= -1.0 if tokens[i][1] == "-" else 1.0
            i += 1
        if i >= n:
            fail(i)
        kind, value = tokens[i]
        factor, name = 1.0, None
        if kind == "number":
            factor = float(value)
            i += 1
            if is_op(i, "*"):
                i += 1
                if i >= n or tokens[i][0] not in ("name", "quoted"):
                    fail(i)
                name = tokens[i][1]
                i += 1
        elif kind in ("name", "quoted"):
            name = value
            i += 1
            if is_op(i, "*"):
                i += 1
                if i >= n or tokens[i][0] != "number":
                    fail(i)
                factor = float(tokens[i][1])
                i += 1
        else:
            fail(i)
        if i < n and not is_op(i, "+-"):
            fail(i)
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
    numbers are in :attr:`coefficients` and :attr:`statistics`.  Like the
    results it is made of, a snapshot of the fit it was taken from.

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
        alpha = _check_level(alpha)
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
        """The summary as text."""
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
