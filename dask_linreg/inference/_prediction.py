"""Predictions with standard errors and intervals, lazy for Dask input.

:func:`get_prediction` maps one NumPy function over X's row blocks (or
partitions): it gives the mean prediction, its standard error and that of a
new observation, from which :class:`PredictionResults` derives every interval
without reading X again.
"""

import numbers
from dataclasses import dataclass

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd

from dask_linreg._numerics.sandwich import NULL_TOLERANCE
from dask_linreg.inference._checks import check_level, distribution, frozen

__all__ = ["PredictionResults", "PredictionModel", "get_prediction"]


@dataclass(frozen=True)
class PredictionModel:
    """What a prediction needs of the results (small arrays only).

    Attributes
    ----------
    params : ndarray of shape (k,)
        Coefficients, the intercept first when there is one.
    centered_cov : ndarray of shape (k, k)
        Covariance of the coefficients in the centered parametrization
        (intercept at the weighted mean of X).
    x_mean : ndarray of shape (n_features,)
        Weighted mean of the training X.
    null_space : ndarray of shape (k, d)
        Basis of the directions the data do not determine (d = 0 at full
        rank).
    fit_intercept : bool
    scale : float
        Residual variance.
    """

    params: np.ndarray
    centered_cov: np.ndarray
    x_mean: np.ndarray
    null_space: np.ndarray
    fit_intercept: bool
    scale: float


def _prediction_base(x, weights, model):
    """Columns ``mean``, ``mean_se`` and ``obs_se`` for rows ``x`` (NumPy):
    everything the intervals need, whatever their level."""
    centered = x - model.x_mean
    if model.fit_intercept:
        z = np.column_stack([np.ones(len(x)), centered])
        coef = model.params[1:]
        centered_intercept = model.params[0] + model.x_mean @ coef
    else:
        z = centered
        coef = model.params
        centered_intercept = 0.0
    mean = centered @ coef + centered_intercept
    variance = np.einsum("ij,jk,ik->i", z, model.centered_cov, z)
    null = model.null_space
    if null.size:
        # A row outside the design's row space has no determined mean.
        rows = z.copy()
        if model.fit_intercept:
            rows[:, 1:] += model.x_mean
        leak = np.linalg.norm(rows @ null, axis=1)
        scale = np.maximum(np.linalg.norm(rows, axis=1), 1)
        variance = np.where(leak > NULL_TOLERANCE * scale, np.nan, variance)
    se_mean = np.sqrt(np.clip(variance, 0.0, None))
    se_obs = np.sqrt(se_mean**2 + model.scale / weights)
    return np.column_stack([mean, se_mean, se_obs])


def _check_finite_rows(values, where):
    finite = np.isfinite(values)
    if not finite.all():
        raise ValueError(
            f"X contains {int(finite.size - finite.sum())} non-finite value(s) "
            f"(NaN or inf){where}."
        )


def _prediction_block(block, model, weights, block_info=None):
    values = np.asarray(block, dtype=np.float64)
    location = None if not block_info else block_info[0].get("chunk-location")
    _check_finite_rows(
        values, "" if location is None else f" in row block {location[0]}"
    )
    return _prediction_base(values, weights, model)


def _prediction_partition(frame, model, weights, partition_info=None):
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    number = None if not partition_info else partition_info.get("number")
    _check_finite_rows(values, "" if number is None else f" in partition {number}")
    return pd.DataFrame(
        _prediction_base(values, weights, model),
        columns=_BASE_COLUMNS,
        index=frame.index,
    )


def _check_prediction_weights(sample_weight, n_samples, lazy):
    """``sample_weight`` of ``get_prediction``: 1.0, a positive float, or
    (in-memory X) a read-only array of one positive weight per row."""
    from dask_linreg._dask.columns import is_dask

    if sample_weight is None:
        return 1.0
    if np.ndim(sample_weight) == 0 and not is_dask(sample_weight):
        value = (
            sample_weight.item() if hasattr(sample_weight, "item") else sample_weight
        )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                "sample_weight must be a positive number or an array of them; got "
                f"{sample_weight!r}."
            )
        if not (np.isfinite(value) and value > 0):
            raise ValueError(
                "sample_weight must be positive and finite (the variance of a new "
                f"observation is scale / sample_weight); got {sample_weight!r}."
            )
        return float(value)
    if lazy or is_dask(sample_weight):
        raise TypeError(
            "sample_weight of get_prediction must be a single float for Dask "
            "input (or an array for in-memory X)."
        )
    weights = np.asarray(sample_weight)
    if weights.dtype.kind not in "iuf":
        raise TypeError(
            "sample_weight must be a positive number or an array of them; got an "
            f"array of dtype {weights.dtype}."
        )
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape}; expected ({n_samples},): "
            "one weight per row of X."
        )
    weights = weights.astype(np.float64)
    bad = int(np.count_nonzero(~(np.isfinite(weights) & (weights > 0))))
    if bad:
        raise ValueError(
            f"sample_weight has {bad} value(s) that are not positive and finite "
            "(the variance of a new observation is scale / sample_weight)."
        )
    return frozen(weights)


_FRAME_COLUMNS = [
    "mean",
    "mean_se",
    "mean_ci_lower",
    "mean_ci_upper",
    "obs_ci_lower",
    "obs_ci_upper",
]
_BASE_COLUMNS = ["mean", "mean_se", "obs_se"]


def _empty_frame(columns):
    return pd.DataFrame({c: pd.Series([], dtype=np.float64) for c in columns})


def _interval_block(base, quantile, obs):
    mean, se = base[:, 0], base[:, 2 if obs else 1]
    return np.column_stack([mean - quantile * se, mean + quantile * se])


def _frame_block(base, quantile):
    return np.column_stack(
        [
            base[:, :2],
            _interval_block(base, quantile, obs=False),
            _interval_block(base, quantile, obs=True),
        ]
    )


def _frame_partition(base, quantile):
    values = base.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        _frame_block(values, quantile), columns=_FRAME_COLUMNS, index=base.index
    )


def _interval_partition(base, quantile, obs):
    values = base.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        _interval_block(values, quantile, obs),
        columns=["lower", "upper"],
        index=base.index,
    )


def _frame_of_block(base, quantile, start):
    index = None if start is None else pd.RangeIndex(start, start + len(base))
    return pd.DataFrame(
        _frame_block(base, quantile), columns=_FRAME_COLUMNS, index=index
    )


class PredictionResults:
    """Predictions with standard errors and intervals (statsmodels'
    ``get_prediction`` result); lazy for Dask input.

    Created by :meth:`RegressionResults.get_prediction`.  For Dask X every
    quantity is a lazy view of one computation over X's row blocks (the
    mean, its standard error and that of a new observation): computing
    several of them together, ``dask.compute(pred.predicted_mean,
    pred.se_mean, pred.conf_int())``, or one ``summary_frame()``, reads X
    once; :meth:`compute` reads it once and gives the in-memory results.
    Separate ``.compute()`` calls read X once each.

    Attributes
    ----------
    predicted_mean : ndarray, dask array or dask Series of shape (n_samples,)
        NumPy for in-memory X, a Dask array for a Dask array, a Dask Series
        with X's index and partitions for a Dask DataFrame.
    se_mean : ndarray, dask array or dask Series of shape (n_samples,)
        Standard error of the predicted mean (NaN for a row the data do not
        determine, in a rank-deficient fit); of the kind of
        ``predicted_mean``.
    """

    def __init__(self, base, distribution, *, index=None):
        self._base = base
        self._use_t, self._df = distribution
        self._index = index
        if isinstance(base, dd.DataFrame):
            self.predicted_mean = base["mean"]
            self.se_mean = base["mean_se"]
        elif isinstance(base, da.Array):
            self.predicted_mean = base[:, 0]
            self.se_mean = base[:, 1]
        else:
            self.predicted_mean = base[:, 0].copy()
            self.se_mean = base[:, 1].copy()

    def _quantile(self, alpha):
        alpha = check_level(alpha)
        return float(distribution(self._use_t, self._df).isf(alpha / 2))

    def compute(self, **kwargs):
        """The in-memory results, X read once.

        Parameters
        ----------
        **kwargs
            Passed to :func:`dask.compute` (``scheduler=`` ...).

        Returns
        -------
        PredictionResults
            With NumPy ``predicted_mean`` and ``se_mean``, a pandas
            ``summary_frame`` (with X's index for a Dask DataFrame); ``self``
            when already in memory.
        """
        if isinstance(self._base, np.ndarray):
            return self
        (base,) = dask.compute(self._base, **kwargs)
        index = None
        if isinstance(base, pd.DataFrame):
            index, base = base.index, base.to_numpy(dtype=np.float64)
        return PredictionResults(
            frozen(np.asarray(base, dtype=np.float64)),
            (self._use_t, self._df),
            index=index,
        )

    def conf_int(self, obs=False, alpha=0.05):
        """Intervals for the mean (or, with ``obs=True``, a new observation).

        Parameters
        ----------
        obs : bool, default=False
            Interval for a new observation (the mean's uncertainty plus the
            noise, of variance ``scale / sample_weight``) instead of the mean.
        alpha : float, default=0.05
            Intervals of coverage ``1 - alpha``.

        Returns
        -------
        ndarray, dask array or dask DataFrame of shape (n_samples, 2)
            Lower and upper bounds; a Dask DataFrame (columns ``lower``,
            ``upper``, X's index) for a Dask DataFrame X.
        """
        if not isinstance(obs, bool | np.bool_):
            raise ValueError(f"obs must be a bool; got {obs!r}.")
        quantile, obs = self._quantile(alpha), bool(obs)
        base = self._base
        if isinstance(base, dd.DataFrame):
            return base.map_partitions(
                _interval_partition,
                quantile,
                obs,
                meta=_empty_frame(["lower", "upper"]),
            )
        if isinstance(base, da.Array):
            return base.map_blocks(
                _interval_block,
                quantile,
                obs,
                chunks=(base.chunks[0], (2,)),
                dtype=np.float64,
                meta=np.empty((0, 2)),
            )
        return _interval_block(base, quantile, obs)

    def summary_frame(self, alpha=0.05):
        """The predictions as a frame, statsmodels' column names.

        Parameters
        ----------
        alpha : float, default=0.05
            Intervals of coverage ``1 - alpha``.

        Returns
        -------
        pandas.DataFrame or dask.dataframe.DataFrame
            Columns ``mean``, ``mean_se``, ``mean_ci_lower``,
            ``mean_ci_upper``, ``obs_ci_lower``, ``obs_ci_upper``; a Dask
            DataFrame (nothing computed) for Dask input, with X's index and
            partitions when X is a Dask DataFrame, one partition per row
            block of a Dask array (indexed 0 to n - 1; each block from 0 when
            the block sizes are unknown).  The index of a pandas X is kept.
        """
        quantile = self._quantile(alpha)
        base = self._base
        meta = _empty_frame(_FRAME_COLUMNS)
        if isinstance(base, dd.DataFrame):
            return base.map_partitions(_frame_partition, quantile, meta=meta)
        if isinstance(base, da.Array):
            sizes = base.chunks[0]
            known = not any(np.isnan(sizes))
            starts = (
                np.cumsum((0, *sizes[:-1])).tolist() if known else [None] * len(sizes)
            )
            divisions = None
            if known and all(sizes) and sum(sizes):
                divisions = (*starts, int(sum(sizes)) - 1)
            # The row blocks of the same graph as predicted_mean and se_mean:
            # computed together with them, X is read once.
            blocks = base.to_delayed(optimize_graph=False).ravel()
            parts = [
                dask.delayed(_frame_of_block, pure=True)(block, quantile, start)
                for block, start in zip(blocks, starts, strict=True)
            ]
            return dd.from_delayed(
                parts, meta=meta, divisions=divisions, verify_meta=False
            )
        return pd.DataFrame(
            _frame_block(base, quantile), columns=_FRAME_COLUMNS, index=self._index
        )


def get_prediction(X, features, model, distribution, sample_weight=None):
    """Predictions for new rows with their standard errors.

    The work of :meth:`RegressionResults.get_prediction
    <dask_linreg.RegressionResults.get_prediction>`, which documents the
    parameters seen by users.

    Parameters
    ----------
    X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
        New rows.
    features : estimator
        An unfitted estimator that knows the fitted features; X is checked
        against it.
    model : PredictionModel
    distribution : tuple of (bool, int)
        ``(use_t, df)`` of the intervals.
    sample_weight : float or array-like of shape (n_samples,), default=None
        Precision weights of the new observations.

    Returns
    -------
    PredictionResults
        Lazy when X is a Dask collection.
    """
    from dask_linreg._dask.columns import is_dask
    from dask_linreg._dask.inputs import check_predict_input

    x = check_predict_input(features, X)
    lazy = is_dask(X)
    weights = _check_prediction_weights(
        sample_weight, None if lazy else x.shape[0], lazy
    )
    if isinstance(X, dd.DataFrame):
        base = X.map_partitions(
            _prediction_partition, model, weights, meta=_empty_frame(_BASE_COLUMNS)
        )
    elif lazy:
        if x.numblocks[1] > 1:
            # Column blocks side by side: each row block is needed whole.
            x = x.rechunk({1: -1})
        base = x.map_blocks(
            _prediction_block,
            model,
            weights,
            chunks=(x.chunks[0], (len(_BASE_COLUMNS),)),
            dtype=np.float64,
            meta=np.empty((0, len(_BASE_COLUMNS))),
        )
    else:
        base = frozen(_prediction_base(np.asarray(x, np.float64), weights, model))
    index = X.index if isinstance(X, pd.DataFrame) else None
    return PredictionResults(base, distribution, index=index)
