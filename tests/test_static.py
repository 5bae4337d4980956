"""Static checks that keep the GPU path real: who may import numpy/cupy, and every xp name exists."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "minatt"
# The math: it must get its array module from minatt.backend, never import one itself.
MATH = ["ops", "model", "optim.py"]
# The only module allowed to import cupy.
CUPY_IMPORTER = {"backend.py"}


def python_files(*names: str) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = PACKAGE / name
        assert path.exists(), f"{path} is gone: update the list that names it"
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def xp_names(path: Path) -> set[str]:
    """Every dotted name used as ``xp.a.b`` in the file (the longest chain of attributes)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, inner = [], node
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id == "xp":
                names.add(".".join(reversed(chain)))
    return names


def resolve(module, dotted: str) -> bool:
    obj = module
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def test_the_math_exists():
    assert len(python_files(*MATH)) >= 5


@pytest.mark.parametrize("path", python_files(*MATH), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_math_modules_import_neither_numpy_nor_cupy(path):
    bad = imported_modules(path) & {"numpy", "cupy", "cupyx"}
    assert not bad, f"{path.name} imports {sorted(bad)}; use minatt.backend.array_module / get_xp instead"


@pytest.mark.parametrize("path", python_files("."), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_backend_imports_cupy(path):
    if path.name in CUPY_IMPORTER:
        return
    assert not imported_modules(path) & {"cupy", "cupyx"}, f"{path.name} imports cupy; cross through minatt.backend"


ALL_XP = sorted({(str(p.relative_to(PACKAGE)), n) for p in python_files(".") for n in xp_names(p)})


def test_xp_names_were_found():
    assert len(ALL_XP) > 10


@pytest.mark.parametrize("where, name", ALL_XP, ids=[f"{w}:{n}" for w, n in ALL_XP])
def test_every_xp_name_exists_in_numpy(where, name):
    assert resolve(np, name), f"{where} uses xp.{name}, which numpy does not have"


@pytest.mark.parametrize("where, name", ALL_XP, ids=[f"{w}:{n}" for w, n in ALL_XP])
def test_every_xp_name_exists_in_cupy(where, name):
    cupy = pytest.importorskip("cupy", reason="CuPy not installed; pip install 'minatt[test]' brings it")
    assert resolve(cupy, name), f"{where} uses xp.{name}, which CuPy does not have"
