"""Formulas: ``ols("y ~ x1 + C(region) + x1:C(region)", data)``,
:func:`fit_formula` for the other estimators, and :func:`design`."""

import numbers
from dataclasses import replace

from sklearn.base import clone

from dask_linreg._dask.columns import is_dask
from dask_linreg._dask.formula import design_frames, parse_formula, split_absorbed
from dask_linreg._dask.indicators import indicator_levels, with_indicators
from dask_linreg.linear_model._absorbed import FixedEffectsRegression
from dask_linreg.linear_model._elastic_net import ElasticNet
from dask_linreg.linear_model._least_squares import LinearRegression, Ridge
from dask_linreg.linear_model._split import fit_clustered, fit_split

__all__ = ["design", "fit_formula", "ols"]


def _parsed(formula, data):
    dtypes = getattr(data, "dtypes", None)
    if dtypes is None or getattr(data, "ndim", 0) != 2:
        raise TypeError(
            f"data must be a pandas or Dask DataFrame; got {type(data).__name__}."
        )
    return parse_formula(formula, dict(dtypes.items()))


def design(formula, data):
    """The design and target of a formula over a DataFrame, as ``fit`` takes them.

    Parameters
    ----------
    formula : str
        A Wilkinson formula, parsed by formulaic: ``"y ~ x1 + np.log(x2) +
        C(region) + x1:x3"``; ``- 1`` or ``+ 0`` for no intercept.  Numeric
        terms may be stateless transforms (``np.log``, ``I(x**2)``, products
        ``x1:x2``); ``C(column)`` or a column of category, string or bool
        dtype is categorical (``C(column, levels=[...])`` sets the order).
        Stateful transforms (``center``, ``scale``, ``poly``...) are
        refused; so are interactions with categorical columns
        (``x1:C(region)``), which a frame of columns cannot express: fit
        those with :func:`ols` or :func:`fit_formula`.
    data : pandas.DataFrame or dask.dataframe.DataFrame

    Returns
    -------
    X : DataFrame
        One column per term (formulaic's names: ``np.log(x2)``,
        ``C(region)``), lazy for Dask data (evaluated partition by
        partition in the fit's pass); categorical terms stay categorical
        columns, which the estimators expand.
    y : Series or DataFrame
        The left-hand side.
    fit_intercept : bool
        Whether the formula has an intercept: pass it to the estimator.

    Examples
    --------
    >>> import pandas as pd
    >>> from dask_linreg import Ridge, design
    >>> data = pd.DataFrame({"y": [1.0, 2.0, 4.0, 8.0], "x": [1.0, 2.0, 3.0, 4.0],
    ...                      "g": ["a", "b", "a", "b"]})
    >>> X, y, fit_intercept = design("y ~ I(x**2) + C(g)", data)
    >>> list(X.columns), fit_intercept
    (['I(x ** 2)', 'C(g)'], True)
    >>> list(Ridge(alpha=0.1, fit_intercept=fit_intercept).fit(X, y).coef_names_)
    ['I(x ** 2)', 'C(g)[a]', 'C(g)[b]']
    """
    parsed = _parsed(formula, data)
    if parsed.interactions:
        raise ValueError(
            f"formula {formula!r} interacts a categorical column with another "
            "column, which a design of one column per term cannot express: fit "
            "it with dask_linreg.ols(formula, data) or "
            "dask_linreg.fit_formula(estimator, formula, data)."
        )
    X, y = design_frames(data, parsed)
    return X, y, parsed.intercept


#: The estimators a formula fits (those taking categorical columns).
_FORMULA_ESTIMATORS = (LinearRegression, Ridge, ElasticNet)


def fit_formula(estimator, formula, data, *, weights=None):
    """Fit a copy of ``estimator`` from a formula, in one pass.

    Parameters
    ----------
    estimator : LinearRegression, Ridge, ElasticNet or Lasso
        Unfitted or fitted; it is not changed (a clone is fitted).
    formula : str
        A Wilkinson formula, parsed by formulaic, as in :func:`ols`:
        numeric terms and stateless transforms, ``C(column)`` and
        categorical columns, interactions of any of them (``x1:C(region)``
        is a slope per region, ``C(a):C(b)`` a level per pair); ``- 1`` for
        no intercept.  The formula's intercept sets ``fit_intercept``.
    data : pandas.DataFrame or dask.dataframe.DataFrame
    weights : str, array-like or dask collection, default=None
        A column of ``data`` by name, or one weight per row.

    Returns
    -------
    estimator
        The fitted clone.  Least squares takes formulaic's treatment coding
        (a factor's first level is the reference wherever the lower terms
        span it); the penalized models keep every level of every term (the
        penalty identifies them).  ``predict`` and ``score`` take a
        DataFrame with the raw columns.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from dask_linreg import Ridge, fit_formula
    >>> data = pd.DataFrame({"y": [1.0, 2.0, 4.0, 8.0], "x": [1.0, 2.0, 3.0, 4.0],
    ...                      "g": ["a", "b", "a", "b"]})
    >>> model = fit_formula(Ridge(alpha=0.1), "y ~ x:C(g)", data)
    >>> list(model.coef_names_)
    ['x:C(g)[a]', 'x:C(g)[b]']
    """
    check_formula_estimator(estimator)
    parsed = _parsed(formula, data)
    weights = _weights(weights, data)
    X, y = design_frames(data, parsed)
    model = clone(estimator)
    fit_terms(model, parsed, X, y, weights)
    model._fit_state = replace(model._fit_state, formula=parsed)
    return model


def check_formula_estimator(estimator):
    """Raise TypeError unless ``estimator`` fits a formula's terms."""
    if not isinstance(estimator, _FORMULA_ESTIMATORS):
        raise TypeError(
            "estimator must be a LinearRegression, Ridge, ElasticNet or Lasso "
            f"(the estimators that take categorical columns); got "
            f"{type(estimator).__name__}."
        )


def fit_terms(model, parsed, X, y, weights):
    """Fit ``model`` (its ``fit_intercept`` set from the formula) on the
    design frames of a parsed formula, with the formula's terms."""
    model.set_params(fit_intercept=parsed.intercept)
    model._fit(X, y, weights, formula_terms=parsed.model_terms)


def _weights(weights, data):
    """The weights of a formula fit: a column of ``data`` or one per row."""
    if isinstance(weights, str):
        if weights not in data.columns:
            raise ValueError(
                f"weights={weights!r} is not a column of data; it has: "
                f"{', '.join(map(str, data.columns))}."
            )
        return data[weights]
    if weights is not None and is_dask(data) != is_dask(weights):
        raise TypeError(
            "weights must be a column name, or in memory with in-memory data and "
            "a Dask collection with Dask data."
        )
    return weights


def ols(
    formula, data, *, weights=None, missing="raise", split=None, cluster=None, **params
):
    """Fit a :class:`LinearRegression` from a formula, in one pass.

    Parameters
    ----------
    formula : str
        As in :func:`fit_formula`: numeric terms and stateless transforms,
        categorical columns, and interactions of any of them
        (``x1:C(region)``, ``C(region):C(channel)``, ``x1 * C(region)``);
        ``- 1`` (or ``+ 0``) fits without intercept.
    data : pandas.DataFrame or dask.dataframe.DataFrame
    weights : str, array-like or dask collection, default=None
        Precision weights (statsmodels' ``wls``): a column of ``data`` by
        name, or one weight per row.
    missing : {"raise", "drop"}, default="raise"
        ``"drop"`` leaves out the rows with a missing value (NaN, None,
        ``pd.NA``) in any column the formula uses, the weights included,
        as statsmodels' ``missing="drop"``; ``summary()`` shows how many.
    cluster : str or list of two str, default=None
        A column of ``data``: keep each cluster's statistics in the pass, so
        that ``inference(cov_type="cluster")`` (CR1) and ``"CRV3"`` (the
        cluster jackknife) need no data and no second pass; memory as for
        ``split``.  Two columns: clustered two ways (Cameron, Gelbach &
        Miller; pyfixest's ``{"CRV1": "firm+year"}``), the statistics of
        each clustering and of their intersection kept (memory as for
        ``split`` by each of the three).  With an absorbed part, any
        column(s) of ``data``: the pass keeps each combination of absorbed
        levels and cluster, ``(q + k + 4) * 8`` bytes, and each cluster's
        within co-moments, ``q**2 * 8`` bytes; ``"CRV3"`` where every
        absorbed column is nested in the clusters.
    split : str, default=None
        A column of ``data``: fit one model per group, in one pass, and
        return a :class:`~dask_linreg.SplitFit` (per-group coefficients, standard
        errors, R² and counts, and each group's model).  With ``split`` or
        ``cluster``, and with an absorbed part, categorical terms enter as
        the indicators of their levels but the first, the levels known
        before the pass or found in it (Dask columns of strings); they are
        main effects only.
    **params
        Other parameters of :class:`LinearRegression` (``solver``,
        ``max_levels``, ``handle_unknown``, ``split_every``); with ``split``,
        ``split_every``, ``split_out`` (merge the groups' statistics in that
        many trees of hashed groups) and ``max_bytes`` (the most bytes of per-group
        statistics, about ``(q**2 + q + 5) * 8`` per group for ``q`` columns
        of ``[X | y]``; default a quarter of this machine's memory).

    Returns
    -------
    LinearRegression
        Fitted; ``coef_names_`` as statsmodels names them
        (``C(region)[T.b]``), ``summary()`` and ``inference()`` as usual, and
        ``predict`` / ``score`` take a DataFrame with the raw columns (the
        formula's terms are evaluated on it).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from dask_linreg import ols
    >>> rng = np.random.default_rng(0)
    >>> data = pd.DataFrame({"x": rng.uniform(1, 2, 200), "g": rng.choice(["a", "b"], 200)})
    >>> data["y"] = 1 + 2 * np.log(data.x) + (data.g == "b") + 0.01 * rng.normal(size=200)
    >>> model = ols("y ~ np.log(x) + C(g)", data)
    >>> dict(zip(model.coef_names_, model.coef_.round(2)))
    {'np.log(x)': np.float64(2.0), 'C(g)[T.b]': np.float64(1.0)}
    >>> model.predict(data.head(2)).round(2)
    array([2.98, 1.48])
    """
    if "fit_intercept" in params:
        raise TypeError(
            "ols() takes the intercept from the formula ('- 1' removes it), not "
            "fit_intercept."
        )
    main, absorbed = split_absorbed(formula)
    if split is not None or cluster is not None:
        return _fit_keyed(
            main, absorbed, split, cluster, data, weights, missing, params
        )
    if absorbed:
        return _fit_absorbed(main, absorbed, data, weights, missing, params)
    return fit_formula(
        LinearRegression(missing=missing, **params), formula, data, weights=weights
    )


def _fit_keyed(formula, absorbed, split, cluster, data, weights, missing, params):
    """``ols(..., split="store")`` (one model per group) or ``ols(...,
    cluster="firm")`` (the clusters' moments kept): one pass keyed by a
    column."""
    argument, column = ("split", split) if split is not None else ("cluster", cluster)
    if split is not None and cluster is not None:
        raise ValueError("split= and cluster= together are not supported yet.")
    if absorbed and split is not None:
        raise ValueError(
            "split= and an absorbed part ('|') together are not supported: a "
            "split model has its own intercepts already."
        )
    two_way = cluster is not None and not isinstance(cluster, str)
    if two_way:
        column = list(column) if isinstance(column, (list, tuple)) else column
        if not isinstance(column, list) or len(column) != 2 or column[0] == column[1]:
            raise ValueError(
                f"cluster={cluster!r}: give one column of data, or a list of two "
                "different columns for two-way clustering."
            )
    for name in column if two_way else [column]:
        if not isinstance(name, str) or name not in data.columns:
            raise ValueError(
                f"{argument}={name!r} is not a column of data; it has: "
                f"{', '.join(map(str, data.columns))}."
            )
    if absorbed:
        return _fit_absorbed(
            formula,
            absorbed,
            data,
            weights,
            missing,
            params,
            clusters=tuple(column) if two_way else (column,),
        )
    unknown = set(params) - {"split_every", "split_out", "max_bytes"}
    if unknown:
        raise TypeError(
            f"ols() with {argument} takes split_every, split_out and max_bytes; "
            f"got {', '.join(sorted(unknown))}."
        )
    split_out = params.get("split_out", 1)
    if not isinstance(split_out, numbers.Integral) or split_out < 1:
        raise ValueError(f"split_out must be a positive integer; got {split_out!r}.")
    parsed = _parsed(formula, data)
    if parsed.interactions:
        raise ValueError(
            f"formula {formula!r} interacts a categorical term with another "
            f"column: with {argument}=, categorical terms enter as main effects "
            "only."
        )
    if parsed.factors and not parsed.intercept:
        raise ValueError(
            f"formula {formula!r} has categorical terms and no intercept: with "
            f"{argument}=, they enter as the indicators of their levels but the "
            "first, which needs the intercept; keep it (drop '- 1')."
        )
    if len(parsed.targets) != 1:
        raise ValueError(f"{argument}= fits one target; the formula has several.")
    weights = _weights(weights, data)
    X, y = design_frames(data, parsed, keep=column if two_way else [column])
    # Categorical terms: indicators of their known levels, or of the levels
    # the pass finds.
    levels, found = indicator_levels(X, parsed.factors)
    X = with_indicators(X, levels)
    fit = fit_split if split is not None else fit_clustered
    return fit(
        parsed,
        X,
        y,
        weights,
        column,
        indicators=levels,
        found=found,
        missing=missing,
        split_every=params.get("split_every"),
        max_bytes=params.get("max_bytes"),
        split_out=int(split_out),
    )


def _fit_absorbed(formula, absorbed, data, weights, missing, params, clusters=()):
    """``ols("y ~ x | firm + year")``: a :class:`FixedEffectsRegression` of
    the formula's terms (its intercept absorbed too)."""
    parsed = _parsed(formula, data)
    if len(set(absorbed)) != len(absorbed):
        raise ValueError(
            f"formula {formula!r} absorbs a column twice: {' + '.join(absorbed)}."
        )
    for absorb in absorbed:
        if absorb not in data.columns:
            raise ValueError(
                f"the absorbed column {absorb!r} is not a column of data; it has: "
                f"{', '.join(map(str, data.columns))}."
            )
    if parsed.interactions:
        raise ValueError(
            f"formula {formula!r} interacts a categorical term with another "
            f"column besides the absorbed {' + '.join(absorbed)}: with fixed "
            "effects, categorical terms enter as main effects only."
        )
    weights = _weights(weights, data)
    kept = [*absorbed, *(c for c in clusters if c not in absorbed)]
    X, y = design_frames(data, parsed, keep=kept)
    # Categorical terms enter as treatment-coded indicators: of their known
    # levels as columns of the design, of the levels found in the pass
    # otherwise.
    levels, found = indicator_levels(X, parsed.factors)
    X = with_indicators(X, levels)
    model = FixedEffectsRegression(
        absorbed[0] if len(absorbed) == 1 else list(absorbed),
        missing=missing,
        **params,
    )
    return model._fit(
        X,
        y,
        weights,
        clusters=clusters,
        formula=parsed,
        found=found,
        indicators=levels,
    )
