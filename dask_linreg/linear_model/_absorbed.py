"""Least squares with one absorbed fixed effect (the within estimator), in
one pass: ``ols("y ~ x1 + x2 | firm", data)``."""

import numbers
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from dask_linreg._dask.columns import is_dask
from dask_linreg._dask.formula import design_frames
from dask_linreg._dask.graph import reduce_absorbed_scores, reduce_group_statistic
from dask_linreg._dask.inputs import check_fit_inputs, default_keyed_bytes
from dask_linreg._numerics.absorbed import AbsorbedScoreModel
from dask_linreg._numerics.sandwich import (
    ScoreModel,
    design_root,
    fit_summary,
    robust_covariance,
)
from dask_linreg.inference._results import RegressionResults
from dask_linreg.linear_model._base import (
    MISSING,
    SPLIT_EVERY,
    _OnePassLinearModel,
    fit_state,
)
from dask_linreg.linear_model._errors import no_samples_error
from dask_linreg.linear_model._inference_args import (
    check_robust_pass,
    formula_training_data,
)
from dask_linreg.linear_model._params import ColumnName, Interval, Options

__all__ = ["FixedEffectsRegression"]


class FixedEffectsRegression(_OnePassLinearModel):
    """Least squares with the fixed effects of one column absorbed, in one pass.

    Fits ``y = X b + alpha_g + e``, ``g`` the level of the column
    ``absorb``, by the within estimator (fixest's ``feols(y ~ x | g)``,
    Stata's ``areg``/``reghdfe``): the slopes ``b`` from the rows demeaned
    within their level, the fixed effects ``alpha_g`` from the level means.
    Nothing is demeaned iteratively and the data are read once: each block
    of rows yields its levels' weighted means and its pooled within-level
    co-moments, merged by key (see :mod:`dask_linreg._numerics.absorbed`).

    Parameters
    ----------
    absorb : str
        The column of X whose levels are absorbed (any labels).
    fixef_rm : {"singleton", "none"}, default="singleton"
        ``"singleton"`` leaves out the levels with a single observation,
        as fixest and pyfixest do by default: such a level fits its row
        exactly, so the row tells nothing about the slopes and only
        inflates ``nobs`` (the count is in ``n_singletons_``).
    missing : {"raise", "drop"}, default="raise"
        As in :class:`LinearRegression`; a missing level drops its row too.
    split_every : int, default=None
        Fan-in of the merge tree.
    max_bytes : int or None, default=None
        The most bytes the per-level statistics may take (they are held and
        merged on the workers and solved on the client): about ``(p + 5) *
        8`` bytes per level, ``p`` the columns of ``[X | y]``.  None: a
        quarter of this machine's memory.  Checked on the workers as levels
        accumulate: too many raise :class:`MemoryError` naming the column.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        The slopes (``n_features`` the columns of X but ``absorb``).
    intercept_ : float
        0.0: the fixed effects take its place (``fixed_effects_``).
    fixed_effects_ : pandas.Series or DataFrame
        ``alpha_g`` per level (indexed by level; one column per target for
        several targets), as pyfixest's ``fixef()``: ``mean_g(y) - mean_g(X)
        @ coef_``, exactly (not by an iterative solve).  Singleton levels
        are included (each fits its row), so the model predicts every level
        of the fit; a level of zero weight is NaN.
    n_levels_ : int
        Levels absorbed (singletons left out with ``fixef_rm="singleton"``).
    n_singletons_ : int
        Levels (and rows) left out as singletons.
    r2_within_ : float or ndarray
        R² of the demeaned model (fixest's ``r2_within``).
    rank_ : int
        Rank of the demeaned design.
    solver_ : str
        ``"cholesky"``: the slopes solve the within normal equations.
    n_features_in_ : int
    feature_names_in_ : ndarray
        X's columns, ``absorb`` included.
    n_passes_ : int
        Always 1.

    Notes
    -----
    Classical inference (``inference()``) counts the absorbed levels in the
    degrees of freedom as fixest does without clustering: ``df_resid =
    nobs - rank - n_levels``.  ``r2_within`` is the ``rsquared`` of the
    results (centered within levels).
    """

    _parameter_constraints: dict = {
        "absorb": [ColumnName()],
        "fixef_rm": [Options("singleton", "none")],
        "missing": MISSING,
        "split_every": SPLIT_EVERY,
        "max_bytes": [None, Interval(numbers.Integral, 1, None, closed="left")],
    }
    _fitted_attributes: dict = {}
    fit_intercept = False

    def __init__(
        self,
        absorb,
        *,
        fixef_rm="singleton",
        missing="raise",
        split_every=None,
        max_bytes=None,
    ):
        self.absorb = absorb
        self.fixef_rm = fixef_rm
        self.missing = missing
        self.split_every = split_every
        self.max_bytes = max_bytes

    @property
    def _n_coefficients(self):
        return self.n_features_in_ - 1

    def _split(self, X):
        """X's numeric columns and the absorbed column's labels."""
        columns = getattr(X, "columns", None)
        if columns is None or getattr(X, "ndim", 0) != 2:
            raise TypeError(
                f"{type(self).__name__} takes X as a pandas or Dask DataFrame "
                f"with the absorbed column {self.absorb!r}; got "
                f"{type(X).__name__}."
            )
        if self.absorb not in columns:
            raise ValueError(
                f"absorb={self.absorb!r} is not a column of X; it has: "
                f"{', '.join(map(str, columns))}."
            )
        return X.drop(columns=[self.absorb]), X[self.absorb]

    def fit(self, X, y, sample_weight=None):
        """Fit the slopes and the fixed effects, in one pass over the data.

        Parameters
        ----------
        X : pandas or Dask DataFrame of shape (n_samples, n_features)
            The numeric columns and the absorbed column ``absorb``.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Precision weights (fixest's and statsmodels' ``weights``).

        Returns
        -------
        self : object
        """
        self._check_params()
        numeric, labels = self._split(X)
        message = f"the absorbed column {self.absorb!r}"
        inputs = check_fit_inputs(
            self, numeric, y, sample_weight, labels=labels, labels_name=message
        )
        statistic, faults = reduce_group_statistic(
            inputs.x,
            inputs.y,
            inputs.sample_weight,
            inputs.labels,
            factor_name=self.absorb,
            message_name=message,
            max_bytes=self.max_bytes or default_keyed_bytes(),
            split_every=self.split_every,
            scheduler="threads" if inputs.local else None,
            missing=self.missing,
        )
        faults.raise_if_any(inputs.features.names)
        if statistic.count == 0:
            raise no_samples_error(inputs.x.shape[1])
        if statistic.weight_sum == 0.0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        kept = statistic
        if self.fixef_rm == "singleton":
            kept = statistic.without_singletons()
        p = inputs.x.shape[1]
        moments = kept.within_moments()
        solution = moments.solve(p, fit_intercept=False)[0]
        # Every level's effect, the singletons' too (each fits its row).
        means = statistic.means()
        effects = means[:, p:] - means[:, :p] @ solution.coef
        within = moments.comoment
        residual = within[p:, p:] - solution.coef.T @ within[:p, p:]
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = 1.0 - np.diag(residual) / np.diag(within[p:, p:])
        state = replace(
            fit_state(moments, y, inputs, sample_weight, faults.dropped), levels=kept
        )
        # Everything is computed: only now is the estimator changed.
        self._store_solution(solution.coef, None, None, inputs.y_is_1d)
        self.intercept_ = 0.0 if inputs.y_is_1d else np.zeros(inputs.n_targets)
        index = pd.Index(statistic.keys, name=self.absorb)
        if inputs.y_is_1d:
            self.fixed_effects_ = pd.Series(effects[:, 0], index=index, name="alpha")
            self.r2_within_ = float(r2[0])
        else:
            self.fixed_effects_ = pd.DataFrame(
                effects, index=index, columns=list(state.target_names)
            )
            self.r2_within_ = r2
        self.n_levels_ = int(kept.n_levels)
        self.n_singletons_ = int(statistic.n_levels - kept.n_levels)
        self.rank_ = int(solution.rank)
        self.solver_ = "cholesky"
        self.n_passes_ = 1
        self._store_state(state)
        features = inputs.features
        self.n_features_in_ = p + 1
        names = getattr(features, "names", None)
        self.feature_names_in_ = np.asarray(
            [*(names if names is not None else numeric.columns), self.absorb],
            dtype=object,
        )
        return self

    def predict(self, X):
        """``X @ coef_ + alpha_g`` for X with the fitted columns.

        A level the fit did not see has no fixed effect: it raises, naming
        the column and the level.  Lazy for a Dask DataFrame.
        """
        check_is_fitted(self)
        formula = self._fit_state.formula
        if formula is not None:
            # A formula model predicts from the raw columns.
            self._split(X)
            X = design_frames(X, formula, with_targets=False, keep=[self.absorb])
        numeric, labels = self._split(X)
        names = [c for c in self.feature_names_in_ if c != self.absorb]
        if list(map(str, numeric.columns)) != names:
            raise ValueError(
                f"X has the columns {list(map(str, numeric.columns))} besides "
                f"{self.absorb!r}; the model was fitted on {names}."
            )
        coef = np.reshape(self.coef_, (-1, len(names)))
        effects = self.fixed_effects_
        if is_dask(X):
            meta = (
                pd.Series([], dtype=np.float64)
                if coef.shape[0] == 1 and np.ndim(self.coef_) == 1
                else pd.DataFrame({i: [] for i in range(coef.shape[0])}, dtype=float)
            )
            return X.map_partitions(
                _predict_partition, self.absorb, names, coef, effects, meta=meta
            )
        prediction = _predict_partition(X, self.absorb, names, coef, effects)
        return prediction.to_numpy()

    def score(self, X, y, sample_weight=None):
        """R² of ``predict(X)`` (scikit-learn's ``r2_score``)."""
        from sklearn.metrics import r2_score

        prediction = self.predict(X)
        if is_dask(prediction):
            prediction = prediction.compute().to_numpy()
        y = y.compute() if is_dask(y) else y
        return r2_score(y, prediction, sample_weight=sample_weight)

    def inference(
        self, X=None, y=None, *, sample_weight=None, cov_type="nonrobust", groups=None
    ):
        """Standard errors, tests and intervals of the slopes.

        Parameters
        ----------
        X, y, sample_weight
            The training data, for a robust ``cov_type`` only (one pass): X
            with the absorbed column (for a model from :func:`ols`, the
            DataFrame of raw columns, and y may be left out).
        cov_type : {"nonrobust", "HC1", "cluster"}, default="nonrobust"
            fixest's ``vcov="iid"``, ``"hetero"`` and ``{"CRV1": absorb}``:
            classical, heteroskedasticity-robust, or clustered by the
            absorbed column.
        groups : str, default=None
            For ``"cluster"``: the absorbed column (the default), the only
            clustering supported yet.

        Returns
        -------
        RegressionResults or list of RegressionResults

        Notes
        -----
        The degrees of freedom count the absorbed levels as fixest does:
        ``df_resid = nobs - rank - n_levels``, which also makes HC1's
        ``nobs / df_resid``; clustered by the absorbed column the levels are
        nested in the clusters and count as one parameter (CRV1's ``G / (G -
        1) (nobs - 1) / (nobs - k - 1)``, t on ``G - 1`` degrees of freedom).
        ``rsquared`` is the within R².
        """
        check_is_fitted(self)
        if cov_type not in ("nonrobust", "HC1", "cluster"):
            raise ValueError(
                "cov_type must be 'nonrobust', 'HC1' or 'cluster' for a model with "
                f"an absorbed fixed effect; got {cov_type!r}."
            )
        if groups is not None and (cov_type != "cluster" or groups != self.absorb):
            raise ValueError(
                "groups: the absorbed column "
                f"{self.absorb!r} is the only clustering supported yet "
                "(cov_type='cluster', groups=None or the column's name); got "
                f"{groups!r}."
            )
        formula = self._fit_state.formula
        if cov_type == "nonrobust" and (X is not None or y is not None):
            raise ValueError(
                "cov_type='nonrobust' needs no pass over the data: do not pass X or y."
            )
        if cov_type != "nonrobust" and (X is None or (y is None and formula is None)):
            raise ValueError(
                f"cov_type={cov_type!r} needs one pass over the training data: "
                "pass X and y (and the sample_weight of the fit)."
            )
        state = self._fit_state
        p = self._n_coefficients
        coef = np.reshape(self.coef_, (-1, p))
        summary = fit_summary(
            design_root(state.statistic, p, fit_intercept=False), coef.T, self.rank_
        )
        summary = replace(
            summary, df_resid=summary.nobs - summary.rank - self.n_levels_
        )
        n_groups = None
        if cov_type == "nonrobust":
            covariances = [
                summary.centered_cov
                * (ssr / summary.df_resid if summary.df_resid > 0 else np.nan)
                for ssr in summary.ssr
            ]
        else:
            covariances, n_groups = self._robust(
                summary, coef, X, y, sample_weight, cov_type
            )
        names = [c for c in self.feature_names_in_ if c != self.absorb]
        results = [
            RegressionResults(
                model=self,
                target=state.target_names[t],
                params=coef[t],
                names=names,
                summary=summary,
                target_index=t,
                centered_cov=covariances[t],
                cov_type=cov_type,
                use_t=True,
                n_groups=n_groups,
                rsquared_kind="within",
            )
            for t in range(coef.shape[0])
        ]
        return results if np.ndim(self.coef_) == 2 else results[0]

    def _robust(self, summary, coef, X, y, sample_weight, cov_type):
        """One pass over the training data for the sandwich covariances."""
        formula = self._fit_state.formula
        if formula is not None:
            X, y, sample_weight, _ = formula_training_data(
                formula, X, y, sample_weight, keep=[self.absorb]
            )
        numeric, labels = self._split(X)
        message = f"the absorbed column {self.absorb!r}"
        inputs = check_fit_inputs(
            clone(self), numeric, y, sample_weight, labels=labels, labels_name=message
        )
        kept = self._fit_state.levels
        model = AbsorbedScoreModel(
            ScoreModel(
                coef=coef.T,
                x_mean=np.zeros(coef.shape[1]),
                y_mean=np.zeros(coef.shape[0]),
                fit_intercept=False,
                cov_type=cov_type,
                centered_cov=summary.centered_cov,
            ),
            kept.keys,
            kept.means(),
        )
        sums, faults = reduce_absorbed_scores(
            inputs.x,
            inputs.y,
            inputs.sample_weight,
            inputs.labels,
            model,
            message_name=message,
            split_every=self.split_every,
            scheduler="threads" if inputs.local else None,
            missing=self.missing,
        )
        faults.raise_if_any(inputs.features.names)
        check_robust_pass(summary, sums, cov_type)
        covariances, n_groups = robust_covariance(summary, sums, cov_type)
        if cov_type == "cluster":
            # fixest's small-sample factor counts one parameter for the
            # absorbed levels nested in the clusters: (n - 1) / (n - k - 1),
            # where statsmodels' CR1 has (n - 1) / (n - k).
            k = summary.centered_cov.shape[0]
            covariances = covariances * ((summary.nobs - k) / (summary.nobs - k - 1))
        return covariances, n_groups


def _predict_partition(frame, absorb, names, coef, effects):
    """Predictions for one pandas partition."""
    values = frame[names].to_numpy(dtype=np.float64) @ coef.T
    levels = frame[absorb]
    table = effects if isinstance(effects, pd.DataFrame) else effects.to_frame()
    position = table.index.get_indexer(levels)
    unknown = position < 0
    if unknown.any():
        level = levels.to_numpy()[unknown][0]
        level = level.item() if isinstance(level, np.generic) else level
        raise ValueError(
            f"X column {absorb!r} has level {level!r}, which the model has no "
            "fixed effect for (it was not in the fit)."
        )
    values = values + table.to_numpy()[position]
    if values.shape[1] == 1 and isinstance(effects, pd.Series):
        return pd.Series(values[:, 0], index=frame.index)
    return pd.DataFrame(values, index=frame.index)
