"""Every module has its own test file, and every file name is used once.

The rule (issue 25), for every ``minatt/**/name.py``:
- a module ``name.py`` is tested in ``tests/test_<name>.py``, and that file names the module by its dotted
  path (``minatt.ops.lstm``), so a reader finds the tests from the module and the module from the tests;
- a package whose ``__init__.py`` holds code (more than a docstring) is tested in ``tests/test_<package>.py``,
  which names the package (``minatt.ops``);
- skipped: ``__main__.py`` files (they only call a command, tested with it) and docstring-only ``__init__``
  files (namespaces, nothing to test).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _has_code(init: Path) -> bool:
    """True when a package's __init__.py holds more than its docstring."""
    body = ast.parse(init.read_text()).body
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body)


def modules(root: Path = ROOT) -> dict[str, str]:
    """test file name -> the dotted name it must test, for every module of ``root/minatt``."""
    wanted: dict[str, str] = {}
    for path in sorted((root / "minatt").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if path.name == "__main__.py" or (path.name == "__init__.py" and not _has_code(path)):
            continue
        if path.name == "__init__.py":
            parts = parts[:-1]  # the package itself
        name = f"test_{parts[-1]}.py"
        assert name not in wanted, f"{'.'.join(parts)} and {wanted.get(name)} would share {name}: rename one"
        wanted[name] = ".".join(parts)
    return wanted


def missing(root: Path = ROOT) -> list[str]:
    """Each module without a test file that names it, as a line saying what to write."""
    problems = []
    for name, dotted in modules(root).items():
        test = root / "tests" / name
        if not test.exists():
            problems.append(f"{dotted}: write tests/{name}")
        elif dotted not in test.read_text():
            problems.append(f"{dotted}: tests/{name} does not name it (import it as {dotted})")
    return problems


def test_the_walk_finds_every_kind_of_module():
    wanted = modules()
    assert wanted["test_lstm.py"] == "minatt.ops.lstm"
    assert wanted["test_ops.py"] == "minatt.ops"  # a package with code in its __init__
    assert wanted["test_minatt.py"] == "minatt"
    assert wanted["test_bench_command.py"] == "minatt.tools.bench.bench_command"  # two levels down
    assert "minatt.model" not in wanted.values()  # its __init__ is only a docstring
    assert not [dotted for dotted in wanted.values() if dotted.endswith("__main__")]


def test_every_module_has_its_test_file():
    problems = missing()
    assert not problems, "modules without their test file:\n" + "\n".join(problems)


def test_a_planted_module_without_tests_is_reported(tmp_path):
    """The rule can fail: a new module, a test file that does not name its module, a package with code."""
    (tmp_path / "minatt" / "pkg").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    (tmp_path / "minatt" / "__init__.py").write_text('"""A namespace."""\n')
    (tmp_path / "minatt" / "pkg" / "__init__.py").write_text("X = 1\n")
    (tmp_path / "minatt" / "pkg" / "new.py").write_text("")
    (tmp_path / "minatt" / "pkg" / "__main__.py").write_text("")
    (tmp_path / "tests" / "test_new.py").write_text("from minatt.pkg import new\n")  # not the dotted path
    assert missing(tmp_path) == ["minatt.pkg: write tests/test_pkg.py",
                                 "minatt.pkg.new: tests/test_new.py does not name it (import it as minatt.pkg.new)"]
    (tmp_path / "tests" / "test_new.py").write_text("import minatt.pkg.new as new\n")
    (tmp_path / "tests" / "test_pkg.py").write_text("import minatt.pkg\n")
    assert missing(tmp_path) == []


def test_every_file_name_is_unique():
    """One name, one file, across all of minatt (issue 25: no two ``command.py``): a name in a traceback,
    a lesson or a test file's name points at exactly one file."""
    seen: dict[str, list[str]] = {}
    for path in sorted((ROOT / "minatt").rglob("*.py")):
        if path.name not in ("__init__.py", "__main__.py"):
            seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    twice = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not twice, f"file names used more than once: {twice}"
