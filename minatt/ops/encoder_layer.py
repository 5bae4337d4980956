"""One Transformer encoder layer, post-norm as in Vaswani et al. 2017, without dropout.

    N batch, S steps, D model size, h heads, F feed-forward size.

    a  = MHA(x, x)                 (N, S, D) self-attention, padded keys masked
    y1 = LN1(x + a)                (N, S, D)
    f  = FFN(y1)                   (N, S, D)
    y  = LN2(y1 + f)               (N, S, D)

The backward runs the four steps in reverse. A residual connection hands its gradient to both
of its branches, and self-attention's input x gets the gradients of its three roles (queries,
keys/values, and the skip path) added together:

    dz2 = LN2_backward(dy)         z2 = y1 + f
    dy1 = dz2 + FFN_backward(dz2)
    dz1 = LN1_backward(dy1)        z1 = x + a
    dxq, dxkv = MHA_backward(dz1)
    dx  = dz1 + dxq + dxkv

Padded positions are masked as keys only; as queries they still attend to the real positions
and produce (unused) outputs, as in PyTorch's TransformerEncoderLayer.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.ops.feedforward import FeedForwardCache, feedforward_backward, feedforward_forward
from minatt.ops.layernorm import LayerNormCache, layer_norm_backward, layer_norm_forward
from minatt.ops.self_attention import MultiHeadCache, multihead_attention_backward, multihead_attention_forward
from minatt.validate import Cache, contract

Array = Any


class EncoderLayerParams(NamedTuple):
    """A layer's arrays (x @ W layout); its gradients come back as the same tuple of d-arrays."""

    Wq: Array  # (D, D) self-attention's projections and biases
    bq: Array  # (D,)
    Wk: Array  # (D, D)
    bk: Array  # (D,)
    Wv: Array  # (D, D)
    bv: Array  # (D,)
    Wo: Array  # (D, D)
    bo: Array  # (D,)
    ln1_g: Array  # (D,) the first layer norm's gain and bias
    ln1_b: Array  # (D,)
    W1: Array  # (D, F) the feed-forward block
    b1: Array  # (F,)
    W2: Array  # (F, D)
    b2: Array  # (D,)
    ln2_g: Array  # (D,) the second layer norm's gain and bias
    ln2_b: Array  # (D,)


class EncoderLayerCache(NamedTuple):
    """The four steps' caches."""

    attention: MultiHeadCache
    ln1: LayerNormCache
    ffn: FeedForwardCache
    ln2: LayerNormCache


@contract(x="N S D", p=Cache(EncoderLayerParams, Wq="D D", bq="D", Wk="D D", bk="D", Wv="D D", bv="D",
          Wo="D D", bo="D", ln1_g="D", ln1_b="D", W1="D F", b1="F", W2="F D", b2="D", ln2_g="D", ln2_b="D"),
          mask="N S bool?")
def encoder_layer_forward(
    x: Array, p: EncoderLayerParams, heads: int, mask: Array | None = None
) -> tuple[Array, Array, EncoderLayerCache]:
    """One post-norm encoder layer. N batch, S steps, D model size, h heads.

    Args:
        x: (N, S, D) float.
        p: the layer's :class:`EncoderLayerParams`.
        heads: h, dividing D.
        mask: (N, S) bool padding mask, True = real position (optional).

    Returns:
        y (N, S, D), the attention weights (N, h, S, S), cache.

    Math:
        y1 = LN1(x + MHA(x, x));  y = LN2(y1 + FFN(y1))
    """
    a, weights, attention = multihead_attention_forward(
        x, x, p.Wq, p.bq, p.Wk, p.bk, p.Wv, p.bv, p.Wo, p.bo, heads, mask
    )  # (N, S, D)
    y1, ln1 = layer_norm_forward(x + a, p.ln1_g, p.ln1_b)  # (N, S, D)
    f, ffn = feedforward_forward(y1, p.W1, p.b1, p.W2, p.b2)  # (N, S, D)
    y, ln2 = layer_norm_forward(y1 + f, p.ln2_g, p.ln2_b)  # (N, S, D)
    return y, weights, EncoderLayerCache(attention, ln1, ffn, ln2)


@contract(cache=Cache(EncoderLayerCache), dy="N S D")
def encoder_layer_backward(dy: Array, cache: EncoderLayerCache) -> tuple[Array, EncoderLayerParams]:
    """Backward of encoder_layer_forward. dy (N, S, D).

    Returns dx (N, S, D) and the parameters' gradients as an :class:`EncoderLayerParams`.
    """
    dz2, dln2_g, dln2_b = layer_norm_backward(dy, cache.ln2)  # z2 = y1 + f
    dffn_in, dW1, db1, dW2, db2 = feedforward_backward(dz2, cache.ffn)
    dy1 = dz2 + dffn_in  # (N, S, D) the residual's two branches
    dz1, dln1_g, dln1_b = layer_norm_backward(dy1, cache.ln1)  # z1 = x + a
    dxq, dxkv, dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo = multihead_attention_backward(dz1, cache.attention)
    dx = dz1 + dxq + dxkv  # (N, S, D) the residual, and x as queries and as keys/values
    grads = EncoderLayerParams(dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo, dln1_g, dln1_b,
                               dW1, db1, dW2, db2, dln2_g, dln2_b)
    return dx, grads
