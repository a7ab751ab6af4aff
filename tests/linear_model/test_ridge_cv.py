"""RidgeCV against scikit-learn's GridSearchCV on the same folds."""

import copy

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
from dask_linreg._numerics.cv import assign_folds

from ..conftest import make_regression

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
    with pytest.raises(
        ValueError,
        match=r"The 'alphas' parameter of RidgeCV must be a float in the range "
        r"\(0\.0, inf\) or .* Got \[0\.0, 1\.0\] instead\.",
    ):
        RidgeCV(alphas=[0.0, 1.0]).fit(X, y)
    with pytest.raises(
        ValueError, match=r"The 'cv' parameter .* Got 1 instead\. Use cv=None"
    ):
        RidgeCV(cv=1).fit(X, y)
    with pytest.raises(
        ValueError,
        match="The 'scoring' parameter of RidgeCV must be None or a str among "
        "{'neg_mean_squared_error', 'r2'}. Got 'accuracy' instead.",
    ):
        RidgeCV(scoring="accuracy").fit(X, y)
    with pytest.raises(ValueError, match="scoring='r2' needs folds"):
        RidgeCV(scoring="r2").fit(X, y)
    with pytest.raises(ValueError, match="at least 2 folds"):
        RidgeCV(cv=np.zeros(100)).fit(X, y)
    with pytest.raises(ValueError, match="X has 100 rows but cv has 99"):
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
    from dask_linreg._numerics.cv import fitted_r2
    from dask_linreg._numerics.moments import Moments

    X, y = noisy_data(n=500, p=3, seed=11)
    w = rng.uniform(0.5, 2.0, 500)
    for model in (Ridge(alpha=3.0), Ridge(alpha=3.0, solver="exact")):
        model.fit(X, y, w)
        moments = model._fit_state.statistic.to_kind(Moments)
        r2 = fitted_r2(moments, 3, model.coef_, float(model.intercept_))
        np.testing.assert_allclose(r2, model.score(X, y, w), rtol=1e-12)


def test_group_and_stratified_splitters_get_groups_and_y_like_grid_search():
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    X, y = noisy_data(n=600, seed=12)
    groups = np.repeat(np.arange(12), 50)
    splitter = GroupKFold(4)
    reference = GridSearchCV(
        SkRidge(), {"alpha": ALPHAS}, cv=splitter, scoring="neg_mean_squared_error"
    ).fit(X, y, groups=groups)
    frame = pd.DataFrame(X, columns=list("abcdef"))
    for data in (X, frame, da.from_array(X, chunks=150)):
        target = da.from_array(y, chunks=150) if isinstance(data, da.Array) else y
        model = RidgeCV(alphas=ALPHAS, cv=splitter, scoring="neg_mean_squared_error")
        model.fit(data, target, groups=groups)
        assert model.alpha_ == reference.best_params_["alpha"]
        np.testing.assert_allclose(
            model.scores_, reference.cv_results_["mean_test_score"], rtol=1e-8
        )
    # StratifiedKFold stratifies class labels: an integer-valued target.
    classes = np.clip(np.round(y / 4.0), -3, 2)
    stratified = StratifiedKFold(3, shuffle=True, random_state=0)
    reference = GridSearchCV(SkRidge(), {"alpha": ALPHAS}, cv=stratified).fit(
        X, classes
    )
    model = RidgeCV(alphas=ALPHAS, cv=stratified).fit(X, classes)
    assert model.alpha_ == reference.best_params_["alpha"]
    np.testing.assert_allclose(
        model.scores_, reference.cv_results_["mean_test_score"], rtol=1e-8
    )


def test_splitters_that_cannot_split_say_which_and_what_to_pass():
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    X, y = noisy_data(n=120, seed=13)
    groups = np.arange(120) % 6
    with pytest.raises(
        ValueError,
        match=r"cv=GroupKFold\(.*\) splits by groups: "
        r"pass them to fit, as fit\(X, y, groups=groups\)",
    ):
        RidgeCV(cv=GroupKFold(3)).fit(X, y)
    with pytest.raises(ValueError, match=r"cv=KFold\(.*\) does not use groups"):
        RidgeCV(cv=KFold(3)).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="cv=5 does not take them.*cv=groups"):
        RidgeCV(cv=5).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="cv=None .* has no folds"):
        RidgeCV().fit(X, y, groups=groups)
    with pytest.raises(ValueError, match=r"one label per row of X \(120\)"):
        RidgeCV(cv=GroupKFold(3)).fit(X, y, groups=groups[:-1])
    Xd, yd = da.from_array(X, chunks=40), da.from_array(y, chunks=40)
    with pytest.raises(ValueError, match=r"groups is a Dask collection.*cv=groups"):
        RidgeCV(cv=GroupKFold(3)).fit(Xd, yd, groups=da.from_array(groups, chunks=40))
    with pytest.raises(
        ValueError,
        match=r"cv=StratifiedKFold\(.*\) could not make its splits: Supported target "
        r"types are.*'continuous'.*needs class labels.*use KFold",
    ):
        RidgeCV(cv=StratifiedKFold(3)).fit(X, y)
    with pytest.raises(ValueError, match=r"could not make its splits.*With Dask input"):
        RidgeCV(cv=StratifiedKFold(3)).fit(Xd, yd)


def test_r2_of_a_fold_with_a_constant_target_is_sklearns_not_minus_inf():
    from sklearn.model_selection import PredefinedSplit

    X, y = noisy_data(n=300, seed=14)
    folds = np.arange(300) % 3
    y = y.copy()
    y[folds == 1] = 2.0  # a fold whose target is constant
    alphas = np.array([0.1, 10.0, 1000.0])
    model = RidgeCV(alphas=alphas, cv=folds, scoring="r2").fit(X, y)
    reference = GridSearchCV(
        SkRidge(), {"alpha": alphas}, cv=PredefinedSplit(folds), scoring="r2"
    ).fit(X, y)
    np.testing.assert_array_equal(model.fold_scores_[1, :, 0], 0.0)
    np.testing.assert_allclose(
        model.scores_, reference.cv_results_["mean_test_score"], rtol=1e-9
    )
    assert np.isfinite(model.best_score_)
    assert model.alpha_ == reference.best_params_["alpha"]
    # A constant target everywhere is predicted perfectly: R² = 1 on every
    # fold, a tie of all penalties, won by the largest.
    model = RidgeCV(alphas=alphas, cv=folds, scoring="r2").fit(X, np.full(300, 2.0))
    np.testing.assert_array_equal(model.fold_scores_, 1.0)
    assert model.alpha_ == 1000.0 and model.best_score_ == 1.0


def near_deterministic_data():
    """Columns at 1e4 +- 1, y about 6e5, noise 1e-6: fold MSEs about 1e-12,
    a factor 1e-15 below the spread of y (which the cross-products carry)."""
    rng = np.random.default_rng(0)
    X = 1e4 + rng.uniform(-1.0, 1.0, (3000, 3))
    y = X @ [10.0, 20.0, 30.0] + 1e-6 * rng.standard_normal(3000)
    # Shifted data with the same fits: X - 1e4 and y - 6e5 are exact in
    # float64 (Sterbenz), and a model with an intercept is shift-invariant.
    shifted = X - 1e4, y - 6e5
    assert np.array_equal(shifted[0] + 1e4, X) and np.array_equal(shifted[1] + 6e5, y)
    return X, y, shifted, np.arange(3000) % 4


def test_fold_errors_of_a_near_deterministic_fit_keep_their_digits():
    X, y, (X0, y0), folds = near_deterministic_data()
    alphas = np.logspace(-8, 2, 21)

    def fold_mses(X, y):
        search = grid_search_with(X, y, folds, alphas)
        return -np.array([search.cv_results_[f"split{k}_test_score"] for k in range(4)])

    oracle, sklearn_raw = fold_mses(X0, y0), fold_mses(X, y)
    for chunks in (None, 700):
        Xc = X if chunks is None else da.from_array(X, chunks=chunks)
        yc = y if chunks is None else da.from_array(y, chunks=chunks)
        model = RidgeCV(
            alphas=alphas,
            cv=folds if chunks is None else da.from_array(folds, chunks=chunks),
            scoring="neg_mean_squared_error",
        ).fit(Xc, yc)
        ours = -model.fold_scores_[:, :, 0]
        # The oracle is scikit-learn on the exactly shifted data: its
        # residuals (about 1e-6) are formed from values below 60, so each
        # carries a relative rounding of about 60 eps / 1e-6 = 1.3e-8.  Ours
        # come from the held-out factor R: ||R [-b; 1]|| is off by about
        # eps * sum_j ||z_j|| |b_j| / sqrt(n) = eps * (0.58 * 60 + 21.6) / 1e-6
        # = 1.3e-8 relative (times QR's growth, a small multiple).  The
        # squared norms double both; 1e-6 leaves a factor of 10 or more.
        # (From the cross-products, c_yy - 2 b'c + b'Cb, they are off by
        # tens of percent.)
        np.testing.assert_allclose(ours, oracle, rtol=1e-6)
        # scikit-learn on the raw data rounds each prediction (about 6e5) to
        # half an ulp, 5.8e-11, i.e. 6e-5 of a residual: its MSEs are off by
        # a few 1e-4 (1.7e-4 measured).
        np.testing.assert_allclose(ours, sklearn_raw, rtol=2e-3)
        # The best mean error is 1.8e-6 below the next: far beyond both
        # errors, so the choice is the oracle's.
        mean = np.sort(oracle.mean(axis=0))
        assert (mean[1] - mean[0]) / mean[0] > 1e-6
        assert model.alpha_ == alphas[np.argmin(oracle.mean(axis=0))] == 1e-7


def grid_search_with(X, y, folds, alphas):
    return GridSearchCV(
        SkRidge(),
        {"alpha": alphas},
        cv=PredefinedSplit(folds),
        scoring="neg_mean_squared_error",
    ).fit(X, y)


def test_fitted_r2_of_a_near_deterministic_fit_from_the_factor():
    from dask_linreg._numerics.cv import fitted_r2

    X, y, (X0, y0), _ = near_deterministic_data()
    model = Ridge(alpha=1e-6, solver="qr").fit(X, y)
    factor = model._fit_state.statistic
    r2 = fitted_r2(factor, 3, model.coef_, float(model.intercept_))
    # 1 - R² is about 2e-15, resolved by float64 to eps (2.2e-16) only;
    # the reference is the fit on the exactly shifted data.
    reference = SkRidge(alpha=1e-6).fit(X0, y0)
    residual = y0 - reference.predict(X0)
    expected = 1.0 - residual @ residual / np.sum((y0 - y0.mean()) ** 2)
    assert abs(r2 - expected) <= np.finfo(float).eps


def test_nearly_tied_penalties_go_to_the_largest_whatever_the_rounding():
    X, y = make_regression(4000, 4, seed=17)
    # Penalties this small change the validation errors by less than the
    # 1e-10 relative tie tolerance, so the largest penalty wins; with 4 folds
    # argmax would take the smallest, whose error is lower by 6e-11.
    alphas = np.array([1e-7, 1e-5, 1e-6])
    for cv in (None, 4):
        model = RidgeCV(alphas=alphas, cv=cv, scoring="neg_mean_squared_error")
        model.fit(X, y)
        spread = np.ptp(model.scores_) / abs(model.scores_.max())
        assert 0 < spread < 1e-10
        assert model.alpha_ == 1e-5
    assert np.argmax(model.scores_) == 0
    # A real difference above the tolerance is still honored.
    model = RidgeCV(alphas=[1e-7, 3e3], cv=4).fit(X, y)
    assert model.alpha_ == 1e-7


def assert_failed_refit_leaves_the_model(model, fit, good):
    before = {k: (v, copy.deepcopy(v)) for k, v in vars(model).items()}
    prediction = model.predict(good)
    fit()
    assert vars(model).keys() == before.keys()
    for key, (value, saved) in before.items():
        assert vars(model)[key] is value, key
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, saved)
    np.testing.assert_array_equal(model.predict(good), prediction)


@pytest.mark.parametrize("cv", [None, 3])
def test_a_failed_refit_leaves_a_fitted_ridge_cv_as_it_was(cv):
    X, y = noisy_data(n=300, seed=17)
    frame = pd.DataFrame(X, columns=list("abcdef"))
    model = RidgeCV(alphas=ALPHAS, cv=cv).fit(frame, y)
    bad = X[:, :4].copy()
    bad[7, 2] = np.nan
    bad_dask = da.from_array(bad, chunks=100)
    strings = pd.DataFrame(X[:, :3]).assign(s="text")
    weights = np.ones(300)
    weights[5] = -1.0
    cases = [
        (lambda: model.fit(bad, y), "non-finite"),
        (lambda: model.fit(bad_dask, da.from_array(y, chunks=100)), "non-finite"),
        (lambda: model.fit(X[:, :4], y, sample_weight=weights), "negative"),
        (lambda: model.fit(strings, y), "str|string|numbers|mixed"),
    ]
    for refit, message in cases:

        def failing_fit(refit=refit, message=message):
            with pytest.raises((ValueError, TypeError), match=message):
                refit()

        assert_failed_refit_leaves_the_model(model, failing_fit, frame)
    model.set_params(alphas=[-1.0])

    def bad_parameter():
        with pytest.raises(ValueError, match=r"'alphas' .* Got \[-1\.0\] instead"):
            model.fit(X[:, :4], y)

    assert_failed_refit_leaves_the_model(model, bad_parameter, frame)


def test_nan_scores_are_never_chosen_and_all_nan_raises(monkeypatch):
    import dask_linreg.linear_model._ridge_cv as module

    X, y = noisy_data(n=300, seed=18)
    fold_scores = module.ridge_fold_scores

    def with_nan(*args, **kwargs):
        scores = fold_scores(*args, **kwargs)
        scores[0, 1] = np.nan  # one fold of the best penalty
        return scores

    monkeypatch.setattr(module, "ridge_fold_scores", with_nan)
    alphas = [1e4, 10.0, 1e-2]
    assert RidgeCV(alphas=alphas, cv=3).fit(X, y).alpha_ == 1e-2
    monkeypatch.setattr(
        module, "ridge_fold_scores", lambda *a, **k: with_nan(*a, **k) * np.nan
    )
    with pytest.raises(ValueError, match="All 3 cross-validation scores are NaN"):
        RidgeCV(alphas=alphas, cv=3).fit(X, y)


@pytest.mark.parametrize(
    "alphas",
    [True, [True, 1.0], ["1.0"], np.array([True, False]), pd.Series([True]), "abc"],
)
def test_alphas_that_are_bools_or_strings_are_rejected(alphas):
    X, y = noisy_data(n=60, seed=11)
    message = r"The 'alphas' parameter of RidgeCV must be .* Got .* instead\."
    with pytest.raises(ValueError, match=message):
        RidgeCV(alphas=alphas).fit(X, y)
    with pytest.raises(ValueError, match=message):
        RidgeCV(alphas=alphas).fit(da.from_array(X), da.from_array(y))


def test_fold_labels_of_the_parquet_frame_of_x_are_read_with_x(tmp_path):
    X, y = noisy_data(n=400, p=3, seed=12)
    rng = np.random.default_rng(12)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        y=y, fold=rng.integers(0, 4, 400)
    )
    # An index that is not the row positions: rows must be matched by position.
    frame.index = rng.permutation(400) * 7
    dd.from_pandas(frame, npartitions=8).to_parquet(tmp_path / "table")
    table = dd.read_parquet(tmp_path / "table")
    model = RidgeCV(alphas=ALPHAS, cv=table["fold"]).fit(
        table[["a", "b", "c"]], table["y"]
    )
    reference = RidgeCV(alphas=ALPHAS, cv=frame["fold"].to_numpy()).fit(
        frame[["a", "b", "c"]], frame["y"]
    )
    np.testing.assert_allclose(model.scores_, reference.scores_, rtol=1e-10)
    np.testing.assert_allclose(model.fold_scores_, reference.fold_scores_, rtol=1e-10)
    np.testing.assert_array_equal(model.folds_, np.arange(4))
