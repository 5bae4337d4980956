"""Run every lesson as a test: each ```python block, in order, in one namespace per lesson.

Sybil collects the Markdown chapters; blocks fenced as ```py are quotations of the library's
own code (checked against the source by tests/test_lessons.py) and are not executed.

A lesson's figures go to a temporary directory of its own, removed afterwards, so running the
lessons never changes a committed file; ``MINATT_WRITE_FIGURES=1`` regenerates the committed
figures in lessons/figures instead (see minatt/tools/lesson_figures.py).
"""

import os
import shutil
import tempfile

import matplotlib
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

matplotlib.use("Agg")

_SCRATCH = "_lesson_figures_scratch"  # namespace keys of this file's own bookkeeping
_PREVIOUS = "_lesson_figures_previous"


def _reset_backend():
    import minatt

    minatt.use("numpy")
    minatt.set_default_dtype("float32")


def _setup(namespace):
    _reset_backend()
    namespace[_PREVIOUS] = os.environ.get("MINATT_FIGURES_DIR")
    namespace[_SCRATCH] = tempfile.mkdtemp(prefix="minatt-lesson-figures-")
    os.environ["MINATT_FIGURES_DIR"] = namespace[_SCRATCH]


def _teardown(namespace):
    import matplotlib.pyplot as plt

    plt.close("all")
    _reset_backend()
    shutil.rmtree(namespace.pop(_SCRATCH), ignore_errors=True)
    previous = namespace.pop(_PREVIOUS)
    if previous is None:
        os.environ.pop("MINATT_FIGURES_DIR", None)
    else:
        os.environ["MINATT_FIGURES_DIR"] = previous


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["[0-9][0-9]-*.md", "A[0-9]-*.md"],  # the chapters, then the appendices
    setup=_setup,
    teardown=_teardown,
).pytest()
