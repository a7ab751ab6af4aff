"""The estimators' errors that several modules raise, one factory each."""

__all__ = ["magnitude_error", "no_samples_error", "require_statistics"]


def no_samples_error(n_features):
    """scikit-learn's error for an X without rows."""
    return ValueError(
        f"Found array with 0 sample(s) (shape=(0, {n_features})) while a minimum "
        "of 1 is required."
    )


def magnitude_error(extreme, features, solver):
    """A column whose products overflow or underflow float64.

    Parameters
    ----------
    extreme : tuple of (int, float)
        Index in ``[X | y]`` and root-mean-square of the column, as
        :func:`~dask_linreg._numerics.faults.extreme_column` finds it.
    features : Features
        The validated features (their names, if any).
    solver : str or None
        The solver that failed; None for estimators that have only the
        cross-products (no ``solver="exact"`` to suggest).
    """
    index, rms = extreme
    n_features = features.n_features
    if index < n_features:
        names = features.names
        where = (
            f"X column {names[index]!r}" if names is not None else f"X column {index}"
        )
    else:
        where = f"y column {index - n_features}"
    if solver is None:
        return ValueError(
            f"{where} has values of magnitude about {rms:.0e}: its products "
            "overflow or underflow float64. Rescale it (by a power of ten, say)."
        )
    return ValueError(
        f"{where} has values of magnitude about {rms:.0e}: its products overflow "
        f"or underflow float64 in solver={solver!r}. Rescale it (by a "
        "power of ten, say), or use solver='exact'."
    )


def require_statistics(model, what):
    """Raise unless ``model`` kept the statistics of its fit: a model loaded
    from a file saved without them predicts only."""
    state = getattr(model, "_fit_state", None)
    if state is None or state.statistic is None:
        raise ValueError(
            f"{what} needs the statistics of the fit, and this "
            f"{type(model).__name__} has none (it was loaded from a model file "
            "saved without them); fit it again."
        )
