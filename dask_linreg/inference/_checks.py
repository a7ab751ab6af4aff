"""Small helpers shared by the results, predictions and summaries.

Nothing here refers to the data: read-only copies of small arrays, the check
of an interval's level and the distribution of the test statistics.
"""

import numbers

import numpy as np
from scipy import stats

__all__ = ["check_level", "distribution", "frozen"]


def frozen(value):
    """A read-only copy of an array (other values unchanged).

    Results never share memory with the estimator, which a later fit may
    change.

    Parameters
    ----------
    value : object
        An ndarray is copied and made read-only; anything else is returned
        as it is.

    Returns
    -------
    object
    """
    if not isinstance(value, np.ndarray):
        return value
    copy = np.array(value, copy=True)
    copy.flags.writeable = False
    return copy


def distribution(use_t, df):
    """The distribution of a t (or z) statistic.

    Parameters
    ----------
    use_t : bool
        Student's t on ``df`` degrees of freedom, else the standard normal.
    df : int
        Degrees of freedom of the t distribution.

    Returns
    -------
    scipy.stats.rv_continuous frozen distribution
    """
    return stats.t(df) if use_t else stats.norm()


def check_level(alpha):
    """The level of an interval or test, a float strictly in (0, 1).

    Parameters
    ----------
    alpha : float

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``alpha`` is not a real number (a bool is refused).
    ValueError
        If ``alpha`` is not strictly between 0 and 1.
    """
    if isinstance(alpha, bool | np.bool_) or not isinstance(alpha, numbers.Real):
        raise TypeError(
            f"alpha must be a number strictly between 0 and 1; got {alpha!r}."
        )
    if not 0 < alpha < 1:
        raise ValueError(
            f"alpha must be a number strictly between 0 and 1; got {alpha!r}."
        )
    return float(alpha)
