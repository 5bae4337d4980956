"""Gradient checking: prove a hand-written backward pass against finite differences.

A *case* is a function ``fn(params) -> (loss, grads)``: it runs a forward pass on the named
arrays in ``params``, reduces the output to a scalar ``loss`` and returns the analytic
gradients ``grads[name] = d loss / d params[name]`` from the hand-written backward pass.
For a single op the scalar is ``loss = sum(out * dout)`` with a fixed random ``dout``, so
the analytic gradient is exactly what ``op_backward(dout, cache)`` returns. A whole model's
``loss_and_grads`` already has this shape.

The numeric derivative is a centred difference of ``loss`` in float64. The default is the
fourth-order stencil, whose error shrinks like h^4 instead of h^2:

    order 2:  f'(x) ~ (f(x + h) - f(x - h)) / 2h                                 (h = 1e-6)
    order 4:  f'(x) ~ (8 (f(x + h) - f(x - h)) - (f(x + 2h) - f(x - 2h))) / 12h   (h = 1e-3)

The relative error between an analytic value a and a numeric value n is

    rel(a, n) = |a - n| / max(|a| + |n|, floor)

so two values that agree to k significant digits have rel ~ 10^-k whatever their scale, and
two exact zeros (a masked position) have rel = 0. An array passes when its largest rel is at
most ``tol`` (1e-7 by default for float64). The floor is what the finite difference itself can
resolve: a loss L, a sum of many rounded terms, is off by a few eps |L| (eps = 2.2e-16), and
the order-4 stencil adds four such values weighted 8, 8, 1 and 1 over 12h, so

    floor = max(1e-10, resolution / tol),     resolution = 4 eps * max(|L|, 1) / h

A gradient element smaller than the floor is therefore judged by its absolute error, which
must stay below the round-off (resolution); larger ones by their relative error.

Every array is checked one of three ways:

* ``full``:      every element perturbed in turn (arrays up to ``max_full`` elements);
* ``sampled``:   ``n_samples`` random elements (larger arrays);
* ``direction``: a random unit direction v for the whole array: compare the directional
  derivative (f(x + hv) - f(x - hv)) / 2h (same stencils) with sum(grad * v). One number
  that involves every element, so a bug anywhere in the array shows up. v has norm 1 so that
  a step moves x by h, as it moves one element: a standard normal v over n elements would move
  it by about sqrt(n) h, and the stencil's error, which grows like (step)^4, with it.

Strict keys: every parameter must have a gradient and every gradient a parameter. A missing or
extra one, or one of the wrong shape, is a failed result naming it (a backward that forgets
``db`` must not pass because nobody asked about ``b``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy

from minatt.backend import array_module, to_numpy

Array = Any
LossFn = Callable[[dict[str, Array]], tuple[float, dict[str, Array]]]

FLOOR = 1e-10
EPS = float(numpy.finfo(numpy.float64).eps)
DEFAULT_STEP = {2: 1e-6, 4: 1e-3}


def rel_error(analytic: Any, numeric: Any, floor: float = FLOOR) -> numpy.ndarray:
    """Elementwise |a - n| / max(|a| + |n|, floor), on the host in float64."""
    a = numpy.asarray(to_numpy(analytic), dtype=numpy.float64)
    n = numpy.asarray(to_numpy(numeric), dtype=numpy.float64)
    return numpy.abs(a - n) / numpy.maximum(numpy.abs(a) + numpy.abs(n), floor)


def resolution(loss: float, h: float) -> float:
    """The round-off error of a centred difference of a loss this size: 4 eps * max(|loss|, 1) / h."""
    return 4 * EPS * max(abs(float(loss)), 1.0) / h


def centred_difference(f: Callable[[float], float], h: float, order: int = 4) -> float:
    """d f(t) / dt at t = 0 from the centred stencil of the given order (2 or 4)."""
    if order == 2:
        return (f(h) - f(-h)) / (2 * h)
    if order == 4:
        return (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h)
    raise ValueError(f"order must be 2 or 4, not {order}")


def numerical_gradient(f: Callable[[Array], float], x: Array, h: float | None = None, order: int = 4) -> numpy.ndarray:
    """The full numeric gradient of a scalar function f of one array x (x is restored).

    For teaching and small arrays: it perturbs every element of x in place. Returns a host
    float64 array shaped like x.
    """
    h = DEFAULT_STEP[order] if h is None else h
    grad = numpy.zeros(x.shape, dtype=numpy.float64)
    for index in numpy.ndindex(*x.shape):
        grad[index] = _partial(lambda: f(x), x, index, h, order)
    return grad


def _partial(loss: Callable[[], float], x: Array, index: tuple, h: float, order: int) -> float:
    original = float(x[index])

    def shifted(t: float) -> float:
        x[index] = original + t
        return float(loss())

    try:
        return centred_difference(shifted, h, order)
    finally:
        x[index] = original


def _directional(loss: Callable[[], float], x: Array, v: Array, h: float, order: int) -> float:
    original = x.copy()

    def shifted(t: float) -> float:
        x[...] = original + t * v
        return float(loss())

    try:
        return centred_difference(shifted, h, order)
    finally:
        x[...] = original


@dataclass
class GradResult:
    """The outcome of checking one array: its worst element, both values, the verdict."""

    name: str
    method: str  # "full", "sampled" or "direction"; "missing", "extra" or "shape" for a key problem
    max_rel_error: float
    index: tuple | None  # the worst element (None for a direction check)
    analytic: float
    numeric: float
    tol: float
    op: str = ""
    problem: str = ""  # what is wrong with the gradient's key or shape (nothing was compared)

    @property
    def passed(self) -> bool:
        return bool(self.max_rel_error <= self.tol)

    def describe(self) -> str:
        """One line: which input, which index, analytic vs numeric, the verdict."""
        prefix = f"{self.op}: " if self.op else ""
        if self.problem:
            return f"{prefix}d{self.name}: {self.problem} FAIL"
        where = f"d{self.name}" + (str(list(self.index)) if self.index is not None else " (random direction)")
        verdict = "ok" if self.passed else "FAIL"
        return (
            f"{prefix}{where}: analytic {self.analytic:.9e} vs numeric {self.numeric:.9e}, "
            f"relative error {self.max_rel_error:.2e} (tol {self.tol:.0e}) {verdict}"
        )


def _key_problem(name: str, method: str, problem: str, tol: float, op: str) -> GradResult:
    """A failed result for a gradient that is missing, extra or of the wrong shape."""
    nan = float("nan")
    return GradResult(name, method, float("inf"), None, nan, nan, tol, op, problem)


def key_problems(params: dict[str, Array], grads: dict[str, Array], tol: float = 1e-7,
                 op: str = "") -> list[GradResult]:
    """Failed results for every parameter without a gradient, gradient without a parameter, and
    gradient whose shape is not its parameter's (empty when the keys and shapes match)."""
    problems = [_key_problem(k, "missing", f"no gradient for parameter {k!r}", tol, op)
                for k in params if k not in grads]
    problems += [_key_problem(k, "extra", f"gradient {k!r} has no matching parameter", tol, op)
                 for k in grads if k not in params]
    problems += [_key_problem(k, "shape", f"shape {tuple(g.shape)}, but {k} has shape {tuple(params[k].shape)}",
                              tol, op)
                 for k, g in grads.items() if k in params and tuple(g.shape) != tuple(params[k].shape)]
    return problems


class GradientCheckError(AssertionError):
    """Raised by :func:`assert_gradients` when an array fails; the message lists every failure."""


def check_gradients(
    fn: LossFn,
    params: dict[str, Array],
    *,
    names: list[str] | None = None,
    loss_only: Callable[[dict[str, Array]], float] | None = None,
    max_full: int = 512,
    n_samples: int = 64,
    n_directions: int = 2,
    h: float | None = None,
    order: int = 4,
    tol: float = 1e-7,
    seed: int = 0,
    op: str = "",
) -> list[GradResult]:
    """Check the analytic gradients of ``fn`` against centred differences, array by array.

    Args:
        fn: ``fn(params) -> (loss, grads)``, grads keyed like params.
        params: the float64 arrays to differentiate with respect to (perturbed in place, restored).
        names: which arrays to check numerically (default: all of them). Whatever
            ``names`` says, every parameter must have a gradient of its shape and every gradient
            a parameter: each that does not is a failed result (method "missing", "extra" or
            "shape") naming it.
        loss_only: optional cheaper ``f(params) -> loss`` for the perturbed evaluations.
        max_full: arrays with at most this many elements are checked element by element;
            larger ones on ``n_samples`` random elements (0 skips the element check).
        n_directions: random-direction checks per array, in addition to the above.
        h, order: step and stencil of the centred difference (see the module docstring).
        tol: the largest relative error that passes (elements below the floor
            ``resolution(loss, h) / tol`` are judged absolutely; see the module docstring).
        seed: seeds the choice of sampled elements and directions.
        op: a label copied into every result (the case's name).

    Returns:
        One :class:`GradResult` per array and method.
    """
    h = DEFAULT_STEP[order] if h is None else h
    for name, x in params.items():
        if str(x.dtype) != "float64":
            raise TypeError(
                f"gradient checks need float64, but {name!r} is {x.dtype}: "
                "build the inputs inside minatt.backend.default_dtype('float64')"
            )
    loss0, grads = fn(params)
    floor = max(FLOOR, resolution(loss0, h) / tol)
    grads = {k: numpy.asarray(to_numpy(g), dtype=numpy.float64) for k, g in grads.items()}
    loss = (lambda: loss_only(params)) if loss_only else (lambda: fn(params)[0])
    rng = numpy.random.default_rng(seed)
    results = key_problems(params, grads, tol, op)
    unusable = {r.name for r in results}
    for name in names or list(grads):  # in the order of grads: the samples drawn do not depend on params' order
        if name in unusable:
            continue
        if name not in params:
            raise KeyError(f"names: {name!r} is not a parameter; parameters: {', '.join(params)}")
        x, g = params[name], grads[name]
        if x.size <= max_full:
            indices, method = list(numpy.ndindex(*x.shape)), "full"
        else:
            flat = rng.choice(x.size, size=min(n_samples, x.size), replace=False)
            indices, method = [numpy.unravel_index(i, x.shape) for i in flat], "sampled"
        if indices:
            numeric = numpy.array([_partial(loss, x, i, h, order) for i in indices])
            analytic = numpy.array([g[i] for i in indices])
            errors = rel_error(analytic, numeric, floor)
            worst = int(numpy.argmax(errors))
            idx = tuple(int(j) for j in indices[worst])
            results.append(
                GradResult(name, method, float(errors[worst]), idx, float(analytic[worst]),
                           float(numeric[worst]), tol, op)
            )
        for _ in range(n_directions if x.size else 0):
            v_host = rng.standard_normal(x.shape)
            v_host /= numpy.linalg.norm(v_host)  # a unit direction: the step moves x by h, as for one element
            v = array_module(x).asarray(v_host)
            numeric_d = _directional(loss, x, v, h, order)
            analytic_d = float(numpy.sum(g * v_host))
            err = float(rel_error(analytic_d, numeric_d, floor))
            results.append(GradResult(name, "direction", err, None, analytic_d, numeric_d, tol, op))
    return results


def assert_gradients(fn: LossFn, params: dict[str, Array], **kwargs: Any) -> list[GradResult]:
    """:func:`check_gradients`, raising :class:`GradientCheckError` naming every failure."""
    results = check_gradients(fn, params, **kwargs)
    failures = [r for r in results if not r.passed]
    if failures:
        raise GradientCheckError("gradient check failed:\n" + "\n".join(r.describe() for r in failures))
    return results


def project(outputs: Array | tuple, douts: Array | tuple) -> float:
    """The scalar sum(out * dout) over one or more outputs: its gradient w.r.t. out is dout."""
    if not isinstance(outputs, tuple):
        outputs, douts = (outputs,), (douts,)
    return float(sum(float((o * d).sum()) for o, d in zip(outputs, douts)))


# ---------------------------------------------------------------------------------------
# The registry: every op's gradient check, swept by `python -m minatt gradcheck`.


@dataclass
class Case:
    """A ready-to-check gradient case: ``fn(params) -> (loss, grads)`` and its float64 params."""

    fn: LossFn
    params: dict[str, Array]


REGISTRY: dict[str, Callable[[numpy.random.Generator], Case]] = {}


def register(name: str) -> Callable:
    """Decorator: add ``make_case(rng) -> Case`` to the registry under ``name``."""

    def wrap(make_case: Callable[[numpy.random.Generator], Case]) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"gradient case {name!r} is registered twice")
        REGISTRY[name] = make_case
        return make_case

    return wrap


def format_table(results: list[GradResult]) -> str:
    """A plain-text table: op, input, method, max relative error, verdict."""
    rows = [("op", "input", "method", "max rel error", "verdict")]
    for r in results:
        rows.append((r.op, r.name, r.method, f"{r.max_rel_error:.2e}", "ok" if r.passed else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
