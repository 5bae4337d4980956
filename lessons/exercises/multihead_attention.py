"""Exercise (chapter 11): the backward pass of multi-head attention, splitting and merging the heads.

Fill in ``multihead_attention_backward`` below, then check it:

    python -m minatt exercise multihead_attention

The checker runs the library's own ``minatt.ops.self_attention.multihead_attention_forward``
(cross-attention with a key padding mask that leaves one row with no real key, and once with
the causal mask) and compares your ten gradients with finite differences. Your relative errors
should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.linear import affine_backward  # noqa: F401 - yours to call
from minatt.ops.self_attention import MultiHeadCache, scaled_dot_attention_backward  # noqa: F401 - yours to call


def multihead_attention_backward(dout: np.ndarray, cache: MultiHeadCache) -> tuple[np.ndarray, ...]:
    """Gradients of multi-head attention. N batch, T query steps, S key steps, D model size, h heads, dk = D / h.

    Forward (``multihead_attention_forward(xq, xkv, Wq, bq, Wk, bk, Wv, bv, Wo, bo, heads, mask,
    causal) -> out, weights, cache``):

        q = xq @ Wq + bq,  k = xkv @ Wk + bk,  v = xkv @ Wv + bv           (N, T or S, D)
        split: (N, L, D) -> (N, L, h, dk) -> (N, h, L, dk) -> (N*h, L, dk)  head i of row n is row n*h + i
        o_heads = scaled_dot_attention(split(q), split(k), split(v))        (N*h, T, dk)
        merge: the inverse of split, (N*h, T, dk) -> (N, T, D)
        out = merge(o_heads) @ Wo + bo                                      (N, T, D)

    Args:
        dout: (N, T, D) gradient with respect to out (the weights are returned for plots, not trained).
        cache: the forward's :class:`MultiHeadCache`, a NamedTuple with fields
            cache.q, cache.k, cache.v   the three projections' AffineCache (for affine_backward)
            cache.attention             the heads' DotAttentionCache (for scaled_dot_attention_backward)
            cache.o                     the output projection's AffineCache
            cache.heads                 h

    Returns:
        (dxq, dxkv, dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo), each shaped like its input:
        dxq (N, T, D), dxkv (N, S, D), every W (D, D), every b (D,).

    Hints (chapter 11, "From one head to many"):
        - Write split and merge yourself (reshape and transpose); the backward of a split is a
          merge, and the backward of a merge is a split: they only move numbers around.
        - affine_backward(dy, cache.q) -> dx, dW, db and scaled_dot_attention_backward(do_heads,
          cache.attention) -> dq_heads, dk_heads, dv_heads are yours to call.
        - xkv is used twice, for the keys and for the values.
    """
    raise NotImplementedError("multihead_attention_backward: replace this line with your code")
