import pickle

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as sk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import linalg

from dask_linreg import LinearRegression, Ridge

from ..conftest import make_regression

ESTIMATORS = [
    (LinearRegression, sk.LinearRegression, {}),
    (Ridge, sk.Ridge, {"alpha": 2.5}),
]


def assert_same_fit(ours, reference, rtol=1e-8):
    scale = max(np.abs(reference.coef_).max(), 1.0)
    np.testing.assert_allclose(
        ours.coef_, reference.coef_, rtol=rtol, atol=rtol * scale
    )
    np.testing.assert_allclose(
        ours.intercept_, reference.intercept_, rtol=rtol, atol=rtol * scale
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_samples=st.integers(3, 120),
    n_features=st.integers(1, 6),
    n_targets=st.sampled_from([None, 1, 3]),
    row_chunk=st.integers(1, 50),
    col_chunk=st.integers(1, 6),
    weighted=st.booleans(),
    fit_intercept=st.booleans(),
    which=st.sampled_from([0, 1]),
    seed=st.integers(0, 2**16),
)
def test_fit_matches_sklearn_over_shapes_chunkings_weights_and_targets(
    n_samples,
    n_features,
    n_targets,
    row_chunk,
    col_chunk,
    weighted,
    fit_intercept,
    which,
    seed,
):
    ours_cls, ref_cls, params = ESTIMATORS[which]
    n_samples = max(n_samples, n_features + 2)
    X, y = make_regression(n_samples, n_features, n_targets, seed=seed)
    w = np.random.default_rng(seed).uniform(0.1, 3.0, n_samples) if weighted else None
    reference = ref_cls(fit_intercept=fit_intercept, **params).fit(
        X, y, sample_weight=w
    )
    Xd = da.from_array(X, chunks=(row_chunk, col_chunk))
    yd = da.from_array(y, chunks=(row_chunk,) + y.shape[1:])
    wd = None if w is None else da.from_array(w, chunks=row_chunk)
    ours = ours_cls(fit_intercept=fit_intercept, **params).fit(Xd, yd, sample_weight=wd)
    assert_same_fit(ours, reference)
    assert ours.coef_.shape == reference.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(reference.intercept_)
    in_memory = ours_cls(fit_intercept=fit_intercept, **params).fit(
        X, y, sample_weight=w
    )
    assert_same_fit(in_memory, reference)


@pytest.mark.parametrize("ours_cls, ref_cls, params", ESTIMATORS)
def test_fit_matches_sklearn_on_weighted_multioutput(ours_cls, ref_cls, params, rng):
    X, y = make_regression(500, 8, 3, seed=1)
    w = rng.uniform(0, 2, 500)
    reference = ref_cls(**params).fit(X, y, sample_weight=w)
    ours = ours_cls(**params).fit(
        da.from_array(X, chunks=(60, 3)), da.from_array(y, chunks=(45, 2)), w
    )
    assert_same_fit(ours, reference)
    assert ours.n_features_in_ == 8
    assert not hasattr(ours, "feature_names_in_")


@pytest.mark.parametrize("split_every", [2, 3, 8, 100])
def test_result_is_independent_of_chunking_and_split_every(split_every):
    X, y = make_regression(1000, 5, seed=2)
    base = LinearRegression().fit(X, y)
    for chunks in [(1000, 5), (7, 5), (333, 2), (64, 1)]:
        fitted = LinearRegression(split_every=split_every).fit(
            da.from_array(X, chunks=chunks), da.from_array(y, chunks=chunks[0])
        )
        np.testing.assert_allclose(fitted.coef_, base.coef_, rtol=1e-12)
        np.testing.assert_allclose(fitted.intercept_, base.intercept_, rtol=1e-12)


@pytest.mark.parametrize("estimator", [LinearRegression(), Ridge(alpha=0.7)])
def test_integer_weights_equal_repeated_rows(estimator, rng):
    X, y = make_regression(60, 4, seed=3)
    weights = rng.integers(0, 4, 60)
    repeated = estimator.fit(np.repeat(X, weights, axis=0), np.repeat(y, weights)).coef_
    weighted = estimator.fit(
        da.from_array(X, chunks=13), y, sample_weight=weights
    ).coef_
    np.testing.assert_allclose(weighted, repeated, rtol=1e-10)


def test_columns_with_large_offsets_lose_no_more_than_centered_lstsq(rng):
    # Timestamps, identifiers, 1e6 + N(0, 1): what matters is the spread.
    n = 5000
    spread = rng.standard_normal((n, 3))
    X = spread + np.array([1.7e9, 1e6, 3e7])
    y = spread @ np.array([1.5, -2.0, 0.25]) + 0.01 * rng.standard_normal(n)
    ours = LinearRegression().fit(
        da.from_array(X, chunks=(97, 2)), da.from_array(y, chunks=97)
    )
    Xc = X - X.mean(axis=0)
    expected = linalg.lstsq(Xc, y - y.mean())[0]
    np.testing.assert_allclose(ours.coef_, expected, rtol=1e-8)


@pytest.mark.parametrize(
    "make_design",
    [
        pytest.param(lambda X: np.column_stack([X, X[:, :2]]), id="duplicate-columns"),
        pytest.param(
            lambda X: np.column_stack([X, X[:, 0] + 3 * X[:, 1]]), id="collinear"
        ),
        pytest.param(lambda X: X[:4], id="fewer-rows-than-columns"),
        pytest.param(
            lambda X: np.column_stack([X, np.ones(len(X))]), id="constant-column"
        ),
    ],
)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_rank_deficient_input_gets_minimum_norm_solution_like_sklearn(
    make_design, fit_intercept, rng
):
    X = make_design(rng.standard_normal((40, 6)))
    y = rng.standard_normal(X.shape[0])
    reference = sk.LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    ours = LinearRegression(fit_intercept=fit_intercept).fit(
        da.from_array(X, chunks=3), y
    )
    assert ours.rank_ == reference.rank_
    assert_same_fit(ours, reference, rtol=1e-7)
    np.testing.assert_allclose(
        ours.singular_[: ours.rank_], reference.singular_[: ours.rank_], rtol=1e-7
    )
    assert ours.singular_.shape == reference.singular_.shape


def test_singular_values_left_out_by_cholesky_are_those_of_the_latest_fit(
    tmp_path, rng
):
    # The normal equations solved by Cholesky leave the spectrum to the
    # first access: it must be of the data fitted last, and survive pickling
    # and model files.
    from dask_linreg import load

    model = LinearRegression()
    assert not hasattr(model, "singular_")
    for scale in (1.0, 3.0):
        X = scale * rng.standard_normal((60, 4))
        y = rng.standard_normal(60)
        model.fit(da.from_array(X, chunks=20), y)
        assert model.solver_ == "cholesky" and "singular_" not in vars(model)
        expected = sk.LinearRegression().fit(X, y).singular_
        np.testing.assert_allclose(model.singular_, expected, rtol=1e-10)
    model.partial_fit(X, y)
    np.testing.assert_allclose(
        model.singular_, linalg.svdvals(np.vstack([X, X]) - X.mean(axis=0)), rtol=1e-10
    )
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(model)).singular_, model.singular_
    )
    fresh = LinearRegression().fit(X, y)
    model.save(tmp_path / "with.json")
    fresh.save(tmp_path / "fresh.json")  # never accessed before
    np.testing.assert_array_equal(
        load(tmp_path / "with.json").singular_, model.singular_
    )
    np.testing.assert_array_equal(
        load(tmp_path / "fresh.json").singular_, fresh.singular_
    )


def test_ridge_accepts_one_alpha_per_target(rng):
    X, y = make_regression(200, 4, 3, seed=4)
    alpha = np.array([0.1, 10.0, 1000.0])
    reference = sk.Ridge(alpha=alpha).fit(X, y)
    ours = Ridge(alpha=alpha).fit(
        da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    )
    assert_same_fit(ours, reference)


def test_dask_dataframe_input_gives_feature_names_and_lazy_series_predictions():
    X, y = make_regression(300, 3, seed=5)
    frame = pd.DataFrame(X, columns=["age", "income", "score"]).assign(target=y)
    ddf = dd.from_pandas(frame, npartitions=4)
    features = ddf[["age", "income", "score"]]
    model = LinearRegression().fit(features, ddf["target"])
    reference = sk.LinearRegression().fit(frame[["age", "income", "score"]], y)
    assert_same_fit(model, reference)
    np.testing.assert_array_equal(model.feature_names_in_, ["age", "income", "score"])
    predictions = model.predict(features)
    assert isinstance(predictions, dd.Series)
    np.testing.assert_allclose(
        predictions.compute().to_numpy(),
        reference.predict(frame[["age", "income", "score"]]),
    )
    pd.testing.assert_index_equal(predictions.compute().index, frame.index)
    assert model.score(features, ddf["target"]) == pytest.approx(
        reference.score(frame[["age", "income", "score"]], y)
    )


def test_unknown_row_chunks_need_no_extra_pass():
    X, y = make_regression(250, 4, 2, seed=6)
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame[["y0", "y1"]] = y
    ddf = dd.from_pandas(frame, npartitions=5)
    Xd = ddf[list("abcd")].to_dask_array()
    yd = ddf[["y0", "y1"]].to_dask_array()
    assert np.isnan(Xd.chunks[0]).all()
    # Several column chunks with unknown row sizes are read side by side.
    Xd = da.concatenate([Xd[:, :1], Xd[:, 1:]], axis=1, allow_unknown_chunksizes=True)
    model = LinearRegression().fit(Xd, yd, sample_weight=ddf["a"].abs().to_dask_array())
    reference = sk.LinearRegression().fit(X, y, sample_weight=np.abs(X[:, 0]))
    assert_same_fit(model, reference)
    predictions = model.predict(Xd)
    assert isinstance(predictions, da.Array)
    np.testing.assert_allclose(predictions.compute(), reference.predict(X))


def test_predict_on_dask_input_is_lazy_and_numpy_input_gives_numpy():
    X, y = make_regression(100, 3, seed=7)
    model = Ridge().fit(X, y)
    calls = []

    def counting_get(dsk, keys, **kwargs):
        calls.append(keys)
        return dask.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_get):
        lazy = model.predict(da.from_array(X, chunks=30))
    assert calls == [] and isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), model.predict(X))
    assert type(model.predict(X)) is np.ndarray
    assert type(model.predict(pd.DataFrame(X))) is np.ndarray


@pytest.mark.parametrize("weighted", [False, True])
def test_score_on_dask_matches_sklearn_r2(weighted, rng):
    X, y = make_regression(400, 3, 2, seed=8)
    w = rng.uniform(0, 1, 400) if weighted else None
    model = LinearRegression().fit(X[:200], y[:200])
    expected = model.score(X, y, sample_weight=w)
    got = model.score(
        da.from_array(X, chunks=70),
        da.from_array(y, chunks=70),
        sample_weight=None if w is None else da.from_array(w, chunks=70),
    )
    assert got == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    "estimator", [LinearRegression(split_every=4), Ridge(alpha=[1.0, 2.0])]
)
def test_fitted_estimators_pickle_and_keep_params(estimator):
    X, y = make_regression(50, 3, 2, seed=9)
    fitted = estimator.fit(da.from_array(X, chunks=10), y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.coef_, fitted.coef_)
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert restored.get_params() == fitted.get_params()


def test_get_and_set_params_round_trip():
    model = Ridge(alpha=3.0, fit_intercept=False, solver="qr", split_every=5)
    assert model.get_params() == {
        "alpha": 3.0,
        "fit_intercept": False,
        "solver": "qr",
        "split_every": 5,
        "missing": "raise",
        "max_levels": 1000,
        "handle_unknown": "error",
    }
    model.set_params(alpha=0.5)
    assert model.alpha == 0.5
    assert LinearRegression().get_params() == {
        "fit_intercept": True,
        "positive": False,
        "solver": "auto",
        "split_every": None,
        "missing": "raise",
        "max_levels": 1000,
        "handle_unknown": "error",
    }


def test_float32_and_integer_input_are_accumulated_in_float64(rng):
    X = rng.integers(-50, 50, (300, 3))
    y = X @ np.array([1, 2, 3]) + 7
    model = LinearRegression().fit(da.from_array(X.astype(np.float32), chunks=40), y)
    np.testing.assert_allclose(model.coef_, [1, 2, 3], rtol=1e-12)
    assert model.coef_.dtype == np.float64
    np.testing.assert_allclose(LinearRegression().fit(X, y).intercept_, 7.0, rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("chunks", [37, 1000])
def test_positive_matches_sklearn_on_weighted_multioutput_dask_input(
    fit_intercept, chunks, rng
):
    from sklearn.linear_model import LinearRegression as SkLinearRegression

    X, Y = make_regression(1000, 6, 2, seed=21)
    Y = Y - 2.0 * X[:, :1]  # some coefficients want to be negative
    w = rng.uniform(0.5, 2.0, 1000)
    ours = LinearRegression(positive=True, fit_intercept=fit_intercept).fit(
        da.from_array(X, chunks=chunks),
        da.from_array(Y, chunks=chunks),
        da.from_array(w, chunks=chunks),
    )
    theirs = SkLinearRegression(positive=True, fit_intercept=fit_intercept).fit(
        X, Y, sample_weight=w
    )
    assert (ours.coef_ >= 0).all() and (ours.coef_ == 0).any()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        ours.intercept_, theirs.intercept_, rtol=1e-8, atol=1e-10
    )
    with pytest.raises(ValueError, match="not available for positive=True"):
        ours.inference()
    with pytest.raises(
        ValueError,
        match="The 'positive' parameter of LinearRegression must be a bool. Got",
    ):
        LinearRegression(positive="yes").fit(X, Y)


def test_columns_of_one_parquet_dataset_are_aligned_whatever_dask_fuses(
    tmp_path, monkeypatch
):
    # Dask plans each column projection of a Parquet dataset on its own: the
    # target alone may fuse several files into one partition, so X's and y's
    # arrays would have different row blocks if converted separately.
    import pandas as pd

    rng = np.random.default_rng(0)
    columns = [f"x{j}" for j in range(10)]
    frames = []
    for i in range(6):
        frame = pd.DataFrame(rng.standard_normal((100_000, 10)), columns=columns)
        frame["y"] = frame.x0 - 2 * frame.x1 + rng.standard_normal(100_000)
        frame["w"] = rng.uniform(0.5, 2.0, 100_000)
        frame.to_parquet(tmp_path / f"part-{i}.parquet")
        frames.append(frame)
    import pyarrow.parquet as pq

    reads = []
    for method in ("read", "read_row_group", "read_row_groups"):
        original = getattr(pq.ParquetFile, method)

        def counted(self, *args, _original=original, **kwargs):
            reads.append(1)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(pq.ParquetFile, method, counted)
    table = dd.read_parquet(tmp_path)
    model = LinearRegression().fit(table[columns], table["y"], table["w"])
    # X, y and the weights are read together: each file once.
    assert 1 <= len(reads) <= 6
    whole = pd.concat(frames)
    reference = LinearRegression().fit(whole[columns], whole["y"], whole["w"])
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)
    several = LinearRegression().fit(table[columns], table[["y", "x0"]])
    assert several.coef_.shape == (2, 10)
