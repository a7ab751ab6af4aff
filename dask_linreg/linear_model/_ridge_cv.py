"""RidgeCV: every penalty on every fold from one pass over the data."""

import numbers

import numpy as np

from dask_linreg._dask.inputs import check_fit_inputs
from dask_linreg._numerics.cv import (
    best_candidate,
    penalty_preference,
    ridge_fold_scores,
    ridge_gcv_scores,
)
from dask_linreg._numerics.tsqr import TriangularMoments, factor_of_moments
from dask_linreg.linear_model._base import (
    DEFAULT_MAX_LEVELS,
    FIT_INTERCEPT,
    HANDLE_UNKNOWN,
    MAX_LEVELS,
    MISSING,
    SOLVED_ATTRIBUTES,
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
from dask_linreg.linear_model._errors import no_samples_error
from dask_linreg.linear_model._params import ArrayOf, Boolean, Interval, Options

__all__ = ["RidgeCV", "SCORINGS"]

#: Accepted values of ``scoring`` (None: R² with folds, GCV's MSE without).
SCORINGS = (None, "neg_mean_squared_error", "r2")

#: A candidate penalty: finite and positive.
_POSITIVE = Interval(numbers.Real, 0, None, closed="neither")


def _choose_alphas(scores, alphas, scoring, per_target, y_is_1d):
    """The penalty (per target or for all) of best mean score, by
    :func:`~dask_linreg._numerics.cv.best_candidate`'s tie rule.

    Parameters
    ----------
    scores : ndarray of shape (n_alphas, n_targets)
        Mean validation score (larger is better).
    alphas : ndarray of shape (n_alphas,)
    scoring : {"neg_mean_squared_error", "r2"}
    per_target, y_is_1d : bool

    Returns
    -------
    alpha : float or ndarray of shape (n_targets,)
    best_score : float or ndarray of shape (n_targets,)
    scores : ndarray of shape (n_alphas,) or (n_alphas, n_targets)
        The ``scores_`` attribute (averaged over targets unless per target).
    """
    if not per_target:
        scores = scores.mean(axis=1)
    if scoring == "r2":
        # 1 - R², the relative error; R² near 1 is known to about eps only.
        errors, atol = 1.0 - scores, 4 * np.finfo(np.float64).eps
    else:
        errors, atol = -scores, 0.0
    preference = penalty_preference(alphas)
    if not per_target:
        best = best_candidate(errors, preference, atol=atol)
        return float(alphas[best]), float(scores[best]), scores
    best = np.array(
        [best_candidate(column, preference, atol=atol) for column in errors.T]
    )
    chosen = alphas[best]
    best_score = scores[best, np.arange(scores.shape[1])]
    if y_is_1d:
        return float(chosen[0]), float(best_score[0]), scores
    return chosen, best_score, scores


class RidgeCV(_OnePassLinearModel):
    """Ridge regression with the penalty chosen by cross-validation, in one
    pass over the data for all folds and all penalties.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=(0.1, 1.0, 10.0)
        Candidate penalties, positive; the objective and scale of
        :class:`Ridge` and of :class:`sklearn.linear_model.RidgeCV`.
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    cv : int, array-like or dask collection of shape (n_samples,), or None, default=None
        - None: generalized cross-validation (Golub, Heath & Wahba), from
          the statistics of the whole data.
        - An integer ``K >= 2``: K folds, each row assigned by a hash of its
          values (its targets and first 8 features), so the assignment does
          not depend on chunking, partitioning or row order; identical rows
          share a fold.  The folds are stored in ``folds_``'s order.  Every
          fold must get rows of positive weight, else the fit raises (so
          ``K`` cannot exceed the number of rows).
        - Fold labels aligned with the rows (e.g. groups or time blocks):
          each distinct label is one fold.  A Dask Series of the dataframe
          X comes from is read with X, row by row.
        - A scikit-learn splitter (``KFold(5, shuffle=True)``,
          ``GroupKFold(5)`` with ``fit(X, y, groups=groups)``,
          ``StratifiedKFold`` on class-valued y) or an iterable of ``(train,
          test)`` pairs of integer row positions (a list, or a generator
          such as ``KFold(5).split(X)``, read once as scikit-learn reads
          it), whose test sets hold out every row exactly once and whose
          train sets are the other rows; the rows must be known in number.  The splits are made on
          the client before the pass, so what the splitter needs must be in
          memory: ``y`` for stratified splitters (NumPy or pandas input
          only) and ``groups`` as an array (with Dask input, pass group
          labels as ``cv`` instead: one fold per group, no computation).
    scoring : {None, "neg_mean_squared_error", "r2"}, default=None
        Validation score of each fold (weighted by ``sample_weight``); None
        means ``"r2"`` with folds (scikit-learn's default, the estimator's
        ``score``) and the mean squared error GCV estimates with
        ``cv=None`` (only that is possible then).  The R² of a fold whose
        target is constant is scikit-learn's: 1.0 if predicted perfectly,
        else 0.0.
    alpha_per_target : bool, default=False
        Choose a penalty for each target separately; otherwise the one with
        the best score averaged over targets.
    split_every : int, default=None
        Fan-in of the merge tree.
    missing : {"raise", "drop"}, default="raise"
        ``"drop"`` leaves out the rows with a missing value in X, y or the
        weights (see :class:`LinearRegression`).
    max_levels : int or None, default=1000
    handle_unknown : {"error", "ignore"}, default="error"
        As in :class:`Ridge`: the most levels a categorical column of X may
        have, and what ``predict`` does with a level the fit did not see.

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
        The chosen penalty (per target with ``alpha_per_target``).
    best_score_ : float or ndarray of shape (n_targets,)
        Its mean validation score (``-GCV`` without folds).
    scores_ : ndarray of shape (n_alphas,) or (n_alphas, n_targets)
        Mean validation score of every penalty, averaged over folds (and
        over targets unless ``alpha_per_target``).
    fold_scores_ : ndarray of shape (n_folds, n_alphas, n_targets) or None
        Score of every penalty on every fold and target; None with
        ``cv=None``.
    folds_ : ndarray of shape (n_folds,) or None
        Labels of the folds (0 .. K-1 for an integer ``cv``).
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Ridge coefficients with ``alpha_``, fitted on all the rows.
    intercept_ : float or ndarray of shape (n_targets,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when X has string column names.
    n_passes_ : int
        Always 1.

    See Also
    --------
    Ridge : One fixed penalty.
    sklearn.linear_model.RidgeCV : The in-memory reference.

    Notes
    -----
    One pass accumulates, for every fold, the weighted means of ``[X | y]``
    and a triangular factor ``R`` of its centered cross-products (TSQR,
    Householder QR of the rows; Demmel et al.).  A fold's training
    statistics are the merge of the other folds (additions only, by prefix
    and suffix merges); one SVD of the training factor's X block per fold
    gives the ridge solution ``b`` for every penalty, and its squared error
    on the held-out fold is ``||R [-b; 1]||**2`` plus the weight times the
    squared difference of the means' residual: no difference of large sums
    of squares, so the errors keep their digits even for models that fit
    almost exactly (where ``c_yy - 2 b'c + b'Cb`` from the cross-products
    would lose them all).  The final model is refitted, on the client, from
    the merge of all folds (``solver_`` is ``"qr"``).  Cost: one pass (QR
    of the rows costs 3 to 5 times the cross-products) plus ``K`` SVDs of
    ``p``-by-``p`` matrices, whatever the number of penalties.

    Choice: ``alpha_`` has the best mean score; penalties whose mean
    validation error (``-score``, or ``1 - R²``) is within a relative
    ``1e-10`` of the best's are ties, and the tie goes to the largest
    penalty (the most regularized model).  Scores are far more accurate
    than that, so the choice does not depend on rounding (BLAS kernel,
    threads, chunking), while no difference that small means anything
    statistically.  NaN scores count as the worst; if all are NaN the fit
    raises.

    GCV replaces leave-one-out (scikit-learn's ``cv=None``), which needs
    each row's leverage, by its rotation-invariant version: ``(RSS/n) /
    (1 - df/n)**2`` with ``df = sum(lambda_i / (lambda_i + alpha))`` (+1 for
    the intercept).

    References
    ----------
    G. H. Golub, M. Heath and G. Wahba, "Generalized cross-validation as a
    method for choosing a good ridge parameter", Technometrics 21(2), 1979.

    Examples
    --------
    >>> import numpy as np
    >>> from dask_linreg import RidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 3))
    >>> y = X @ [1.0, 2.0, 0.0] + rng.standard_normal(500)
    >>> model = RidgeCV(alphas=[0.1, 1.0, 100.0, 1000.0], cv=5).fit(X, y)
    >>> float(model.alpha_), model.fold_scores_.shape
    (1.0, (5, 4, 1))
    """

    _single_target_coef_is_1d = True
    #: Categorical columns keep every level (the penalty identifies them).
    _full_one_hot = True

    _parameter_constraints: dict = {
        "alphas": [_POSITIVE, ArrayOf(_POSITIVE, "(n_alphas,)")],
        "fit_intercept": FIT_INTERCEPT,
        "cv": [CrossValidation(none_means="generalized cross-validation")],
        "scoring": [None, Options(*SCORINGS[1:])],
        "alpha_per_target": [Boolean()],
        "split_every": SPLIT_EVERY,
        "missing": MISSING,
        "max_levels": MAX_LEVELS,
        "handle_unknown": HANDLE_UNKNOWN,
    }
    _fitted_attributes: dict = {
        **SOLVED_ATTRIBUTES,
        "alpha_": ("float", ("alpha_targets",)),
        "best_score_": ("score", ("alpha_targets",)),
        "folds_": ("labels", ("n_folds",), {"nullable": True}),
        "scores_": ("score", ("n_alphas", "score_targets")),
        "fold_scores_": (
            "score",
            ("n_folds", "n_alphas", "n_targets"),
            {"nullable": True},
        ),
    }

    def __init__(
        self,
        alphas=(0.1, 1.0, 10.0),
        *,
        fit_intercept=True,
        cv=None,
        scoring=None,
        alpha_per_target=False,
        split_every=None,
        missing="raise",
        max_levels=DEFAULT_MAX_LEVELS,
        handle_unknown="error",
    ):
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.alpha_per_target = alpha_per_target
        self.split_every = split_every
        self.missing = missing
        self.max_levels = max_levels
        self.handle_unknown = handle_unknown

    def _check_params(self, n_targets=None):
        checked = super()._check_params(n_targets)
        checked["alphas"] = np.atleast_1d(np.asarray(checked["alphas"], np.float64))
        if self.cv is None and self.scoring == "r2":
            raise ValueError(
                "scoring='r2' needs folds (cv=K or fold labels); with cv=None "
                "generalized cross-validation estimates the mean squared error."
            )
        return checked

    def fit(self, X, y, sample_weight=None, *, groups=None):
        """Choose the penalty and fit, in one pass over the data.

        A fit that fails (bad data or parameters) leaves a fitted model as
        it was: every fitted attribute is set at the end.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group labels for a ``cv`` splitter that uses them (``GroupKFold``,
            ``LeaveOneGroupOut``...), passed to its ``split``, as
            scikit-learn's ``GridSearchCV.fit(X, y, groups=groups)`` does.

        Returns
        -------
        self : object
        """
        checked = self._check_params()
        alphas, cv = checked["alphas"], checked["cv"]
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
        design = names = levels = None
        if inputs.design is None and inputs.x.shape[0] == 0:
            raise no_samples_error(inputs.x.shape[1])
        p = inputs.x.shape[1]
        if cv is None:
            if groups is not None:
                raise ValueError(
                    "groups are passed to the split method of a scikit-learn "
                    "splitter given as cv; cv=None (generalized cross-validation) "
                    "has no folds."
                )
            # GCV needs the statistics of all rows only: the fit's own pass.
            if inputs.design is not None:
                levels, dropped = self._reduce_factors(inputs)
                design, names, moments = self._factor_moments(levels, inputs.design)
                total, p = factor_of_moments(moments), len(names)
            else:
                total, dropped = self._reduce(inputs, TriangularMoments)
            if total.positive_count < 2:
                raise ValueError(
                    "Generalized cross-validation (cv=None) needs at least 2 "
                    "samples of positive weight; got n_samples="
                    f"{total.positive_count}."
                )
            scoring = "neg_mean_squared_error"
            scores = ridge_gcv_scores(
                total,
                p,
                alphas,
                fit_intercept=self.fit_intercept,
                n_samples=total.positive_count,
            )
            fold_scores = folds = None
        else:
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
            design, names, levels, dropped = (
                passed.design,
                passed.names,
                passed.levels,
                passed.dropped,
            )
            scoring = self.scoring or "r2"
            fold_scores = ridge_fold_scores(
                fold_factors,
                p,
                alphas,
                fit_intercept=self.fit_intercept,
                scoring=scoring,
            )
            folds = np.array(order)
            scores = fold_scores.mean(axis=0)
        chosen, best_score, scores = _choose_alphas(
            scores, alphas, scoring, self.alpha_per_target, inputs.y_is_1d
        )
        penalty = np.broadcast_to(chosen, (inputs.n_targets,)).astype(np.float64)
        solved = total.solve(p, fit_intercept=self.fit_intercept, alpha=penalty)
        # Everything is computed: only now is the estimator changed.
        self.fold_scores_ = fold_scores
        self.folds_ = folds
        self.scores_ = scores
        self.alpha_ = chosen
        self.best_score_ = best_score
        state = self._with_design(
            fit_state(total, y, inputs, sample_weight, dropped), design, names, levels
        )
        self._store_fit(state, solved, n_passes=1)
        inputs.store_features(self)
        return self
