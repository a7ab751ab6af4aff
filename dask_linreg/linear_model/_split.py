"""One model per group, in one pass: ``ols("y ~ x", data, split="store")``."""

import warnings
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from dask_linreg._dask.graph import reduce_group_statistic, reduce_row_pass
from dask_linreg._dask.inputs import check_fit_inputs, default_keyed_bytes
from dask_linreg._numerics.grouped import (
    block_two_way_grouped_moments,
    solve_groups,
)
from dask_linreg.linear_model._errors import no_samples_error
from dask_linreg.linear_model._least_squares import LinearRegression
from dask_linreg.linear_model._state import FitState

__all__ = ["SplitFit", "fit_clustered", "fit_split"]


class SplitFit:
    """Every group's own least-squares fit of one formula.

    Made by :func:`dask_linreg.ols` with ``split=``; everything here comes
    from the one pass's per-group statistics (nothing reads the data).

    Attributes
    ----------
    params, bse, pvalues : pandas.DataFrame
        Per group (index) and term (columns, ``Intercept`` first with an
        intercept): coefficients, classical standard errors and t-test
        p-values, as statsmodels' OLS/WLS of each group alone.
    rsquared : pandas.Series
    nobs, df_resid, rank : pandas.Series
        Rows of positive weight, residual degrees of freedom and rank.
    too_small : pandas.Index
        Groups with no residual degree of freedom (``df_resid <= 0``): their
        coefficients are the minimum-norm fit, their standard errors NaN.
    split : str
        The split column.
    """

    def __init__(self, grouped, names, formula, split, intercept, targets, weighted):
        self._grouped = grouped
        self._names = list(names)
        self._formula = formula
        self._intercept = bool(intercept)
        self._targets = targets
        self._weighted = weighted
        self.split = split
        p = len(self._names)
        solved = solve_groups(grouped, p, fit_intercept=self._intercept)
        index = pd.Index(grouped.keys, name=split)
        columns = (["Intercept"] if self._intercept else []) + self._names

        def table(slopes, intercept):
            values = np.column_stack([intercept, slopes]) if self._intercept else slopes
            return pd.DataFrame(values, index=index, columns=columns)

        self.params = table(solved["coef"], solved["intercept"])
        self.bse = table(solved["bse"], solved["intercept_bse"])
        df = np.maximum(solved["df_resid"], 1)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.pvalues = pd.DataFrame(
                2 * stats.t.sf(np.abs(self.params / self.bse).to_numpy(), df),
                index=index,
                columns=columns,
            )
        self.rsquared = pd.Series(solved["rsquared"], index=index, name="rsquared")
        self.nobs = pd.Series(solved["nobs"], index=index, name="nobs")
        self.df_resid = pd.Series(solved["df_resid"], index=index, name="df_resid")
        self.rank = pd.Series(solved["rank"], index=index, name="rank")
        self.too_small = index[solved["df_resid"] <= 0]

    def __len__(self):
        return len(self.params)

    def model(self, group):
        """The fitted :class:`LinearRegression` of one group (inference,
        ``summary()``, ``predict`` from the raw columns, ``merge``)."""
        position = self.params.index.get_indexer([group])[0]
        if position < 0:
            raise KeyError(f"{self.split!r} has no group {group!r}.")
        moments = self._grouped.moments(position)
        model = LinearRegression(fit_intercept=self._intercept)
        model.n_features_in_ = len(self._names)
        model.feature_names_in_ = np.asarray(self._names, dtype=object)
        state = FitState(
            statistic=moments,
            solve_factor=None,
            y_is_1d=True,
            target_names=self._targets,
            weighted_fit=self._weighted,
            formula=self._formula,
        )
        solved = model._solve(moments, len(self._names), None)
        model._store_fit(state, solved, n_passes=1)
        return model

    def __repr__(self):
        return (
            f"SplitFit({len(self)} groups of {self.split!r}, "
            f"{len(self.too_small)} too small)"
        )


def _grouped_pass(
    X, y, weights, column, role, *, missing, split_every, max_bytes, split_out=1
):
    """One pass to the :class:`GroupedMoments` of ``X``'s numeric columns
    and ``y`` per level of ``X[column]`` (for two columns, a
    :class:`TwoWayGroupedMoments`); also the inputs checked."""
    columns = [column] if isinstance(column, str) else list(column)
    numeric = X.drop(columns=columns)
    messages = tuple(f"the {role} column {c!r}" for c in columns)
    inputs = check_fit_inputs(
        LinearRegression(missing=missing),
        numeric,
        y,
        weights,
        labels=X[columns[0]] if len(columns) == 1 else tuple(X[c] for c in columns),
        labels_name=messages[0] if len(columns) == 1 else messages,
    )
    if max_bytes is None:
        max_bytes = default_keyed_bytes()
    common = {
        "split_every": split_every,
        "split_out": split_out,
        "scheduler": "threads" if inputs.local else None,
        "missing": missing,
    }
    if len(columns) == 1:
        grouped, faults = reduce_group_statistic(
            inputs.x,
            inputs.y,
            inputs.sample_weight,
            inputs.labels,
            factor_name=column,
            message_name=messages[0],
            max_bytes=max_bytes,
            per_group=True,
            **common,
        )
    else:
        grouped, faults = reduce_row_pass(
            partial(
                block_two_way_grouped_moments,
                factor_names=tuple(columns),
                max_bytes=max_bytes,
            ),
            inputs.x,
            inputs.y,
            inputs.sample_weight,
            inputs.labels,
            message_names=messages,
            **common,
        )
    faults.raise_if_any(inputs.features.names)
    if grouped.n_levels == 0:
        raise no_samples_error(inputs.x.shape[1])
    return grouped, inputs, faults.dropped


def fit_clustered(
    parsed, X, y, weights, cluster, *, missing, split_every, max_bytes, split_out=1
):
    """:func:`dask_linreg.ols` with ``cluster`` (one column, or two for
    two-way clustering): one pass to the clusters' moments, whose merge is
    the fit's statistic; they are kept, so the cluster-robust covariance
    needs no second pass."""
    grouped, inputs, dropped = _grouped_pass(
        X,
        y,
        weights,
        cluster,
        "cluster",
        missing=missing,
        split_every=split_every,
        max_bytes=max_bytes,
        split_out=split_out,
    )
    total = grouped.total()
    if total.weight_sum == 0.0:
        raise ValueError(
            "sample_weight sums to zero: at least one weight must be positive."
        )
    model = LinearRegression(fit_intercept=parsed.intercept, missing=missing)
    p = inputs.x.shape[1]
    solved = model._solve(total, p, None)
    state = FitState(
        statistic=total,
        solve_factor=None,
        y_is_1d=True,
        target_names=tuple(parsed.targets),
        weighted_fit=weights is not None,
        formula=parsed,
        dropped=dropped,
        clusters=grouped,
    )
    inputs.store_features(model)
    model._store_fit(state, solved, n_passes=1)
    return model


def fit_split(
    parsed, X, y, weights, split, *, missing, split_every, max_bytes, split_out=1
):
    """The one pass of :func:`dask_linreg.ols` with ``split``."""
    grouped, inputs, _ = _grouped_pass(
        X,
        y,
        weights,
        split,
        "split",
        missing=missing,
        split_every=split_every,
        max_bytes=max_bytes,
        split_out=split_out,
    )
    names = [c for c in X.columns if c != split]
    result = SplitFit(
        grouped,
        names,
        parsed,
        split,
        parsed.intercept,
        tuple(parsed.targets),
        weights is not None,
    )
    if len(result.too_small):
        warnings.warn(
            f"{len(result.too_small)} of {len(result)} groups of {split!r} have no "
            "residual degree of freedom (too few rows for the terms): their "
            "standard errors are NaN; they are listed in .too_small.",
            UserWarning,
            stacklevel=4,
        )
    return result
