"""Exercise (chapter 8): the backward pass of attention (weights and context).

Fill in ``attention_backward`` below, then check it:

    python -m minatt exercise attention

The checker runs the library's own ``minatt.ops.attention.attention_forward`` (with padding
masks, including a row that is padding only, and once with dweights=None) and compares your two
gradients with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.attention import AttentionCache


def attention_backward(
    dcontext: np.ndarray, dweights: np.ndarray | None, cache: AttentionCache
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of masked softmax attention. N batch, S source steps, Hv value size.

    Forward (``attention_forward(scores, values, mask) -> context, weights, cache``):

        weights    = softmax(scores, mask)                   (N, S): 0 at padded positions
        context[n] = sum over s of weights[n, s] * values[n, s]    (N, Hv)

    Args:
        dcontext: (N, Hv) gradient of the loss with respect to the context.
        dweights: (N, S) gradient of the loss with respect to the weights, or None meaning zero
            (the weights are an output too: the decoder plots them, and some losses use them).
        cache: the forward's :class:`AttentionCache`, a NamedTuple with fields
            cache.softmax.p  (N, S)      the weights (the softmax's own cache)
            cache.values     (N, S, Hv)

    Returns:
        (dscores, dvalues): dscores (N, S), dvalues (N, S, Hv); both exactly 0 at padded positions.

    Hints (chapter 8: the attention decoder):
        - The weights feed the context AND are returned, so their gradient has two parts.
        - Once you have the gradient of the weights, the softmax backward is your softmax
          exercise (chapter 3), or ``minatt.ops.softmax.softmax_backward(dw, cache.softmax)``.
        - Per batch row, context = weights @ values: a matrix-vector product.
    """
    raise NotImplementedError("attention_backward: replace this line with your code")
