"""Least squares with absorbed fixed effects (the within estimator), in
one pass: ``ols("y ~ x1 + x2 | firm", data)``, ``"... | firm + year"``."""

import numbers
import warnings
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from dask_linreg._dask.columns import is_dask
from dask_linreg._dask.formula import design_frames
from dask_linreg._dask.graph import (
    TWO_WAY_NAMES,
    one_label_kernel,
    reduce_absorbed_scores,
    reduce_row_pass,
)
from dask_linreg._dask.indicators import found_kernel, found_statistic
from dask_linreg._dask.inputs import check_fit_inputs, default_keyed_bytes
from dask_linreg._numerics.absorbed import (
    AbsorbedScoreModel,
    block_group_moments,
    without_absorbed_columns,
)
from dask_linreg._numerics.cluster_cells import block_with_cluster_cells
from dask_linreg._numerics.demean import solve_by_passes
from dask_linreg._numerics.multiway import (
    AbsorbedFactors,
    absorb_factors,
    block_multiway_moments,
    level_cells,
)
from dask_linreg._numerics.sandwich import (
    ScoreModel,
    ScoreSums,
    TwoWayScores,
    design_root,
    fit_summary,
    robust_covariance,
)
from dask_linreg.inference._results import RegressionResults
from dask_linreg.linear_model._base import (
    MISSING,
    SPLIT_EVERY,
    _OnePassLinearModel,
    fit_state,
)
from dask_linreg.linear_model._errors import no_samples_error
from dask_linreg.linear_model._inference_args import (
    check_robust_pass,
    cluster_groups,
    formula_training_data,
)
from dask_linreg.linear_model._params import ColumnNames, Interval, Options

__all__ = ["FixedEffectsRegression"]


class FixedEffectsRegression(_OnePassLinearModel):
    """Least squares with the fixed effects of one or more columns absorbed,
    in one pass.

    Fits ``y = X b + alpha_g + gamma_h + ... + e``, ``g``, ``h``... the
    levels of the columns ``absorb``, by the within estimator (fixest's
    ``feols(y ~ x | g + h)``, Stata's ``areg``/``reghdfe``): the slopes
    ``b`` from the rows demeaned by every factor, the fixed effects from the
    levels' means.  Nothing is demeaned iteratively and the data are read
    once: each block of rows yields its levels' weighted means and pooled
    within-level co-moments per factor (and, for several factors, the
    weighted count of each combination of levels), merged by key; the
    client solves the absorbed normal equations exactly (see
    :mod:`dask_linreg._numerics.absorbed` and
    :mod:`dask_linreg._numerics.multiway`).

    Parameters
    ----------
    absorb : str or list of str
        The column(s) of X whose levels are absorbed (any labels).
    fixef_rm : {"singleton", "none"}, default="singleton"
        ``"singleton"`` leaves out, round by round until none is left, the
        rows of levels with a single observation, as fixest and pyfixest do
        by default: such a row is fitted exactly, tells nothing about the
        slopes and only inflates ``nobs`` (the rows are counted in
        ``n_singletons_``).
    missing : {"raise", "drop"}, default="raise"
        As in :class:`LinearRegression`; a missing level drops its row too.
    split_every : int, default=None
        Fan-in of the merge tree.
    split_out : int, default=1
        Merge the per-level statistics in this many trees, each of the
        levels of one hash partition (Dask's ``groupby(split_out=)``
        shuffle): each block's levels move once and no task but the last
        holds every level.  Worth it on a cluster
        with many levels in every partition; on the threaded scheduler the
        one tree is as fast.
    max_bytes : int or None, default=None
        The most bytes the per-level statistics of one factor may take (they
        are held and merged on the workers and solved on the client): about
        ``(p + 5) * 8`` bytes per level, ``p`` the columns of ``[X | y]``;
        with several factors, also the cross-counts (``(k + 3) * 8`` bytes
        per distinct combination of ``k`` levels that occurs) and the dense
        system of the levels of all factors but the largest (16 bytes per
        pair of them; ``fixef_solver="auto"`` solves by conjugate gradients
        instead when it would not fit).  None: a quarter of this machine's
        memory.  Checked on the workers as levels accumulate, and on the
        client before the solve: too many raise :class:`MemoryError` naming
        the columns.
    fixef_solver : {"auto", "direct", "cg", "passes"}, default="auto"
        Several factors: how the absorbed normal equations over the levels
        of all factors but the largest are solved on the client.
        ``"direct"``: a Cholesky factorization of their dense Schur
        complement, exact, ``16 H**2`` bytes and ``H**3 / 3`` flops for
        ``H`` levels (more than ``max_bytes`` raise :class:`MemoryError`).
        ``"cg"``: conjugate gradients preconditioned by the diagonal, on the
        sparse cross-counts (memory of the order of the cells; each
        iteration a few products with them), to ``fixef_tol``.
        With three or more factors, ``"cg"`` counts ``n_effects_`` by a
        bound (one null direction per connected component of each factor
        with the largest), which is the rank unless factors other than the
        largest are nested in one another; it then counts more effects than
        ``"direct"`` (standard errors on the safe side).
        ``"auto"``: ``"direct"`` up to 2,000 such levels if it fits,
        otherwise ``"cg"`` (workers x firms, say); and where the cross-counts
        themselves do not fit in ``max_bytes`` (dropped on the workers as
        soon as they would not), ``"passes"``.
        ``"passes"``: no cross-counts; the normal equations of every level
        are solved by conjugate gradients over the rows, one pass over the
        data per iteration (persist the data if it fits in the cluster's
        memory), after a pass per round of singleton removal and before a
        last pass for the demeaned co-moments, which also finds the
        connected components of the first two factors' levels: the effects
        take one reference level per component, and one more per further
        factor (fixest's count).
    fixef_tol : float, default=1e-10
        ``"cg"`` and ``"passes"``: the relative residual of the absorbed
        normal equations to reach, in every column of ``[X | y]``.  The
        slopes' normal equations err by its square (``"cg"`` enters them
        through a quadratic form exact to second order, ``"passes"``
        through the demeaned rows' own co-moments).
    fixef_maxiter : int or None, default=None
        ``"cg"`` and ``"passes"``: the most iterations; None: ten per level
        solved (at least 100) for ``"cg"``, 500 for ``"passes"``.  Not
        converging raises an error that says how far it got (no model is
        stored), never a silent approximation.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        The slopes (``n_features`` the columns of X but ``absorb``).
    intercept_ : float
        0.0: the fixed effects take its place (``fixed_effects_``).
    fixed_effects_ : pandas.Series or DataFrame, or dict of them
        The effects per level (indexed by level; one column per target for
        several targets), as pyfixest's ``fixef()``; for several absorbed
        columns a dict of them by column.  One factor: ``mean_g(y) -
        mean_g(X) @ coef_`` exactly, singleton levels included (each fits
        its row).  Several: the exact solution of the absorbed normal
        equations, with one reference level (effect 0) per connected
        component of the levels in each factor but the one of the most
        levels (fixest's normalization for two factors); a level of zero
        weight, or left out as a singleton, is NaN (and so are its rows'
        predictions, as pyfixest's).
    n_levels_ : int
        Levels absorbed, over all factors (singletons left out with
        ``fixef_rm="singleton"``).
    fixef_sizes_ : dict
        The levels absorbed of each column.
    n_effects_ : int
        The parameters the fixed effects take: the rank of their
        indicators, ``n_levels_`` less one per connected component and
        factor beyond the first (counted exactly, as fixest's
        ``fixef.force_exact``).
    n_singletons_ : int
        Rows left out as singletons.
    r2_within_ : float or ndarray
        R² of the demeaned model (fixest's ``r2_within``).
    rank_ : int
        Rank of the demeaned design.
    solver_ : str
        ``"cholesky"``: the slopes solve the within normal equations.
    fixef_solver_ : {"direct", "cg", "passes"}
        How the absorbed normal equations were solved (``"direct"`` for one
        factor: its levels' means).
    fixef_n_iter_ : int
        Conjugate-gradient iterations (0 for ``"direct"``).
    fixef_residual_ : float
        The largest relative residual of the absorbed normal equations over
        the columns of ``[X | y]`` (0.0 for ``"direct"``).
    n_features_in_ : int
    feature_names_in_ : ndarray
        X's columns, the absorbed ones last.
    n_passes_ : int
        Passes over the data: 1; solved by ``"passes"``, also one per round
        of singleton removal, one per conjugate-gradient product (an
        iteration, or a check of the true residual) and a last one.

    Notes
    -----
    Classical inference (``inference()``) counts the absorbed effects in
    the degrees of freedom as fixest does without clustering: ``df_resid =
    nobs - rank - n_effects``.  ``r2_within`` is the ``rsquared`` of the
    results (centered within levels).
    """

    _parameter_constraints: dict = {
        "absorb": [ColumnNames()],
        "fixef_rm": [Options("singleton", "none")],
        "missing": MISSING,
        "split_every": SPLIT_EVERY,
        "split_out": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_bytes": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "fixef_solver": [Options("auto", "direct", "cg", "passes")],
        "fixef_tol": [Interval(numbers.Real, 0, 1, closed="neither")],
        "fixef_maxiter": [None, Interval(numbers.Integral, 1, None, closed="left")],
    }
    _fitted_attributes: dict = {}
    fit_intercept = False

    def __init__(
        self,
        absorb,
        *,
        fixef_rm="singleton",
        missing="raise",
        split_every=None,
        split_out=1,
        max_bytes=None,
        fixef_solver="auto",
        fixef_tol=1e-10,
        fixef_maxiter=None,
    ):
        self.absorb = absorb
        self.fixef_rm = fixef_rm
        self.missing = missing
        self.split_every = split_every
        self.split_out = split_out
        self.max_bytes = max_bytes
        self.fixef_solver = fixef_solver
        self.fixef_tol = fixef_tol
        self.fixef_maxiter = fixef_maxiter

    @property
    def _absorbed(self):
        """The absorbed columns, as a tuple."""
        return (self.absorb,) if isinstance(self.absorb, str) else tuple(self.absorb)

    @property
    def _n_coefficients(self):
        return self.n_features_in_ - len(self._absorbed)

    def _split(self, X, extra=()):
        """X's numeric columns and each absorbed column's labels (then
        those of the ``extra`` columns)."""
        columns = getattr(X, "columns", None)
        if columns is None or getattr(X, "ndim", 0) != 2:
            raise TypeError(
                f"{type(self).__name__} takes X as a pandas or Dask DataFrame "
                f"with the absorbed column(s) {list(self._absorbed)}; got "
                f"{type(X).__name__}."
            )
        named = (*self._absorbed, *extra)
        for name in named:
            if name not in columns:
                role = "absorb" if name in self._absorbed else "groups"
                raise ValueError(
                    f"{role}={name!r} is not a column of X; it has: "
                    f"{', '.join(map(str, columns))}."
                )
        return X.drop(columns=list(named)), tuple(X[name] for name in named)

    def _label_names(self, extra=(), found=()):
        return (
            *(
                f"the absorbed column {name!r}"
                if name in self._absorbed
                else f"the cluster column {name!r}"
                for name in (*self._absorbed, *extra)
            ),
            *(f"the categorical term {name!r}" for name in found),
        )

    def fit(self, X, y, sample_weight=None):
        """Fit the slopes and the fixed effects, in one pass over the data.

        Parameters
        ----------
        X : pandas or Dask DataFrame of shape (n_samples, n_features)
            The numeric columns and the absorbed column(s) ``absorb``.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Precision weights (fixest's and statsmodels' ``weights``).

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight)

    def _fit(
        self, X, y, sample_weight, clusters=(), formula=None, found=(), indicators=None
    ):
        """:meth:`fit`; with ``clusters`` (one or two columns of X, absorbed
        or not), the clusters' statistics are kept in the pass
        (:mod:`~dask_linreg._numerics.cluster_cells`), so that CRV1, one or
        two ways, and CRV3 need no second pass.  ``found`` are columns of X
        holding a formula's categorical terms whose levels the pass finds
        (:mod:`~dask_linreg._numerics.found_levels`), ``indicators`` the
        levels of those already expanded into X's columns; ``formula`` (a
        :class:`~dask_linreg._dask.formula.FormulaDesign`) is X's, kept
        with all the indicators' levels for predictions."""
        self._check_params()
        absorbed = self._absorbed
        extra = tuple(c for c in clusters if c not in absorbed)
        numeric, labels = self._split(X, (*extra, *found))
        names = self._label_names(extra, found)

        def checked(numeric, labels, names):
            return check_fit_inputs(
                self,
                numeric,
                y,
                sample_weight,
                labels=labels,
                labels_name=names,
                allow_no_features=bool(found),
            )

        inputs = checked(numeric, labels, names)
        max_bytes = self.max_bytes or default_keyed_bytes()
        options = {
            "split_every": self.split_every,
            "scheduler": "threads" if inputs.local else None,
            "missing": self.missing,
        }

        def one_pass(kernel, split_out=1, **broadcast):
            # Over the inputs as they are when it runs (those of the
            # model's columns, once found levels are known).
            result, pass_faults = reduce_row_pass(
                kernel,
                inputs.x,
                inputs.y,
                inputs.sample_weight,
                inputs.labels,
                message_names=names,
                split_out=split_out,
                broadcast=broadcast,
                **options,
            )
            pass_faults.raise_if_any(inputs.features.names)
            return result, pass_faults

        kernel = self._pass_kernel(clusters, extra, max_bytes)
        if found:
            kernel = found_kernel(kernel, inputs.x.shape[1], found, max_bytes)
        statistic, faults = one_pass(kernel, split_out=self.split_out)
        indicators = dict(indicators or {})
        if found:
            # The levels are known now: the statistic over the model's
            # columns, and the inputs of any further pass with their
            # indicators as columns (the same rows, lazily).
            statistic, found_levels, X = found_statistic(
                statistic, X, numeric.columns, found
            )
            indicators.update(found_levels)
            numeric, labels = self._split(X, extra)
            names = names[: len(names) - len(found)]
            inputs = checked(numeric, labels, names)
        cluster_cells = None
        if clusters:
            statistic, cluster_cells = self._with_cells(statistic, max_bytes)
        if statistic.count == 0:
            raise no_samples_error(inputs.x.shape[1])
        if statistic.weight_sum == 0.0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        n_passes = 1
        if len(absorbed) > 1 and statistic.cells is None:
            # The cross-counts were not kept (fixef_solver="passes") or did
            # not fit: the levels' normal equations over the rows.
            def run_pass(kernel, **broadcast):
                return one_pass(kernel, **broadcast)[0]

            fields, more = solve_by_passes(
                statistic,
                run_pass,
                self.fixef_rm,
                tol=self.fixef_tol,
                max_iter=self.fixef_maxiter,
            )
            solved = AbsorbedFactors(**fields, max_bytes=max_bytes)
            n_passes += more
        else:
            solved = absorb_factors(
                statistic,
                self.fixef_rm,
                solver="auto" if self.fixef_solver == "passes" else self.fixef_solver,
                tol=self.fixef_tol,
                max_iter=self.fixef_maxiter,
            )
        if not solved.solve.converged:
            raise RuntimeError(
                f"the absorbed normal equations of {' + '.join(absorbed)} did not "
                f"converge: after {solved.solve.n_iter:,} conjugate-gradient "
                f"iterations the relative residual is {solved.solve.residual:.2e}, "
                f"above fixef_tol={self.fixef_tol:g}. Raise fixef_maxiter, loosen "
                "fixef_tol, or use fixef_solver='direct' if the levels fit in "
                "memory; a weakly connected panel (few movers between levels) "
                "converges slowly. Nothing was stored."
            )
        p = inputs.x.shape[1]
        moments = solved.moments
        if moments.count == 0:
            raise ValueError(
                f"every row is a singleton of {' or '.join(map(repr, absorbed))}: "
                "no observation is left to fit the slopes (fixef_rm='none' keeps "
                "them, and then they fit exactly)."
            )
        moments = _without_absorbed_columns(
            moments,
            statistic,
            solved.solve,
            p,
            inputs.features.names,
            # The user's call: fit(), or ols() one frame further out.
            stacklevel=4 if formula is None else 5,
        )
        solution = moments.solve(p, fit_intercept=False)[0]
        # One factor: every level's effect, the singletons' too (each fits
        # its row exactly).
        tables = (statistic.means(),) if len(absorbed) == 1 else solved.effects
        keys = (statistic.keys,) if len(absorbed) == 1 else solved.keys
        within = moments.comoment
        residual = within[p:, p:] - solution.coef.T @ within[:p, p:]
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = 1.0 - np.diag(residual) / np.diag(within[p:, p:])
        kept = None
        if cluster_cells is not None:
            kept = cluster_cells.absorbed_scores(solved.keys, solved.effects)
        state = replace(
            fit_state(moments, y, inputs, sample_weight, faults.dropped),
            levels=solved,
            clusters=kept,
            formula=None
            if formula is None
            else replace(formula, indicators=indicators),
        )
        effects = {}
        for name, level_keys, table in zip(absorbed, keys, tables, strict=True):
            values = table[:, p:] - table[:, :p] @ solution.coef
            index = pd.Index(level_keys, name=name)
            effect = (
                pd.Series(values[:, 0], index=index, name="alpha")
                if inputs.y_is_1d
                else pd.DataFrame(values, index=index, columns=list(state.target_names))
            )
            if len(absorbed) > 1:
                # Levels left out as singletons are known, their effects not
                # identified: NaN, as their rows' predictions.
                seen = statistic.factors[absorbed.index(name)].keys
                effect = effect.reindex(pd.Index(seen, name=name))
            effects[name] = effect
        # Everything is computed: only now is the estimator changed.
        self._store_solution(solution.coef, None, None, inputs.y_is_1d)
        self.intercept_ = 0.0 if inputs.y_is_1d else np.zeros(inputs.n_targets)
        self.fixed_effects_ = effects[absorbed[0]] if len(absorbed) == 1 else effects
        self.r2_within_ = float(r2[0]) if inputs.y_is_1d else r2
        self.fixef_sizes_ = dict(zip(absorbed, solved.n_levels, strict=True))
        self.n_levels_ = int(sum(solved.n_levels))
        self.n_effects_ = int(solved.n_effects)
        self.n_singletons_ = int(solved.n_singletons)
        self.rank_ = int(solution.rank)
        self.solver_ = "cholesky"
        self.fixef_solver_ = solved.solve.solver
        self.fixef_n_iter_ = int(solved.solve.n_iter)
        self.fixef_residual_ = float(solved.solve.residual)
        self.n_passes_ = n_passes
        self._store_state(state)
        features = inputs.features
        self.n_features_in_ = p + len(absorbed)
        names = getattr(features, "names", None)
        self.feature_names_in_ = np.asarray(
            [*(names if names is not None else numeric.columns), *absorbed],
            dtype=object,
        )
        return self

    def _pass_kernel(self, clusters, extra, max_bytes):
        """The block function of the fit's one pass: the absorbed factor's
        :class:`~dask_linreg._numerics.absorbed.GroupMoments` (one),
        :class:`~dask_linreg._numerics.multiway.MultiwayMoments` (several),
        or, with ``clusters``, those and the
        :class:`~dask_linreg._numerics.cluster_cells.ClusterCells`."""
        absorbed = self._absorbed
        if clusters:
            factor_names = (*absorbed, *extra)
            return partial(
                block_with_cluster_cells,
                n_factors=len(absorbed),
                clusterings=tuple(factor_names.index(c) for c in clusters),
                names=factor_names,
                max_bytes=max_bytes,
            )
        if len(absorbed) == 1:
            return one_label_kernel(
                block_group_moments, factor_name=absorbed[0], max_bytes=max_bytes
            )
        return partial(
            block_multiway_moments,
            factor_names=absorbed,
            max_bytes=max_bytes,
            cells={"auto": "if_fit", "passes": "none"}.get(self.fixef_solver, "keep"),
        )

    def _with_cells(self, pair, max_bytes):
        """The absorbed statistic of a pass that kept its clusters (with
        several factors, the cells of their levels summed from the cluster
        cells), and the :class:`ClusterCells`."""
        absorbed = self._absorbed
        statistic, cells = pair.absorbed, pair.clusters
        if len(absorbed) > 1 and self.fixef_solver != "passes":
            statistic = replace(
                statistic,
                cells=level_cells(
                    cells.keys[: len(absorbed)],
                    cells.counts,
                    cells.positive,
                    cells.weights,
                    factor_names=absorbed,
                    max_bytes=max_bytes,
                ),
                cells_policy="keep",
            )
        return statistic, cells

    def _effect_tables(self):
        """Each absorbed column's effects as a Series or DataFrame."""
        if len(self._absorbed) == 1:
            return {self._absorbed[0]: self.fixed_effects_}
        return self.fixed_effects_

    def predict(self, X):
        """``X @ coef_`` plus the row's fixed effects, for X with the fitted
        columns.

        A level the fit did not see raises, naming the column and the
        level; one left out as a singleton of several factors predicts NaN.
        Lazy for a Dask DataFrame.
        """
        check_is_fitted(self)
        formula = self._fit_state.formula
        if formula is not None:
            # A formula model predicts from the raw columns.
            self._split(X)
            X = design_frames(X, formula, with_targets=False, keep=list(self._absorbed))
        numeric, _ = self._split(X)
        names = [c for c in self.feature_names_in_ if c not in self._absorbed]
        if list(map(str, numeric.columns)) != names:
            raise ValueError(
                f"X has the columns {list(map(str, numeric.columns))} besides "
                f"{list(self._absorbed)}; the model was fitted on {names}."
            )
        coef = np.reshape(self.coef_, (-1, len(names)))
        tables = self._effect_tables()
        one_target = np.ndim(self.coef_) == 1
        if is_dask(X):
            meta = (
                pd.Series([], dtype=np.float64)
                if one_target
                else pd.DataFrame({i: [] for i in range(coef.shape[0])}, dtype=float)
            )
            return X.map_partitions(
                _predict_partition, names, coef, tables, one_target, meta=meta
            )
        prediction = _predict_partition(X, names, coef, tables, one_target)
        return prediction.to_numpy()

    def score(self, X, y, sample_weight=None):
        """R² of ``predict(X)`` (scikit-learn's ``r2_score``)."""
        from sklearn.metrics import r2_score

        prediction = self.predict(X)
        if is_dask(prediction):
            prediction = prediction.compute().to_numpy()
        y = y.compute() if is_dask(y) else y
        return r2_score(y, prediction, sample_weight=sample_weight)

    def inference(
        self, X=None, y=None, *, sample_weight=None, cov_type="nonrobust", groups=None
    ):
        """Standard errors, tests and intervals of the slopes.

        Parameters
        ----------
        X, y, sample_weight
            The training data, for a robust ``cov_type`` only (one pass): X
            with the absorbed column(s) (for a model from :func:`ols`, the
            DataFrame of raw columns, and y may be left out).
        cov_type : {"nonrobust", "HC1", "cluster", "CRV3"}, default="nonrobust"
            fixest's ``vcov="iid"``, ``"hetero"`` and ``{"CRV1": column}``:
            classical, heteroskedasticity-robust, or cluster-robust;
            ``"CRV3"``, the cluster jackknife (pyfixest's ``{"CRV3":
            column}``), for a model that kept its clusters at fit time
            (``ols("y ~ x | firm", data, cluster="firm")``), as ``"cluster"``
            then needs no data.
        groups : str or array-like of shape (n_samples,), default=None
            For ``"cluster"``: an absorbed column to cluster by (default:
            the first, as fixest does), the cluster labels of the rows, or,
            for a model from :func:`ols`, a column of the data.  Whether
            each absorbed factor is nested in the clusters is found in the
            same pass.

        Returns
        -------
        RegressionResults or list of RegressionResults

        Notes
        -----
        The degrees of freedom count the absorbed effects as fixest does:
        ``df_resid = nobs - rank - n_effects``, which also makes HC1's
        ``nobs / df_resid``.  Clustered, the effects of the factors nested
        in the clusters count as one parameter in all (fixest's
        ``fixef.K="nested"``): CRV1 is ``G / (G - 1) (nobs - 1) / (nobs -
        K)`` with ``K`` the slopes, the effects not nested and one, and t
        has ``G - 1`` degrees of freedom.  ``rsquared`` is the within R².
        """
        check_is_fitted(self)
        if cov_type not in ("nonrobust", "HC1", "cluster", "CRV3"):
            raise ValueError(
                "cov_type must be 'nonrobust', 'HC1', 'cluster' or 'CRV3' for a "
                f"model with absorbed fixed effects; got {cov_type!r}."
            )
        if groups is not None and cov_type != "cluster":
            raise ValueError(
                f"groups is for cov_type='cluster' only; got cov_type={cov_type!r}."
            )
        formula = self._fit_state.formula
        kept = self._fit_state.clusters
        if cov_type == "CRV3" and kept is None:
            raise ValueError(
                "cov_type='CRV3' (the cluster jackknife) needs the clusters' "
                "statistics of the fit: fit with ols('y ~ x | firm', data, "
                "cluster='firm')."
            )
        from_kept = cov_type in ("cluster", "CRV3") and kept is not None
        if from_kept and (X is not None or y is not None or groups is not None):
            raise ValueError(
                "this model kept its clusters' statistics at fit time (cluster="
                f"{kept.factor_name!r}): cov_type={cov_type!r} needs no data, y "
                "or groups."
            )
        clusterings = None
        if cov_type == "cluster" and not from_kept:
            clusterings = self._clusterings(groups, formula)
        if cov_type == "nonrobust" and (X is not None or y is not None):
            raise ValueError(
                "cov_type='nonrobust' needs no pass over the data: do not pass X or y."
            )
        if (
            cov_type != "nonrobust"
            and not from_kept
            and (X is None or (y is None and formula is None))
        ):
            raise ValueError(
                f"cov_type={cov_type!r} needs one pass over the training data: "
                "pass X and y (and the sample_weight of the fit)."
            )
        state = self._fit_state
        p = self._n_coefficients
        coef = np.reshape(self.coef_, (-1, p))
        summary = fit_summary(
            design_root(state.statistic, p, fit_intercept=False), coef.T, self.rank_
        )
        summary = replace(
            summary, df_resid=summary.nobs - summary.rank - self.n_effects_
        )
        n_groups = None
        if cov_type == "nonrobust":
            covariances = [
                summary.centered_cov
                * (ssr / summary.df_resid if summary.df_resid > 0 else np.nan)
                for ssr in summary.ssr
            ]
        elif from_kept:
            covariances, n_groups = self._kept_cluster_covariances(
                summary, coef, kept, jackknife=cov_type == "CRV3"
            )
        else:
            covariances, n_groups = self._robust(
                summary, coef, X, y, sample_weight, cov_type, clusterings
            )
        names = [c for c in self.feature_names_in_ if c not in self._absorbed]
        results = [
            RegressionResults(
                model=self,
                target=state.target_names[t],
                params=coef[t],
                names=names,
                summary=summary,
                target_index=t,
                centered_cov=covariances[t],
                cov_type=cov_type,
                use_t=True,
                n_groups=n_groups,
                rsquared_kind="within",
            )
            for t in range(coef.shape[0])
        ]
        return results if np.ndim(self.coef_) == 2 else results[0]

    def _clusterings(self, groups, formula):
        """Each clustering of ``groups`` (two for two-way clustering): an
        absorbed column's index, or the labels (a column's name) of
        another."""
        if groups is None:
            return (0,)
        groups = cluster_groups(groups)
        clusterings = []
        for entry in groups if isinstance(groups, tuple) else (groups,):
            if isinstance(entry, str) and entry in self._absorbed:
                clusterings.append(self._absorbed.index(entry))
            elif isinstance(entry, str) and formula is None:
                raise ValueError(
                    f"groups={entry!r} is not an absorbed column "
                    f"({', '.join(map(repr, self._absorbed))}): pass the cluster "
                    "labels instead, one per row (a column's name is for models "
                    "fitted by dask_linreg.ols)."
                )
            else:
                clusterings.append(entry)
        return tuple(clusterings)

    def _kept_cluster_covariances(self, summary, coef, kept, *, jackknife):
        """CRV1 (one or two ways) or CRV3 from the clusters' statistics kept
        by the fit (:class:`AbsorbedClusterScores`), with fixest's
        small-sample factor."""
        nested = set()
        for clustering in range(len(kept.names)):
            nested.update(kept.nested(clustering))
        k_fixest = self._fixest_parameters(summary, tuple(sorted(nested)))
        nobs = summary.nobs
        if jackknife:
            if len(kept.names) != 1:
                raise ValueError(
                    "cov_type='CRV3' (the cluster jackknife) is one-way: this "
                    f"model was fitted clustered two ways ({kept.factor_name}); "
                    "use cov_type='cluster'."
                )
            loose = [name for j, name in enumerate(self._absorbed) if j not in nested]
            if loose:
                raise ValueError(
                    "cov_type='CRV3' with absorbed fixed effects needs every "
                    "absorbed column nested in the clusters (a left-out cluster "
                    f"takes its levels with it): {', '.join(map(repr, loose))} "
                    f"{'is' if len(loose) == 1 else 'are'} not nested in "
                    f"{kept.factor_name!r}. Use cov_type='cluster'."
                )
            if coef.shape[0] != 1:
                raise ValueError("cov_type='CRV3' takes a model of one target.")
            n_groups = kept.n_clusters
            if n_groups < 2:
                raise ValueError(
                    "cov_type='CRV3' needs at least 2 clusters; the fit has "
                    f"{n_groups}."
                )
            within = self._fit_state.statistic.comoment
            deviation = kept.leave_one_out(within, coef.shape[1]) - coef[0]
            factor = n_groups / (n_groups - 1.0) * (nobs - 1.0) / (nobs - k_fixest)
            return [factor * deviation.T @ deviation], n_groups

        def sums(clustering):
            labels, scores = kept.scores(coef.T, clustering)
            return ScoreSums(nobs, nobs, summary.ssr, None, labels, scores)

        if len(kept.names) == 1:
            score_sums = sums(0)
        else:
            score_sums = TwoWayScores(sums(0), sums(1), sums(None))
        n_groups = min(len(s.cluster_labels) for s in _one_way(score_sums))
        if n_groups < 2:
            raise ValueError(
                f"cov_type='cluster' needs at least 2 clusters; the fit has {n_groups}."
            )
        covariances, n_groups = robust_covariance(summary, score_sums, "cluster")
        k = summary.centered_cov.shape[0]
        return covariances * ((nobs - k) / (nobs - k_fixest)), n_groups

    def _fixest_parameters(self, summary, nested):
        """fixest's ``K`` of the clustered small-sample factor ``(n - 1) / (n
        - K)``: the slopes, the effects not nested in the clusters and one
        parameter for those that are (``nested``, the factors' indices;
        reghdfe's and pyfixest's rule)."""
        k = summary.centered_cov.shape[0] + self.n_effects_
        if nested:
            k += 1 - self._fit_state.levels.rank_of(nested)
        return k

    def _robust(self, summary, coef, X, y, sample_weight, cov_type, clusterings):
        """One pass over the training data for the sandwich covariances."""
        formula = self._fit_state.formula
        others = [c for c in clusterings or () if not isinstance(c, int)]
        if formula is not None:
            X, y, sample_weight, found = formula_training_data(
                formula,
                X,
                y,
                sample_weight,
                tuple(others) if others else None,
                keep=list(self._absorbed),
            )
            others = list(found or ())
        numeric, labels = self._split(X)
        names = self._label_names()
        # The clusterings among the pass's labels: the absorbed columns',
        # then the others'.
        cluster = None
        if clusterings is not None:
            position = iter(range(len(labels), len(labels) + len(others)))
            cluster = tuple(
                c if isinstance(c, int) else next(position) for c in clusterings
            )
            labels = (*labels, *others)
            names = (*names, *TWO_WAY_NAMES[: len(others)])
        inputs = check_fit_inputs(
            clone(self), numeric, y, sample_weight, labels=labels, labels_name=names
        )
        solved = self._fit_state.levels
        model = AbsorbedScoreModel(
            ScoreModel(
                coef=coef.T,
                x_mean=np.zeros(coef.shape[1]),
                y_mean=np.zeros(coef.shape[0]),
                fit_intercept=False,
                cov_type=cov_type,
                centered_cov=summary.centered_cov,
            ),
            solved.keys,
            # A level of zero weight has no effect (NaN) and its rows no
            # weight: they add nothing.
            tuple(np.nan_to_num(e, nan=0.0) for e in solved.effects),
            cluster,
        )
        scores, faults = reduce_absorbed_scores(
            inputs.x,
            inputs.y,
            inputs.sample_weight,
            inputs.labels,
            model,
            message_names=names,
            split_every=self.split_every,
            scheduler="threads" if inputs.local else None,
            missing=self.missing,
        )
        faults.raise_if_any(inputs.features.names)
        sums = scores.sums
        check_robust_pass(summary, sums, cov_type)
        covariances, n_groups = robust_covariance(summary, sums, cov_type)
        if cov_type == "cluster":
            # fixest's small-sample factor (n - 1) / (n - K) counts in K the
            # effects not nested in the clusters and one parameter for those
            # that are (reghdfe's and pyfixest's rule); statsmodels' CR1
            # counts the slopes only.
            nested = set(scores.nested())
            for c in cluster:
                if c < len(self._absorbed):
                    nested.update(solved.nested_in(c))
            k_fixest = self._fixest_parameters(summary, tuple(sorted(nested)))
            k = summary.centered_cov.shape[0]
            covariances = covariances * ((summary.nobs - k) / (summary.nobs - k_fixest))
        return covariances, n_groups


def _without_absorbed_columns(moments, statistic, solve, p, names, stacklevel):
    """The within moments without the columns the fixed effects absorb
    (:func:`~dask_linreg._numerics.absorbed.without_absorbed_columns`),
    with a warning naming X's columns among them."""
    factors = statistic.factors if hasattr(statistic, "factors") else (statistic,)
    tol = solve.residual if solve.solver in ("cg", "passes") else None
    moments, absorbed = without_absorbed_columns(moments, factors, tol)
    collinear = np.flatnonzero(absorbed[:p])
    if len(collinear):
        labels = [
            str(names[j]) if names is not None else f"column {j}" for j in collinear
        ]
        warnings.warn(
            f"{', '.join(labels)} {'has' if len(labels) == 1 else 'have'} no "
            "variation left once the fixed effects of "
            f"{' + '.join(f.factor_name for f in factors)} are absorbed "
            "(collinear with them): coefficient 0, standard error NaN, out of "
            "the rank (fixest and pyfixest drop such columns).",
            UserWarning,
            stacklevel=stacklevel,
        )
    return moments


def _one_way(sums):
    """The one-way :class:`ScoreSums` of ``sums`` (each clustering's, for
    two ways)."""
    if isinstance(sums, TwoWayScores):
        return (sums.first, sums.second)
    return (sums,)


def _predict_partition(frame, names, coef, tables, one_target):
    """Predictions for one pandas partition."""
    values = frame[names].to_numpy(dtype=np.float64) @ coef.T
    for absorb, effects in tables.items():
        levels = frame[absorb]
        table = effects if isinstance(effects, pd.DataFrame) else effects.to_frame()
        position = table.index.get_indexer(levels)
        unknown = position < 0
        if unknown.any():
            level = levels.to_numpy()[unknown][0]
            level = level.item() if isinstance(level, np.generic) else level
            raise ValueError(
                f"X column {absorb!r} has level {level!r}, which the model has no "
                "fixed effect for (it was not in the fit)."
            )
        values = values + table.to_numpy()[position]
    if one_target:
        return pd.Series(values[:, 0], index=frame.index)
    return pd.DataFrame(values, index=frame.index)
