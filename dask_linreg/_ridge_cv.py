"""RidgeCV: every penalty on every fold from one pass over the data."""

import numbers
from functools import reduce

import numpy as np

from dask_linreg._accurate import solve_statistic
from dask_linreg._folds import ridge_fold_scores, ridge_gcv_scores
from dask_linreg._graph import reduce_fold_moments
from dask_linreg._linear_model import _no_samples_error, _OnePassLinearModel
from dask_linreg._stats import merge_moments
from dask_linreg._validation import (
    check_bool,
    check_fit_inputs,
    check_groups,
    check_split_every,
    is_dask,
)

__all__ = [
    "RidgeCV",
    "SCORINGS",
    "fold_labels",
    "check_alphas",
    "cross_validation_folds",
]

#: Accepted values of ``scoring`` (None: R² with folds, GCV's MSE without).
SCORINGS = (None, "neg_mean_squared_error", "r2")


def check_alphas(alphas):
    """The candidate penalties as a 1-D float array, all positive."""
    try:
        values = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"alphas must be an array of positive floats; got {alphas!r}."
        ) from None
    if values.ndim == 0:
        values = values.reshape(1)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"alphas must be a 1-D array of positive floats; got shape {values.shape}."
        )
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"alphas must be positive and finite; got {alphas!r}.")
    return values


def _is_split_list(cv):
    return (
        isinstance(cv, list | tuple)
        and len(cv) > 0
        and all(isinstance(s, tuple) and len(s) == 2 for s in cv)
    )


def _labels_from_splits(cv, x):
    """Fold labels from a scikit-learn splitter or ``(train, test)`` pairs.

    Only splits whose test sets partition the rows (each row held out
    exactly once, as ``KFold`` and ``GroupKFold`` do) are fold labels; the
    rows must be known in number.
    """
    n_rows = x.shape[0]
    if np.isnan(n_rows):
        raise ValueError(
            "cv given as scikit-learn splits needs the number of rows, which this "
            "Dask input does not know; pass fold labels aligned with the rows."
        )
    n_rows = int(n_rows)
    splits = cv.split(np.empty((n_rows, 1))) if hasattr(cv, "split") else cv
    labels = np.full(n_rows, -1)
    for fold, (_, test) in enumerate(splits):
        test = np.asarray(test)
        if np.any(labels[test] >= 0):
            raise ValueError(
                "cv splits must hold out each row exactly once (as KFold does); "
                f"rows of fold {fold} were held out before."
            )
        labels[test] = fold
    if np.any(labels < 0):
        raise ValueError(
            f"cv splits must hold out each row exactly once (as KFold does); "
            f"{int(np.sum(labels < 0))} rows are never held out."
        )
    return labels


def fold_labels(cv, x):
    """The ``cv`` of a cross-validated estimator as what the pass needs.

    Returns
    -------
    labels : dask.array.Array of shape (n_samples,) or None
        Fold labels with the row blocks of ``x``; None to assign folds by
        hashing the rows.
    n_folds : int or None
        The number of hashed folds (None with labels).
    """
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        return None, int(cv)
    if hasattr(cv, "split") or _is_split_list(cv):
        cv = _labels_from_splits(cv, x)
    elif not (is_dask(cv) or np.ndim(cv) == 1):
        raise ValueError(
            "cv must be None, an integer number of folds, a 1-D array of fold "
            f"labels or scikit-learn splits; got an array of shape {np.shape(cv)}."
        )
    return check_groups(cv, x), None


def cross_validation_folds(estimator, inputs, labels, n_folds):
    """The one pass of a cross-validated estimator: per-fold moments.

    Returns
    -------
    order : list
        Fold labels, sorted.
    fold_moments : list of Moments
        In that order.
    total : Moments
        Of all rows (the merge of the folds).

    Raises
    ------
    ValueError
        For faults of the data, weights summing to zero, or fewer than two
        folds with rows of positive weight.
    """
    folds, faults = reduce_fold_moments(
        inputs.x,
        inputs.y,
        inputs.sample_weight,
        labels,
        n_folds=n_folds,
        split_every=estimator.split_every,
        scheduler="threads" if inputs.local else None,
    )
    faults.raise_if_any()
    if not folds:  # row blocks of unknown size, all empty
        raise _no_samples_error(inputs.x.shape[1])
    order = sorted(folds)
    fold_moments = [folds[label] for label in order]
    total = reduce(merge_moments, fold_moments)
    if total.weight_sum == 0.0:
        raise ValueError(
            "sample_weight sums to zero: at least one weight must be positive."
        )
    empty = [
        label for label, m in zip(order, fold_moments, strict=True) if m.weight_sum == 0
    ]
    if len(order) < 2 or empty:
        raise ValueError(
            "Cross-validation needs at least 2 folds with rows of positive "
            f"weight; got {len(order)} fold(s) from n_samples={total.count}"
            + (f", of which {empty} are empty." if empty else ".")
        )
    return order, fold_moments, total


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
          share a fold.  The folds are stored in ``folds_``'s order.
        - Fold labels aligned with the rows (e.g. groups or time blocks):
          each distinct label is one fold.
        - A scikit-learn splitter (``KFold(5, shuffle=True)``, ``GroupKFold``
          with its groups bound) or a list of ``(train, test)`` index pairs,
          whose test sets hold out every row exactly once; the rows must be
          known in number.
    scoring : {None, "neg_mean_squared_error", "r2"}, default=None
        Validation score of each fold (weighted by ``sample_weight``); None
        means ``"r2"`` with folds (scikit-learn's default, the estimator's
        ``score``) and the mean squared error GCV estimates with
        ``cv=None`` (only that is possible then).
    alpha_per_target : bool, default=False
        Choose a penalty for each target separately; otherwise the one with
        the best score averaged over targets.
    split_every : int, default=None
        Fan-in of the merge tree.

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
    One pass accumulates the weighted moments of ``[X | y]`` of every fold.
    A fold's training statistics are the merge of the other folds
    (additions only, by prefix and suffix merges); one eigendecomposition of
    the training ``X.T W X`` per fold gives the ridge solution for every
    penalty, whose squared error on the held-out fold follows from the
    fold's own moments.  The final model is refitted, on the client, from
    the merge of all folds.  Cost: one pass plus ``K`` eigendecompositions
    of ``p``-by-``p`` matrices, whatever the number of penalties.

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

    def __init__(
        self,
        alphas=(0.1, 1.0, 10.0),
        *,
        fit_intercept=True,
        cv=None,
        scoring=None,
        alpha_per_target=False,
        split_every=None,
    ):
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.alpha_per_target = alpha_per_target
        self.split_every = split_every

    def _check_params(self):
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("alpha_per_target", self.alpha_per_target)
        if self.scoring not in SCORINGS:
            raise ValueError(
                f"scoring must be one of {', '.join(map(repr, SCORINGS))}; got "
                f"{self.scoring!r}."
            )
        cv = self.cv
        if self.cv is None and self.scoring == "r2":
            raise ValueError(
                "scoring='r2' needs folds (cv=K or fold labels); with cv=None "
                "generalized cross-validation estimates the mean squared error."
            )
        if isinstance(cv, numbers.Integral) and not isinstance(cv, bool) and cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got cv={cv}.")
        if isinstance(cv, bool | float | str):
            raise ValueError(
                "cv must be None, an integer number of folds or an array of fold "
                f"labels; got {cv!r}."
            )
        check_split_every(self.split_every)
        return check_alphas(self.alphas)

    def fit(self, X, y, sample_weight=None):
        """Choose the penalty and fit, in one pass over the data.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like or dask collection of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        alphas = self._check_params()
        inputs = check_fit_inputs(self, X, y, sample_weight)
        if inputs.x.shape[0] == 0:
            raise _no_samples_error(inputs.x.shape[1])
        p = inputs.x.shape[1]
        cv = self.cv
        if cv is None:
            # GCV needs the statistics of all rows only: the fit's own pass.
            total = self._reduce(inputs, "moments")
            scores = ridge_gcv_scores(
                total,
                p,
                alphas,
                fit_intercept=self.fit_intercept,
                n_samples=total.positive_count,
            )
            self.fold_scores_ = None
            self.folds_ = None
        else:
            labels, n_folds = fold_labels(cv, inputs.x)
            order, fold_moments, total = cross_validation_folds(
                self, inputs, labels, n_folds
            )
            scoring = self.scoring or "r2"
            self.fold_scores_ = ridge_fold_scores(
                fold_moments,
                p,
                alphas,
                fit_intercept=self.fit_intercept,
                scoring=scoring,
            )
            self.folds_ = np.array(order)
            scores = self.fold_scores_.mean(axis=0)
        n_targets = inputs.n_targets
        if self.alpha_per_target:
            best = np.argmax(scores, axis=0)
            self.scores_ = scores
            chosen = alphas[best]
            self.best_score_ = scores[best, np.arange(n_targets)]
            if inputs.y_is_1d:
                chosen, self.best_score_ = chosen[0], float(self.best_score_[0])
            self.alpha_ = chosen
            penalty = np.broadcast_to(alphas[best], (n_targets,)).copy()
        else:
            self.scores_ = scores.mean(axis=1)
            best = int(np.argmax(self.scores_))
            self.alpha_ = float(alphas[best])
            self.best_score_ = float(self.scores_[best])
            penalty = np.full(n_targets, alphas[best])
        self._y_is_1d = inputs.y_is_1d
        solved = solve_statistic(
            total, "moments", p, fit_intercept=self.fit_intercept, alpha=penalty
        )
        self._store_fit("moments", total, solved, n_passes=1)
        return self
