"""Categorical columns of a DataFrame X: which they are, and their encoding.

A column of ``category`` dtype, of a string dtype (``str``,
``string[pyarrow]``, object of strings) or of bool is a *factor*: it enters
the model as indicator columns of its levels, which the pass finds
(:mod:`dask_linreg._numerics.levels`).  Nothing here computes anything.
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dask_linreg._numerics.levels import (
    IndicatorTerm,
    ModelTerm,
    category_order,
    model_term_rows,
    term_names,
)

__all__ = [
    "FactorDesign",
    "factor_columns",
    "indicator_frame",
    "level_codes",
    "term_values",
]


def _is_factor_dtype(dtype, values=None):
    """Whether a column of ``dtype`` is categorical; an object column of
    pandas ``values`` is when they are not numbers."""
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        if pd.api.types.is_object_dtype(dtype) and values is not None:
            inferred = pd.api.types.infer_dtype(values, skipna=True)
            return inferred in ("string", "boolean", "categorical", "empty") and bool(
                len(values)
            )
        return True
    return False


def factor_columns(X):
    """The names of the categorical columns of a pandas or Dask DataFrame
    (in column order); empty for anything else."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or getattr(X, "ndim", 0) != 2:
        return []
    in_memory = isinstance(X, pd.DataFrame)
    return [
        column
        for column, dtype in dtypes.items()
        if _is_factor_dtype(dtype, X[column] if in_memory else None)
    ]


def _known_order(dtype):
    """A categorical dtype's categories as the strings the pass compares
    (None when unknown, as in a Dask frame read from Parquet)."""
    if not isinstance(dtype, pd.CategoricalDtype) or dtype.categories is None:
        return None
    categories = dtype.categories
    if len(categories) == 1 and categories[0] == "__UNKNOWN_CATEGORIES__":
        return None
    return category_order(categories)


@dataclass(frozen=True)
class FactorDesign:
    """How the columns of X become the model's columns.

    Attributes
    ----------
    columns : tuple of str
        X's columns in order.
    factors : tuple of str
        The categorical ones, in order.
    orders : tuple of (ndarray or None)
        Per factor, its categories' order when its dtype gives one (levels
        are otherwise sorted).
    levels : tuple of ndarray or None
        Per factor, the levels of the fitted model in their order (None
        before the pass).
    drop_first : tuple of bool or None
        Per factor, whether its first level is the reference (of a design
        of main effects).
    terms : tuple of ModelTerm or None
        The model's terms (None before the encoding is chosen): for X's
        columns, one per column; for a formula, its terms.
    formula_terms : tuple or None
        A formula's terms as ``(treatment, one_hot)``: formulaic's
        treatment coding (reference levels left out where the lower terms
        span them), and one term per formula term with every level kept
        (penalized models); None: X's columns are the terms.
    """

    columns: tuple
    factors: tuple
    orders: tuple
    levels: tuple | None = None
    drop_first: tuple | None = None
    terms: tuple | None = None
    formula_terms: tuple | None = None

    @classmethod
    def of(cls, X, factors, formula_terms=None):
        """The design of DataFrame X; ``formula_terms`` name the factors
        (``(name, reduced)`` parts), as :mod:`dask_linreg._dask.formula`
        gives them."""
        factors = tuple(str(f) for f in factors)
        if formula_terms is not None:
            position = {name: f for f, name in enumerate(factors)}
            formula_terms = tuple(
                tuple(
                    ModelTerm(
                        tuple(
                            p if isinstance(p, str) else (position[p[0]], p[1])
                            for p in term.parts
                        ),
                        term.value,
                    )
                    for term in terms
                )
                for terms in formula_terms
            )
        return cls(
            tuple(str(c) for c in X.columns),
            factors,
            tuple(_known_order(X[f].dtype) for f in factors),
            formula_terms=formula_terms,
        )

    @property
    def numeric(self):
        """X's numeric columns, in order."""
        return tuple(c for c in self.columns if c not in self.factors)

    def encoded(self, *, fit_intercept, full_one_hot):
        """This design with the model's terms chosen.

        X's columns: treatment coding with an intercept (R, statsmodels,
        formulaic); without one the first factor keeps every level;
        ``full_one_hot`` keeps every level of all (penalized models, whose
        penalty identifies them).  A formula: formulaic's coding, or every
        level kept with ``full_one_hot``.
        """
        if self.formula_terms is not None:
            terms = self.formula_terms[1 if full_one_hot else 0]
            drop_first = tuple(False for _ in self.factors)
            return replace(self, terms=terms, drop_first=drop_first)
        if full_one_hot:
            drop_first = tuple(False for _ in self.factors)
        else:
            drop_first = tuple(fit_intercept or i > 0 for i in range(len(self.factors)))
        return replace(self, drop_first=drop_first, terms=self.main_terms(drop_first))

    def main_terms(self, drop_first):
        """One term per column of X, each factor's first level dropped or
        not as ``drop_first`` says."""
        terms = []
        for column in self.columns:
            if column in self.factors:
                f = self.factors.index(column)
                terms.append(ModelTerm(((f, bool(drop_first[f])),)))
            else:
                terms.append(ModelTerm((column,), column))
        return tuple(terms)

    def indicator_terms(self):
        """The indicator blocks the pass reduces for the model's terms."""
        blocks = []
        for term in self.terms:
            if not term.factors:
                continue
            value = None if term.value is None else self.numeric.index(term.value)
            block = IndicatorTerm(term.factors, value)
            if block not in blocks:
                blocks.append(block)
        return tuple(blocks)

    def term_widths(self):
        """The model's columns of each term (of a fitted design)."""
        return [
            int(
                np.prod(
                    [
                        len(self.levels[f]) - int(reduced)
                        for f, reduced in zip(term.factors, term.reduced, strict=True)
                    ]
                )
            )
            for term in self.terms
        ]

    def n_coefficients(self):
        """The model's columns (of a fitted design)."""
        return sum(self.term_widths())

    def coefficient_names(self):
        """The model's column names, as ``coef_names_`` holds them."""
        names = []
        for term in self.terms:
            if term.factors:
                names += term_names(term, self.levels, self.factors)
            else:
                names.append(term.value)
        return names

    def message_names(self):
        """How the pass names each factor in its messages."""
        return tuple(f"X column {f!r}" for f in self.factors)


def level_codes(design, frame, *, handle_unknown="error"):
    """Each factor's level index per row of a pandas ``frame`` (new data).

    A level the model was not fitted on raises, naming the column and the
    level; with ``handle_unknown="ignore"`` it gets code -1 (all the
    factor's indicators zero: the reference level under treatment coding).
    Missing values raise.
    """
    codes = []
    for name, levels in zip(design.factors, design.levels, strict=True):
        values = frame[name]
        missing = values.isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"X column {name!r} has {int(missing.sum())} missing value(s) "
                "(NaN or None); a categorical column needs a level in every row."
            )
        labels = values.to_numpy(dtype=object)
        labels = labels.astype(str) if labels.dtype == object else labels
        index = pd.Index(np.asarray(levels)).get_indexer(labels)
        unknown = index < 0
        if unknown.any() and handle_unknown == "error":
            first = str(labels[np.flatnonzero(unknown)[0]])
            raise ValueError(
                f"X column {name!r} has level {first!r}, which the model was not "
                f"fitted on (it knows {len(levels)}: "
                f"{', '.join(repr(str(level)) for level in list(levels)[:5])}"
                f"{', ...' if len(levels) > 5 else ''}). Pass "
                "handle_unknown='ignore' to predict it as the reference level."
            )
        codes.append(index)
    return codes


def term_values(design, frame, *, handle_unknown="error"):
    """Per model term of a pandas ``frame`` (new data): each row's column
    within the term (-1: none, as for a reference or ignored level) and
    its value there (None: 1), in the order of ``design.terms``."""
    codes = level_codes(design, frame, handle_unknown=handle_unknown)
    values = []
    for term, (index, width) in zip(
        design.terms, model_term_rows(design.terms, design.levels, codes), strict=True
    ):
        value = (
            None
            if term.value is None
            else frame[term.value].to_numpy(dtype=np.float64, na_value=np.nan)
        )
        values.append((index, value, width))
    return values


def indicator_frame(frame, design, handle_unknown="error"):
    """The model's columns of a pandas ``frame`` (new data), indicators
    built: what ``get_prediction`` needs of each row (``x' C x``).

    Only for the rows of one partition of new data, whose indicators are a
    few columns per level; the fit never builds them.
    """
    names = design.coefficient_names()
    values = np.zeros((len(frame), len(names)))
    position = 0
    for index, value, width in term_values(
        design, frame, handle_unknown=handle_unknown
    ):
        rows = np.flatnonzero(index >= 0)
        values[rows, position + index[rows]] = 1.0 if value is None else value[rows]
        position += width
    return pd.DataFrame(values, index=frame.index, columns=names)
