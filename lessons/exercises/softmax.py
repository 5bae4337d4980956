"""Exercise (chapter 3): the backward pass of softmax, with a padding mask.

Fill in ``softmax_backward`` below, then check it:

    python -m minatt exercise softmax

The checker runs the library's own ``minatt.ops.softmax.softmax_forward`` (with and without a
mask, including a row that is padding only) and compares your dx with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.softmax import SoftmaxCache


def softmax_backward(dp: np.ndarray, cache: SoftmaxCache) -> np.ndarray:
    """Gradient through p = softmax(x) over the last axis. S = size of the last axis.

    Forward (``softmax_forward(x, mask) -> p, cache``), mask True = real position:

        m = max of x over the real positions of the row
        e = exp(x - m) at real positions, 0 at masked ones
        p = e / sum(e)        (a row with no real position is all zeros)

    Args:
        dp: (..., S) the gradient of the loss with respect to p.
        cache: the forward's :class:`SoftmaxCache`, a NamedTuple with one field
            cache.p  (..., S) the probabilities: exactly 0 at masked positions

    Returns:
        dx: (..., S) shaped like x (a single array, not a tuple).

    Hints (chapter 3: linear, softmax and cross-entropy):
        - Start from dp_j/dx_k = p_j * (delta_jk - p_k) and sum over j: the Jacobian is never built.
        - The sum runs over the last axis only; keepdims=True lets it broadcast back.
        - You do not need the mask: where p is 0 your formula should already give exactly 0.
    """
    raise NotImplementedError("softmax_backward: replace this line with your code")
