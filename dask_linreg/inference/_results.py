"""Inference results: coefficient tables, tests and prediction intervals.

The objects here hold only small arrays computed by
:mod:`dask_linreg._numerics.sandwich` (nothing refers to the data), and mirror the
names of statsmodels' ``RegressionResults`` so that its users find their
way: ``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int()``,
``rsquared``, ``fvalue``, ``llf``, ``f_test()``, ``get_prediction()``...
"""

import dataclasses
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone

from dask_linreg._dask.columns import is_dask
from dask_linreg._dask.factors import indicator_frame
from dask_linreg._dask.formula import design_frames
from dask_linreg._numerics.sandwich import NULL_TOLERANCE, uncenter
from dask_linreg.inference._checks import check_level, distribution, frozen
from dask_linreg.inference._prediction import PredictionModel, get_prediction
from dask_linreg.inference._restrictions import check_restrictions
from dask_linreg.inference._summary import Summary

__all__ = ["RegressionResults", "TestResult"]


def _ratio(numerator, denominator):
    """``numerator / denominator`` as a float, NaN for a zero denominator
    (no residual degrees of freedom, a constant target)."""
    if denominator == 0:
        return float("nan")
    return float(numerator) / float(denominator)


def _frozen_summary(summary):
    """A :class:`~dask_linreg._numerics.sandwich.FitSummary` with read-only copies
    of its arrays."""
    return dataclasses.replace(
        summary,
        **{
            f.name: frozen(getattr(summary, f.name))
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
        checker.feature_names_in_ = frozen(np.asarray(names, dtype=object))
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
        R² and adjusted R² (uncentered without an intercept, as statsmodels;
        within the absorbed levels for a model with an absorbed fixed
        effect).
    rsquared_kind : str or None
        ``"within"`` for a model with an absorbed fixed effect, else None.
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
    n_dropped : int
        Rows left out of the fit for a missing value (``missing="drop"``);
        ``nobs`` counts the others.
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
        rsquared_kind=None,
    ):
        # A snapshot: everything read of the model is copied now, so that a
        # later fit, partial_fit or set_params changes nothing here.
        summary = _frozen_summary(summary)
        centered_cov = frozen(np.asarray(centered_cov, dtype=np.float64))
        self._summary = summary
        self._centered_cov = centered_cov
        self._weighted = bool(model._fit_state.weighted_fit)
        self._solver = getattr(model, "solver_", None)
        self._n_passes = getattr(model, "n_passes_", None)
        self._features = _feature_checker(model)
        state = model._fit_state
        # Categorical models predict from the input's columns: new X gets
        # the fit's levels (indicators built for its rows) and formula.
        self._design = state.design
        self._formula = state.formula
        self._handle_unknown = getattr(model, "handle_unknown", "error")
        if self._design is not None:
            self._features.n_features_in_ = len(names) - int(
                bool(summary.fit_intercept)
            )
            self._features.feature_names_in_ = frozen(
                np.asarray(self._design.coefficient_names(), dtype=object)
            )
        self.target = str(target)
        # What rsquared is, as the summary labels it: None for centered
        # (with an intercept) or uncentered; "within" for absorbed effects.
        self.rsquared_kind = rsquared_kind
        self.cov_type = str(cov_type)
        self.use_t = bool(use_t)
        self.n_groups = None if n_groups is None else int(n_groups)
        self._names = [str(name) for name in names]
        index = pd.Index(self._names)
        params = frozen(np.asarray(params, dtype=np.float64))
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
        self._cov = frozen(cov)
        self.nobs = summary.nobs
        self.n_dropped = int(model._fit_state.dropped)
        self.df_model = summary.df_model
        self.df_resid = summary.df_resid
        self.df_resid_inference = (
            n_groups - 1 if cov_type in ("cluster", "CRV3") else summary.df_resid
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
        self.pvalues = pd.Series(
            2 * self._distribution().sf(np.abs(self.tvalues.to_numpy())),
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
        return distribution(self.use_t, self.df_resid_inference)

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
        check_level(alpha)
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
        matrix, q = check_restrictions(r_matrix, q, self._names)
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
        r_matrix : array-like of shape (m, k) or (k,), str or list of str
            Restrictions, one per row; or text like ``"x1 = 2 * x2, x3 =
            0"``, read by patsy as statsmodels reads it (coefficient names,
            numbers, ``+ - * /``, parentheses, ``=``; commas between
            restrictions). A name may be written in backticks, as those that
            start with an operator or a parenthesis must be.
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
        check_level(alpha)
        matrix, q, cov = self._restrictions(r_matrix, q)
        effect = matrix @ self._params - q
        se = np.sqrt(np.einsum("ij,jk,ik->i", matrix, cov, matrix))
        statistic = effect / se
        law = self._distribution()
        quantile = law.isf(alpha / 2)
        letter = "t" if self.use_t else "z"
        return pd.DataFrame(
            {
                "effect": effect,
                "std err": se,
                letter: statistic,
                f"P>|{letter}|": 2 * law.sf(np.abs(statistic)),
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

    def _model_columns(self, X):
        return _columns_of(self, X)

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
        model = PredictionModel(
            params=self._params,
            centered_cov=self._centered_cov,
            x_mean=self._summary.x_mean,
            null_space=self._summary.null_space,
            fit_intercept=bool(self._summary.fit_intercept),
            scale=self.scale,
        )
        return get_prediction(
            self._model_columns(X),
            self._features,
            model,
            (self.use_t, self.df_resid_inference),
            sample_weight,
        )


def _columns_of(results, X):
    """X as the model's columns (formula terms evaluated, indicators of
    categorical columns built), for a model fitted on categorical columns."""
    if results._formula is not None:
        X = design_frames(X, results._formula, with_targets=False)
    if results._design is None:
        return X
    design = results._design
    if not hasattr(X, "columns") or getattr(X, "ndim", 2) != 2:
        raise TypeError(
            "X must be a pandas or Dask DataFrame with the columns the model was "
            f"fitted on ({', '.join(map(repr, design.columns))}), as it has "
            f"categorical columns; got {type(X).__name__}."
        )
    missing = [c for c in design.columns if c not in X.columns]
    if missing:
        raise ValueError(
            f"X lacks the column(s) {', '.join(map(repr, missing))} the model was "
            "fitted on."
        )
    build = partial(
        indicator_frame, design=design, handle_unknown=results._handle_unknown
    )
    if is_dask(X):
        return X.map_partitions(build, meta=build(X._meta))
    return build(X)


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
