"""Every module has its own test file: a module ``name.py`` is tested in ``tests/test_<name>.py``.

What counts as a module:
- each file of the three flat folders, ``minatt/``, ``minatt/model/`` and ``minatt/tools/``;
- each package below them (``minatt/ops``, ``minatt/train``, ``minatt/tools/bench``, ...), as one
  module under the package's name: its ``__init__`` and its parts are tested in
  ``tests/test_<package>.py`` and, where a part has one, in the part's own file
  (``minatt/ops/lstm.py`` in tests/test_lstm.py).
Skipped: ``__main__.py`` (it only calls the command line, tested in tests/test_cli.py), the three flat
folders' own ``__init__`` files (namespaces), and the GPU kernels ``fused_*.py``, which
tests/test_fused.py covers.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAT = [ROOT / "minatt", ROOT / "minatt" / "model", ROOT / "minatt" / "tools"]


def modules() -> dict[str, Path]:
    """name -> path of every module that needs a test file (see the module docstring)."""
    found: dict[str, list[Path]] = {}
    for folder in FLAT:
        for path in sorted(folder.iterdir()):
            if path.is_dir() and (path / "__init__.py").exists() and path not in FLAT:
                found.setdefault(path.name, []).append(path)
            elif path.suffix == ".py" and path.name not in ("__init__.py", "__main__.py") \
                    and not path.name.startswith("fused_"):
                found.setdefault(path.stem, []).append(path)
    twice = {name: paths for name, paths in found.items() if len(paths) > 1}
    assert not twice, f"module names must be unique, so that each has one test file: {twice}"
    return {name: paths[0] for name, paths in found.items()}


def test_the_walk_finds_the_modules_it_should():
    names = modules()
    assert {"argtypes", "atomic", "nn", "seq2seq", "flops", "ops", "train", "bench", "figures"} <= set(names)
    assert not {"__init__", "__main__", "minatt", "model", "tools", "lstm", "train_command"} & set(names)


def test_every_module_has_its_test_file():
    missing = [f"{path.relative_to(ROOT)} (write tests/test_{name}.py)"
               for name, path in modules().items() if not (ROOT / "tests" / f"test_{name}.py").exists()]
    assert not missing, "modules without a test file: " + ", ".join(missing)


def test_every_file_name_is_unique():
    """One name, one file, across all of minatt (issue 25: no two ``command.py``): a name in a traceback,
    a lesson or a test file's name points at exactly one file."""
    seen: dict[str, list[str]] = {}
    for path in sorted((ROOT / "minatt").rglob("*.py")):
        if path.name not in ("__init__.py", "__main__.py"):
            seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    twice = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not twice, f"file names used more than once: {twice}"
