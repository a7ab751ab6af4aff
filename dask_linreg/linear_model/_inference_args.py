"""The arguments of ``inference``: which covariance, and the data a robust
one needs (a formula model's from its raw columns), checked before anything
is computed."""

import numpy as np

from dask_linreg._dask.formula import design_frames
from dask_linreg._numerics.sandwich import COV_TYPES

__all__ = [
    "check_inference_arguments",
    "check_robust_pass",
    "formula_training_data",
]


def check_inference_arguments(cov_type, X, y, groups, use_t, *, y_in_x=False):
    """Check ``inference``'s arguments before any work (``y_in_x``: a
    formula model, whose X holds the target)."""
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
    if X is None or (y is None and not y_in_x):
        raise ValueError(
            f"cov_type={cov_type!r} needs one pass over the training data: pass "
            + (
                "the data (and the weights of the fit)."
                if y_in_x
                else "X and y (and the sample_weight of the fit)."
            )
        )
    if cov_type == "cluster" and groups is None:
        raise ValueError(
            "cov_type='cluster' needs groups: the cluster label of each row."
        )
    if cov_type != "cluster" and groups is not None:
        raise ValueError(
            f"groups is only used with cov_type='cluster'; got cov_type={cov_type!r}."
        )


def check_robust_pass(summary, sums, cov_type):
    """Raise unless the robust pass read the data of the fit (the same rows
    of positive weight and residual sum of squares) and, clustered, found
    at least two clusters."""
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


def formula_training_data(formula, data, y, sample_weight, groups=None, *, keep=()):
    """The design, target, weights and cluster labels of a formula model's
    training data (``data`` the DataFrame of raw columns; ``y`` the
    formula's left-hand side when None; ``sample_weight`` and ``groups`` a
    column name of ``data``, or one per row); X carries ``data``'s columns
    ``keep`` too (an absorbed factor)."""
    if not hasattr(data, "columns"):
        raise TypeError(
            "a model fitted from a formula takes its training data as the "
            f"DataFrame of raw columns; got {type(data).__name__}."
        )
    X, targets = design_frames(data, formula, keep=keep)

    def column(argument, value):
        if isinstance(value, str):
            if value not in data.columns:
                raise ValueError(
                    f"{argument}={value!r} is not a column of the data; it has: "
                    f"{', '.join(map(str, data.columns))}."
                )
            value = data[value]
        return value

    weights = column("sample_weight", sample_weight)
    if isinstance(groups, tuple):
        groups = tuple(column("groups", g) for g in groups)
    else:
        groups = column("groups", groups)
    return X, targets if y is None else y, weights, groups


def cluster_groups(groups):
    """``groups`` as given for one clustering, or a tuple of two for two-way
    clustering: a list or tuple of two column names or label arrays, or a
    2-D array or DataFrame of two columns.

    Raises
    ------
    ValueError
        For a 2-D ``groups`` of other than two columns.
    """
    if isinstance(groups, list | tuple) and len(groups) == 2:
        if all(isinstance(g, str) or np.ndim(g) == 1 for g in groups):
            return tuple(groups)
    if getattr(groups, "ndim", 1) == 2:
        columns = getattr(groups, "columns", None)
        width = len(columns) if columns is not None else groups.shape[1]
        if width != 2:
            raise ValueError(
                f"groups has {width} columns: give one clustering (1-D labels) "
                "or two (two-way clustering)."
            )
        if columns is not None:
            return tuple(groups[c] for c in columns)
        return (groups[:, 0], groups[:, 1])
    return groups
