"""ElasticNet, Lasso and their CV versions against scikit-learn."""

import copy
import warnings

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning

from dask_linreg import ElasticNet, ElasticNetCV, Lasso, LassoCV
from dask_linreg._numerics.cv import assign_folds

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
    with pytest.raises(
        ValueError,
        match=r"The 'alpha' parameter of ElasticNet must be a float in the range "
        r"\[0\.0, inf\)\. Got -1\.0 instead\.",
    ):
        ElasticNet(alpha=-1.0).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"The 'l1_ratio' parameter of ElasticNet must be a float in the range "
        r"\[0\.0, 1\.0\]\. Got 1\.5 instead\.",
    ):
        ElasticNet(l1_ratio=1.5).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"The 'max_iter' parameter of Lasso must be an int in the range "
        r"\[1, inf\)\. Got 0 instead\.",
    ):
        Lasso(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="takes one target"):
        LassoCV().fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="l1_ratio=0 needs an explicit alphas grid"):
        ElasticNetCV(l1_ratio=[0.0, 0.5]).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"The 'l1_ratio' parameter of ElasticNetCV must be a float in the range "
        r"\[0\.0, 1\.0\] or a non-empty array-like of shape \(n_l1_ratio,\) of "
        r"floats in the range \[0\.0, 1\.0\]\. Got \[2\.0\] instead\.",
    ):
        ElasticNetCV(l1_ratio=[2.0]).fit(X, y)


def test_elastic_net_cv_passes_groups_to_a_group_splitter():
    from sklearn.model_selection import GroupKFold

    X, y, w = sparse_data(seed=7)
    groups = np.arange(len(y)) // 50
    splitter = GroupKFold(4)
    ours = LassoCV(alphas=20, cv=splitter, **TIGHT).fit(X, y, w, groups=groups)
    splits = list(splitter.split(X, y, groups))
    theirs = sk.LassoCV(alphas=20, cv=splits, **TIGHT).fit(X, y, sample_weight=w)
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-8)
    with pytest.raises(ValueError, match=r"cv=GroupKFold\(.*\) splits by groups"):
        ElasticNetCV(cv=splitter).fit(X, y)
    with pytest.raises(ValueError, match="does not take them"):
        ElasticNetCV(cv=3).fit(X, y, groups=groups)


def test_near_deterministic_fold_errors_match_the_exactly_shifted_problem():
    rng = np.random.default_rng(0)
    X = 1e4 + rng.uniform(-1.0, 1.0, (3000, 3))
    y = X @ [10.0, 20.0, 30.0] + 1e-6 * rng.standard_normal(3000)
    X0, y0 = X - 1e4, y - 6e5  # exact (Sterbenz); the fits are shift-invariant
    assert np.array_equal(X0 + 1e4, X) and np.array_equal(y0 + 6e5, y)
    folds = np.arange(3000) % 4
    splits = [
        (np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(4)
    ]
    # tol=1e-20: coordinate descent runs to its fixed point (the default
    # duality-gap rule would stop long before the 1e-12 MSEs are reached).
    settings = {
        "l1_ratio": [0.5, 1.0],
        "alphas": np.logspace(-6, -10, 5),
        "tol": 1e-20,
        "max_iter": 20_000,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = ElasticNetCV(cv=folds, **settings).fit(X, y)
        oracle = sk.ElasticNetCV(cv=splits, **settings).fit(X0, y0)
        raw = sk.ElasticNetCV(cv=splits, **settings).fit(X, y)
    # As in test_ridge_cv's near-deterministic test: the oracle's residuals
    # are formed from values below 60 (rounding 60 eps / 1e-6 = 1.3e-8 of a
    # residual), ours from the held-out factor (about eps * 56 / 1e-6); 1e-6
    # leaves a factor of 10 over both, doubled by squaring.  The
    # cross-products' expansion was off by tens of percent.
    np.testing.assert_allclose(ours.mse_path_, oracle.mse_path_, rtol=1e-6)
    # scikit-learn on the raw data rounds predictions of about 6e5.
    np.testing.assert_allclose(ours.mse_path_, raw.mse_path_, rtol=2e-3)
    mean = np.sort(oracle.mse_path_.mean(axis=2), axis=None)
    assert (mean[1] - mean[0]) / mean[0] > 1e-6  # a clear best
    assert (ours.alpha_, ours.l1_ratio_) == (oracle.alpha_, oracle.l1_ratio_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("ratios", [[0.5, 1.0], [1.0, 0.5]])
def test_tied_penalties_go_to_the_largest_alpha_then_the_first_l1_ratio(ratios):
    X, y, _ = sparse_data(n=3000, seed=8)
    # Penalties this small change the fold errors by less than 1e-10
    # relative: all six candidates tie.  The tie goes to the largest alpha
    # and, among the l1_ratios sharing it, to the first given.
    # (argmin would take l1_ratio=1 and the smallest alpha, lower by 1e-12.)
    grid = [1e-11, 1e-12, 1e-13]
    ours = ElasticNetCV(l1_ratio=ratios, alphas=grid, cv=4, tol=1e-8).fit(X, y)
    mean = ours.mse_path_.mean(axis=2)
    assert np.ptp(mean) / mean.min() < 1e-11
    assert (ours.alpha_, ours.l1_ratio_) == (1e-11, ratios[0])


def test_nan_errors_are_never_chosen_and_all_nan_raises(monkeypatch):
    import dask_linreg.linear_model._elastic_net as module

    X, y, _ = sparse_data(n=300, seed=9)
    fold_errors = module.elastic_net_fold_errors

    def with_nan(*args, **kwargs):
        errors = fold_errors(*args, **kwargs)
        errors[-1] = np.nan  # the smallest alpha, the best here
        return errors

    monkeypatch.setattr(module, "elastic_net_fold_errors", with_nan)
    grid = [1.0, 0.1, 0.001]
    model = LassoCV(alphas=grid, cv=3).fit(X, y)
    assert model.alpha_ == 0.1
    monkeypatch.setattr(
        module, "elastic_net_fold_errors", lambda *a, **k: with_nan(*a, **k) * np.nan
    )
    with pytest.raises(ValueError, match="All 3 cross-validation scores are NaN"):
        LassoCV(alphas=grid, cv=3).fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [
        ElasticNet(alpha=0.1),
        Lasso(alpha=0.1),
        ElasticNetCV(cv=3, alphas=5),
        LassoCV(cv=3, alphas=5),
    ],
    ids=repr,
)
def test_a_failed_refit_leaves_a_fitted_model_as_it_was(estimator):
    X, y, w = sparse_data(n=300, seed=10)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(8)])
    model = estimator.fit(frame, y, sample_weight=w)
    bad = X[:, :5].copy()
    bad[3, 1] = np.nan
    negative = w.copy()
    negative[4] = -1.0
    strings = pd.DataFrame(X[:, :3]).assign(s="text")
    refits = [
        (lambda: model.fit(bad, y), "non-finite"),
        (lambda: model.fit(*dask_inputs(60, bad, y)), "non-finite"),
        (lambda: model.fit(X[:, :5], y, sample_weight=negative), "negative"),
        (lambda: model.fit(strings, y), "str|string|numbers|mixed"),
    ]
    for refit, message in refits:
        before = {k: (v, copy.deepcopy(v)) for k, v in vars(model).items()}
        prediction = model.predict(frame)
        with pytest.raises((ValueError, TypeError), match=message):
            refit()
        assert vars(model).keys() == before.keys()
        for key, (value, saved) in before.items():
            assert vars(model)[key] is value, key
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, saved)
        np.testing.assert_array_equal(model.predict(frame), prediction)


#: scikit-learn's words for the ranges (inf is outside [0.0, inf)).
_AT_LEAST_0 = r"a float in the range \[0\.0, inf\)"
_ABOVE_0 = r"a float in the range \(0\.0, inf\)"
_RATIO = r"a float in the range \[0\.0, 1\.0\]"
_ALPHAS = r"an int in the range \[1, inf\) or a non-empty array-like of shape"
_RATIOS = rf"{_RATIO} or a non-empty array-like of shape \(n_l1_ratio,\)"

BAD_ENET_PARAMS = [
    (ElasticNet, {"alpha": np.inf}, rf"'alpha' .* must be {_AT_LEAST_0}\. Got inf"),
    (ElasticNet, {"tol": np.inf}, rf"'tol' .* must be {_AT_LEAST_0}\. Got inf"),
    (ElasticNet, {"alpha": np.nan}, rf"'alpha' .* must be {_AT_LEAST_0}\. Got nan"),
    (ElasticNet, {"l1_ratio": np.nan}, rf"'l1_ratio' .* must be {_RATIO}\. Got nan"),
    (Lasso, {"alpha": np.inf}, rf"'alpha' parameter of Lasso must be {_AT_LEAST_0}"),
    (Lasso, {"tol": np.inf}, r"'tol' parameter of Lasso .* Got inf instead"),
    (LassoCV, {"eps": np.inf}, rf"'eps' .* must be {_ABOVE_0}\. Got inf instead"),
    (LassoCV, {"tol": np.inf}, r"'tol' parameter of LassoCV .* Got inf instead"),
    (ElasticNetCV, {"alphas": [np.nan]}, rf"'alphas' .* {_ALPHAS} .* Got \[nan\]"),
    (ElasticNetCV, {"alphas": [1.0, np.inf]}, r"'alphas' .* Got \[1\.0, inf\] inst"),
    (ElasticNetCV, {"alphas": "abc"}, rf"'alphas' .* must be {_ALPHAS}.* Got 'abc'"),
    (ElasticNetCV, {"alphas": [True, 1.0]}, "Bools and strings are not numbers here"),
    (ElasticNetCV, {"alphas": [[0.1], [1.0, 2.0]]}, rf"'alphas' .* must be {_ALPHAS}"),
    (
        LassoCV,
        {"alphas": [np.nan]},
        rf"'alphas' parameter of LassoCV must be {_ALPHAS}",
    ),
    (ElasticNetCV, {"l1_ratio": "abc"}, rf"'l1_ratio' .* must be {_RATIOS}"),
    (ElasticNetCV, {"l1_ratio": np.nan}, rf"'l1_ratio' .* {_RATIOS}.* Got nan inst"),
    (ElasticNetCV, {"l1_ratio": [0.5, np.nan]}, r"'l1_ratio' .* Got \[0\.5, nan\]"),
    (ElasticNetCV, {"l1_ratio": []}, r"Got \[\] instead\. It has shape \(0,\)\."),
    (ElasticNetCV, {"l1_ratio": True}, rf"'l1_ratio' .* {_RATIOS}.* Got True inst"),
    (ElasticNetCV, {"l1_ratio": [[0.5]]}, r"Got \[\[0\.5\]\] .* shape \(1, 1\)\."),
]


@pytest.mark.parametrize("chunks", [None, 50])
@pytest.mark.parametrize(
    "cls, params, message",
    BAD_ENET_PARAMS,
    ids=[f"{c.__name__}-{p}" for c, p, _ in BAD_ENET_PARAMS],
)
def test_non_finite_or_mistyped_penalties_are_named_before_the_data_are_read(
    cls, params, message, chunks
):
    X, y, _ = sparse_data(n=100, seed=8)
    X, y = dask_inputs(chunks, X, y)

    def never_compute(dsk, keys, **kwargs):
        raise AssertionError("the data were read")

    with dask.config.set(scheduler=never_compute):
        with pytest.raises(ValueError, match=message):
            cls(**params).fit(X, y)
