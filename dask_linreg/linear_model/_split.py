"""One model per group, in one pass: ``ols("y ~ x", data, split="store")``."""

import warnings
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from dask_linreg._dask.graph import one_label_kernel, reduce_row_pass
from dask_linreg._dask.indicators import found_kernel, found_statistic
from dask_linreg._dask.inputs import check_fit_inputs, default_keyed_bytes
from dask_linreg._numerics.grouped import (
    block_grouped_moments,
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
        self._grouped = grouped.without_rounding()
        self._names = list(names)
        self._formula = formula
        self._intercept = bool(intercept)
        self._targets = targets
        self._weighted = weighted
        self.split = split
        p = len(self._names)
        solved = solve_groups(self._grouped, p, fit_intercept=self._intercept)
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
    X,
    y,
    weights,
    column,
    role,
    *,
    missing,
    split_every,
    max_bytes,
    split_out=1,
    found=(),
):
    """One pass to the :class:`GroupedMoments` of ``X``'s numeric columns
    and ``y`` per level of ``X[column]`` (for two columns, a
    :class:`TwoWayGroupedMoments`), the categorical terms ``found`` as the
    indicators of the levels the pass finds.

    Returns
    -------
    grouped : GroupedMoments or TwoWayGroupedMoments
        Over the model's columns.
    inputs : FitInputs
        Of those columns.
    dropped : int
    found_levels : dict
        Each term of ``found``'s levels.
    """
    columns = [column] if isinstance(column, str) else list(column)
    messages = (
        *(f"the {role} column {c!r}" for c in columns),
        *(f"the categorical term {name!r}" for name in found),
    )

    def checked(X, n_labels):
        named = [*columns, *found][:n_labels]
        return check_fit_inputs(
            LinearRegression(missing=missing),
            X.drop(columns=named),
            y,
            weights,
            labels=tuple(X[c] for c in named),
            labels_name=messages[:n_labels],
            allow_no_features=bool(found),
        )

    inputs = checked(X, len(messages))
    if max_bytes is None:
        max_bytes = default_keyed_bytes()
    if len(columns) == 1:
        kernel = one_label_kernel(
            block_grouped_moments, factor_name=column, max_bytes=max_bytes
        )
    else:
        kernel = partial(
            block_two_way_grouped_moments,
            factor_names=tuple(columns),
            max_bytes=max_bytes,
        )
    if found:
        kernel = found_kernel(kernel, inputs.x.shape[1], found, max_bytes)
    grouped, faults = reduce_row_pass(
        kernel,
        inputs.x,
        inputs.y,
        inputs.sample_weight,
        inputs.labels,
        message_names=messages,
        split_every=split_every,
        split_out=split_out,
        scheduler="threads" if inputs.local else None,
        missing=missing,
    )
    faults.raise_if_any(inputs.features.names)
    found_levels = {}
    if found:
        numeric = X.drop(columns=[*columns, *found]).columns
        grouped, found_levels, X = found_statistic(grouped, X, numeric, found)
        inputs = checked(X, len(columns))
    if grouped.n_levels == 0:
        raise no_samples_error(inputs.x.shape[1])
    return grouped, inputs, faults.dropped, found_levels


def _fitted_formula(parsed, indicators, found_levels):
    """The formula a fit keeps: with its categorical terms' levels, whose
    indicators are the model's columns."""
    levels = {**indicators, **found_levels}
    return replace(parsed, indicators=levels or None)


def fit_clustered(parsed, X, y, weights, cluster, *, indicators, found, **options):
    """:func:`dask_linreg.ols` with ``cluster`` (one column, or two for
    two-way clustering): one pass to the clusters' moments, whose merge is
    the fit's statistic; they are kept, so the cluster-robust covariance
    needs no second pass.  ``indicators``: the levels of the categorical
    terms expanded in X; ``found``: those whose levels the pass finds;
    ``options``: of :func:`_grouped_pass`."""
    grouped, inputs, dropped, found_levels = _grouped_pass(
        X, y, weights, cluster, "cluster", found=found, **options
    )
    total = grouped.total()
    if total.weight_sum == 0.0:
        raise ValueError(
            "sample_weight sums to zero: at least one weight must be positive."
        )
    model = LinearRegression(fit_intercept=parsed.intercept, missing=options["missing"])
    p = inputs.x.shape[1]
    solved = model._solve(total, p, None)
    state = FitState(
        statistic=total,
        solve_factor=None,
        y_is_1d=True,
        target_names=tuple(parsed.targets),
        weighted_fit=weights is not None,
        formula=_fitted_formula(parsed, indicators, found_levels),
        dropped=dropped,
        clusters=grouped,
    )
    inputs.store_features(model)
    model._store_fit(state, solved, n_passes=1)
    return model


def fit_split(parsed, X, y, weights, split, *, indicators, found, **options):
    """The one pass of :func:`dask_linreg.ols` with ``split`` (arguments as
    :func:`fit_clustered`)."""
    grouped, inputs, _, found_levels = _grouped_pass(
        X, y, weights, split, "split", found=found, **options
    )
    result = SplitFit(
        grouped,
        inputs.features.names,
        _fitted_formula(parsed, indicators, found_levels),
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
