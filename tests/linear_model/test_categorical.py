"""Categorical columns of X against statsmodels' formulas on the same data."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from sklearn.linear_model import Ridge as SklearnRidge

from dask_linreg import LinearRegression, Ridge

RTOL = 1e-8


def _table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "price": rng.normal(10.0, 2.0, n),
            "region": rng.choice(["north", "east", "south", "west"], n),
            "channel": pd.Categorical(
                rng.choice(["web", "store", "phone"], n),
                categories=["web", "store", "phone"],
            ),
            "promo": rng.random(n) < 0.3,
            "size": rng.normal(1e6, 1.0, n),
        }
    )
    frame["region"] = frame["region"].astype("string")
    effect = frame["region"].map(
        {"north": 0.0, "east": 1.0, "south": -0.5, "west": 2.0}
    )
    frame["sales"] = (
        3.0
        - 0.8 * frame["price"]
        + effect.to_numpy(dtype=float)
        + 0.6 * (frame["channel"] == "store")
        + 0.4 * frame["promo"]
        + 0.3 * (frame["size"] - 1e6)
        + rng.normal(0.0, 1.0, n)
    )
    frame["w"] = rng.uniform(0.5, 2.0, n)
    return frame


FEATURES = ["price", "region", "channel", "promo", "size"]
FORMULA = (
    "sales ~ price + C(region) + C(channel, levels=['web', 'store', 'phone'])"
    " + C(promo) + size"
)


def _statsmodels_name(name):
    if name.startswith("channel["):
        return name.replace("channel[", "C(channel, levels=['web', 'store', 'phone'])[")
    for factor in ("region", "promo"):
        if name.startswith(factor + "["):
            return f"C({factor})" + name[len(factor) :]
    return name


def _compare(model, expected):
    results = model.inference()
    names = [
        "Intercept" if n == "intercept" else _statsmodels_name(n)
        for n in results.params.index
    ]
    np.testing.assert_allclose(
        results.params.to_numpy(), expected.params[names], rtol=RTOL
    )
    np.testing.assert_allclose(results.bse.to_numpy(), expected.bse[names], rtol=RTOL)
    np.testing.assert_allclose(results.rsquared, expected.rsquared, rtol=RTOL)
    np.testing.assert_allclose(results.fvalue, expected.fvalue, rtol=RTOL)
    assert results.nobs == expected.nobs


def _as_input(frame, partitions):
    if partitions is None:
        return frame
    return dd.from_pandas(frame, npartitions=partitions)


@pytest.mark.parametrize("partitions", [None, 1, 4, 9])
@pytest.mark.parametrize("weighted", [False, True])
def test_main_effects_match_statsmodels_formulas(partitions, weighted):
    frame = _table()
    data = _as_input(frame, partitions)
    model = LinearRegression().fit(
        data[FEATURES], data["sales"], sample_weight=data["w"] if weighted else None
    )
    expected = (
        smf.wls(FORMULA, frame, weights=frame["w"]).fit()
        if weighted
        else smf.ols(FORMULA, frame).fit()
    )
    _compare(model, expected)
    assert list(model.coef_names_) == [
        "price",
        "region[T.north]",
        "region[T.south]",
        "region[T.west]",
        "channel[T.store]",
        "channel[T.phone]",
        "promo[T.True]",
        "size",
    ]
    assert list(model.categories_["channel"]) == ["web", "store", "phone"]
    assert list(model.categories_["region"]) == ["east", "north", "south", "west"]


def test_no_intercept_keeps_every_level_of_the_first_factor():
    frame = _table()
    model = LinearRegression(fit_intercept=False).fit(
        frame[["region", "price", "promo"]], frame["sales"]
    )
    expected = smf.ols("sales ~ C(region) + price + C(promo) - 1", frame).fit()
    results = model.inference()
    names = [_statsmodels_name(n) for n in results.params.index]
    assert names[:4] == [f"C(region)[{r}]" for r in ["east", "north", "south", "west"]]
    np.testing.assert_allclose(
        results.params.to_numpy(), expected.params[names], rtol=RTOL
    )
    np.testing.assert_allclose(results.bse.to_numpy(), expected.bse[names], rtol=RTOL)
    # R² is uncentered without an intercept (statsmodels centers it here,
    # having found the constant the indicators span).
    np.testing.assert_allclose(results.ssr, expected.ssr, rtol=RTOL)


def test_a_level_seen_in_one_partition_only_and_empty_partitions():
    frame = _table()
    frame.loc[frame.index[-7:], "region"] = "island"
    frame["keep"] = (frame.index < 100) | (frame.index >= 400)
    ddf = dd.from_pandas(frame, npartitions=6)
    # Filtering leaves some partitions empty.
    ddf = ddf[ddf["keep"]]
    model = LinearRegression().fit(ddf[FEATURES], ddf["sales"])
    kept = frame[(frame.index < 100) | (frame.index >= 400)]
    _compare(model, smf.ols(FORMULA, kept).fit())
    assert "region[T.island]" in list(model.coef_names_)


def test_parquet_categories_keep_their_order(tmp_path):
    # The metadata does not know the categories; each file's do, and their
    # order (not the sorted one) picks the reference, as in pandas.
    frame = _table()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_parquet(tmp_path / f"part{i}.parquet")
    ddf = dd.read_parquet(tmp_path)
    assert not ddf["channel"].cat.known
    model = LinearRegression().fit(ddf[["price", "channel"]], ddf["sales"])
    assert list(model.coef_names_) == ["price", "channel[T.store]", "channel[T.phone]"]
    assert list(model.categories_["channel"]) == ["web", "store", "phone"]
    expected = smf.ols("sales ~ price + channel", frame).fit()
    np.testing.assert_allclose(
        model.coef_, expected.params[list(model.coef_names_)], rtol=RTOL
    )
    np.testing.assert_allclose(
        model.predict(frame[["price", "channel"]]), expected.fittedvalues, rtol=RTOL
    )
    # A model file keeps the order for the fits that continue from it.
    from dask_linreg import load

    model.save(tmp_path / "model.json")
    copy = load(tmp_path / "model.json")
    batch = frame.iloc[:50].astype({"channel": str})
    copy.partial_fit(batch[["price", "channel"]], batch["sales"])
    model.partial_fit(batch[["price", "channel"]], batch["sales"])
    assert list(copy.coef_names_) == list(model.coef_names_)
    assert list(copy.coef_names_)[1:] == ["channel[T.store]", "channel[T.phone]"]
    np.testing.assert_allclose(copy.coef_, model.coef_, rtol=1e-10)


def test_parquet_with_unknown_categories(tmp_path):
    frame = _table()
    frame["region"] = frame["region"].astype("category")
    frame["channel"] = frame["channel"].astype(str)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 4)):
        frame.iloc[rows].to_parquet(tmp_path / f"part{i}.parquet")
    ddf = dd.read_parquet(tmp_path)
    model = LinearRegression().fit(ddf[["price", "region", "channel"]], ddf["sales"])
    expected = smf.ols("sales ~ price + C(region) + C(channel)", frame).fit()
    results = model.inference()
    names = [
        "Intercept"
        if n == "intercept"
        else _statsmodels_name(n).replace(
            "C(channel, levels=['web', 'store', 'phone'])", "C(channel)"
        )
        for n in results.params.index
    ]
    np.testing.assert_allclose(
        results.params.to_numpy(), expected.params[names], rtol=RTOL
    )
    np.testing.assert_allclose(results.bse.to_numpy(), expected.bse[names], rtol=RTOL)


def test_one_compute_reads_each_partition_once(computes):
    frame = _table()
    reads = []

    def counted(part):
        reads.append(int(part.index[0]))
        return part

    ddf = dd.from_pandas(frame, npartitions=5)
    starts = sorted(int(ddf.partitions[i].index.min().compute()) for i in range(5))
    ddf = ddf.map_partitions(counted, meta=frame.head(0))
    computes.clear()
    model = LinearRegression().fit(ddf[FEATURES], ddf["sales"])
    assert len(computes) == 1
    # Levels and moments from the same read of every row: each partition
    # (named by its first row) was read exactly once.
    assert sorted(reads) == starts
    assert "region[T.west]" in list(model.coef_names_)


def test_predict_and_score_apply_the_training_levels():
    frame = _table()
    model = LinearRegression().fit(frame[FEATURES], frame["sales"])
    expected = smf.ols(FORMULA, frame).fit()
    new = frame.iloc[:50]
    np.testing.assert_allclose(
        model.predict(new[FEATURES]), expected.predict(new), atol=1e-8
    )
    lazy = model.predict(dd.from_pandas(new[FEATURES], npartitions=3))
    np.testing.assert_allclose(
        lazy.compute().to_numpy(), expected.predict(new), atol=1e-8
    )
    ddf = dd.from_pandas(frame, npartitions=4)
    np.testing.assert_allclose(
        model.score(ddf[FEATURES], ddf["sales"]), expected.rsquared, rtol=1e-10
    )
    np.testing.assert_allclose(
        model.score(frame[FEATURES], frame["sales"]), expected.rsquared, rtol=1e-10
    )


def test_an_unseen_level_is_named_or_predicted_as_the_reference():
    frame = _table()
    model = LinearRegression().fit(frame[FEATURES], frame["sales"])
    new = frame[FEATURES].iloc[:3].copy()
    new["region"] = pd.array(["north", "mars", "east"], dtype="string")
    with pytest.raises(
        ValueError,
        match="X column 'region' has level 'mars', which the model was not fitted on",
    ):
        model.predict(new)
    model.set_params(handle_unknown="ignore")
    reference = new.assign(region=pd.array(["north", "east", "east"], dtype="string"))
    np.testing.assert_allclose(model.predict(new), model.predict(reference))


def test_too_many_levels_fail_fast_naming_the_column():
    frame = _table()
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    ddf = dd.from_pandas(frame, npartitions=3)
    model = LinearRegression(max_levels=100)
    with pytest.raises(
        ValueError,
        match=r"X column 'order_id' has more than max_levels=100 levels \(\d+ found so far\)",
    ):
        model.fit(ddf[["price", "order_id"]], ddf["sales"])
    assert not hasattr(model, "coef_")


def test_a_failed_fit_leaves_the_fitted_model_as_it_was():
    frame = _table()
    model = LinearRegression().fit(frame[FEATURES], frame["sales"])
    coef, names = model.coef_.copy(), list(model.coef_names_)
    broken = frame[FEATURES].copy()
    broken.loc[3, "channel"] = np.nan
    with pytest.raises(ValueError, match="X column 'channel' contains 1 missing label"):
        model.fit(broken, frame["sales"])
    np.testing.assert_array_equal(model.coef_, coef)
    assert list(model.coef_names_) == names
    # A numeric refit drops the categorical attributes.
    model.fit(frame[["price", "size"]], frame["sales"])
    assert not hasattr(model, "coef_names_") and not hasattr(model, "categories_")


def test_ridge_uses_the_full_one_hot_encoding():
    frame = _table()
    features = ["price", "region", "channel"]
    model = Ridge(alpha=3.0).fit(
        frame[features], frame["sales"], sample_weight=frame["w"]
    )
    dummies = pd.get_dummies(
        frame[features], columns=["region", "channel"], dtype=float
    )
    expected = SklearnRidge(alpha=3.0).fit(
        dummies, frame["sales"], sample_weight=frame["w"]
    )
    assert list(model.coef_names_) == [
        "price",
        "region[east]",
        "region[north]",
        "region[south]",
        "region[west]",
        "channel[web]",
        "channel[store]",
        "channel[phone]",
    ]
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, expected.intercept_, rtol=1e-9)


def test_partial_fit_and_merge_join_levels_by_union():
    frame = _table()
    frame.loc[frame.index[-20:], "region"] = "island"
    first, second = frame.iloc[:300], frame.iloc[300:]
    whole = LinearRegression().fit(frame[FEATURES], frame["sales"])
    streamed = LinearRegression()
    streamed.partial_fit(first[FEATURES], first["sales"])
    assert "region[T.island]" not in list(streamed.coef_names_)
    streamed.partial_fit(
        dd.from_pandas(second, npartitions=2)[FEATURES],
        dd.from_pandas(second, npartitions=2)["sales"],
    )
    merged = (
        LinearRegression()
        .fit(first[FEATURES], first["sales"])
        .merge(LinearRegression().fit(second[FEATURES], second["sales"]))
    )
    for model in (streamed, merged):
        assert list(model.coef_names_) == list(whole.coef_names_)
        np.testing.assert_allclose(model.coef_, whole.coef_, rtol=1e-9)
        np.testing.assert_allclose(
            model.inference().bse, whole.inference().bse, rtol=1e-9
        )
    with pytest.raises(ValueError, match="a column must keep its kind"):
        streamed.partial_fit(second[FEATURES].astype({"promo": float}), second["sales"])


def test_solvers_without_normal_equations_refuse_categorical_columns():
    frame = _table()
    with pytest.raises(
        ValueError, match="solver='qr' does not take categorical columns"
    ):
        LinearRegression(solver="qr").fit(frame[FEATURES], frame["sales"])


@pytest.mark.parametrize("estimator", [LinearRegression(), Ridge(alpha=2.0)])
def test_model_files_and_pickles_keep_levels_and_statistics(estimator, tmp_path):
    import json
    import pickle

    from dask_linreg import load

    frame = _table()
    first, second = frame.iloc[:400], frame.iloc[400:].assign(region="island")
    model = estimator.fit(first[FEATURES], first["sales"])
    model.save(tmp_path / "model.json")
    for copy in (load(tmp_path / "model.json"), pickle.loads(pickle.dumps(model))):
        assert list(copy.coef_names_) == list(model.coef_names_)
        np.testing.assert_array_equal(copy.coef_, model.coef_)
        np.testing.assert_array_equal(
            copy.predict(frame[FEATURES]), model.predict(frame[FEATURES])
        )
        if isinstance(estimator, LinearRegression):
            np.testing.assert_allclose(copy.inference().bse, model.inference().bse)
            # Streaming goes on from the file's statistics, levels joined.
            copy.partial_fit(second[FEATURES], second["sales"])
            whole = LinearRegression().fit(
                pd.concat([first, second])[FEATURES], frame["sales"]
            )
            assert list(copy.coef_names_) == list(whole.coef_names_)
            np.testing.assert_allclose(copy.coef_, whole.coef_, rtol=1e-9)
    document = json.loads((tmp_path / "model.json").read_text())
    document["design"]["levels"][0] = ["east", "east"]
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="'design' levels must be distinct"):
        load(tmp_path / "bad.json")
    document["design"]["levels"][0] = ["east", "north"]
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="'coef' has shape"):
        load(tmp_path / "bad.json")


def test_many_small_partitions_and_several_targets():
    frame = _table(n=2000, seed=5)
    frame["other"] = frame["sales"] * 2 + frame["price"]
    ddf = dd.from_pandas(frame, npartitions=200)  # joined on the threads
    model = LinearRegression().fit(ddf[FEATURES], ddf[["sales", "other"]])
    assert model.coef_.shape == (2, 8)
    for t, target in enumerate(["sales", "other"]):
        expected = smf.ols(FORMULA.replace("sales ~", f"{target} ~"), frame).fit()
        names = [_statsmodels_name(n) for n in model.coef_names_]
        np.testing.assert_allclose(model.coef_[t], expected.params[names], rtol=RTOL)
    assert model.predict(frame[FEATURES]).shape == (2000, 2)


@pytest.mark.parametrize("estimator", ["ElasticNet", "Lasso"])
def test_elastic_net_and_lasso_use_the_full_one_hot_encoding(estimator):
    import sklearn.linear_model

    import dask_linreg

    frame = _table()
    features = ["price", "region", "channel"]
    ddf = dd.from_pandas(frame, npartitions=3)
    model = getattr(dask_linreg, estimator)(alpha=0.05, tol=1e-10, max_iter=10_000)
    model.fit(ddf[features], ddf["sales"], sample_weight=ddf["w"])
    dummies = pd.get_dummies(
        frame[features], columns=["region", "channel"], dtype=float
    )
    expected = getattr(sklearn.linear_model, estimator)(
        alpha=0.05, tol=1e-10, max_iter=10_000
    ).fit(dummies, frame["sales"], sample_weight=frame["w"])
    assert len(model.coef_names_) == 8 and model.coef_names_[1] == "region[east]"
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        model.predict(frame[features]), expected.predict(dummies), rtol=1e-6
    )


@pytest.mark.parametrize("partitions", [None, 3])
def test_prediction_intervals_build_the_indicators_of_new_rows(partitions):
    frame = _table()
    model = LinearRegression().fit(frame[FEATURES], frame["sales"])
    # statsmodels on the size column centered: uncentered, its x' C x loses
    # six digits to the offset of 1e6 (ours centers x first).
    centered = frame.assign(size=frame["size"] - 1e6)
    expected = smf.ols(FORMULA, centered).fit().get_prediction(centered.iloc[:40])
    new = _as_input(frame[FEATURES].iloc[:40], partitions)
    ours = model.inference().get_prediction(new).summary_frame()
    ours = ours.compute() if partitions else ours
    np.testing.assert_allclose(
        ours.to_numpy(), expected.summary_frame().to_numpy(), rtol=1e-8, atol=1e-10
    )
    with pytest.raises(TypeError, match="must be a pandas or Dask DataFrame"):
        model.inference().get_prediction(np.ones((2, 5)))
