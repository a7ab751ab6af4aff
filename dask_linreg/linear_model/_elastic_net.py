"""ElasticNet, Lasso and their cross-validated versions, in one pass."""

import numbers
import warnings
from dataclasses import replace

import numpy as np
from sklearn.exceptions import DataConversionWarning

from dask_linreg._dask.inputs import check_fit_inputs
from dask_linreg._numerics.cv import best_candidate
from dask_linreg._numerics.enet import (
    alpha_grid,
    elastic_net_fold_errors,
    elastic_net_path,
)
from dask_linreg._numerics.faults import extreme_column
from dask_linreg._numerics.moments import Moments
from dask_linreg.linear_model._base import (
    DEFAULT_MAX_LEVELS,
    FIT_INTERCEPT,
    HANDLE_UNKNOWN,
    MAX_LEVELS,
    MISSING,
    SPLIT_EVERY,
    _OnePassLinearModel,
    fit_state,
)
from dask_linreg.linear_model._cv import (
    CrossValidation,
    fold_labels,
    fold_statistics,
    in_memory_split_labels,
    is_label_array,
)
from dask_linreg.linear_model._errors import magnitude_error, no_samples_error
from dask_linreg.linear_model._params import ArrayOf, Boolean, Interval

__all__ = ["ElasticNet", "Lasso", "ElasticNetCV", "LassoCV"]


#: Constraints of the elastic-net estimators' parameters.
_NON_NEGATIVE = Interval(numbers.Real, 0, None, closed="left")
_RATIO = Interval(numbers.Real, 0, 1, closed="both")
_COMMON = {
    "fit_intercept": FIT_INTERCEPT,
    "positive": [Boolean()],
    "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    "tol": [_NON_NEGATIVE],
    "split_every": SPLIT_EVERY,
    "missing": MISSING,
}
#: And of those that take categorical columns.
_LEVELS = {"max_levels": MAX_LEVELS, "handle_unknown": HANDLE_UNKNOWN}


class _CoordinateDescentModel(_OnePassLinearModel):
    """Shared pass and storage of the elastic-net estimators."""

    _single_target_coef_is_1d = True
    _full_one_hot = True

    def _moments(self, inputs):
        """One pass: the moments of ``[X | y]`` and the rows dropped;
        extreme columns raise."""
        moments, dropped = self._reduce(inputs, Moments)
        extreme = extreme_column(moments)
        if extreme is not None:
            raise magnitude_error(extreme, inputs.features, None)
        return moments, dropped

    def _store_path_point(self, state, coef):
        """Store ``coef`` (p, k) of one penalty as ``coef_``/``intercept_``,
        and the fit's state (the last step of a fit: nothing here can fail)."""
        p = coef.shape[0]
        if self.fit_intercept:
            mean = state.statistic.mean
            x_offset, y_offset = mean[:p], mean[p:]
        else:
            x_offset = np.zeros(p)
            y_offset = np.zeros(coef.shape[1])
        self._store_solution(coef, x_offset, y_offset, state.y_is_1d)
        # Kept like the other estimators' (model files, row counts).
        self._store_state(state)
        self.n_passes_ = 1


class ElasticNet(_CoordinateDescentModel):
    """Linear regression with combined L1 and L2 penalties, in one pass.

    Minimizes scikit-learn's objective::

        1 / (2 * W) * sum_i w_i (y_i - x_i @ coef - intercept)**2
            + alpha * l1_ratio * ||coef||_1
            + 0.5 * alpha * (1 - l1_ratio) * ||coef||_2**2

    (``W`` the sum of the weights; ``n_samples`` without weights).  One pass
    merges the weighted moments of ``[X | y]``; coordinate descent then runs
    on the client, on a p-by-p problem.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty multiplier, finite and ``>= 0`` (as scikit-learn's).
    l1_ratio : float, default=0.5
        Mix of the penalties, ``0 <= l1_ratio <= 1`` (1 is the lasso).
    fit_intercept : bool, default=True
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    max_iter : int, default=1000
        Maximum coordinate-descent sweeps.
    tol : float, default=1e-4
        scikit-learn's stopping rule: the duality gap below ``tol`` times
        the weighted mean of the squared (centered) targets.
    split_every : int, default=None
        Fan-in of the merge tree.
    missing : {"raise", "drop"}, default="raise"
        ``"drop"`` leaves out the rows with a missing value in X, y or the
        weights (see :class:`LinearRegression`).
    max_levels : int or None, default=1000
        The most levels a categorical column of X may have (see
        :class:`LinearRegression`).
    handle_unknown : {"error", "ignore"}, default="error"
        What ``predict`` does with a level not seen in the fit: raise, or
        give it no indicator.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_passes_ : int
        Always 1.
    n_iter_ : int or list of int
        Coordinate-descent sweeps (per target for 2-D y), as scikit-learn's.

    See Also
    --------
    ElasticNetCV : The penalty chosen by cross-validation, same pass.
    sklearn.linear_model.ElasticNet : The in-memory reference.

    Notes
    -----
    Any ``F`` with ``F.T @ F`` equal to the centered cross-products of
    ``[X | y]`` is a ``(p + 1)``-row dataset with the same objective up to a
    constant; scikit-learn's coordinate descent
    (:func:`sklearn.linear_model.enet_path`, covariance updates) runs on it
    with ``alpha`` rescaled, so the iterates and the stopping rule are
    scikit-learn's.  The client's work grows with ``p**2`` per sweep, not
    with the rows: the right tool up to a few thousand features (the
    statistics are ``8 p**2`` bytes); beyond, a method that never forms
    p-by-p matrices is.

    Examples
    --------
    >>> import numpy as np
    >>> from dask_linreg import ElasticNet
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> coef = ElasticNet(alpha=0.1, l1_ratio=0.9).fit(X, y).coef_
    >>> coef.round(4) + 0.0  # the second feature is dropped
    array([0.9206, 0.    ])
    """

    _parameter_constraints: dict = {
        "alpha": [_NON_NEGATIVE],
        "l1_ratio": [_RATIO],
        **_COMMON,
        **_LEVELS,
    }
    _fitted_attributes: dict = {
        "n_iter_": ("int", ("y_targets",)),
        "dual_gap_": ("float", ("y_targets",), {"optional": True}),
        "n_passes_": ("int", (), 1),
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        positive=False,
        max_iter=1000,
        tol=1e-4,
        split_every=None,
        missing="raise",
        max_levels=DEFAULT_MAX_LEVELS,
        handle_unknown="error",
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.split_every = split_every
        self.missing = missing
        self.max_levels = max_levels
        self.handle_unknown = handle_unknown

    def fit(self, X, y, sample_weight=None):
        """Fit in one pass over the data.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
            Several targets are fitted independently (not multi-task).
        sample_weight : array-like or dask collection of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight, formula_terms=None):
        """:meth:`fit`; ``formula_terms``: X is a formula's design, with
        these terms."""
        self._check_params()
        inputs = check_fit_inputs(
            self,
            X,
            y,
            sample_weight,
            allow_numpy=True,
            categorical=True,
            formula_terms=formula_terms,
        )
        design, names, levels = None, None, None
        if inputs.design is not None:
            levels, dropped = self._reduce_factors(inputs)
            design, names, moments = self._factor_moments(levels, inputs.design)
            n_columns = len(names)
        else:
            if inputs.x.shape[0] == 0:
                raise no_samples_error(inputs.x.shape[1])
            moments, dropped = self._moments(inputs)
            n_columns = inputs.x.shape[1]
        coef, _, n_iter = elastic_net_path(
            moments,
            n_columns,
            np.array([float(self.alpha)]),
            float(self.l1_ratio),
            fit_intercept=self.fit_intercept,
            max_iter=self.max_iter,
            tol=self.tol,
            positive=self.positive,
        )
        # Everything is computed: only now is the estimator changed.
        self.n_iter_ = int(n_iter[0]) if inputs.y_is_1d else n_iter
        state = self._with_design(
            fit_state(moments, y, inputs, sample_weight, dropped), design, names, levels
        )
        self._store_path_point(state, coef[0])
        inputs.store_features(self)
        return self


class Lasso(ElasticNet):
    """Linear regression with an L1 penalty, in one pass.

    :class:`ElasticNet` with ``l1_ratio=1``: minimizes ``1 / (2 W) * sum_i
    w_i (y_i - x_i @ coef - intercept)**2 + alpha * ||coef||_1``.

    Parameters
    ----------
    alpha : float, default=1.0
    fit_intercept : bool, default=True
    positive : bool, default=False
    max_iter : int, default=1000
    tol : float, default=1e-4
    split_every : int, default=None
    missing : {"raise", "drop"}, default="raise"
        ``"drop"`` leaves out the rows with a missing value in X, y or the
        weights (see :class:`LinearRegression`).
    max_levels : int or None, default=1000
    handle_unknown : {"error", "ignore"}, default="error"

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_passes_ : int

    See Also
    --------
    LassoCV, ElasticNet, sklearn.linear_model.Lasso
    """

    _parameter_constraints: dict = {
        name: constraints
        for name, constraints in ElasticNet._parameter_constraints.items()
        if name != "l1_ratio"
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        positive=False,
        max_iter=1000,
        tol=1e-4,
        split_every=None,
        missing="raise",
        max_levels=DEFAULT_MAX_LEVELS,
        handle_unknown="error",
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.split_every = split_every
        self.missing = missing
        self.max_levels = max_levels
        self.handle_unknown = handle_unknown

    @property
    def l1_ratio(self):
        return 1.0


def _best_penalty(mean_errors, alphas):
    """``(l1_ratio index, alpha index)`` of the smallest mean validation
    error, by :func:`~dask_linreg._numerics.cv.best_candidate`'s tie rule.

    Errors within a relative ``TIE_RTOL`` of the smallest are ties; the tie
    goes to the largest alpha (the most regularized model) and, among equal
    alphas, to the first ``l1_ratio`` in the order given (scikit-learn's
    choice for exact ties).  NaN errors count as the worst.

    Parameters
    ----------
    mean_errors, alphas : ndarray of shape (n_l1_ratio, n_alphas)
    """
    ratio_index = np.repeat(np.arange(alphas.shape[0]), alphas.shape[1])
    order = np.lexsort((ratio_index, -alphas.ravel()))
    preference = np.empty(order.size, dtype=np.intp)
    preference[order] = np.arange(order.size)
    best = best_candidate(mean_errors.ravel(), preference)
    return np.unravel_index(best, alphas.shape)


class ElasticNetCV(_CoordinateDescentModel):
    """Elastic net with ``alpha`` and ``l1_ratio`` chosen by cross-validation:
    all folds, the whole regularization path and every ``l1_ratio`` from one
    pass over the data.

    Parameters
    ----------
    l1_ratio : float or array-like of floats, default=0.5
        Candidate mixes, each in ``[0, 1]`` (and above 0 unless ``alphas``
        is given).
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid, finite and ``> 0``.
    alphas : int or array-like, default=100
        Number of penalties on the automatic grid (log-spaced down from
        ``alpha_max``, the smallest penalty with all coefficients zero, per
        ``l1_ratio``; scikit-learn's grid), or the penalties themselves
        (finite, ``>= 0``).
    fit_intercept : bool, default=True
    cv : int, array-like, dask collection or splitter, default=None
        None means 5 folds; otherwise as in :class:`RidgeCV` (an integer
        assigns folds by a hash of each row's values; fold labels; or
        scikit-learn splits that hold out each row once, from a splitter,
        with ``fit(X, y, groups=groups)`` for grouped ones, or an iterable
        of ``(train, test)`` pairs).
    positive : bool, default=False
    max_iter : int, default=1000
    tol : float, default=1e-4
    split_every : int, default=None
    missing : {"raise", "drop"}, default="raise"
        ``"drop"`` leaves out the rows with a missing value in X, y or the
        weights (see :class:`LinearRegression`).
    max_levels : int or None, default=1000
    handle_unknown : {"error", "ignore"}, default="error"
        As in :class:`ElasticNet`: the most levels a categorical column of X may
        have, and what ``predict`` does with a level the fit did not see.

    Attributes
    ----------
    alpha_ : float
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid of each ``l1_ratio``.
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Weighted mean squared error of every penalty on every held-out fold.
    folds_ : ndarray of shape (n_folds,)
        Labels of the folds.
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_passes_ : int
        Always 1.
    n_iter_ : int
        Coordinate-descent sweeps of the final fit.

    See Also
    --------
    ElasticNet, LassoCV, sklearn.linear_model.ElasticNetCV

    Notes
    -----
    The pass accumulates, for every fold, the means of ``[X | y]`` and a
    triangular factor ``R`` of its centered cross-products (Householder QR
    of the rows); each fold's training statistics are the merge of the
    others, and the path is computed on the client by coordinate descent
    with warm starts on the training factor (see :class:`ElasticNet`).  The
    held-out squared errors are ``||R [-b; 1]||**2`` plus the weight times
    the squared residual of the means: no difference of large sums of
    squares, so they keep their digits for models that fit almost exactly.
    Cost on the client: ``n_folds * n_l1_ratio`` paths of ``p``-by-``p``
    coordinate descent, independent of the rows.  Only one target (as
    scikit-learn's ``ElasticNetCV``).

    Choice: candidates whose mean squared error is within a relative
    ``1e-10`` of the smallest are ties, far above the errors' rounding and
    far below any meaningful difference; the tie goes to the largest
    ``alpha`` (the most regularized model) and, among ``l1_ratio`` values
    sharing it, to the first one given (scikit-learn's choice for exact
    ties).  So the choice does not depend on rounding (BLAS kernel,
    threads, chunking).  NaN errors count as the worst; if all are NaN the
    fit raises.
    """

    _parameter_constraints: dict = {
        "l1_ratio": [_RATIO, ArrayOf(_RATIO, "(n_l1_ratio,)")],
        "eps": [Interval(numbers.Real, 0, None, closed="neither")],
        "alphas": [
            Interval(numbers.Integral, 1, None, closed="left"),
            ArrayOf(_NON_NEGATIVE, "(n_alphas,)"),
        ],
        "cv": [CrossValidation(none_means="5 folds")],
        **_COMMON,
        **_LEVELS,
    }
    _fitted_attributes: dict = {
        "alpha_": ("float", ()),
        "l1_ratio_": ("float", ()),
        "alphas_": ("float", ("n_l1_ratio", "n_alphas")),
        "folds_": ("labels", ("n_folds",)),
        "mse_path_": ("score", ("n_l1_ratio", "n_alphas", "n_folds")),
        "n_iter_": ("int", ()),
        "dual_gap_": ("float", (), {"optional": True}),
        "n_passes_": ("int", (), 1),
    }

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        cv=None,
        positive=False,
        max_iter=1000,
        tol=1e-4,
        split_every=None,
        missing="raise",
        max_levels=DEFAULT_MAX_LEVELS,
        handle_unknown="error",
    ):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.split_every = split_every
        self.missing = missing
        self.max_levels = max_levels
        self.handle_unknown = handle_unknown

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags

    def _check_params(self, n_targets=None):
        checked = super()._check_params(n_targets)
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        if isinstance(checked["alphas"], np.ndarray):
            checked["alphas"] = np.sort(checked["alphas"])[::-1]
        elif np.any(ratios == 0):
            raise ValueError(
                "l1_ratio=0 needs an explicit alphas grid: the automatic one "
                "starts at the smallest alpha with all coefficients zero, "
                "which a pure L2 penalty never reaches."
            )
        checked["l1_ratio"] = ratios
        return checked

    def fit(self, X, y, sample_weight=None, *, groups=None):
        """Choose ``alpha`` (and ``l1_ratio``) and fit, in one pass.

        A fit that fails (bad data or parameters) leaves a fitted model as
        it was: every fitted attribute is set at the end.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
        y : array-like or dask collection of shape (n_samples,)
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group labels for a ``cv`` splitter that uses them (``GroupKFold``),
            passed to its ``split`` (see :class:`RidgeCV`).

        Returns
        -------
        self : object
        """
        checked = self._check_params()
        ratios, cv = checked["l1_ratio"], checked["cv"]
        grid = checked["alphas"] if isinstance(checked["alphas"], np.ndarray) else None
        if cv is None:
            cv = 5
        split = in_memory_split_labels(cv, X, y, groups)
        if split is not None:
            cv, groups = split, None
        inputs = check_fit_inputs(
            self,
            X,
            y,
            sample_weight,
            labels=cv if is_label_array(cv) else None,
            labels_name="cv",
            categorical=True,
        )
        if not inputs.y_is_1d and inputs.n_targets != 1:
            raise ValueError(
                f"{type(self).__name__} takes one target; y has "
                f"{inputs.n_targets} columns. Fit one model per target."
            )
        if not inputs.y_is_1d:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. "
                "Please change the shape of y to (n_samples,), for example "
                "using ravel().",
                DataConversionWarning,
                stacklevel=2,
            )
            inputs = replace(inputs, y=inputs.y[:, 0], y_is_1d=True)
        if inputs.design is None and inputs.x.shape[0] == 0:
            raise no_samples_error(inputs.x.shape[1])
        p = inputs.x.shape[1]
        labels, n_folds = fold_labels(
            cv, inputs.x, y=y, groups=groups, labels=inputs.labels
        )
        passed = fold_statistics(self, inputs, labels, n_folds)
        order, fold_factors, total, p = (
            passed.order,
            passed.fold_factors,
            passed.total,
            passed.n_columns,
        )
        if passed.design is None:
            # (A categorical design's columns are checked by their names.)
            extreme = extreme_column(total)
            if extreme is not None:
                raise magnitude_error(extreme, inputs.features, None)
        settings = {
            "fit_intercept": self.fit_intercept,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "positive": self.positive,
        }
        grids, paths = [], []
        for ratio in ratios:
            alphas = grid
            if alphas is None:
                alphas = alpha_grid(
                    total,
                    p,
                    ratio,
                    fit_intercept=self.fit_intercept,
                    eps=self.eps,
                    n_alphas=int(self.alphas),
                )
            grids.append(alphas)
            paths.append(
                elastic_net_fold_errors(fold_factors, p, alphas, ratio, **settings)
            )
        mse = np.array(paths)  # (n_l1_ratio, n_alphas, n_folds)
        best_ratio, best_alpha = _best_penalty(mse.mean(axis=2), np.array(grids))
        l1_ratio = float(ratios[best_ratio])
        alpha = float(grids[best_ratio][best_alpha])
        coef, _, n_iter = elastic_net_path(
            total, p, np.array([alpha]), l1_ratio, **settings
        )
        # Everything is computed: only now is the estimator changed.
        single = np.ndim(self.l1_ratio) == 0
        self.l1_ratio_ = l1_ratio
        self.alpha_ = alpha
        self.alphas_ = grids[0] if single else np.array(grids)
        self.mse_path_ = mse[0] if single else mse
        self.folds_ = np.array(order)
        self.n_iter_ = int(n_iter[0])
        state = self._with_design(
            fit_state(total, y, inputs, sample_weight, passed.dropped),
            passed.design,
            passed.names,
            passed.levels,
        )
        self._store_path_point(state, coef[0])
        inputs.store_features(self)
        return self


class LassoCV(ElasticNetCV):
    """Lasso with ``alpha`` chosen by cross-validation, in one pass.

    :class:`ElasticNetCV` with ``l1_ratio=1``.

    Parameters
    ----------
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    fit_intercept : bool, default=True
    cv : int, array-like, dask collection or splitter, default=None
        As in :class:`ElasticNetCV`.
    positive : bool, default=False
    max_iter : int, default=1000
    tol : float, default=1e-4
    split_every : int, default=None
    missing : {"raise", "drop"}, default="raise"
        ``"drop"`` leaves out the rows with a missing value in X, y or the
        weights (see :class:`LinearRegression`).
    max_levels : int or None, default=1000
    handle_unknown : {"error", "ignore"}, default="error"
        As in :class:`ElasticNetCV`.

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,)
    mse_path_ : ndarray of shape (n_alphas, n_folds)
    folds_ : ndarray of shape (n_folds,)
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_passes_ : int

    See Also
    --------
    Lasso, ElasticNetCV, sklearn.linear_model.LassoCV

    Notes
    -----
    As :class:`ElasticNetCV`: held-out errors from each fold's triangular
    factor, and ties (mean errors within a relative ``1e-10``) go to the
    largest ``alpha``.
    """

    _parameter_constraints: dict = {
        name: constraints
        for name, constraints in ElasticNetCV._parameter_constraints.items()
        if name != "l1_ratio"
    }

    def __init__(
        self,
        *,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        cv=None,
        positive=False,
        max_iter=1000,
        tol=1e-4,
        split_every=None,
        missing="raise",
        max_levels=DEFAULT_MAX_LEVELS,
        handle_unknown="error",
    ):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.split_every = split_every
        self.missing = missing
        self.max_levels = max_levels
        self.handle_unknown = handle_unknown

    @property
    def l1_ratio(self):
        return 1.0
