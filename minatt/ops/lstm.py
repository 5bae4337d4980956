"""LSTM: the cell, one step, and a whole (masked) sequence, each with its hand-written backward.

Dimensions: N batch, T steps, D input, H hidden. Gates in PyTorch's order i, f, g, o, fused:
Wx (D, 4H), Wh (H, 4H), b (4H,); columns [0:H] = i, [H:2H] = f, [2H:3H] = g, [3H:4H] = o.

Forward, for one step (``a`` are the pre-activations, a_i its columns [0:H], and so on):

    a  = x @ Wx + h_prev @ Wh + b                             (N, 4H)
    i  = sigmoid(a_i)
    f  = sigmoid(a_f)
    g  = tanh(a_g)
    o  = sigmoid(a_o)
    c_next = f * c_prev + i * g                               (N, H)
    tc     = tanh(c_next)
    h_next = o * tc

Backward, given dh_next and dc_next arriving at h_next and c_next:

    do      = dh_next * tc
    dc_t    = dc_next + tanh_backward(dh_next * o, tc)        the whole gradient at c_next
    di      = dc_t * g
    df      = dc_t * c_prev
    dg      = dc_t * i
    dc_prev = dc_t * f
    da      = [sigmoid_backward(di, i), sigmoid_backward(df, f), tanh_backward(dg, g), sigmoid_backward(do, o)]
    dx = da @ Wx^T,  dh_prev = da @ Wh^T,  dWx = x^T da,  dWh = h_prev^T da,  db = sum of the rows of da

:func:`lstm_cell_forward` and :func:`lstm_cell_backward` are those lines without the matrix
products; the single step, the masked sequence and the decoders all call them. The sequence
adds two pieces of structure, each named where it is used: every x_t is projected by ONE
matrix product before the time loop, and the per-step da are stacked and turned into dx, dWx,
dWh and db by one product (or sum) each after it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module, fusable
from minatt.ops import fused
from minatt.ops.activations import sigmoid, sigmoid_backward, tanh_backward
from minatt.ops.linear import affine_forward
from minatt.ops.masks import padded_steps
from minatt.validate import Cache, contract

__all__ = ["LSTMCache", "LSTMCellCache", "LSTMStepCache", "lstm_backward", "lstm_cell_backward",
           "lstm_cell_forward", "lstm_forward", "lstm_step_backward", "lstm_step_forward", "lstm_step_input_backward",
           "lstm_weights_backward"]

Array = Any


class LSTMCellCache(NamedTuple):
    """What lstm_cell_backward needs: the four gates, the previous cell and tanh(c_next), each (N, H)."""

    i: Array
    f: Array
    g: Array
    o: Array
    c_prev: Array
    tc: Array


def lstm_cell_forward(a: Array, c_prev: Array) -> tuple[Array, Array, LSTMCellCache]:
    """The LSTM cell, given its pre-activations; N batch, H hidden.

    Inputs: a (N, 4H) = x @ Wx + h_prev @ Wh + b, columns i, f, g, o; c_prev (N, H).
    Returns h_next (N, H), c_next (N, H), cache.
    """
    if fusable(a):
        return fused.lstm_cell_forward(a, c_prev)  # these lines as one GPU kernel: ops/fused_cells.py
    xp = array_module(a)
    H = c_prev.shape[-1]
    a_i, a_f, a_g, a_o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]  # (N, H) column blocks
    i = sigmoid(a_i)
    f = sigmoid(a_f)
    g = xp.tanh(a_g)
    o = sigmoid(a_o)
    c_next = f * c_prev + i * g
    tc = xp.tanh(c_next)
    h_next = o * tc
    return h_next, c_next, LSTMCellCache(i, f, g, o, c_prev, tc)


def lstm_cell_backward(dh_next: Array, dc_next: Array | None, cache: LSTMCellCache) -> tuple[Array, Array]:
    """Backward of :func:`lstm_cell_forward`: dh_next (N, H), dc_next (N, H) or None (zero)
    -> da (N, 4H), dc_prev (N, H)."""
    if fusable(dh_next):
        return fused.lstm_cell_backward(dh_next, dc_next, cache)  # these lines as one GPU kernel: ops/fused_cells.py
    xp = array_module(dh_next)
    i, f, g, o, c_prev, tc = cache
    dc_next = xp.zeros_like(dh_next) if dc_next is None else dc_next
    do = dh_next * tc
    dc_t = dc_next + tanh_backward(dh_next * o, tc)
    di = dc_t * g
    df = dc_t * c_prev
    dg = dc_t * i
    dc_prev = dc_t * f
    da = xp.concatenate([sigmoid_backward(di, i), sigmoid_backward(df, f), tanh_backward(dg, g),
                         sigmoid_backward(do, o)], axis=-1)  # (N, 4H)
    return da, dc_prev


class LSTMStepCache(NamedTuple):
    """What lstm_step_backward needs: the step's inputs and weights, and the cell's cache."""

    x: Array  # (N, D)
    h_prev: Array  # (N, H)
    Wx: Array  # (D, 4H)
    Wh: Array  # (H, 4H)
    cell: LSTMCellCache


@contract(x="N D", h_prev="N H", c_prev="N H", Wx="D 4H", Wh="H 4H", b="... 4H")
def lstm_step_forward(x: Array, h_prev: Array, c_prev: Array, Wx: Array, Wh: Array,
                      b: Array) -> tuple[Array, Array, LSTMStepCache]:
    """One LSTM step; N batch, D input, H hidden.

    Inputs: x (N, D), h_prev (N, H), c_prev (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,) or (N, 4H):
    a decoder passes there the projection of the inputs it knew before its loop.
    Returns h_next (N, H), c_next (N, H), cache. Math: see the module docstring.
    """
    a = x @ Wx + h_prev @ Wh + b  # (N, 4H)
    h_next, c_next, cell = lstm_cell_forward(a, c_prev)
    return h_next, c_next, LSTMStepCache(x, h_prev, Wx, Wh, cell)


@contract(cache=Cache(LSTMStepCache, x="N D", h_prev="N H"), dh_next="N H?", dc_next="N H?")
def lstm_step_backward(dh_next: Array | None, dc_next: Array | None, cache: LSTMStepCache) -> tuple[Array, ...]:
    """Backward of :func:`lstm_step_forward`; N batch, D input, H hidden.

    Inputs: dh_next (N, H), dc_next (N, H) (either may be None, meaning zero), cache.
    Returns dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    dx, dh_prev, dc_prev, da = lstm_step_input_backward(dh_next, dc_next, cache)
    dWx, dWh, db = lstm_weights_backward(cache.x, cache.h_prev, da)
    return dx, dh_prev, dc_prev, dWx, dWh, db


def lstm_step_input_backward(dh_next: Array | None, dc_next: Array | None,
                             cache: LSTMStepCache) -> tuple[Array, Array, Array, Array]:
    """The half of :func:`lstm_step_backward` that the step before must wait for:
    -> dx (N, D), dh_prev (N, H), dc_prev (N, H), da (N, 4H). The weight gradients can wait
    (:func:`lstm_weights_backward`), so a loop can get them for all its steps in one product."""
    xp = array_module(cache.h_prev)
    dh_next = xp.zeros_like(cache.h_prev) if dh_next is None else dh_next
    da, dc_prev = lstm_cell_backward(dh_next, dc_next, cache.cell)
    dx = da @ cache.Wx.T
    dh_prev = da @ cache.Wh.T
    return dx, dh_prev, dc_prev, da


def lstm_weights_backward(x: Array, h_prev: Array, da: Array) -> tuple[Array, Array, Array]:
    """The weight gradients of a = x @ Wx + h_prev @ Wh + b, summed over every leading axis:
    x (..., D), h_prev (..., H), da (..., 4H) -> dWx (D, 4H), dWh (H, 4H), db (4H,).

    One step passes (N, .) arrays; a loop passes all its steps stacked, one product each."""
    da = da.reshape(-1, da.shape[-1])  # (rows, 4H)
    rows = da.shape[0]
    dWx = x.reshape(rows, x.shape[-1]).T @ da
    dWh = h_prev.reshape(rows, h_prev.shape[-1]).T @ da
    db = da.sum(axis=0)
    return dWx, dWh, db


class LSTMCache(NamedTuple):
    """What lstm_backward needs: x and the weights, every h_prev and cell cache, the padding."""

    x: Array  # (N, T, D)
    Wx: Array  # (D, 4H)
    Wh: Array  # (H, 4H)
    h_prev: Array  # (N, T, H) the state each step started from
    cells: list  # T LSTMCellCache
    pad: Array | None  # (N, T, 1) bool, True at padding; None when no step is padded
    flags: tuple[bool, ...]  # (T,) host flags: has step t a padded row?


@contract(x="N T D", h0="N H", c0="N H", Wx="D 4H", Wh="H 4H", b="4H", mask="N T bool?")
def lstm_forward(x: Array, h0: Array, c0: Array, Wx: Array, Wh: Array, b: Array,
                 mask: Array | None = None) -> tuple[Array, tuple[Array, Array], LSTMCache]:
    """An LSTM over a batch of (padded) sequences; N batch, T steps, D input, H hidden.

    Inputs: x (N, T, D), h0 (N, H), c0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,),
    mask (N, T) bool or None (True = real step). At a padded step the state is carried
    through unchanged and the output row is zero.
    Returns hs (N, T, H), (hT (N, H), cT (N, H)) the states after each row's last real step, cache.
    """
    xp = array_module(x, h0, Wx)
    N, T, H = x.shape[0], x.shape[1], Wh.shape[0]
    pad, flags = padded_steps(mask, like=x)  # a host mask's flags are free
    # Structure: every x_t is known before the loop, so x @ Wx + b is ONE matrix product.
    ax, _ = affine_forward(x, Wx, b)  # (N, T, 4H)
    h_prev, c_prev, cells = h0, c0, []
    hs = xp.empty((N, T, H), dtype=ax.dtype)  # every step's output
    hs_prev = xp.empty_like(hs)  # and the state it started from
    for t in range(T):
        hs_prev[:, t] = h_prev
        h_next, c_next, cell = lstm_cell_forward(ax[:, t] + h_prev @ Wh, c_prev)
        if pad is not None and flags[t]:
            h_next = xp.where(pad[:, t], h_prev, h_next)  # padding carries the state through
            c_next = xp.where(pad[:, t], c_prev, c_next)
        hs[:, t] = h_next
        cells.append(cell)
        h_prev, c_prev = h_next, c_next
    if pad is not None:
        hs = xp.where(pad, 0.0, hs)  # the output is zero at padding
    return hs, (h_prev, c_prev), LSTMCache(x, Wx, Wh, hs_prev, cells, pad, flags)  # past the loop: hT, cT


@contract(cache=Cache(LSTMCache, x="N T D", Wh="H 4H"), dhs="N T H", dhT="N H?", dcT="N H?")
def lstm_backward(dhs: Array, dhT: Array | None, dcT: Array | None, cache: LSTMCache) -> tuple[Array, ...]:
    """Backward of :func:`lstm_forward`; N batch, T steps, D input, H hidden.

    Inputs: dhs (N, T, H), dhT (N, H) or None, dcT (N, H) or None (None = zero), cache.
    Returns dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    A padded step passes dh_next and dc_next straight to the step before and gives zero dx.
    """
    x, Wx, Wh, pad, flags = cache.x, cache.Wx, cache.Wh, cache.pad, cache.flags
    xp = array_module(dhs)
    N, T, D = x.shape
    H = Wh.shape[0]
    dh_next = xp.zeros((N, H), dtype=dhs.dtype) if dhT is None else dhT
    dc_next = xp.zeros((N, H), dtype=dhs.dtype) if dcT is None else dcT
    if pad is not None:
        dhs = xp.where(pad, 0.0, dhs)  # the output is a constant zero at padding
    dA = xp.empty((N, T, 4 * H), dtype=dhs.dtype)  # every step's da
    for t in range(T - 1, -1, -1):
        dh_t = dh_next + dhs[:, t]  # the whole gradient at step t's h: the next step's and the output's
        da, dc_prev = lstm_cell_backward(dh_t, dc_next, cache.cells[t])
        dh_prev = da @ Wh.T
        if pad is not None and flags[t]:
            p = pad[:, t]  # (N, 1): padding passes dh_t, dc_next through and has no da
            da = xp.where(p, 0.0, da)
            dh_prev = xp.where(p, dh_t, dh_prev)
            dc_prev = xp.where(p, dc_next, dc_prev)
        dA[:, t] = da
        dh_next, dc_next = dh_prev, dc_prev
    # Structure: the per-step da, stacked, give dx, dWx, dWh and db in one product (or sum) each.
    dx = (dA.reshape(N * T, 4 * H) @ Wx.T).reshape(N, T, D)  # rows folded: one 2-D product
    dWx, dWh, db = lstm_weights_backward(x, cache.h_prev, dA)
    return dx, dh_next, dc_next, dWx, dWh, db  # past step 0: dh0, dc0
