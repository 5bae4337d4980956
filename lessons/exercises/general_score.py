"""Exercise (chapter 7): the backward pass of the general (bilinear, Luong) score.

Fill in ``general_score_backward`` below, then check it:

    python -m minatt exercise general_score

The checker runs the library's own ``minatt.ops.scores.general_score_forward`` on small random
float64 inputs and compares each of your three gradients with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.scores import GeneralCache


def general_score_backward(
    dscores: np.ndarray, cache: GeneralCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the general score. N batch, S source steps, Hq query size, Hk key size.

    Forward (``general_score_forward(q, keys, Wa) -> scores, cache``):

        kW     = keys @ Wa.T                      (N, S, Hq): the keys projected into query space
        scores[n, s] = kW[n, s] . q[n]            (N, S): the dot score of q against kW

    Args:
        dscores: (N, S) gradient of the loss with respect to the scores.
        cache: the forward's :class:`GeneralCache`, a NamedTuple of two NamedTuples:
            cache.keys.keys   (N, S, Hk)  the keys
            cache.keys.Wk     (Hk, Hq)    Wa.T: the forward computed kW = keys @ Wk
            cache.score.q     (N, Hq)     the query
            cache.score.keys  (N, S, Hq)  kW (the dot score's "keys")

    Returns:
        (dq, dkeys, dWa): dq (N, Hq), dkeys (N, S, Hk), dWa (Hq, Hk).

    Hints (chapter 7: score functions):
        - First the dot score's backward: the gradient of q (N, Hq) and of kW (N, S, Hq).
          Per batch row this is a matrix-vector product; np.matmul or broadcasting does all rows.
        - Then kW = keys @ Wa.T is an affine map without bias (chapter 3) applied to all N * S
          keys: fold N and S together (reshape(-1, ...)) for dWa, and mind the transpose.
    """
    raise NotImplementedError("general_score_backward: replace this line with your code")
