"""Predictions of a linear model on the partitions of a Dask DataFrame."""

import numpy as np
import pandas as pd

__all__ = ["predict_frame"]


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
