"""Checking a learner's backward pass: gradient checks per input set, a report per gradient.

For every input set (small random float64 arrays, several shapes, padding masks where the op
takes one) the checker runs the library's forward, calls the learner's backward once with fixed
random upstream gradients, and compares each returned gradient with centred differences of the
forward (:func:`minatt.gradcheck.check_gradients`). It reports per gradient: PASS, FAIL (with
a hint aimed at that gradient), WRONG SHAPE, or NOT IMPLEMENTED while the stub still raises
:class:`NotImplementedError`. Exit status: 0 when every gradient passes, 1 otherwise.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy

from minatt.backend import default_dtype, randn, to_numpy, use
from minatt.exercises.load import LearnerError, learner_frame, resolve_function
from minatt.exercises.registry import EXERCISES, Exercise, Trial, get_exercise
from minatt.gradcheck import GradResult, check_gradients, project, rel_error

__all__ = ["STATUSES", "TOL", "ExerciseReport", "GradientReport", "check_exercise"]

Array = Any
TOL = 1e-7
STATUSES = ("pass", "fail", "wrong_shape", "not_implemented", "error")


# ---------------------------------------------------------------------------------------
# Reports


@dataclass
class GradientReport:
    """The verdict on one returned gradient over every input set."""

    name: str  # e.g. "dW"
    status: str  # one of STATUSES
    max_rel_error: float | None = None  # the worst over the input sets it was checked on
    hint: str = ""  # what this gradient should be (given on anything but a pass)
    detail: str = ""  # the worst element, or the shapes, or the error

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass
class ExerciseReport:
    """The outcome of :func:`check_exercise`: one :class:`GradientReport` per gradient."""

    name: str
    function: str
    path: str  # where the learner's code came from
    grads: list[GradientReport]
    message: str = ""  # for not_implemented / error: the one thing to say
    common_hint: str = ""

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
            if g.name in (name, "d" + name):
                return g
        raise KeyError(f"{self.function} returns no gradient {name!r}")

    def format(self) -> str:
        """The text ``python -m minatt exercise`` prints."""
        spec = EXERCISES[self.name]
        lines = [f"exercise {self.name} (chapter {spec.chapter}, {spec.title}): {self.function} from {self.path}"]
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
        if self.passed:
            what = "the gradient passes" if n_pass == 1 else f"all {n_pass} gradients pass"
            lines.append(f"{what} (tolerance {TOL:.0e}): well done.")
        else:
            if self.common_hint and n_pass == 0:
                lines.append(textwrap.fill(f"hint: {self.common_hint}", 100, subsequent_indent="  "))
            total = len(self.grads)
            lines.append(f"{n_pass} of {total} gradients pass." if total > 1 else "the gradient does not pass.")
        return "\n".join(lines)



# ---------------------------------------------------------------------------------------
# Checking


class _NotImplemented(Exception):
    pass


def _call_learner(fn: Callable, spec: Exercise, trial: Trial, filename: str | None, rng: numpy.random.Generator
                  ) -> tuple[Callable[[dict[str, Array]], float], list[Any]]:
    """Run the forward, call the learner's backward once; return the loss function and their grads."""
    forward = spec.library_forward()
    names = list(trial.params)

    def run_forward(p: dict[str, Array]) -> tuple:
        result = forward(*(p[k] for k in names), **trial.kwargs)
        return result[:-1], result[-1]

    outputs, _ = run_forward(trial.params)
    douts = tuple(None if i in trial.none_douts else randn(rng, tuple(o.shape)) for i, o in enumerate(outputs))
    used = [(i, d) for i, d in enumerate(douts) if d is not None]

    def loss(p: dict[str, Array]) -> float:
        outs, _ = run_forward(p)
        return project(tuple(outs[i] for i, _ in used), tuple(d for _, d in used))

    # The learner gets copies: writing into the cache or the upstream gradient must not hurt the check.
    _, cache = run_forward({k: v.copy() for k, v in trial.params.items()})
    try:
        result = fn(*(None if d is None else d.copy() for d in douts), cache)
    except NotImplementedError:
        raise _NotImplemented from None
    except Exception as exc:  # noqa: BLE001 - any error in their code is reported, not raised
        raise LearnerError(
            f"your {spec.function} raised {type(exc).__name__}: {exc}\n{learner_frame(exc, filename)}"
        ) from None
    n = len(spec.inputs)
    if n == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        raise LearnerError(
            f"your {spec.function} returned {got}; it must return {n} arrays: {', '.join(spec.grads)}"
        )
    return loss, list(result)


def _as_host(g: Any) -> numpy.ndarray | None:
    try:
        return numpy.asarray(to_numpy(g), dtype=numpy.float64)
    except (TypeError, ValueError):
        return None


def _diagnose(r: GradResult, label: str) -> str:
    """One line about the worst element: where, yours vs numeric, and what that pattern suggests."""
    if r.index is None:
        where = f"along a random direction: yours {r.analytic:.6g}, numeric {r.numeric:.6g}"
    else:
        where = f"worst at d{r.name}{list(r.index)}: yours {r.analytic:.6g}, numeric {r.numeric:.6g}"
    note = ""
    if r.numeric == 0 and r.analytic != 0:
        note = " (this input does not affect the loss here, e.g. a padded position: the gradient must be 0)"
    elif r.analytic == 0 and r.numeric != 0:
        note = " (yours is 0: a missing term?)"
    elif float(rel_error(r.analytic, -r.numeric)) < 1e-6:
        note = " (the sign is flipped)"
    return f"{where}{note}; inputs {label}"


def _check_trial(spec: Exercise, fn: Callable, trial: Trial, filename: str | None,
                 rng: numpy.random.Generator, seed: int) -> dict[str, dict]:
    """Per gradient name: {"status", "err", "detail"} on this one input set."""
    loss, raw = _call_learner(fn, spec, trial, filename, rng)
    out: dict[str, dict] = {}
    grads: dict[str, numpy.ndarray] = {}
    for name, g in zip(spec.inputs, raw):
        want = tuple(trial.params[name].shape)
        host = None if g is None else _as_host(g)
        if host is None:
            what = "None" if g is None else f"a {type(g).__name__}, not an array of numbers"
            out[name] = {"status": "wrong_shape", "err": None, "detail": f"got {what}; expected shape {want}"}
        elif host.shape != want:
            out[name] = {"status": "wrong_shape", "err": None,
                         "detail": f"got shape {host.shape}, expected {want} like {name} (inputs {trial.label()})"}
        else:
            grads[name] = host
    if grads:
        results = check_gradients(lambda p: (loss(p), grads), trial.params, names=list(grads),
                                  loss_only=loss, tol=TOL, seed=seed, op=spec.name)
        for name in grads:
            mine = [r for r in results if r.name == name]
            worst = max(mine, key=lambda r: (not r.passed, r.index is not None, r.max_rel_error))
            err = max(r.max_rel_error for r in mine)
            passed = all(r.passed for r in mine)
            out[name] = {"status": "pass" if passed else "fail", "err": err,
                         "detail": "" if passed else _diagnose(worst, trial.label())}
    return out


def check_exercise(name: str, path: str | Path | None = None, *, module: Any = None,
                   functions: Mapping[str, Callable] | None = None, seed: int = 0) -> ExerciseReport:
    """Gradient-check the learner's backward for exercise ``name``.

    Args:
        name: an exercise in :data:`EXERCISES` (else :class:`ConfigError` listing them).
        path: the learner's file (default: :func:`find_exercise_file`).
        module: instead of a file, any object with the backward as an attribute (a module).
        functions: instead of either, a mapping {function name: callable}, e.g. the library's.
        seed: seeds the inputs and the checker's samples.

    Returns:
        An :class:`ExerciseReport`; it never raises for mistakes in the learner's code.
    """
    spec = get_exercise(name)
    blank = [GradientReport(g, "not_implemented") for g in spec.grads]
    shown = str(path) if path is not None else spec.name
    try:
        fn, shown, filename = resolve_function(spec, path, module, functions)
        with use("numpy"), default_dtype("float64"):
            rng = numpy.random.default_rng(seed)
            trials = spec.trials(rng)
            per_trial = [_check_trial(spec, fn, t, filename, rng, seed) for t in trials]
    except _NotImplemented:
        message = f"not implemented yet: fill in {spec.function} in {shown}"
        return ExerciseReport(name, spec.function, shown, blank, message)
    except LearnerError as exc:
        errors = [GradientReport(g, "error") for g in spec.grads]
        return ExerciseReport(name, spec.function, shown, errors, str(exc))
    grads = []
    for key, gname in zip(spec.inputs, spec.grads):
        rows = [t[key] for t in per_trial]
        status = next((s for s in ("wrong_shape", "fail") if any(r["status"] == s for r in rows)), "pass")
        errs = [r["err"] for r in rows if r["err"] is not None and status != "wrong_shape"]
        detail = next((r["detail"] for r in rows if r["status"] == status and r["detail"]), "")
        hint = "" if status == "pass" else spec.hints.get(gname, "")
        grads.append(GradientReport(gname, status, max(errs) if errs else None, hint, detail))
    return ExerciseReport(name, spec.function, shown, grads, common_hint=spec.common_hint)
