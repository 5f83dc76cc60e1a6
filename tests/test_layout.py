"""The tree shows the architecture: each subpackage of deeplearning/ imports only from the ones
below it, and only training/ imports TensorFlow or Keras. The app (app.py and ui/) reads with
reading/ and never reaches into training/ or pen_data/. Checked on the source, imports inside
functions included, so that no lazy import can cross a line unseen."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "deeplearning"
# Lowest first: a subpackage may import from itself and from those before it.
LAYERS = ["core", "reading", "paper", "datasets", "personal", "pen_data", "training"]
APP_MAY_IMPORT = {"core", "reading", "paper", "datasets", "personal", "ui"}
HEAVY = {"tensorflow", "keras", "tf2onnx"}


def imported_modules(path):
    """Every module named by an import statement in the file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def subpackage(module):
    """ "reading" for deeplearning.reading.recognize; None for another library."""
    parts = module.split(".")
    return parts[1] if parts[0] == "deeplearning" and len(parts) > 1 else None


def modules_of(name):
    return sorted((PACKAGE / name).glob("*.py"))


def test_every_module_lives_in_a_subpackage():
    loose = {p.name for p in PACKAGE.glob("*.py")} - {"__init__.py", "__main__.py"}
    assert loose == set()
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} == {
        *LAYERS,
        "ui",
    }


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_run_one_way(layer):
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    for path in modules_of(layer):
        for module in imported_modules(path):
            if subpackage(module) is not None:
                assert subpackage(module) in allowed, f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("layer", [*LAYERS[:-1], "ui"])
def test_only_training_imports_tensorflow(layer):
    for path in modules_of(layer):
        for module in imported_modules(path):
            assert module.split(".")[0] not in HEAVY, f"{path.relative_to(ROOT)} imports {module}"


def test_the_app_reads_and_never_trains():
    for path in [ROOT / "app.py", *modules_of("ui")]:
        for module in imported_modules(path):
            assert module.split(".")[0] not in HEAVY, f"{path.relative_to(ROOT)} imports {module}"
            if subpackage(module) is not None:
                assert subpackage(module) in APP_MAY_IMPORT, f"{path.name} imports {module}"


def test_the_package_has_no_import_time_side_effects():
    """Importing deeplearning (a notebook kernel does) installs no hooks: only statements
    without effects (a docstring) in its __init__."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    assert all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in tree.body
    )
