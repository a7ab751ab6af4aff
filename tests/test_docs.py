"""The documentation builds without warnings and its examples run.

Both builds are offline (``DASK_LINREG_DOCS_OFFLINE=1``: no intersphinx
inventories to download), as on CI machines without network access.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def sphinx(builder, out):
    env = dict(os.environ, DASK_LINREG_DOCS_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH")) if p
    )
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", builder, "docs", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_docs_build_with_warnings_as_errors(tmp_path):
    result = sphinx("html", tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    for page in ["inference", "model_selection", "streaming", "cli", "api"]:
        assert (tmp_path / f"{page}.html").exists()
    assert (tmp_path / "_images" / "bench_fit.png").exists()


@pytest.mark.parametrize("builder", ["doctest"])
def test_docs_examples_print_what_the_pages_show(builder, tmp_path):
    result = sphinx(builder, tmp_path)
    report = (tmp_path / "output.txt").read_text()
    assert result.returncode == 0, report[-3000:] + result.stderr
    assert " 0 failures in tests" in report
    tests = int(re.search(r"Doctest summary\s+=+\s+(\d+) tests", report).group(1))
    assert tests > 50
