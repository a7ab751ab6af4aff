from sklearn.utils.estimator_checks import parametrize_with_checks

from dask_linreg import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    LinearRegression,
    Ridge,
    RidgeCV,
)


@parametrize_with_checks(
    [
        LinearRegression(),
        Ridge(),
        Ridge(alpha=0.0, fit_intercept=False),
        RidgeCV(),
        RidgeCV(cv=3),
        ElasticNet(),
        Lasso(),
        ElasticNetCV(cv=3, alphas=10),
        LassoCV(cv=3, alphas=10),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
