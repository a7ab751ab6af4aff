"""The declarative parameter checks and the one private fitted attribute."""

import numpy as np
import pytest

from dask_linreg import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    LinearRegression,
    Ridge,
    RidgeCV,
)
from dask_linreg.linear_model._params import InvalidParameterError
from dask_linreg.linear_model._state import FitState

from ..conftest import make_regression

ESTIMATORS = [
    LinearRegression,
    Ridge,
    RidgeCV,
    ElasticNet,
    Lasso,
    ElasticNetCV,
    LassoCV,
]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_has_constraints_and_nothing_else_does(cls):
    # scikit-learn's check_param_validation asks the same.
    assert set(cls._parameter_constraints) == set(cls().get_params(deep=False))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_a_value_of_no_valid_type_is_named_in_scikit_learns_words(cls):
    bad = type("BadType", (), {})()
    X, y = make_regression(30, 3, seed=1)
    for name in cls().get_params(deep=False):
        with pytest.raises(
            InvalidParameterError,
            match=rf"^The '{name}' parameter of {cls.__name__} must be .* Got "
            r"<.*BadType object at .*> instead\.",
        ):
            cls(**{name: bad}).fit(X, y)


def test_an_invalid_parameter_is_both_a_value_and_a_type_error():
    # As scikit-learn's InvalidParameterError: callers catching either work.
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


def test_estimators_without_a_solver_check_their_parameters_without_one():
    for model in (RidgeCV(), ElasticNet(), LassoCV()):
        assert not hasattr(model, "solver")
        checked = model._check_params()
        assert "solver" not in checked


def test_checked_parameters_are_what_the_fit_uses():
    checked = RidgeCV(alphas=[1, 2.5])._check_params()
    np.testing.assert_array_equal(checked["alphas"], [1.0, 2.5])
    assert checked["alphas"].dtype == np.float64
    checked = ElasticNetCV(alphas=[0.1, 1.0, 0.5])._check_params()
    np.testing.assert_array_equal(checked["alphas"], [1.0, 0.5, 0.1])


def test_the_number_of_penalties_is_checked_against_the_targets():
    Ridge(alpha=[1.0, 2.0])._check_params()  # the targets are not known yet
    with pytest.raises(ValueError, match="Number of targets and number of penalties"):
        Ridge(alpha=[1.0, 2.0])._check_params(n_targets=3)


@pytest.mark.parametrize(
    "model",
    [
        LinearRegression(),
        Ridge(),
        RidgeCV(),
        RidgeCV(cv=3),
        ElasticNet(),
        LassoCV(cv=3),
    ],
    ids=lambda m: repr(m),
)
def test_the_fit_state_is_the_one_private_fitted_attribute(model):
    X, y = make_regression(60, 3, seed=2)
    before = set(vars(model))
    model.fit(X, y, sample_weight=np.full(60, 2.0))
    private = {k for k in set(vars(model)) - before if k.startswith("_")}
    assert private == {"_fit_state"}
    state = model._fit_state
    assert isinstance(state, FitState)
    assert state.target_names == ("y",) and state.y_is_1d and state.weighted_fit
    assert state.statistic.count == 60
    with pytest.raises(AttributeError):
        state.y_is_1d = False  # frozen: a fit replaces it whole


def test_partial_fit_and_merge_make_new_fit_states():
    X, y = make_regression(80, 3, seed=3)
    model = LinearRegression().partial_fit(X[:40], y[:40])
    first = model._fit_state
    model.partial_fit(X[40:], y[40:], sample_weight=np.ones(40))
    assert model._fit_state is not first and not first.weighted_fit
    assert model._fit_state.weighted_fit and model._fit_state.statistic.count == 80
    merged = LinearRegression().fit(X[:40], y[:40]) + LinearRegression().fit(
        X[40:], y[40:]
    )
    assert merged._fit_state.statistic.count == 80
