"""Reference solutions built from the library's pieces, for exercises the library has no one function for.

    rnn_forward, rnn_backward        the tanh RNN over a sequence: minatt.ops.rnn's step in a loop
    bidirectional_forward/_backward  the bidirectional encoder's two LSTMs and its reversal, as in
                                     minatt.model.nn.Encoder (tests/test_exercises.py checks they agree)
    adam_update                      one step of minatt.optim.Adam, its state passed in and out
    clip_outputs                     minatt.optim.clip_grad_norm's (in-place) effect as outputs

N batch, T steps, D input, H hidden (per direction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.model.nn import reverse_index
from minatt.ops.lstm import lstm_backward, lstm_forward
from minatt.ops.rnn import rnn_step_backward, rnn_step_forward
from minatt.optim import Adam, clip_grad_norm

__all__ = [
    "BidirectionalCache",
    "adam_update",
    "bidirectional_backward",
    "bidirectional_forward",
    "clip_forward",
    "clip_outputs",
    "rnn_backward",
    "rnn_forward",
]

Array = Any


def rnn_forward(x: Array, h0: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, list]:
    """x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,) -> hs (N, T, H), cache (the T step caches)."""
    xp = array_module(x)
    h_prev, hs, steps = h0, [], []
    for t in range(x.shape[1]):
        h_next, step = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)
        hs.append(h_next)
        steps.append(step)
        h_prev = h_next
    return xp.stack(hs, axis=1), steps


def rnn_backward(dhs: Array, cache: list) -> tuple[Array, ...]:
    """dhs (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,)."""
    xp = array_module(dhs)
    dxs, dh_next, total = [], xp.zeros_like(dhs[:, 0]), None
    for t in reversed(range(dhs.shape[1])):
        dx, dh_prev, *dweights = rnn_step_backward(dh_next + dhs[:, t], cache[t])
        total = dweights if total is None else [a + d for a, d in zip(total, dweights)]
        dxs.append(dx)
        dh_next = dh_prev
    return (xp.stack(dxs[::-1], axis=1), dh_next, *total)


class BidirectionalCache(NamedTuple):
    fwd: Any  # the forward LSTM's cache (minatt.ops.lstm.LSTMCache)
    bwd: Any  # the backward LSTM's cache, over the reversed inputs
    rows: Array  # (N, 1) arange(N)
    rev: Array  # (N, S) reverse_index(mask): the reversal within each row's length


def bidirectional_forward(x: Array, Wx_f: Array, Wh_f: Array, b_f: Array, Wx_b: Array, Wh_b: Array, b_b: Array,
                          mask: Array) -> tuple:
    """x (N, S, D), each direction's LSTM weights (D, 4H), (H, 4H), (4H,), mask (N, S) ->
    keys (N, S, 2H), final_h (N, 2H), final_c (N, 2H), cache. Both directions start from zeros."""
    xp = array_module(x)
    N, H = x.shape[0], Wh_f.shape[0]
    zeros = xp.zeros((N, H), dtype=x.dtype)
    rows, rev = xp.arange(N)[:, None], reverse_index(mask)
    hs_f, (h_f, c_f), fcache = lstm_forward(x, zeros, zeros, Wx_f, Wh_f, b_f, mask)
    hs_r, (h_b, c_b), bcache = lstm_forward(x[rows, rev], zeros, zeros, Wx_b, Wh_b, b_b, mask)
    keys = xp.concatenate([hs_f, hs_r[rows, rev]], axis=2)
    final_h = xp.concatenate([h_f, h_b], axis=1)
    final_c = xp.concatenate([c_f, c_b], axis=1)
    return keys, final_h, final_c, BidirectionalCache(fcache, bcache, rows, rev)


def bidirectional_backward(dkeys: Array, dfinal_h: Array, dfinal_c: Array, cache: BidirectionalCache) -> tuple:
    """dkeys (N, S, 2H), dfinal_h, dfinal_c (N, 2H) -> dx, dWx_f, dWh_f, db_f, dWx_b, dWh_b, db_b."""
    H = dkeys.shape[2] // 2
    rows, rev = cache.rows, cache.rev
    dx_f, _, _, *dw_f = lstm_backward(dkeys[:, :, :H], dfinal_h[:, :H], dfinal_c[:, :H], cache.fwd)
    dx_r, _, _, *dw_b = lstm_backward(dkeys[:, :, H:][rows, rev], dfinal_h[:, H:], dfinal_c[:, H:], cache.bwd)
    return (dx_f + dx_r[rows, rev], *dw_f, *dw_b)


def adam_update(p: Array, g: Array, m: Array, v: Array, t: int, lr: float = 1e-3, beta1: float = 0.9,
                beta2: float = 0.999, eps: float = 1e-8) -> tuple[Array, Array, Array]:
    """Step t (1, 2, ...) of Adam from moments m, v (P) -> p_next, m_next, v_next (P): minatt.optim.Adam's step."""
    opt = Adam({"p": p.copy()}, lr=lr, betas=(beta1, beta2), eps=eps)
    opt.state["m"]["p"][...] = m
    opt.state["v"]["p"][...] = v
    opt.t = t - 1
    opt.step({"p": g})
    return opt.params["p"], opt.state["m"]["p"], opt.state["v"]["p"]


def clip_outputs(clip: Callable = clip_grad_norm) -> Callable:
    """A forward for the clipping exercise: (*grads, max_norm) -> (norm, the grads after clip(grads, max_norm),
    flattened and concatenated).

    The learner's clip_grad_norm(grads, max_norm) gets the gradients as a dict and scales them in place."""

    def forward(*grads: Array, max_norm: float | None = None) -> tuple[Array, Array]:
        xp = array_module(grads[0])
        arrays = {f"g{k}": g.copy() for k, g in enumerate(grads)}
        norm = clip(arrays, max_norm)
        return xp.asarray(norm, dtype=xp.float64), xp.concatenate([g.reshape(-1) for g in arrays.values()])

    forward.__name__ = getattr(clip, "__name__", "clip_grad_norm")
    return forward


clip_forward = clip_outputs()  # the library's clip_grad_norm as the clipping exercise's forward
