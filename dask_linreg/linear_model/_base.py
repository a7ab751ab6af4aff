"""scikit-learn compatible estimators: validate, dispatch, store results."""

import os
import sys
import warnings
from dataclasses import replace

import dask.array as da
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from dask_linreg._dask.columns import _is_dask_frame, is_dask
from dask_linreg._dask.graph import (
    effective_split_every,
    lazy_predict,
    reduce_in_memory,
    reduce_in_memory_residuals,
    reduce_residual_moments,
    reduce_scores,
    reduce_statistic,
)
from dask_linreg._dask.inputs import (
    check_fit_inputs,
    check_predict_input,
    check_statistic_memory,
)
from dask_linreg._numerics.faults import extreme_column
from dask_linreg._numerics.kinds import kind_for_solver, merge_statistics
from dask_linreg._numerics.sandwich import (
    COV_TYPES,
    ScoreModel,
    design_root,
    fit_summary,
    robust_covariance,
)
from dask_linreg._numerics.solve import r2_scores, solve_nonnegative
from dask_linreg.inference._results import RegressionResults, Summary
from dask_linreg.linear_model._params import check_alpha, check_bool, check_split_every

__all__ = ["AccuracyWarning", "LinearRegression", "Ridge", "SOLVERS"]

#: Accepted values of the ``solver`` parameter.
SOLVERS = ("auto", "cholesky", "qr", "exact")
#: ``"auto"`` takes a second pass when the normal equations keep fewer
#: digits than this.
AUTO_MIN_DIGITS = 9.0
#: Up to this many columns of ``[X | y]``, ``"auto"``'s second pass is
#: ``"exact"``; beyond, the rational solve grows too slow and it is ``"qr"``.
EXACT_MAX_COLUMNS = 64
#: Fewer trustworthy digits than this raise an :class:`AccuracyWarning`.
WARN_DIGITS = 6.0


class AccuracyWarning(UserWarning):
    """The fitted coefficients have fewer than about 6 trustworthy digits."""


def _no_samples_error(n_features):
    return ValueError(
        f"Found array with 0 sample(s) (shape=(0, {n_features})) while a minimum "
        "of 1 is required."
    )


def _magnitude_error(extreme, features, solver):
    index, rms = extreme
    n_features = features.n_features
    if index < n_features:
        names = features.names
        where = (
            f"X column {names[index]!r}" if names is not None else f"X column {index}"
        )
    else:
        where = f"y column {index - n_features}"
    if solver is None:  # estimators that have only the cross-products
        return ValueError(
            f"{where} has values of magnitude about {rms:.0e}: its products "
            "overflow or underflow float64. Rescale it (by a power of ten, say)."
        )
    return ValueError(
        f"{where} has values of magnitude about {rms:.0e}: its products overflow "
        f"or underflow float64 in solver={solver!r}. Rescale it (by a "
        "power of ten, say), or use solver='exact'."
    )


#: Frames under this folder are the package's own: warnings point past them.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn_at_caller(message, category):
    """Warn at the first frame outside the package (the user's call),
    however deep inside it the warning is raised."""
    if sys.version_info >= (3, 12):
        warnings.warn(message, category, skip_file_prefixes=(_PACKAGE_DIR,))
        return
    # Level 1 is this function; 2 its caller.
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _warn_if_inaccurate(solution, solver):
    if solution.data_digits < WARN_DIGITS:
        warn_at_caller(
            f"The data determine only about {solution.data_digits:.1f} significant "
            "digits of the coefficients (condition number "
            f"{solution.condition:.1e} of the scaled design): a change of one unit "
            "in the last place of the data can change them that much. Nearly "
            "collinear columns are the usual cause; consider dropping or combining "
            "them, or a penalty (Ridge).",
            AccuracyWarning,
        )
    elif solution.digits < WARN_DIGITS:
        warn_at_caller(
            f"solver={solver!r} kept only about {solution.digits:.1f} significant "
            "digits of the coefficients (condition number "
            f"{solution.condition:.1e} of the scaled design); solver='auto' or "
            "'exact' gets more.",
            AccuracyWarning,
        )


def _warn_no_second_pass(solution):
    warn_at_caller(
        f"The normal equations keep only about {solution.digits:.1f} digits here, "
        "and partial_fit cannot take solver='auto''s second, more accurate pass "
        "(the earlier batches are gone). For streaming fits of ill-conditioned "
        "data use solver='qr' (or 'exact').",
        AccuracyWarning,
    )


class _OnePassLinearModel(RegressorMixin, BaseEstimator):
    """Shared fit/predict/score of the one-pass linear models."""

    # scikit-learn's Ridge gives a 1-D coef_ for a single target passed as
    # a column; its LinearRegression keeps it 2-D.  Each estimator follows
    # its counterpart.
    _single_target_coef_is_1d = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _check_params(self):
        """Check the parameters (not alpha) before anything is computed."""
        check_bool("fit_intercept", self.fit_intercept)
        if self.solver not in SOLVERS:
            raise ValueError(
                f"solver must be one of {', '.join(map(repr, SOLVERS))}; got "
                f"{self.solver!r}."
            )
        check_split_every(self.split_every)

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
            raise _no_samples_error(inputs.x.shape[1])
        if result.weight_sum == 0.0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        return result

    def _fit(self, X, y, sample_weight, alpha=None):
        """Validate, run one pass (two on hard data with ``"auto"``), store.

        ``alpha`` is None for least squares, else Ridge's penalty.
        """
        self._check_params()
        inputs = check_fit_inputs(self, X, y, sample_weight, allow_numpy=True)
        # Everything that can be checked without the data fails here,
        # before the pass.
        if alpha is not None:
            alpha = check_alpha(alpha, inputs.n_targets)
        if inputs.x.shape[0] == 0:
            raise _no_samples_error(inputs.x.shape[1])
        n_features = inputs.x.shape[1]
        n_columns = n_features + inputs.n_targets
        if self.solver == "exact" and n_columns > EXACT_MAX_COLUMNS:
            raise ValueError(
                f"solver='exact' handles up to {EXACT_MAX_COLUMNS} columns of "
                f"[X | y]; got {n_columns}. Use solver='qr' or 'auto'."
            )
        # A merge task holds at most as many statistics as there are blocks.
        check_statistic_memory(
            n_columns,
            min(effective_split_every(self.split_every), inputs.x.numblocks[0])
            if not isinstance(inputs.x, np.ndarray)
            else 1,
        )
        # "auto" goes exact when float64 products overflow or underflow.
        can_escalate = self.solver == "auto" and n_columns <= EXACT_MAX_COLUMNS
        result = self._reduce(
            inputs, _first_kind(self.solver), overflow_ok=can_escalate
        )
        solved = None
        if result is not None:
            extreme = extreme_column(result)
            if extreme is not None and not can_escalate:
                raise _magnitude_error(extreme, inputs.features, self.solver)
            if extreme is None:
                solved = self._solve(result, n_features, alpha)
        n_passes = 1
        if solved is None or (
            self.solver == "auto"
            and (solved[0].digits < AUTO_MIN_DIGITS or solved[0].rank_uncertain)
        ):
            second = "exact" if n_columns <= EXACT_MAX_COLUMNS else "qr"
            result = self._reduce(inputs, kind_for_solver(second))
            solved = self._solve(result, n_features, alpha)
            n_passes = 2
        inputs.store_features(self)
        self._weighted_fit = sample_weight is not None
        self._target_names = _target_names(y, inputs.n_targets, inputs.y_is_1d)
        self._y_is_1d = inputs.y_is_1d
        return self._store_fit(result, solved, n_passes)

    def _solve(self, result, n_features, alpha):
        """``(solution, x_offset, y_offset)`` from a merged statistic."""
        return result.solve(n_features, fit_intercept=self.fit_intercept, alpha=alpha)

    def _store_fit(self, result, solved, n_passes, warn=True):
        """Store the solution and, for inference and merging, the statistic."""
        solution, x_offset, y_offset = solved
        self._store_solution(solution.coef, x_offset, y_offset, self._y_is_1d)
        # The merged statistic is kept (q-by-q): inference, and merging with
        # further data, start from it without touching the data again; the
        # exact solve's factor is kept too, as inference needs it again.
        self._statistic = result
        self._solve_factor = solution.factor
        self._fit_summary_cache = None
        self.solver_ = type(result).solver
        self.digits_ = solution.digits
        self.n_passes_ = n_passes
        if warn:
            _warn_if_inaccurate(solution, self.solver_)
        return solution

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
            return X.map_partitions(
                _predict_partition,
                self.coef_,
                self.intercept_,
                meta=_prediction_meta(self.coef_),
            )
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


def _first_kind(solver):
    """The statistic of a fit's first pass: ``"auto"`` starts with the
    normal equations."""
    return kind_for_solver("cholesky" if solver == "auto" else solver)


def _require_statistics(model, what):
    """Models loaded from a file saved without statistics predict only."""
    if getattr(model, "_statistic", None) is None:
        raise ValueError(
            f"{what} needs the statistics of the fit, and this "
            f"{type(model).__name__} has none (it was loaded from a model file "
            "saved without them); fit it again."
        )


def _target_names(y, n_targets, y_is_1d):
    """Names of the targets: a Series' name, a frame's columns, or y/y0.."""
    columns = getattr(y, "columns", None)
    if columns is not None and len(columns) == n_targets:
        return [str(c) for c in columns]
    name = (
        getattr(y, "name", None)
        if isinstance(y, pd.Series) or (is_dask(y) and not isinstance(y, da.Array))
        else None
    )
    if y_is_1d:
        return [str(name) if name is not None else "y"]
    return [f"y{i}" for i in range(n_targets)]


def _check_inference_arguments(cov_type, X, y, groups, use_t):
    if cov_type not in COV_TYPES:
        raise ValueError(
            f"cov_type must be one of {', '.join(map(repr, COV_TYPES))}; got "
            f"{cov_type!r}."
        )
    if use_t is not None and not isinstance(use_t, bool | np.bool_):
        raise ValueError(f"use_t must be a bool or None; got {use_t!r}.")
    if cov_type == "nonrobust":
        if X is not None or y is not None or groups is not None:
            raise ValueError(
                "cov_type='nonrobust' needs no pass over the data: do not pass X, "
                "y or groups (they are read only for robust covariances)."
            )
        return
    if X is None or y is None:
        raise ValueError(
            f"cov_type={cov_type!r} needs one pass over the training data: pass "
            "X and y (and the sample_weight of the fit)."
        )
    if cov_type == "cluster" and groups is None:
        raise ValueError(
            "cov_type='cluster' needs groups: the cluster label of each row."
        )
    if cov_type != "cluster" and groups is not None:
        raise ValueError(
            f"groups is only used with cov_type='cluster'; got cov_type={cov_type!r}."
        )


def _predict_partition(frame, coef, intercept):
    values = frame.to_numpy(dtype=np.float64) @ coef.T + intercept
    if values.ndim == 1:
        return pd.Series(values, index=frame.index)
    return pd.DataFrame(values, index=frame.index)


def _prediction_meta(coef):
    if coef.ndim == 1:
        return pd.Series([], dtype=np.float64)
    return pd.DataFrame(
        {i: pd.Series([], dtype=np.float64) for i in range(coef.shape[0])}
    )


class _MergeableMixin:
    """``partial_fit`` and ``merge``: statistics accumulated across calls
    and across models, for the estimators with one fixed penalty."""

    def _partial_fit(self, X, y, sample_weight, alpha=None):
        """Add a batch of rows to the statistics of the earlier calls; re-solve."""
        self._check_params()
        first = not hasattr(self, "coef_")
        if not first:
            _require_statistics(self, "partial_fit")
        inputs = check_fit_inputs(
            self, X, y, sample_weight, reset=first, allow_numpy=True
        )
        if alpha is not None:
            alpha = check_alpha(alpha, inputs.n_targets)
        if inputs.x.shape[0] == 0:
            raise _no_samples_error(inputs.x.shape[1])
        n_features = inputs.x.shape[1]
        if first:
            kind = _first_kind(self.solver)
            n_columns = n_features + inputs.n_targets
            if self.solver == "exact" and n_columns > EXACT_MAX_COLUMNS:
                raise ValueError(
                    f"solver='exact' handles up to {EXACT_MAX_COLUMNS} columns of "
                    f"[X | y]; got {n_columns}. Use solver='qr' or 'auto'."
                )
        else:
            kind = type(self._statistic)
            n_targets = len(self._target_names)
            if inputs.n_targets != n_targets or inputs.y_is_1d != self._y_is_1d:
                raise ValueError(
                    f"y has {inputs.n_targets} target(s) "
                    f"({'1-D' if inputs.y_is_1d else '2-D'}) but the earlier "
                    f"partial_fit calls had {n_targets} "
                    f"({'1-D' if self._y_is_1d else '2-D'})."
                )
        result = self._reduce(inputs, kind)
        extreme = extreme_column(result)
        if extreme is not None:
            raise _magnitude_error(extreme, inputs.features, self.solver)
        if not first:
            result = self._statistic.merge(result)
        solved = self._solve(result, n_features, alpha)
        # Everything is computed: only now is the model changed.
        if first:
            inputs.store_features(self)
            self._weighted_fit = sample_weight is not None
            self._target_names = _target_names(y, inputs.n_targets, inputs.y_is_1d)
            self._y_is_1d = inputs.y_is_1d
        else:
            self._weighted_fit = self._weighted_fit or sample_weight is not None
        needs_second_pass = self.solver == "auto" and (
            solved[0].digits < AUTO_MIN_DIGITS or solved[0].rank_uncertain
        )
        if needs_second_pass:
            _warn_no_second_pass(solved[0])
        return self._store_fit(result, solved, n_passes=1, warn=not needs_second_pass)

    def _merged(self, other, alpha=None):
        """A new fitted model from the statistics of ``self`` and ``other``."""
        check_is_fitted(self)
        if type(other) is not type(self):
            raise TypeError(
                f"Only two {type(self).__name__} models can be merged; got "
                f"{type(other).__name__}."
            )
        check_is_fitted(other)
        _require_statistics(self, "merge")
        _require_statistics(other, "merge")
        mine, theirs = self.get_params(), other.get_params()
        # How the statistics were computed does not matter, only what of.
        for name in ("split_every", "solver"):
            mine.pop(name), theirs.pop(name)
        different = [
            name
            for name in mine
            if not np.array_equal(np.asarray(mine[name]), np.asarray(theirs[name]))
        ]
        if different:
            raise ValueError(
                f"Models with different parameters cannot be merged: "
                f"{', '.join(f'{n}={mine[n]!r} vs {theirs[n]!r}' for n in different)}."
            )
        if self.n_features_in_ != other.n_features_in_:
            raise ValueError(
                f"Models fitted on {self.n_features_in_} and {other.n_features_in_} "
                "features cannot be merged."
            )
        names = getattr(self, "feature_names_in_", None)
        other_names = getattr(other, "feature_names_in_", None)
        if (names is None) != (other_names is None) or (
            names is not None and list(names) != list(other_names)
        ):
            raise ValueError(
                "Models fitted on different feature names cannot be merged: "
                f"{None if names is None else list(names)} vs "
                f"{None if other_names is None else list(other_names)}."
            )
        if (len(self._target_names), self._y_is_1d) != (
            len(other._target_names),
            other._y_is_1d,
        ):
            raise ValueError(
                f"Models fitted on {len(self._target_names)} and "
                f"{len(other._target_names)} targets (or 1-D and 2-D y) cannot be "
                "merged."
            )
        result = merge_statistics(self._statistic, other._statistic)
        merged = clone(self)
        merged.n_features_in_ = self.n_features_in_
        if names is not None:
            merged.feature_names_in_ = names
        merged._weighted_fit = self._weighted_fit or other._weighted_fit
        merged._target_names = list(self._target_names)
        merged._y_is_1d = self._y_is_1d
        if alpha is not None:
            alpha = check_alpha(alpha, len(self._target_names))
        solved = merged._solve(result, self.n_features_in_, alpha)
        merged._store_fit(result, solved, n_passes=0)
        return merged

    def _penalty(self):
        """The raw ``alpha`` of a penalized model; None for least squares."""
        return None

    def partial_fit(self, X, y, sample_weight=None):
        """Add a batch of rows to the model: streaming and out-of-core fits.

        Each call reads its batch once, merges the batch's statistics into
        those of all earlier calls (and of a ``fit`` before them) and
        re-solves: after any number of calls the model equals one ``fit`` on
        all the rows seen (to rounding: about 1e-14 relative with the
        default solver).  The first call, or the first after ``fit``'s
        reset, fixes the features and targets.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            A batch of rows, with the features of the earlier calls.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
            Their targets, as many as in the earlier calls.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Their weights.

        Returns
        -------
        self : object
            The updated estimator.

        Notes
        -----
        The statistic accumulated is the one of ``solver``: ``"cholesky"``
        and ``"auto"`` accumulate centered cross-products, ``"qr"`` a
        triangular factor, ``"exact"`` exact cross-products; after a
        ``fit``, the kind that fit ended with.  ``"auto"`` cannot take its
        second pass over earlier batches: on ill-conditioned data it warns
        (:class:`AccuracyWarning`) and ``solver="qr"`` is the streaming
        choice.  ``fit`` starts afresh and discards what ``partial_fit``
        accumulated.
        """
        self._partial_fit(X, y, sample_weight, alpha=self._penalty())
        return self

    def merge(self, other):
        """A model fitted on the rows of both ``self`` and ``other``.

        The two models' statistics (fitted on disjoint data, e.g. on two
        machines or two days) are merged without reading any data; the
        result equals one fit on all the rows, to rounding.  ``a + b`` is
        the same.

        Parameters
        ----------
        other : same class as self
            Fitted with the same parameters (``solver`` and ``split_every``
            aside: the merged model takes those of ``self``), features and
            number of targets.

        Returns
        -------
        merged : same class as self
            A new fitted estimator (``self`` and ``other`` are unchanged).
            When the two hold statistics of different accuracy (one fitted
            with ``solver="exact"``, say), the merge keeps the less accurate
            kind.

        Raises
        ------
        TypeError
            If ``other`` is not of the same class.
        ValueError
            If the parameters, features or targets differ.
        """
        return self._merged(other, alpha=self._penalty())

    def __add__(self, other):
        if not isinstance(other, _MergeableMixin):
            return NotImplemented
        return self.merge(other)


class LinearRegression(_MergeableMixin, _OnePassLinearModel):
    """Ordinary least squares in one pass over in-memory or Dask data
    (two on ill-conditioned data, with ``solver="auto"``).

    Minimizes ``sum_i w_i (y_i - x_i @ coef - intercept)**2``, like
    :class:`sklearn.linear_model.LinearRegression`.  Each block of rows is
    reduced to its weighted count, means and centered cross-products of
    ``[X | y]``; these are merged pairwise in a tree inside the Dask graph,
    and the small ``n_features``-by-``n_features`` system is solved on the
    client.  Ordinary data are read exactly once; see ``solver``.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit an intercept.  If False, the data are not centered.
    positive : bool, default=False
        Constrain the coefficients (not the intercept) to be non-negative,
        as scikit-learn's ``positive=True``: solved on the client from the
        same statistics by non-negative least squares (Lawson & Hanson), no
        extra pass.  Classical inference is not offered for it.
    solver : {"auto", "cholesky", "qr", "exact"}, default="auto"
        How the coefficients are computed; see the user guide's numerics
        page.

        - ``"cholesky"``: centered normal equations from one pass; the
          fastest, but they square the condition number.
        - ``"qr"``: a mergeable triangular factor (TSQR) of the centered,
          weighted ``[X | y]`` from one pass; the condition number is not
          squared (accuracy of a QR least-squares solver).
        - ``"exact"``: error-free cross-products from one pass (about 10 to
          30 times the cost of ``"cholesky"``), solved in rational
          arithmetic: at full rank, the exact least-squares solution of the
          float64 data, correctly rounded.
        - ``"auto"``: ``"cholesky"``, then, when its estimated accuracy is
          below 9 digits, a second pass with ``"exact"`` (up to 64 columns
          in ``[X | y]``) or ``"qr"``.
    split_every : int, default=None
        Fan-in of the tree that merges the per-block statistics, as in
        :func:`dask.array.reduction`.  None means 8.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Estimated coefficients; 2-D when y is 2-D.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    rank_ : int
        Numerical rank of the (centered, weighted) design, decided on the
        column-scaled problem; see Notes.
    singular_ : ndarray of shape (min(n_samples, n_features),)
        Singular values of the centered, weighted design, largest first.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit; only when X has string
        column names (pandas or Dask DataFrame).
    solver_ : str
        The method that produced ``coef_``: ``"cholesky"``, ``"qr"`` or
        ``"exact"``.
    digits_ : float
        Estimated correct significant digits of ``coef_`` relative to the
        exact least-squares solution of the float64 data.
    n_passes_ : int
        Passes over the data that ``fit`` took (1, or 2 when ``"auto"``
        escalated).

    See Also
    --------
    Ridge : Least squares with an L2 penalty.
    sklearn.linear_model.LinearRegression : The in-memory reference.

    Notes
    -----
    The statistics are merged with the pairwise formulas of Chan, Golub &
    LeVeque, and each block is centered near its own mean in cache-sized
    pieces, so columns with a large offset (timestamps, identifiers) lose no
    digits to cancellation and X is never copied.

    With ``solver="cholesky"`` (and the first pass of ``"auto"``) the
    coefficients solve the normal equations, which square the condition
    number of the scaled, centered design: about ``16 - 2 log10(cond)``
    correct digits.  Its rank decision drops scaled singular values below
    ``1e-6`` times the largest; ``"qr"`` and ``"exact"`` drop those below
    ``10 * eps * n_features`` times the largest.  Rank-deficient designs
    (duplicate or collinear columns, fewer rows than columns) get the
    minimum-norm solution, as with scikit-learn.  ``"auto"`` takes its
    second pass when the normal equations promise fewer than 9 digits,
    dropped a direction, or when a column's magnitude is beyond what float64
    products handle (below about 1e-150 or above 1e150).  With
    ``"cholesky"``, ``singular_`` values below about ``1e-8`` times the
    largest are rounding noise.  See the numerics page of the documentation.

    References
    ----------
    T. F. Chan, G. H. Golub and R. J. LeVeque, "Algorithms for computing the
    sample variance: analysis and recommendations", The American
    Statistician 37(3), 1983.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from dask_linreg import LinearRegression
    >>> X = da.from_array(np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 3.0]]), chunks=2)
    >>> y = X @ np.array([1.0, 2.0]) + 3.0
    >>> model = LinearRegression().fit(X, y)
    >>> model.coef_.round(6), round(model.intercept_, 6)
    (array([1., 2.]), 3.0)
    >>> model.predict(X)
    dask.array<...>
    >>> model.predict(X).compute()
    array([ 6.,  8.,  9., 11.])
    """

    def __init__(
        self, *, fit_intercept=True, positive=False, solver="auto", split_every=None
    ):
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.solver = solver
        self.split_every = split_every

    def _check_params(self):
        super()._check_params()
        check_bool("positive", self.positive)

    def _solve(self, result, n_features, alpha):
        solution, x_offset, y_offset = super()._solve(result, n_features, alpha)
        if self.positive:
            # Constrained on the client, from the same statistic: a root of
            # the cross-products stands in for the data.
            root = design_root(
                result,
                n_features,
                fit_intercept=self.fit_intercept,
                factor=solution.factor,
            ).root
            coef = solve_nonnegative(root[:, :n_features], root[:, n_features:])
            solution = replace(solution, coef=coef)
        return solution, x_offset, y_offset

    def fit(self, X, y, sample_weight=None):
        """Fit the linear model in one pass over the data.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            Training data.  Dask arrays may have any chunking, including row
            blocks of unknown size; column blocks are read side by side.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
            Target values, with the same row blocks as X when X is a Dask
            collection of unknown block sizes.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Non-negative individual weights for each sample.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        ValueError
            If X, y or sample_weight hold NaN or inf, if a weight is
            negative, or if the row blocks of X and y do not match; found in
            the same pass, naming the input and the first row block.
        TypeError
            If a column is not numeric (strings, objects, complex numbers),
            before anything is computed.
        """
        self._fit(X, y, sample_weight)
        return self

    def _store_fit(self, result, solved, n_passes, warn=True):
        solution = super()._store_fit(result, solved, n_passes, warn)
        self.rank_ = solution.rank
        self.singular_ = solution.singular
        return solution

    def _inference_summary(self):
        """The pass-free part of the inference, computed once per fit."""
        _require_statistics(self, "inference")
        if self._fit_summary_cache is None:
            design = design_root(
                self._statistic,
                self.n_features_in_,
                fit_intercept=self.fit_intercept,
                factor=self._solve_factor,
            )
            coef = np.reshape(self.coef_, (-1, self.n_features_in_)).T
            self._fit_summary_cache = fit_summary(design, coef, self.rank_)
        return self._fit_summary_cache

    def inference(
        self,
        X=None,
        y=None,
        *,
        sample_weight=None,
        cov_type="nonrobust",
        groups=None,
        use_t=None,
    ):
        """Standard errors, tests and intervals of the fitted coefficients.

        The classical (``"nonrobust"``) inference comes from the statistics
        the fit already merged: no pass over the data.  Robust covariances
        take exactly one pass over the training data, which must be passed
        again.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features), default=None
            The training data; only for robust ``cov_type``.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets), default=None
            The training targets; only for robust ``cov_type``.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            The weights of the fit, if any; only for robust ``cov_type``.
        cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"}, default="nonrobust"
            Covariance of the coefficients: classical ``scale * (X'WX)^-1``;
            White's heteroskedasticity-consistent HC0 to HC3 (MacKinnon &
            White); or cluster-robust (CR1) with ``groups``.
        groups : array-like or dask collection of shape (n_samples,), default=None
            Cluster label of each row, for ``cov_type="cluster"``; any
            sortable labels (integers, strings).
        use_t : bool, default=None
            Whether p-values and intervals use the t distribution (on
            ``df_resid``, or number of clusters minus one) or the normal.
            None: t for ``"nonrobust"``, normal for robust covariances
            (statsmodels' defaults).

        Returns
        -------
        results : RegressionResults or list of RegressionResults
            One per target (a list when y was 2-D).

        Raises
        ------
        ValueError
            If a robust ``cov_type`` is asked for without X and y, if X and
            y are passed for ``"nonrobust"``, or if the data of the robust
            pass are not those of the fit (other rows or residuals).

        Notes
        -----
        Weights are precision weights, as in statsmodels' ``WLS``: ``scale``
        is ``sum(w r**2) / df_resid``; rows of zero weight are absent (they
        count in neither ``nobs`` nor the clusters).  Without an intercept
        R² and F are uncentered.  In a rank-deficient fit, coefficients with
        a component along a null direction of the design are reported as not
        identified; ``df_model`` is the rank.

        Examples
        --------
        >>> import numpy as np
        >>> from dask_linreg import LinearRegression
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
        >>> y = np.array([1.0, 3.0, 4.0, 7.0, 9.0])
        >>> results = LinearRegression().fit(X, y).inference()
        >>> results.bse.round(4)
        intercept    0.4000
        x0           0.1633
        Name: std err, dtype: float64
        >>> round(results.rsquared, 4), round(float(results.pvalues["x0"]), 5)
        (0.9804, 0.00117)
        """
        check_is_fitted(self)
        if self.positive:
            raise ValueError(
                "inference is not available for positive=True: the standard "
                "errors of constrained estimates are not the classical ones."
            )
        _check_inference_arguments(cov_type, X, y, groups, use_t)
        summary = self._inference_summary()
        names = list(
            getattr(self, "feature_names_in_", None)
            if hasattr(self, "feature_names_in_")
            else [f"x{i}" for i in range(self.n_features_in_)]
        )
        if self.fit_intercept:
            names = ["intercept", *names]
        coef = np.reshape(self.coef_, (-1, self.n_features_in_))
        intercept = np.reshape(self.intercept_, -1) * np.ones(coef.shape[0])
        n_groups = None
        if cov_type == "nonrobust":
            covariances = [
                summary.centered_cov * (r_ss / summary.df_resid)
                if summary.df_resid > 0
                else np.full_like(summary.centered_cov, np.nan)
                for r_ss in summary.ssr
            ]
        else:
            covariances, n_groups = self._robust_covariances(
                summary, X, y, sample_weight, groups, cov_type
            )
        use_t = (cov_type == "nonrobust") if use_t is None else bool(use_t)
        results = []
        for t in range(coef.shape[0]):
            params = coef[t]
            if self.fit_intercept:
                params = np.concatenate([[intercept[t]], params])
            results.append(
                RegressionResults(
                    model=self,
                    target=self._target_names[t],
                    params=params,
                    names=names,
                    summary=summary,
                    target_index=t,
                    centered_cov=covariances[t],
                    cov_type=cov_type,
                    use_t=use_t,
                    n_groups=n_groups,
                )
            )
        return results if np.ndim(self.coef_) == 2 else results[0]

    def _robust_covariances(self, summary, X, y, sample_weight, groups, cov_type):
        """One pass over the training data for the sandwich covariances."""
        inputs = check_fit_inputs(self, X, y, sample_weight, reset=False, labels=groups)
        coef = np.reshape(self.coef_, (-1, self.n_features_in_))
        if inputs.n_targets != coef.shape[0]:
            raise ValueError(
                f"y has {inputs.n_targets} target(s) but the model was fitted on "
                f"{coef.shape[0]}."
            )
        labels = inputs.labels
        model = ScoreModel(
            coef=coef.T,
            x_mean=summary.x_mean,
            y_mean=summary.y_mean,
            fit_intercept=self.fit_intercept,
            cov_type=cov_type,
            centered_cov=summary.centered_cov,
        )
        sums, faults = reduce_scores(
            inputs.x,
            inputs.y,
            inputs.sample_weight,
            labels,
            model,
            split_every=self.split_every,
            scheduler="threads" if inputs.local else None,
        )
        faults.raise_if_any(inputs.features.names)
        tolerance = 1e-6 * (summary.ssr + 1e-9 * summary.tss)
        if sums.positive_count != summary.nobs or np.any(
            np.abs(sums.ssr - summary.ssr) > tolerance
        ):
            raise ValueError(
                "X, y and sample_weight are not the data the model was fitted on: "
                f"the fit had {summary.nobs} rows of positive weight and residual "
                f"sum of squares {summary.ssr.tolist()}; these have "
                f"{sums.positive_count} and {sums.ssr.tolist()}."
            )
        if cov_type == "cluster" and sums.cluster_labels.size < 2:
            raise ValueError(
                "cov_type='cluster' needs at least 2 clusters; groups has "
                f"{sums.cluster_labels.size} among the rows of positive weight."
            )
        return robust_covariance(summary, sums, cov_type)

    def summary(
        self,
        X=None,
        y=None,
        *,
        sample_weight=None,
        cov_type="nonrobust",
        groups=None,
        use_t=None,
        alpha=0.05,
    ):
        """A statsmodels-style regression summary of the fit.

        ``print(model.summary())`` shows the table; its ``coefficients`` and
        ``statistics`` attributes hold the same numbers as DataFrames.  The
        parameters are those of :meth:`inference` (no pass for
        ``"nonrobust"``, one for robust covariances), plus ``alpha``.

        Parameters
        ----------
        X, y, sample_weight, cov_type, groups, use_t
            See :meth:`inference`.
        alpha : float, default=0.05
            Level of the confidence intervals.

        Returns
        -------
        Summary
        """
        results = self.inference(
            X,
            y,
            sample_weight=sample_weight,
            cov_type=cov_type,
            groups=groups,
            use_t=use_t,
        )
        return Summary(results if isinstance(results, list) else [results], alpha)


class Ridge(_MergeableMixin, _OnePassLinearModel):
    """Linear least squares with L2 regularization, in one pass (two on
    ill-conditioned data, with ``solver="auto"``).

    Minimizes ``sum_i w_i (y_i - x_i @ coef - intercept)**2 + alpha *
    ||coef||**2``: the objective and the scale of ``alpha`` of
    :class:`sklearn.linear_model.Ridge`; the intercept is not penalized.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Non-negative penalty; one value per target is allowed.
    fit_intercept : bool, default=True
        Whether to fit an intercept.  If False, the data are not centered.
    solver : {"auto", "cholesky", "qr", "exact"}, default="auto"
        How the coefficients are computed; see the user guide's numerics
        page.

        - ``"cholesky"``: centered normal equations from one pass; the
          fastest, but they square the condition number.
        - ``"qr"``: a mergeable triangular factor (TSQR) of the centered,
          weighted ``[X | y]`` from one pass; the condition number is not
          squared (accuracy of a QR least-squares solver).
        - ``"exact"``: error-free cross-products from one pass (about 10 to
          30 times the cost of ``"cholesky"``), solved in rational
          arithmetic: at full rank, the exact least-squares solution of the
          float64 data, correctly rounded.
        - ``"auto"``: ``"cholesky"``, then, when its estimated accuracy is
          below 9 digits, a second pass with ``"exact"`` (up to 64 columns
          in ``[X | y]``) or ``"qr"``.
    split_every : int, default=None
        Fan-in of the tree that merges the per-block statistics.  None
        means 8.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weight vector(s).
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit; only when X has string
        column names.
    solver_ : str
        The method that produced ``coef_``: ``"cholesky"``, ``"qr"`` or
        ``"exact"``.
    digits_ : float
        Estimated correct significant digits of ``coef_`` relative to the
        exact least-squares solution of the float64 data.
    n_passes_ : int
        Passes over the data that ``fit`` took (1, or 2 when ``"auto"``
        escalated).

    See Also
    --------
    LinearRegression : Ordinary least squares.
    sklearn.linear_model.Ridge : The in-memory reference.

    Notes
    -----
    Uses the same pass and statistics as :class:`LinearRegression` and
    solves ``(Xc.T W Xc + alpha I) coef = Xc.T W yc`` (``Xc``, ``yc``
    centered at the weighted means), per distinct alpha: by Cholesky with
    ``"cholesky"``, by QR of ``[R; sqrt(alpha) I]`` with ``"qr"``, and
    exactly (integer elimination) with ``"exact"``.  ``"auto"`` escalates
    when ``(s_max**2 + alpha) / (s_min**2 + alpha)`` leaves fewer than 9
    digits.  ``alpha=0`` gives the minimum-norm least-squares solution.

    Examples
    --------
    >>> import numpy as np
    >>> from dask_linreg import Ridge
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> Ridge(alpha=5.0).fit(X, y).coef_
    array([0.5])
    """

    _single_target_coef_is_1d = True

    def __init__(
        self, alpha=1.0, *, fit_intercept=True, solver="auto", split_every=None
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.split_every = split_every

    def fit(self, X, y, sample_weight=None):
        """Fit the ridge model in one pass over the data.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            Training data.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Non-negative individual weights for each sample.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        ValueError
            For a negative, non-finite or misshapen alpha (before any
            computation), and for the value faults listed in
            :meth:`LinearRegression.fit`.
        TypeError
            If a column is not numeric.
        """
        self._fit(X, y, sample_weight, alpha=self._penalty())
        return self

    def _check_params(self):
        super()._check_params()
        # Its values; the number of targets is checked against the data.
        check_alpha(self._penalty(), np.size(self.alpha))

    def _penalty(self):
        if self.alpha is None:
            raise ValueError(
                "alpha must be a non-negative float or an array of them; got None."
            )
        return self.alpha
