"""``partial_fit`` and ``merge``: statistics accumulated across calls and
across models."""

from dataclasses import replace

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from dask_linreg._dask.inputs import Features, check_fit_inputs
from dask_linreg._numerics.faults import extreme_column
from dask_linreg._numerics.kinds import merge_statistics
from dask_linreg.linear_model._base import (
    _OnePassLinearModel,
    check_exact_columns,
    first_kind,
    fit_state,
    needs_second_pass,
)
from dask_linreg.linear_model._errors import (
    magnitude_error,
    no_samples_error,
    require_statistics,
)
from dask_linreg.linear_model._warnings import warn_no_second_pass

__all__ = ["_MergeableLinearModel"]


class _MergeableLinearModel(_OnePassLinearModel):
    """The estimators with one fixed penalty (or none) and a ``solver``:
    their statistics merge across ``partial_fit`` calls and across models.

    Beyond :class:`_OnePassLinearModel`, a subclass has the parameters
    ``solver``, ``fit_intercept`` and ``split_every``, and uses these
    hooks of the base, which it may override:

    - :meth:`_check_params` (with ``n_targets``) and :meth:`_penalties`:
      the checked parameters and the penalty of each target (None for
      least squares);
    - :meth:`_reduce`: one pass to a statistic of a given kind;
    - :meth:`_solve`: ``(solution, x_offset, y_offset)`` of a statistic;
    - :meth:`_store_fit`: stores the solution and the ``FitState``.

    What accumulates is ``_fit_state.statistic``, of the kind of the
    solver (``"auto"``: the cross-products of ``"cholesky"``) or, after a
    ``fit``, of the kind that fit ended with.
    """

    def _partial_fit(self, X, y, sample_weight):
        """Add a batch of rows to the statistics of the earlier calls; re-solve."""
        checked = self._check_params()
        first = not hasattr(self, "coef_")
        if not first:
            require_statistics(self, "partial_fit")
            if self._fit_state.formula is not None:
                raise TypeError(
                    f"This {type(self).__name__} was fitted from the formula "
                    f"{self._fit_state.formula.formula!r}, whose terms partial_fit "
                    "cannot evaluate on X: fit each batch with the formula "
                    "(ols(formula, batch) or fit_formula) and merge() the models."
                )
        inputs = check_fit_inputs(
            self, X, y, sample_weight, reset=first, allow_numpy=True, categorical=True
        )
        alpha = self._penalties(checked, inputs.n_targets)
        earlier_design = None if first else self._fit_design()
        if inputs.design is not None or earlier_design is not None:
            return self._partial_fit_factors(inputs, y, sample_weight, alpha, first)
        if inputs.x.shape[0] == 0:
            raise no_samples_error(inputs.x.shape[1])
        n_features = inputs.x.shape[1]
        if first:
            kind = first_kind(self.solver)
            check_exact_columns(self.solver, n_features + inputs.n_targets)
        else:
            earlier = self._fit_state
            kind = type(earlier.statistic)
            if (inputs.n_targets, inputs.y_is_1d) != (
                earlier.n_targets,
                earlier.y_is_1d,
            ):
                raise ValueError(
                    f"y has {inputs.n_targets} target(s) "
                    f"({'1-D' if inputs.y_is_1d else '2-D'}) but the earlier "
                    f"partial_fit calls had {earlier.n_targets} "
                    f"({'1-D' if earlier.y_is_1d else '2-D'})."
                )
        result, dropped = self._reduce(inputs, kind)
        extreme = extreme_column(result)
        if extreme is not None:
            raise magnitude_error(extreme, inputs.features, self.solver)
        if first:
            state = fit_state(result, y, inputs, sample_weight, dropped)
        else:
            state = replace(
                earlier,
                statistic=earlier.statistic.merge(result),
                weighted_fit=earlier.weighted_fit or sample_weight is not None,
                dropped=earlier.dropped + dropped,
            )
        solved = self._solve(state.statistic, n_features, alpha)
        # Everything is computed: only now is the model changed.
        if first:
            inputs.store_features(self)
        second_pass = self.solver == "auto" and needs_second_pass(solved[0])
        if second_pass:
            warn_no_second_pass(solved[0])
        return self._store_fit(state, solved, n_passes=1, warn=not second_pass)

    def _partial_fit_factors(self, inputs, y, sample_weight, alpha, first):
        """:meth:`_partial_fit` with categorical columns: the batch's levels
        join the earlier ones (by union) before the re-solve."""
        if first:
            levels, dropped = self._reduce_factors(inputs)
            base = fit_state(None, y, inputs, sample_weight, dropped)
            return self._solve_factors(
                levels, inputs.design, inputs.features, base, alpha
            )
        earlier = self._fit_state
        _check_same_factors(earlier.design, inputs.design, "the earlier calls")
        if (inputs.n_targets, inputs.y_is_1d) != (earlier.n_targets, earlier.y_is_1d):
            raise ValueError(
                f"y has {inputs.n_targets} target(s) "
                f"({'1-D' if inputs.y_is_1d else '2-D'}) but the earlier "
                f"partial_fit calls had {earlier.n_targets} "
                f"({'1-D' if earlier.y_is_1d else '2-D'})."
            )
        # A batch of a design fitted with a formula's terms (a loaded model)
        # is reduced over the same terms.
        inputs = replace(
            inputs,
            design=replace(inputs.design, formula_terms=earlier.design.formula_terms),
        )
        batch, dropped = self._reduce_factors(inputs)
        levels = earlier.levels.merge(batch)
        base = replace(
            earlier,
            weighted_fit=earlier.weighted_fit or sample_weight is not None,
            dropped=earlier.dropped + dropped,
        )
        return self._solve_factors(levels, earlier.design, inputs.features, base, alpha)

    def _merged(self, other):
        """A new fitted model from the statistics of ``self`` and ``other``."""
        check_is_fitted(self)
        if type(other) is not type(self):
            raise TypeError(
                f"Only two {type(self).__name__} models can be merged; got "
                f"{type(other).__name__}."
            )
        check_is_fitted(other)
        require_statistics(self, "merge")
        require_statistics(other, "merge")
        mine, theirs = self.get_params(), other.get_params()
        # How the statistics were computed does not matter, only what of.
        for name in ("split_every", "solver"):
            mine.pop(name), theirs.pop(name)
        different = [
            name
            for name in mine
            if not np.array_equal(np.asarray(mine[name]), np.asarray(theirs[name]))
        ]
        if different:
            raise ValueError(
                f"Models with different parameters cannot be merged: "
                f"{', '.join(f'{n}={mine[n]!r} vs {theirs[n]!r}' for n in different)}."
            )
        if self.n_features_in_ != other.n_features_in_:
            raise ValueError(
                f"Models fitted on {self.n_features_in_} and {other.n_features_in_} "
                "features cannot be merged."
            )
        names = getattr(self, "feature_names_in_", None)
        other_names = getattr(other, "feature_names_in_", None)
        if (names is None) != (other_names is None) or (
            names is not None and list(names) != list(other_names)
        ):
            raise ValueError(
                "Models fitted on different feature names cannot be merged: "
                f"{None if names is None else list(names)} vs "
                f"{None if other_names is None else list(other_names)}."
            )
        mine, theirs = self._fit_state, other._fit_state
        if (mine.n_targets, mine.y_is_1d) != (theirs.n_targets, theirs.y_is_1d):
            raise ValueError(
                f"Models fitted on {mine.n_targets} and {theirs.n_targets} "
                "targets (or 1-D and 2-D y) cannot be merged."
            )
        alpha = self._penalties(self._check_params(), mine.n_targets)
        if mine.design is not None or theirs.design is not None:
            _check_same_factors(mine.design, theirs.design, "the other model")
            merged = clone(self)
            merged._solve_factors(
                mine.levels.merge(theirs.levels),
                mine.design,
                Features.of(self),
                replace(
                    mine,
                    weighted_fit=mine.weighted_fit or theirs.weighted_fit,
                    dropped=mine.dropped + theirs.dropped,
                ),
                alpha,
                n_passes=0,
            )
            return merged
        state = replace(
            mine,
            statistic=merge_statistics(mine.statistic, theirs.statistic),
            weighted_fit=mine.weighted_fit or theirs.weighted_fit,
            dropped=mine.dropped + theirs.dropped,
        )
        merged = clone(self)
        merged.n_features_in_ = self.n_features_in_
        if names is not None:
            merged.feature_names_in_ = names
        solved = merged._solve(state.statistic, self.n_features_in_, alpha)
        merged._store_fit(state, solved, n_passes=0)
        return merged

    def partial_fit(self, X, y, sample_weight=None):
        """Add a batch of rows to the model: streaming and out-of-core fits.

        Each call reads its batch once, merges the batch's statistics into
        those of all earlier calls (and of a ``fit`` before them) and
        re-solves: after any number of calls the model equals one ``fit`` on
        all the rows seen (to rounding: about 1e-14 relative with the
        default solver).  The first call, or the first after ``fit``'s
        reset, fixes the features and targets.

        Parameters
        ----------
        X : {array-like, dask array, dask DataFrame} of shape (n_samples, n_features)
            A batch of rows, with the features of the earlier calls.
        y : array-like or dask collection of shape (n_samples,) or (n_samples, n_targets)
            Their targets, as many as in the earlier calls.
        sample_weight : array-like or dask collection of shape (n_samples,), default=None
            Their weights.

        Returns
        -------
        self : object
            The updated estimator.

        Notes
        -----
        The statistic accumulated is the one of ``solver``: ``"cholesky"``
        and ``"auto"`` accumulate centered cross-products, ``"qr"`` a
        triangular factor, ``"exact"`` exact cross-products; after a
        ``fit``, the kind that fit ended with.  ``"auto"`` cannot take its
        second pass over earlier batches: on ill-conditioned data it warns
        (:class:`AccuracyWarning`) and ``solver="qr"`` is the streaming
        choice.  ``fit`` starts afresh and discards what ``partial_fit``
        accumulated.
        """
        self._partial_fit(X, y, sample_weight)
        return self

    def merge(self, other):
        """A model fitted on the rows of both ``self`` and ``other``.

        The two models' statistics (fitted on disjoint data, e.g. on two
        machines or two days) are merged without reading any data; the
        result equals one fit on all the rows, to rounding.  ``a + b`` is
        the same.

        Parameters
        ----------
        other : same class as self
            Fitted with the same parameters (``solver`` and ``split_every``
            aside: the merged model takes those of ``self``), features and
            number of targets.

        Returns
        -------
        merged : same class as self
            A new fitted estimator (``self`` and ``other`` are unchanged).
            When the two hold statistics of different accuracy (one fitted
            with ``solver="exact"``, say), the merge keeps the less accurate
            kind.

        Raises
        ------
        TypeError
            If ``other`` is not of the same class.
        ValueError
            If the parameters, features or targets differ.
        """
        return self._merged(other)

    def __add__(self, other):
        if not isinstance(other, _MergeableLinearModel):
            return NotImplemented
        return self.merge(other)


def _check_same_factors(design, other, what):
    """Batches or models merge only with the same categorical columns."""
    mine = () if design is None else design.factors
    theirs = () if other is None else other.factors
    if mine != theirs:
        raise ValueError(
            f"X has categorical columns {list(theirs)} but {what} had "
            f"{list(mine)}: a column must keep its kind (numeric or "
            "categorical) across batches and merged models."
        )
