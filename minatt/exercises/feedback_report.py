"""The checker's report: one line per gradient (or output), its verdict, and the feedback in tiers.

At hint level 0 a failing line names the wrong gradient and the kind of mistake (never the
answer); level 1 (``--hint``) adds a pointer at the cause; level 2 (``--hint --hint``) the formula.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from minatt.exercises.registry import EXERCISES
from minatt.exercises.spec import HINT_LEVELS

__all__ = ["STATUSES", "ExerciseReport", "GradientReport"]

STATUSES = ("pass", "fail", "wrong_shape", "not_implemented", "error")


@dataclass
class GradientReport:
    """The verdict on one returned gradient (or compared output) over every input set."""

    name: str  # e.g. "dW"
    status: str  # one of STATUSES
    max_rel_error: float | None = None  # the worst over the input sets it was checked on
    hint: str = ""  # the tier of its hint asked for (given on anything but a pass)
    detail: str = ""  # the kind of mistake and the worst element, or the shapes, or the error

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass
class ExerciseReport:
    """The outcome of :func:`~minatt.exercises.check.check_exercise`: one :class:`GradientReport` per name."""

    name: str
    function: str
    path: str  # where the learner's code came from
    grads: list[GradientReport]
    message: str = ""  # for not_implemented / error: the one thing to say
    common_hint: str = ""
    hint_level: int = 0

    @property
    def status(self) -> str:
        """pass, fail, not_implemented or error (wrong shapes count as fail)."""
        statuses = {g.status for g in self.grads}
        for status in ("error", "not_implemented"):
            if status in statuses:
                return status
        return "pass" if statuses == {"pass"} else "fail"

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def grad(self, name: str) -> GradientReport:
        """The report of gradient ``name`` ("dW"; "W" works too)."""
        for g in self.grads:
            if g.name in (name, "d" + name, f"grads[{name!r}]"):
                return g
        raise KeyError(f"{self.function} returns no gradient {name!r}")

    def format(self) -> str:
        """The text ``python -m minatt exercise`` prints."""
        spec = EXERCISES[self.name]
        passing = spec.passing()
        lines = [f"exercise {self.name} (chapter {spec.chapter}, {spec.title}): {self.function} from {self.path}",
                 f"a correct answer has {spec.level}" + (f" (the checker passes {passing})" if passing else "")]
        if self.status in ("not_implemented", "error"):
            return "\n".join([*lines, self.message])
        width = max(len(g.name) for g in self.grads)
        labels = {"pass": "PASS", "fail": "FAIL", "wrong_shape": "WRONG SHAPE"}
        for g in self.grads:
            err = "" if g.max_rel_error is None else f"max rel error {g.max_rel_error:.1e}"
            lines.append(f"  {g.name.ljust(width)}  {labels[g.status].ljust(11)}  {err}".rstrip())
            for text in (g.detail, g.hint if not g.passed else ""):
                if text:
                    pad = " " * (width + 4)
                    lines.append(textwrap.fill(text, 100, initial_indent=pad, subsequent_indent=pad + "  "))
        n_pass = sum(g.passed for g in self.grads)
        noun = "gradient" if spec.grads and not spec.outputs else "check"
        if self.passed:
            what = f"the {noun} passes" if n_pass == 1 else f"all {n_pass} {noun}s pass"
            lines.append(f"{what}: well done.")
            return "\n".join(lines)
        if n_pass == 0 and len(self.grads) > 1:
            shared = self.common_hint or "look first at what they all go through"
            lines.append(textwrap.fill(f"every {noun} fails: {shared}", 100, subsequent_indent="  "))
        total = len(self.grads)
        lines.append(f"{n_pass} of {total} {noun}s pass." if total > 1 else f"the {noun} does not pass.")
        if self.hint_level < HINT_LEVELS:
            more = "a pointer at the cause" if self.hint_level == 0 else "the formula"
            lines.append(f"for {more}, run again with --hint {self.hint_level + 1}")
        return "\n".join(lines)

