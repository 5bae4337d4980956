"""Checking a learner's code: gradient checks per input set, a report per gradient (or output).

For every input set (small random float64 arrays, several shapes, padding masks where the op
takes one) the checker runs the library's forward, calls the learner's backward once with fixed
random upstream gradients, and compares each returned gradient with centred differences of the
forward (:func:`minatt.gradcheck.check_gradients`). Where the learner writes a forward too, its
outputs are first compared with the library's, and its backward gets the learner's own cache;
a search loop's tokens are compared with the library's (:mod:`minatt.exercises.values`).

It reports per name: PASS, FAIL (with a hint aimed at that name and, for a gate-fused weight, the
gates whose columns are wrong), WRONG SHAPE, or NOT IMPLEMENTED while the stub still raises
:class:`NotImplementedError`. Exit status: 0 when everything passes, 1 otherwise.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy

from minatt.backend import default_dtype, randn, use
from minatt.exercises import decode
from minatt.exercises.load import LearnerError, learner_frame, resolve_function
from minatt.exercises.registry import EXERCISES, Exercise, Trial, get_exercise
from minatt.exercises.values import as_host, compare_output, compare_tokens
from minatt.gradcheck import (
    GradResult,
    check_gradients,
    numerical_gradient,
    project,
    rel_error,
)

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
        lines = [f"exercise {self.name} (chapter {spec.chapter}, {spec.title}): {self.function} from {self.path}",
                 f"a correct answer has {spec.level}" + (f" (passing: below {TOL:.0e})" if spec.kind == "backward" else "")]
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
        else:
            if self.common_hint and n_pass == 0:
                lines.append(textwrap.fill(f"hint: {self.common_hint}", 100, subsequent_indent="  "))
            total = len(self.grads)
            lines.append(f"{n_pass} of {total} {noun}s pass." if total > 1 else f"the {noun} does not pass.")
        return "\n".join(lines)



# ---------------------------------------------------------------------------------------
# Calling the learner


class _NotImplemented(Exception):
    pass


def _call(spec: Exercise, fn: Callable, args: tuple, filename: str | None, kwargs: dict | None = None) -> Any:
    """fn(*args, **kwargs), the learner's NotImplementedError and other errors turned into ours."""
    try:
        return fn(*args, **(kwargs or {}))
    except NotImplementedError:
        raise _NotImplemented from None
    except Exception as exc:  # noqa: BLE001 - any error in their code is reported, not raised
        name = getattr(fn, "__name__", spec.function)
        raise LearnerError(f"your {name} raised {type(exc).__name__}: {exc}\n{learner_frame(exc, filename)}") from None


def _returned(spec: Exercise, result: Any, names: tuple[str, ...], what: str) -> list[Any]:
    """The learner's result as a list of len(names) values, or a LearnerError saying what was expected."""
    if len(names) == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        raise LearnerError(f"your {what} returned {got}; it must return {len(names)} values: {', '.join(names)}")
    return list(result)


# ---------------------------------------------------------------------------------------
# What a wrong gradient tells


def _note(r: GradResult, padded: numpy.ndarray | None) -> str:
    """What the worst element's pattern suggests; padding is named only where the input is padding."""
    if r.numeric == 0 and r.analytic != 0:
        if r.index is not None and padded is not None and padded[r.index]:
            return " (a padded position: its gradient must be exactly 0)"
        if r.index is not None and padded is not None and (~padded[r.index[:-1]]).sum() == 1:
            return (" (the only real position of its row: the softmax gives it weight 1 whatever its score, "
                    "so the gradient must be 0)")
        return " (the loss does not depend on this element here: its gradient must be 0)"
    if r.analytic == 0 and r.numeric != 0:
        return " (yours is 0: a missing term?)"
    if float(rel_error(r.analytic, -r.numeric)) < 1e-6:
        return " (the sign is flipped)"
    return ""


def _diagnose(r: GradResult, label: str, padded: numpy.ndarray | None) -> str:
    """One line about the worst element: where, yours vs numeric, and what that pattern suggests."""
    if r.index is None:
        where = f"along a random direction: yours {r.analytic:.6g}, numeric {r.numeric:.6g}"
    else:
        where = f"worst at d{r.name}{list(r.index)}: yours {r.analytic:.6g}, numeric {r.numeric:.6g}"
    return f"{where}{_note(r, padded)}; inputs {label}"


def _gate_blocks(yours: numpy.ndarray, numeric: numpy.ndarray, gates: str) -> tuple[str, ...]:
    """The gates whose column block (of the last axis) of a gradient is wrong."""
    H = yours.shape[-1] // len(gates)
    errors = rel_error(yours, numeric)
    return tuple(g for j, g in enumerate(gates) if errors[..., j * H:(j + 1) * H].max() > TOL)


def _gate_detail(name: str, wrong: tuple[str, ...], gates: str, hints: dict[str, str]) -> str:
    """e.g. "dWx wrong in columns 2H:3H (gate g); the other gates (i, f, o) are right: ..."."""
    n = len(gates)
    cols = [f"{j}H:{j + 1}H".replace("0H:", "0:").replace(":1H", ":H") for j in range(n)]
    where = " and ".join(f"columns {cols[gates.index(g)]} (gate {g})" for g in wrong)
    right = [g for g in gates if g not in wrong]
    text = f"d{name} wrong in {where}; the other gates ({', '.join(right)}) are right"
    if len(wrong) == 1 and wrong[0] in hints:
        text += f": check {hints[wrong[0]]}"
    elif len(wrong) > 1:
        text += f": check that your gradient's blocks are in the order {', '.join(gates)}"
    return text


# ---------------------------------------------------------------------------------------
# One input set


def _gradient_rows(spec: Exercise, fn: Callable, trial: Trial, filename: str | None, rng: numpy.random.Generator,
                   seed: int, make_cache: Callable[[dict], Any]) -> dict[str, dict]:
    """Gradient-check the learner's backward on one input set; per gradient name, a row."""
    forward = spec.library_forward()
    names = list(trial.params)

    def outputs(p: dict[str, Array]) -> tuple:
        return forward(*(p[k] for k in names), **trial.kwargs)[:-1]

    outs = outputs(trial.params)
    douts = tuple(None if i in trial.none_douts else randn(rng, tuple(o.shape)) for i, o in enumerate(outs))
    used = [(i, d) for i, d in enumerate(douts) if d is not None]

    def loss(p: dict[str, Array]) -> float:
        outs = outputs(p)
        return project(tuple(outs[i] for i, _ in used), tuple(d for _, d in used))

    # The learner gets copies: writing into the cache or the upstream gradient must not hurt the check.
    cache = make_cache({k: v.copy() for k, v in trial.params.items()})
    douts = tuple(None if d is None else d.copy() for d in douts)
    args = (fn, douts, cache) if spec.call else (*douts, cache)
    result = _call(spec, spec.call if spec.call else fn, args, filename)
    raw = _returned(spec, result, spec.grads, spec.function)
    out: dict[str, dict] = {}
    grads: dict[str, numpy.ndarray] = {}
    for name, g in zip(spec.inputs, raw):
        want = tuple(trial.params[name].shape)
        host = None if g is None else as_host(g)
        if host is None:
            what = "None" if g is None else f"a {type(g).__name__}, not an array of numbers"
            out["d" + name] = {"status": "wrong_shape", "err": None, "detail": f"got {what}; expected shape {want}"}
        elif host.shape != want:
            out["d" + name] = {"status": "wrong_shape", "err": None,
                               "detail": f"got shape {host.shape}, expected {want} like {name} "
                                         f"(inputs {trial.label()})"}
        else:
            grads[name] = host
    if not grads:
        return out
    results = check_gradients(lambda p: (loss(p), grads), trial.params, names=list(grads),
                              loss_only=loss, tol=TOL, seed=seed, op=spec.name)
    for name, g in grads.items():
        mine = [r for r in results if r.name == name]
        worst = max(mine, key=lambda r: (not r.passed, r.index is not None, r.max_rel_error))
        passed = all(r.passed for r in mine)
        detail = "" if passed else _diagnose(worst, trial.label(), trial.padded.get(name))
        if not passed and name in spec.gates:
            numeric = numerical_gradient(lambda _: loss(trial.params), trial.params[name])
            wrong = _gate_blocks(g, numeric, spec.gates[name])
            if 0 < len(wrong) < len(spec.gates[name]):
                detail = _gate_detail(name, wrong, spec.gates[name], spec.gate_hints) + "; " + detail
        out["d" + name] = {"status": "pass" if passed else "fail",
                           "err": max(r.max_rel_error for r in mine), "detail": detail}
    return out


def _output_rows(spec: Exercise, fns: dict[str, Callable], trial: Trial, filename: str | None) -> tuple[dict, Any]:
    """Run the learner's forward; compare its outputs with the library's. -> (rows, the learner's cache)."""
    fn = fns[spec.forward if spec.kind == "forward_backward" else spec.function]
    copies = tuple(v.copy() for v in trial.params.values())
    result = _call(spec, fn, copies, filename, trial.kwargs)
    if len(spec.outputs) == 1 and not isinstance(result, (tuple, list)):
        result = (result, None)  # a forward kind may return the output alone
    *yours, cache = _returned(spec, result, (*spec.outputs, "cache"), fn.__name__)
    expected = spec.library_forward()(*trial.params.values(), **trial.kwargs)[:-1]
    padded = next(iter(trial.padded.values()), None)
    rows = {}
    for name, y, e in zip(spec.outputs, yours, expected):
        rows[name] = compare_output(name, y, e, trial, padded if numpy.shape(e) == numpy.shape(padded) else None)
    return rows, cache


def _decode_rows(spec: Exercise, fn: Callable, trial: Trial, filename: str | None) -> dict[str, dict]:
    config = trial.kwargs["model"].config
    yours = _returned(spec, _call(spec, decode.run_search, (fn, trial), filename), spec.outputs, spec.function)
    expected = decode.run_search(spec.reference(), trial)
    rows = {"tokens": compare_tokens(yours[0], expected[0], trial, config.pad_id, config.eos_id)}
    tokens, attention = as_host(yours[0]), as_host(yours[1])
    want_tokens, want_attention = expected
    if tokens is not None and attention is not None and tokens.ndim == 2 and attention.ndim == 3 \
            and tokens.shape[0] == want_tokens.shape[0] and tokens.shape[1] == attention.shape[1]:
        # Decoded for more or fewer steps: pad both to the longer (PAD tokens, zero attention).
        L = max(tokens.shape[1], want_tokens.shape[1])
        tokens, want_tokens = (numpy.pad(t, ((0, 0), (0, L - t.shape[1])), constant_values=config.pad_id)
                               for t in (tokens, want_tokens))
        attention, want_attention = (numpy.pad(a, ((0, 0), (0, L - a.shape[1]), (0, 0)))
                                     for a in (attention, want_attention))
        same = [n for n in range(len(tokens)) if numpy.array_equal(tokens[n], want_tokens[n])]
        if not same:
            rows["attention"] = {"status": "fail", "err": None,
                                 "detail": "not compared: no sequence's tokens are right"}
        else:  # the attention of the sequences decoded right
            rows["attention"] = compare_output("attention", attention[same], want_attention[same], trial, None)
    else:
        rows["attention"] = compare_output("attention", yours[1], want_attention, trial, None)
    return rows


def _check_trial(spec: Exercise, fns: dict[str, Callable], trial: Trial, filename: str | None,
                 rng: numpy.random.Generator, seed: int) -> dict[str, dict]:
    """Per reported name: {"status", "err", "detail"} on this one input set."""
    if spec.kind == "decode":
        return _decode_rows(spec, fns[spec.function], trial, filename)
    if spec.kind == "forward":
        return _output_rows(spec, fns, trial, filename)[0]
    rows: dict[str, dict] = {}
    if spec.kind == "forward_backward":
        rows, _ = _output_rows(spec, fns, trial, filename)

        def make_cache(p: dict) -> Any:
            result = _call(spec, fns[spec.forward], tuple(p.values()), filename, trial.kwargs)
            return _returned(spec, result, (*spec.outputs, "cache"), spec.forward)[-1]
    else:
        def make_cache(p: dict) -> Any:
            return spec.library_forward()(*p.values(), **trial.kwargs)[-1]
    rows.update(_gradient_rows(spec, fns[spec.function], trial, filename, rng, seed, make_cache))
    return rows


def check_exercise(name: str, path: str | Path | None = None, *, module: Any = None,
                   functions: Mapping[str, Callable] | None = None, seed: int = 0) -> ExerciseReport:
    """Check the learner's code for exercise ``name``.

    Args:
        name: an exercise in :data:`EXERCISES` (else :class:`ConfigError` listing them).
        path: the learner's file (default: :func:`find_exercise_file`).
        module: instead of a file, any object with the function(s) as attributes (a module).
        functions: instead of either, a mapping {function name: callable}, e.g. the library's.
        seed: seeds the inputs and the checker's samples.

    Returns:
        An :class:`ExerciseReport`; it never raises for mistakes in the learner's code.
    """
    spec = get_exercise(name)
    blank = [GradientReport(g, "not_implemented") for g in spec.reported]
    shown = str(path) if path is not None else spec.name
    try:
        fns, shown, filename = resolve_function(spec, path, module, functions)
        with use("numpy"), default_dtype("float64"):
            rng = numpy.random.default_rng(seed)
            trials = spec.trials(rng)
            per_trial = [_check_trial(spec, fns, t, filename, rng, seed) for t in trials]
    except _NotImplemented:
        todo = " and ".join(spec.functions())
        return ExerciseReport(name, spec.function, shown, blank, f"not implemented yet: fill in {todo} in {shown}")
    except LearnerError as exc:
        errors = [GradientReport(g, "error") for g in spec.reported]
        return ExerciseReport(name, spec.function, shown, errors, str(exc))
    padded = [any(p.any() for p in t.padded.values()) for t in trials]  # has this input set padding?
    grads = []
    for gname in spec.reported:
        rows = [t[gname] for t in per_trial if gname in t]
        status = next((s for s in ("wrong_shape", "fail") if any(r["status"] == s for r in rows)), "pass")
        errs = [r["err"] for r in rows if r["err"] is not None and status != "wrong_shape"]
        detail = next((r["detail"] for r in rows if r["status"] == status and r["detail"]), "")
        verdicts = [(r["status"] == "pass", pad) for r, pad in zip(rows, padded)]
        if status == "fail" and all(ok or pad for ok, pad in verdicts) and any(ok and not pad for ok, pad in verdicts):
            detail += "; right on every input set without padding: check what happens at the padded positions"
        hint = "" if status == "pass" else spec.hints.get(gname, "")
        grads.append(GradientReport(gname, status, max(errs) if errs else None, hint, detail))
    return ExerciseReport(name, spec.function, shown, _point_at_gates(grads), common_hint=spec.common_hint)


def _point_at_gates(grads: list[GradientReport]) -> list[GradientReport]:
    """When a gate-fused gradient names the wrong gates, the other failing gradients (computed from the
    same pre-activation gradient) point there instead of at their own generic hint."""
    gated = next((g for g in grads if " wrong in columns " in g.detail), None)
    if gated is None:
        return grads
    for g in grads:
        if g.status == "fail" and " wrong in columns " not in g.detail:
            g.hint = (f"{g.name} is computed from the same pre-activation gradient, whose gate blocks are "
                      f"wrong: fix what {gated.name}'s line names first")
    return grads
