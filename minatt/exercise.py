"""Exercises: write a backward pass yourself, and have it gradient-checked.

Each exercise is one of the library's backward functions with its body taken out. The stub in
``lessons/exercises/<name>.py`` keeps the library's signature, ``name_backward(dout, cache)``,
and the checker hands it the library's OWN forward cache, so the learner reads the cache's
fields and returns the same tuple of gradients the library's backward returns::

    python -m minatt exercise --list
    python -m minatt exercise affine                       # lessons/exercises/affine.py
    python -m minatt exercise affine --file my_affine.py

For every input set (small random float64 arrays, several shapes, padding masks where the op
takes one) the checker runs the library's forward, calls the learner's backward once with fixed
random upstream gradients, and compares each returned gradient with centred differences of the
forward (:func:`minatt.gradcheck.check_gradients`). It reports per gradient: PASS, FAIL (with
a hint aimed at that gradient), WRONG SHAPE, or NOT IMPLEMENTED while the stub still raises
:class:`NotImplementedError`. Exit status: 0 when every gradient passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import textwrap
import traceback
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy

from minatt.backend import default_dtype, randn, to_numpy, use
from minatt.errors import ConfigError
from minatt.gradcheck import GradResult, check_gradients, project, rel_error

Array = Any
TOL = 1e-7
STATUSES = ("pass", "fail", "wrong_shape", "not_implemented", "error")


# ---------------------------------------------------------------------------------------
# What an exercise is


@dataclass
class Trial:
    """One input set: the differentiable inputs (forward-arg order) and the rest (masks)."""

    params: dict[str, Array]
    kwargs: dict[str, Any] = field(default_factory=dict)
    none_douts: tuple[int, ...] = ()  # outputs whose upstream gradient is passed as None

    def label(self) -> str:
        """e.g. ``x (2, 3), W (3, 4), b (4,), mask`` (the shapes of this input set)."""
        parts = [f"{k} {tuple(v.shape)}" for k, v in self.params.items()]
        parts += [k for k, v in self.kwargs.items() if v is not None]
        return ", ".join(parts)


@dataclass(frozen=True)
class Exercise:
    """One exercise: the library op it rebuilds, the inputs to check, and a hint per gradient."""

    name: str
    chapter: int
    title: str
    module: str  # the library module holding the forward and the reference backward
    forward: str
    function: str  # the backward the learner writes (same name and arguments as the library's)
    inputs: tuple[str, ...]  # differentiable forward inputs, in order; gradients are "d" + these
    trials: Callable[[numpy.random.Generator], list[Trial]]
    hints: dict[str, str]
    common_hint: str = ""  # shown when every gradient fails

    @property
    def grads(self) -> tuple[str, ...]:
        """The gradient names, in the order the backward returns them."""
        return tuple("d" + name for name in self.inputs)

    def library_forward(self) -> Callable:
        """The library's forward (looked up at call time)."""
        return getattr(importlib.import_module(self.module), self.forward)

    def reference(self) -> Callable:
        """The library's own backward: the reference solution."""
        return getattr(importlib.import_module(self.module), self.function)


def _inputs(rng: numpy.random.Generator, **shapes: tuple) -> dict[str, Array]:
    """Random float64 inputs: name=(shape, scale) -> array on the current backend."""
    return {k: randn(rng, shape, scale) for k, (shape, scale) in shapes.items()}


def _mask(lengths: tuple[int, ...], S: int) -> Array:
    """(N, S) bool, True on the first lengths[n] positions of row n."""
    return numpy.arange(S)[None, :] < numpy.asarray(lengths)[:, None]  # (N, S)


def _affine_trials(rng: numpy.random.Generator) -> list[Trial]:
    sizes = [((5,), 2, 3), ((2, 3), 4, 4), ((1,), 3, 1)]
    return [Trial(_inputs(rng, x=((*lead, D), 1.0), W=((D, M), 0.5), b=((M,), 1.0))) for lead, D, M in sizes]


def _softmax_trials(rng: numpy.random.Generator) -> list[Trial]:
    mask3 = numpy.arange(4)[None, None, :] < numpy.array([[0, 1, 4], [2, 3, 1]])[:, :, None]  # (2, 3, 4)
    return [
        Trial(_inputs(rng, x=((3, 5), 2.0)), {"mask": None}),
        Trial(_inputs(rng, x=((4, 6), 2.0)), {"mask": _mask((0, 1, 6, 3), 6)}),
        Trial(_inputs(rng, x=((2, 3, 4), 2.0)), {"mask": mask3}),
    ]


def _lstm_trials(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for N, D, H in [(3, 4, 2), (1, 2, 3), (2, 3, 3)]:
        out.append(Trial(_inputs(rng, x=((N, D), 1.0), h=((N, H), 1.0), c=((N, H), 1.0),
                                 Wx=((D, 4 * H), 0.5), Wh=((H, 4 * H), 0.5), b=((4 * H,), 0.5))))
    return out


def _gru_trials(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for N, D, H in [(3, 4, 2), (1, 2, 3), (2, 3, 3)]:
        out.append(Trial(_inputs(rng, x=((N, D), 1.0), h=((N, H), 1.0), Wx=((D, 3 * H), 0.5),
                                 Wh=((H, 3 * H), 0.5), bx=((3 * H,), 0.5), bh=((3 * H,), 0.5))))
    return out


def _additive_trials(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for N, S, Hq, Hk, A in [(3, 4, 2, 3, 5), (1, 1, 2, 2, 2), (2, 3, 3, 3, 3)]:
        out.append(Trial(_inputs(rng, q=((N, Hq), 1.0), keys=((N, S, Hk), 1.0), Wq=((Hq, A), 0.5),
                                 Wk=((Hk, A), 0.5), v=((A,), 1.0))))
    return out


def _general_trials(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for N, S, Hq, Hk in [(3, 4, 2, 5), (1, 1, 3, 3), (2, 3, 3, 3)]:
        out.append(Trial(_inputs(rng, q=((N, Hq), 1.0), keys=((N, S, Hk), 1.0), Wa=((Hq, Hk), 0.5))))
    return out


def _attention_trials(rng: numpy.random.Generator) -> list[Trial]:
    return [
        Trial(_inputs(rng, scores=((3, 4), 2.0), values=((3, 4, 2), 1.0)), {"mask": _mask((0, 1, 4), 4)}),
        Trial(_inputs(rng, scores=((2, 3), 2.0), values=((2, 3, 3), 1.0)), {"mask": None}, none_douts=(1,)),
        Trial(_inputs(rng, scores=((4, 5), 2.0), values=((4, 5, 1), 1.0)), {"mask": _mask((5, 2, 0, 1), 5)}),
    ]


EXERCISES: dict[str, Exercise] = {
    spec.name: spec
    for spec in [
        Exercise(
            "affine", 3, "affine backward", "minatt.ops.linear", "affine_forward", "affine_backward",
            ("x", "W", "b"), _affine_trials,
            {
                "dx": "dx should be dout @ W^T reshaped to x's shape (cache.x_shape): (..., D); check for a transpose",
                "dW": "dW should be x^T @ dout: shape (D, M), with the leading axes folded into the rows "
                      "(cache.x2 is (K, D), dout.reshape(-1, M) is (K, M)); check for a transpose",
                "db": "db is dout summed over every axis but the last: shape (M,), not (1, M)",
            },
        ),
        Exercise(
            "softmax", 3, "softmax backward with a mask", "minatt.ops.softmax", "softmax_forward",
            "softmax_backward", ("x",), _softmax_trials,
            {
                "dx": "dx = p * (dp - sum(p * dp)), the sum over the last axis only with keepdims=True so it "
                      "broadcasts; masked positions have p = 0 and must get exactly 0",
            },
        ),
        Exercise(
            "lstm_step", 4, "LSTM step backward", "minatt.ops.lstm", "lstm_step_forward", "lstm_step_backward",
            ("x", "h", "c", "Wx", "Wh", "b"), _lstm_trials,
            {
                "dx": "dx should be da @ Wx^T: shape (N, D), da (N, 4H) being the pre-activation gradients "
                      "[da_i, da_f, da_g, da_o] side by side",
                "dh": "dh should be da @ Wh^T: shape (N, H); check for a transpose",
                "dc": "dc should be dc_t * f, where dc_t = dc_next + dh_next * o * (1 - tc^2) is the whole "
                      "gradient at the new cell state (both paths)",
                "dWx": "dWx should be x^T @ da: shape (D, 4H), gate columns in the order i, f, g, o",
                "dWh": "dWh should be h_prev^T @ da: shape (H, 4H), gate columns in the order i, f, g, o",
                "db": "db should be da summed over the batch: shape (4H,)",
            },
            "every gradient goes through dc_t and da: check dc_t = dc_next + dh_next * o * (1 - tc^2) "
            "(both paths), then the gate derivatives s * (1 - s) for i, f, o and 1 - g^2 for g; cache.gates "
            "is ordered i, f, o, g but da's columns must follow Wx's: i, f, g, o",
        ),
        Exercise(
            "gru_step", 5, "GRU step backward", "minatt.ops.gru", "gru_step_forward", "gru_step_backward",
            ("x", "h", "Wx", "Wh", "bx", "bh"), _gru_trials,
            {
                "dx": "dx should be [da_r, da_z, da_n] @ Wx^T: shape (N, D), where "
                      "da_n = dh_next * (1 - z) * (1 - n^2) is the gradient of the whole tanh argument",
                "dh": "dh has a direct path dh_next * z plus [da_r, da_z, r * da_n] @ Wh^T: "
                      "h reaches n only through r * ah_n",
                "dWx": "dWx should be x^T @ [da_r, da_z, da_n]: shape (D, 3H), columns r, z, n",
                "dWh": "dWh should be h_prev^T @ [da_r, da_z, r * da_n]: shape (H, 3H); its n block is "
                       "scaled by r",
                "dbx": "dbx should be [da_r, da_z, da_n] summed over the batch: shape (3H,)",
                "dbh": "dbh should be [da_r, da_z, r * da_n] summed over the batch: shape (3H,); unlike "
                       "dbx, its n block is scaled by r",
            },
            "every gradient goes through the gate gradients: da_z = dh_next * (h_prev - n) * z * (1 - z), "
            "da_n = dh_next * (1 - z) * (1 - n^2), da_r = da_n * ah_n * r * (1 - r)",
        ),
        Exercise(
            "additive_score", 7, "additive (Bahdanau) score backward", "minatt.ops.scores",
            "additive_score_forward", "additive_score_backward", ("q", "keys", "Wq", "Wk", "v"),
            _additive_trials,
            {
                "dq": "dq should be (da summed over s) @ Wq^T: shape (N, Hq), with "
                      "da = dscores[:, :, None] * v * (1 - t^2) (N, S, A); one query meets all S keys",
                "dkeys": "dkeys should be da @ Wk^T: shape (N, S, Hk); check for a transpose",
                "dWq": "dWq should be q^T @ (da summed over s): shape (Hq, A)",
                "dWk": "dWk should be keys^T @ da with batch and source folded together: "
                       "keys.reshape(-1, Hk).T @ da.reshape(-1, A), shape (Hk, A)",
                "dv": "dv should be the sum over n and s of dscores[n, s] * t[n, s]: shape (A,)",
            },
            "da = dscores[:, :, None] * v * (1 - t^2) feeds every gradient but dv: check it first "
            "(cache.score.t is already tanh'd)",
        ),
        Exercise(
            "general_score", 7, "general (bilinear) score backward", "minatt.ops.scores",
            "general_score_forward", "general_score_backward", ("q", "keys", "Wa"), _general_trials,
            {
                "dq": "dq should be dqW @ Wa^T: shape (N, Hq), where dqW[n] = sum over s of "
                      "dscores[n, s] * keys[n, s] (N, Hk)",
                "dkeys": "dkeys[n, s] should be dscores[n, s] * qW[n]: shape (N, S, Hk); qW = q @ Wa "
                         "is cache.dot.q",
                "dWa": "dWa should be q^T @ dqW: shape (Hq, Hk); check for a transpose",
            },
        ),
        Exercise(
            "attention", 8, "attention (context) backward", "minatt.ops.attention", "attention_forward",
            "attention_backward", ("scores", "values"), _attention_trials,
            {
                "dscores": "dscores is the softmax backward of dw = dweights + values @ dcontext "
                           "(dw[n, s] = values[n, s] . dcontext[n]): the weights feed both outputs, "
                           "and dweights may be None (zero)",
                "dvalues": "dvalues[n, s] should be weights[n, s] * dcontext[n]: shape (N, S, Hv); "
                           "padded positions (weight 0) get exactly 0",
            },
        ),
    ]
}


def get_exercise(name: str) -> Exercise:
    """The exercise called ``name``; :class:`ConfigError` listing the valid names otherwise."""
    if name not in EXERCISES:
        raise ConfigError(f"no exercise named {name!r}: choose one of {', '.join(EXERCISES)}")
    return EXERCISES[name]


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
# Loading the learner's code


class _LearnerError(Exception):
    """Internal: the learner's code could not be loaded or run; the message says where."""


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def find_exercise_file(name: str) -> Path:
    """``lessons/exercises/<name>.py`` under the current directory, else beside the minatt package."""
    candidates = [Path.cwd() / "lessons" / "exercises" / f"{name}.py",
                  Path(__file__).resolve().parent.parent / "lessons" / "exercises" / f"{name}.py"]
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError(
        f"no file for exercise {name!r}: looked for {candidates[0]} and {candidates[1]}; pass --file PATH"
    )


def _learner_frame(exc: BaseException, filename: str | None) -> str:
    """The learner's line in the traceback of ``exc`` (their code, not ours), formatted."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if filename and Path(f.filename).resolve() == Path(filename).resolve()]
    frame = own[-1] if own else (frames[-1] if frames else None)
    if frame is None:
        return ""
    where = f'  File "{_display(Path(frame.filename))}", line {frame.lineno}, in {frame.name}'
    return where + (f"\n    {frame.line}" if frame.line else "")


def load_module(path: Path) -> types.ModuleType:
    """Execute the learner's file as a fresh module (no bytecode written beside it)."""
    try:
        source = path.read_text()
    except OSError as exc:
        raise _LearnerError(f"cannot read {_display(path)}: {exc.strerror or exc}") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        line = (exc.text or "").rstrip()
        raise _LearnerError(
            f"syntax error in {_display(path)}, line {exc.lineno}: {exc.msg}" + (f"\n    {line.strip()}" if line else "")
        ) from None
    module = types.ModuleType(f"minatt_exercise_{path.stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses and pickling look their module up here
    try:
        exec(code, module.__dict__)  # noqa: S102 - running the learner's own file is the point
    except Exception as exc:  # noqa: BLE001 - any error in their file is reported, not raised
        raise _LearnerError(
            f"{_display(path)} raised {type(exc).__name__} while loading: {exc}\n{_learner_frame(exc, str(path))}"
        ) from None
    return module


def _resolve_function(spec: Exercise, path: str | Path | None, module: Any,
                      functions: Mapping[str, Callable] | None) -> tuple[Callable, str, str | None]:
    """The learner's backward, where to say it came from, and the file to find their frames in."""
    if functions is not None:
        if spec.function not in functions:
            raise _LearnerError(f"no {spec.function} among the functions given")
        fn = functions[spec.function]
        source = inspect.getsourcefile(fn) if inspect.isfunction(fn) else None
        return fn, f"{getattr(fn, '__module__', '?')}.{spec.function}", source
    if module is None:
        file = Path(path) if path is not None else find_exercise_file(spec.name)
        if not file.is_file():
            raise ConfigError(f"exercise file {file} does not exist")
        module = load_module(file)
    where = _display(Path(module.__file__)) if getattr(module, "__file__", None) else repr(module)
    fn = getattr(module, spec.function, None)
    if not callable(fn):
        params = ", ".join(inspect.signature(spec.reference()).parameters)
        raise _LearnerError(f"{where} defines no function {spec.function}({params}): keep the stub's name")
    return fn, where, getattr(module, "__file__", None)


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
        raise _LearnerError(
            f"your {spec.function} raised {type(exc).__name__}: {exc}\n{_learner_frame(exc, filename)}"
        ) from None
    n = len(spec.inputs)
    if n == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        raise _LearnerError(
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
        fn, shown, filename = _resolve_function(spec, path, module, functions)
        with use("numpy"), default_dtype("float64"):
            rng = numpy.random.default_rng(seed)
            trials = spec.trials(rng)
            per_trial = [_check_trial(spec, fn, t, filename, rng, seed) for t in trials]
    except _NotImplemented:
        message = f"not implemented yet: fill in {spec.function} in {shown}"
        return ExerciseReport(name, spec.function, shown, blank, message)
    except _LearnerError as exc:
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


# ---------------------------------------------------------------------------------------
# Command line


def list_exercises() -> str:
    """One line per exercise: name, chapter, what to write."""
    width = max(len(n) for n in EXERCISES)
    return "\n".join(
        f"{s.name.ljust(width)}  chapter {s.chapter}  {s.function}: {s.title}" for s in EXERCISES.values()
    )


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help=f"the exercise: {', '.join(EXERCISES)}")
    parser.add_argument("--file", metavar="PATH", help="your solution (default: lessons/exercises/NAME.py)")
    parser.add_argument("--list", action="store_true", help="list the exercises and exit")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``exercise`` on an argparse subparsers object; dispatch with ``args.func(args)``."""
    parser = subparsers.add_parser(
        "exercise", help="gradient-check your own backward pass (lessons/exercises)",
        description="Check a backward pass you wrote in lessons/exercises/NAME.py against finite differences.",
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the ``exercise`` command; 0 when every gradient passes, 1 otherwise (or after --list, 0)."""
    if args.list:
        print(list_exercises())
        return 0
    if not args.name:
        raise ConfigError(f"name an exercise: one of {', '.join(EXERCISES)} (or --list)")
    report = check_exercise(args.name, args.file)
    print(report.format())
    return report.exit_code


def main(argv: list[str] | None = None) -> int:
    """``python -m minatt.exercise ...``: the same as ``python -m minatt exercise ...``."""
    from minatt.cli import main as cli_main

    return cli_main(["exercise", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
