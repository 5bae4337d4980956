"""LSTM: one step, and a whole (masked) sequence, each with its hand-written backward.

Dimensions: N batch, T steps, D input, H hidden. Gates in PyTorch's order i, f, g, o, fused:
Wx (D, 4H), Wh (H, 4H), b (4H,); columns [0:H] = i, [H:2H] = f, [2H:3H] = g, [3H:4H] = o.

Forward, for one step (``a`` are the pre-activations):

    a       = x @ Wx + b + h_prev @ Wh                        (N, 4H)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)       sigmoid(u) = (1 + tanh(u / 2)) / 2
    g       = tanh(a_g)
    c       = f * c_prev + i * g                              (N, H)
    tc      = tanh(c)
    h       = o * tc

Backward, given dh and dc arriving at h and c:

    dc_t    = dc + dh * o * (1 - tc^2)                        the whole gradient at c
    da_o    = dh * tc * o * (1 - o)
    da_i    = dc_t * g * i * (1 - i)
    da_f    = dc_t * c_prev * f * (1 - f)
    da_g    = dc_t * i * (1 - g^2)
    dc_prev = dc_t * f
    dh_prev = da @ Wh^T,  dx = da @ Wx^T,  dWx = x^T da,  dWh = h_prev^T da,  db = sum over rows of da

Layout. Inside, the gates live gate-major, (4, N, H) per step in the order i, f, o, g
(``IFOG``), so every gate is one contiguous block and the three sigmoids sit side by side:
one in-place ``tanh`` over all four blocks, then ``0.5 * t + 0.5`` on the first three, whose
pre-activations were halved (the formula of :func:`minatt.ops.activations.sigmoid`; the
``s * (1 - s)`` and ``1 - t^2`` below are its ``sigmoid_backward`` and ``tanh_backward``,
written in place). The sequence version halves the weights instead, projects every input
with one (batched) matmul before the time loop, keeps time-major buffers, and collects the
per-step ``da`` so that dx, dWx, dWh and db are one matmul (or sum) each after the loop.

Memory: the sequence cache keeps, per step and example, i, f, o, g (4H), c (H), tanh(c) (H)
and h (H): 7H numbers, the least that needs no recomputation (6H, plus tanh(c) to spare a
tanh pass in backward); h0 is copied in as h's first row; x, c0 and the weights are references.
The returned hs is a separate (N, T, H) array, never a view of the cache.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module

__all__ = ["LSTMCache", "LSTMCellCache", "LSTMStepCache", "lstm_backward", "lstm_cell_backward",
           "lstm_cell_forward", "lstm_forward", "lstm_step_backward", "lstm_step_forward"]

Array = Any
IFOG = (0, 1, 3, 2)  # internal gate k is PyTorch's column block IFOG[k] (the permutation is its own inverse)


def blocks(a: Array, order: tuple[int, ...], H: int) -> Array:
    """(..., K*H) -> (K, ..., H), a gate-major copy whose block k is column block order[k]."""
    xp = array_module(a)
    return xp.stack([a[..., j * H:(j + 1) * H] for j in order])


def unblocks(a: Array, order: tuple[int, ...]) -> Array:
    """(K, ..., H) -> (..., K*H): column block j is a[order[j]] (a copy)."""
    xp = array_module(a)
    return xp.concatenate([a[k] for k in order], axis=-1)


def reorder_blocks(a: Array, order: tuple[int, ...], H: int) -> Array:
    """(..., K*H) -> (..., K*H): column block k is a's column block order[k] (one copy).

    The same as ``unblocks(blocks(a, order, H), range(K))`` without the gate-major copy in between.
    """
    xp = array_module(a)
    return xp.concatenate([a[..., j * H:(j + 1) * H] for j in order], axis=-1)


def _cell_forward(a: Array, c_prev: Array, c: Array, tc: Array, h: Array) -> None:
    """One step in place. a (4, N, H) holds [a_i / 2, a_f / 2, a_o / 2, a_g] on entry and the
    gates [i, f, o, g] on exit; c, tc, h (N, H) are written."""
    xp = array_module(a)
    xp.tanh(a, out=a)
    s = a[:3]
    s *= 0.5
    s += 0.5  # sigmoid(u) = 0.5 * tanh(u / 2) + 0.5
    i, f, o, g = a
    xp.multiply(i, g, out=tc)  # tc is scratch until it holds tanh(c)
    xp.multiply(f, c_prev, out=c)
    c += tc
    xp.tanh(c, out=tc)
    xp.multiply(o, tc, out=h)


def _cell_backward(dh: Array, dc: Array, gates: Array, c_prev: Array, tc: Array,
                   da: Array, dc_prev: Array, tmp: Array) -> None:
    """One step's gradients in place: writes da (4, N, H) = [da_i, da_f, da_o, da_g] and
    dc_prev (N, H) (dh_prev = da @ Wh^T is the caller's). dh, dc are read only; tmp is scratch."""
    xp = array_module(da)
    i, f, o, g = gates
    da_i, da_f, da_o, da_g = da
    xp.multiply(dh, o, out=da_o)
    xp.multiply(tc, tc, out=tmp)
    xp.subtract(1.0, tmp, out=tmp)
    tmp *= da_o
    xp.add(dc, tmp, out=dc_prev)  # dc_prev holds dc_t until the last line
    da_o *= tc
    xp.subtract(1.0, o, out=tmp)
    da_o *= tmp
    xp.multiply(dc_prev, g, out=da_i)
    da_i *= i
    xp.subtract(1.0, i, out=tmp)
    da_i *= tmp
    xp.multiply(dc_prev, c_prev, out=da_f)
    da_f *= f
    xp.subtract(1.0, f, out=tmp)
    da_f *= tmp
    xp.multiply(dc_prev, i, out=da_g)
    xp.multiply(g, g, out=tmp)
    xp.subtract(1.0, tmp, out=tmp)
    da_g *= tmp
    dc_prev *= f


class LSTMStepCache(NamedTuple):
    """What lstm_step_backward needs: the step's inputs, weights, gates and tanh(c)."""

    x: Array  # (N, D)
    h_prev: Array  # (N, H)
    c_prev: Array  # (N, H)
    Wx: Array  # (D, 4H)
    Wh: Array  # (H, 4H)
    gates: Array  # (4, N, H) i, f, o, g
    tc: Array  # (N, H) tanh(c)


def lstm_step_forward(x: Array, h: Array, c: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, Array, LSTMStepCache]:
    """One LSTM step; N batch, D input, H hidden.

    Inputs: x (N, D), h (N, H), c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
    Returns h_next (N, H), c_next (N, H), cache. Math: see the module docstring.
    """
    xp = array_module(x, h, Wx)
    H = Wh.shape[0]
    a = x @ Wx  # (N, 4H)
    a += b
    a += h @ Wh
    a = blocks(a, IFOG, H)  # (4, N, H)
    a[:3] *= 0.5
    c_next, tc, h_next = (xp.empty_like(a[0]) for _ in range(3))
    _cell_forward(a, c, c_next, tc, h_next)
    return h_next, c_next, LSTMStepCache(x, h, c, Wx, Wh, a, tc)


def lstm_step_backward(dh_next: Array | None, dc_next: Array | None, cache: LSTMStepCache) -> tuple[Array, ...]:
    """Backward of :func:`lstm_step_forward`; N batch, D input, H hidden.

    Inputs: dh_next (N, H), dc_next (N, H) (either may be None, meaning zero), cache.
    Returns dx (N, D), dh (N, H), dc (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    xp = array_module(cache.gates)
    zero = xp.zeros_like(cache.tc)
    da = xp.empty_like(cache.gates)  # (4, N, H)
    dc = xp.empty_like(zero)
    _cell_backward(zero if dh_next is None else dh_next, zero if dc_next is None else dc_next,
                   cache.gates, cache.c_prev, cache.tc, da, dc, xp.empty_like(zero))
    da = unblocks(da, IFOG)  # (N, 4H)
    return da @ cache.Wx.T, da @ cache.Wh.T, dc, cache.x.T @ da, cache.h_prev.T @ da, da.sum(axis=0)


class LSTMCache(NamedTuple):
    """What lstm_backward needs: time-major gates and states, the padding, references to x, c0 and the weights."""

    x: Array  # (N, T, D)
    c0: Array  # (N, H)
    Wx: Array  # (D, 4H)
    Wh: Array  # (H, 4H)
    gates: Array  # (4, T, N, H) i, f, o, g
    c: Array  # (T, N, H) cell state after each step (carried through padding)
    tc: Array  # (T, N, H) tanh(c) (padded rows: unused)
    h: Array  # (T + 1, N, H) h0, then the hidden state after each step (carried through padding)
    pad: Array | None  # (T, N) bool, True at padding; None when no step is padded
    padded_steps: tuple[bool, ...]  # (T,) host flags: has step t a padded row?


def time_major_padding(mask: Array | None, T: int) -> tuple[Array | None, tuple[bool, ...]]:
    """From mask (N, T) bool (True = real) or None: pad (T, N) (None if nothing is padded) and
    the host flags padded_steps (T,)."""
    if mask is None:
        return None, (False,) * T
    xp = array_module(mask)
    pad = ~xp.asarray(mask, dtype=bool).T  # (T, N)
    steps = tuple(bool(p) for p in pad.any(axis=1).tolist())
    return (xp.ascontiguousarray(pad) if any(steps) else None), steps


def lstm_forward(x: Array, h0: Array, c0: Array, Wx: Array, Wh: Array, b: Array,
                 mask: Array | None = None) -> tuple[Array, tuple[Array, Array], LSTMCache]:
    """An LSTM over a batch of (padded) sequences; N batch, T steps, D input, H hidden.

    Inputs: x (N, T, D), h0 (N, H), c0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,),
    mask (N, T) bool or None (True = real step). At a padded step h and c are carried
    through unchanged and the output row is zero.
    Returns hs (N, T, H), (hT (N, H), cT (N, H)) the states after each row's last real step, cache.
    """
    xp = array_module(x, h0, Wx)
    N, T, D = x.shape
    H = Wh.shape[0]
    half = xp.asarray([0.5, 0.5, 0.5, 1.0], dtype=x.dtype)[:, None, None]  # (4, 1, 1) halves i, f, o
    x_tm = x.transpose(1, 0, 2).reshape(T * N, D)  # (T*N, D) time-major copy
    G = xp.matmul(x_tm, blocks(Wx, IFOG, H) * half)  # (4, T*N, H)
    G += blocks(b, IFOG, H)[:, None] * half
    G = G.reshape(4, T, N, H)  # (4, T, N, H)
    Wh4 = blocks(Wh, IFOG, H) * half  # (4, H, H)
    C = xp.empty((T, N, H), dtype=G.dtype)
    TC = xp.empty_like(C)
    Hs = xp.empty((T + 1, N, H), dtype=G.dtype)
    Hs[0] = h0
    tmp = xp.empty((4, N, H), dtype=G.dtype)
    pad, padded_steps = time_major_padding(mask, T)
    c = c0
    for t in range(T):
        xp.matmul(Hs[t], Wh4, out=tmp)
        a = G[:, t]  # (4, N, H) view
        a += tmp
        _cell_forward(a, c, C[t], TC[t], Hs[t + 1])
        if padded_steps[t]:
            p = pad[t, :, None]  # (N, 1)
            xp.copyto(Hs[t + 1], Hs[t], where=p)
            xp.copyto(C[t], c, where=p)
        c = C[t]
    hs = Hs[1:].transpose(1, 0, 2).copy()  # (N, T, H), never a view of the cache
    if pad is not None:
        xp.copyto(hs, 0.0, where=pad.T[..., None])
    cache = LSTMCache(x, c0, Wx, Wh, G, C, TC, Hs, pad, padded_steps)
    return hs, (Hs[T].copy(), c.copy()), cache


def lstm_backward(dhs: Array, dhT: Array | None, dcT: Array | None, cache: LSTMCache) -> tuple[Array, ...]:
    """Backward of :func:`lstm_forward`; N batch, T steps, D input, H hidden.

    Inputs: dhs (N, T, H), dhT (N, H) or None, dcT (N, H) or None (None = zero), cache.
    Returns dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    A padded step passes dh and dc straight to the step before and gives zero dx.
    """
    x, c0, Wx, Wh, G = cache.x, cache.c0, cache.Wx, cache.Wh, cache.gates
    C, TC, Hs, pad, padded_steps = cache.c, cache.tc, cache.h, cache.pad, cache.padded_steps
    xp = array_module(G)
    N, T, D = x.shape
    H = Wh.shape[0]
    dhs = dhs.transpose(1, 0, 2).copy()  # (T, N, H), ours to change
    if pad is not None:
        xp.copyto(dhs, 0.0, where=pad[..., None])  # the output is a constant zero at padding
    dh, dh_prev, dc, dc_prev, tmp = (xp.zeros((N, H), dtype=G.dtype) for _ in range(5))
    if dhT is not None:
        dh[...] = dhT
    if dcT is not None:
        dc[...] = dcT
    dG = xp.empty_like(G)  # (4, T, N, H) gradients of the pre-activations
    WhT4 = xp.ascontiguousarray(blocks(Wh, IFOG, H).transpose(0, 2, 1))  # (4, H, H); a contiguous
    # copy: a small per-step matmul is ~25% slower with a transposed operand
    tmp4 = xp.empty((4, N, H), dtype=G.dtype)
    for t in range(T - 1, -1, -1):
        dh += dhs[t]
        da = dG[:, t]  # (4, N, H) view
        _cell_backward(dh, dc, G[:, t], C[t - 1] if t else c0, TC[t], da, dc_prev, tmp)
        p = pad[t, :, None] if padded_steps[t] else None  # (N, 1): the rows padded at step t
        if p is not None:
            xp.copyto(da, 0.0, where=p)
            xp.copyto(dc_prev, dc, where=p)
        xp.matmul(da, WhT4, out=tmp4)
        xp.sum(tmp4, axis=0, out=dh_prev)  # dh_prev = da @ Wh^T
        if p is not None:
            xp.copyto(dh_prev, dh, where=p)
        dh, dh_prev, dc, dc_prev = dh_prev, dh, dc_prev, dc
    dG = unblocks(dG, IFOG).reshape(T * N, 4 * H)  # (T*N, 4H) time-major, PyTorch's gate order
    x_tm = x.transpose(1, 0, 2).reshape(T * N, D)  # (T*N, D)
    dx = xp.ascontiguousarray((dG @ Wx.T).reshape(T, N, D).transpose(1, 0, 2))  # (N, T, D)
    dWh = Hs[:-1].reshape(T * N, H).T @ dG
    return dx, dh, dc, x_tm.T @ dG, dWh, dG.sum(axis=0)


# ---------------------------------------------------------------------------------------
# The cell alone: the caller owns the matrix products (a decoder with precomputed projections)


class LSTMCellCache(NamedTuple):
    """What lstm_cell_backward needs: the gates, the previous cell and tanh(c)."""

    gates: Array  # (4, N, H) i, f, o, g
    c_prev: Array  # (N, H)
    tc: Array  # (N, H) tanh(c)


def lstm_cell_forward(a: Array, c_prev: Array) -> tuple[Array, Array, LSTMCellCache]:
    """The LSTM nonlinearity of one step, given its pre-activations; N batch, H hidden.

    Inputs: a (4, N, H) the pre-activations x @ Wx + h_prev @ Wh + b, GATE-MAJOR in the order
    i, f, o, g (``IFOG``; any strides: a view of an (N, 4H) matmul output works), c_prev (N, H).
    Returns h (N, H), c (N, H), cache; a is not modified.

        i, f, o = sigmoid(a[0]), sigmoid(a[1]), sigmoid(a[2]);  g = tanh(a[3])
        c = f * c_prev + i * g;  h = o * tanh(c)
    """
    xp = array_module(a, c_prev)
    half = xp.asarray((0.5, 0.5, 0.5, 1.0), dtype=a.dtype)[:, None, None]  # (4, 1, 1)
    gates = xp.empty(a.shape, dtype=a.dtype)  # (4, N, H) contiguous, whatever a's strides
    xp.multiply(a, half, out=gates)  # a copy with i, f, o halved
    c, tc, h = (xp.empty_like(c_prev) for _ in range(3))
    _cell_forward(gates, c_prev, c, tc, h)
    return h, c, LSTMCellCache(gates, c_prev, tc)


def lstm_cell_backward(dh: Array, dc: Array | None, cache: LSTMCellCache,
                       out: Array | None = None) -> tuple[Array, Array]:
    """Backward of :func:`lstm_cell_forward`: dh, dc (N, H) (dc None = zero) -> da (4, N, H)
    (written into ``out`` when given, e.g. a view of a (T, N, 4H) buffer), dc_prev (N, H).

    The math is the step's (module docstring) without the matrix products: those are the caller's.
    """
    xp = array_module(cache.gates)
    da = xp.empty_like(cache.gates) if out is None else out
    dc_prev, tmp = xp.empty_like(cache.tc), xp.empty_like(cache.tc)
    _cell_backward(dh, xp.zeros_like(dh) if dc is None else dc, cache.gates, cache.c_prev, cache.tc, da,
                   dc_prev, tmp)
    return da, dc_prev
