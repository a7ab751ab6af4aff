"""One-pass, scikit-learn compatible linear regression on Dask."""

from dask_linreg._version import __version__
from dask_linreg.inference._prediction import PredictionResults
from dask_linreg.inference._results import RegressionResults, TestResult
from dask_linreg.inference._summary import Summary
from dask_linreg.io._model_file import ModelFileError, load
from dask_linreg.linear_model._absorbed import FixedEffectsRegression
from dask_linreg.linear_model._base import SOLVERS
from dask_linreg.linear_model._elastic_net import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
)
from dask_linreg.linear_model._formula import design, fit_formula, ols
from dask_linreg.linear_model._least_squares import LinearRegression, Ridge
from dask_linreg.linear_model._ridge_cv import RidgeCV
from dask_linreg.linear_model._split import SplitFit
from dask_linreg.linear_model._warnings import AccuracyWarning

__all__ = [
    "AccuracyWarning",
    "ElasticNet",
    "ElasticNetCV",
    "FixedEffectsRegression",
    "Lasso",
    "LassoCV",
    "LinearRegression",
    "ModelFileError",
    "PredictionResults",
    "RegressionResults",
    "Ridge",
    "RidgeCV",
    "SOLVERS",
    "SplitFit",
    "Summary",
    "TestResult",
    "__version__",
    "design",
    "fit_formula",
    "load",
    "ols",
]
