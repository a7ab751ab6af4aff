"""Predictions of a linear model on the partitions of a Dask DataFrame."""

import numpy as np
import pandas as pd

from dask_linreg._dask.factors import term_values

__all__ = ["predict_factor_frame", "predict_frame"]


def predict_frame(frame, coef, intercept):
    """Lazy predictions for a Dask DataFrame: a Series (``coef`` 1-D) or a
    DataFrame (one column per target) with its index and partitions."""
    return frame.map_partitions(
        _predict_partition, coef, intercept, meta=_prediction_meta(coef)
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


def predict_factor_frame(
    frame, *, design, coef, intercept, one_target, handle_unknown="error"
):
    """Predictions for a pandas ``frame`` with categorical columns.

    The indicators are never built: each term adds the coefficient of the
    row's level (combination), looked up by it and times the term's value
    (the reference, or an ignored unknown level, adds zero).

    Parameters
    ----------
    frame : pandas.DataFrame
        With the fitted columns.
    design : FactorDesign
        The fitted design (levels and encoding).
    coef : ndarray of shape (n_targets, n_coefficients)
    intercept : ndarray of shape (n_targets,)
    one_target : bool
        Whether to return a Series (else a DataFrame).
    handle_unknown : {"error", "ignore"}
    """
    values = np.tile(intercept, (len(frame), 1))
    position = 0
    for index, value, width in term_values(
        design, frame, handle_unknown=handle_unknown
    ):
        # Row of a lookup table per column; no column (a reference or
        # ignored unknown level, index -1) reads the zero row at the end.
        table = np.zeros((width + 1, coef.shape[0]))
        table[:width] = coef[:, position : position + width].T
        added = table[index]
        values += added if value is None else added * value[:, None]
        position += width
    if one_target:
        return pd.Series(values[:, 0], index=frame.index)
    return pd.DataFrame(values, index=frame.index)
