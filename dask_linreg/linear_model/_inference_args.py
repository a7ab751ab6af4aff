"""The arguments of ``LinearRegression.inference``: which covariance, and
the data a robust one needs, checked before anything is computed."""

import numpy as np

from dask_linreg._numerics.sandwich import COV_TYPES

__all__ = ["check_inference_arguments"]


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
