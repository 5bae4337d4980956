"""What an exercise is (:class:`Exercise`) and one input set it is checked on (:class:`Trial`).

Six kinds of exercise (:mod:`minatt.exercises.check`, :mod:`minatt.exercises.values`,
:mod:`minatt.exercises.model`):

    backward          write ``name_backward``; the checker hands it the library forward's cache
                      and gradient-checks what it returns
    forward           write a forward; its outputs are compared with the library's
    forward_backward  write the forward AND the backward, with a cache of your own design: the
                      forward's outputs are compared with the library's, then your backward,
                      given your cache, is gradient-checked
    decode            write a search loop; its tokens and attention are compared with the
                      library's on small fixed models
    model             write a whole model's ``loss_and_grads(params, batch)``: the loss is compared
                      with the library's, every parameter's gradient is checked
    overfit           write a training loop; run on your own model it must fit a tiny set

Hints come in tiers (:data:`Hint`): the first report names the wrong gradient and the kind of
mistake; ``--hint`` adds a pointer that does not give the answer away; ``--hint --hint`` the formula.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy

__all__ = ["HINT_LEVELS", "KINDS", "TOL", "VALUE_TOL", "Exercise", "Hint", "Trial", "tier"]

Array = Any
TOL = 1e-7  # gradients: the largest relative error that passes
VALUE_TOL = 1e-10  # outputs: the largest relative error that passes (a correct forward reaches ~1e-15)
KINDS = ("backward", "forward", "forward_backward", "decode", "model", "overfit")
Hint = tuple[str, str]  # (a pointer that does not give the answer away, the formula)
HINT_LEVELS = 2  # --hint once: the pointers; twice: the formulas


def tier(hint: Hint | None, level: int) -> str:
    """What ``hint`` says at ``level``: nothing at 0, the pointer at 1, pointer and formula from 2 on."""
    if hint is None or level <= 0:
        return ""
    pointer, formula = hint
    return pointer if level == 1 else f"{pointer}. {formula}"


@dataclass
class Trial:
    """One input set: the differentiable inputs (forward-arg order) and the rest (masks, ids).

    ``padded`` marks, per input name, the elements that are padding (host bool array shaped like
    the input): the feedback speaks of padding only there.
    """

    params: dict[str, Array]
    kwargs: dict[str, Any] = field(default_factory=dict)
    none_douts: tuple[int, ...] = ()  # outputs whose upstream gradient is passed as None
    padded: dict[str, numpy.ndarray] = field(default_factory=dict)
    about: str = ""  # says what the input set is when the shapes do not (a decoding model)

    def label(self) -> str:
        """e.g. ``x (2, 3), W (3, 4), b (4,), mask`` (the shapes of this input set)."""
        if self.about:
            return self.about
        parts = [f"{k} {tuple(v.shape)}" for k, v in self.params.items()]
        parts += [k for k, v in self.kwargs.items() if v is not None]
        return ", ".join(parts)


@dataclass(frozen=True)
class Exercise:
    """One exercise: the library op it rebuilds, the inputs to check, and a hint per gradient.

    ``inputs`` are the forward's differentiable inputs; for kind 'backward' and 'forward_backward'
    the learner returns one gradient per input, "d" + its name. ``outputs`` name the outputs
    compared with the library's (kinds 'forward', 'forward_backward' and 'decode').
    """

    name: str
    chapter: int
    title: str
    module: str  # the library module holding the reference function (and the forward)
    forward: str
    function: str  # what the learner writes (same name and arguments as the reference)
    inputs: tuple[str, ...]
    trials: Callable[[numpy.random.Generator], list[Trial]]
    hints: dict[str, Hint]  # per reported name: (pointer, formula)
    common_hint: Hint | None = None  # shown when every gradient fails
    outputs: tuple[str, ...] = ()
    level: str = "relative errors below 1e-8"  # what a correct answer reaches (CS231n style)
    kind: str = "backward"
    forward_module: str | None = None  # where the forward lives, when not in ``module``
    call: Callable | None = None  # call(fn, douts, cache) -> result: a backward not shaped fn(*douts, cache)
    gates: dict[str, str] = field(default_factory=dict)  # input -> its last axis's gate blocks, e.g. "ifgo"
    gate_hints: dict[str, Hint] = field(default_factory=dict)  # gate -> what to check when only it is wrong
    gate_groups: dict[str, Hint] = field(default_factory=dict)  # e.g. "ifg" -> what those gates share
    through_gates: tuple[str, ...] = ()  # gradients computed from the gated pre-activation gradient (da @ W^T)
    wrap: Callable | None = None  # kind 'forward': wrap(fn) is what the checker calls (fn's effect as outputs)
    returns_cache: bool = True  # kind 'forward': does the forward return a cache after its outputs?

    @property
    def grads(self) -> tuple[str, ...]:
        """The gradient names, in the order the backward returns them (none for 'forward', 'decode')."""
        if self.kind in ("forward", "decode", "overfit"):
            return ()
        return tuple(self.grad_name(name) for name in self.inputs)

    def grad_name(self, name: str) -> str:
        """The report's name for input ``name``'s gradient: "d" + name (a model's: grads['name'])."""
        return f"grads[{name!r}]" if self.kind == "model" else "d" + name

    @property
    def reported(self) -> tuple[str, ...]:
        """Every name the report has a line for: the compared outputs, then the gradients."""
        return self.outputs + self.grads

    def library_forward(self) -> Callable:
        """The library's forward (looked up at call time)."""
        return getattr(importlib.import_module(self.forward_module or self.module), self.forward)

    def reference(self) -> Callable:
        """The library's own function: the reference solution."""
        return getattr(importlib.import_module(self.module), self.function)

    def functions(self) -> tuple[str, ...]:
        """Every function the learner's file must define."""
        return (self.forward, self.function) if self.kind == "forward_backward" else (self.function,)

    def passing(self) -> str:
        """When the checker passes an answer, e.g. "gradients below 1e-7" (nothing for 'overfit': its level says)."""
        if self.kind == "decode":
            return f"tokens equal, attention below {_power(VALUE_TOL)}"
        parts = []
        if self.outputs and self.kind != "overfit":
            parts.append(f"{', '.join(self.outputs)} below {_power(VALUE_TOL)}")
        if self.grads:
            parts.append(f"gradients below {_power(TOL)}")
        return "; ".join(parts)


def _power(x: float) -> str:
    """1e-07 -> "1e-7", as the stubs and the README write it."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"
