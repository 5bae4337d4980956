"""GRU: the cell, one step, and a whole (masked) sequence, each with its hand-written backward.

Dimensions: N batch, T steps, D input, H hidden. PyTorch's formulation, gates r, z, n fused:
Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,); columns [0:H] = r, [H:2H] = z, [2H:3H] = n.

Forward, for one step (ax_r is columns [0:H] of ax, and so on):

    ax = x @ Wx + bx                                          (N, 3H)
    ah = h_prev @ Wh + bh                                     (N, 3H)
    r  = sigmoid(ax_r + ah_r)
    z  = sigmoid(ax_z + ah_z)
    n  = tanh(ax_n + r * ah_n)
    h_next = (1 - z) * n + z * h_prev

Backward, given dh_next arriving at h_next:

    dn      = dh_next * (1 - z)
    dz      = dh_next * (h_prev - n)
    da_nx   = tanh_backward(dn, n)                            the gradient of ax_n (and of the whole tanh argument)
    dr      = da_nx * ah_n
    da_r    = sigmoid_backward(dr, r)
    da_z    = sigmoid_backward(dz, z)
    da_nh   = da_nx * r                                       the gradient of ah_n
    dax = [da_r, da_z, da_nx],   dah = [da_r, da_z, da_nh]     (N, 3H)
    dh_prev = dh_next * z + dah @ Wh^T,   dx = dax @ Wx^T
    dWx = x^T dax,  dbx = sum of the rows of dax,  dWh = h_prev^T dah,  dbh = sum of the rows of dah

:func:`gru_cell_forward` and :func:`gru_cell_backward` are those lines without the matrix
products; the single step, the masked sequence and the decoders all call them. The sequence
adds two pieces of structure, each named where it is used: every x_t is projected by ONE
matrix product before the time loop, and the per-step dax and dah are stacked and turned into
dx, dWx, dWh, dbx and dbh by one product (or sum) each after it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module, fusable
from minatt.ops import fused
from minatt.ops.activations import sigmoid, sigmoid_backward, tanh_backward
from minatt.ops.linear import affine_forward
from minatt.ops.masks import padded_steps
from minatt.validate import Cache, contract

__all__ = ["GRUCache", "GRUCellCache", "GRUStepCache", "gru_backward", "gru_cell_backward", "gru_cell_forward",
           "gru_forward", "gru_step_backward", "gru_step_forward", "gru_step_input_backward", "gru_weights_backward"]

Array = Any


class GRUCellCache(NamedTuple):
    """What gru_cell_backward needs: the three gates, ah_n and the previous state, each (N, H)."""

    r: Array
    z: Array
    n: Array
    ah_n: Array  # h_prev @ Wh_n + bh_n, before r multiplies it
    h_prev: Array


def gru_cell_forward(ax: Array, ah: Array, h_prev: Array) -> tuple[Array, GRUCellCache]:
    """The GRU cell, given both projections; N batch, H hidden.

    Inputs: ax (N, 3H) = x @ Wx + bx, ah (N, 3H) = h_prev @ Wh + bh, columns r, z, n;
    h_prev (N, H). Returns h_next (N, H), cache.
    """
    if fusable(ax):
        return fused.gru_cell_forward(ax, ah, h_prev)  # these lines as one GPU kernel: ops/fused_cells.py
    xp = array_module(ax)
    H = h_prev.shape[-1]
    ax_r, ax_z, ax_n = ax[:, :H], ax[:, H:2 * H], ax[:, 2 * H:]  # (N, H) column blocks
    ah_r, ah_z, ah_n = ah[:, :H], ah[:, H:2 * H], ah[:, 2 * H:]
    r = sigmoid(ax_r + ah_r)
    z = sigmoid(ax_z + ah_z)
    n = xp.tanh(ax_n + r * ah_n)
    h_next = (1 - z) * n + z * h_prev
    return h_next, GRUCellCache(r, z, n, ah_n.copy(), h_prev)  # ah_n copied: a view would keep all of ah


def gru_cell_backward(dh_next: Array, cache: GRUCellCache) -> tuple[Array, Array, Array]:
    """Backward of :func:`gru_cell_forward`: dh_next (N, H) -> dax (N, 3H), dah (N, 3H), and
    dh_direct = dh_next * z (N, H), the part of dh_prev that skips Wh (the caller adds dah @ Wh^T)."""
    if fusable(dh_next):
        return fused.gru_cell_backward(dh_next, cache)  # these lines as one GPU kernel: ops/fused_cells.py
    xp = array_module(dh_next)
    r, z, n, ah_n, h_prev = cache
    dn = dh_next * (1 - z)
    dz = dh_next * (h_prev - n)
    da_nx = tanh_backward(dn, n)
    dr = da_nx * ah_n
    da_r = sigmoid_backward(dr, r)
    da_z = sigmoid_backward(dz, z)
    da_nh = da_nx * r
    dax = xp.concatenate([da_r, da_z, da_nx], axis=-1)  # (N, 3H)
    dah = xp.concatenate([da_r, da_z, da_nh], axis=-1)  # (N, 3H)
    return dax, dah, dh_next * z


class GRUStepCache(NamedTuple):
    """What gru_step_backward needs: the step's inputs and weights, and the cell's cache."""

    x: Array  # (N, D)
    Wx: Array  # (D, 3H)
    Wh: Array  # (H, 3H)
    cell: GRUCellCache  # holds h_prev


@contract(x="N D", h_prev="N H", Wx="D 3H", Wh="H 3H", bx="... 3H", bh="3H")
def gru_step_forward(x: Array, h_prev: Array, Wx: Array, Wh: Array, bx: Array,
                     bh: Array) -> tuple[Array, GRUStepCache]:
    """One GRU step; N batch, D input, H hidden.

    Inputs: x (N, D), h_prev (N, H), Wx (D, 3H), Wh (H, 3H), bx (3H,) or (N, 3H), bh (3H,):
    a decoder passes as bx the projection of the inputs it knew before its loop.
    Returns h_next (N, H), cache. Math: see the module docstring.
    """
    ax = x @ Wx + bx  # (N, 3H)
    ah = h_prev @ Wh + bh  # (N, 3H)
    h_next, cell = gru_cell_forward(ax, ah, h_prev)
    return h_next, GRUStepCache(x, Wx, Wh, cell)


@contract(cache=Cache(GRUStepCache, x="N D", Wh="H 3H"), dh_next="N H")
def gru_step_backward(dh_next: Array, cache: GRUStepCache) -> tuple[Array, ...]:
    """Backward of :func:`gru_step_forward`; N batch, D input, H hidden.

    Inputs: dh_next (N, H), cache. Returns dx (N, D), dh_prev (N, H), dWx (D, 3H), dWh (H, 3H),
    dbx (3H,), dbh (3H,).
    """
    dx, dh_prev, dax, dah = gru_step_input_backward(dh_next, cache)
    dWx, dWh, dbx, dbh = gru_weights_backward(cache.x, cache.cell.h_prev, dax, dah)
    return dx, dh_prev, dWx, dWh, dbx, dbh


def gru_step_input_backward(dh_next: Array, cache: GRUStepCache) -> tuple[Array, Array, Array, Array]:
    """The half of :func:`gru_step_backward` that the step before must wait for:
    -> dx (N, D), dh_prev (N, H), dax (N, 3H), dah (N, 3H). The weight gradients can wait
    (:func:`gru_weights_backward`), so a loop can get them for all its steps in one product."""
    dax, dah, dh_direct = gru_cell_backward(dh_next, cache.cell)
    dh_prev = dh_direct + dah @ cache.Wh.T
    dx = dax @ cache.Wx.T
    return dx, dh_prev, dax, dah


def gru_weights_backward(x: Array, h_prev: Array, dax: Array, dah: Array) -> tuple[Array, Array, Array, Array]:
    """The weight gradients of ax = x @ Wx + bx and ah = h_prev @ Wh + bh, summed over every
    leading axis: x (..., D), h_prev (..., H), dax, dah (..., 3H) -> dWx (D, 3H), dWh (H, 3H),
    dbx (3H,), dbh (3H,). One step passes (N, .) arrays; a loop passes all its steps stacked."""
    dax = dax.reshape(-1, dax.shape[-1])  # (rows, 3H)
    dah = dah.reshape(-1, dah.shape[-1])
    rows = dax.shape[0]
    dWx = x.reshape(rows, x.shape[-1]).T @ dax
    dWh = h_prev.reshape(rows, h_prev.shape[-1]).T @ dah
    dbx = dax.sum(axis=0)
    dbh = dah.sum(axis=0)
    return dWx, dWh, dbx, dbh


class GRUCache(NamedTuple):
    """What gru_backward needs: x and the weights, every cell cache (each holds its h_prev), the padding."""

    x: Array  # (N, T, D)
    Wx: Array  # (D, 3H)
    Wh: Array  # (H, 3H)
    cells: list  # T GRUCellCache: 5H numbers per step and example (r, z, n, ah_n, h_prev)
    pad: Array | None  # (N, T, 1) bool, True at padding; None when no step is padded
    flags: tuple[bool, ...]  # (T,) host flags: has step t a padded row?


@contract(x="N T D", h0="N H", Wx="D 3H", Wh="H 3H", bx="3H", bh="3H", mask="N T bool?")
def gru_forward(x: Array, h0: Array, Wx: Array, Wh: Array, bx: Array, bh: Array,
                mask: Array | None = None) -> tuple[Array, Array, GRUCache]:
    """A GRU over a batch of (padded) sequences; N batch, T steps, D input, H hidden.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,),
    mask (N, T) bool or None (True = real step). At a padded step the state is carried
    through unchanged and the output row is zero.
    Returns hs (N, T, H), hT (N, H) the state after each row's last real step, cache.
    """
    xp = array_module(x, h0, Wx)
    N, T, H = x.shape[0], x.shape[1], Wh.shape[0]
    pad, flags = padded_steps(mask, like=x)  # a host mask's flags are free
    # Structure: every x_t is known before the loop, so x @ Wx + bx is ONE matrix product.
    ax, _ = affine_forward(x, Wx, bx)  # (N, T, 3H)
    h_prev, cells = h0, []
    hs = xp.empty((N, T, H), dtype=ax.dtype)  # every step's output
    for t in range(T):
        h_next, cell = gru_cell_forward(ax[:, t], h_prev @ Wh + bh, h_prev)  # the cell keeps h_prev
        if pad is not None and flags[t]:
            h_next = xp.where(pad[:, t], h_prev, h_next)  # padding carries the state through
        hs[:, t] = h_next
        cells.append(cell)
        h_prev = h_next
    if pad is not None:
        hs = xp.where(pad, 0.0, hs)  # the output is zero at padding
    return hs, h_prev, GRUCache(x, Wx, Wh, cells, pad, flags)  # past the loop: hT


@contract(cache=Cache(GRUCache, x="N T D", Wh="H 3H"), dhs="N T H", dhT="N H?")
def gru_backward(dhs: Array, dhT: Array | None, cache: GRUCache) -> tuple[Array, ...]:
    """Backward of :func:`gru_forward`; N batch, T steps, D input, H hidden.

    Inputs: dhs (N, T, H), dhT (N, H) or None (= zero), cache.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,).
    A padded step passes dh_next straight to the step before and gives zero dx.
    """
    x, Wx, Wh, pad, flags = cache.x, cache.Wx, cache.Wh, cache.pad, cache.flags
    xp = array_module(dhs)
    N, T, D = x.shape
    H = Wh.shape[0]
    dh_next = xp.zeros((N, H), dtype=dhs.dtype) if dhT is None else dhT
    if pad is not None:
        dhs = xp.where(pad, 0.0, dhs)  # the output is a constant zero at padding
    dAx = xp.empty((N, T, 3 * H), dtype=dhs.dtype)  # every step's dax
    dAh = xp.empty_like(dAx)  # and dah
    hs_prev = xp.empty((N, T, H), dtype=dhs.dtype)  # and the state it started from (kept by its cell)
    for t in range(T - 1, -1, -1):
        hs_prev[:, t] = cache.cells[t].h_prev
        dh_t = dh_next + dhs[:, t]  # the whole gradient at step t's h: the next step's and the output's
        dax, dah, dh_direct = gru_cell_backward(dh_t, cache.cells[t])
        if pad is not None and flags[t]:
            p = pad[:, t]  # (N, 1): padding passes dh_t through and has no dax, dah
            dax = xp.where(p, 0.0, dax)
            dah = xp.where(p, 0.0, dah)
            dh_direct = xp.where(p, dh_t, dh_direct)
        dh_prev = dh_direct + dah @ Wh.T
        dAx[:, t], dAh[:, t] = dax, dah
        dh_next = dh_prev
    # Structure: the per-step dax and dah, stacked, give dx and the weight gradients in one product (or sum) each.
    dx = (dAx.reshape(N * T, 3 * H) @ Wx.T).reshape(N, T, D)  # rows folded: one 2-D product
    dWx, dWh, dbx, dbh = gru_weights_backward(x, hs_prev, dAx, dAh)
    return dx, dh_next, dWx, dWh, dbx, dbh  # past step 0: dh0
