"""The estimators: parameters, fit/predict/score, fitted attributes."""

from dask_linreg.linear_model._base import (
    SOLVERS,
    AccuracyWarning,
    LinearRegression,
    Ridge,
)
from dask_linreg.linear_model._elastic_net import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
)
from dask_linreg.linear_model._ridge_cv import RidgeCV

__all__ = [
    "AccuracyWarning",
    "ElasticNet",
    "ElasticNetCV",
    "Lasso",
    "LassoCV",
    "LinearRegression",
    "Ridge",
    "RidgeCV",
    "SOLVERS",
]
