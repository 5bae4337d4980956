"""Read the course with its outputs: execute the chapters and write them as HTML pages.

    python -m minatt lessons-html                          every chapter into build/html
    python -m minatt lessons-html --chapter 04 --chapter 08   only the chapters whose names start so

Each chapter ``lessons/NN-*.md`` is read by jupytext as a notebook, executed by nbclient in a
fresh Python kernel with the repository root as the working directory (as the tests run it),
and written by nbconvert as one self-contained page: outputs, plots and the pictures the text
links to are embedded, and every formula (``$...$``, ``$$...$$``) is turned into MathML while the
page is built (latex2mathml), so a page needs no script and no network: it renders offline.
No ``src`` or ``href`` of a page points outside the build folder. ``build/html/index.html``
lists the chapters. The three kinds of code block keep their meaning from the Markdown:

    ```python   executed in order, one kernel per chapter, with its output shown below it
    ```py       a quotation of the library's code: shown as text, not executed
    ```bash     a command to type in a terminal: shown as text, not executed

Needs the ``docs`` extra: ``pip install -e .[docs]`` (jupytext, nbclient, nbconvert, ipykernel, latex2mathml).
"""

from __future__ import annotations

import argparse
import html
import re
import time
from pathlib import Path
from typing import Any

from minatt.argtypes import nonempty
from minatt.errors import ConfigError
from minatt.tools.checkpoint import atomic_write_bytes

__all__ = ["DEFAULT_OUT", "SETUP", "add_parser", "build", "chapter_notebook", "chapters", "execute", "render_math",
           "run", "to_html"]

#: where the pages go (ignored by git)
DEFAULT_OUT = "build/html"
#: run first in every kernel, then removed: what lessons/conftest.py does before each chapter
SETUP = 'import minatt\nminatt.use("numpy")\nminatt.set_default_dtype("float32")\n%matplotlib inline'
ROOT = Path(__file__).resolve().parents[2]
CHAPTER_LINK = re.compile(r'href="((?:\d\d|A\d)-[\w-]+)\.md(#[^"]*)?"')
# Markdown that is not prose: fenced blocks and inline code spans keep their dollar signs.
CODE = re.compile(r"(^```.*?^```[^\n]*$|`[^`\n]+`)", re.DOTALL | re.MULTILINE)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)((?:[^$\n]|\n(?!\n))+?)(?<=\S)\$(?!\$)")   # (within a paragraph)
PATH_REPR = re.compile(r"^(Posix|Windows)?Path\(")
# The lab template's scripts from a CDN (require.js, MathJax): nothing here needs them.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""


def chapters(lessons: Path, prefixes: list[str] | None = None) -> list[Path]:
    """The chapter files ``NN-*.md`` in ``lessons``, then the appendices ``AN-*.md``; only those whose
    names start with a prefix if given."""
    found = sorted(lessons.glob("[0-9][0-9]-*.md")) + sorted(lessons.glob("A[0-9]-*.md"))
    if prefixes:
        found = [p for p in found if any(p.name.startswith(prefix) for prefix in prefixes)]
    if not found:
        wanted = f" starting with {', '.join(prefixes)}" if prefixes else ""
        raise ConfigError(f"no chapter NN-*.md{wanted} in {lessons}")
    return found


def chapter_notebook(path: Path) -> Any:
    """The chapter as a notebook: ```python blocks are code cells, ```bash blocks stay text."""
    import jupytext
    import nbformat

    nb = jupytext.read(path, fmt="md")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.source.startswith("%%bash"):  # jupytext's reading of ```bash
            body = cell.source.split("\n", 1)[1] if "\n" in cell.source else ""
            nb.cells[i] = nbformat.v4.new_markdown_cell(f"```bash\n{body}\n```")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb: Any, cwd: Path, timeout: int = 600) -> Any:
    """Run every code cell of ``nb`` in order in a fresh kernel started in ``cwd``; returns ``nb``.

    Raises :class:`nbclient.exceptions.CellExecutionError` (naming the cell) when a cell fails.
    """
    import nbformat
    from nbclient import NotebookClient

    nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP))
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
                       extra_arguments=["--log-level=ERROR"]).execute()  # no start-up warnings
    finally:
        nb.cells.pop(0)
    return nb


def render_math(markdown: str) -> str:
    """``markdown`` with every ``$$...$$`` (a block) and ``$...$`` (inline) formula as MathML, code left alone."""
    from latex2mathml.converter import convert

    def prose(text: str) -> str:
        text = DISPLAY_MATH.sub(lambda m: "\n\n" + convert(m[1].strip(), display="block") + "\n\n", text)
        return INLINE_MATH.sub(lambda m: convert(m[1]), text)

    parts = CODE.split(markdown)   # (prose, code, prose, code, ..., prose)
    return "".join(part if i % 2 else prose(part) for i, part in enumerate(parts))


def _offline(nb: Any) -> Any:
    """``nb`` ready to show offline: formulas as MathML, and no ``Out[...]`` that only shows a file's path."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source)
        elif cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not (
                o.get("output_type") == "execute_result" and PATH_REPR.match(o.get("data", {}).get("text/plain", "")))]
    return nb


def to_html(nb: Any, title: str, lessons: Path) -> str:
    """One self-contained HTML page: images the text links to (relative to ``lessons``) are embedded,
    formulas are MathML, and no script is loaded from elsewhere."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True, extra_loaders=[DictLoader({"offline.j2": TEMPLATE})],
                            template_file="offline.j2")
    nb = _offline(nb)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(lessons), "name": title}})
    return CHAPTER_LINK.sub(lambda m: f'href="{m[1]}.html{m[2] or ""}"', body)  # links between chapters


def _index(pages: list[tuple[str, str]]) -> str:
    items = "\n".join(f'<li><a href="{html.escape(name)}.html">{html.escape(title)}</a></li>' for name, title in pages)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>minatt: the course</title></head>\n"
            f"<body><h1>minatt: the course, with every output</h1>\n<ol>\n{items}\n</ol></body></html>\n")


def build(out: Path, lessons: Path = ROOT / "lessons", prefixes: list[str] | None = None,
          cwd: Path = ROOT, log: Any = print) -> list[Path]:
    """Execute the chapters and write ``out/<chapter>.html`` and ``out/index.html``; returns the chapter pages."""
    out.mkdir(parents=True, exist_ok=True)
    pages, written = [], []
    for path in chapters(lessons, prefixes):
        start = time.perf_counter()
        try:
            nb = execute(chapter_notebook(path), cwd)
        except Exception as exc:  # CellExecutionError, or a kernel that died: say which chapter
            exc.chapter = path.name
            raise
        first = path.read_text().splitlines()[0]
        title = first.lstrip("# ").strip() or path.stem
        page = out / f"{path.stem}.html"
        atomic_write_bytes(page, to_html(nb, title, lessons).encode())
        pages.append((path.stem, title))
        written.append(page)
        log(f"{page}  ({time.perf_counter() - start:.0f} s)")
    if prefixes is None or not (out / "index.html").exists():
        atomic_write_bytes(out / "index.html", _index(pages).encode())
    return written


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``lessons-html`` on an argparse subparsers object; dispatch with ``args.func(args)``."""
    parser = subparsers.add_parser(
        "lessons-html", help="execute the chapters and write them as HTML with every output",
        description="Execute each chapter (lessons/NN-*.md) in a fresh kernel and write it as a self-contained "
                    "HTML page with its outputs, plots and formulas, plus an index. Needs the docs extra "
                    "(pip install -e .[docs]).",
    )
    parser.add_argument("--out", type=nonempty, default=DEFAULT_OUT, metavar="DIR",
                        help=f"where to write (default: {DEFAULT_OUT})")
    parser.add_argument("--chapter", action="append", type=nonempty, metavar="PREFIX",
                        help="only the chapters whose file names start with PREFIX, e.g. 04 (repeatable)")
    parser.add_argument("--lessons", type=nonempty, default=str(ROOT / "lessons"), metavar="DIR",
                        help="the directory of the chapters (default: this checkout's lessons/)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the ``lessons-html`` command; 0 on success, 1 when a chapter's code fails."""
    try:
        import jupytext  # noqa: F401
        import latex2mathml  # noqa: F401
        import nbclient
        import nbconvert  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"lessons-html needs the docs extra ({exc.name} is missing): pip install -e .[docs]") from None
    out = Path(args.out)
    try:
        build(out, Path(args.lessons), args.chapter)
    except nbclient.exceptions.CellExecutionError as exc:
        print(f"minatt: {exc.chapter}: a cell failed, no page written for it:\n{exc}")
        return 1
    print(f"open {out / 'index.html'}")
    return 0
