"""GRU: one step, and a whole (masked) sequence, each with its hand-written backward.

Dimensions: N batch, T steps, D input, H hidden. PyTorch's formulation, gates r, z, n fused:
Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,); columns [0:H] = r, [H:2H] = z, [2H:3H] = n.

Forward, for one step:

    ax      = x @ Wx + bx,   ah = h_prev @ Wh + bh             (N, 3H)
    r, z    = sigmoid(ax_r + ah_r), sigmoid(ax_z + ah_z)        sigmoid(u) = (1 + tanh(u / 2)) / 2
    n       = tanh(ax_n + r * ah_n)
    h       = (1 - z) * n + z * h_prev  =  n + z * (h_prev - n)

Backward, given dh arriving at h:

    da_z    = dh * (h_prev - n) * z * (1 - z)
    da_nx   = dh * (1 - z) * (1 - n^2)                          gradient of ax_n
    da_nh   = da_nx * r                                         gradient of ah_n
    da_r    = da_nx * ah_n * r * (1 - r)
    dax     = [da_r, da_z, da_nx],   dah = [da_r, da_z, da_nh]  (N, 3H)
    dh_prev = dh * z + dah @ Wh^T,   dx = dax @ Wx^T
    dWx     = x^T dax,  dbx = sum of rows of dax,  dWh = h_prev^T dah,  dbh = sum of rows of dah

Layout, as in :mod:`minatt.ops.lstm`: gates live gate-major, (3, N, H) per step in the order
r, z, n, and the per-step gradients (4, N, H) as [da_nx, da_r, da_z, da_nh], so the h side is
the contiguous blocks [1:4]. The sigmoid and tanh are :mod:`minatt.ops.activations`' formulas,
evaluated in place.

Memory: the sequence cache keeps, per step and example, r, z, n (3H), ah_n (H) and h (H):
5H numbers, the least that needs no recomputation; h0 is copied in as h's first row; x and
the weights are references. The returned hs is a separate array, never a view of the cache.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.ops.lstm import blocks, time_major_padding, unblocks

__all__ = ["GRUCache", "GRUCellCache", "GRUStepCache", "gru_backward", "gru_cell_backward", "gru_cell_forward",
           "gru_forward", "gru_step_backward", "gru_step_forward"]

Array = Any
RZN = (0, 1, 2)  # the gates keep PyTorch's order
X_SIDE, H_SIDE = (1, 2, 0), (1, 2, 3)  # blocks of [da_nx, da_r, da_z, da_nh] that make dax and dah


def _cell_forward(g: Array, ah_n: Array, h_prev: Array, h: Array, tmp: Array) -> None:
    """One step in place. g (3, N, H) holds [(ax_r + ah_r) / 2, (ax_z + ah_z) / 2, ax_n] on entry
    and [r, z, n] on exit; ah_n (N, H) = h_prev @ Wh_n + bh_n; writes h (N, H); tmp is scratch."""
    xp = array_module(g)
    rz = g[:2]
    xp.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5  # sigmoid(u) = 0.5 * tanh(u / 2) + 0.5
    r, z, n = g
    xp.multiply(r, ah_n, out=tmp)
    n += tmp
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=tmp)
    tmp *= z
    xp.add(n, tmp, out=h)


def _cell_backward(dh: Array, g: Array, ah_n: Array, h_prev: Array, da: Array, dh_prev: Array,
                   tmp: Array) -> None:
    """One step's gradients in place: writes da (4, N, H) = [da_nx, da_r, da_z, da_nh] (an array or
    any four (N, H) arrays) and the direct part dh * z of dh_prev (N, H) (the caller adds
    dah @ Wh^T). dh is read only."""
    xp = array_module(dh)
    r, z, n = g
    da_nx, da_r, da_z, da_nh = da
    xp.subtract(h_prev, n, out=da_z)
    da_z *= dh
    xp.subtract(1.0, z, out=tmp)
    xp.multiply(dh, tmp, out=da_nx)
    da_z *= z
    da_z *= tmp
    xp.multiply(n, n, out=tmp)
    xp.subtract(1.0, tmp, out=tmp)
    da_nx *= tmp
    xp.multiply(da_nx, r, out=da_nh)
    xp.multiply(da_nx, ah_n, out=da_r)
    da_r *= r
    xp.subtract(1.0, r, out=tmp)
    da_r *= tmp
    xp.multiply(dh, z, out=dh_prev)


class GRUStepCache(NamedTuple):
    """What gru_step_backward needs: the step's inputs, weights, gates and ah_n."""

    x: Array  # (N, D)
    h_prev: Array  # (N, H)
    Wx: Array  # (D, 3H)
    Wh: Array  # (H, 3H)
    gates: Array  # (3, N, H) r, z, n
    ah_n: Array  # (N, H) h_prev @ Wh_n + bh_n


def gru_step_forward(x: Array, h: Array, Wx: Array, Wh: Array, bx: Array, bh: Array) -> tuple[Array, GRUStepCache]:
    """One GRU step; N batch, D input, H hidden.

    Inputs: x (N, D), h (N, H), Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,).
    Returns h_next (N, H), cache. Math: see the module docstring.
    """
    xp = array_module(x, h, Wx)
    H = Wh.shape[0]
    g = x @ Wx  # (N, 3H)
    g += bx
    g = blocks(g, RZN, H)  # (3, N, H)
    ah = h @ Wh  # (N, 3H)
    ah += bh
    ah = blocks(ah, RZN, H)  # (3, N, H)
    g[:2] += ah[:2]
    g[:2] *= 0.5
    h_next = xp.empty_like(ah[2])
    _cell_forward(g, ah[2], h, h_next, xp.empty_like(h_next))
    return h_next, GRUStepCache(x, h, Wx, Wh, g, ah[2].copy())


def gru_step_backward(dh_next: Array, cache: GRUStepCache) -> tuple[Array, ...]:
    """Backward of :func:`gru_step_forward`; N batch, D input, H hidden.

    Inputs: dh_next (N, H), cache. Returns dx (N, D), dh (N, H), dWx (D, 3H), dWh (H, 3H),
    dbx (3H,), dbh (3H,).
    """
    xp = array_module(cache.gates)
    N, H = cache.ah_n.shape
    da = xp.empty((4, N, H), dtype=cache.gates.dtype)
    dh = xp.empty((N, H), dtype=cache.gates.dtype)
    _cell_backward(dh_next, cache.gates, cache.ah_n, cache.h_prev, da, dh, xp.empty_like(dh))
    dax, dah = unblocks(da, X_SIDE), unblocks(da, H_SIDE)  # (N, 3H) each
    dh += dah @ cache.Wh.T
    return dax @ cache.Wx.T, dh, cache.x.T @ dax, cache.h_prev.T @ dah, dax.sum(axis=0), dah.sum(axis=0)


class GRUCache(NamedTuple):
    """What gru_backward needs: time-major gates, ah_n and states, the padding, references to x and the weights."""

    x: Array  # (N, T, D)
    Wx: Array  # (D, 3H)
    Wh: Array  # (H, 3H)
    gates: Array  # (3, T, N, H) r, z, n
    ah_n: Array  # (T, N, H) h_prev @ Wh_n + bh_n
    h: Array  # (T + 1, N, H) h0, then the hidden state after each step (carried through padding)
    pad: Array | None  # (T, N) bool, True at padding; None when no step is padded
    padded_steps: tuple[bool, ...]  # (T,) host flags: has step t a padded row?


def gru_forward(x: Array, h0: Array, Wx: Array, Wh: Array, bx: Array, bh: Array,
                mask: Array | None = None) -> tuple[Array, Array, GRUCache]:
    """A GRU over a batch of (padded) sequences; N batch, T steps, D input, H hidden.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,),
    mask (N, T) bool or None (True = real step). At a padded step h is carried through
    unchanged and the output row is zero.
    Returns hs (N, T, H), hT (N, H) the state after each row's last real step, cache.
    """
    xp = array_module(x, h0, Wx)
    N, T, D = x.shape
    H = Wh.shape[0]
    half = xp.asarray([0.5, 0.5, 1.0], dtype=x.dtype)[:, None, None]  # (3, 1, 1) halves r, z
    x_tm = x.transpose(1, 0, 2).reshape(T * N, D)  # (T*N, D) time-major copy
    G = xp.matmul(x_tm, blocks(Wx, RZN, H) * half)  # (3, T*N, H)
    bias = blocks(bx, RZN, H)  # (3, H)
    bias[:2] += blocks(bh, RZN, H)[:2]  # bh_r, bh_z join the projection; bh_n is gated by r
    G += bias[:, None] * half
    G = G.reshape(3, T, N, H)  # (3, T, N, H)
    Wh3 = blocks(Wh, RZN, H) * half  # (3, H, H)
    bh_n = bh[2 * H:]
    AHN = xp.empty((T, N, H), dtype=G.dtype)
    Hs = xp.empty((T + 1, N, H), dtype=G.dtype)
    Hs[0] = h0
    tmp3 = xp.empty((3, N, H), dtype=G.dtype)
    tmp = xp.empty((N, H), dtype=G.dtype)
    pad, padded_steps = time_major_padding(mask, T)
    for t in range(T):
        xp.matmul(Hs[t], Wh3, out=tmp3)
        g = G[:, t]  # (3, N, H) view
        g[:2] += tmp3[:2]
        xp.add(tmp3[2], bh_n, out=AHN[t])
        _cell_forward(g, AHN[t], Hs[t], Hs[t + 1], tmp)
        if padded_steps[t]:
            xp.copyto(Hs[t + 1], Hs[t], where=pad[t, :, None])
    hs = Hs[1:].transpose(1, 0, 2).copy()  # (N, T, H), never a view of the cache
    if pad is not None:
        xp.copyto(hs, 0.0, where=pad.T[..., None])
    return hs, Hs[T].copy(), GRUCache(x, Wx, Wh, G, AHN, Hs, pad, padded_steps)


def gru_backward(dhs: Array, dhT: Array | None, cache: GRUCache) -> tuple[Array, ...]:
    """Backward of :func:`gru_forward`; N batch, T steps, D input, H hidden.

    Inputs: dhs (N, T, H), dhT (N, H) or None (= zero), cache.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,).
    A padded step passes dh straight to the step before and gives zero dx.
    """
    x, Wx, Wh, G, AHN, Hs = cache.x, cache.Wx, cache.Wh, cache.gates, cache.ah_n, cache.h
    pad, padded_steps = cache.pad, cache.padded_steps
    xp = array_module(G)
    N, T, D = x.shape
    H = Wh.shape[0]
    dhs = dhs.transpose(1, 0, 2).copy()  # (T, N, H), ours to change
    if pad is not None:
        xp.copyto(dhs, 0.0, where=pad[..., None])  # the output is a constant zero at padding
    dh, dh_prev, tmp = (xp.zeros((N, H), dtype=G.dtype) for _ in range(3))
    if dhT is not None:
        dh[...] = dhT
    dG = xp.empty((4, T, N, H), dtype=G.dtype)  # [da_nx, da_r, da_z, da_nh] per step
    WhT3 = xp.ascontiguousarray(blocks(Wh, RZN, H).transpose(0, 2, 1))  # (3, H, H), contiguous: faster
    tmp3 = xp.empty((3, N, H), dtype=G.dtype)
    for t in range(T - 1, -1, -1):
        dh += dhs[t]
        da = dG[:, t]  # (4, N, H) view
        _cell_backward(dh, G[:, t], AHN[t], Hs[t], da, dh_prev, tmp)
        if padded_steps[t]:
            xp.copyto(da, 0.0, where=pad[t, :, None])
        xp.matmul(da[1:], WhT3, out=tmp3)
        xp.sum(tmp3, axis=0, out=tmp)
        dh_prev += tmp  # dh_prev = dh * z + dah @ Wh^T
        if padded_steps[t]:
            xp.copyto(dh_prev, dh, where=pad[t, :, None])
        dh, dh_prev = dh_prev, dh
    dax = unblocks(dG, X_SIDE).reshape(T * N, 3 * H)  # (T*N, 3H) time-major
    dah = unblocks(dG, H_SIDE).reshape(T * N, 3 * H)  # (T*N, 3H)
    x_tm = x.transpose(1, 0, 2).reshape(T * N, D)  # (T*N, D)
    dx = xp.ascontiguousarray((dax @ Wx.T).reshape(T, N, D).transpose(1, 0, 2))  # (N, T, D)
    dWh = Hs[:-1].reshape(T * N, H).T @ dah
    return dx, dh, x_tm.T @ dax, dWh, dax.sum(axis=0), dah.sum(axis=0)


# ---------------------------------------------------------------------------------------
# The cell alone: the caller owns the matrix products (a decoder with precomputed projections)


class GRUCellCache(NamedTuple):
    """What gru_cell_backward needs: the gates, ah_n and the previous state."""

    gates: Array  # (3, N, H) r, z, n
    ah_n: Array  # (N, H)
    h_prev: Array  # (N, H)


def gru_cell_forward(ax: Array, ah: Array, h_prev: Array) -> tuple[Array, GRUCellCache]:
    """The GRU nonlinearity of one step, given both projections; N batch, H hidden.

    Inputs: ax (3, N, H) = x @ Wx + bx and ah (3, N, H) = h_prev @ Wh + bh, GATE-MAJOR r, z, n
    (any strides), h_prev (N, H). Returns h (N, H), cache; ax and ah are not modified.

        r, z = sigmoid(ax[0] + ah[0]), sigmoid(ax[1] + ah[1]);  n = tanh(ax[2] + r * ah[2])
        h = n + z * (h_prev - n)
    """
    xp = array_module(ax, ah, h_prev)
    g = xp.empty(ax.shape, dtype=ax.dtype)  # (3, N, H)
    xp.add(ax[:2], ah[:2], out=g[:2])
    g[:2] *= 0.5
    g[2] = ax[2]
    ah_n = ah[2].copy()  # (N, H) ours: ah may be a caller's scratch buffer
    h = xp.empty_like(h_prev)
    _cell_forward(g, ah_n, h_prev, h, xp.empty_like(h))
    return h, GRUCellCache(g, ah_n, h_prev)


def gru_cell_backward(dh: Array, cache: GRUCellCache, out_x: Array | None = None,
                      out_h: Array | None = None) -> tuple[Array, Array, Array]:
    """Backward of :func:`gru_cell_forward`: dh (N, H) -> dax (3, N, H), dah (3, N, H), dh_prev (N, H)
    (dax, dah written into ``out_x``, ``out_h`` when given). dh_prev is the direct part dh * z;
    the caller adds dah @ Wh^T. dax and dah share their r and z blocks (da_r, da_z)."""
    xp = array_module(cache.gates)
    dax = xp.empty_like(cache.gates) if out_x is None else out_x
    dah = xp.empty_like(cache.gates) if out_h is None else out_h
    dh_prev = xp.empty_like(dh)
    # _cell_backward unpacks its da argument as (da_nx, da_r, da_z, da_nh): hand it the blocks directly
    _cell_backward(dh, cache.gates, cache.ah_n, cache.h_prev, (dax[2], dax[0], dax[1], dah[2]), dh_prev,
                   xp.empty_like(dh))
    dah[:2] = dax[:2]
    return dax, dah, dh_prev
