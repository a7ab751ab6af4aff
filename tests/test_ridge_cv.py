"""RidgeCV against scikit-learn's GridSearchCV on the same folds."""

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge as SkRidge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, PredefinedSplit

from dask_linreg import Ridge, RidgeCV
from dask_linreg._folds import assign_folds

from .conftest import make_regression

ALPHAS = np.logspace(-2, 4, 50)


def noisy_data(n=1500, p=6, k=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 3.0
    targets = 1 if k is None else k
    Y = X @ rng.standard_normal((p, targets)) + 4.0 * rng.standard_normal((n, targets))
    return X, (Y[:, 0] if k is None else Y)


def grid_search(X, y, folds, scoring):
    search = GridSearchCV(
        SkRidge(), {"alpha": ALPHAS}, cv=PredefinedSplit(folds), scoring=scoring
    )
    return search.fit(X, y)


@pytest.mark.parametrize("scoring", ["neg_mean_squared_error", "r2"])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_kfold_scores_and_choice_match_grid_search_on_the_same_folds(
    scoring, n_targets
):
    X, y = noisy_data(k=n_targets, seed=1)
    folds = assign_folds([X], [y.reshape(len(y), -1)], 5)
    reference = grid_search(X, y, folds, scoring)
    for chunks in [None, 150, 1000]:  # NumPy, then Dask in two chunkings
        Xc = X if chunks is None else da.from_array(X, chunks=chunks)
        yc = y if chunks is None else da.from_array(y, chunks=chunks)
        model = RidgeCV(alphas=ALPHAS, cv=5, scoring=scoring).fit(Xc, yc)
        assert model.alpha_ == reference.best_params_["alpha"]
        np.testing.assert_allclose(
            model.scores_, reference.cv_results_["mean_test_score"], rtol=1e-8
        )
        np.testing.assert_allclose(model.best_score_, reference.best_score_, rtol=1e-8)
        np.testing.assert_array_equal(model.folds_, np.arange(5))
        refit = SkRidge(alpha=model.alpha_).fit(X, y)
        np.testing.assert_allclose(model.coef_, refit.coef_, rtol=1e-10)
        np.testing.assert_allclose(model.intercept_, refit.intercept_, rtol=1e-10)


def test_fold_labels_from_a_dask_dataframe_give_grouped_cross_validation():
    X, y = noisy_data(seed=2)
    groups = np.repeat(np.array(["2023", "2024", "2025", "2026"]), 375)
    frame = pd.DataFrame(X, columns=list("abcdef")).assign(y=y, year=groups)
    ddf = dd.from_pandas(frame, npartitions=6)
    model = RidgeCV(alphas=ALPHAS, cv=ddf["year"], scoring="neg_mean_squared_error")
    model.fit(ddf[list("abcdef")], ddf["y"])
    codes = pd.factorize(groups, sort=True)[0]
    reference = grid_search(X, y, codes, "neg_mean_squared_error")
    assert list(model.folds_) == ["2023", "2024", "2025", "2026"]
    assert model.alpha_ == reference.best_params_["alpha"]
    np.testing.assert_allclose(
        model.fold_scores_[:, :, 0].T,
        np.array([reference.cv_results_[f"split{i}_test_score"] for i in range(4)]).T,
        rtol=1e-8,
    )


def test_weighted_fold_scores_match_weighted_refits(rng):
    X, y = noisy_data(n=600, seed=3)
    w = rng.uniform(0.2, 3.0, 600)
    labels = np.arange(600) % 3
    alphas = np.array([0.5, 50.0])
    model = RidgeCV(alphas=alphas, cv=labels, scoring="neg_mean_squared_error")
    model.fit(X, y, sample_weight=w)
    on_dask = RidgeCV(alphas=alphas, cv=da.from_array(labels, chunks=77))
    on_dask.set_params(scoring="neg_mean_squared_error")
    on_dask.fit(*(da.from_array(a, chunks=77) for a in (X, y, w)))
    np.testing.assert_allclose(on_dask.fold_scores_, model.fold_scores_, rtol=1e-12)
    for fold in range(3):
        train, test = labels != fold, labels == fold
        for a, alpha in enumerate(alphas):
            fitted = SkRidge(alpha=alpha).fit(X[train], y[train], w[train])
            expected = -mean_squared_error(
                y[test], fitted.predict(X[test]), sample_weight=w[test]
            )
            np.testing.assert_allclose(
                model.fold_scores_[fold, a, 0], expected, rtol=1e-9
            )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gcv_matches_the_hat_matrix_computed_densely(fit_intercept, rng):
    X, y = noisy_data(n=300, p=4, seed=4)
    w = rng.uniform(0.5, 2.0, 300)
    alphas = np.array([0.1, 3.0, 300.0])
    model = RidgeCV(alphas=alphas, fit_intercept=fit_intercept).fit(X, y, w)
    root = np.sqrt(w)
    expected = []
    for alpha in alphas:
        if fit_intercept:
            mean_x, mean_y = w @ X / w.sum(), w @ y / w.sum()
            xc, yc = (X - mean_x) * root[:, None], (y - mean_y) * root
            slopes = xc @ np.linalg.solve(xc.T @ xc + alpha * np.eye(4), xc.T)
            residual = yc - slopes @ yc
            # The intercept's column sqrt(w) / sqrt(W) adds 1 to the trace.
            hat = slopes + np.outer(root, root) / w.sum()
        else:
            xw = X * root[:, None]
            hat = xw @ np.linalg.solve(xw.T @ xw + alpha * np.eye(4), xw.T)
            residual = y * root - hat @ (y * root)
        n = 300
        expected.append(-(residual @ residual / n) / (1 - np.trace(hat) / n) ** 2)
    np.testing.assert_allclose(model.scores_, expected, rtol=1e-10)
    assert model.alpha_ == alphas[int(np.argmax(expected))]
    assert model.fold_scores_ is None and model.folds_ is None


def test_alpha_per_target_equals_separate_searches():
    X, Y = noisy_data(k=3, seed=5)
    Y[:, 2] *= 0.01  # a target that wants another penalty
    model = RidgeCV(alphas=ALPHAS, cv=4, alpha_per_target=True).fit(X, Y)
    folds = assign_folds([X], [Y], 4)
    assert model.alpha_.shape == (3,)
    for t in range(3):
        reference = grid_search(X, Y[:, t], folds, "r2")
        assert model.alpha_[t] == reference.best_params_["alpha"]
        single = Ridge(alpha=model.alpha_[t]).fit(X, Y[:, t])
        np.testing.assert_allclose(model.coef_[t], single.coef_, rtol=1e-10)


def test_five_folds_and_fifty_alphas_read_the_data_once():
    X, y = make_regression(2000, 5, seed=6)
    computes = []

    def counting_scheduler(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        model = RidgeCV(alphas=ALPHAS, cv=5).fit(
            da.from_array(X, chunks=300), da.from_array(y, chunks=300)
        )
    assert len(computes) == 1 and model.n_passes_ == 1
    assert model.fold_scores_.shape == (5, 50, 1)


def test_fold_assignment_depends_on_the_rows_not_their_order():
    X, y = noisy_data(n=500, seed=7)
    folds = assign_folds([X], [y[:, None]], 5)
    permutation = np.random.default_rng(0).permutation(500)
    shuffled = assign_folds([X[permutation]], [y[permutation, None]], 5)
    np.testing.assert_array_equal(shuffled, folds[permutation])
    assert np.bincount(folds).min() > 70  # about 100 each


def test_ridge_cv_errors_name_the_problem():
    X, y = noisy_data(n=100, seed=8)
    with pytest.raises(ValueError, match="alphas must be positive"):
        RidgeCV(alphas=[0.0, 1.0]).fit(X, y)
    with pytest.raises(ValueError, match="cv must be at least 2 folds"):
        RidgeCV(cv=1).fit(X, y)
    with pytest.raises(ValueError, match="scoring must be one of"):
        RidgeCV(scoring="accuracy").fit(X, y)
    with pytest.raises(ValueError, match="scoring='r2' needs folds"):
        RidgeCV(scoring="r2").fit(X, y)
    with pytest.raises(ValueError, match="at least 2 folds"):
        RidgeCV(cv=np.zeros(100)).fit(X, y)
    with pytest.raises(ValueError, match="X has 100 rows but groups has 99"):
        RidgeCV(cv=np.zeros(99)).fit(X, y)


def test_scikit_learn_splitters_are_accepted_when_they_partition_the_rows():
    from sklearn.model_selection import KFold, ShuffleSplit

    X, y = noisy_data(n=400, seed=9)
    splitter = KFold(4, shuffle=True, random_state=0)
    model = RidgeCV(alphas=ALPHAS, cv=splitter, scoring="neg_mean_squared_error")
    model.fit(da.from_array(X, chunks=90), da.from_array(y, chunks=90))
    reference = GridSearchCV(
        SkRidge(), {"alpha": ALPHAS}, cv=splitter, scoring="neg_mean_squared_error"
    ).fit(X, y)
    assert model.alpha_ == reference.best_params_["alpha"]
    np.testing.assert_allclose(
        model.scores_, reference.cv_results_["mean_test_score"], rtol=1e-8
    )
    with pytest.raises(ValueError, match="hold out each row exactly once"):
        RidgeCV(cv=ShuffleSplit(3, random_state=0)).fit(X, y)


def test_empty_partitions_are_skipped_and_no_rows_at_all_is_an_error():
    import pandas as pd

    X, y = noisy_data(n=300, seed=10)
    frame = pd.DataFrame(X, columns=list("abcdef")).assign(y=y)
    ddf = dd.from_pandas(frame, npartitions=4)
    filtered = ddf[ddf["a"] > 100.0]  # every partition empty
    with pytest.raises(ValueError, match="0 sample"):
        RidgeCV(cv=3).fit(filtered[list("abcdef")], filtered["y"])
    some = ddf[ddf["a"] < np.inf].loc[:149]  # later partitions empty
    model = RidgeCV(alphas=ALPHAS, cv=3).fit(some[list("abcdef")], some["y"])
    reference = RidgeCV(alphas=ALPHAS, cv=3).fit(X[:150], y[:150])
    np.testing.assert_allclose(model.scores_, reference.scores_, rtol=1e-10)


def test_fitted_r2_from_the_statistics_equals_score(rng):
    from dask_linreg._combine import convert
    from dask_linreg._folds import fitted_r2

    X, y = noisy_data(n=500, p=3, seed=11)
    w = rng.uniform(0.5, 2.0, 500)
    for model in (Ridge(alpha=3.0), Ridge(alpha=3.0, solver="exact")):
        model.fit(X, y, w)
        kind, statistic = model._statistic[:2]
        moments = convert(statistic, kind, "moments")
        r2 = fitted_r2(moments, 3, model.coef_, float(model.intercept_))
        np.testing.assert_allclose(r2, model.score(X, y, w), rtol=1e-12)
