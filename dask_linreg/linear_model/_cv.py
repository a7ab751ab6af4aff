"""What the cross-validated estimators share: ``cv`` checked without the
data, fold labels from it, and the one pass of per-fold statistics."""

import numbers
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, replace
from functools import reduce

import dask.array as da
import numpy as np
from sklearn.utils.multiclass import type_of_target

from dask_linreg._dask.columns import is_dask
from dask_linreg._dask.factors import factor_columns
from dask_linreg._dask.graph import reduce_fold_factors, reduce_fold_level_statistic
from dask_linreg._dask.inputs import check_groups
from dask_linreg._numerics.levels import design_columns
from dask_linreg._numerics.tsqr import factor_of_moments, merge_factors
from dask_linreg.linear_model._errors import no_samples_error
from dask_linreg.linear_model._params import Unsatisfied

__all__ = [
    "CrossValidation",
    "categorical_cross_validation_folds",
    "check_cv",
    "cross_validation_folds",
    "FoldStatistics",
    "fold_labels",
    "fold_statistics",
    "in_memory_split_labels",
    "is_label_array",
]


def _is_split_list(cv):
    return (
        isinstance(cv, list | tuple)
        and len(cv) > 0
        and all(isinstance(s, tuple) and len(s) == 2 for s in cv)
    )


class CrossValidation:
    """The constraint of ``cv``: None, an int in the range [2, inf), fold
    labels or scikit-learn splits, by :func:`check_cv`'s rules.

    Parameters
    ----------
    none_means : str
        What ``cv=None`` does, for the hint of a ``cv`` below 2.
    """

    def __init__(self, none_means):
        self.none_means = none_means

    def check(self, value):
        if (
            isinstance(value, numbers.Integral)
            and not isinstance(value, bool | np.bool_)
            and value < 2
        ):
            raise Unsatisfied(f"Use cv=None ({self.none_means}) or at least 2 folds.")
        try:
            return check_cv(value)
        except (TypeError, ValueError) as error:
            raise Unsatisfied(str(error)) from None

    def __str__(self):
        return (
            "None, an int in the range [2, inf), an array-like of shape "
            "(n_samples,) of fold labels or scikit-learn splits (a splitter "
            "such as KFold(5), or an iterable of (train, test) index arrays)"
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
        splits of the wrong shape; the message says what is wrong with
        ``cv`` (the estimators' :class:`CrossValidation` constraint puts it
        after what ``cv`` may be).
    TypeError
        For a Dask collection that is neither an array nor a Series.
    """
    if cv is None:
        return cv
    if hasattr(cv, "split") and not (is_dask(cv) or isinstance(cv, str | bytes)):
        return cv
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool | np.bool_):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got cv={cv}.")
        return cv
    if isinstance(cv, str | bytes):
        hint = "A string is not a cv"
        if cv.strip().isdigit():
            hint += f": pass the number itself, cv={int(cv)}"
        raise ValueError(f"{hint}.")
    if isinstance(cv, bool | np.bool_ | numbers.Number | Mapping | Set):
        raise ValueError(f"cv cannot be a {type(cv).__name__}.")
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
        raise ValueError(f"cv cannot be an object of type {type(cv).__name__}.")
    if _is_split_list(cv):
        return _check_splits(cv)
    try:
        shape = np.shape(cv)
    except ValueError:  # ragged nested lists
        raise ValueError(
            "cv is a ragged nested sequence; splits must be (train, test) "
            "tuples of index arrays."
        ) from None
    if len(shape) != 1 or shape[0] == 0:
        raise ValueError(f"cv as fold labels has shape {shape}; expected (n_samples,).")
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


def in_memory_split_labels(cv, X, y=None, groups=None):
    """The fold labels of a splitter (or splits) ``cv`` over an in-memory X
    with categorical columns, made before X is validated (such an X becomes
    a Dask frame of unknown row blocks, to which the labels go with X);
    None for any other ``cv`` or X."""
    if is_dask(X) or not factor_columns(X):
        return None
    if not (hasattr(cv, "split") or _is_split_list(cv)):
        return None
    n_rows = getattr(X, "shape", (None,))[0]
    if n_rows is None:
        return None
    _check_groups_argument(cv, groups)
    return _labels_from_splits(cv, int(n_rows), y, groups)


def _labels_from_splits(cv, n_rows, y=None, groups=None):
    """Fold labels from a scikit-learn splitter or ``(train, test)`` pairs.

    Only splits whose test sets partition the ``n_rows`` rows (each row
    held out exactly once, as ``KFold`` and ``GroupKFold`` do) are fold
    labels.  A splitter is given ``y`` when it is in memory and ``groups``
    (in memory) when it uses them.
    """
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


def _check_groups_argument(cv, groups):
    """``groups`` go only with a splitter that takes them."""
    if groups is not None and not hasattr(cv, "split"):
        given = f"cv={cv}" if isinstance(cv, numbers.Integral) else "this cv"
        raise ValueError(
            "groups are passed to the split method of a scikit-learn splitter "
            f"given as cv (e.g. GroupKFold(5)); {given} does not take them. For "
            "one fold per group, pass the labels themselves as cv=groups."
        )


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
    _check_groups_argument(cv, groups)
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
        if np.isnan(x.shape[0]):
            raise ValueError(
                "cv given as scikit-learn splits needs the number of rows, which "
                "this Dask input does not know; pass fold labels aligned with the "
                "rows."
            )
        labels = _labels_from_splits(cv, int(x.shape[0]), y, groups)
        return check_groups(labels, x, name="cv"), None
    if labels is None:
        # Aligned by itself: right for in-memory labels and Dask arrays; a
        # Dask Series of X's (Parquet) frame should come via check_fit_inputs.
        labels = cv
    if not isinstance(labels, da.Array):
        labels = check_groups(labels, x, name="cv")
    return labels, None


@dataclass(frozen=True)
class FoldStatistics:
    """What the one pass of a cross-validated estimator yields.

    Attributes
    ----------
    order : list
        Fold labels, sorted.
    fold_factors : list of TriangularMoments
        In that order, over the model's columns.
    total : TriangularMoments
        Of all rows.
    dropped : int
        Rows left out for a missing value.
    n_columns : int
        The model's feature columns.
    design : FactorDesign or None
        With categorical columns: the design, levels and encoding.
    names : list of str or None
        With categorical columns: the model's columns.
    levels : LevelMoments or None
        With categorical columns: the level statistics of all rows.
    """

    order: list
    fold_factors: list
    total: object
    dropped: int
    n_columns: int
    design: object = None
    names: list | None = None
    levels: object = None


def fold_statistics(estimator, inputs, labels, n_folds):
    """:func:`cross_validation_folds`, or with categorical columns
    :func:`categorical_cross_validation_folds`, as :class:`FoldStatistics`."""
    if inputs.design is not None:
        order, factors, total, dropped, design, names, levels = (
            categorical_cross_validation_folds(estimator, inputs, labels, n_folds)
        )
        return FoldStatistics(
            order, factors, total, dropped, len(names), design, names, levels
        )
    order, factors, total, dropped = cross_validation_folds(
        estimator, inputs, labels, n_folds
    )
    return FoldStatistics(order, factors, total, dropped, inputs.x.shape[1])


_ZERO_WEIGHTS = "sample_weight sums to zero: at least one weight must be positive."


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
    dropped : int
        Rows left out for a missing value (``missing="drop"``).

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
        missing=estimator.missing,
    )
    faults.raise_if_any()
    if not folds:  # row blocks of unknown size, all empty
        raise no_samples_error(inputs.x.shape[1])
    order = sorted(folds)
    fold_factors = [folds[label] for label in order]
    total = reduce(merge_factors, fold_factors)
    _check_folds(order, fold_factors, total, n_folds)
    return order, fold_factors, total, faults.dropped


def categorical_cross_validation_folds(estimator, inputs, labels, n_folds):
    """:func:`cross_validation_folds` of X with categorical columns.

    The pass reduces each fold's level moments (levels found in it); the
    folds are then embedded over the levels of all rows, so that every
    fold's statistic is over the same model columns (the estimator's
    encoding of all the levels; a level absent from a fold is a zero column
    there), and made factors (:func:`factor_of_moments`).

    Returns
    -------
    order, fold_factors, total, dropped
        As :func:`cross_validation_folds`, over the model's columns.
    design : FactorDesign
        The design with the levels of all rows and the encoding.
    names : list of str
        The model's columns.
    levels : LevelMoments
        Of all rows (what the fitted model keeps).
    """
    design = inputs.design
    folds, faults = reduce_fold_level_statistic(
        inputs.x,
        inputs.y,
        inputs.sample_weight,
        labels,
        inputs.factors,
        n_folds=n_folds,
        terms=estimator._encoded(design).indicator_terms(),
        factor_names=design.factors,
        message_names=design.message_names(),
        max_levels=estimator.max_levels,
        split_every=estimator.split_every,
        scheduler="threads" if inputs.local else None,
        missing=estimator.missing,
    )
    faults.raise_if_any(np.asarray(design.numeric, dtype=object))
    if not folds:
        raise no_samples_error(len(design.columns))
    order = sorted(folds)
    levels = reduce(lambda a, b: a.merge(b), [folds[label] for label in order])
    if levels.weight_sum == 0.0:
        raise ValueError(_ZERO_WEIGHTS)
    fitted_design, names, moments = estimator._factor_moments(levels, design)
    columns, _ = design_columns(
        levels.reordered(design.orders), fitted_design.terms, fitted_design.numeric
    )
    fold_factors = []
    for label in order:
        # Over all the levels, ordered as the model orders them.
        fold = replace(folds[label].embedded(levels.levels), orders=levels.orders)
        fold_factors.append(
            factor_of_moments(fold.reordered(design.orders).select(columns))
        )
    total = factor_of_moments(moments)
    _check_folds(order, fold_factors, total, n_folds)
    return order, fold_factors, total, faults.dropped, fitted_design, names, levels


def _check_folds(order, fold_factors, total, n_folds):
    """Raise ValueError unless the folds can cross-validate."""
    if total.weight_sum == 0.0:
        raise ValueError(_ZERO_WEIGHTS)
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
