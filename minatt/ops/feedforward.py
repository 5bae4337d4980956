"""ReLU and the Transformer's position-wise feed-forward block. D model size, F inner size.

    relu(z) = max(z, 0)                      d relu = dr * (z > 0)

The block applies the same two-layer network to every position on its own:

    z   = x @ W1 + b1                        (..., F)
    r   = relu(z)                            (..., F)
    out = r @ W2 + b2                        (..., D)

    dr  = dout @ W2^T;  dW2 = r^T dout;  db2 = sum(dout)     (minatt.ops.linear)
    dz  = dr * (r > 0)
    dx  = dz @ W1^T;    dW1 = x^T dz;    db1 = sum(dz)

ReLU's derivative is read from its output: r > 0 exactly where z > 0. At z = 0 it is taken
as 0, as PyTorch does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.ops.linear import AffineCache, affine_backward, affine_forward
from minatt.validate import Cache, contract

Array = Any


@contract(z="...")
def relu(z: Array) -> Array:
    """max(z, 0), elementwise. Same shape and dtype as z."""
    xp = array_module(z)
    return xp.maximum(z, 0)


@contract(r="...", dr="...")
def relu_backward(dr: Array, r: Array) -> Array:
    """Gradient through r = relu(z) given the output r: dz = dr * (r > 0)."""
    return dr * (r > 0)


class FeedForwardCache(NamedTuple):
    """What feedforward_backward needs: both affine caches and the ReLU's output."""

    inner: AffineCache  # z = x @ W1 + b1
    r: Array  # (..., F) relu(z)
    outer: AffineCache  # out = r @ W2 + b2


@contract(x="... D", W1="D F", b1="F", W2="F D", b2="D")
def feedforward_forward(
    x: Array, W1: Array, b1: Array, W2: Array, b2: Array
) -> tuple[Array, FeedForwardCache]:
    """The position-wise feed-forward block. D model size, F inner size, any leading axes.

    Args:
        x: (..., D); W1: (D, F); b1: (F,); W2: (F, D); b2: (D,).

    Returns:
        out (..., D), cache.

    Math:
        out = relu(x @ W1 + b1) @ W2 + b2
    """
    z, inner = affine_forward(x, W1, b1)  # (..., F)
    r = relu(z)  # (..., F)
    out, outer = affine_forward(r, W2, b2)  # (..., D)
    return out, FeedForwardCache(inner, r, outer)


@contract(cache=Cache(FeedForwardCache, r="... F"), dout="... D")
def feedforward_backward(dout: Array, cache: FeedForwardCache) -> tuple[Array, Array, Array, Array, Array]:
    """Backward of feedforward_forward. dout (..., D).

    Returns dx (..., D), dW1 (D, F), db1 (F,), dW2 (F, D), db2 (D,).
    """
    dr, dW2, db2 = affine_backward(dout, cache.outer)  # (..., F)
    dz = relu_backward(dr, cache.r)  # (..., F)
    dx, dW1, db1 = affine_backward(dz, cache.inner)  # (..., D)
    return dx, dW1, db1, dW2, db2
