"""The ``cv`` of RidgeCV, ElasticNetCV and LassoCV: one check for all three."""

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold

from dask_linreg import ElasticNetCV, LassoCV, RidgeCV

ESTIMATORS = [
    lambda cv: RidgeCV(cv=cv),
    lambda cv: ElasticNetCV(alphas=5, cv=cv),
    lambda cv: LassoCV(alphas=5, cv=cv),
]
IDS = ["RidgeCV", "ElasticNetCV", "LassoCV"]


def small_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(n)


def as_input(X, y, kind):
    if kind == "numpy":
        return X, y
    return da.from_array(X, chunks=15), da.from_array(y, chunks=15)


def never_compute(dsk, keys, **kwargs):
    raise AssertionError("the data were read")


#: How every message about cv starts, scikit-learn's words.
CV = r"The 'cv' parameter of \w+ must be None, an int in the range \[2, inf\)"

KINDS = [
    (-3, rf"{CV}.* Got -3 instead\. Use cv=None \(.*\) or at least 2 folds"),
    (0, rf"{CV}.* Got 0 instead\. Use cv=None"),
    (1, rf"{CV}.* Got 1 instead\. Use cv=None"),
    ("abc", rf"{CV}.* Got 'abc' instead\. A string is not a cv\.$"),
    ("5", r"Got '5' instead\. A string is not a cv: pass the number itself, cv=5"),
    (1.5, rf"{CV}.* Got 1\.5 instead"),
    (True, rf"{CV}.* Got True instead"),
    ({}, rf"{CV}.* Got \{{\}} instead"),
    ({0, 1}, rf"{CV}.* Got \{{0, 1\}} instead"),
    ([], rf"{CV}.* Got \[\] instead\. cv as fold labels has shape \(0,\)"),
    (np.zeros((40, 2)), rf"{CV}.* Got an array of shape \(40, 2\) instead"),
    ([[0, 1], [1]], rf"{CV}.* Got .* instead\. cv is a ragged nested sequence"),
    (object(), rf"{CV}.* Got <object .* instead\. cv cannot be an object of type"),
    # Iterators as functions making them: each test reads a fresh one.
    (lambda: iter([1, 2]), r"must hold \(train, test\) pairs .*; split 0 is 1"),
    (lambda: iter([]), "cv is an iterable that yielded no splits"),
]


def describe(cv):
    """A test id without memory addresses."""
    if isinstance(cv, int | float | str | list | dict | set):
        return f"cv={cv!r}"
    return f"cv={'iterator' if callable(cv) else type(cv).__name__}"


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize(
    "cv, message",
    KINDS,
    ids=[describe(c) for c, _ in KINDS],
)
def test_a_cv_of_the_wrong_kind_is_named_before_the_data_are_read(
    cv, message, make, kind
):
    X, y = as_input(*small_data(), kind)
    if callable(cv):
        cv = cv()
    with dask.config.set(scheduler=never_compute):
        with pytest.raises(ValueError, match=message):
            make(cv).fit(X, y)


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_a_dask_collection_other_than_labels_is_a_type_error(make):
    X, y = small_data()
    # A column named "split" does not make a frame a splitter.
    frame = dd.from_pandas(pd.DataFrame({"split": np.arange(40) % 3}), npartitions=2)
    with pytest.raises(TypeError, match="cv is a Dask collection of type DataFrame"):
        make(frame).fit(da.from_array(X), da.from_array(y))
    with pytest.raises(ValueError, match="Dask fold labels must be 1D; got a 2D"):
        make(da.zeros((40, 2))).fit(da.from_array(X), da.from_array(y))


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_a_generator_of_splits_is_read_once_as_scikit_learn_does(make, kind):
    X, y = small_data()
    Xc, yc = as_input(X, y, kind)
    reference = make(list(KFold(4).split(X))).fit(Xc, yc)
    model = make(KFold(4).split(X)).fit(Xc, yc)
    scores = "scores_" if hasattr(model, "scores_") else "mse_path_"
    np.testing.assert_array_equal(getattr(model, scores), getattr(reference, scores))
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    with pytest.raises(ValueError, match="yielded no splits.*read only once"):
        model.fit(Xc, yc)  # the generator is spent


def kfold_splits(n=40, k=4):
    return [(train, test) for train, test in KFold(k).split(np.empty((n, 1)))]


def with_split(index, train=None, test=None):
    splits = kfold_splits()
    old_train, old_test = splits[index]
    splits[index] = (
        old_train if train is None else train(old_train),
        old_test if test is None else test(old_test),
    )
    return splits


BAD_SPLITS = [
    (
        with_split(1, test=lambda t: t + 30),
        r"cv split 1 has 10 test index\(es\) out of range for X with "
        r"n_samples=40 \(row positions 0 to 39\), e\.g\. 40",
    ),
    (
        with_split(0, test=lambda t: t - 5),
        r"cv split 0 has 5 test index\(es\) out of range.*e\.g\. -5",
    ),
    (
        with_split(2, train=lambda t: np.r_[t, 40]),
        r"cv split 2 has 1 train index\(es\) out of range",
    ),
    (
        with_split(0, test=lambda t: t.astype(float)),
        "cv split 0 must have 1-D arrays of integer row positions as test "
        "indices; got an array of dtype float64",
    ),
    (
        with_split(3, train=lambda t: t.reshape(-1, 1)),
        r"cv split 3 must have 1-D arrays .* as train indices.*shape \(30, 1\)",
    ),
    (with_split(1, test=lambda t: t[:0]), "cv split 1 holds out no rows"),
    (
        with_split(1, test=lambda t: np.r_[t, t[:1]]),
        "the test indices of split 1 repeat rows",
    ),
    (
        with_split(0, train=lambda t: t[:-2]),
        "cv split 0 must train on exactly the rows it does not hold out.*hold 28 "
        "row.*30 rows are not held out",
    ),
    (
        with_split(0, train=lambda t: np.r_[t, t[:1]]),
        "cv split 0 must train on exactly the rows.*31 row.*30 distinct",
    ),
    ([(np.arange(30), np.arange(30, 40), 0)], r"\(train, test\) (tuples|pairs)"),
]


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("splits, message", BAD_SPLITS)
def test_splits_that_do_not_fit_the_rows_are_named(splits, message, make, kind):
    X, y = as_input(*small_data(), kind)
    with pytest.raises(ValueError, match=message):
        make(splits).fit(X, y)
    with pytest.raises(ValueError, match=message):
        make(iter(splits)).fit(X, y)


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_more_hashed_folds_than_rows_is_an_error_before_the_pass(make, kind):
    X, y = as_input(*small_data(), kind)
    message = (
        "Cannot have number of folds cv=50 greater than the number of samples: "
        "n_samples=40"
    )
    with dask.config.set(scheduler=never_compute):
        with pytest.raises(ValueError, match=message):
            make(50).fit(X, y)
        with pytest.raises(ValueError, match="cv=1000000 greater"):
            make(10**6).fit(X, y)


def filtered_frame(n=40):
    """A Dask frame whose row count is unknown until the pass."""
    X, y = small_data(n)
    frame = pd.DataFrame(X, columns=list("abc")).assign(y=y)
    ddf = dd.from_pandas(frame, npartitions=4)
    ddf = ddf[ddf["a"] < np.inf]
    return ddf[list("abc")], ddf["y"]


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_hashed_folds_left_empty_are_an_error_after_the_pass(make):
    X, y = filtered_frame()
    assert np.isnan(X.to_dask_array().shape[0])
    with pytest.raises(
        ValueError,
        match="Cannot have number of folds cv=50 greater than the number of "
        r"samples of positive weight: got 40 \(n_samples=40\)",
    ):
        make(50).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"cv=30 asks for 30 folds, but only \d+ of them have rows of "
        r"positive weight \(n_samples=40\).*KFold\(30\)",
    ):
        make(30).fit(X, y)
    X, y = small_data()
    with pytest.raises(ValueError, match=r"only \d+ of them have rows"):
        make(30).fit(X, y)  # in memory: the same, after the pass


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_fewer_rows_of_positive_weight_than_folds_is_an_error(make, kind):
    X, y = small_data()
    weights = np.zeros(40)
    weights[:3] = 1.0
    if kind == "dask":
        X, y = as_input(X, y, kind)
        weights = da.from_array(weights, chunks=15)
    with pytest.raises(
        ValueError, match=r"cv=5 greater .* of positive weight: got 3 \(n_samples=40\)"
    ):
        make(5).fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_missing_fold_labels_are_named_cv(make):
    X, y = small_data()
    labels = np.r_[[np.nan] * 20, [1.0] * 20]
    message = r"cv contains 20 missing label\(s\)"
    with pytest.raises(ValueError, match=message):
        make(labels).fit(X, y)
    with pytest.raises(ValueError, match=message):
        make(pd.Series(labels)).fit(pd.DataFrame(X), pd.Series(y))
    frame = dd.from_pandas(
        pd.DataFrame(X, columns=list("abc")).assign(y=y, fold=labels), npartitions=4
    )
    with pytest.raises(ValueError, match=message):
        make(frame["fold"]).fit(frame[list("abc")], frame["y"])
    with pytest.raises(ValueError, match="X has 40 rows but cv has 39"):
        make(labels[:39]).fit(X, y)
