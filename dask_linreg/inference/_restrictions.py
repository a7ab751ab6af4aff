"""Linear restrictions ``R @ params = q``, as arrays or written as text.

Text such as ``"x1 = 2 * x2, x3 = 0"`` is parsed by patsy's
:meth:`patsy.DesignInfo.linear_constraint`, the parser behind statsmodels'
``t_test`` and ``f_test`` with string restrictions, so that the two read a
string the same way.  What is added here: names in backticks (for names that
are not identifiers, e.g. ``"`a,b` = 0"``), and errors that say which name
is not a coefficient or where the text stops making sense.
"""

import re

import numpy as np

__all__ = ["check_restrictions"]

#: How text restrictions are written, for the error messages.
_SYNTAX = (
    "write restrictions like 'x1 = 2 * x2, x3 = 0': coefficient names (in "
    "backticks when they are not identifiers), numbers, + - * / ( ) and =, "
    "commas between restrictions"
)

#: A coefficient name as a user would type it: an identifier-like word, or
#: anything between backticks.
_WORD = re.compile(r"`[^`]*`?|[A-Za-z_][A-Za-z0-9_.]*")


def _describe(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _numeric_array(name, value, what):
    """``value`` as a float64 array, or an error naming ``name``."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be {what}; got {_describe(value)}, which is not a "
            f"rectangular array ({error})."
        ) from None
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be {what}; got {_describe(value)} (dtype {array.dtype})."
        )
    return array.astype(np.float64)


def check_restrictions(r_matrix, q, names):
    """Restrictions ``R @ params = q`` as a matrix and a vector of floats.

    Parameters
    ----------
    r_matrix : array-like of shape (m, k) or (k,), str or list of str
        One row per restriction, one column per coefficient; or the
        restrictions written as text (see :func:`parse_restrictions`).
    q : array-like of shape (m,) or float, default=None
        Right-hand sides; zeros when None.  Must be None for text, which
        holds its own right-hand sides.
    names : list of str
        The coefficient names, in the order of the columns of ``R``.

    Returns
    -------
    matrix : ndarray of shape (m, k)
    values : ndarray of shape (m,)

    Raises
    ------
    ValueError
        For a matrix of the wrong shape, with NaN or inf or an all-zero row,
        a ``q`` that does not give one finite value per restriction, or text
        that cannot be read.
    TypeError
        For values that are neither numbers nor text.
    """
    k = len(names)
    parsed = parse_restrictions(r_matrix, names)
    if parsed is not None:
        if q is not None:
            raise ValueError(
                "q must be None when the restrictions are written as text: put "
                "the right-hand sides in the text (for example 'x1 = 2')."
            )
        matrix, values = parsed
        if not (np.isfinite(matrix).all() and np.isfinite(values).all()):
            raise ValueError(
                f"r_matrix {_describe(r_matrix)} has a number too large for float64."
            )
        return matrix, values
    what = (
        "an array of numbers (one row per restriction, one column per "
        "coefficient) or restrictions written as text such as 'x1 = x2'"
    )
    if r_matrix is None:
        raise TypeError(f"r_matrix must be {what}; got None.")
    matrix = _numeric_array("r_matrix", r_matrix, what)
    if matrix.size == 0 and (matrix.ndim == 1 or matrix.shape[0] == 0):
        raise ValueError("r_matrix has no rows: give at least one restriction.")
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2:
        raise ValueError(
            "r_matrix must be 1D (one restriction) or 2D (one row per "
            f"restriction); got an array of shape {np.shape(r_matrix)}."
        )
    if matrix.shape[1] != k:
        raise ValueError(
            f"r_matrix has {matrix.shape[1]} columns; expected one per "
            f"coefficient ({k}: {', '.join(names)})."
        )
    finite = np.isfinite(matrix)
    if not finite.all():
        raise ValueError(
            f"r_matrix contains {int(finite.size - finite.sum())} non-finite "
            "value(s) (NaN or inf)."
        )
    empty = np.flatnonzero(~matrix.any(axis=1))
    if empty.size:
        raise ValueError(
            f"r_matrix row(s) {empty.tolist()} are all zeros: a restriction must "
            "involve at least one coefficient."
        )
    m = matrix.shape[0]
    if q is None:
        return matrix, np.zeros(m)
    values = _numeric_array(
        "q", q, "a number or an array of numbers, one per restriction"
    )
    if values.ndim == 0:
        values = np.full(m, float(values))
    elif values.size == m and (values.ndim == 1 or values.shape == (m, 1)):
        values = values.reshape(m)
    else:
        raise ValueError(
            f"q has shape {values.shape}; expected ({m},): one value per "
            "restriction (row of r_matrix)."
        )
    if not np.isfinite(values).all():
        raise ValueError("q contains non-finite values (NaN or inf).")
    return matrix, values


def parse_restrictions(r_matrix, names):
    """Restrictions written as text, as ``(R, q)``; None for other input.

    Each string is read by patsy's :meth:`patsy.DesignInfo.linear_constraint`
    (as statsmodels reads them): linear combinations of the coefficients and
    numbers with ``+ - * /`` and parentheses, ``=`` between the sides (none
    means ``= 0``, ``a = b = c`` is two restrictions), commas between
    restrictions.  A name may also be written in backticks, which the names
    that are not identifiers need when they start with an operator or a
    parenthesis.

    Parameters
    ----------
    r_matrix : object
        A string or a list (or tuple) of strings; anything else gives None.
    names : list of str
        The coefficient names.

    Returns
    -------
    tuple of (ndarray of shape (m, k), ndarray of shape (m,)) or None

    Raises
    ------
    ValueError
        If the text holds no restriction, names something that is not a
        coefficient, cannot be read, or has a restriction whose terms cancel.
    TypeError
        If a list mixes strings and other values.
    """
    if isinstance(r_matrix, str):
        texts = [r_matrix]
        if not r_matrix.replace(",", " ").strip():
            raise ValueError(
                f"r_matrix {r_matrix!r} holds no restriction: write them like "
                "'x1 = x2, x3 = 0'."
            )
    elif not (
        isinstance(r_matrix, list | tuple)
        and r_matrix
        and any(isinstance(r, str) for r in r_matrix)
    ):
        return None
    elif not all(isinstance(r, str) for r in r_matrix):
        raise TypeError(
            "r_matrix must be a string, a list of strings, or an array of "
            f"numbers; got a list that mixes strings and other values: "
            f"{_describe(r_matrix)}."
        )
    else:
        texts = list(r_matrix)
    design, columns = _design_info(names)
    rows, values = [], []
    for text in texts:
        matrix, constants = _parse(text, design, columns, names)
        rows.append(matrix)
        values.append(constants)
    return np.vstack(rows), np.concatenate(values)


def _design_info(names):
    """A patsy ``DesignInfo`` over each distinct name and its backticked form,
    and the coefficient (first of that name) of each of its columns."""
    try:
        from patsy import DesignInfo
    except ImportError:  # pragma: no cover - patsy comes with statsmodels
        raise ImportError(
            "Restrictions written as text are parsed by patsy: install it "
            "(pip install patsy), or pass the restrictions as a matrix."
        ) from None
    first = {}
    for j, name in enumerate(names):
        first.setdefault(name, j)
    variables = [*first, *(f"`{name}`" for name in first)]
    columns = np.array([*first.values(), *first.values()])
    return DesignInfo(variables), columns


def _parse(text, design, columns, names):
    """One string of restrictions as ``(R, q)``, or a ValueError."""
    from patsy import PatsyError

    if not text.strip():
        raise ValueError(f"Restriction {text!r} is empty: {_SYNTAX}.")
    try:
        constraint = design.linear_constraint(text)
    except PatsyError as error:
        raise _read_error(text, error, names) from None
    matrix = np.zeros((constraint.coefs.shape[0], len(names)))
    np.add.at(matrix.T, columns, constraint.coefs.T)
    if not matrix.any(axis=1).all():
        raise ValueError(
            f"Restriction {text!r} names no coefficient once its terms are "
            "added up (they cancel)."
        )
    return matrix, np.asarray(constraint.constants, dtype=np.float64).reshape(-1)


def _read_error(text, error, names):
    """The error for text that patsy cannot read: the name that is not a
    coefficient if that is what stops it, else where and why."""
    origin = getattr(error, "origin", None)
    message = str(getattr(error, "message", error)).rstrip(".")
    if origin is None or origin.code != text:
        return ValueError(f"Cannot read restriction {text!r}: {message}; {_SYNTAX}.")
    # The word the error is in: patsy reads the longest coefficient name
    # that a word starts with, so an unknown name stops it inside the word.
    for word in _WORD.finditer(text):
        if word.start() <= origin.start < word.end():
            name = word.group().strip("`")
            if name not in names:
                return ValueError(
                    f"Restriction {text!r} names {name!r}, which is not a "
                    f"coefficient; the coefficients are {', '.join(names)}."
                )
            break
        if word.start() > origin.start:
            break
    # From where it stops to the end, as a reader looks for it.
    at = (
        f" at {text[origin.start :].rstrip()!r}" if text[: origin.start].strip() else ""
    )
    return ValueError(f"Cannot read restriction {text!r}{at}: {message}; {_SYNTAX}.")
