"""The package's layers: imports run one way, downward, without cycles."""

import ast
from pathlib import Path

import dask_linreg

PACKAGE = Path(dask_linreg.__file__).parent

#: Each layer may import only the layers listed after it: estimators build
#: inference results, which check new data with the Dask layer's inputs.
LAYERS = ["io", "linear_model", "inference", "_dask", "_numerics"]

#: The calls that go up a layer at run time, from inside a function (never
#: at import): an estimator's ``save`` writes its model file.
UPWARD_CALLS = {("linear_model._base", "io._model_file")}


def module_name(path):
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def imports(path):
    """``(module imported, at import time?)`` for every import in ``path``."""
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "dask_linreg":
                # A submodule, or a name the package's __init__ re-exports.
                names = [
                    f"dask_linreg.{a.name}"
                    if (PACKAGE / a.name).is_dir()
                    or (PACKAGE / f"{a.name}.py").exists()
                    else "dask_linreg"
                    for a in node.names
                ]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            found.append((name, id(node) in top_level))
    return found


def package_graph():
    """Module -> the package's modules it imports, at import time or inside
    a function (a lazy import is still a dependency), but for the declared
    upward calls."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        source = module_name(path)
        edges = set()
        for name, _ in imports(path):
            if name == "dask_linreg":
                edges.add("")  # the package's __init__
                continue
            target = name[len("dask_linreg.") :]
            if name.startswith("dask_linreg.") and (source, target) not in UPWARD_CALLS:
                edges.add(target)
        graph[source] = edges
    return graph


def layer(module):
    head = module.split(".")[0]
    return head if head in LAYERS else None


def test_modules_import_no_cycle():
    graph = package_graph()
    state = {}

    def visit(module, stack):
        state[module] = "visiting"
        for target in graph.get(module, ()):
            if state.get(target) == "visiting":
                raise AssertionError(f"import cycle: {' -> '.join([*stack, target])}")
            if target in graph and target not in state:
                visit(target, [*stack, target])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])


def test_layers_import_only_the_layers_below():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        source = module_name(path)
        for name, at_import in imports(path):
            if not name.startswith("dask_linreg."):
                continue
            target = name[len("dask_linreg.") :]
            low, high = layer(source), layer(target)
            if low is None or high is None:
                continue
            if (source, target) in UPWARD_CALLS and not at_import:
                continue
            if LAYERS.index(high) < LAYERS.index(low):
                wrong.append(f"{source} imports {target}")
    assert not wrong, wrong


def test_the_numerics_import_neither_dask_nor_estimators():
    # scikit-learn's numerical routines (its coordinate descent) are fine.
    for path in (PACKAGE / "_numerics").rglob("*.py"):
        for name, _ in imports(path):
            where = f"{module_name(path)} imports {name}"
            assert name.split(".")[0] not in {"dask", "distributed"}, where
            if name.startswith("dask_linreg."):
                assert layer(name[len("dask_linreg.") :]) == "_numerics", where


def test_the_test_oracle_is_not_packaged():
    assert not (PACKAGE / "_hard_problems.py").exists()
