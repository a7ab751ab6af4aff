"""The estimators: parameters, fit/predict/score, fitted attributes."""

from dask_linreg.linear_model._base import SOLVERS
from dask_linreg.linear_model._elastic_net import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
)
from dask_linreg.linear_model._least_squares import LinearRegression, Ridge
from dask_linreg.linear_model._ridge_cv import RidgeCV
from dask_linreg.linear_model._warnings import AccuracyWarning

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
