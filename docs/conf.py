"""Sphinx configuration for dask_linreg."""

import doctest
import os
import sys
import tomllib
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Document the source tree next to this file, not another installed copy.
sys.path.insert(0, str(ROOT))

with open(ROOT / "pyproject.toml", "rb") as f:
    _metadata = tomllib.load(f)["project"]

project = "dask-linreg"
author = "dask_linreg developers"
copyright = f"2026, {author}"
release = _metadata["version"]
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    # Runs the ">>>" examples of every page: sphinx-build -b doctest.
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
]

exclude_patterns = ["_build"]
templates_path = []

autodoc_default_options = {"member-order": "bysource"}
numpydoc_show_class_members = False

# Links to other projects' docs. They need network access; set
# DASK_LINREG_DOCS_OFFLINE=1 to build without them: references become plain text,
# and labels defined only in those projects (e.g. scikit-learn's ``r2_score`` in
# the inherited ``score`` docstring) are not reported as undefined.
if os.environ.get("DASK_LINREG_DOCS_OFFLINE"):
    intersphinx_mapping = {}
    suppress_warnings = ["ref.ref"]
else:
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "dask": ("https://docs.dask.org/en/stable/", None),
        "distributed": ("https://distributed.dask.org/en/stable/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "pandas": ("https://pandas.pydata.org/docs/", None),
    }

if find_spec("pydata_sphinx_theme") is not None:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {"navigation_with_keys": False}
else:
    html_theme = "alabaster"
html_title = f"dask-linreg {release}"
html_static_path = []

# The examples' output is compared as the pages show it.
doctest_default_flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
