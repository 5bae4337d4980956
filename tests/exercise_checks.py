"""Helpers shared by the exercises' tests: where the stubs are, a planted mistake checked, the kinds of
mistake the feedback names."""

from __future__ import annotations

import importlib
from pathlib import Path

from minatt.exercises import (
    EXERCISES,
    check_exercise,
)
from tests.exercise_solutions import SOLUTIONS, write

ROOT = Path(__file__).resolve().parent.parent


STUBS = ROOT / "lessons" / "exercises"


def library(name: str):
    """The library module holding exercise ``name``'s reference."""
    return importlib.import_module(EXERCISES[name].module)


KINDS = ("the sign is flipped", "times the right gradient", "transpose", "yours is 0 everywhere",
         "wrong only at padded positions", "does not depend on the element", "elements: a term is wrong",
         "wrong everywhere")


def flat(report) -> str:
    return " ".join(report.format().split())


def planted(tmp_path, name, old, new, level=0):
    source = SOLUTIONS[name]
    assert source.count(old) == 1, old
    return check_exercise(name, write(tmp_path, name, source.replace(old, new)), hint_level=level)


def kinds(detail: str) -> set[str]:
    """Which kind-of-mistake phrases a detail line has."""
    return {k for k in KINDS if k in detail}
