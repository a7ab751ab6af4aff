"""The ``dask-linreg`` command line: fit, predict and demo over files.

Exit codes: 0 success, 2 usage errors (argparse's), 1 data errors, each
with one clear line on stderr.
"""

import argparse
import contextlib
import glob
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

from dask_linreg._dask.factors import _is_factor_dtype
from dask_linreg._dask.formula import design_frames, parse_formula, split_absorbed
from dask_linreg._numerics.cv import fitted_r2
from dask_linreg._numerics.moments import Moments
from dask_linreg._numerics.tsqr import TriangularMoments

__all__ = ["main"]

MODELS = ("linear", "ridge", "ridgecv", "lasso", "elasticnet")


class DataError(Exception):
    """A problem with the data or the model file: exit code 1."""


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="dask-linreg",
        description="One-pass linear regression over Parquet/CSV files with Dask.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser("fit", help="fit a model on a table and save it")
    fit.add_argument("data", help="Parquet or CSV: a file, a directory or a glob")
    fit.add_argument("--target", help="target column (or give --formula)")
    fit.add_argument(
        "--features",
        nargs="+",
        metavar="COL",
        help="feature columns, numeric or categorical (default: all others)",
    )
    fit.add_argument(
        "--formula",
        help="a formula instead of --target/--features: 'y ~ x1 + C(region)'; "
        "'y ~ x1 | firm + year' absorbs the fixed effects of firm and year "
        "(--output is then a Parquet table of the fixed effects)",
    )
    fit.add_argument(
        "--missing",
        choices=("raise", "drop"),
        default="raise",
        help="rows with a missing value: an error, or left out (default: raise)",
    )
    fit.add_argument("--weights", metavar="COL", help="sample-weight column")
    fit.add_argument("--model", choices=MODELS, default="linear")
    fit.add_argument(
        "--alpha",
        type=float,
        nargs="+",
        help="penalty (ridge, lasso, elasticnet); candidate penalties for ridgecv",
    )
    fit.add_argument("--l1-ratio", type=float, default=0.5, help="elasticnet mix")
    fit.add_argument("--cv", type=int, help="folds for ridgecv (default: GCV)")
    fit.add_argument(
        "--split",
        metavar="COL",
        help="fit one model per group of COL (with --formula, --model linear): "
        "--output is then a Parquet table of every group's coefficients, "
        "standard errors, R-squared and counts",
    )
    fit.add_argument(
        "--cluster",
        metavar="COL",
        help="with an absorbed formula ('|'): cluster-robust (CRV1) standard "
        "errors by COL (any column; 'COL1+COL2' clusters two ways), from the "
        "same one pass",
    )
    fit.add_argument(
        "--output",
        help="model file to write (default: model.json; with --split, the "
        "table groups.parquet; with an absorbed formula, the table "
        "fixed_effects.parquet)",
    )
    _add_common(fit)

    predict = commands.add_parser("predict", help="predict a table with a saved model")
    predict.add_argument("model", help="model file written by 'fit'")
    predict.add_argument("data", help="Parquet or CSV: a file, a directory or a glob")
    predict.add_argument("--output", required=True, help="Parquet directory to write")
    predict.add_argument(
        "--formula",
        help="the formula the model was fitted with (a model file runs no code, "
        "so the formula is evaluated only when given here)",
    )
    _add_common(predict)

    demo = commands.add_parser("demo", help="generate data and fit it")
    demo.add_argument("--rows", type=int, default=2_000_000)
    demo.add_argument("--features", type=int, default=20)
    _add_common(demo)
    return parser


def _add_common(parser):
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a Dask scheduler (default: a local cluster for this run)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@contextlib.contextmanager
def _cluster(address, quiet):
    """A Client: to ``address``, or to a local cluster sized to the machine."""
    import dask
    from distributed import Client, LocalCluster

    if address:
        try:
            client = Client(address, timeout="5s")
        except OSError as error:
            raise DataError(
                f"cannot reach the scheduler at {address}: {error}"
            ) from None
        cluster = None
    else:
        cluster = LocalCluster(dashboard_address=None, processes=True)
        client = Client(cluster)
    try:
        # The progress bar: the graph goes to the cluster as futures, which
        # distributed's progress bar follows.
        def get(dsk, keys, **kwargs):
            futures = client.get(dsk, keys, sync=False)
            if not quiet:
                from distributed import progress

                progress(futures)
                print(file=sys.stderr)
            return client.gather(futures)

        with dask.config.set(scheduler=get):
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _read_table(path):
    """A Dask DataFrame from Parquet or CSV (file, directory or glob)."""
    import dask.dataframe as dd

    lowered = path.lower().rstrip("/")
    is_remote = "://" in path
    if not is_remote and not glob.glob(path):
        raise DataError(f"no file matches {path!r}")
    if os.path.isdir(path):
        names = os.listdir(path)
        csv = any(n.lower().endswith((".csv", ".csv.gz")) for n in names)
        parquet = any(n.lower().endswith((".parquet", ".pq")) for n in names)
        if csv and parquet:
            raise DataError(
                f"{path} holds both CSV and Parquet files; pass a glob of one "
                f"kind (e.g. {os.path.join(path, '*.csv')!r})"
            )
        if csv:
            pattern = os.path.join(path, "*.csv*")
            _check_same_header(sorted(glob.glob(pattern)))
            return dd.read_csv(pattern)
        if not parquet and not any(
            os.path.isdir(os.path.join(path, n)) or n.startswith("_") for n in names
        ):
            raise DataError(f"{path} holds no CSV or Parquet files")
        return dd.read_parquet(path)
    if lowered.endswith((".csv", ".csv.gz", ".txt", ".tsv")) or ".csv" in lowered:
        return dd.read_csv(path, sep="\t" if lowered.endswith(".tsv") else ",")
    return dd.read_parquet(path)


def _check_same_header(files):
    """CSV files read as one table must have the same columns: Dask takes
    the first file's, and a file with others would fail on a worker."""
    first = None
    for name in files:
        if name.lower().endswith(".gz"):
            continue  # read whole by Dask; its own error names it
        with open(name, encoding="utf-8", errors="replace") as file:
            header = file.readline().rstrip("\r\n")
        if first is None:
            first = (name, header)
        elif header != first[1]:
            raise DataError(
                f"{name} has the columns {header!r} but {first[0]} has "
                f"{first[1]!r}: the CSV files of one table need the same header"
            )


def _columns(frame, target, features, weights, path):
    existing = list(map(str, frame.columns))
    wanted = [target, *(features or []), *([weights] if weights else [])]
    missing = [c for c in wanted if c not in existing]
    if missing:
        raise DataError(
            f"column(s) {', '.join(map(repr, missing))} not in {path}; its columns "
            f"are: {', '.join(existing)}"
        )
    if features is None:
        features = [c for c in existing if c not in (target, weights)]
    if not features:
        raise DataError(f"{path} has no feature columns besides the target")
    dtypes = dict(zip(existing, frame.dtypes, strict=True))
    for column in [target, *features, *([weights] if weights else [])]:
        numeric = pd.api.types.is_numeric_dtype(dtypes[column])
        # Features may be categorical (category, string or bool columns).
        if not numeric and not (
            column in features and _is_factor_dtype(dtypes[column])
        ):
            expected = (
                "numbers or categories (string, category, bool)"
                if column in features
                else "numbers"
            )
            raise DataError(
                f"column {column!r} of {path} has dtype {dtypes[column]}, expected "
                f"{expected}; leave it out with --features, or convert it"
            )
    return features


#: The estimator parameter behind each option, for usage errors.
_OPTION_OF_PARAMETER = {
    "alpha": "--alpha",
    "alphas": "--alpha",
    "l1_ratio": "--l1-ratio",
    "cv": "--cv",
}


def _checked_model(args):
    """The model of the options, its parameters checked by the estimator's
    own rules before any data is read: a bad value is a usage error that
    names its option."""
    model = _make_model(args)
    params = model.get_params(deep=False)
    for name, option in _OPTION_OF_PARAMETER.items():
        if name not in params:
            continue
        try:
            type(model)(**{name: params[name]})._check_params()
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(f"{option}: {error}") from None
    return model


def _check_output(path, option="--output"):
    """Fail before the work when the output cannot be written (local paths;
    a URL is checked by its file system when written)."""
    if "://" in path:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise argparse.ArgumentTypeError(
            f"{option} {path!r}: the directory {directory!r} does not exist"
        )
    if not os.access(directory, os.W_OK):
        raise argparse.ArgumentTypeError(
            f"{option} {path!r}: the directory {directory!r} is not writable"
        )


def _make_model(args):
    from dask_linreg.linear_model import (
        ElasticNet,
        Lasso,
        LinearRegression,
        Ridge,
        RidgeCV,
    )

    alphas = args.alpha
    if args.model != "ridgecv" and alphas is not None and len(alphas) != 1:
        raise argparse.ArgumentTypeError(
            f"--alpha takes one value for --model {args.model}"
        )
    if args.cv is not None and args.model != "ridgecv":
        raise argparse.ArgumentTypeError("--cv is only for --model ridgecv")
    alpha = 1.0 if alphas is None else alphas[0]
    if args.model == "linear":
        if alphas is not None:
            raise argparse.ArgumentTypeError("--alpha is not used by --model linear")
        return LinearRegression()
    if args.model == "ridge":
        return Ridge(alpha=alpha)
    if args.model == "ridgecv":
        return RidgeCV(
            alphas=np.logspace(-3, 3, 13) if alphas is None else alphas, cv=args.cv
        )
    if args.model == "lasso":
        return Lasso(alpha=alpha)
    return ElasticNet(alpha=alpha, l1_ratio=args.l1_ratio)


def _summary_text(model):
    from dask_linreg.linear_model import LinearRegression

    lines = []
    if isinstance(model, LinearRegression):
        lines.append(str(model.summary()))
    else:
        names = list(
            getattr(model, "coef_names_", getattr(model, "feature_names_in_", []))
        )
        width = max(12, *(len(n) + 2 for n in names))
        lines.append(f"{type(model).__name__}  {model.get_params()}")
        if hasattr(model, "alpha_"):
            lines.append(f"chosen alpha: {model.alpha_:.6g}")
        lines.append(f"{'term':<{width}}{'coef':>14}")
        lines.append(f"{'intercept':<{width}}{model.intercept_:>14.6g}")
        for name, value in zip(names, model.coef_, strict=True):
            lines.append(f"{name:<{width}}{value:>14.6g}")
    return "\n".join(lines)


def _fit_split(args):
    """``fit --split``: every group's model, written as one table."""
    if args.formula is None or args.model != "linear":
        raise argparse.ArgumentTypeError(
            "--split fits one least-squares model per group: give --formula "
            "(and --model linear)"
        )
    _check_output(args.output)
    frame = _read_table(args.data)
    if args.weights:
        _columns(frame, args.weights, [args.weights], None, args.data)
    _columns(frame, args.split, [args.split], None, args.data)
    from dask_linreg.linear_model._formula import ols

    with _cluster(args.scheduler, args.quiet):
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            fit = ols(
                args.formula,
                frame,
                split=args.split,
                weights=args.weights,
                missing=args.missing,
            )
        elapsed = time.perf_counter() - start
    table = pd.concat(
        [
            fit.params,
            fit.bse.add_prefix("se:"),
            fit.rsquared,
            fit.nobs,
            fit.df_resid,
        ],
        axis=1,
    )
    table.index = table.index.astype(str)
    table.to_parquet(args.output)
    for warning in caught:
        print(f"note: {warning.message}")
    print(
        f"Fitted {len(fit):,} groups of {args.split!r} in {elapsed:.2f} s (one pass "
        f"over the data); {len(fit.too_small):,} too small; table written to "
        f"{args.output}"
    )


def _fit_absorbed(args):
    """``fit --formula 'y ~ x | firm + year'``: the slopes' summary printed,
    the fixed effects written as one table (factor, level, effect)."""
    if args.model != "linear":
        raise argparse.ArgumentTypeError(
            "a formula with an absorbed part ('|') is fitted by least squares: "
            "give --model linear"
        )
    _check_output(args.output)
    frame = _read_table(args.data)
    clusters = None
    if args.cluster:
        clusters = [c.strip() for c in args.cluster.split("+")]
        if len(clusters) > 2 or not all(clusters):
            raise argparse.ArgumentTypeError(
                f"--cluster {args.cluster!r}: give one column, or two as "
                "'COL1+COL2' (two-way clustering)"
            )
    for column in (args.weights, *(clusters or ())):
        if column:
            _columns(frame, column, [column], None, args.data)
    from dask_linreg.linear_model._formula import ols

    with _cluster(args.scheduler, args.quiet):
        start = time.perf_counter()
        model = ols(
            args.formula,
            frame,
            weights=args.weights,
            missing=args.missing,
            cluster=clusters[0] if clusters and len(clusters) == 1 else clusters,
        )
        results = model.inference(cov_type="cluster" if clusters else "nonrobust")
        elapsed = time.perf_counter() - start
    passes = model.n_passes_
    print(results.summary())
    effects = model.fixed_effects_
    tables = effects if isinstance(effects, dict) else {model.absorb: effects}
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "factor": name,
                    "level": effect.index.astype(str),
                    "effect": effect.to_numpy(),
                }
            )
            for name, effect in tables.items()
        ],
        ignore_index=True,
    )
    table.to_parquet(args.output, index=False)
    sizes = ", ".join(f"{k}: {v:,}" for k, v in model.fixef_sizes_.items())
    print(
        f"Fitted in {elapsed:.2f} s ({passes} pass(es) over the data); fixed "
        f"effects ({sizes}; {model.n_singletons_:,} singleton rows left out) "
        f"written to {args.output}"
    )


def _fit(args):
    if args.split is not None:
        args.output = args.output or "groups.parquet"
        return _fit_split(args)
    if args.formula is not None and split_absorbed(args.formula)[1]:
        args.output = args.output or "fixed_effects.parquet"
        return _fit_absorbed(args)
    if args.cluster is not None:
        raise argparse.ArgumentTypeError(
            "--cluster is for a formula with an absorbed part ('y ~ x | firm')"
        )
    args.output = args.output or "model.json"
    model = _checked_model(args)
    _check_output(args.output)
    if os.path.isdir(args.output):
        raise argparse.ArgumentTypeError(
            f"--output {args.output!r} is a directory; give a file name"
        )
    # The table's schema is read on the client: a missing column fails
    # before a cluster is started.
    frame = _read_table(args.data)
    model.set_params(missing=args.missing)
    if args.formula is not None:
        if args.target is not None or args.features is not None:
            raise argparse.ArgumentTypeError(
                "--formula names the target and the terms: give it without "
                "--target and --features"
            )
        if args.weights:
            _columns(frame, args.weights, [args.weights], None, args.data)
        from dask_linreg.linear_model._formula import (
            check_formula_estimator,
            fit_terms,
        )

        parsed = parse_formula(args.formula, dict(frame.dtypes.items()))
        X, y = design_frames(frame, parsed)
        if parsed.interactions:
            # Interactions of categorical columns are terms, not columns of
            # X: fitted from the formula's terms (the model file keeps them).
            try:
                check_formula_estimator(model)
            except TypeError as error:
                raise argparse.ArgumentTypeError(
                    f"--formula {args.formula!r} interacts categorical columns, "
                    f"which --model {args.model} cannot fit: {error}"
                ) from None
        else:
            model.set_params(fit_intercept=parsed.intercept)
        target = str(getattr(y, "name", None) or "y")
    else:
        if args.target is None:
            raise argparse.ArgumentTypeError(
                "the following arguments are required: --target (or --formula)"
            )
        features = _columns(frame, args.target, args.features, args.weights, args.data)
        X, y = frame[features], frame[args.target]
        target = args.target
    weights = frame[args.weights] if args.weights else None
    with _cluster(args.scheduler, args.quiet):
        start = time.perf_counter()
        if args.formula is not None and parsed.interactions:
            fit_terms(model, parsed, X, y, weights)
        else:
            model.fit(X, y, sample_weight=weights)
        elapsed = time.perf_counter() - start
        print(_summary_text(model))
        if not hasattr(model, "summary"):
            # From the fit's own statistics: a score() would read the data again.
            # The triangular factor where the fit kept one (its residual
            # norm keeps its digits); otherwise the cross-products, whose
            # rounding leaves R² accurate to about eps absolute.
            statistic = model._fit_state.statistic
            if not isinstance(statistic, Moments):
                statistic = statistic.to_kind(TriangularMoments)
            score = fitted_r2(
                statistic,
                model._n_coefficients,
                model.coef_,
                float(model.intercept_),
            )
            print(f"R-squared: {score:.6f}   n: {statistic.count:,}")
        print(
            f"Fitted in {elapsed:.2f} s ({model.n_passes_} pass(es) over the data); "
            f"model written to {args.output}"
        )
    metadata = {"data": args.data, "target": target, "fit_seconds": elapsed}
    if args.formula is not None:
        metadata["formula"] = args.formula
    model.save(args.output, metadata=metadata)


def _stored_formula(path):
    """The formula a model file's metadata says it was fitted with."""
    import json

    with open(path, encoding="utf-8") as file:
        metadata = json.load(file).get("metadata") or {}
    formula = metadata.get("formula")
    return formula if isinstance(formula, str) else None


def _predict(args):
    from dask_linreg.io._model_file import load

    _check_output(args.output)
    model = load(args.model)
    frame = _read_table(args.data)
    fitted_formula = _stored_formula(args.model)
    if fitted_formula is not None or args.formula is not None:
        if args.formula != fitted_formula:
            raise DataError(
                f"{args.model} was fitted with the formula {fitted_formula!r}; "
                f"pass --formula {fitted_formula!r} to evaluate it on the data "
                "(a model file runs no code by itself)"
                if fitted_formula is not None
                else f"{args.model} was not fitted with a formula; leave out --formula"
            )
        parsed = parse_formula(args.formula, dict(frame.dtypes.items()))
        X = design_frames(frame, parsed, with_targets=False)
    else:
        names = list(getattr(model, "feature_names_in_", []))
        if not names:
            raise DataError(
                f"{args.model} was fitted without column names; predict needs "
                "them to pick the columns of the table"
            )
        _columns(frame, names[0], names, None, args.data)
        X = frame[names]
    with _cluster(args.scheduler, args.quiet):
        predictions = model.predict(X)
        column = "prediction"
        if hasattr(predictions, "to_frame"):
            table = predictions.to_frame(name=column)
        else:
            table = predictions.rename(
                columns={i: f"{column}_{i}" for i in predictions.columns}
            )
        table.to_parquet(args.output, write_index=True)
        print(f"Predictions written to {args.output}")


def _demo(args):
    from dask_linreg.io.demo import make_data
    from dask_linreg.linear_model import LinearRegression

    if args.features < 1:
        raise argparse.ArgumentTypeError(
            f"--features must be at least 1; got {args.features}"
        )
    if args.rows < args.features + 2:
        raise argparse.ArgumentTypeError(
            f"--rows must exceed --features + 1 ({args.features + 1}) for the "
            f"summary's standard errors; got {args.rows}"
        )

    with _cluster(args.scheduler, args.quiet) as client:
        X, y, true_coef = make_data(args.rows, args.features, chunk_rows=250_000)
        X, y = client.persist([X, y])
        start = time.perf_counter()
        model = LinearRegression().fit(X, y)
        elapsed = time.perf_counter() - start
        print(str(model.summary()))
        error = np.abs(model.coef_ - true_coef).max()
        print(
            f"{args.rows:,} rows x {args.features} features fitted in {elapsed:.2f} s; "
            f"largest coefficient error {error:.2e}"
        )


def main(argv=None):
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        {"fit": _fit, "predict": _predict, "demo": _demo}[args.command](args)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))  # exits with 2
    except (DataError, ValueError, TypeError, KeyError, OSError) as error:
        print(f"dask-linreg: error: {_one_line(error)}", file=sys.stderr)
        return 1
    return 0


def _one_line(error):
    """The line that says what went wrong.

    Dask wraps a reader's error in "An error occurred while calling the
    read_csv method ..."; the reader's own message is the cause.
    """
    while (
        str(error).startswith("An error occurred while calling")
        and error.__cause__ is not None
    ):
        error = error.__cause__
    if isinstance(error, KeyError):
        return f"column(s) not found: {error.args[0] if error.args else error}"
    text = str(error)
    if str(error).startswith("An error occurred while calling"):
        lines = [line for line in text.splitlines() if line.strip()]
        text = lines[-1] if lines else text
    return text.splitlines()[0] if text else type(error).__name__


def entry_point():
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
