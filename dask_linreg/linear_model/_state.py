"""What a fit keeps besides its public fitted attributes: one frozen object."""

from dataclasses import dataclass, replace

import dask.array as da
import pandas as pd

from dask_linreg._dask.columns import is_dask

__all__ = ["FitState", "target_names"]


@dataclass(frozen=True, eq=False)
class FitState:
    """The private state of a fitted estimator, stored as ``_fit_state``.

    Inference, ``partial_fit``, ``merge``, model files and the CLI read
    this object (and the public fitted attributes) and nothing else; a fit
    replaces it whole, never field by field.

    Attributes
    ----------
    statistic : Moments, TriangularMoments, ExactCrossProducts or None
        The merged statistic of all the rows fitted (a kind of
        :mod:`dask_linreg._numerics.kinds`): inference and merging start
        from it without reading the data again.  None for a model loaded
        from a file saved without statistics (it only predicts).
    solve_factor : object or None
        What the solve of ``statistic`` factored (the exact solve's
        factor), kept because inference needs it again; None when there is
        none or it was not kept (a loaded model).
    y_is_1d : bool
        Whether y was 1-D (``coef_`` is 1-D then).
    target_names : tuple of str
        One name per target: a Series' name, a frame's columns, or
        ``"y"`` / ``"y0", "y1", ...``.
    weighted_fit : bool
        Whether any fitted batch had ``sample_weight``.
    design : FactorDesign or None
        X's categorical columns, their levels and encoding (None without):
        ``statistic`` is then over the model's columns (``coef_names_``).
    levels : LevelMoments or None
        The statistic over every level's indicator, which merges with
        further data by the union of levels (``partial_fit``, ``merge``).
    dropped : int
        Rows left out for a missing value (``missing="drop"``), over every
        batch fitted.
    formula : FormulaDesign or None
        The formula of a model fitted by :func:`dask_linreg.ols`: new data
        with the raw columns go through it before ``predict`` and ``score``.
    clusters : GroupedMoments, AbsorbedClusterScores or None
        Per-cluster moments kept by the fit (``ols(..., cluster=)``), from
        which the cluster-robust covariance needs no second pass.
    """

    statistic: object
    solve_factor: object
    y_is_1d: bool
    target_names: tuple
    weighted_fit: bool
    design: object = None
    levels: object = None
    formula: object = None
    dropped: int = 0
    clusters: object = None

    @property
    def n_targets(self):
        return len(self.target_names)

    def with_factor(self, solve_factor):
        """This state with another ``solve_factor``."""
        return replace(self, solve_factor=solve_factor)


def target_names(y, n_targets, y_is_1d):
    """Names of the targets: a Series' name, a frame's columns, or y/y0.."""
    columns = getattr(y, "columns", None)
    if columns is not None and len(columns) == n_targets:
        return tuple(str(c) for c in columns)
    name = (
        getattr(y, "name", None)
        if isinstance(y, pd.Series) or (is_dask(y) and not isinstance(y, da.Array))
        else None
    )
    if y_is_1d:
        return (str(name) if name is not None else "y",)
    return tuple(f"y{i}" for i in range(n_targets))
