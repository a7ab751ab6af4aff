"""The README's example runs and does what it says."""

import re
from pathlib import Path

from dask_linreg import load

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    example = re.search(r"## Example\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(example.strip().splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "[1. 2. 3. 4. 5.] 2.0" in printed
    assert "OLS Regression Results" in printed
    model = load(tmp_path / "model.json")
    assert model.coef_.round(2).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
