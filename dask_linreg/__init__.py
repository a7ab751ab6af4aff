"""One-pass, scikit-learn compatible linear regression on Dask."""

from dask_linreg._linear_model import LinearRegression, Ridge

__version__ = "0.1.0"

__all__ = ["LinearRegression", "Ridge", "__version__"]
