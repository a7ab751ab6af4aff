"""One-pass, scikit-learn compatible linear regression on Dask."""

from dask_linreg._linear_model import SOLVERS, AccuracyWarning, LinearRegression, Ridge

__version__ = "0.1.0"

__all__ = ["AccuracyWarning", "LinearRegression", "Ridge", "SOLVERS", "__version__"]
