"""The HTML build of the course: chapters run in a kernel and their outputs reach the page."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

pytest.importorskip("jupytext")
pytest.importorskip("nbclient")
pytest.importorskip("nbconvert")
pytest.importorskip("ipykernel")
pytest.importorskip("latex2mathml")

from minatt.cli import main  # noqa: E402
from minatt.tools.lessons_html import build, chapters  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_PNG = re.compile(r'<img[^>]+src="data:image/png;base64,')
OUTPUT_TEXT = re.compile(r'class="[^"]*jp-OutputArea-output[^"]*"[^>]*>\s*<pre>(.+?)</pre>', re.S)

CHAPTER = '''# 1. A test chapter

A link to [the next chapter](02-next.md#top) and a picture: ![a picture](figures/dot.png)

```python
import os
import matplotlib.pyplot as plt
print("the answer is", 6 * 7, "in", os.path.basename(os.getcwd()))
plt.plot([0, 1], [1, 0])
```

A quotation of library code is shown, not run:

```py
raise SystemExit("a quotation was executed")
```

and so is a command:

```bash
exit 1
```

```python
print("still running:", 2 ** 10)
```
'''


def test_build_runs_python_blocks_only_and_embeds_outputs_and_pictures(tmp_path):
    lessons = tmp_path / "lessons"
    (lessons / "figures").mkdir(parents=True)
    (lessons / "01-test.md").write_text(CHAPTER)
    (lessons / "figures" / "dot.png").write_bytes((ROOT / "lessons" / "figures" / "graph_bptt.png").read_bytes())
    cwd = tmp_path / "repo-root"
    cwd.mkdir()
    [page] = build(tmp_path / "html", lessons, cwd=cwd, log=lambda line: None)
    text = page.read_text()
    outputs = OUTPUT_TEXT.findall(text)
    assert "the answer is 42 in repo-root" in outputs[0]  # executed, in the given working directory
    assert "still running: 1024" in outputs[-1]  # the ```py and ```bash blocks did not stop it
    words = html.unescape(re.sub(r"<[^>]+>", "", text))  # what a reader sees
    assert 'raise SystemExit("a quotation was executed")' in words and "exit 1" in words  # shown as text
    assert len(EMBEDDED_PNG.findall(text)) == 2  # the plot's output and the linked picture
    assert 'href="02-next.html#top"' in text
    assert "01-test.html" in (tmp_path / "html" / "index.html").read_text()


def test_a_failing_cell_names_its_chapter_and_fails_the_command(tmp_path, capsys):
    (tmp_path / "01-bad.md").write_text('# Bad\n\n```python\nraise ValueError("boom")\n```\n')
    assert main(["lessons-html", "--lessons", str(tmp_path), "--out", str(tmp_path / "html")]) == 1
    out = capsys.readouterr().out
    assert "01-bad.md: a cell failed" in out and "boom" in out
    assert not (tmp_path / "html" / "01-bad.html").exists()


def test_lstm_chapter_builds_with_its_outputs(tmp_path):
    chapter = next(p for p in chapters(ROOT / "lessons") if "lstm" in p.name)  # found by topic, not number
    [page] = build(tmp_path, prefixes=[chapter.name[:3]], log=lambda line: None)
    text = page.read_text()
    outputs = [o for o in OUTPUT_TEXT.findall(text) if o.strip()]
    assert len(outputs) >= 3, "the chapter's printed values are missing from the page"
    assert EMBEDDED_PNG.search(text), "the chapter's pictures are not embedded"


FORMULAS = r'''# 1. Formulas

Inline $p_i = e^{x_i} / \sum_k e^{x_k}$ and a block:

$$ \frac{\partial L}{\partial W} = x^\top \mathrm{dout} . $$

Code keeps its dollars: `echo $HOME`.

```python
from pathlib import Path
Path("figures") / "scratch.png"
```
'''
OUTSIDE = re.compile(r'\b(?:src|href)\s*=\s*["\']?(?!data:|#)([^"\'\s>]+)', re.I)


def _points_outside(target: str) -> bool:
    """A link a browser would fetch from elsewhere: a URL with a scheme, a host, an absolute path, or a way up."""
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:|^//|^/", target, re.I)) or target.startswith("..")


def test_pages_render_formulas_offline_and_show_no_paths(tmp_path):
    """Issue 24: the pages loaded require.js and MathJax from a CDN, so offline no formula rendered."""
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "01-formulas.md").write_text(FORMULAS)
    [page] = build(tmp_path / "html", lessons, cwd=tmp_path, log=lambda line: None)
    text = page.read_text()
    assert len(re.findall(r"<math\b", text)) == 2 and 'display="block"' in text   # both formulas, as MathML
    assert "<mfrac>" in text and "$$" not in text
    assert "echo $HOME" in html.unescape(re.sub(r"<[^>]+>", "", text))              # code untouched
    outside = [t for t in OUTSIDE.findall(text) if _points_outside(t)]
    assert not outside, f"the page fetches from outside the build folder: {outside[:5]}"
    assert "<script src" not in text
    assert "PosixPath" not in text and "figures/scratch.png" not in text   # (no Out[...] of a path)
