"""Checks of the estimators' parameters, made before any data is read."""

import numbers

import numpy as np

__all__ = ["check_bool", "check_split_every", "check_alpha"]


def check_bool(name, value):
    """A bool parameter (``numpy.bool_`` too), or a ValueError naming it."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a bool; got {value!r}.")
    return bool(value)


def check_split_every(split_every):
    """``split_every``: None or an integer of at least 2."""
    if split_every is not None and (
        not isinstance(split_every, numbers.Integral)
        or isinstance(split_every, bool)
        or split_every < 2
    ):
        raise ValueError(
            f"split_every must be an integer of at least 2 or None; got "
            f"{split_every!r}."
        )
    return split_every


def check_alpha(alpha, n_targets):
    """Ridge penalties as an array of shape (n_targets,), all non-negative."""
    values = list(alpha) if isinstance(alpha, list | tuple) else [alpha]
    if isinstance(alpha, np.ndarray):
        values = [] if alpha.dtype.kind in "iuf" else [alpha.dtype.type()]
    if any(isinstance(v, bool | np.bool_ | str | bytes) for v in values):
        raise ValueError(
            f"alpha must be a non-negative float or an array of them; got {alpha!r}."
        )
    try:
        alpha = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"alpha must be a non-negative float or an array of them; got {alpha!r}."
        ) from None
    if alpha.ndim > 1:
        raise ValueError(
            f"alpha must be a float or a 1D array; got shape {alpha.shape}."
        )
    if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
        raise ValueError(f"alpha must be non-negative and finite; got {alpha!r}.")
    if alpha.ndim == 1 and alpha.shape[0] != n_targets:
        if alpha.shape[0] == 1:
            return np.repeat(alpha, n_targets)
        raise ValueError(
            "Number of targets and number of penalties do not correspond: "
            f"{n_targets} != {alpha.shape[0]}"
        )
    return np.broadcast_to(alpha, (n_targets,)).copy()
