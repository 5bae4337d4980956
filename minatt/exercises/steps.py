"""Forwards for the exercises whose library function is not a plain ``forward -> outputs, cache``.

Two groups:

- Adapters, so the checker can call the library op as ``forward(*inputs, **rest) -> (*outputs,
  cache)``: :func:`lstm_sequence` (the masked LSTM over a sequence), :func:`embedding`
  (the table first, then the ids) and :func:`cross_entropy` (the loss as a 0-d array).
- The two decoder steps of :mod:`minatt.decoders` as standalone functions with a cache, one
  LSTM cell and one score each, and their reference backward built from the library's op
  backwards. They compute exactly what ``BahdanauDecoder.step`` and ``LuongDecoder.step``
  compute (tests/test_exercises.py checks it), without the model object around them.

N batch, S source steps, E embedding, H decoder hidden, K key size, A attention size.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.ops.activations import tanh_backward
from minatt.ops.attention import AttentionCache, attention_backward, attention_forward
from minatt.ops.embedding import embedding_forward
from minatt.ops.linear import AffineCache, affine_backward, affine_forward
from minatt.ops.loss import cross_entropy_forward
from minatt.ops.lstm import (
    LSTMStepCache,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from minatt.ops.scores import (
    AdditiveCache,
    GeneralCache,
    additive_score_backward,
    additive_score_forward,
    general_score_backward,
    general_score_forward,
)

__all__ = [
    "BahdanauStepCache",
    "LuongStepCache",
    "bahdanau_step_backward",
    "bahdanau_step_forward",
    "cross_entropy",
    "embedding",
    "lstm_sequence",
    "luong_step_backward",
    "luong_step_forward",
]

Array = Any


# ---------------------------------------------------------------------------------------
# Adapters


def lstm_sequence(x: Array, h0: Array, c0: Array, Wx: Array, Wh: Array, b: Array,
                  mask: Array | None = None) -> tuple:
    """:func:`minatt.ops.lstm.lstm_forward` with its outputs flat: hs, hT, cT, cache."""
    hs, (hT, cT), cache = lstm_forward(x, h0, c0, Wx, Wh, b, mask)
    return hs, hT, cT, cache


def embedding(W: Array, ids: Array) -> tuple:
    """:func:`minatt.ops.embedding.embedding_forward` with the table first: out (..., D), cache."""
    return embedding_forward(ids, W)


def cross_entropy(logits: Array, targets: Array, ignore_index: int | None = None) -> tuple:
    """:func:`minatt.ops.loss.cross_entropy_forward` with the loss as a 0-d array: loss, cache."""
    loss, cache = cross_entropy_forward(logits, targets, ignore_index)
    return array_module(logits).asarray(loss, dtype=logits.dtype), cache


# ---------------------------------------------------------------------------------------
# The Bahdanau decoder step: attend from s_prev, then step the cell on [y_emb; context]


class BahdanauStepCache(NamedTuple):
    score: AdditiveCache  # additive_score_forward's cache (query s_prev)
    attention: AttentionCache  # attention_forward's cache (cache.attention.softmax.p: the weights)
    lstm: LSTMStepCache  # lstm_step_forward's cache (its input x = [y_emb; context])


def bahdanau_step_forward(y_emb: Array, s_prev: Array, c_prev: Array, keys: Array, Wq: Array, Wk: Array,
                          v: Array, Wx: Array, Wh: Array, b: Array, mask: Array | None = None) -> tuple:
    """One Bahdanau-style decoder step (an LSTM cell, the additive score).

    y_emb (N, E), s_prev (N, H), c_prev (N, H), keys (N, S, K), Wq (H, A), Wk (K, A), v (A,),
    Wx (E + K, 4H), Wh (H, 4H), b (4H,), mask (N, S) bool or None.
    Returns o (N, H + K), s (N, H), c (N, H), cache.

        scores  = additive_score(s_prev, keys)         (N, S)
        context = softmax(scores, mask) @ keys         (N, K)
        s, c    = lstm_step([y_emb; context], s_prev, c_prev)
        o       = [s; context]
    """
    xp = array_module(y_emb)
    scores, score_cache = additive_score_forward(s_prev, keys, Wq, Wk, v)
    context, _, attention_cache = attention_forward(scores, keys, mask)
    x = xp.concatenate([y_emb, context], axis=1)  # (N, E + K)
    s, c, lstm_cache = lstm_step_forward(x, s_prev, c_prev, Wx, Wh, b)
    o = xp.concatenate([s, context], axis=1)  # (N, H + K)
    return o, s, c, BahdanauStepCache(score_cache, attention_cache, lstm_cache)


def bahdanau_step_backward(do: Array, ds: Array, dc: Array, cache: BahdanauStepCache) -> tuple:
    """do (N, H + K), ds (N, H), dc (N, H) -> dy_emb, ds_prev, dc_prev, dkeys, dWq, dWk, dv, dWx, dWh, db.

    context feeds o and the cell's input; s_prev is the query and the cell's previous state;
    keys are scored and averaged: each of them gets the SUM of its gradients.
    """
    H = ds.shape[1]
    ds_total = ds + do[:, :H]  # o = [s; context]
    dx, ds_prev, dc_prev, dWx, dWh, db = lstm_step_backward(ds_total, dc, cache.lstm)
    E = dx.shape[1] - (do.shape[1] - H)
    dy_emb = dx[:, :E]
    dcontext = do[:, H:] + dx[:, E:]  # both uses of the context
    dscores, dvalues = attention_backward(dcontext, None, cache.attention)
    dq, dkeys_scored, dWq, dWk, dv = additive_score_backward(dscores, cache.score)
    return (dy_emb, ds_prev + dq, dc_prev, dvalues + dkeys_scored, dWq, dWk, dv, dWx, dWh, db)


# ---------------------------------------------------------------------------------------
# The Luong decoder step: step the cell on [y_emb; feed], attend from h, combine


class LuongStepCache(NamedTuple):
    lstm: LSTMStepCache  # lstm_step_forward's cache (its input x = [y_emb; feed])
    score: GeneralCache  # general_score_forward's cache (query h)
    attention: AttentionCache  # attention_forward's cache
    combine: AffineCache  # affine_forward's cache of [context; h] @ Wc + bc
    ht: Array  # (N, H) the output h~ = tanh([context; h] @ Wc + bc)


def luong_step_forward(y_emb: Array, h_prev: Array, c_prev: Array, feed: Array, keys: Array, Wx: Array,
                       Wh: Array, b: Array, Wa: Array, Wc: Array, bc: Array, mask: Array | None = None) -> tuple:
    """One Luong-style decoder step with input feeding (an LSTM cell, the general score).

    y_emb (N, E), h_prev (N, H), c_prev (N, H), feed (N, H) the previous step's h~, keys (N, S, K),
    Wx (E + H, 4H), Wh (H, 4H), b (4H,), Wa (H, K), Wc (K + H, H), bc (H,), mask (N, S) or None.
    Returns ht (N, H), h (N, H), c (N, H), cache.

        h, c    = lstm_step([y_emb; feed], h_prev, c_prev)
        scores  = general_score(h, keys)                 (N, S)
        context = softmax(scores, mask) @ keys           (N, K)
        ht      = tanh([context; h] @ Wc + bc)           (N, H): the output, and the next step's feed
    """
    xp = array_module(y_emb)
    x = xp.concatenate([y_emb, feed], axis=1)  # (N, E + H)
    h, c, lstm_cache = lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)
    scores, score_cache = general_score_forward(h, keys, Wa)
    context, _, attention_cache = attention_forward(scores, keys, mask)
    pre, combine_cache = affine_forward(xp.concatenate([context, h], axis=1), Wc, bc)  # (N, H)
    ht = xp.tanh(pre)
    return ht, h, c, LuongStepCache(lstm_cache, score_cache, attention_cache, combine_cache, ht)


def luong_step_backward(dht: Array, dh: Array, dc: Array, cache: LuongStepCache) -> tuple:
    """dht, dh, dc (N, H) -> dy_emb, dh_prev, dc_prev, dfeed, dkeys, dWx, dWh, db, dWa, dWc, dbc.

    h feeds the score (as the query) and the combination; keys are scored and averaged.
    """
    dcat, dWc, dbc = affine_backward(tanh_backward(dht, cache.ht), cache.combine)  # (N, K + H)
    K = dcat.shape[1] - dh.shape[1]
    dscores, dvalues = attention_backward(dcat[:, :K], None, cache.attention)
    dq, dkeys_scored, dWa = general_score_backward(dscores, cache.score)
    dh_total = dh + dcat[:, K:] + dq  # h: the next state, the combination, the query
    dx, dh_prev, dc_prev, dWx, dWh, db = lstm_step_backward(dh_total, dc, cache.lstm)
    E = dx.shape[1] - dh.shape[1]
    return (dx[:, :E], dh_prev, dc_prev, dx[:, E:], dvalues + dkeys_scored, dWx, dWh, db, dWa, dWc, dbc)
