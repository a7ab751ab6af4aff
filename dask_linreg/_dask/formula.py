"""Wilkinson formulas over pandas and Dask DataFrames, evaluated per partition.

A formula is parsed by `formulaic <https://matthewwardrop.github.io/formulaic/>`_
into terms.  Terms of numeric factors (``x1``, ``np.log(x2)``, ``I(x**2)``,
``x1:x3``) are stateless transforms of a row: formulaic evaluates them on each
partition.  A categorical term (``C(region)``, or a column of category,
string or bool dtype) becomes one categorical column of the design, whose
levels the fit's pass finds (:mod:`dask_linreg._numerics.levels`).  Nothing
here computes a Dask collection.
"""

import ast
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from formulaic import Formula, model_matrix
from formulaic.formula import SimpleFormula

from dask_linreg._dask.columns import is_dask
from dask_linreg._dask.factors import _is_factor_dtype
from dask_linreg._dask.indicators import with_indicators
from dask_linreg._numerics.levels import ModelTerm

__all__ = ["FormulaDesign", "parse_formula", "design_frames", "split_absorbed"]

#: formulaic's transforms that need state from the whole data (a mean, a
#: knot sequence...): evaluated per partition they would each see one
#: partition only.
_STATEFUL = {
    "center",
    "scale",
    "standardize",
    "poly",
    "bs",
    "cc",
    "cr",
    "cs",
    "lag",
    "hashed",
    "Q",
}
_CATEGORICAL_CALL = re.compile(r"^C\((?P<inner>.*)\)$", re.DOTALL)


@dataclass(frozen=True)
class CategoricalTerm:
    """A categorical term: its design column ``name``, read from ``column``
    with the categories ``levels`` (None: the column's own or sorted)."""

    name: str
    column: str
    levels: tuple | None


@dataclass(frozen=True)
class FormulaDesign:
    """A parsed formula.

    Attributes
    ----------
    formula : str
    targets : tuple of str
        The left-hand side's terms, as formulaic names them.
    intercept : bool
    numeric : tuple of str
        The design's numeric columns: numeric terms (``x1``, ``np.log(x2)``,
        ``x1:x3``) and the numeric parts of terms with factors (``x1`` of
        ``x1:C(region)``), as formulaic names them.
    factors : tuple of CategoricalTerm
        The design's categorical columns.
    model_terms : (tuple of ModelTerm, tuple of ModelTerm)
        The right-hand side's terms (the intercept aside) with treatment
        coding as formulaic chooses it (a factor's reference level left out
        where the lower terms span it), and with every level kept (for
        penalized models); factor parts are ``(name, reduced)``.
    interactions : bool
        Whether a term interacts a factor with another column.
    columns : tuple of str
        The design's columns (``numeric`` and the factors' names), in the
        order the terms first use them.
    indicators : dict or None
        Of a fitted model whose categorical terms are columns of
        indicators (absorbed fixed effects; split and clustered fits): each
        term's levels, whose indicators (all but the first) replace the
        term in the designs :func:`design_frames` makes.
    """

    formula: str
    targets: tuple
    intercept: bool
    numeric: tuple
    factors: tuple
    model_terms: tuple
    interactions: bool
    columns: tuple
    indicators: dict | None = None


def _called_names(expression):
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return set()
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def _categorical_call(expression, formula):
    """The column and levels of ``C(column[, levels=[...]])``."""
    inner = _CATEGORICAL_CALL.match(expression).group("inner")
    call = ast.parse(f"C({inner})", mode="eval").body
    if len(call.args) != 1 or not isinstance(call.args[0], ast.Name):
        raise ValueError(
            f"{expression} in formula {formula!r}: C() takes one column name "
            "(and levels=[...]); treatment coding is the only contrast."
        )
    levels = None
    for keyword in call.keywords:
        if keyword.arg != "levels":
            raise ValueError(
                f"{expression} in formula {formula!r}: C() takes only levels=; "
                "treatment coding (first level the reference) is the only "
                "contrast."
            )
        levels = tuple(str(v) for v in ast.literal_eval(keyword.value))
    return call.args[0].id, levels


def split_absorbed(formula):
    """fixest's ``"y ~ x1 + x2 | firm"``: the formula before ``|`` and the
    absorbed columns after it (empty without ``|``).

    Raises
    ------
    ValueError
        For more than one ``|`` (fixest's instrumental-variable part), or
        an absorbed part that is not columns joined by ``+``.
    """
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string; got {type(formula).__name__}.")
    depth, bars = 0, []
    for position, character in enumerate(formula):
        if character in "([{":
            depth += 1
        elif character in ")]}":
            depth -= 1
        elif character == "|" and depth == 0:
            bars.append(position)
    if not bars:
        return formula, ()
    if len(bars) > 1:
        raise ValueError(
            f"formula {formula!r} has {len(bars) + 1} parts ('|'): only one "
            "absorbed part is supported ('y ~ x | firm'), not instrumental "
            "variables."
        )
    main, absorbed = formula[: bars[0]].strip(), formula[bars[0] + 1 :]
    names = tuple(name.strip() for name in absorbed.split("+"))
    if not all(name.isidentifier() for name in names):
        raise ValueError(
            f"formula {formula!r}: the absorbed part {absorbed.strip()!r} must be "
            "columns joined by '+' ('| firm' or '| firm + year')."
        )
    return main, names


def parse_formula(formula, dtypes):
    """Parse ``formula`` against a frame's ``dtypes`` (column -> dtype).

    Raises
    ------
    ValueError
        For a formula formulaic cannot parse, a column the data do not
        have, a stateful transform, or several right-hand sides.
    """
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string; got {type(formula).__name__}.")
    try:
        parsed = Formula(formula)
    except Exception as error:
        raise ValueError(f"formula {formula!r} cannot be parsed: {error}") from None
    if not hasattr(parsed, "lhs") or not hasattr(parsed, "rhs"):
        raise ValueError(
            f"formula {formula!r} needs a target and terms: 'y ~ x1 + C(region)'."
        )
    if not isinstance(parsed.rhs, SimpleFormula) or not isinstance(
        parsed.lhs, SimpleFormula
    ):
        raise ValueError(
            f"formula {formula!r} has several parts ('|'): absorbed fixed effects "
            "(y ~ x | store) are fitted by dask_linreg.ols only; here enter the "
            "column as C(store), or leave it out."
        )
    targets = tuple(str(t) for t in parsed.lhs)
    if not targets or "1" in targets:
        raise ValueError(f"formula {formula!r} has no target left of '~'.")
    intercept = False
    terms = []
    for term in parsed.rhs:
        if str(term) == "1":
            intercept = True
            continue
        terms.append([_part(factor, formula, dtypes) for factor in term.factors])
    if not terms:
        raise ValueError(f"formula {formula!r} has no terms right of '~'.")
    treatment = _treatment_terms(terms, intercept, formula)
    one_hot = tuple(
        _model_term([(p, False) if not isinstance(p, str) else p for p in parts])
        for parts in terms
    )
    numeric, factors = [], []
    for term in (*treatment, *one_hot):
        if term.value is not None and term.value not in numeric:
            numeric.append(term.value)
    for parts in terms:
        for part in parts:
            if not isinstance(part, str) and part not in factors:
                factors.append(part)
    columns = []
    for term in one_hot:
        used = [p[0].name for p in term.parts if not isinstance(p, str)]
        for name in (term.value, *used):
            if name is not None and name not in columns:
                columns.append(name)
    columns += [name for name in numeric if name not in columns]
    return FormulaDesign(
        formula,
        targets,
        intercept,
        tuple(numeric),
        tuple(factors),
        (_named(treatment), _named(one_hot)),
        any(
            len(parts) > 1 and not all(isinstance(p, str) for p in parts)
            for parts in terms
        ),
        tuple(columns),
    )


def _part(factor, formula, dtypes):
    """A factor of a term: its expression (numeric) or a CategoricalTerm."""
    expression = str(factor.expr)
    stateful = sorted(_called_names(expression) & _STATEFUL)
    if stateful:
        raise ValueError(
            f"{expression} in formula {formula!r} is a stateful transform "
            f"({stateful[0]}): its state (a mean, a scale, knots) would "
            "come from each partition alone. Compute it over the data "
            "first and add it as a column."
        )
    if _CATEGORICAL_CALL.match(expression):
        column, levels = _categorical_call(expression, formula)
        item = CategoricalTerm(expression, column, levels)
    elif factor.eval_method.value == "lookup":
        if expression not in dtypes:
            raise ValueError(
                f"formula {formula!r} names column {expression!r}, which "
                "the data do not have; they have: "
                f"{', '.join(map(str, dtypes))}."
            )
        if not _is_factor_dtype(dtypes[expression]):
            return expression
        item = CategoricalTerm(expression, expression, None)
    else:
        return expression
    if item.column not in dtypes:
        raise ValueError(
            f"formula {formula!r} names column {item.column!r}, which the "
            f"data do not have; they have: {', '.join(map(str, dtypes))}."
        )
    if item.levels is None and not _is_factor_dtype(dtypes[item.column]):
        raise ValueError(
            f"{item.name} in formula {formula!r}: column {item.column!r} is "
            f"numeric ({dtypes[item.column]}); make it a category first "
            f"(data[{item.column!r}].astype('category'), whose order is "
            "that of the levels), or give C(..., levels=[...])."
        )
    return item


def _model_term(parts):
    """A ModelTerm of parts (numeric names, or (CategoricalTerm, reduced))."""
    numeric = [p for p in parts if isinstance(p, str)]
    return ModelTerm(tuple(parts), ":".join(numeric) if numeric else None)


def _named(terms):
    """Terms with each factor part named by its design column."""
    return tuple(
        ModelTerm(
            tuple(p if isinstance(p, str) else (p[0].name, p[1]) for p in term.parts),
            term.value,
        )
        for term in terms
    )


def _treatment_terms(terms, intercept, formula):
    """formulaic's treatment coding of the terms, as model terms.

    Which factor of which term drops its reference level depends only on
    the terms (what the earlier ones span), not on the data: formulaic
    decides it on two rows of stand-in columns, one per distinct part.
    """
    names = {}
    for parts in terms:
        for part in parts:
            if part not in names:
                kind = "n" if isinstance(part, str) else "c"
                names[part] = f"_{kind}{len(names)}"
    stand_in = pd.DataFrame(
        {
            name: [1.0, 2.0] if name.startswith("_n") else pd.Categorical(["a", "b"])
            for name in names.values()
        }
    )
    rhs = " + ".join(":".join(names[p] for p in parts) for parts in terms)
    spec = model_matrix(
        Formula(f"{int(intercept)} + {rhs}", _ordering="none"), stand_in
    ).model_spec
    part_of = {name: part for part, name in names.items()}
    treatment = []
    for _, scoped_terms, _ in spec.structure:
        for scoped in scoped_terms:
            if not scoped.factors:
                continue  # the intercept
            if scoped.scale != 1:
                raise ValueError(
                    f"formula {formula!r}: formulaic codes a term with a scale "
                    f"({scoped}), which is not supported."
                )
            parts = []
            for factor in scoped.factors:
                part = part_of[str(factor.factor.expr)]
                parts.append(part if isinstance(part, str) else (part, factor.reduced))
            treatment.append(_model_term(parts))
    return tuple(treatment)


def _evaluated(frame, expressions, formula):
    """formulaic's values of numeric terms on a pandas frame, one float64
    column each (rows with NA kept: the pass reports them)."""
    if not expressions:
        return pd.DataFrame(index=frame.index)
    try:
        matrix = model_matrix(
            "0 + " + " + ".join(expressions), frame, na_action="ignore"
        )
    except Exception as error:
        raise ValueError(
            f"formula {formula!r} cannot be evaluated on the data: {error}"
        ) from None
    values = pd.DataFrame(
        np.asarray(matrix, dtype=np.float64), index=frame.index, columns=matrix.columns
    )
    missing = [e for e in expressions if e not in values.columns]
    if missing or values.shape[1] != len(expressions):
        raise ValueError(
            f"formula {formula!r}: the terms {missing or list(expressions)} are "
            "not numeric columns (a categorical column goes in C() or as a "
            "category, string or bool column)."
        )
    return values[list(expressions)]


def _with_levels(values, term, strict):
    """A column as the categories of ``C(column, levels=[...])``; a value
    outside them raises (``strict``) or is left out (Dask's fake rows)."""
    labels = values.astype(str).where(values.notna())
    outside = labels.notna() & ~labels.isin(term.levels)
    if outside.any():
        if strict:
            raise ValueError(
                f"column {term.column!r} has value {labels[outside].iloc[0]!r}, "
                f"which is not among the levels of {term.name}."
            )
        labels = labels.where(~outside)
    return labels.astype(pd.CategoricalDtype(list(term.levels)))


def design_partition(frame, design, with_targets, strict=True):
    """The design (and targets) of one pandas partition."""
    numeric = _evaluated(frame, list(design.numeric), design.formula)
    columns = {name: numeric[name] for name in design.numeric}
    for term in design.factors:
        values = frame[term.column]
        if term.levels is not None:
            values = _with_levels(values, term, strict)
        columns[term.name] = values
    X = pd.DataFrame(
        {name: columns[name] for name in design.columns}, index=frame.index
    )
    if not with_targets:
        return X
    y = _evaluated(frame, list(design.targets), design.formula)
    return X, y[design.targets[0]] if len(design.targets) == 1 else y


def _meta(design, frame_meta):
    columns = {name: pd.Series([], dtype=np.float64) for name in design.numeric}
    for term in design.factors:
        if term.levels is not None:
            columns[term.name] = pd.Series(
                [], dtype=pd.CategoricalDtype(list(term.levels))
            )
        else:
            columns[term.name] = frame_meta[term.column]
    return pd.DataFrame({name: columns[name] for name in design.columns})


def _design_keeping(part, design, keep):
    """The design of one partition, with its columns ``keep`` as they are."""
    X = design_partition(part, design, False)
    return X.assign(**{column: part[column] for column in keep}) if keep else X


def design_frames(data, design, *, with_targets=True, keep=()):
    """``(X, y)`` (or ``X``) of ``design`` over a pandas or Dask DataFrame.

    Dask: one lazy ``map_partitions`` per frame, with the partitions of
    ``data`` (rows matched by position, as the fit requires).  ``keep``:
    columns of ``data`` that X carries too, as they are (an absorbed
    factor), taken in the same partitions.  A fitted design's
    ``indicators`` replace its categorical terms by their indicators.
    """
    designed = _design_frames(data, design, with_targets, keep)
    if not design.indicators:
        return designed
    if not with_targets:
        return with_indicators(designed, design.indicators)
    X, y = designed
    return with_indicators(X, design.indicators), y


def _design_frames(data, design, with_targets, keep):
    keep = list(keep)
    if not is_dask(data):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(
                f"data must be a pandas or Dask DataFrame; got {type(data).__name__}."
            )
        designed = design_partition(data, design, with_targets)
        if not keep:
            return designed
        kept = {column: data[column] for column in keep}
        if not with_targets:
            return designed.assign(**kept)
        X, y = designed
        return X.assign(**kept), y
    # Fail now, not in the pass: the terms evaluated on Dask's fake rows.
    design_partition(data._meta_nonempty, design, with_targets, strict=False)
    X = data.map_partitions(
        _design_keeping,
        design,
        keep,
        meta=_meta(design, data._meta).assign(**{c: data._meta[c] for c in keep}),
    )
    if not with_targets:
        return X
    targets = list(design.targets)
    y = data.map_partitions(
        _evaluated,
        targets,
        design.formula,
        meta=pd.DataFrame({t: pd.Series([], dtype=np.float64) for t in targets}),
    )
    return X, y[targets[0]] if len(targets) == 1 else y
