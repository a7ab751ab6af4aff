"""The documentation's examples run, and print what the pages show."""

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES_WITH_EXAMPLES = ["inference.rst", "model_selection.rst", "streaming.rst"]


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES)
def test_documentation_examples_print_what_the_page_shows(page):
    failures, attempted = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        verbose=False,
    )
    assert attempted > 5
    assert failures == 0
