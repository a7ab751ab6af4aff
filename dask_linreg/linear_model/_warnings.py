"""The estimators' warnings: AccuracyWarning, raised at the user's call."""

import os
import sys
import warnings

__all__ = [
    "WARN_DIGITS",
    "AccuracyWarning",
    "warn_at_caller",
    "warn_if_inaccurate",
    "warn_no_second_pass",
]

#: Fewer trustworthy digits than this raise an :class:`AccuracyWarning`.
WARN_DIGITS = 6.0


class AccuracyWarning(UserWarning):
    """The fitted coefficients have fewer than about 6 trustworthy digits."""


#: Frames under this folder are the package's own: warnings point past them.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn_at_caller(message, category):
    """Warn at the first frame outside the package (the user's call),
    however deep inside it the warning is raised."""
    if sys.version_info >= (3, 12):
        warnings.warn(message, category, skip_file_prefixes=(_PACKAGE_DIR,))
        return
    # Level 1 is this function; 2 its caller.
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def warn_if_inaccurate(solution, solver):
    """An :class:`AccuracyWarning` when the data (or the solver) leave fewer
    than ``WARN_DIGITS`` digits of the coefficients."""
    if solution.data_digits < WARN_DIGITS:
        warn_at_caller(
            f"The data determine only about {solution.data_digits:.1f} significant "
            "digits of the coefficients (condition number "
            f"{solution.condition:.1e} of the scaled design): a change of one unit "
            "in the last place of the data can change them that much. Nearly "
            "collinear columns are the usual cause; consider dropping or combining "
            "them, or a penalty (Ridge).",
            AccuracyWarning,
        )
    elif solution.digits < WARN_DIGITS:
        warn_at_caller(
            f"solver={solver!r} kept only about {solution.digits:.1f} significant "
            "digits of the coefficients (condition number "
            f"{solution.condition:.1e} of the scaled design); solver='auto' or "
            "'exact' gets more.",
            AccuracyWarning,
        )


def warn_no_second_pass(solution):
    """``partial_fit`` with ``solver="auto"`` on data that needed a second pass."""
    warn_at_caller(
        f"The normal equations keep only about {solution.digits:.1f} digits here, "
        "and partial_fit cannot take solver='auto''s second, more accurate pass "
        "(the earlier batches are gone). For streaming fits of ill-conditioned "
        "data use solver='qr' (or 'exact').",
        AccuracyWarning,
    )
