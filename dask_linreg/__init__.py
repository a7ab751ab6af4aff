"""One-pass, scikit-learn compatible linear regression on Dask."""

from dask_linreg._version import __version__
from dask_linreg.inference._results import (
    PredictionResults,
    RegressionResults,
    Summary,
    TestResult,
)
from dask_linreg.io._model_file import ModelFileError, load
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
