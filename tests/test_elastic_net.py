"""ElasticNet, Lasso and their CV versions against scikit-learn."""

import dask
import dask.array as da
import numpy as np
import pytest
from sklearn import linear_model as sk

from dask_linreg import ElasticNet, ElasticNetCV, Lasso, LassoCV
from dask_linreg._folds import assign_folds

TIGHT = {"tol": 1e-12, "max_iter": 100_000}


def sparse_data(n=800, k=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8)) + 2.0
    coef = np.array([1.0, -2.0, 0, 0, 0.5, 0, 0, 3.0])
    targets = 1 if k is None else k
    Y = (X @ coef)[:, None] * np.arange(1, targets + 1) + 2 * rng.standard_normal(
        (n, targets)
    )
    return X, (Y[:, 0] if k is None else Y), rng.uniform(0.5, 2.0, n)


def dask_inputs(chunks, *arrays):
    return [a if chunks is None else da.from_array(a, chunks=chunks) for a in arrays]


@pytest.mark.parametrize("chunks", [None, 97])
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (ElasticNet(alpha=0.3, l1_ratio=0.7), sk.ElasticNet(alpha=0.3, l1_ratio=0.7)),
        (Lasso(alpha=0.05), sk.Lasso(alpha=0.05)),
        (
            ElasticNet(alpha=0.1, fit_intercept=False, positive=True),
            sk.ElasticNet(alpha=0.1, fit_intercept=False, positive=True),
        ),
    ],
    ids=["enet", "lasso", "positive-no-intercept"],
)
def test_coefficients_match_sklearn_on_weighted_multioutput_data(ours, theirs, chunks):
    X, Y, w = sparse_data(k=2, seed=1)
    ours = ours.set_params(**TIGHT).fit(*dask_inputs(chunks, X, Y, w))
    theirs = theirs.set_params(**TIGHT).fit(X, Y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        ours.intercept_, theirs.intercept_, rtol=1e-8, atol=1e-10
    )
    assert ours.n_passes_ == 1


def test_default_tolerance_stops_where_sklearn_stops():
    X, y, _ = sparse_data(seed=2)
    ours = Lasso(alpha=0.02).fit(X, y)
    theirs = sk.Lasso(alpha=0.02).fit(X, y)
    # Same iterates and stopping rule: agreement far inside the tolerance.
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("chunks", [None, 150])
def test_elastic_net_cv_matches_sklearn_on_the_same_folds(chunks):
    X, y, w = sparse_data(seed=3)
    folds = assign_folds([X], [y[:, None]], 5)
    splits = [
        (np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(5)
    ]
    ratios = [0.2, 0.7, 1.0]
    ours = ElasticNetCV(l1_ratio=ratios, cv=5, **TIGHT).fit(
        *dask_inputs(chunks, X, y, w)
    )
    theirs = sk.ElasticNetCV(l1_ratio=ratios, cv=splits, **TIGHT).fit(
        X, y, sample_weight=w
    )
    assert (ours.alpha_, ours.l1_ratio_) == pytest.approx(
        (theirs.alpha_, theirs.l1_ratio_), rel=1e-12
    )
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-8)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-8)


def test_lasso_cv_with_fold_labels_and_an_explicit_grid_matches_sklearn():
    X, y, _ = sparse_data(seed=4)
    labels = np.arange(len(y)) % 4
    splits = [
        (np.flatnonzero(labels != k), np.flatnonzero(labels == k)) for k in range(4)
    ]
    grid = [1.0, 0.3, 0.1, 0.03, 0.01]
    ours = LassoCV(alphas=grid, cv=labels, **TIGHT).fit(X, y)
    theirs = sk.LassoCV(alphas=grid, cv=splits, **TIGHT).fit(X, y)
    assert ours.alpha_ == theirs.alpha_
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-8)
    np.testing.assert_array_equal(ours.folds_, np.arange(4))


def test_cv_over_folds_path_and_l1_ratios_reads_the_data_once():
    X, y, _ = sparse_data(n=2000, seed=5)
    computes = []

    def counting_scheduler(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        model = ElasticNetCV(l1_ratio=[0.1, 0.5, 0.9], alphas=100, cv=5).fit(
            da.from_array(X, chunks=300), da.from_array(y, chunks=300)
        )
    assert len(computes) == 1
    assert model.mse_path_.shape == (3, 100, 5)


def test_elastic_net_errors_name_the_problem():
    X, y, _ = sparse_data(n=100, seed=6)
    with pytest.raises(ValueError, match="alpha must be a number >= 0"):
        ElasticNet(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio must be a number >= 0 and <= 1"):
        ElasticNet(l1_ratio=1.5).fit(X, y)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        Lasso(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="takes one target"):
        LassoCV().fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="l1_ratio=0 needs an explicit alphas grid"):
        ElasticNetCV(l1_ratio=[0.0, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio must be a number or a 1-D array"):
        ElasticNetCV(l1_ratio=[2.0]).fit(X, y)
