"""The plain tanh RNN: one step and its hand-written backward, the recurrence the LSTM improves on.

Dimensions: N batch, D input, H hidden. Wx (D, H), Wh (H, H), b (H,).

Forward, for one step:

    a = x @ Wx + h_prev @ Wh + b                              (N, H)
    h_next = tanh(a)

Backward, given dh_next arriving at h_next:

    da = tanh_backward(dh_next, h_next) = dh_next * (1 - h_next**2)      tanh' written with its output
    dx = da @ Wx^T,  dh_prev = da @ Wh^T,  dWx = x^T da,  dWh = h_prev^T da,  db = sum of the rows of da

Going back one step multiplies the gradient by diag(1 - h_next**2) and then by Wh^T; over T steps
that is a product of T such factors, which shrinks (or grows) geometrically unless Wh is just
right: the vanishing (or exploding) gradient. minatt's models use the LSTM and the GRU; this
op is here to read their gradients against (lessons, chapter on the LSTM).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.ops.activations import tanh_backward
from minatt.validate import Cache, contract

__all__ = ["RNNStepCache", "rnn_step_backward", "rnn_step_forward"]

Array = Any


class RNNStepCache(NamedTuple):
    """What rnn_step_backward needs: the step's input x (N, D), h_prev (N, H), the weights, and h_next (N, H)."""

    x: Array
    h_prev: Array
    Wx: Array
    Wh: Array
    h_next: Array


@contract(x="N D", h_prev="N H", Wx="D H", Wh="H H", b="H")
def rnn_step_forward(x: Array, h_prev: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, RNNStepCache]:
    """One tanh RNN step; N batch, D input, H hidden.

    Inputs: x (N, D), h_prev (N, H), Wx (D, H), Wh (H, H), b (H,).
    Returns h_next (N, H), cache.
    """
    xp = array_module(x, h_prev, Wx)
    a = x @ Wx + h_prev @ Wh + b  # (N, H)
    h_next = xp.tanh(a)
    return h_next, RNNStepCache(x, h_prev, Wx, Wh, h_next)


@contract(cache=Cache(RNNStepCache, x="N D", h_prev="N H"), dh_next="N H")
def rnn_step_backward(dh_next: Array, cache: RNNStepCache) -> tuple[Array, Array, Array, Array, Array]:
    """Backward of :func:`rnn_step_forward`: dh_next (N, H) -> dx (N, D), dh_prev (N, H), dWx (D, H),
    dWh (H, H), db (H,)."""
    x, h_prev, Wx, Wh, h_next = cache
    da = tanh_backward(dh_next, h_next)  # (N, H)
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db
