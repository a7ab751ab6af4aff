"""Formulas: ``ols("y ~ x1 + np.log(x2) + C(region)", data)`` and
:func:`design` for every estimator."""

from dataclasses import replace

from dask_linreg._dask.columns import is_dask
from dask_linreg._dask.formula import design_frames, parse_formula
from dask_linreg.linear_model._least_squares import LinearRegression

__all__ = ["design", "ols"]


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
        Stateful transforms (``center``, ``scale``, ``poly``...) and
        interactions with categorical columns are refused.
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
    X, y = design_frames(data, parsed)
    return X, y, parsed.intercept


def ols(formula, data, *, weights=None, missing="raise", **params):
    """Fit a :class:`LinearRegression` from a formula, in one pass.

    Parameters
    ----------
    formula : str
        As in :func:`design`.  ``- 1`` (or ``+ 0``) fits without intercept.
    data : pandas.DataFrame or dask.dataframe.DataFrame
    weights : str, array-like or dask collection, default=None
        Precision weights (statsmodels' ``wls``): a column of ``data`` by
        name, or one weight per row.
    missing : {"raise", "drop"}, default="raise"
        ``"drop"`` leaves out the rows with a missing value (NaN, None,
        ``pd.NA``) in any column the formula uses, the weights included,
        as statsmodels' ``missing="drop"``; ``summary()`` shows how many.
    **params
        Other parameters of :class:`LinearRegression` (``solver``,
        ``max_levels``, ``handle_unknown``, ``split_every``).

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
    parsed = _parsed(formula, data)
    if isinstance(weights, str):
        if weights not in data.columns:
            raise ValueError(
                f"weights={weights!r} is not a column of data; it has: "
                f"{', '.join(map(str, data.columns))}."
            )
        weights = data[weights]
    elif weights is not None and is_dask(data) != is_dask(weights):
        raise TypeError(
            "weights must be a column name, or in memory with in-memory data and "
            "a Dask collection with Dask data."
        )
    X, y = design_frames(data, parsed)
    model = LinearRegression(fit_intercept=parsed.intercept, missing=missing, **params)
    model.fit(X, y, sample_weight=weights)
    model._fit_state = replace(model._fit_state, formula=parsed)
    return model
