"""The registry of exercises: what each one asks for, the inputs it is checked on, a hint per gradient.

Each exercise is one of the library's backward functions with its body taken out
(:class:`Exercise`: the op's module, its forward, the backward the learner writes, the
differentiable inputs). Its trials are the input sets the checker (:mod:`minatt.exercises.check`)
runs: small random float64 arrays, several shapes, padding masks where the op takes one.
Adding an exercise is one entry in :data:`EXERCISES` and a stub in ``lessons/exercises/``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy

from minatt.backend import randn
from minatt.errors import ConfigError

__all__ = ["EXERCISES", "Exercise", "Trial", "get_exercise"]

Array = Any


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
            "(both paths), then the gate derivatives s * (1 - s) for i, f, o and 1 - g^2 for g; the gates are "
            "cache.cell.i, .f, .g, .o, and da's columns follow Wx's order i, f, g, o",
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
                "dq": "dq[n] should be the sum over s of dscores[n, s] * kW[n, s]: shape (N, Hq); "
                      "kW = keys @ Wa^T is cache.score.keys",
                "dkeys": "dkeys should be dkW @ Wa: shape (N, S, Hk), where dkW[n, s] = dscores[n, s] * q[n] "
                         "(N, S, Hq) is the gradient of kW",
                "dWa": "dWa should be dkW^T @ keys with batch and source folded together: "
                       "dkW.reshape(-1, Hq).T @ keys.reshape(-1, Hk), shape (Hq, Hk); check for a transpose",
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
