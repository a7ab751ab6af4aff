"""Helpers of the panel tests: pyfixest as the oracle, the data as pandas or Dask."""

import warnings

import dask.dataframe as dd
import pyfixest

FORMULA = "y ~ x1 + x2"


def feols(formula, data, vcov="iid", **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyfixest.feols(formula, data, vcov=vcov, **options)


def source(panel, partitions):
    return panel if partitions is None else dd.from_pandas(panel, partitions)
