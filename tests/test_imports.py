"""No import cycles in minatt, lazy ones included, and every module imports on its own.

The graph is built by reading the source (ast), so an ``import`` inside a function counts as
much as one at the top of a file: a lazy import that closes a circle is still a circle. An edge
goes from a module to each minatt module it names (``from minatt.ops import lstm`` names
minatt.ops.lstm; ``from minatt.ops.lstm import lstm_forward`` names minatt.ops.lstm). The implicit
import of a package's ``__init__`` before its submodules is not an edge: otherwise every
package that imports its own submodules would be a circle.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "minatt"

def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """The minatt modules that ``name`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..ops import y
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            # "from a import b": b is a module (a.b) or a name defined in a
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # "import minatt.ops.lstm.x" is not a module: its parent is
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    return {name: imported_modules(name, path) for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), as one cycle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [path_through(graph, component) for component in components]


def path_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path a -> ... -> a inside a strongly connected component, for the message."""
    start, inside = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth-first: the shortest way back to start
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & inside):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return component


def describe(cycle: list[str]) -> str:
    return " -> ".join(cycle)


def test_the_graph_sees_lazy_imports():
    """The graph builder itself: an import inside a function is an edge, a relative import resolves."""
    graph = import_graph()
    assert "minatt.ops.masks" in graph["minatt.ops.lstm"]
    assert "minatt.gradcheck.checker" in graph["minatt.gradcheck.rnn_cases"]
    lazy = [name for name, path in MODULES.items()
            if any(isinstance(n, ast.FunctionDef) and any(isinstance(m, (ast.Import, ast.ImportFrom)) for m in ast.walk(n))
                   for n in ast.walk(ast.parse(path.read_text())))]
    assert lazy, "no module imports inside a function: this test would not show lazy imports are seen"


def test_cycle_finder_on_a_planted_lazy_cycle():
    """A planted cycle, closed by a lazy import the way gradcheck <-> checks was, is found and named."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    found = [describe(c) for c in cycles(import_graph())]
    assert not found, "import cycles (lazy imports included):\n  " + "\n  ".join(found)


def _import_alone(name: str) -> tuple[str, int, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    lines = proc.stderr.strip().splitlines()
    return name, proc.returncode, lines[-1] if lines else ""


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_module_imports_alone_in_a_fresh_interpreter():
    """Imported first, in its own interpreter, each module must load: a cycle that only bites in one
    import order (the partially initialised module) fails here even where the graph might miss it."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_import_alone, [n for n in MODULES if not n.endswith("__main__")]))  # those run
    failed = [f"{name}: {last}" for name, rc, last in results if rc != 0]
    assert not failed, "\n".join(failed)
