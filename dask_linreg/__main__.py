"""``python -m dask_linreg``: the ``dask-linreg`` command line."""

from dask_linreg.io._cli import entry_point

if __name__ == "__main__":
    entry_point()
