"""The shared estimator base: parameters, fit/predict/score orchestration.

The estimators only validate, dispatch and store results; the statistics are
reduced by :mod:`dask_linreg._dask.graph` and solved by the kinds of
:mod:`dask_linreg._numerics.kinds`.
"""

import numbers
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from dask_linreg._dask.columns import _is_dask_frame, is_dask
from dask_linreg._dask.formula import design_frames
from dask_linreg._dask.graph import (
    effective_split_every,
    lazy_predict,
    reduce_in_memory,
    reduce_in_memory_residuals,
    reduce_level_statistic,
    reduce_residual_moments,
    reduce_statistic,
)
from dask_linreg._dask.inputs import (
    Features,
    check_fit_inputs,
    check_predict_input,
    check_statistic_memory,
)
from dask_linreg._numerics.faults import extreme_column
from dask_linreg._numerics.kinds import KINDS, kind_for_solver
from dask_linreg._numerics.levels import design_columns
from dask_linreg._numerics.solve import r2_scores
from dask_linreg.linear_model._errors import magnitude_error, no_samples_error
from dask_linreg.linear_model._params import (
    Boolean,
    Interval,
    Options,
    validate_params,
)
from dask_linreg.linear_model._prediction import (
    predict_factor_frame,
    predict_frame,
)
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
MAX_LEVELS = [None, Interval(numbers.Integral, 1, None, closed="left")]
HANDLE_UNKNOWN = [Options("error", "ignore")]
MISSING = [Options("raise", "drop")]
#: The most levels of one categorical column, by default.
DEFAULT_MAX_LEVELS = 1000
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

    #: Whether a categorical column keeps an indicator for every level
    #: (penalized models, whose penalty identifies them) rather than
    #: dropping its first level (treatment coding).
    _full_one_hot = False

    @property
    def _n_coefficients(self):
        """Columns of the model: ``n_features_in_``, or more when
        categorical columns expand into their levels' indicators."""
        names = self.__dict__.get("coef_names_")
        return self.n_features_in_ if names is None else len(names)

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

        With ``overflow_ok``, cross-products beyond float64 give None
        instead of raising (``"auto"`` then goes exact).

        Returns
        -------
        result : StatisticKind or None
        dropped : int
            Rows left out for a missing value (``missing="drop"``).
        """
        if isinstance(inputs.x, np.ndarray):
            result, faults = reduce_in_memory(
                inputs.x,
                inputs.y,
                inputs.sample_weight,
                kind=kind,
                missing=self.missing,
            )
        else:
            result, faults = reduce_statistic(
                inputs.x,
                inputs.y,
                inputs.sample_weight,
                kind=kind,
                split_every=self.split_every,
                scheduler="threads" if inputs.local else None,
                missing=self.missing,
            )
        if overflow_ok and faults.only_overflow():
            return None, faults.dropped
        faults.raise_if_any(inputs.features.names)
        if result.count == 0:  # row blocks of unknown size, all empty
            raise no_samples_error(inputs.x.shape[1])
        if result.weight_sum == 0.0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        return result, faults.dropped

    def _fit(self, X, y, sample_weight, formula_terms=None):
        """Validate, run one pass (two on hard data with ``"auto"``), store:
        the fit of the estimators with a ``solver`` (least squares, Ridge).
        ``formula_terms``: X is a formula's design, with these terms."""
        checked = self._check_params()
        inputs = check_fit_inputs(
            self,
            X,
            y,
            sample_weight,
            allow_numpy=True,
            categorical=True,
            formula_terms=formula_terms,
        )
        # Everything that can be checked without the data fails here,
        # before the pass.
        alpha = self._penalties(checked, inputs.n_targets)
        if inputs.design is not None:
            return self._fit_factors(inputs, y, sample_weight, alpha)
        if inputs.x.shape[0] == 0:
            raise no_samples_error(inputs.x.shape[1])
        n_features = inputs.x.shape[1]
        n_columns = n_features + inputs.n_targets
        check_exact_columns(self.solver, n_columns)
        # A merge task holds at most as many statistics as there are blocks.
        check_statistic_memory(
            n_columns,
            min(
                effective_split_every(self.split_every, n_columns),
                inputs.x.numblocks[0],
            )
            if not isinstance(inputs.x, np.ndarray)
            else 1,
        )
        # "auto" goes exact when float64 products overflow or underflow.
        can_escalate = self.solver == "auto" and n_columns <= EXACT_MAX_COLUMNS
        result, dropped = self._reduce(
            inputs, first_kind(self.solver), overflow_ok=can_escalate
        )
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
            result, dropped = self._reduce(inputs, kind_for_solver(second))
            solved = self._solve(result, n_features, alpha)
            n_passes = 2
        inputs.store_features(self)
        self._store_design(None, None)
        state = fit_state(result, y, inputs, sample_weight, dropped)
        return self._store_fit(state, solved, n_passes)

    def _fit_factors(self, inputs, y, sample_weight, alpha):
        """The fit of X with categorical columns: one pass finds the levels
        and reduces the moments of every level's indicator; the model's
        encoding picks its columns of them."""
        levels, dropped = self._reduce_factors(inputs)
        base = fit_state(None, y, inputs, sample_weight, dropped)
        return self._solve_factors(levels, inputs.design, inputs.features, base, alpha)

    def _reduce_factors(self, inputs):
        """One pass to the :class:`LevelMoments` of ``inputs`` (levels
        sorted) and the rows dropped; value faults raise here."""
        design = inputs.design
        if getattr(self, "solver", "auto") not in ("auto", "cholesky"):
            raise ValueError(
                f"solver={self.solver!r} does not take categorical columns (X has "
                f"{', '.join(map(repr, design.factors))}): they are fitted from "
                "the normal equations. Use solver='auto' or 'cholesky'."
            )
        terms = self._encoded(design).indicator_terms()
        result, faults = reduce_level_statistic(
            inputs.x,
            inputs.y,
            inputs.sample_weight,
            inputs.factors,
            terms=terms,
            factor_names=design.factors,
            message_names=design.message_names(),
            max_levels=self.max_levels,
            split_every=self.split_every,
            scheduler="threads" if inputs.local else None,
            missing=self.missing,
        )
        faults.raise_if_any(np.asarray(design.numeric, dtype=object))
        if result.count == 0:
            raise no_samples_error(len(design.columns))
        if result.weight_sum == 0.0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        return result, faults.dropped

    def _solve_factors(
        self, levels, design, features, base, alpha, *, n_passes=1, warn=True
    ):
        """Solve and store a fit from the moments of every level's indicator
        (``levels``, sorted; of a fit, of batches or of merged models).

        ``base`` is the :class:`FitState` to complete (targets, weights);
        nothing is changed until the solve has succeeded.
        """
        design, names, moments = self._factor_moments(levels, design)
        solved = self._solve(moments, len(names), alpha)
        features.store(self)
        self._store_design(design, names)
        state = replace(base, statistic=moments, design=design, levels=levels)
        return self._store_fit(state, solved, n_passes, warn)

    def _factor_moments(self, levels, design):
        """The model's columns of the moments of every level's indicator.

        Returns
        -------
        design : FactorDesign
            With the levels in the model's order and the encoding.
        names : list of str
            The model's columns (``coef_names_``).
        moments : Moments
            Of those columns and the targets.
        """
        ordered = levels.reordered(design.orders)
        design = replace(self._encoded(design), levels=ordered.levels)
        columns, names = design_columns(ordered, design.terms, design.numeric)
        moments = ordered.select(columns)
        extreme = extreme_column(moments)
        if extreme is not None:
            named = Features(len(names), np.asarray(names, dtype=object))
            raise magnitude_error(extreme, named, None)
        return design, names, moments

    def _encoded(self, design):
        """``design`` with this estimator's encoding of its factors."""
        return design.encoded(
            fit_intercept=self.fit_intercept, full_one_hot=self._full_one_hot
        )

    def _store_design(self, design, names):
        """Set (or, without categorical columns, remove) ``coef_names_``
        and ``categories_``."""
        if design is None:
            self.__dict__.pop("coef_names_", None)
            self.__dict__.pop("categories_", None)
            return
        self.coef_names_ = np.asarray(names, dtype=object)
        self.categories_ = {
            name: np.asarray(levels, dtype=object).copy()
            for name, levels in zip(design.factors, design.levels, strict=True)
        }

    def _with_design(self, state, design, names, levels):
        """``state`` with the fit's design and level statistics, and
        ``coef_names_`` set (None: no categorical columns); a last step of
        a fit, which nothing after may fail."""
        self._store_design(design, names)
        return replace(state, design=design, levels=levels)

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
        X = self._through_formula(X)
        design = self._fit_design()
        if design is not None:
            return self._predict_factors(design, X)
        x = check_predict_input(self, X)
        if not is_dask(X):
            return x @ self.coef_.T + self.intercept_
        if _is_dask_frame(X):
            return predict_frame(X, self.coef_, self.intercept_)
        return lazy_predict(x, self.coef_, self.intercept_)

    def _through_formula(self, X):
        """X's design by the formula of a model fitted by ``ols`` (X as
        given otherwise)."""
        state = self.__dict__.get("_fit_state")
        if state is None or state.formula is None:
            return X
        return design_frames(X, state.formula, with_targets=False)

    def _fit_design(self):
        state = self.__dict__.get("_fit_state")
        return None if state is None else state.design

    def _predict_factors(self, design, X):
        """Predictions for X with the fitted categorical columns: a pandas
        or Dask DataFrame with X's columns."""
        check_factor_frame(self, X)
        coef = np.atleast_2d(self.coef_)
        intercept = np.reshape(self.intercept_, -1) * np.ones(coef.shape[0])
        one_target = np.ndim(self.coef_) == 1
        predict = partial(
            predict_factor_frame,
            design=design,
            coef=coef,
            intercept=intercept,
            one_target=one_target,
            handle_unknown=self.handle_unknown,
        )
        if is_dask(X):
            meta = predict(X._meta)
            return X.map_partitions(predict, meta=meta)
        values = predict(X)
        return values.to_numpy()

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
        if self._fit_design() is not None:
            return self._score_factors(X, y, sample_weight)
        X = self._through_formula(X)
        # X is checked against the fitted features; y and sample_weight are
        # checked and matched to X's rows as in fit.
        inputs = check_fit_inputs(
            self, X, y, sample_weight, reset=False, allow_numpy=True
        )
        coef = np.reshape(self.coef_, (-1, self.n_features_in_))
        intercept = np.reshape(self.intercept_, -1) * np.ones(coef.shape[0])
        return self._score_inputs(inputs, coef, intercept)

    def _score_factors(self, X, y, sample_weight):
        """R² of a model with categorical columns: its predictions, taken
        partition by partition, scored against y as a model of identity
        coefficients would be (the same one pass)."""
        prediction = self.predict(X)
        if is_dask(prediction):
            frame = prediction.to_frame() if prediction.ndim == 1 else prediction
        else:
            frame = pd.DataFrame(np.reshape(prediction, (len(prediction), -1)))
        frame = frame.rename(columns=lambda c: f"prediction{c}")
        inputs = check_fit_inputs(
            clone(self), frame, y, sample_weight, allow_numpy=True
        )
        k = len(frame.columns)
        return self._score_inputs(inputs, np.eye(k), np.zeros(k))

    def _score_inputs(self, inputs, coef, intercept):
        """R² of predictions ``x @ coef.T + intercept`` against y."""
        if inputs.n_targets != coef.shape[0]:
            raise ValueError(
                f"y has {inputs.n_targets} target(s) but the model predicts "
                f"{coef.shape[0]}."
            )
        if isinstance(inputs.x, np.ndarray):
            moments, faults = reduce_in_memory_residuals(
                inputs.x,
                inputs.y,
                inputs.sample_weight,
                coef.T,
                intercept,
                missing=self.missing,
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
                missing=self.missing,
            )
        faults.raise_if_any(inputs.features.names)
        if moments.weight_sum == 0.0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        return float(np.mean(r2_scores(moments, inputs.n_targets)))


def check_factor_frame(model, X):
    """X for a model with categorical columns: a DataFrame with its columns."""
    if not hasattr(X, "columns") or getattr(X, "ndim", 2) != 2:
        raise TypeError(
            f"X must be a pandas or Dask DataFrame with the columns the model was "
            f"fitted on ({', '.join(map(repr, model.feature_names_in_))}), as it "
            f"has categorical columns; got {type(X).__name__}."
        )
    validate_data(
        model, pd.DataFrame(columns=X.columns), skip_check_array=True, reset=False
    )


def fit_state(statistic, y, inputs, sample_weight, dropped=0):
    """The :class:`FitState` of a fit on ``inputs`` (y as given to fit)."""
    return FitState(
        statistic=statistic,
        solve_factor=None,
        y_is_1d=inputs.y_is_1d,
        target_names=target_names(y, inputs.n_targets, inputs.y_is_1d),
        weighted_fit=sample_weight is not None,
        dropped=dropped,
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
