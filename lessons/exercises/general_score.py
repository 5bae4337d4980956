"""Exercise (chapter 7): the backward pass of the general (bilinear, Luong) score.

Fill in ``general_score_backward`` below, then check it:

    python -m minatt exercise general_score

The checker runs the library's own ``minatt.ops.scores.general_score_forward`` on small random
float64 inputs and compares each of your three gradients with finite differences.
"""

from __future__ import annotations

import numpy as np

from minatt.ops.scores import GeneralCache


def general_score_backward(
    dscores: np.ndarray, cache: GeneralCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the general score. N batch, S source steps, Hq query size, Hk key size.

    Forward (``general_score_forward(q, keys, Wa) -> scores, cache``):

        qW     = q @ Wa                           (N, Hk): the query projected once, not the S keys
        scores[n, s] = keys[n, s] . qW[n]         (N, S)

    Args:
        dscores: (N, S) gradient of the loss with respect to the scores.
        cache: the forward's :class:`GeneralCache`, a NamedTuple with fields
            cache.q         (N, Hq)     the query
            cache.Wa        (Hq, Hk)
            cache.dot.q     (N, Hk)     qW (the general score is the dot score of qW against keys)
            cache.dot.keys  (N, S, Hk)  the keys

    Returns:
        (dq, dkeys, dWa): dq (N, Hq), dkeys (N, S, Hk), dWa (Hq, Hk).

    Hints (chapter 7: score functions):
        - First the dot score's backward: the gradient of qW (N, Hk) and of keys (N, S, Hk).
          Per batch row this is a matrix-vector product; np.matmul or broadcasting does all rows.
        - Then qW = q @ Wa is an affine map without bias (chapter 3).
    """
    raise NotImplementedError("general_score_backward: replace this line with your code")
