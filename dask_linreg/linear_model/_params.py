"""Declarative checks of the estimators' parameters, made before any data is read.

Each estimator class declares, once, the values each of its parameters may
take, as scikit-learn's estimators do::

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "fit_intercept": [Boolean()],
        "split_every": [None, Interval(numbers.Integral, 2, None, closed="left")],
    }

A parameter is valid when it satisfies any one of its constraints;
:func:`validate_params` checks them all and raises an
:class:`InvalidParameterError` in scikit-learn's words: "The 'alpha' parameter
of ElasticNet must be a float in the range [0.0, inf). Got -1 instead."  The
pattern and message are scikit-learn's (``sklearn.utils._param_validation``);
the module is private, so it is not imported.  Checks that need the data (a
penalty per target) or join several parameters stay with the estimator.
"""

import numbers

import numpy as np

__all__ = [
    "ArrayOf",
    "Boolean",
    "Interval",
    "InvalidParameterError",
    "Options",
    "Unsatisfied",
    "has_bool_or_text",
    "penalties_per_target",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter's value satisfies none of its constraints.

    A ValueError and a TypeError, as scikit-learn's class of the same name:
    a wrong type and a wrong value are told apart by the message.
    """


class Unsatisfied(Exception):
    """Raised by a constraint's ``check``; ``hint`` (maybe empty) says more
    than the constraint's description: which part failed, and how to fix it."""

    def __init__(self, hint=""):
        super().__init__(hint)
        self.hint = hint


def has_bool_or_text(values):
    """Whether ``values`` (a number, or a sequence or array of them) holds a
    bool or a string, which ``np.asarray(..., dtype=float)`` would convert
    silently (True to 1.0) or with a message that names no parameter."""
    if not isinstance(values, list | tuple) and hasattr(values, "__array__"):
        values = np.asarray(values)  # pandas too
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "bSU":
            return True
        return values.dtype.kind == "O" and any(map(has_bool_or_text, values.ravel()))
    if isinstance(values, list | tuple):
        return any(map(has_bool_or_text, values))
    return isinstance(values, bool | np.bool_ | str | bytes)


class Interval:
    """A number (bools excluded) in an interval; scikit-learn's ``Interval``.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        Integers only, or any real number (integers too).
    left, right : number or None
        The bounds; None is -inf or inf.  An unbounded side is open, so
        inf and NaN are never in an interval.
    closed : {"left", "right", "both", "neither"}
    """

    def __init__(self, type, left, right, *, closed):
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed

    def __contains__(self, value):
        if not isinstance(value, self.type) or isinstance(value, bool | np.bool_):
            return False
        if not np.isfinite(value):
            return False
        if self.left is not None and not (
            value >= self.left if self.closed in ("left", "both") else value > self.left
        ):
            return False
        return self.right is None or (
            value <= self.right
            if self.closed in ("right", "both")
            else value < self.right
        )

    def check(self, value):
        if value not in self:
            raise Unsatisfied()
        return value

    def describe(self, plural=False):
        integer = self.type is numbers.Integral
        kind = (
            ("ints" if plural else "an int")
            if integer
            else ("floats" if plural else "a float")
        )
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        if not integer:
            left, right = (v if isinstance(v, str) else float(v) for v in (left, right))
        return (
            f"{kind} in the range {'[' if self.closed in ('left', 'both') else '('}"
            f"{left}, {right}{']' if self.closed in ('right', 'both') else ')'}"
        )

    def __str__(self):
        return self.describe()


class ArrayOf:
    """A non-empty 1-D array-like whose values are all in an
    :class:`Interval` (of reals); ``check`` returns it as a float array.

    Parameters
    ----------
    interval : Interval
    shape : str
        Its shape as the docs write it, e.g. ``"(n_alphas,)"``.
    """

    def __init__(self, interval, shape):
        self.interval = interval
        self.shape = shape

    def check(self, value):
        if isinstance(value, str | bytes) or not (
            isinstance(value, list | tuple) or hasattr(value, "__array__")
        ):
            raise Unsatisfied()
        if has_bool_or_text(value):
            raise Unsatisfied("Bools and strings are not numbers here.")
        try:
            values = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise Unsatisfied() from None
        if values.ndim == 0:  # a NumPy scalar: its number is what failed
            raise Unsatisfied()
        if values.ndim != 1 or values.size == 0:
            raise Unsatisfied(f"It has shape {values.shape}.")
        if not all(float(v) in self.interval for v in values):
            raise Unsatisfied()
        return values

    def __str__(self):
        return (
            f"a non-empty array-like of shape {self.shape} of "
            f"{self.interval.describe(plural=True)}"
        )


class Boolean:
    """A bool (``numpy.bool_`` too); ``check`` returns a Python bool."""

    def check(self, value):
        if not isinstance(value, bool | np.bool_):
            raise Unsatisfied()
        return bool(value)

    def __str__(self):
        return "a bool"


class Options:
    """One of a few strings; scikit-learn's ``StrOptions``."""

    def __init__(self, *options):
        self.options = options

    def check(self, value):
        if not (isinstance(value, str) and value in self.options):
            raise Unsatisfied()
        return value

    def __str__(self):
        return f"a str among {{{', '.join(map(repr, self.options))}}}"


class ColumnName:
    """A non-empty string naming a column."""

    def check(self, value):
        if not (isinstance(value, str) and value):
            raise Unsatisfied()
        return value

    def __str__(self):
        return "a non-empty str (a column name)"


class ColumnNames:
    """A column name, or a non-empty list or tuple of distinct ones."""

    def check(self, value):
        names = [value] if isinstance(value, str) else value
        if not (
            isinstance(names, list | tuple)
            and names
            and all(isinstance(n, str) and n for n in names)
            and len(set(names)) == len(names)
        ):
            raise Unsatisfied()
        return value

    def __str__(self):
        return "a column name, or a list of distinct column names"


class _NoneConstraint:
    def check(self, value):
        if value is not None:
            raise Unsatisfied()
        return value

    def __str__(self):
        return "None"


def _constraint(constraint):
    return _NoneConstraint() if constraint is None else constraint


def _shown(value):
    """The value as a message shows it, on one line: its repr, or its type
    and shape when that is long (fold labels, splits)."""
    text = repr(value)
    if len(text) <= 80 and "\n" not in text:
        return text
    shape = getattr(value, "shape", None)
    if shape is not None:
        kind = "array" if isinstance(value, np.ndarray) else type(value).__name__
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} of shape {tuple(shape)}"
    return f"{text[:60]}... (a {type(value).__name__})".replace("\n", " ")


def validate_params(estimator):
    """Check every parameter against its class's ``_parameter_constraints``.

    Returns
    -------
    checked : dict
        Each parameter as the estimator uses it (a float array for a list
        of penalties, a list for a generator of splits...).

    Raises
    ------
    InvalidParameterError
        For the first parameter that satisfies none of its constraints:
        "The 'alpha' parameter of Ridge must be a float in the range [0.0,
        inf) or ... Got -1 instead." and a hint where one helps.
    """
    constraints = type(estimator)._parameter_constraints
    params = estimator.get_params(deep=False)
    checked = {}
    for name, allowed in constraints.items():
        value = params[name]
        allowed = [_constraint(c) for c in allowed]
        hints = []
        for constraint in allowed:
            try:
                checked[name] = constraint.check(value)
                break
            except Unsatisfied as unsatisfied:
                if unsatisfied.hint:
                    hints.append(unsatisfied.hint)
        else:
            described = [str(c) for c in allowed]
            expected = (
                described[0]
                if len(described) == 1
                else f"{', '.join(described[:-1])} or {described[-1]}"
            )
            message = (
                f"The {name!r} parameter of {type(estimator).__name__} must be "
                f"{expected}. Got {_shown(value)} instead."
            )
            raise InvalidParameterError(" ".join([message, *hints[:1]]))
    return checked


def penalties_per_target(alpha, n_targets):
    """A checked ``alpha`` (a number or 1-D array) as one penalty per target.

    Raises
    ------
    ValueError
        When ``alpha`` holds a number of penalties other than 1 and
        ``n_targets``.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.ndim == 1 and alpha.shape[0] not in (1, n_targets):
        raise ValueError(
            "Number of targets and number of penalties do not correspond: "
            f"{n_targets} != {alpha.shape[0]}"
        )
    return np.broadcast_to(alpha.reshape(-1), (n_targets,)).copy()
