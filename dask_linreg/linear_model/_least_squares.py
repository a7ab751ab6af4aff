"""Least squares and Ridge: LinearRegression, Ridge and their inference."""

import functools
import numbers
from dataclasses import replace

import numpy as np
from sklearn.utils.validation import check_is_fitted

from dask_linreg._dask.graph import TWO_WAY_NAMES, reduce_scores
from dask_linreg._dask.inputs import check_fit_inputs
from dask_linreg._numerics.grouped import (
    TwoWayGroupedMoments,
    leave_one_out_coefficients,
)
from dask_linreg._numerics.sandwich import (
    LevelScoreModel,
    ScoreModel,
    ScoreSums,
    TwoWayScores,
    design_root,
    fit_summary,
    robust_covariance,
)
from dask_linreg._numerics.solve import solve_nonnegative
from dask_linreg.inference._results import RegressionResults
from dask_linreg.inference._summary import Summary
from dask_linreg.linear_model._base import (
    DEFAULT_MAX_LEVELS,
    FIT_INTERCEPT,
    HANDLE_UNKNOWN,
    MAX_LEVELS,
    MISSING,
    SOLVED_ATTRIBUTES,
    SOLVER,
    SPLIT_EVERY,
)
from dask_linreg.linear_model._errors import require_statistics
from dask_linreg.linear_model._inference_args import (
    check_inference_arguments,
    check_robust_pass,
    cluster_groups,
    formula_training_data,
)
from dask_linreg.linear_model._mergeable import _MergeableLinearModel
from dask_linreg.linear_model._params import (
    ArrayOf,
    Boolean,
    Interval,
    penalties_per_target,
)

__all__ = ["LinearRegression", "Ridge"]

#: A penalty: finite and non-negative.
_NON_NEGATIVE = Interval(numbers.Real, 0, None, closed="left")


class LinearRegression(_MergeableLinearModel):
    """Ordinary least squares in one pass over in-memory or Dask data
    (two on ill-conditioned data, with ``solver="auto"``).

    Minimizes ``sum_i w_i (y_i - x_i @ coef - intercept)**2``, like
    :class:`sklearn.linear_model.LinearRegression`.  Each block of rows is
    reduced to its weighted count, means and centered cross-products of
    ``[X | y]``; these are merged pairwise in a tree inside the Dask graph,
    and the small ``n_features``-by-``n_features`` system is solved on the
    client.  Ordinary data are read exactly once; see ``solver``.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit an intercept.  If False, the data are not centered.
    positive : bool, default=False
        Constrain the coefficients (not the intercept) to be non-negative,
        as scikit-learn's ``positive=True``: solved on the client from the
        same statistics by non-negative least squares (Lawson & Hanson), no
        extra pass.  Classical inference is not offered for it.
    solver : {"auto", "cholesky", "qr", "exact"}, default="auto"
        How the coefficients are computed; see the user guide's numerics
        page.

        - ``"cholesky"``: centered normal equations from one pass; the
          fastest, but they square the condition number.
        - ``"qr"``: a mergeable triangular factor (TSQR) of the centered,
          weighted ``[X | y]`` from one pass; the condition number is not
          squared (accuracy of a QR least-squares solver).
        - ``"exact"``: error-free cross-products from one pass (about 10 to
          30 times the cost of ``"cholesky"``), solved in rational
          arithmetic: at full rank, the exact least-squares solution of the
          float64 data, correctly rounded.
        - ``"auto"``: ``"cholesky"``, then, when its estimated accuracy is
          below 9 digits, a second pass with ``"exact"`` (up to 64 columns
          in ``[X | y]``) or ``"qr"``.
    split_every : int, default=None
        Fan-in of the tree that merges the per-block statistics, as in
        :func:`dask.array.reduction`.  None chooses it by the size of the
        statistic: 32 for up to 180 columns of ``[X | y]``, fewer as the
        statistic grows (at most 8 MiB of statistics per merge), 8 from 362
        columns.
    missing : {"raise", "drop"}, default="raise"
        Rows with a missing value (NaN, None or ``pd.NA``) in X, y or
        sample_weight: ``"raise"`` names the input, column and first row
        block; ``"drop"`` leaves them out inside the same pass and counts
        them (``inference().n_dropped``, shown by ``summary()``), as
        statsmodels' ``missing="drop"``.  inf is never dropped.
    max_levels : int or None, default=1000
        The most levels a categorical column of X may have; checked on the
        workers as levels accumulate, so that an identifier passed by
        mistake fails at once, naming the column.  None: no limit.
    handle_unknown : {"error", "ignore"}, default="error"
        What ``predict`` does with a level of a categorical column that the
        model was not fitted on: raise, naming the column and the level, or
        predict it as the reference level (all its indicators zero).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Estimated coefficients; 2-D when y is 2-D.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    rank_ : int
        Numerical rank of the (centered, weighted) design, decided on the
        column-scaled problem; see Notes.
    singular_ : ndarray of shape (min(n_samples, n_features),)
        Singular values of the centered, weighted design, largest first.
        When the normal equations solved the fit by Cholesky, they are
        computed on first access from the stored cross-products (an
        eigendecomposition the fit itself does not need).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit; only when X has string
        column names (pandas or Dask DataFrame).
    coef_names_ : ndarray of shape (n_coefficients,)
        Names of the columns of ``coef_`` when X has categorical columns
        (each expands into indicators named as statsmodels prints them,
        ``region[T.north]``); absent otherwise.  See :doc:`/real_tables`.
    categories_ : dict of str to ndarray
        Each categorical column's levels, in the model's order; absent
        without categorical columns.
    solver_ : str
        The method that produced ``coef_``: ``"cholesky"``, ``"qr"`` or
        ``"exact"``.
    digits_ : float
        Estimated correct significant digits of ``coef_`` relative to the
        exact least-squares solution of the float64 data.
    n_passes_ : int
        Passes over the data that ``fit`` took (1, or 2 when ``"auto"``
        escalated).

    See Also
    --------
    Ridge : Least squares with an L2 penalty.
    sklearn.linear_model.LinearRegression : The in-memory reference.

    Notes
    -----
    The statistics are merged with the pairwise formulas of Chan, Golub &
    LeVeque, and each block is centered near its own mean in cache-sized
    pieces, so columns with a large offset (timestamps, identifiers) lose no
    digits to cancellation and X is never copied.

    With ``solver="cholesky"`` (and the first pass of ``"auto"``) the
    coefficients solve the normal equations, which square the condition
    number of the scaled, centered design: about ``16 - 2 log10(cond)``
    correct digits.  Its rank decision drops scaled singular values below
    ``1e-6`` times the largest; ``"qr"`` and ``"exact"`` drop those below
    ``10 * eps * n_features`` times the largest.  Rank-deficient designs
    (duplicate or collinear columns, fewer rows than columns) get the
    minimum-norm solution, as with scikit-learn.  ``"auto"`` takes its
    second pass when the normal equations promise fewer than 9 digits,
    dropped a direction, or when a column's magnitude is beyond what float64
    products handle (below about 1e-150 or above 1e150).  With
    ``"cholesky"``, ``singular_`` values below about ``1e-8`` times the
    largest are rounding noise.  See the numerics page of the documentation.

    References
    ----------
    T. F. Chan, G. H. Golub and R. J. LeVeque, "Algorithms for computing the
    sample variance: analysis and recommendations", The American
    Statistician 37(3), 1983.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from dask_linreg import LinearRegression
    >>> X = da.from_array(np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 3.0]]), chunks=2)
    >>> y = X @ np.array([1.0, 2.0]) + 3.0
    >>> model = LinearRegression().fit(X, y)
    >>> model.coef_.round(6), round(model.intercept_, 6)
    (array([1., 2.]), 3.0)
    >>> model.predict(X)
    dask.array<...>
    >>> model.predict(X).compute()
    array([ 6.,  8.,  9., 11.])
    """

    _parameter_constraints: dict = {
        "fit_intercept": FIT_INTERCEPT,
        "positive": [Boolean()],
        "solver": SOLVER,
        "split_every": SPLIT_EVERY,
        "missing": MISSING,
        "max_levels": MAX_LEVELS,
        "handle_unknown": HANDLE_UNKNOWN,
    }
    _fitted_attributes: dict = {
        **SOLVED_ATTRIBUTES,
        "rank_": ("int", ()),
        "singular_": ("float", ("n_singular",)),
    }

    def __init__(
        self,
        *,
        fit_intercept=True,
        positive=False,
        solver="auto",
        split_every=None,
        missing="raise",
        max_levels=DEFAULT_MAX_LEVELS,
        handle_unknown="error",
    ):
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.solver = solver
        self.split_every = split_every
        self.missing = missing
        self.max_levels = max_levels
        self.handle_unknown = handle_unknown

    def _solve(self, result, n_features, alpha):
        solution, x_offset, y_offset = super()._solve(result, n_features, alpha)
        if self.positive:
            # Constrained on the client, from the same statistic: a root of
            # the cross-products stands in for the data.
            root = design_root(
                result,
                n_features,
                fit_intercept=self.fit_intercept,
                factor=solution.factor,
            ).root
            coef = solve_nonnegative(root[:, :n_features], root[:, n_features:])
            solution = replace(solution, coef=coef)
        return solution, x_offset, y_offset

    def fit(self, X, y, sample_weight=None):
        """Fit the linear model in one pass over the data.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            Training data.  Dask arrays may have any chunking, including row
            blocks of unknown size; column blocks are read side by side.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
            Target values, with the same row blocks as X when X is a Dask
            collection of unknown block sizes.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Non-negative individual weights for each sample.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        ValueError
            If X, y or sample_weight hold NaN or inf, if a weight is
            negative, or if the row blocks of X and y do not match; found in
            the same pass, naming the input and the first row block.
        TypeError
            If a column is neither numeric nor categorical (category,
            string or bool dtype; see :doc:`/real_tables`), before anything
            is computed.
        """
        self._fit(X, y, sample_weight)
        return self

    def _store_fit(self, state, solved, n_passes, warn=True):
        solution = super()._store_fit(state, solved, n_passes, warn)
        self.rank_ = solution.rank
        if solution.singular is None:
            # Computed on first access (the cached property below).
            self.__dict__.pop("singular_", None)
        else:
            self.singular_ = solution.singular
        return solution

    @functools.cached_property
    def singular_(self):
        # The normal equations solved by Cholesky need no spectrum: the
        # eigenvalues of the stored cross-products are taken when asked
        # for (a third of the solve's work at 2,000 columns).
        state = self.__dict__.get("_fit_state")
        if state is None or state.statistic is None:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute 'singular_'"
            )
        return state.statistic.singular_values(
            self._n_coefficients, fit_intercept=self.fit_intercept
        )

    def _inference_summary(self):
        """The pass-free part of the inference, computed once per fit: kept
        with the fit state it is of, in ``_inference_cache``."""
        require_statistics(self, "inference")
        state = self._fit_state
        cached = getattr(self, "_inference_cache", None)
        if cached is None or cached[0] is not state:
            design = design_root(
                state.statistic,
                self._n_coefficients,
                fit_intercept=self.fit_intercept,
                factor=state.solve_factor,
            )
            coef = np.reshape(self.coef_, (-1, self._n_coefficients)).T
            self._inference_cache = (state, fit_summary(design, coef, self.rank_))
        return self._inference_cache[1]

    def inference(
        self,
        X=None,
        y=None,
        *,
        sample_weight=None,
        cov_type="nonrobust",
        groups=None,
        use_t=None,
    ):
        """Standard errors, tests and intervals of the fitted coefficients.

        The classical (``"nonrobust"``) inference comes from the statistics
        the fit already merged: no pass over the data.  Robust covariances
        take exactly one pass over the training data, which must be passed
        again.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features), default=None
            The training data; only for robust ``cov_type``.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets), default=None
            The training targets; only for robust ``cov_type``.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            The weights of the fit, if any; only for robust ``cov_type``.
        cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "CRV3"}, default="nonrobust"
            Covariance of the coefficients: classical ``scale * (X'WX)^-1``;
            White's heteroskedasticity-consistent HC0 to HC3 (MacKinnon &
            White); or cluster-robust (CR1) with ``groups``.  A model fitted
            by ``ols(..., cluster=column)`` kept its clusters' statistics:
            ``"cluster"`` then needs no data, and ``"CRV3"`` (the cluster
            jackknife, pyfixest's) is available.
        groups : array-like, dask collection or str, default=None
            Cluster label of each row, for ``cov_type="cluster"``; any
            sortable labels (integers, strings).  For a model fitted from a
            formula, the name of a column of the data.  Two of them (a
            tuple, or a DataFrame of two columns): two-way clustering
            (Cameron, Gelbach & Miller; fixest's ``"firm+year"``).
        use_t : bool, default=None
            Whether p-values and intervals use the t distribution (on
            ``df_resid``, or number of clusters minus one) or the normal.
            None: t for ``"nonrobust"``, normal for robust covariances
            (statsmodels' defaults).

        Returns
        -------
        results : RegressionResults or list of RegressionResults
            One per target (a list when y was 2-D).

        Raises
        ------
        ValueError
            If a robust ``cov_type`` is asked for without X and y, if X and
            y are passed for ``"nonrobust"``, or if the data of the robust
            pass are not those of the fit (other rows or residuals).

        Notes
        -----
        Weights are precision weights, as in statsmodels' ``WLS``: ``scale``
        is ``sum(w r**2) / df_resid``; rows of zero weight are absent (they
        count in neither ``nobs`` nor the clusters).  Without an intercept
        R² and F are uncentered.  In a rank-deficient fit, coefficients with
        a component along a null direction of the design are reported as not
        identified; ``df_model`` is the rank.

        Examples
        --------
        >>> import numpy as np
        >>> from dask_linreg import LinearRegression
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
        >>> y = np.array([1.0, 3.0, 4.0, 7.0, 9.0])
        >>> results = LinearRegression().fit(X, y).inference()
        >>> results.bse.round(4)
        intercept    0.4000
        x0           0.1633
        Name: std err, dtype: float64
        >>> round(results.rsquared, 4), round(float(results.pvalues["x0"]), 5)
        (0.9804, 0.00117)
        """
        check_is_fitted(self)
        if self.positive:
            raise ValueError(
                "inference is not available for positive=True: the standard "
                "errors of constrained estimates are not the classical ones."
            )
        clusters = self._fit_state.clusters
        if cov_type == "CRV3" and clusters is None:
            raise ValueError(
                "cov_type='CRV3' (the cluster jackknife) needs the clusters' "
                "statistics of the fit: fit with ols(formula, data, cluster=...)."
            )
        if cov_type in ("cluster", "CRV3") and clusters is not None and X is None:
            if y is not None or groups is not None:
                raise ValueError(
                    "this model kept its clusters' statistics at fit time "
                    f"(cluster={clusters.factor_name!r}): cov_type={cov_type!r} "
                    "needs no data, y or groups."
                )
        else:
            check_inference_arguments(
                cov_type,
                X,
                y,
                groups,
                use_t,
                y_in_x=self._fit_state.formula is not None,
            )
        summary = self._inference_summary()
        if "coef_names_" in vars(self):
            names = list(self.coef_names_)
        elif hasattr(self, "feature_names_in_"):
            names = list(self.feature_names_in_)
        else:
            names = [f"x{i}" for i in range(self.n_features_in_)]
        if self.fit_intercept:
            names = ["intercept", *names]
        coef = np.reshape(self.coef_, (-1, self._n_coefficients))
        intercept = np.reshape(self.intercept_, -1) * np.ones(coef.shape[0])
        n_groups = None
        if cov_type == "nonrobust":
            covariances = [
                summary.centered_cov * (r_ss / summary.df_resid)
                if summary.df_resid > 0
                else np.full_like(summary.centered_cov, np.nan)
                for r_ss in summary.ssr
            ]
        elif cov_type in ("cluster", "CRV3") and clusters is not None and X is None:
            covariances, n_groups = _kept_cluster_covariances(
                summary,
                clusters,
                self._fit_state.statistic,
                coef,
                jackknife=cov_type == "CRV3",
            )
        else:
            covariances, n_groups = self._robust_covariances(
                summary, X, y, sample_weight, groups, cov_type
            )
        use_t = (cov_type == "nonrobust") if use_t is None else bool(use_t)
        results = []
        for t in range(coef.shape[0]):
            params = coef[t]
            if self.fit_intercept:
                params = np.concatenate([[intercept[t]], params])
            results.append(
                RegressionResults(
                    model=self,
                    target=self._fit_state.target_names[t],
                    params=params,
                    names=names,
                    summary=summary,
                    target_index=t,
                    centered_cov=covariances[t],
                    cov_type=cov_type,
                    use_t=use_t,
                    n_groups=n_groups,
                )
            )
        return results if np.ndim(self.coef_) == 2 else results[0]

    def _robust_covariances(self, summary, X, y, sample_weight, groups, cov_type):
        """One pass over the training data for the sandwich covariances."""
        formula = self._fit_state.formula
        groups = cluster_groups(groups) if cov_type == "cluster" else groups
        two_way = isinstance(groups, tuple)
        if two_way and formula is None and any(isinstance(g, str) for g in groups):
            raise ValueError(
                f"groups={groups!r} names columns, which only a model fitted by "
                "dask_linreg.ols can look up: pass the labels, one per row."
            )
        if formula is not None:
            X, y, sample_weight, groups = formula_training_data(
                formula, X, y, sample_weight, groups
            )
        design = self._fit_design()
        if two_way and design is not None:
            raise ValueError(
                "two-way clustering of a model with categorical columns is not "
                "supported yet: cluster one way, or encode the columns first."
            )
        inputs = check_fit_inputs(
            self,
            X,
            y,
            sample_weight,
            reset=False,
            labels=groups,
            labels_name=TWO_WAY_NAMES if two_way else "groups",
            categorical=design is not None,
        )
        coef = np.reshape(self.coef_, (-1, self._n_coefficients))
        if inputs.n_targets != coef.shape[0]:
            raise ValueError(
                f"y has {inputs.n_targets} target(s) but the model was fitted on "
                f"{coef.shape[0]}."
            )
        labels = inputs.labels
        model = ScoreModel(
            coef=coef.T,
            x_mean=summary.x_mean,
            y_mean=summary.y_mean,
            fit_intercept=self.fit_intercept,
            cov_type=cov_type,
            centered_cov=summary.centered_cov,
        )
        options = {
            "split_every": self.split_every,
            "scheduler": "threads" if inputs.local else None,
            "missing": self.missing,
        }
        if design is not None:
            if inputs.design is None or inputs.design.factors != design.factors:
                raise ValueError(
                    "X is not the data the model was fitted on: it was fitted with "
                    f"the categorical columns {list(design.factors)}."
                )
            sums, faults = reduce_scores(
                inputs.x,
                inputs.y,
                inputs.sample_weight,
                labels,
                LevelScoreModel(
                    model,
                    design.terms,
                    design.levels,
                    design.numeric,
                    design.factors,
                    design.indicator_terms(),
                ),
                factors=inputs.factors,
                message_names=design.message_names(),
                **options,
            )
            faults.raise_if_any(np.asarray(design.numeric, dtype=object))
        else:
            sums, faults = reduce_scores(
                inputs.x, inputs.y, inputs.sample_weight, labels, model, **options
            )
            faults.raise_if_any(inputs.features.names)
        check_robust_pass(summary, sums, cov_type)
        return robust_covariance(summary, sums, cov_type)

    def summary(
        self,
        X=None,
        y=None,
        *,
        sample_weight=None,
        cov_type="nonrobust",
        groups=None,
        use_t=None,
        alpha=0.05,
    ):
        """A statsmodels-style regression summary of the fit.

        ``print(model.summary())`` shows the table; its ``coefficients`` and
        ``statistics`` attributes hold the same numbers as DataFrames.  The
        parameters are those of :meth:`inference` (no pass for
        ``"nonrobust"``, one for robust covariances), plus ``alpha``.

        Parameters
        ----------
        X, y, sample_weight, cov_type, groups, use_t
            See :meth:`inference`.
        alpha : float, default=0.05
            Level of the confidence intervals.

        Returns
        -------
        Summary
        """
        results = self.inference(
            X,
            y,
            sample_weight=sample_weight,
            cov_type=cov_type,
            groups=groups,
            use_t=use_t,
        )
        return Summary(results if isinstance(results, list) else [results], alpha)


class Ridge(_MergeableLinearModel):
    """Linear least squares with L2 regularization, in one pass (two on
    ill-conditioned data, with ``solver="auto"``).

    Minimizes ``sum_i w_i (y_i - x_i @ coef - intercept)**2 + alpha *
    ||coef||**2``: the objective and the scale of ``alpha`` of
    :class:`sklearn.linear_model.Ridge`; the intercept is not penalized.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Non-negative penalty; one value per target is allowed.
    fit_intercept : bool, default=True
        Whether to fit an intercept.  If False, the data are not centered.
    solver : {"auto", "cholesky", "qr", "exact"}, default="auto"
        How the coefficients are computed; see the user guide's numerics
        page.

        - ``"cholesky"``: centered normal equations from one pass; the
          fastest, but they square the condition number.
        - ``"qr"``: a mergeable triangular factor (TSQR) of the centered,
          weighted ``[X | y]`` from one pass; the condition number is not
          squared (accuracy of a QR least-squares solver).
        - ``"exact"``: error-free cross-products from one pass (about 10 to
          30 times the cost of ``"cholesky"``), solved in rational
          arithmetic: at full rank, the exact least-squares solution of the
          float64 data, correctly rounded.
        - ``"auto"``: ``"cholesky"``, then, when its estimated accuracy is
          below 9 digits, a second pass with ``"exact"`` (up to 64 columns
          in ``[X | y]``) or ``"qr"``.
    split_every : int, default=None
        Fan-in of the tree that merges the per-block statistics.  None
        chooses it by the size of the statistic, as in
        :class:`LinearRegression` (32 up to 180 columns of ``[X | y]``, 8
        from 362).
    missing : {"raise", "drop"}, default="raise"
        ``"drop"`` leaves out the rows with a missing value in X, y or the
        weights (see :class:`LinearRegression`).
    max_levels : int or None, default=1000
        The most levels a categorical column of X may have (see
        :class:`LinearRegression`).
    handle_unknown : {"error", "ignore"}, default="error"
        What ``predict`` does with a level not seen in the fit: raise, or
        give it no indicator (every indicator of the column zero).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weight vector(s).
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit; only when X has string
        column names.
    coef_names_ : ndarray of shape (n_coefficients,)
        Names of the columns of ``coef_`` when X has categorical columns
        (each expands into indicators named as statsmodels prints them,
        with every level: ``region[north]``); absent otherwise.  See :doc:`/real_tables`.
    categories_ : dict of str to ndarray
        Each categorical column's levels, in the model's order; absent
        without categorical columns.
    solver_ : str
        The method that produced ``coef_``: ``"cholesky"``, ``"qr"`` or
        ``"exact"``.
    digits_ : float
        Estimated correct significant digits of ``coef_`` relative to the
        exact least-squares solution of the float64 data.
    n_passes_ : int
        Passes over the data that ``fit`` took (1, or 2 when ``"auto"``
        escalated).

    See Also
    --------
    LinearRegression : Ordinary least squares.
    sklearn.linear_model.Ridge : The in-memory reference.

    Notes
    -----
    Uses the same pass and statistics as :class:`LinearRegression` and
    solves ``(Xc.T W Xc + alpha I) coef = Xc.T W yc`` (``Xc``, ``yc``
    centered at the weighted means), per distinct alpha: by Cholesky with
    ``"cholesky"``, by QR of ``[R; sqrt(alpha) I]`` with ``"qr"``, and
    exactly (integer elimination) with ``"exact"``.  ``"auto"`` escalates
    when ``(s_max**2 + alpha) / (s_min**2 + alpha)`` leaves fewer than 9
    digits.  ``alpha=0`` gives the minimum-norm least-squares solution.

    Examples
    --------
    >>> import numpy as np
    >>> from dask_linreg import Ridge
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> Ridge(alpha=5.0).fit(X, y).coef_
    array([0.5])
    """

    _single_target_coef_is_1d = True
    _full_one_hot = True

    _parameter_constraints: dict = {
        "alpha": [_NON_NEGATIVE, ArrayOf(_NON_NEGATIVE, "(n_targets,)")],
        "fit_intercept": FIT_INTERCEPT,
        "solver": SOLVER,
        "split_every": SPLIT_EVERY,
        "missing": MISSING,
        "max_levels": MAX_LEVELS,
        "handle_unknown": HANDLE_UNKNOWN,
    }
    _fitted_attributes: dict = SOLVED_ATTRIBUTES

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        solver="auto",
        split_every=None,
        missing="raise",
        max_levels=DEFAULT_MAX_LEVELS,
        handle_unknown="error",
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.split_every = split_every
        self.missing = missing
        self.max_levels = max_levels
        self.handle_unknown = handle_unknown

    def fit(self, X, y, sample_weight=None):
        """Fit the ridge model in one pass over the data.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            Training data.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Non-negative individual weights for each sample.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        ValueError
            For a negative, non-finite or misshapen alpha (before any
            computation), and for the value faults listed in
            :meth:`LinearRegression.fit`.
        TypeError
            If a column is neither numeric nor categorical.
        """
        self._fit(X, y, sample_weight)
        return self

    def _penalties(self, checked, n_targets):
        return penalties_per_target(checked["alpha"], n_targets)


def _kept_cluster_covariances(summary, clusters, total, coef, *, jackknife=False):
    """CR1 (or, ``jackknife``, CRV3) covariances from the per-cluster
    moments a fit kept (no pass); ``total`` is the fit's statistic, their
    merge.

    CRV3 is pyfixest's: ``G / (G - 1) (n - 1) / (n - k) sum_g (b_g -
    b)(b_g - b)'`` over the leave-one-cluster-out fits ``b_g`` about the
    full fit ``b`` (MacKinnon, Nielsen & Webb's jackknife, with CR1's
    small-sample factor).
    """
    # Clusters of no positive weight add nothing and, as in the robust
    # pass, are not counted.
    if isinstance(clusters, TwoWayGroupedMoments):
        clusters = TwoWayGroupedMoments(
            *(
                part.subset(part.weights > 0)
                for part in (clusters.first, clusters.second, clusters.both)
            )
        )
    else:
        clusters = clusters.subset(clusters.weights > 0)
    if isinstance(clusters, TwoWayGroupedMoments):
        if jackknife:
            raise ValueError(
                "cov_type='CRV3' (the cluster jackknife) is one-way: this model "
                f"was fitted clustered two ways ({clusters.factor_name}); use "
                "cov_type='cluster'."
            )
        sums = TwoWayScores(
            *(
                ScoreSums(
                    total.count,
                    total.positive_count,
                    summary.ssr,
                    None,
                    part.keys,
                    part.cluster_scores(
                        coef.T, total, fit_intercept=summary.fit_intercept
                    ),
                )
                for part in (clusters.first, clusters.second, clusters.both)
            )
        )
        check_robust_pass(summary, sums, "cluster")
        return robust_covariance(summary, sums, "cluster")
    if jackknife:
        replicates = leave_one_out_coefficients(
            clusters, total, coef.shape[1], fit_intercept=summary.fit_intercept
        )
        n_groups = len(replicates)
        if n_groups < 2:
            raise ValueError("cov_type='CRV3' needs at least 2 clusters.")
        # About the full fit, in the replicates' parametrization (y and x
        # centered at the full means: the full fit's intercept is 0 there).
        full = coef[0]
        if summary.fit_intercept:
            full = np.concatenate([[0.0], full])
        deviation = replicates - full
        k = deviation.shape[1]
        factor = n_groups / (n_groups - 1) * (summary.nobs - 1) / (summary.nobs - k)
        return [factor * deviation.T @ deviation], n_groups
    scores = clusters.cluster_scores(coef.T, total, fit_intercept=summary.fit_intercept)
    sums = ScoreSums(
        total.count, total.positive_count, summary.ssr, None, clusters.keys, scores
    )
    check_robust_pass(summary, sums, "cluster")
    return robust_covariance(summary, sums, "cluster")
