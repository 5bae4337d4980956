"""The two attention decoders' step, one function each: the form chapter 8 teaches.

Dimensions: N batch, S source steps, E target embedding, H decoder hidden, K key size (the
encoder outputs), A attention size. Each step is an LSTM cell and one score, with plain arrays
in and out and a NamedTuple cache:

    Bahdanau (additive score): attend from s_prev, then step the cell on [y_emb; context];
                               o = [s_next; context]                                   (N, H + K)
    Luong (general score, input feeding): step the cell on [y_emb; feed], attend from h_next,
                               h~ = tanh([context; h_next] Wc + bc) is the output and the next feed.

The model's decoders (:mod:`minatt.model.decoders`) compute the same step restructured for speed;
tests/test_decoders.py checks that both give the same gradients. The exercises ``bahdanau_step``
and ``luong_step`` ask for the two backwards.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.ops.activations import tanh_backward
from minatt.ops.attention import AttentionCache, attention_forward, attention_scores_backward
from minatt.ops.linear import AffineCache, affine_backward, affine_forward
from minatt.ops.lstm import LSTMStepCache, lstm_step_backward, lstm_step_forward
from minatt.ops.scores import (
    AdditiveCache,
    GeneralCache,
    additive_score_backward,
    additive_score_forward,
    general_score_backward,
    general_score_forward,
)

Array = Any

__all__ = ["BahdanauStepCache", "LuongStepCache", "bahdanau_step_backward", "bahdanau_step_forward",
           "luong_step_backward", "luong_step_forward"]


class BahdanauStepCache(NamedTuple):
    score: AdditiveCache  # additive_score_forward's cache (query s_prev)
    attention: AttentionCache  # attention_forward's cache (attention.softmax.p: the weights)
    lstm: LSTMStepCache  # lstm_step_forward's cache (its input x = [y_emb; context])


def bahdanau_step_forward(y_emb: Array, s_prev: Array, c_prev: Array, keys: Array, Wq: Array, Wk: Array,
                          v: Array, Wx: Array, Wh: Array, b: Array, mask: Array | None = None) -> tuple:
    """One Bahdanau decoder step (LSTM cell, additive score): attend from s_prev, then step the cell.

    y_emb (N, E), s_prev (N, H), c_prev (N, H), keys (N, S, K), Wq (H, A), Wk (K, A), v (A,),
    Wx (E + K, 4H), Wh (H, 4H), b (4H,), mask (N, S) bool or None.
    Returns o (N, H + K), s_next (N, H), c_next (N, H), cache.
    """
    xp = array_module(y_emb)
    scores, score_cache = additive_score_forward(s_prev, keys, Wq, Wk, v)  # (N, S)
    context, _, attention_cache = attention_forward(scores, keys, mask)  # (N, K)
    x = xp.concatenate([y_emb, context], axis=1)  # (N, E + K): the cell's input
    s_next, c_next, lstm_cache = lstm_step_forward(x, s_prev, c_prev, Wx, Wh, b)
    o = xp.concatenate([s_next, context], axis=1)  # (N, H + K)
    return o, s_next, c_next, BahdanauStepCache(score_cache, attention_cache, lstm_cache)


def bahdanau_step_backward(do: Array, ds_next: Array, dc_next: Array, cache: BahdanauStepCache) -> tuple:
    """do (N, H + K), ds_next, dc_next (N, H) (from step t + 1) -> dy_emb (N, E), ds_prev, dc_prev (N, H),
    dkeys (N, S, K), dWq, dWk, dv, dWx, dWh, db (shaped like the weights)."""
    H = ds_next.shape[1]
    dx, ds_prev, dc_prev, dWx, dWh, db = lstm_step_backward(ds_next + do[:, :H], dc_next, cache.lstm)
    E = dx.shape[1] - (do.shape[1] - H)
    dcontext = do[:, H:] + dx[:, E:]  # the context fed o and the cell's input
    weights = cache.attention.softmax.p  # (N, S)
    dvalues = weights[:, :, None] * dcontext[:, None, :]  # (N, S, K): dk_s = a_s dc, the keys as values
    dscores = attention_scores_backward(dcontext, None, cache.attention)  # (N, S)
    dq, dkeys_scored, dWq, dWk, dv = additive_score_backward(dscores, cache.score)
    dkeys = dvalues + dkeys_scored  # the keys were averaged and scored
    ds_prev = ds_prev + dq  # s_prev was the cell's previous state and the query
    return dx[:, :E], ds_prev, dc_prev, dkeys, dWq, dWk, dv, dWx, dWh, db


class LuongStepCache(NamedTuple):
    lstm: LSTMStepCache  # lstm_step_forward's cache (its input x = [y_emb; feed])
    score: GeneralCache  # general_score_forward's cache (query h_next)
    attention: AttentionCache  # attention_forward's cache
    combine: AffineCache  # affine_forward's cache of [context; h_next] @ Wc + bc
    ht: Array  # (N, H) the output h~ = tanh([context; h_next] @ Wc + bc)


def luong_step_forward(y_emb: Array, h_prev: Array, c_prev: Array, feed: Array, keys: Array, Wx: Array,
                       Wh: Array, b: Array, Wa: Array, Wc: Array, bc: Array, mask: Array | None = None) -> tuple:
    """One Luong decoder step with input feeding (LSTM cell, general score): step the cell, attend
    from h_next, combine.

    y_emb (N, E), h_prev (N, H), c_prev (N, H), feed (N, H) the previous step's h~, keys (N, S, K),
    Wx (E + H, 4H), Wh (H, 4H), b (4H,), Wa (H, K), Wc (K + H, H), bc (H,), mask (N, S) or None.
    Returns ht (N, H) (the output and the next step's feed), h_next (N, H), c_next (N, H), cache.
    """
    xp = array_module(y_emb)
    x = xp.concatenate([y_emb, feed], axis=1)  # (N, E + H)
    h_next, c_next, lstm_cache = lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)
    scores, score_cache = general_score_forward(h_next, keys, Wa)  # (N, S)
    context, _, attention_cache = attention_forward(scores, keys, mask)  # (N, K)
    pre, combine_cache = affine_forward(xp.concatenate([context, h_next], axis=1), Wc, bc)  # (N, H)
    ht = xp.tanh(pre)
    return ht, h_next, c_next, LuongStepCache(lstm_cache, score_cache, attention_cache, combine_cache, ht)


def luong_step_backward(dht: Array, dh_next: Array, dc_next: Array, cache: LuongStepCache) -> tuple:
    """dht (N, H) (the output's and the next step's feed's), dh_next, dc_next (N, H) (from step t + 1)
    -> dy_emb (N, E), dh_prev, dc_prev, dfeed (N, H), dkeys (N, S, K), dWx, dWh, db, dWa, dWc, dbc."""
    dcat, dWc, dbc = affine_backward(tanh_backward(dht, cache.ht), cache.combine)  # (N, K + H)
    H = dh_next.shape[1]
    K = dcat.shape[1] - H
    dcontext = dcat[:, :K]
    weights = cache.attention.softmax.p  # (N, S)
    dvalues = weights[:, :, None] * dcontext[:, None, :]  # (N, S, K): dk_s = a_s dc, the keys as values
    dscores = attention_scores_backward(dcontext, None, cache.attention)  # (N, S)
    dq, dkeys_scored, dWa = general_score_backward(dscores, cache.score)
    dh_total = dh_next + dcat[:, K:] + dq  # h_next went on to step t + 1, into [context; h_next] and the score
    dx, dh_prev, dc_prev, dWx, dWh, db = lstm_step_backward(dh_total, dc_next, cache.lstm)
    E = dx.shape[1] - H
    return dx[:, :E], dh_prev, dc_prev, dx[:, E:], dvalues + dkeys_scored, dWx, dWh, db, dWa, dWc, dbc
