import threading

import numpy as np
import pytest


def make_regression(n_samples, n_features, n_targets=None, *, seed=0, offset=0.0):
    """Well-conditioned regression data; y is 1-D when n_targets is None."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) + offset
    k = 1 if n_targets is None else n_targets
    coef = rng.standard_normal((n_features, k))
    y = X @ coef + 0.5 + 0.1 * rng.standard_normal((n_samples, k))
    return X, (y[:, 0] if n_targets is None else y)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


class CountingSource:
    """An array-like that counts the elements read from it."""

    def __init__(self, array):
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.ndim = array.ndim
        self.elements_read = 0
        self._lock = threading.Lock()

    def __getitem__(self, index):
        block = self.array[index]
        with self._lock:
            self.elements_read += block.size
        return block


@pytest.fixture
def computes():
    """The computes Dask runs in the test (each a list of keys), run by the
    synchronous scheduler."""
    import dask

    seen = []

    def counting_scheduler(dsk, keys, **kwargs):
        seen.append(keys)
        return dask.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        yield seen
