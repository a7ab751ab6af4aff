"""The numerical core: plain NumPy/SciPy functions on arrays (statistics,
merging, solving, inference sums).  Never imports Dask or an estimator."""
