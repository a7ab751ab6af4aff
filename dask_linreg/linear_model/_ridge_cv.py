"""RidgeCV: every penalty on every fold from one pass over the data."""

import numbers
from collections.abc import Iterable, Mapping, Set
from functools import reduce

import dask.array as da
import numpy as np
from sklearn.utils.multiclass import type_of_target

from dask_linreg._dask.columns import is_dask
from dask_linreg._dask.graph import reduce_fold_factors
from dask_linreg._dask.inputs import check_fit_inputs, check_groups
from dask_linreg._numerics.cv import (
    best_candidate,
    penalty_preference,
    ridge_fold_scores,
    ridge_gcv_scores,
)
from dask_linreg._numerics.tsqr import TriangularMoments, merge_factors
from dask_linreg.linear_model._base import _no_samples_error, _OnePassLinearModel
from dask_linreg.linear_model._params import check_bool, check_split_every

__all__ = [
    "RidgeCV",
    "SCORINGS",
    "fold_labels",
    "check_alphas",
    "check_cv",
    "cross_validation_folds",
]

#: Accepted values of ``scoring`` (None: R² with folds, GCV's MSE without).
SCORINGS = (None, "neg_mean_squared_error", "r2")


def has_bool_or_text(values):
    """Whether ``values`` (a number, or a sequence or array of them) holds a
    bool or a string, which ``np.asarray(..., dtype=float)`` would convert
    silently (True to 1.0) or with a message that names no parameter."""
    if not isinstance(values, list | tuple) and hasattr(values, "__array__"):
        values = np.asarray(values)  # pandas too
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "bSU":
            return True
        return values.dtype.kind == "O" and any(map(has_bool_or_text, values.ravel()))
    if isinstance(values, list | tuple):
        return any(map(has_bool_or_text, values))
    return isinstance(values, bool | np.bool_ | str | bytes)


def check_alphas(alphas):
    """The candidate penalties as a 1-D float array, all positive."""
    if has_bool_or_text(alphas):
        raise ValueError(f"alphas must be an array of positive floats; got {alphas!r}.")
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


_CV_KINDS = (
    "cv must be None, an integer number of folds, a 1-D array of fold labels or "
    "scikit-learn splits (a splitter such as KFold(5), or an iterable of "
    "(train, test) index arrays)"
)


def _split_indices(split, which, indices, n_rows=None):
    """One index array of the ``split``-th ``(train, test)`` pair of a ``cv``,
    as integer row positions (within ``[0, n_rows)`` when ``n_rows`` is given)."""
    values = np.asarray(indices)
    if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise ValueError(
            f"cv split {split} must have 1-D arrays of integer row positions as "
            f"{which} indices; got an array of dtype {values.dtype} and shape "
            f"{values.shape}. Pass (train, test) pairs as a splitter's "
            "split(X) yields them."
        )
    values = values.astype(np.intp, copy=False)
    if n_rows is not None and values.size:
        outside = values[(values < 0) | (values >= n_rows)]
        if outside.size:
            raise ValueError(
                f"cv split {split} has {outside.size} {which} index(es) out of "
                f"range for X with n_samples={n_rows} (row positions 0 to "
                f"{n_rows - 1}), e.g. {int(outside[0])}: the splits must be made "
                "for the rows of this X."
            )
    return values


def _check_splits(splits):
    """``(train, test)`` pairs: two 1-D integer index arrays each."""
    for split, pair in enumerate(splits):
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise ValueError(
                f"cv given as splits must hold (train, test) pairs of index "
                f"arrays; split {split} is {pair!r}."
            )
        for which, indices in zip(("train", "test"), pair, strict=True):
            _split_indices(split, which, indices)
    return splits


def is_label_array(cv):
    """Whether a ``cv`` accepted by :func:`check_cv` is an array (or Dask
    collection) of fold labels, to be aligned with the rows like ``y``."""
    return is_dask(cv) or not (
        cv is None
        or isinstance(cv, numbers.Integral)
        or hasattr(cv, "split")
        or _is_split_list(cv)
    )


def check_cv(cv):
    """Check ``cv`` without the data: what :func:`fold_labels` accepts.

    Parameters
    ----------
    cv : None, int, array-like, dask collection, splitter or iterable of splits

    Returns
    -------
    cv
        ``cv`` itself, except that an iterable of ``(train, test)`` pairs
        that is not a sequence (a generator, as ``KFold(3).split(X)``)
        becomes a list, as scikit-learn's ``check_cv`` reads it once.

    Raises
    ------
    ValueError
        For an integer below 2, a number, bool or string, and labels or
        splits of the wrong shape.
    TypeError
        For a Dask collection that is neither an array nor a Series.
    """
    if cv is None:
        return cv
    if hasattr(cv, "split") and not (is_dask(cv) or isinstance(cv, str | bytes)):
        return cv
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool | np.bool_):
        if cv < 2:
            raise ValueError(
                f"cv must be at least 2 folds; got cv={cv}. Use cv=None (RidgeCV: "
                "generalized cross-validation; the others: 5 folds) or cv >= 2."
            )
        return cv
    if isinstance(cv, str | bytes):
        hint = ""
        if cv.strip().isdigit():
            hint = f" Pass the number itself: cv={int(cv)}."
        raise ValueError(f"{_CV_KINDS}; got the string {cv!r}.{hint}")
    if isinstance(cv, bool | np.bool_ | numbers.Number | Mapping | Set):
        raise ValueError(f"{_CV_KINDS}; got {cv!r}.")
    if is_dask(cv):
        kind = type(cv).__name__
        if not (hasattr(cv, "ndim") and hasattr(cv, "dtype")) or kind == "DataFrame":
            raise TypeError(
                f"cv is a Dask collection of type {kind}; expected a Dask array or "
                "Series of fold labels, one per row (e.g. frame['fold'])."
            )
        if cv.ndim != 1:
            raise ValueError(
                f"cv given as Dask fold labels must be 1D; got a {cv.ndim}D array."
            )
        return cv
    array_like = isinstance(cv, list | tuple) or hasattr(cv, "__array__")
    if not array_like and isinstance(cv, Iterable):
        splits = list(cv)
        if not splits:
            raise ValueError(
                f"cv is an iterable that yielded no splits; got {cv!r} (a "
                "generator can be read only once: pass list(splits) to fit "
                "again)."
            )
        return _check_splits(splits)
    if not array_like:
        raise ValueError(f"{_CV_KINDS}; got an object of type {type(cv).__name__}.")
    if _is_split_list(cv):
        return _check_splits(cv)
    try:
        shape = np.shape(cv)
    except ValueError:  # ragged nested lists
        raise ValueError(
            f"{_CV_KINDS}; got a ragged nested sequence. Splits must be "
            "(train, test) tuples of index arrays."
        ) from None
    if len(shape) != 1 or shape[0] == 0:
        raise ValueError(f"{_CV_KINDS}; got an array of shape {shape}.")
    return cv


def _requests_groups(cv):
    """Whether ``cv.split`` uses groups, by scikit-learn's metadata
    requests; None for a splitter that does not say."""
    try:
        requests = cv.get_metadata_routing().split.requests
    except AttributeError:
        return None
    return "groups" in requests


def _split_arguments(cv, n_rows, y, groups):
    """The ``y`` and ``groups`` to pass to ``cv.split``, both in memory (or
    None); errors name the splitter and what to pass."""
    uses_groups = _requests_groups(cv)
    if groups is None:
        if uses_groups:
            raise ValueError(
                f"cv={cv!r} splits by groups: pass them to fit, as "
                "fit(X, y, groups=groups) with one group label per row, or pass "
                "the labels themselves as cv=groups (one fold per group)."
            )
    elif uses_groups is False:
        raise ValueError(
            f"groups were passed to fit, but cv={cv!r} does not use groups: drop "
            "them, or use a grouped splitter such as GroupKFold."
        )
    elif is_dask(groups):
        raise ValueError(
            f"cv={cv!r} makes its splits from the groups in memory, and groups is a "
            "Dask collection (computing it would read the data once more). Pass "
            "the group labels themselves as cv=groups (one fold per group, from "
            "the fit's single pass), or groups as a NumPy array."
        )
    else:
        groups = np.asarray(groups)
        if groups.shape != (n_rows,):
            raise ValueError(
                f"groups must hold one label per row of X ({n_rows}); got an array "
                f"of shape {groups.shape}."
            )
    return (None if is_dask(y) else y), groups


def _split_failure(cv, error, y, y_in_memory):
    """The message when ``cv.split`` fails: the splitter, its error, a way out."""
    message = f"cv={cv!r} could not make its splits: {error}"
    if not y_in_memory:
        return (
            f"{message} With Dask input y stays out of memory (it is read in the "
            "fit's single pass), so splitters that need y (stratified ones) "
            "cannot be used: pass fold labels aligned with the rows as cv."
        )
    try:
        continuous = type_of_target(y).startswith("continuous")
    except ValueError:
        continuous = False
    if continuous:
        return (
            f"{message} A stratified splitter needs class labels, and this y is "
            "continuous: use KFold, or stratify on bins of y with "
            "cv=list(StratifiedKFold(...).split(X, y_bins))."
        )
    return message


def _labels_from_splits(cv, x, y=None, groups=None):
    """Fold labels from a scikit-learn splitter or ``(train, test)`` pairs.

    Only splits whose test sets partition the rows (each row held out
    exactly once, as ``KFold`` and ``GroupKFold`` do) are fold labels; the
    rows must be known in number.  A splitter is given ``y`` when it is in
    memory and ``groups`` (in memory) when it uses them.
    """
    n_rows = x.shape[0]
    if np.isnan(n_rows):
        raise ValueError(
            "cv given as scikit-learn splits needs the number of rows, which this "
            "Dask input does not know; pass fold labels aligned with the rows."
        )
    n_rows = int(n_rows)
    if hasattr(cv, "split"):
        y_split, groups = _split_arguments(cv, n_rows, y, groups)
        try:
            splits = list(cv.split(np.empty((n_rows, 1)), y_split, groups))
        except (TypeError, ValueError) as error:
            raise ValueError(
                _split_failure(cv, error, y_split, y_split is not None)
            ) from error
    else:
        splits = cv
    splits = _check_splits(splits)
    labels = np.full(n_rows, -1)
    trains = []
    for fold, (train, test) in enumerate(splits):
        trains.append(_split_indices(fold, "train", train, n_rows))
        test = _split_indices(fold, "test", test, n_rows)
        if test.size == 0:
            raise ValueError(
                f"cv split {fold} holds out no rows: every split must hold out "
                "some rows, and each row exactly once (as KFold does)."
            )
        if np.unique(test).size != test.size:
            raise ValueError(
                "cv splits must hold out each row exactly once (as KFold does); "
                f"the test indices of split {fold} repeat rows."
            )
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
    for fold, train in enumerate(trains):
        # Each fold's model is fitted on all the other folds' statistics: a
        # split that trains on fewer rows (or repeats some) would be scored
        # as if it did not.
        counts = np.bincount(train, minlength=n_rows)
        if not np.array_equal(counts, labels != fold):
            raise ValueError(
                f"cv split {fold} must train on exactly the rows it does not hold "
                f"out (as KFold's splits do); its train indices hold {train.size} "
                f"row(s), {int(np.count_nonzero(counts))} distinct, and "
                f"{int(np.count_nonzero(labels != fold))} rows are not held out."
            )
    return labels


def fold_labels(cv, x, *, y=None, groups=None, labels=None):
    """The ``cv`` of a cross-validated estimator as what the pass needs.

    Parameters
    ----------
    cv : int, array-like, dask collection, splitter or list of splits
        As returned by :func:`check_cv`.
    x : dask.array.Array
        The validated X (its row blocks).
    y : array-like or dask collection, default=None
        The target as given to ``fit``: passed to a splitter's ``split``
        when in memory (stratified splitters need it).
    groups : array-like, default=None
        Group labels for a splitter that uses them (``GroupKFold``).
    labels : dask.array.Array or ndarray of shape (n_samples,), default=None
        When ``cv`` is an array of fold labels (:func:`is_label_array`):
        those labels as :func:`~dask_linreg._dask.inputs.check_fit_inputs`
        aligned them with ``x`` (``labels=cv, labels_name="cv"``).

    Returns
    -------
    labels : dask.array.Array of shape (n_samples,) or None
        Fold labels with the row blocks of ``x``; None to assign folds by
        hashing the rows.
    n_folds : int or None
        The number of hashed folds (None with labels).
    """
    if groups is not None and not hasattr(cv, "split"):
        given = f"cv={cv}" if isinstance(cv, numbers.Integral) else "this cv"
        raise ValueError(
            "groups are passed to the split method of a scikit-learn splitter "
            f"given as cv (e.g. GroupKFold(5)); {given} does not take them. For "
            "one fold per group, pass the labels themselves as cv=groups."
        )
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        n_rows = x.shape[0]
        if not np.isnan(n_rows) and cv > n_rows:
            raise ValueError(
                f"Cannot have number of folds cv={cv} greater than the number of "
                f"samples: n_samples={int(n_rows)}. Use fewer folds (rows are "
                "assigned to folds by a hash of their values, so a fold can stay "
                "empty when few rows fall in each), or pass fold labels."
            )
        return None, int(cv)
    if hasattr(cv, "split") or _is_split_list(cv):
        return check_groups(_labels_from_splits(cv, x, y, groups), x, name="cv"), None
    if labels is None:
        # Aligned by itself: right for in-memory labels and Dask arrays; a
        # Dask Series of X's (Parquet) frame should come via check_fit_inputs.
        labels = cv
    if not isinstance(labels, da.Array):
        labels = check_groups(labels, x, name="cv")
    return labels, None


def cross_validation_folds(estimator, inputs, labels, n_folds):
    """The one pass of a cross-validated estimator: per-fold statistics.

    Returns
    -------
    order : list
        Fold labels, sorted.
    fold_factors : list of TriangularMoments
        In that order: each fold's means and triangular factor.
    total : TriangularMoments
        Of all rows (the merge of the folds).

    Raises
    ------
    ValueError
        For faults of the data, weights summing to zero, or fewer than two
        folds with rows of positive weight.
    """
    folds, faults = reduce_fold_factors(
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
    fold_factors = [folds[label] for label in order]
    total = reduce(merge_factors, fold_factors)
    if total.weight_sum == 0.0:
        raise ValueError(
            "sample_weight sums to zero: at least one weight must be positive."
        )
    if n_folds is not None:
        filled = sum(m.weight_sum > 0 for m in fold_factors)
        if total.positive_count < n_folds:
            raise ValueError(
                f"Cannot have number of folds cv={n_folds} greater than the number "
                f"of samples of positive weight: got {total.positive_count} "
                f"(n_samples={total.count}). Use fewer folds."
            )
        if filled < n_folds:
            raise ValueError(
                f"cv={n_folds} asks for {n_folds} folds, but only {filled} of them "
                f"have rows of positive weight (n_samples={total.count}): rows are "
                "assigned to folds by a hash of their values (identical rows "
                "share a fold), so with few rows per fold some stay empty. Use "
                "fewer folds, or pass fold labels or a splitter such as "
                f"KFold({n_folds})."
            )
    empty = [
        label for label, m in zip(order, fold_factors, strict=True) if m.weight_sum == 0
    ]
    if len(order) < 2 or empty:
        raise ValueError(
            "Cross-validation needs at least 2 folds with rows of positive "
            f"weight; got {len(order)} fold(s) from n_samples={total.count}"
            + (f", of which {empty} are empty." if empty else ".")
        )
    return order, fold_factors, total


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
        if self.cv is None and self.scoring == "r2":
            raise ValueError(
                "scoring='r2' needs folds (cv=K or fold labels); with cv=None "
                "generalized cross-validation estimates the mean squared error."
            )
        cv = check_cv(self.cv)
        check_split_every(self.split_every)
        return check_alphas(self.alphas), cv

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
        alphas, cv = self._check_params()
        inputs = check_fit_inputs(
            self,
            X,
            y,
            sample_weight,
            labels=cv if is_label_array(cv) else None,
            labels_name="cv",
        )
        if inputs.x.shape[0] == 0:
            raise _no_samples_error(inputs.x.shape[1])
        p = inputs.x.shape[1]
        if cv is None:
            if groups is not None:
                raise ValueError(
                    "groups are passed to the split method of a scikit-learn "
                    "splitter given as cv; cv=None (generalized cross-validation) "
                    "has no folds."
                )
            # GCV needs the statistics of all rows only: the fit's own pass.
            total = self._reduce(inputs, TriangularMoments)
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
            order, fold_factors, total = cross_validation_folds(
                self, inputs, labels, n_folds
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
        self._y_is_1d = inputs.y_is_1d
        self._store_fit(total, solved, n_passes=1)
        inputs.store_features(self)
        return self
