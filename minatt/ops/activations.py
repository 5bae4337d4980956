"""Elementwise nonlinearities, each with its derivative written from its own output.

    sigmoid(x) = 1 / (1 + exp(-x)) = (1 + tanh(x / 2)) / 2      d sigmoid = s * (1 - s)
    tanh(x)                                                      d tanh    = 1 - t^2

The tanh form of the sigmoid never overflows (``exp(-x)`` does for x < -88 in float32),
and both derivatives need only the forward output, which is all an RNN cache keeps.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import array_module
from minatt.validate import contract

Array = Any


@contract(x="...")
def sigmoid(x: Array) -> Array:
    """Logistic sigmoid, elementwise, stable for any x. Same shape and dtype as x."""
    xp = array_module(x)
    return 0.5 * xp.tanh(0.5 * x) + 0.5


@contract(s="...", ds="...")
def sigmoid_backward(ds: Array, s: Array) -> Array:
    """Gradient through s = sigmoid(x) given the output s: dx = ds * s * (1 - s)."""
    return ds * s * (1.0 - s)


@contract(t="...", dt="...")
def tanh_backward(dt: Array, t: Array) -> Array:
    """Gradient through t = tanh(x) given the output t: dx = dt * (1 - t^2)."""
    return dt * (1.0 - t**2)
