"""Checking a learner's code: gradient checks per input set, a report per gradient (or output).

For every input set (small random float64 arrays, several shapes, padding masks where the op
takes one) the checker runs the library's forward, calls the learner's backward once with fixed
random upstream gradients, and compares each returned gradient with centred differences of the
forward (:func:`minatt.gradcheck.check_gradients`). Where the learner writes a forward too, its
outputs are first compared with the library's, and its backward gets the learner's own cache;
a search loop's tokens are compared with the library's (:mod:`minatt.exercises.values`).

It reports per name (:mod:`minatt.exercises.feedback_report`): PASS, FAIL (with the kind of mistake,
:mod:`minatt.exercises.feedback`, and the tier of hint asked for), WRONG SHAPE, or NOT
IMPLEMENTED while the stub still raises :class:`NotImplementedError`. Exit status: 0 when
everything passes, 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy

from minatt.backend import default_dtype, randn, use
from minatt.exercises import decode, feedback, model
from minatt.exercises.feedback_report import STATUSES, ExerciseReport, GradientReport
from minatt.exercises.load import (
    LearnerError,
    NotImplementedByLearner,
    call_learner,
    resolve_function,
    returned,
)
from minatt.exercises.registry import Exercise, Trial, get_exercise
from minatt.exercises.spec import TOL, tier
from minatt.exercises.values import as_host, compare_output, compare_tokens
from minatt.gradcheck import check_gradients, numerical_gradient, project

__all__ = ["STATUSES", "TOL", "ExerciseReport", "GradientReport", "check_exercise"]

Array = Any


# ---------------------------------------------------------------------------------------
# One input set


def _shape_problem(name: str, g: Any, want: tuple, label: str) -> tuple[numpy.ndarray | None, str]:
    """(g on the host, "") when it is an array of shape ``want``; else (None, what is wrong)."""
    host = None if g is None else as_host(g)
    if host is None:
        what = "None" if g is None else f"a {type(g).__name__}, not an array of numbers"
        return None, f"got {what}; expected shape {want}"
    if host.shape != want:
        transposed = ": a transpose" if host.ndim == 2 and host.shape == want[::-1] else ""
        return None, f"got shape {host.shape}, expected {want} like {name}{transposed} (inputs {label})"
    return host, ""


def _gradient_rows(spec: Exercise, fn: Callable, trial: Trial, filename: str | None, rng: numpy.random.Generator,
                   seed: int, make_cache: Callable[[dict], Any], level: int) -> dict[str, dict]:
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
    raw = returned(call_learner(spec, spec.call or fn, args, filename), spec.grads, spec.function)
    out: dict[str, dict] = {}
    grads: dict[str, numpy.ndarray] = {}
    for name, g in zip(spec.inputs, raw):
        host, problem = _shape_problem(name, g, tuple(trial.params[name].shape), trial.label())
        if host is None:
            out[spec.grad_name(name)] = {"status": "wrong_shape", "err": None, "detail": problem}
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
        detail = ""
        if not passed:
            padded = trial.padded.get(name)
            numeric = numerical_gradient(lambda _: loss(trial.params), trial.params[name])
            kind = feedback.kind_of_mistake(g, numeric, padded)
            gates = feedback.gate_detail(spec, name, g, numeric, level) if name in spec.gates else None
            detail = "; ".join(t for t in (gates or kind, feedback.worst_element(
                worst, spec.grad_name(name), trial.label(), padded)) if t)
        out[spec.grad_name(name)] = {"status": "pass" if passed else "fail",
                                     "err": max(r.max_rel_error for r in mine), "detail": detail}
    return out


def _output_rows(spec: Exercise, fns: dict[str, Callable], trial: Trial, filename: str | None) -> tuple[dict, Any]:
    """Run the learner's forward; compare its outputs with the library's. -> (rows, the learner's cache)."""
    fn = fns[spec.forward if spec.kind == "forward_backward" else spec.function]
    fn = spec.wrap(fn) if spec.wrap else fn
    copies = tuple(v.copy() for v in trial.params.values())
    result = call_learner(spec, fn, copies, filename, trial.kwargs)
    expected = spec.library_forward()(*(v.copy() for v in trial.params.values()), **trial.kwargs)
    if spec.returns_cache:
        if len(spec.outputs) == 1 and not isinstance(result, (tuple, list)):
            result = (result, None)  # a forward kind may return the output alone
        *yours, cache = returned(result, (*spec.outputs, "cache"), fn.__name__)
        expected = expected[:-1]
    else:
        yours, cache = returned(result, spec.outputs, fn.__name__), None
    padded = next(iter(trial.padded.values()), None)
    rows = {}
    for name, y, e in zip(spec.outputs, yours, expected):
        rows[name] = compare_output(name, y, e, trial, padded if numpy.shape(e) == numpy.shape(padded) else None)
    return rows, cache


def _decode_rows(spec: Exercise, fn: Callable, trial: Trial, filename: str | None) -> dict[str, dict]:
    config = trial.kwargs["model"].config
    yours = returned(call_learner(spec, decode.run_search, (fn, trial), filename), spec.outputs, spec.function)
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
                 rng: numpy.random.Generator, seed: int, level: int) -> dict[str, dict]:
    """Per reported name: {"status", "err", "detail"} on this one input set."""
    if spec.kind == "decode":
        return _decode_rows(spec, fns[spec.function], trial, filename)
    if spec.kind == "forward":
        return _output_rows(spec, fns, trial, filename)[0]
    if spec.kind == "overfit":
        return model.overfit_rows(spec, fns[spec.function], trial, filename)
    rows: dict[str, dict] = {}
    if spec.kind == "forward_backward":
        rows, _ = _output_rows(spec, fns, trial, filename)

        def make_cache(p: dict) -> Any:
            result = call_learner(spec, fns[spec.forward], tuple(p.values()), filename, trial.kwargs)
            return returned(result, (*spec.outputs, "cache"), spec.forward)[-1]
    else:
        if spec.kind == "model":
            rows = model.loss_rows(spec, fns[spec.function], trial, filename)

        def make_cache(p: dict) -> Any:
            return spec.library_forward()(*p.values(), **trial.kwargs)[-1]
    rows.update(_gradient_rows(spec, fns[spec.function], trial, filename, rng, seed, make_cache, level))
    return rows


def check_exercise(name: str, path: str | Path | None = None, *, module: Any = None,
                   functions: Mapping[str, Callable] | None = None, seed: int = 0,
                   hint_level: int = 0) -> ExerciseReport:
    """Check the learner's code for exercise ``name``.

    Args:
        name: an exercise in :data:`EXERCISES` (else :class:`ConfigError` listing them).
        path: the learner's file (default: :func:`find_exercise_file`).
        module: instead of a file, any object with the function(s) as attributes (a module).
        functions: instead of either, a mapping {function name: callable}, e.g. the library's.
        seed: seeds the inputs and the checker's samples.
        hint_level: 0, the kind of mistake only; 1, a pointer at the cause; 2, the formula too.

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
            per_trial = [_check_trial(spec, fns, t, filename, rng, seed, hint_level) for t in trials]
    except NotImplementedByLearner:
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
        gated = " wrong in columns " in detail  # the gate line says what to check
        hint = "" if status == "pass" or gated else tier(spec.hints.get(gname), hint_level)
        grads.append(GradientReport(gname, status, max(errs) if errs else None, hint, detail))
    pointed = feedback.point_at_gates(spec, {g.name: g.detail for g in grads if g.status == "fail"})
    for g in grads:
        g.hint = pointed.get(g.name, g.hint)
    return ExerciseReport(name, spec.function, shown, grads, common_hint=tier(spec.common_hint, hint_level),
                          hint_level=hint_level)
