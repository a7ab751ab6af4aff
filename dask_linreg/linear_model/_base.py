"""The shared estimator base: parameters, fit/predict/score orchestration.

The estimators only validate, dispatch and store results; the statistics are
reduced by :mod:`dask_linreg._dask.graph` and solved by the kinds of
:mod:`dask_linreg._numerics.kinds`.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from dask_linreg._dask.columns import _is_dask_frame, is_dask
from dask_linreg._dask.graph import (
    effective_split_every,
    lazy_predict,
    reduce_in_memory,
    reduce_in_memory_residuals,
    reduce_residual_moments,
    reduce_statistic,
)
from dask_linreg._dask.inputs import (
    check_fit_inputs,
    check_predict_input,
    check_statistic_memory,
)
from dask_linreg._numerics.faults import extreme_column
from dask_linreg._numerics.kinds import KINDS, kind_for_solver
from dask_linreg._numerics.solve import r2_scores
from dask_linreg.linear_model._errors import magnitude_error, no_samples_error
from dask_linreg.linear_model._params import (
    Boolean,
    Interval,
    Options,
    validate_params,
)
from dask_linreg.linear_model._prediction import predict_frame
from dask_linreg.linear_model._state import FitState, target_names
from dask_linreg.linear_model._warnings import warn_if_inaccurate

__all__ = ["SOLVERS", "AUTO_MIN_DIGITS", "EXACT_MAX_COLUMNS", "SOLVED_ATTRIBUTES"]

#: Accepted values of the ``solver`` parameter.
SOLVERS = ("auto", "cholesky", "qr", "exact")
#: ``"auto"`` takes a second pass when the normal equations keep fewer
#: digits than this.
AUTO_MIN_DIGITS = 9.0
#: Up to this many columns of ``[X | y]``, ``"auto"``'s second pass is
#: ``"exact"``; beyond, the rational solve grows too slow and it is ``"qr"``.
EXACT_MAX_COLUMNS = 64

#: Constraints that several estimators share.
FIT_INTERCEPT = [Boolean()]
SPLIT_EVERY = [None, Interval(numbers.Integral, 2, None, closed="left")]
SOLVER = [Options(*SOLVERS)]

#: Fitted attributes of the estimators that solve a statistic once (see
#: ``_OnePassLinearModel._fitted_attributes``).
SOLVED_ATTRIBUTES = {
    "solver_": ("str", (), {"choices": tuple(kind.solver for kind in KINDS)}),
    "digits_": ("float", ()),
    "n_passes_": ("int", (), 1),
}


class _OnePassLinearModel(RegressorMixin, BaseEstimator):
    """Shared parameters checks, fit, predict and score of the one-pass
    linear models.

    Subclasses declare ``_parameter_constraints`` (every parameter of their
    ``__init__``, as scikit-learn's estimators do) and may extend
    :meth:`_check_params` with checks that join several parameters or need
    the number of targets (:meth:`_penalties`).  The fitted private state is
    one :class:`~dask_linreg.linear_model._state.FitState`, ``_fit_state``,
    set by :meth:`_store_fit` (or :meth:`_store_state`) at the end of a fit.
    """

    #: Parameter name -> the constraints of which its value must satisfy
    #: one (None for the value None); see :mod:`._params`.
    _parameter_constraints: dict = {}

    #: Fitted attribute name -> ``(type, shape[, minimum][, {options}])``,
    #: in the order a model file writes and checks them (as a kind's
    #: ``stored_fields``; see :class:`dask_linreg.io._schema.Field`), besides
    #: ``coef_``, ``intercept_``, ``n_features_in_`` and
    #: ``feature_names_in_``.  Shapes name dimensions: ``n_features``,
    #: ``n_targets``, ``y_targets`` (none for a 1-D y), ``alpha_targets``
    #: and ``score_targets`` (RidgeCV's ``alpha_per_target``),
    #: ``n_l1_ratio``; any other name is bound by its first use.  Options:
    #: ``choices``, ``optional`` (absent in some fits), ``nullable``.  Each
    #: estimator class declares its own.
    _fitted_attributes: dict

    # scikit-learn's Ridge gives a 1-D coef_ for a single target passed as
    # a column; its LinearRegression keeps it 2-D.  Each estimator follows
    # its counterpart.
    _single_target_coef_is_1d = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _validate_params(self):
        # scikit-learn's hook of this name reads _parameter_constraints with
        # its own (private) constraint classes: ours check ours.
        return validate_params(self)

    def _check_params(self, n_targets=None):
        """Check the parameters before anything is computed.

        Each against its class's ``_parameter_constraints``; with
        ``n_targets``, also what depends on the number of targets (one
        penalty per target).  Model files and the CLI call it too.

        Returns
        -------
        checked : dict
            The parameters as the fit uses them (see
            :func:`~dask_linreg.linear_model._params.validate_params`).
        """
        checked = validate_params(self)
        if n_targets is not None:
            self._penalties(checked, n_targets)
        return checked

    def _penalties(self, checked, n_targets):
        """The penalty of each target, shape (n_targets,); None for least
        squares (penalized estimators override it)."""
        return None

    def _reduce(self, inputs, kind, *, overflow_ok=False):
        """One pass computing a statistic of ``kind``; value faults raise here.

        With ``overflow_ok``, cross-products beyond float64 return None
        instead of raising (``"auto"`` then goes exact).
        """
        if isinstance(inputs.x, np.ndarray):
            result, faults = reduce_in_memory(
                inputs.x, inputs.y, inputs.sample_weight, kind=kind
            )
        else:
            result, faults = reduce_statistic(
                inputs.x,
                inputs.y,
                inputs.sample_weight,
                kind=kind,
                split_every=self.split_every,
                scheduler="threads" if inputs.local else None,
            )
        if overflow_ok and faults.only_overflow():
            return None
        faults.raise_if_any(inputs.features.names)
        if result.count == 0:  # row blocks of unknown size, all empty
            raise no_samples_error(inputs.x.shape[1])
        if result.weight_sum == 0.0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        return result

    def _fit(self, X, y, sample_weight):
        """Validate, run one pass (two on hard data with ``"auto"``), store:
        the fit of the estimators with a ``solver`` (least squares, Ridge)."""
        checked = self._check_params()
        inputs = check_fit_inputs(self, X, y, sample_weight, allow_numpy=True)
        # Everything that can be checked without the data fails here,
        # before the pass.
        alpha = self._penalties(checked, inputs.n_targets)
        if inputs.x.shape[0] == 0:
            raise no_samples_error(inputs.x.shape[1])
        n_features = inputs.x.shape[1]
        n_columns = n_features + inputs.n_targets
        check_exact_columns(self.solver, n_columns)
        # A merge task holds at most as many statistics as there are blocks.
        check_statistic_memory(
            n_columns,
            min(effective_split_every(self.split_every), inputs.x.numblocks[0])
            if not isinstance(inputs.x, np.ndarray)
            else 1,
        )
        # "auto" goes exact when float64 products overflow or underflow.
        can_escalate = self.solver == "auto" and n_columns <= EXACT_MAX_COLUMNS
        result = self._reduce(inputs, first_kind(self.solver), overflow_ok=can_escalate)
        solved = None
        if result is not None:
            extreme = extreme_column(result)
            if extreme is not None and not can_escalate:
                raise magnitude_error(extreme, inputs.features, self.solver)
            if extreme is None:
                solved = self._solve(result, n_features, alpha)
        n_passes = 1
        if solved is None or (self.solver == "auto" and needs_second_pass(solved[0])):
            second = "exact" if n_columns <= EXACT_MAX_COLUMNS else "qr"
            result = self._reduce(inputs, kind_for_solver(second))
            solved = self._solve(result, n_features, alpha)
            n_passes = 2
        inputs.store_features(self)
        state = fit_state(result, y, inputs, sample_weight)
        return self._store_fit(state, solved, n_passes)

    def _solve(self, result, n_features, alpha):
        """``(solution, x_offset, y_offset)`` from a merged statistic."""
        return result.solve(n_features, fit_intercept=self.fit_intercept, alpha=alpha)

    def _store_fit(self, state, solved, n_passes, warn=True):
        """Store a solve of ``state.statistic``: the coefficients, the state
        (with the solve's factor, as inference needs it again) and the
        solver's attributes."""
        solution, x_offset, y_offset = solved
        self._store_solution(solution.coef, x_offset, y_offset, state.y_is_1d)
        self._store_state(state.with_factor(solution.factor))
        self.solver_ = type(state.statistic).solver
        self.digits_ = solution.digits
        self.n_passes_ = n_passes
        if warn:
            warn_if_inaccurate(solution, self.solver_)
        return solution

    def _store_state(self, state):
        """Keep the fit's state, the only private fitted attribute: the
        merged statistic (q-by-q) lets inference, and merging with further
        data, start from it without touching the data again."""
        self._fit_state = state

    def _store_solution(self, coef, x_offset, y_offset, y_is_1d):
        """Set ``coef_`` and ``intercept_`` from coefficients of shape (p, k)."""
        if y_is_1d or (self._single_target_coef_is_1d and coef.shape[1] == 1):
            self.coef_ = coef[:, 0].copy()
        else:
            self.coef_ = np.ascontiguousarray(coef.T)
        if not self.fit_intercept:
            self.intercept_ = 0.0
        elif y_is_1d:
            self.intercept_ = float(y_offset[0] - x_offset @ coef[:, 0])
        else:
            self.intercept_ = y_offset - x_offset @ coef

    def save(self, path, *, metadata=None):
        """Write the fitted model to a JSON model file.

        The file holds the class, parameters, coefficients (bit for bit),
        feature names, fitted attributes and the merged statistics (so
        inference, ``partial_fit`` and ``merge`` work after
        :func:`dask_linreg.load`); loading it never executes code.

        Parameters
        ----------
        path : str or path-like
        metadata : dict, default=None
            Extra JSON-serializable information to store (data source...).
        """
        # The one call up a layer: model files sit on top of the estimators
        # (they read every estimator's parameters and fitted attributes).
        from dask_linreg.io._model_file import save

        save(self, path, metadata=metadata)

    def predict(self, X):
        """Predict using the linear model.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray, dask array or dask Series/DataFrame
            Of shape (n_samples,) or (n_samples, n_targets).  Lazy (nothing
            is computed) when X is a Dask collection: a Dask array for a
            Dask array, a Dask Series (one target) or DataFrame (several)
            with X's index and partitions for a Dask DataFrame.  A NumPy
            array otherwise.  Dask input is not checked for NaN (that would
            need a pass): NaN rows give NaN predictions.
        """
        check_is_fitted(self)
        x = check_predict_input(self, X)
        if not is_dask(X):
            return x @ self.coef_.T + self.intercept_
        if _is_dask_frame(X):
            return predict_frame(X, self.coef_, self.intercept_)
        return lazy_predict(x, self.coef_, self.intercept_)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of the prediction.

        As :meth:`sklearn.base.RegressorMixin.score` defines it (averaged
        uniformly over targets).  On Dask input it takes one pass: the
        residual and target statistics are reduced with the same mergeable
        moments as ``fit``.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            Test samples.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
            True values for X.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² of ``self.predict(X)`` with respect to y.
        """
        check_is_fitted(self)
        # X is checked against the fitted features; y and sample_weight are
        # checked and matched to X's rows as in fit.
        inputs = check_fit_inputs(
            self, X, y, sample_weight, reset=False, allow_numpy=True
        )
        coef = np.reshape(self.coef_, (-1, self.n_features_in_))
        intercept = np.reshape(self.intercept_, -1) * np.ones(coef.shape[0])
        if inputs.n_targets != coef.shape[0]:
            raise ValueError(
                f"y has {inputs.n_targets} target(s) but the model predicts "
                f"{coef.shape[0]}."
            )
        if isinstance(inputs.x, np.ndarray):
            moments, faults = reduce_in_memory_residuals(
                inputs.x, inputs.y, inputs.sample_weight, coef.T, intercept
            )
        else:
            moments, faults = reduce_residual_moments(
                inputs.x,
                inputs.y,
                inputs.sample_weight,
                coef.T,
                intercept,
                split_every=self.split_every,
                scheduler="threads" if inputs.local else None,
            )
        faults.raise_if_any(inputs.features.names)
        if moments.weight_sum == 0.0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        return float(np.mean(r2_scores(moments, inputs.n_targets)))


def fit_state(statistic, y, inputs, sample_weight):
    """The :class:`FitState` of a fit on ``inputs`` (y as given to fit)."""
    return FitState(
        statistic=statistic,
        solve_factor=None,
        y_is_1d=inputs.y_is_1d,
        target_names=target_names(y, inputs.n_targets, inputs.y_is_1d),
        weighted_fit=sample_weight is not None,
    )


def first_kind(solver):
    """The statistic of a fit's first pass: ``"auto"`` starts with the
    normal equations."""
    return kind_for_solver("cholesky" if solver == "auto" else solver)


def needs_second_pass(solution):
    """Whether ``"auto"``'s first solve is too inaccurate to keep."""
    return solution.digits < AUTO_MIN_DIGITS or solution.rank_uncertain


def check_exact_columns(solver, n_columns):
    """``solver="exact"`` only up to ``EXACT_MAX_COLUMNS`` columns of ``[X | y]``."""
    if solver == "exact" and n_columns > EXACT_MAX_COLUMNS:
        raise ValueError(
            f"solver='exact' handles up to {EXACT_MAX_COLUMNS} columns of "
            f"[X | y]; got {n_columns}. Use solver='qr' or 'auto'."
        )
