"""Softmax over the last axis, with an optional mask of positions to ignore.

    m  = max over the real positions of x          (0 for a row with none)
    e  = exp(x - m) at real positions, 0 at masked ones
    p  = e / sum(e)                                (a row with no real position: all zeros)
    dx = p * (dp - sum(p * dp))                    (sums over the last axis)

Subtracting the row maximum keeps ``exp`` from overflowing. Masked positions are filled with
``-inf`` before the exponential, so they come out as exact zeros, and because ``p`` is zero
there the backward formula gives them an exact zero gradient too, whatever ``dp`` holds.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module, fusable
from minatt.ops import fused
from minatt.validate import Cache, contract

Array = Any


class SoftmaxCache(NamedTuple):
    """What the backward pass needs: the probabilities alone (zeros at masked positions)."""

    p: Array  # same shape as x


@contract(x="... S", mask="... S bool?")
def softmax_forward(x: Array, mask: Array | None = None) -> tuple[Array, SoftmaxCache]:
    """Softmax over the last axis (S positions) of x, ignoring positions where mask is False.

    Shapes (any leading dims ..., S on the last axis):
        x:    (..., S) float
        mask: (..., S) bool like x; True = real, False = ignored (optional). An op calling
              softmax_forward (unchecked) may pass one that broadcasts to x, as attention does
        p:    (..., S) like x; sums to 1 over each row's real positions, exactly 0 elsewhere;
              a row with no real position is all zeros (never NaN, no warning)

    Math:
        m = max(x[mask]);  e = exp(x - m) * mask;  p = e / sum(e)
    """
    if fusable(x):
        return fused.softmax_forward(x, mask)  # these lines as one GPU kernel: ops/fused_attention.py
    xp = array_module(x)
    filled = x if mask is None else xp.where(xp.asarray(mask, dtype=bool), x, -xp.inf)  # -inf where ignored
    m = filled.max(axis=-1, keepdims=True)  # (..., 1): -inf for a fully masked row
    m = xp.where(m == -xp.inf, 0.0, m)  # any finite shift will do for a fully masked row
    e = xp.exp(filled - m)  # (..., S): exp(-inf) = 0 exactly at ignored positions
    total = e.sum(axis=-1, keepdims=True)  # (..., 1): 0 for a fully masked row
    p = e / xp.where(total > 0, total, 1.0)  # a fully masked row stays all zeros
    return p, SoftmaxCache(p=p)


@contract(cache=Cache(SoftmaxCache, p="... S"), dp="... S")
def softmax_backward(dp: Array, cache: SoftmaxCache) -> Array:
    """Gradient through p = softmax(x): dx = p * (dp - sum(p * dp)), shaped (..., S) like dp.

    Masked positions (p = 0) get dx = 0 exactly, and so does a fully masked row.
    """
    if fusable(dp):
        return fused.softmax_backward(dp, cache)  # these lines as one GPU kernel: ops/fused_attention.py
    p = cache.p
    pdp = (p * dp).sum(axis=-1, keepdims=True)  # (..., 1): sum_i p_i dp_i
    dx = p * (dp - pdp)
    return dx
