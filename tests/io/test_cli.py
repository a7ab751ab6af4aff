"""The dask-linreg command line, run as a user runs it (subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dask_linreg import LinearRegression, Ridge, load

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH")) if p
    )
    return subprocess.run(
        [sys.executable, "-m", "dask_linreg", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((3000, 3)), columns=["a", "b", "c"])
    frame["y"] = frame.a - 2 * frame.b + 0.5 + 0.1 * rng.standard_normal(3000)
    frame["w"] = rng.uniform(0.5, 2.0, 3000)
    frame["label"] = "x"
    frame.to_parquet(folder / "data.parquet")
    (folder / "csv").mkdir()
    frame[:1000].to_csv(folder / "csv" / "part-0.csv", index=False)
    frame[1000:].to_csv(folder / "csv" / "part-1.csv", index=False)
    (folder / "mixed").mkdir()
    frame[:100].to_csv(folder / "mixed" / "a.csv", index=False)
    frame[100:].to_parquet(folder / "mixed" / "b.parquet")
    (folder / "headers").mkdir()
    frame[:100].to_csv(folder / "headers" / "a.csv", index=False)
    frame[100:].rename(columns={"a": "z"}).to_csv(
        folder / "headers" / "b.csv", index=False
    )
    frame.assign(gap=np.r_[np.nan, np.ones(2999)]).drop(columns="label").to_csv(
        folder / "gap.csv", index=False
    )
    return folder, frame


def test_fit_on_parquet_prints_a_summary_and_saves_the_model(table):
    folder, frame = table
    result = run(
        "fit",
        "data.parquet",
        "--target",
        "y",
        "--features",
        "a",
        "b",
        "c",
        "--weights",
        "w",
        "--output",
        "model.json",
        "--quiet",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "WLS Regression Results" in result.stdout and "% Completed" not in result.stdout
    )
    model = load(folder / "model.json")
    reference = LinearRegression().fit(frame[["a", "b", "c"]], frame.y, frame.w)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    document = json.loads((folder / "model.json").read_text())
    assert document["metadata"]["data"] == "data.parquet"


def test_fit_ridge_on_a_csv_glob_and_predict_to_parquet(table):
    folder, frame = table
    result = run(
        "fit",
        "csv/*.csv",
        "--target",
        "y",
        "--features",
        "a",
        "b",
        "c",
        "--model",
        "ridge",
        "--alpha",
        "2.5",
        "--output",
        "ridge.json",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    assert "% Completed" in result.stdout + result.stderr  # the progress bar
    assert "R-squared: 0.99" in result.stdout and "n: 3,000" in result.stdout
    model = load(folder / "ridge.json")
    reference = Ridge(alpha=2.5).fit(frame[["a", "b", "c"]], frame.y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)
    result = run(
        "predict",
        "ridge.json",
        "data.parquet",
        "--output",
        "out.parquet",
        "--quiet",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    predictions = pd.read_parquet(folder / "out.parquet")["prediction"]
    np.testing.assert_allclose(
        predictions.to_numpy(), reference.predict(frame[["a", "b", "c"]]), rtol=1e-10
    )


def test_fit_a_formula_with_missing_rows_dropped_and_predict_with_it(table):
    folder, frame = table
    holes = frame.assign(region=np.where(frame.a > 0, "up", "down"))
    holes.loc[[4, 9], "b"] = np.nan
    holes.to_parquet(folder / "holes.parquet")
    formula = "y ~ a + np.exp(b) + C(region)"
    result = run(
        "fit", "holes.parquet", "--formula", formula, "--missing", "drop",
        "--weights", "w", "--quiet", "--output", "formula.json", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 row(s) with a missing value were left out" in result.stdout
    expected = LinearRegression(missing="drop").fit(
        holes[["a"]].assign(
            **{"np.exp(b)": np.exp(holes.b), "C(region)": holes.region}
        ),
        holes.y,
        sample_weight=holes.w,
    )
    model = load(folder / "formula.json")
    assert list(model.coef_names_) == ["a", "np.exp(b)", "C(region)[T.up]"]
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-10)
    new = holes.drop(columns="y").iloc[10:20]
    new.to_parquet(folder / "new.parquet")
    result = run("predict", "formula.json", "new.parquet", "--output", "p.parquet",
                 "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 1 and f"pass --formula '{formula}'" in result.stderr
    result = run("predict", "formula.json", "new.parquet", "--output", "p.parquet",
                 "--formula", formula, "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    predictions = pd.read_parquet(folder / "p.parquet")["prediction"].to_numpy()
    np.testing.assert_allclose(predictions, expected.predict(
        new[["a"]].assign(**{"np.exp(b)": np.exp(new.b), "C(region)": new.region})
    ), rtol=1e-10)  # fmt: skip


def test_fit_a_formula_with_interactions_and_predict_with_it(table):
    import statsmodels.formula.api as smf

    from dask_linreg import ols

    folder, frame = table
    data = frame.assign(
        region=np.where(frame.a > 0.5, "up", np.where(frame.a < -0.5, "down", "mid")),
        channel=np.where(frame.c > 0, "web", "store"),
    )
    data.to_parquet(folder / "interact.parquet")
    formula = "y ~ b * C(region) + C(region):C(channel)"
    result = run("fit", "interact.parquet", "--formula", formula, "--quiet",
                 "--output", "interact.json", cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = smf.ols(formula, data).fit()
    model = load(folder / "interact.json")
    names = list(model.coef_names_)
    assert sorted(names) == sorted(expected.params.index.drop("Intercept"))
    np.testing.assert_allclose(model.coef_, expected.params[names], rtol=1e-9)
    np.testing.assert_allclose(
        model.inference().bse[names], expected.bse[names], rtol=1e-8
    )
    new = data.drop(columns="y").iloc[:25]
    new.to_parquet(folder / "interact-new.parquet")
    result = run("predict", "interact.json", "interact-new.parquet", "--output",
                 "interact-p.parquet", "--formula", formula, "--quiet",
                 cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    predictions = pd.read_parquet(folder / "interact-p.parquet")["prediction"]
    np.testing.assert_allclose(predictions, expected.predict(new), rtol=1e-9)
    # The file's statistics carry the terms: merging goes on from them.
    half = ols(formula, data.iloc[:1500])
    merged = load(folder / "interact.json").merge(half)
    twice = pd.concat([data, data.iloc[:1500]])
    np.testing.assert_allclose(
        merged.coef_, smf.ols(formula, twice).fit().params[names], rtol=1e-9
    )
    document = json.loads((folder / "interact.json").read_text())
    term = document["design"]["terms"][-1]
    assert term["parts"] == [[0, False], [1, True]] and term["value"] is None
    term["parts"] = [[7, False]]
    (folder / "bad-terms.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="part must be a column name or"):
        load(folder / "bad-terms.json")
    from dask_linreg._dask.formula import design_frames, parse_formula

    parsed = parse_formula(formula, dict(data.dtypes.items()))
    X, y = design_frames(data.iloc[:1500], parsed)
    streamed = load(folder / "interact.json")
    streamed.partial_fit(X, y)
    assert list(streamed.coef_names_) == names
    np.testing.assert_allclose(streamed.coef_, merged.coef_, rtol=1e-9)
    result = run("fit", "interact.parquet", "--formula", formula, "--model",
                 "ridgecv", "--quiet", "--output", "cv.json", cwd=folder)  # fmt: skip
    assert result.returncode == 2
    assert "interacts categorical columns, which --model ridgecv" in result.stderr


def test_fit_one_model_per_group_writes_a_table(table):
    from dask_linreg import ols

    folder, frame = table
    data = frame.assign(store=np.arange(len(frame)) % 7)
    data.to_parquet(folder / "stores.parquet")
    result = run("fit", "stores.parquet", "--formula", "y ~ a + b", "--split",
                 "store", "--weights", "w", "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Fitted 7 groups of 'store'" in result.stdout
    written = pd.read_parquet(folder / "groups.parquet")
    expected = ols("y ~ a + b", data, split="store", weights="w")
    assert list(written.index) == [str(k) for k in expected.params.index]
    np.testing.assert_allclose(written[["Intercept", "a", "b"]], expected.params)
    np.testing.assert_allclose(written["se:a"], expected.bse["a"])
    np.testing.assert_array_equal(written["nobs"], expected.nobs)
    result = run("fit", "stores.parquet", "--target", "y", "--split", "store",
                 "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 2 and "give --formula" in result.stderr
    # A categorical term of strings in the file: its levels found in the pass.
    data["channel"] = np.where(
        frame.c > 0.3, "web", np.where(frame.c < -0.5, "phone", "shop")
    )
    data.to_parquet(folder / "channels.parquet")
    result = run("fit", "channels.parquet", "--formula", "y ~ a + C(channel)",
                 "--split", "store", "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = pd.read_parquet(folder / "groups.parquet")
    expected = ols("y ~ a + C(channel)", data, split="store")
    np.testing.assert_allclose(written[expected.params.columns], expected.params)
    assert "C(channel)[T.web]" in written.columns


def test_fit_absorbed_formula_writes_the_fixed_effects(table):
    from dask_linreg import ols

    folder, frame = table
    data = frame.assign(
        firm=np.arange(len(frame)) % 11, year=(np.arange(len(frame)) // 11) % 5
    )
    data.to_parquet(folder / "panel.parquet")
    result = run("fit", "panel.parquet", "--formula", "y ~ a + b | firm + year",
                 "--weights", "w", "--cluster", "firm", "--quiet",
                 cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "R-squared (within)" in result.stdout
    assert "firm: 11, year: 5" in result.stdout and "(1 pass(es)" in result.stdout
    expected = ols("y ~ a + b | firm + year", data, weights="w")
    clustered = expected.inference(
        data, cov_type="cluster", groups="firm", sample_weight="w"
    )
    assert f"{clustered.bse.iloc[0]:.3f}"[:5] in result.stdout
    written = pd.read_parquet(folder / "fixed_effects.parquet")
    assert list(written.columns) == ["factor", "level", "effect"]
    firm = written[written.factor == "firm"].set_index("level")["effect"]
    effects = expected.fixed_effects_["firm"]
    np.testing.assert_allclose(firm[effects.index.astype(str)], effects, rtol=1e-10)
    result = run("fit", "panel.parquet", "--formula", "y ~ a | firm", "--model",
                 "ridge", "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 2 and "give --model linear" in result.stderr
    result = run("fit", "panel.parquet", "--formula", "y ~ a", "--cluster", "firm",
                 "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 2 and "--cluster is for a formula" in result.stderr
    grouped = data.assign(group=np.arange(len(data)) % 3)
    grouped.to_parquet(folder / "panel.parquet")
    result = run("fit", "panel.parquet", "--formula", "y ~ a + b | firm",
                 "--cluster", "group + year", "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    clustered = ols("y ~ a + b | firm", grouped).inference(
        grouped, cov_type="cluster", groups=["group", "year"]
    )
    assert f"{clustered.bse.iloc[0]:.3f}"[:5] in result.stdout
    result = run("fit", "panel.parquet", "--formula", "y ~ a | firm", "--cluster",
                 "a+b+group", "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 2 and "give one column, or two" in result.stderr


def test_categorical_features_fit_and_predict(table):
    folder, frame = table
    table_with_levels = frame.assign(region=np.where(frame.b > 0, "up", "down"))
    table_with_levels.to_parquet(folder / "levels.parquet")
    result = run("fit", "levels.parquet", "--target", "y", "--features", "a",
                 "region", "--model", "ridge", "--quiet", "--output", "levels.json",
                 cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "region[down]" in result.stdout and "region[up]" in result.stdout
    reference = Ridge().fit(table_with_levels[["a", "region"]], frame.y)
    np.testing.assert_allclose(load(folder / "levels.json").coef_, reference.coef_)
    result = run("predict", "levels.json", "levels.parquet", "--output",
                 "levels-out.parquet", "--quiet", cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    predictions = pd.read_parquet(folder / "levels-out.parquet")["prediction"]
    np.testing.assert_allclose(
        predictions.to_numpy(), reference.predict(table_with_levels[["a", "region"]])
    )


def test_demo_generates_data_and_fits(tmp_path):
    result = run("demo", "--rows", 20_000, "--features", 3, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OLS Regression Results" in result.stdout
    assert "largest coefficient error" in result.stdout


@pytest.mark.parametrize(
    "args, code, message",
    [
        (
            ["fit", "data.parquet", "--target", "nope"],
            1,
            "column(s) 'nope' not in data.parquet; its columns are: a, b, c, y, w, label",
        ),
        (
            ["fit", "data.parquet", "--target", "label"],
            1,
            "expected numbers; leave it out with --features",
        ),
        (
            ["fit", "data.parquet", "--target", "y", "--formula", "y ~ a"],
            2,
            "--formula names the target and the terms",
        ),
        (
            ["fit", "data.parquet", "--formula", "y ~ center(a)"],
            1,
            "is a stateful transform (center)",
        ),
        (
            ["fit", "data.parquet"],
            2,
            "the following arguments are required: --target (or --formula)",
        ),
        (
            ["fit", "missing.parquet", "--target", "y"],
            1,
            "no file matches 'missing.parquet'",
        ),
        (
            ["fit", "data.parquet", "--target", "y", "--alpha", "1"],
            2,
            "--alpha is not used by --model linear",
        ),
        (
            ["fit", "data.parquet", "--target", "y", "--cv", "3"],
            2,
            "--cv is only for --model ridgecv",
        ),
        (
            ["predict", "bad.json", "data.parquet", "--output", "o.parquet"],
            1,
            "bad.json is not a valid dask-linreg model file: format_version 7",
        ),
        (
            ["predict", "missing.json", "data.parquet", "--output", "o.parquet"],
            1,
            "Cannot read model file missing.json",
        ),
        (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
        # Option values are checked by the estimators' own rules before
        # any data is read: usage errors (2) naming the option.
        (
            [
                "fit",
                "data.parquet",
                "--target",
                "y",
                "--model",
                "ridge",
                "--alpha",
                "-1",
            ],
            2,
            "--alpha: The 'alpha' parameter of Ridge must be a float in the range "
            "[0.0, inf)",
        ),
        (
            ["fit", "data.parquet", "--target", "y", "--model", "elasticnet"]
            + ["--l1-ratio", "5"],
            2,
            "--l1-ratio: The 'l1_ratio' parameter of ElasticNet must be a float in "
            "the range [0.0, 1.0]",
        ),
        (
            ["fit", "data.parquet", "--target", "y", "--model", "ridgecv", "--cv", "1"],
            2,
            "--cv: The 'cv' parameter of RidgeCV must be None, an int in the range "
            "[2, inf)",
        ),
        (["demo", "--rows", "-5"], 2, "--rows must exceed --features + 1"),
        (
            ["fit", "data.parquet", "--target", "y", "--output", "no/such/m.json"],
            2,
            "the directory",
        ),
        (
            ["fit", "mixed", "--target", "y", "--features", "a"],
            1,
            "mixed holds both CSV and Parquet files",
        ),
        (
            ["fit", "headers", "--target", "y", "--features", "a"],
            1,
            "the CSV files of one table need the same header",
        ),
        (
            ["fit", "gap.csv", "--target", "y", "--quiet", "--output", "gap.json"],
            1,
            "Input X contains 1 non-finite value(s) (NaN or inf), the first in row "
            "block 0, column 'gap'",
        ),
    ],
)
def test_errors_exit_with_a_code_and_one_clear_line(table, args, code, message):
    folder, _ = table
    (folder / "bad.json").write_text(
        json.dumps({"format": "dask-linreg-model", "format_version": 7})
    )
    result = run(*args, cwd=folder)
    assert result.returncode == code
    assert message in result.stderr
    if code == 1:
        # One line of ours, no traceback. (A loaded machine can make the local
        # cluster log a line of its own, e.g. an unresponsive event loop.)
        ours = [line for line in result.stderr.splitlines() if "dask-linreg:" in line]
        assert len(ours) == 1 and message in ours[0]
        assert "Traceback" not in result.stderr
