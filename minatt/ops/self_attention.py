"""Scaled dot-product attention over batches of queries, and multi-head attention built on it.

    N batch, T query steps, S key steps, K query/key size, Dv value size,
    D model size, h heads of size dk = D / h.

Scaled dot-product attention (Vaswani et al. 2017): Luong's dot score for T queries at once,
divided by sqrt(K) so that the scores' variance stays near 1 whatever the key size (the dot
product of two random K-vectors with unit-variance entries has variance K):

    scores  = queries @ keys^T / sqrt(K)              (N, T, S)
    allowed = mask[n, s] and (not causal or s <= t)   (N, T, S) True where query t may look at key s
    weights = softmax(scores, allowed)                (N, T, S) rows sum to 1; 0 where not allowed
    out     = weights @ values                        (N, T, Dv)

    dweights = dout @ values^T                        (N, T, S)
    dvalues  = weights^T @ dout                       (N, S, Dv)
    dscores  = softmax_backward(dweights)             (N, T, S)
    dqueries = dscores @ keys / sqrt(K)               (N, T, K)
    dkeys    = dscores^T @ queries / sqrt(K)          (N, S, K)

A query row with no allowed key (a fully padded sequence) gets zero weights, a zero output and
zero gradients, as in minatt.ops.softmax; never NaN.

Multi-head attention projects the queries' sequence xq (N, T, D) and the keys' and values'
sequence xkv (N, S, D) (the same array for self-attention), splits the D features into h heads,
attends in every head independently, and mixes the heads back with an output projection:

    q = xq @ Wq + bq;  k = xkv @ Wk + bk;  v = xkv @ Wv + bv        (N, T, D), (N, S, D), (N, S, D)
    head_i = attention(q_i, k_i, v_i)                                q_i = q[..., i*dk:(i+1)*dk]
    out = concat(head_1, ..., head_h) @ Wo + bo                      (N, T, D)

The heads are folded into the batch axis, (N, T, D) -> (N, T, h, dk) -> (N, h, T, dk) ->
(N*h, T, dk), so all heads run in ONE scaled dot-product attention call; the key padding mask
is repeated per head, (N, S) -> (N*h, S). The backward runs the same steps in reverse; the
projections are minatt.ops.linear's affine map.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.ops.linear import AffineCache, affine_backward, affine_forward
from minatt.ops.masks import allowed_keys
from minatt.ops.softmax import SoftmaxCache, softmax_backward, softmax_forward
from minatt.validate import Cache, contract

Array = Any


class DotAttentionCache(NamedTuple):
    """What scaled_dot_attention_backward needs."""

    queries: Array  # (N, T, K)
    keys: Array  # (N, S, K)
    values: Array  # (N, S, Dv)
    softmax: SoftmaxCache  # holds the weights (N, T, S)
    scale: float  # 1 / sqrt(K)


@contract(queries="N T K", keys="N S K", values="N S Dv", mask="N S bool?")
def scaled_dot_attention_forward(
    queries: Array, keys: Array, values: Array, mask: Array | None = None, causal: bool = False
) -> tuple[Array, Array, DotAttentionCache]:
    """Scaled dot-product attention. N batch, T queries, S keys, K query/key size, Dv value size.

    Args:
        queries: (N, T, K) float.
        keys:    (N, S, K) float.
        values:  (N, S, Dv) float.
        mask:    (N, S) bool key padding mask, True = real key, False = padding (optional).
        causal:  if True, query t attends only to keys s <= t (a decoder's self-attention).

    Returns:
        out (N, T, Dv), weights (N, T, S), cache.

    Math:
        scores = queries @ keys^T / sqrt(K);  weights = softmax(scores, allowed);  out = weights @ values
    """
    xp = array_module(queries, keys, values)
    T, S = queries.shape[1], keys.shape[1]
    scale = 1.0 / math.sqrt(queries.shape[-1])
    scores = xp.matmul(queries, keys.swapaxes(-1, -2)) * scale  # (N, T, S)
    weights, softmax_cache = softmax_forward(scores, allowed_keys(mask, T, S, causal, xp))  # (N, T, S)
    out = xp.matmul(weights, values)  # (N, T, Dv)
    return out, weights, DotAttentionCache(queries, keys, values, softmax_cache, scale)


@contract(cache=Cache(DotAttentionCache, queries="N T K", values="N S Dv"), dout="N T Dv")
def scaled_dot_attention_backward(dout: Array, cache: DotAttentionCache) -> tuple[Array, Array, Array]:
    """Backward of scaled_dot_attention_forward. dout (N, T, Dv).

    Returns dqueries (N, T, K), dkeys (N, S, K), dvalues (N, S, Dv); dkeys and dvalues are
    exactly 0 at padded keys.

    Math:
        dweights = dout @ values^T;  dvalues = weights^T @ dout;  dscores = softmax_backward(dweights)
        dqueries = dscores @ keys / sqrt(K);  dkeys = dscores^T @ queries / sqrt(K)
    """
    xp = array_module(dout)
    weights = cache.softmax.p  # (N, T, S)
    dweights = xp.matmul(dout, cache.values.swapaxes(-1, -2))  # (N, T, S)
    dvalues = xp.matmul(weights.swapaxes(-1, -2), dout)  # (N, S, Dv)
    dscores = softmax_backward(dweights, cache.softmax)  # (N, T, S)
    dqueries = xp.matmul(dscores, cache.keys) * cache.scale  # (N, T, K)
    dkeys = xp.matmul(dscores.swapaxes(-1, -2), cache.queries) * cache.scale  # (N, S, K)
    return dqueries, dkeys, dvalues


# ---------------------------------------------------------------------------------------
# Multi-head attention


class MultiHeadCache(NamedTuple):
    """What multihead_attention_backward needs: the four projections' caches and the attention's."""

    q: AffineCache  # xq @ Wq + bq
    k: AffineCache  # xkv @ Wk + bk
    v: AffineCache  # xkv @ Wv + bv
    attention: DotAttentionCache  # over the (N*h, ., dk) heads
    o: AffineCache  # heads @ Wo + bo
    heads: int


def split_heads(x: Array, heads: int) -> Array:
    """(N, L, D) -> (N*h, L, dk): head i of row n is row n*h + i, holding features i*dk:(i+1)*dk."""
    N, L, D = x.shape
    x4 = x.reshape(N, L, heads, D // heads)  # (N, L, h, dk)
    return x4.transpose(0, 2, 1, 3).reshape(N * heads, L, D // heads)  # (N, h, L, dk) -> (N*h, L, dk)


def merge_heads(x: Array, heads: int) -> Array:
    """(N*h, L, dk) -> (N, L, D): the inverse of split_heads (the heads concatenated)."""
    Nh, L, dk = x.shape
    x4 = x.reshape(Nh // heads, heads, L, dk)  # (N, h, L, dk)
    return x4.transpose(0, 2, 1, 3).reshape(Nh // heads, L, heads * dk)  # (N, L, h, dk) -> (N, L, D)


@contract(xq="N T D", xkv="N S D", Wq="D D", bq="D", Wk="D D", bk="D", Wv="D D", bv="D",
          Wo="D D", bo="D", mask="N S bool?")
def multihead_attention_forward(
    xq: Array, xkv: Array, Wq: Array, bq: Array, Wk: Array, bk: Array, Wv: Array, bv: Array,
    Wo: Array, bo: Array, heads: int, mask: Array | None = None, causal: bool = False,
) -> tuple[Array, Array, MultiHeadCache]:
    """Multi-head attention of xq's steps over xkv's. N batch, T/S steps, D model size, h heads.

    Args:
        xq:  (N, T, D) the sequence the queries come from.
        xkv: (N, S, D) the sequence the keys and values come from (xq itself for self-attention).
        Wq, Wk, Wv, Wo: (D, D) projections, applied as x @ W (the transpose of PyTorch's layout);
        bq, bk, bv, bo: (D,) their biases.
        heads: h, which must divide D; each head has dk = D / h features.
        mask: (N, S) bool key padding mask, True = real (optional); causal as in the scaled op.

    Returns:
        out (N, T, D), weights (N, h, T, S) per head, cache.

    Math:
        q, k, v = xq Wq + bq, xkv Wk + bk, xkv Wv + bv;  head_i = attention(q_i, k_i, v_i)
        out = concat(heads) Wo + bo
    """
    xp = array_module(xq, xkv)
    N, T, D = xq.shape
    if D % heads:
        raise ValueError(f"multihead attention: {heads} heads do not divide the model size D = {D}")
    q, q_cache = affine_forward(xq, Wq, bq)  # (N, T, D)
    k, k_cache = affine_forward(xkv, Wk, bk)  # (N, S, D)
    v, v_cache = affine_forward(xkv, Wv, bv)  # (N, S, D)
    head_mask = None if mask is None else xp.repeat(xp.asarray(mask, dtype=bool), heads, axis=0)  # (N*h, S)
    o, weights, attention_cache = scaled_dot_attention_forward(
        split_heads(q, heads), split_heads(k, heads), split_heads(v, heads), head_mask, causal
    )  # (N*h, T, dk), (N*h, T, S)
    out, o_cache = affine_forward(merge_heads(o, heads), Wo, bo)  # (N, T, D)
    weights = weights.reshape(N, heads, T, -1)  # (N*h, T, S) -> (N, h, T, S)
    return out, weights, MultiHeadCache(q_cache, k_cache, v_cache, attention_cache, o_cache, heads)


@contract(cache=Cache(MultiHeadCache), dout="N T D")
def multihead_attention_backward(dout: Array, cache: MultiHeadCache) -> tuple[Array, ...]:
    """Backward of multihead_attention_forward. dout (N, T, D).

    Returns (dxq, dxkv, dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo), each shaped like its input. For
    self-attention (xq is xkv) the input's gradient is dxq + dxkv.
    """
    h = cache.heads
    dmerged, dWo, dbo = affine_backward(dout, cache.o)  # (N, T, D)
    dqh, dkh, dvh = scaled_dot_attention_backward(split_heads(dmerged, h), cache.attention)  # (N*h, ., dk)
    dxq, dWq, dbq = affine_backward(merge_heads(dqh, h), cache.q)  # (N, T, D)
    dxk, dWk, dbk = affine_backward(merge_heads(dkh, h), cache.k)  # (N, S, D)
    dxv, dWv, dbv = affine_backward(merge_heads(dvh, h), cache.v)  # (N, S, D)
    return dxq, dxk + dxv, dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo
