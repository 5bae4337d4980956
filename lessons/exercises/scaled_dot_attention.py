"""Exercise (chapter 11): the backward pass of scaled dot-product attention.

Fill in ``scaled_dot_attention_backward`` below, then check it:

    python -m minatt exercise scaled_dot_attention

The checker runs the library's own ``minatt.ops.self_attention.scaled_dot_attention_forward``
(with key padding masks, including a batch row that is padding only, and once with the causal
mask) and compares your three gradients with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.self_attention import DotAttentionCache


def scaled_dot_attention_backward(
    dout: np.ndarray, cache: DotAttentionCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of scaled dot-product attention. N batch, T queries, S keys, K key size, Dv value size.

    Forward (``scaled_dot_attention_forward(queries, keys, values, mask, causal) -> out, weights, cache``):

        scores  = queries @ keys^T / sqrt(K)       (N, T, S)
        weights = softmax(scores, allowed)         (N, T, S): 0 where query t may not see key s
        out     = weights @ values                 (N, T, Dv)

    Args:
        dout: (N, T, Dv) gradient of the loss with respect to out (the weights are returned for
            plots only: they get no gradient of their own).
        cache: the forward's :class:`DotAttentionCache`, a NamedTuple with fields
            cache.queries    (N, T, K)
            cache.keys       (N, S, K)
            cache.values     (N, S, Dv)
            cache.softmax.p  (N, T, S)   the weights (the softmax's own cache)
            cache.scale      float       1 / sqrt(K)

    Returns:
        (dqueries, dkeys, dvalues): (N, T, K), (N, S, K), (N, S, Dv); dkeys and dvalues exactly 0
        at padded keys.

    Hints (chapter 11: from Luong to the Transformer):
        - out = weights @ values is a batched matrix product: each factor's gradient is dout
          times the other factor, transposed on the last two axes (``x.swapaxes(-1, -2)``).
        - Between the weights and the scores sits the softmax over the last axis: your softmax
          exercise (chapter 3), or ``minatt.ops.softmax.softmax_backward(dweights, cache.softmax)``.
        - scores = queries @ keys^T times a constant: the constant multiplies both gradients.
    """
    raise NotImplementedError("scaled_dot_attention_backward: replace this line with your code")
