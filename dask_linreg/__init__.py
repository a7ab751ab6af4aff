"""One-pass, scikit-learn compatible linear regression on Dask."""

from dask_linreg._elastic_net import ElasticNet, ElasticNetCV, Lasso, LassoCV
from dask_linreg._linear_model import SOLVERS, AccuracyWarning, LinearRegression, Ridge
from dask_linreg._persistence import ModelFileError, load
from dask_linreg._results import (
    PredictionResults,
    RegressionResults,
    Summary,
    TestResult,
)
from dask_linreg._ridge_cv import RidgeCV

__version__ = "0.1.0"

__all__ = [
    "AccuracyWarning",
    "ElasticNet",
    "ElasticNetCV",
    "Lasso",
    "LassoCV",
    "LinearRegression",
    "ModelFileError",
    "PredictionResults",
    "RegressionResults",
    "Ridge",
    "RidgeCV",
    "SOLVERS",
    "Summary",
    "TestResult",
    "__version__",
    "load",
]
