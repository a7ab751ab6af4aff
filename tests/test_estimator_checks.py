from sklearn.utils.estimator_checks import parametrize_with_checks

from dask_linreg import LinearRegression, Ridge, RidgeCV


@parametrize_with_checks(
    [
        LinearRegression(),
        Ridge(),
        Ridge(alpha=0.0, fit_intercept=False),
        RidgeCV(),
        RidgeCV(cv=3),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
