"""The lessons stay true to the code: every quotation of the library matches its source.

A quotation in a lesson is a ```py block right after a caption line

    **From the library:** `minatt/ops/linear.py`, `affine_backward`

which a reader sees rendered above the code, so quoted library code never looks like code to
run; the block must equal the source of that function or class (or Class.method), character
for character (after removing the common indentation), with or without its ``@contract(...)``
decorator: a quotation that does not start with ``@`` is compared without it. Running the ```python blocks is
lessons/conftest.py's job (Sybil).
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.md")) + sorted((ROOT / "lessons").glob("A[0-9]-*.md"))
CAPTION = "**From the library:** `{path}`, `{name}`"
QUOTE = re.compile(
    r"^\*\*From the library:\*\* `(?P<path>[^`]+)`, `(?P<name>[\w.]+)`\n```py\n(?P<body>.*?)```", re.DOTALL | re.MULTILINE
)


def source_of(path: Path, dotted: str, contract: bool = True) -> str:
    """The source of function or class ``dotted`` in ``path``; with ``contract=False``, without
    its ``@contract(...)`` decorator."""
    text = path.read_text()
    tree = ast.parse(text)
    nodes = tree.body
    node = None
    for part in dotted.split("."):
        node = next(
            (n for n in nodes if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part), None
        )
        if node is None:
            raise LookupError(f"{dotted} not found in {path}")
        nodes = node.body
    lines = text.splitlines()
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    skip = set() if contract else {i for d in node.decorator_list if _is_contract(d)
                                   for i in range(d.lineno - 1, d.end_lineno)}  # 0-based line numbers
    kept = [line for i, line in enumerate(lines[start : node.end_lineno], start) if i not in skip]
    return textwrap.dedent("\n".join(kept)) + "\n"


def _is_contract(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "contract"


def quoted_source(path: str, name: str, body: str) -> str:
    """What a quotation of ``name`` must read: the source, with its contract line if the quote has one."""
    return source_of(ROOT / path, name, contract=body.startswith("@"))


QUOTES = [
    (lesson.name, m["path"], m["name"], m["body"])
    for lesson in LESSONS
    for m in QUOTE.finditer(lesson.read_text())
]


def test_there_are_lessons():
    assert len(LESSONS) >= 2


@pytest.mark.parametrize("lesson, path, name, body", QUOTES, ids=[f"{q[0]}:{q[2]}" for q in QUOTES])
def test_quotation_matches_the_library(lesson, path, name, body):
    assert body == quoted_source(path, name, body), (
        f"{lesson} quotes {path} {name}, which has changed: copy the current source into the lesson"
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_every_py_block_is_a_checked_quotation(lesson):
    text = lesson.read_text()
    blocks = len(re.findall(r"^```py$", text, re.MULTILINE))
    quoted = len(QUOTE.findall(text))
    assert blocks == quoted, (
        f"{lesson.name}: a ```py block without a caption line right above it "
        "(**From the library:** `path`, `name`) is neither run nor checked"
    )


PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_lessons_save_figures_only_through_the_scratch_helper(lesson):
    """A chapter run by a test or a learner must not rewrite lessons/figures: figures go through
    minatt.tools.lesson_figures.save_lesson_figure, which writes there only under MINATT_WRITE_FIGURES=1."""
    code = "\n".join(PYTHON_BLOCK.findall(lesson.read_text()))
    assert ".savefig(" not in code, f"{lesson.name}: save figures with save_lesson_figure, not fig.savefig"


def test_figures_go_to_scratch_unless_asked(monkeypatch, tmp_path):
    from minatt.tools.lesson_figures import COMMITTED, figure_dir

    monkeypatch.delenv("MINATT_WRITE_FIGURES", raising=False)
    monkeypatch.setenv("MINATT_FIGURES_DIR", str(tmp_path / "figs"))
    assert figure_dir() == tmp_path / "figs" and figure_dir().is_dir()
    monkeypatch.delenv("MINATT_FIGURES_DIR")
    assert figure_dir() != COMMITTED
    monkeypatch.setenv("MINATT_WRITE_FIGURES", "1")
    assert figure_dir() == COMMITTED


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_a_lesson_opens_as_a_notebook_whose_code_cells_are_its_python_blocks(lesson):
    """jupytext turns a lesson into a notebook for Run All: its code cells must be exactly the
    ```python blocks (which the lesson tests run), never a quotation or a command to type
    (a ```bash block would become a %%bash cell that runs, and may fail: commands are ```shell)."""
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.reads(lesson.read_text(), fmt="md")
    code_cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    blocks = [block.rstrip("\n") for block in PYTHON_BLOCK.findall(lesson.read_text())]
    assert code_cells == blocks, f"{lesson.name}: a notebook code cell that is not a ```python block"


def test_the_readme_course_table_lists_every_lesson():
    """README's course table links every chapter and appendix, and links nothing that is gone."""
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\((lessons/[^)#]+\.md)\)", readme))
    assert {f"lessons/{lesson.name}" for lesson in LESSONS} <= linked, "a lesson missing from README's course table"
    missing = sorted(link for link in linked if not (ROOT / link).is_file())
    assert not missing, f"README links lessons that do not exist: {missing}"


def sync(paths: list[Path]) -> list[Path]:
    """Refill every quotation in the given lessons from the current source; return the changed files.

    Run ``python tests/test_lessons.py`` after changing a quoted function, then reread the prose
    around each changed quotation: the words may need to change too.
    """
    changed = []
    for path in paths:
        text = path.read_text()
        new = QUOTE.sub(
            lambda m: CAPTION.format(**m.groupdict()) + f"\n```py\n{quoted_source(m['path'], m['name'], m['body'])}```",
            text,
        )
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


if __name__ == "__main__":
    import sys

    for changed_path in sync([Path(p).resolve() for p in sys.argv[1:]] or LESSONS):
        print(f"updated {changed_path.relative_to(ROOT)}: reread the prose around its quotations")
