"""Faults in the values of the inputs, found inside the single pass and
raised afterwards: non-finite values, negative weights, blocks of other
lengths, missing labels, magnitudes float64 products cannot handle.

Plain NumPy; no Dask.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["InputFaults", "find_block_faults", "extreme_column", "complete_rows"]


@dataclass(frozen=True)
class InputFaults:
    """Problems with the values of the inputs, found during the pass.

    Attributes
    ----------
    counts : dict of str to (int, int)
        For each fault, the number of offending values and the first row
        block where one was seen.  Keys: ``"X"``, ``"y"``,
        ``"sample_weight"`` (non-finite values), ``"negative"`` (negative
        weights), ``"overflow"`` (cross-products beyond float64).
    row_mismatch : tuple or None
        ``(block, x_rows, name, rows)`` for the first row block where X and
        y or sample_weight disagree on the number of rows.
    n_blocks : int
        Number of consecutive row blocks these faults cover.  Block numbers
        count from the first of them, so merging in block order numbers the
        blocks of the whole array without any block knowing its position.
    dropped : int
        Rows left out for a missing value (``missing="drop"``): not a
        fault, but counted in the same pass.
    """

    counts: dict = field(default_factory=dict)
    row_mismatch: tuple | None = None
    n_blocks: int = 1
    dropped: int = 0

    def merge(self, other):
        """The faults of these blocks followed by ``other``'s."""
        offset = self.n_blocks
        counts = dict(self.counts)
        for key, (count, block, *detail) in other.counts.items():
            first = (block + offset, *detail)
            if key in counts:
                count, first = counts[key][0] + count, counts[key][1:]
            counts[key] = (count, *first)
        row_mismatch = self.row_mismatch
        if row_mismatch is None and other.row_mismatch is not None:
            block, *rest = other.row_mismatch
            row_mismatch = (block + offset, *rest)
        return InputFaults(
            counts,
            row_mismatch,
            self.n_blocks + other.n_blocks,
            self.dropped + other.dropped,
        )

    def missing_labels(self):
        """Whether some rows have no label (cluster or fold)."""
        return any(isinstance(key, tuple) for key in self.counts)

    def only_overflow(self):
        """Whether the only fault is cross-products overflowing float64."""
        return self.row_mismatch is None and set(self.counts) == {"overflow"}

    def raise_if_any(self, feature_names=None):
        """Raise a ValueError naming the input and the first offending block
        (and column; ``feature_names`` are X's column names, if any)."""
        if self.row_mismatch is not None:
            block, x_rows, name, rows = self.row_mismatch
            raise ValueError(
                f"X and {name} have different numbers of rows in row block {block}: "
                f"{x_rows} and {rows}. Give them the same partitions (e.g. take both "
                "from one dataframe)."
            )
        for name in ("X", "y", "sample_weight"):
            if name in self.counts:
                count, block, *column = self.counts[name]
                where = ""
                if column and name != "sample_weight":
                    label = column[0]
                    if name == "X" and feature_names is not None:
                        label = repr(str(feature_names[label]))
                    where = f", column {label}"
                raise ValueError(
                    f"Input {name} contains {count} non-finite value(s) (NaN or inf), "
                    f"the first in row block {block}{where}. Drop or impute them "
                    "before fitting."
                )
        if "negative" in self.counts:
            count, block = self.counts["negative"]
            raise ValueError(
                f"sample_weight contains {count} negative value(s), the first in row "
                f"block {block}; weights must be non-negative."
            )
        for key, (count, block) in self.counts.items():
            if isinstance(key, tuple) and key[0] == "missing":
                raise ValueError(
                    f"{key[1]} contains {count} missing label(s) (NaN or None), the "
                    f"first in row block {block}: every row needs a label."
                )
        if "overflow" in self.counts:
            _, block = self.counts["overflow"]
            raise ValueError(
                "The weighted cross-products of X and y overflow float64 (first in "
                f"row block {block}): the values are too large. Rescale X, y or "
                "sample_weight."
            )


def complete_rows(x_parts, y_parts, sample_weight, companions):
    """Which rows have no missing value (NaN; None or NA among labels) in
    any of the parts, or None when all have (no copy is then needed)."""
    n_rows = x_parts[0].shape[0]
    missing = np.zeros(n_rows, dtype=bool)
    for part in (*x_parts, *y_parts, sample_weight):
        if part is not None and part.size:
            values = part.reshape(n_rows, -1)
            missing |= np.isnan(values).any(axis=1)
    for labels in companions:
        missing |= np.asarray(pd.isna(labels), dtype=bool)
    return None if not missing.any() else ~missing


def find_block_faults(x_parts, y_parts, sample_weight, companions=None, *, finite=None):
    """Faults of one row block (numbered 0; see :class:`InputFaults`).

    Row counts are compared first (``finite`` is then not needed), with
    ``companions`` (name -> array or None, e.g. cluster labels) too.
    Non-finite values are only counted when ``finite`` is False, i.e. the
    block's statistic is not finite: any NaN or inf in the data makes it
    so, and otherwise the count, a second sweep, is not needed.
    """
    x_rows = x_parts[0].shape[0]
    named = [("y", y_parts[0]), ("sample_weight", sample_weight)]
    named += list((companions or {}).items())
    for name, part in named:
        if part is not None and part.shape[0] != x_rows:
            return InputFaults(row_mismatch=(0, x_rows, name, part.shape[0]))
    counts = {}
    if sample_weight is not None:
        negative = int(np.count_nonzero(sample_weight < 0))
        if negative:
            counts["negative"] = (negative, 0)
    for name, labels in (companions or {}).items():
        missing = 0 if labels is None else int(np.count_nonzero(pd.isna(labels)))
        if missing:
            counts[("missing", name)] = (missing, 0)
    if finite is False:
        inputs = [("X", x_parts), ("y", y_parts)]
        if sample_weight is not None:
            inputs.append(("sample_weight", [sample_weight]))
        for name, parts in inputs:
            bad = [~np.isfinite(p).reshape(len(p), -1) for p in parts]
            count = sum(int(np.count_nonzero(b)) for b in bad)
            if count:
                # The first column with a non-finite value, counted across
                # the column blocks.
                per_column = np.concatenate([b.any(axis=0) for b in bad])
                counts[name] = (count, 0, int(np.flatnonzero(per_column)[0]))
        if not counts:
            counts["overflow"] = (0, 0)
    return InputFaults(counts)


#: Columns whose root mean square lies outside this range make cross-products
#: overflow or underflow float64 in the ``"cholesky"`` and ``"qr"`` solvers.
SAFE_MAGNITUDES = (1e-150, 1e150)


def extreme_column(statistic):
    """First column of ``[X | Y]`` whose magnitude float64 products cannot
    handle, as ``(index, root mean square)``, or None.

    Only kinds whose arithmetic is float64 products (``float_products``)
    have such columns; their ``column_spread()`` is the square root of the
    centered sum of squares, and the root mean square is
    ``hypot(mean, spread / sqrt(W))`` (never squared, so it does not
    overflow).
    """
    if not statistic.float_products:
        return None
    spread = statistic.column_spread()
    with np.errstate(over="ignore", invalid="ignore"):
        rms = np.hypot(statistic.mean, spread / np.sqrt(statistic.weight_sum))
    low, high = SAFE_MAGNITUDES
    bad = np.flatnonzero((rms > high) | ((rms > 0) & (rms < low)))
    return (int(bad[0]), float(rms[bad[0]])) if bad.size else None
