"""Cross-validated estimators with categorical columns: every fold's level
statistics from the one pass, against the same estimator on the dense
one-hot design (every level kept, as the penalized models encode it)."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import ElasticNetCV as SklearnElasticNetCV
from sklearn.model_selection import GroupKFold, KFold

from dask_linreg import ElasticNetCV, LassoCV, RidgeCV, load

FEATURES = ["price", "region", "channel"]


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    n = 900
    frame = pd.DataFrame(
        {
            "price": rng.normal(10.0, 2.0, n),
            "region": rng.choice(["north", "east", "south", "west"], n),
            "channel": pd.Categorical(
                rng.choice(["web", "store", "phone"], n),
                categories=["web", "store", "phone"],
            ),
            "fold": rng.integers(0, 4, n),
        }
    )
    effect = frame["region"].map({"north": 0.0, "east": 1.0, "south": -0.5})
    frame["sales"] = (
        3.0
        - 0.8 * frame["price"]
        + effect.fillna(2.0).to_numpy()
        + 0.6 * (frame["channel"] == "store").to_numpy()
        + rng.normal(0.0, 1.0, n)
    )
    return frame


def _dense(frame):
    """The full one-hot design, columns as ``coef_names_`` orders them."""
    return pd.get_dummies(frame[FEATURES], columns=["region", "channel"], dtype=float)


def _names(frame):
    regions = sorted(frame["region"].unique())
    return ["price", *(f"region[{r}]" for r in regions)] + [
        f"channel[{c}]" for c in ["web", "store", "phone"]
    ]


@pytest.mark.parametrize(
    "estimator",
    [
        RidgeCV(alphas=[0.01, 1.0, 30.0, 1000.0]),
        RidgeCV(alphas=[0.01, 1.0, 30.0, 1000.0], cv=KFold(4)),
        RidgeCV(
            alphas=[0.01, 1.0, 30.0], cv=KFold(3), scoring="neg_mean_squared_error"
        ),
        ElasticNetCV(l1_ratio=[0.2, 0.9], cv=KFold(4)),
        LassoCV(cv=KFold(5)),
    ],
    ids=["ridge-gcv", "ridge-kfold", "ridge-mse", "enet", "lasso"],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_cv_estimators_equal_their_fit_on_dense_dummies(table, estimator, weighted):
    weights = np.linspace(0.5, 2.0, len(table)) if weighted else None
    model = estimator.__class__(**estimator.get_params()).fit(
        table[FEATURES], table["sales"], sample_weight=weights
    )
    dense = estimator.__class__(**estimator.get_params()).fit(
        _dense(table), table["sales"], sample_weight=weights
    )
    assert list(model.coef_names_) == _names(table)
    assert model.alpha_ == pytest.approx(dense.alpha_, rel=1e-12)
    np.testing.assert_allclose(model.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, dense.intercept_, rtol=1e-8)
    scores = "scores_" if isinstance(model, RidgeCV) else "mse_path_"
    np.testing.assert_allclose(
        getattr(model, scores), getattr(dense, scores), rtol=1e-8
    )
    np.testing.assert_allclose(
        model.predict(table[FEATURES]), dense.predict(_dense(table)), rtol=1e-9
    )


def test_elastic_net_cv_matches_scikit_learn_on_dummies(table):
    model = ElasticNetCV(l1_ratio=0.5, cv=KFold(4)).fit(table[FEATURES], table["sales"])
    reference = SklearnElasticNetCV(l1_ratio=0.5, cv=KFold(4)).fit(
        _dense(table), table["sales"]
    )
    assert model.alpha_ == pytest.approx(reference.alpha_, rel=1e-9)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("partitions", [1, 5])
def test_dask_folds_by_labels_and_by_hash(table, partitions):
    ddf = dd.from_pandas(table, npartitions=partitions)
    by_labels = RidgeCV(alphas=[0.1, 10.0, 300.0], cv=ddf["fold"]).fit(
        ddf[FEATURES], ddf["sales"]
    )
    in_memory = RidgeCV(alphas=[0.1, 10.0, 300.0], cv=table["fold"].to_numpy()).fit(
        _dense(table), table["sales"]
    )
    np.testing.assert_allclose(
        by_labels.fold_scores_, in_memory.fold_scores_, rtol=1e-8
    )
    np.testing.assert_allclose(by_labels.coef_, in_memory.coef_, rtol=1e-8)
    # Hashed folds depend on each row's numeric values only: any partitioning.
    hashed = LassoCV(cv=3).fit(ddf[FEATURES], ddf["sales"])
    again = LassoCV(cv=3).fit(table[FEATURES], table["sales"])
    np.testing.assert_allclose(hashed.mse_path_, again.mse_path_, rtol=1e-8)
    assert hashed.alpha_ == pytest.approx(again.alpha_, rel=1e-12)


def test_a_level_seen_in_one_fold_only(table):
    frame = table.copy()
    rows = frame.index[frame["fold"] == 2][:15]
    frame.loc[rows, "region"] = "island"
    model = RidgeCV(alphas=[0.1, 10.0], cv=frame["fold"].to_numpy()).fit(
        frame[FEATURES], frame["sales"]
    )
    dense = RidgeCV(alphas=[0.1, 10.0], cv=frame["fold"].to_numpy()).fit(
        _dense(frame), frame["sales"]
    )
    assert "region[island]" in list(model.coef_names_)
    np.testing.assert_allclose(model.fold_scores_, dense.fold_scores_, rtol=1e-8)
    np.testing.assert_allclose(model.coef_, dense.coef_, rtol=1e-8)


def test_one_compute_for_every_fold_and_level(table, computes):
    ddf = dd.from_pandas(table, npartitions=4)
    ElasticNetCV(cv=ddf["fold"]).fit(ddf[FEATURES], ddf["sales"])
    assert len(computes) == 1


def test_group_splitter_on_pandas_and_new_levels_at_predict(table, tmp_path):
    model = RidgeCV(alphas=[0.1, 10.0], cv=GroupKFold(3)).fit(
        table[FEATURES], table["sales"], groups=table["fold"]
    )
    dense = RidgeCV(alphas=[0.1, 10.0], cv=GroupKFold(3)).fit(
        _dense(table), table["sales"], groups=table["fold"]
    )
    np.testing.assert_allclose(model.fold_scores_, dense.fold_scores_, rtol=1e-8)
    new = table[FEATURES].head(3).assign(region=["north", "mars", "east"])
    with pytest.raises(ValueError, match="X column 'region' has level 'mars'"):
        model.predict(new)
    model.set_params(handle_unknown="ignore")
    assert np.isfinite(model.predict(new)).all()
    model.save(tmp_path / "model.json")
    copy = load(tmp_path / "model.json")
    assert list(copy.coef_names_) == list(model.coef_names_)
    np.testing.assert_array_equal(copy.predict(new), model.predict(new))


def test_too_many_levels_fail_in_the_cross_validation_pass(table):
    ddf = dd.from_pandas(table.assign(order=table["price"].astype(str)), 3)
    with pytest.raises(
        ValueError, match="X column 'order' has more than max_levels=50"
    ):
        RidgeCV(cv=ddf["fold"], max_levels=50).fit(
            ddf[["price", "order"]], ddf["sales"]
        )
