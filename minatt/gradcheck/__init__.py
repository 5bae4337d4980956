"""Gradient checking: the checker, and the registry of cases that proves every op's backward.

    checker            finite differences, check_gradients, the Case type and @register
    basic_cases        activations, the affine map, softmax, cross-entropy, the embedding
    rnn_cases          the tanh RNN step, the LSTM and the GRU: cells, steps, masked sequences
    attention_cases    the score functions and attention, with their padding paths
    transformer_cases  self-attention, layer norm, the feed-forward block, the encoder layer
    model_cases        whole models (check_model over COMBOS): imported on demand, not registered

Importing this package registers every op's case (the cases modules import only the checker,
so nothing imports in a circle); ``python -m minatt gradcheck`` sweeps :func:`registry`.
"""

from __future__ import annotations

from typing import Any

import numpy

from minatt.backend import default_dtype
from minatt.gradcheck import attention_cases, basic_cases, rnn_cases, transformer_cases  # noqa: F401 (they register)
from minatt.gradcheck.checker import (
    DEFAULT_STEP,
    EPS,
    FLOOR,
    REGISTRY,
    Case,
    GradientCheckError,
    GradResult,
    assert_gradients,
    centred_difference,
    check_gradients,
    format_table,
    key_problems,
    numerical_gradient,
    project,
    register,
    rel_error,
    resolution,
)

__all__ = ["DEFAULT_STEP", "EPS", "FLOOR", "REGISTRY", "Case", "GradResult", "GradientCheckError", "assert_gradients",
           "build_case", "centred_difference", "check_gradients", "format_table", "key_problems", "numerical_gradient",
           "project", "register", "registry", "rel_error", "resolution", "run_case"]


def registry() -> dict[str, Any]:
    """Every registered case, by name: ``make_case(rng) -> Case``."""
    return dict(sorted(REGISTRY.items()))


def build_case(name: str, seed: int = 0) -> Case:
    """Build the registered case ``name`` in float64 on the current backend."""
    cases = registry()
    if name not in cases:
        raise KeyError(f"no gradient case named {name!r}; known: {', '.join(cases)}")
    with default_dtype("float64"):
        return cases[name](numpy.random.default_rng(seed))


def run_case(name: str, seed: int = 0, **kwargs: Any) -> list[GradResult]:
    """Build and check one registered case; every result is labelled with the case name."""
    case = build_case(name, seed)
    return check_gradients(case.fn, case.params, op=name, seed=seed, **kwargs)
