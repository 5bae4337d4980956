"""Exercise (chapter 7): the backward pass of the additive (Bahdanau) score.

Fill in ``additive_score_backward`` below, then check it:

    python -m minatt exercise additive_score

The checker runs the library's own ``minatt.ops.scores.additive_score_forward`` on small random
float64 inputs and compares each of your five gradients with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.scores import AdditiveCache


def additive_score_backward(
    dscores: np.ndarray, cache: AdditiveCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the additive score. N batch, S source steps, Hq query, Hk key, A attention size.

    Forward (``additive_score_forward(q, keys, Wq, Wk, v) -> scores, cache``):

        kproj  = keys @ Wk                          (N, S, A)
        t      = tanh(q @ Wq [:, None, :] + kproj)  (N, S, A): the query is shared by all S keys
        scores = t @ v                              (N, S)

    Args:
        dscores: (N, S) gradient of the loss with respect to the scores.
        cache: the forward's :class:`AdditiveCache`, a NamedTuple of two NamedTuples:
            cache.keys.keys  (N, S, Hk) the keys
            cache.keys.Wk    (Hk, A)
            cache.score.q    (N, Hq)    the query
            cache.score.Wq   (Hq, A)
            cache.score.v    (A,)
            cache.score.t    (N, S, A)  the tanh above

    Returns:
        (dq, dkeys, dWq, dWk, dv): dq (N, Hq), dkeys (N, S, Hk), dWq (Hq, A), dWk (Hk, A), dv (A,).

    Hints (chapter 7: score functions):
        - Go backwards one line at a time: dt from scores = t @ v, then the gradient of the tanh's
          argument (call it da, (N, S, A)), then the two projections.
        - q was broadcast over the S source positions in the forward, so its path sums over s.
        - Wk and v are shared by every batch row and source position: fold N and S together
          (reshape(-1, ...)) and use one matmul.
    """
    raise NotImplementedError("additive_score_backward: replace this line with your code")
