"""Run every lesson as a test: each ```python block, in order, in one namespace per lesson.

Sybil collects the Markdown chapters; blocks fenced as ```py are quotations of the library's
own code (checked against the source by tests/test_lessons.py) and are not executed.
"""

import matplotlib
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

matplotlib.use("Agg")


def _setup(namespace):
    import minatt

    minatt.use("numpy")
    minatt.set_default_dtype("float32")


def _teardown(namespace):
    import matplotlib.pyplot as plt

    plt.close("all")
    _setup(namespace)


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["[0-9][0-9]-*.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()
