"""Exercise (chapter 6): the backward pass of the cross-entropy over time, ignoring padding.

Fill in ``cross_entropy_backward`` below, then check it:

    python -m minatt exercise cross_entropy

The checker runs the library's own ``minatt.ops.loss.cross_entropy_forward`` on logits (N, T, V)
whose targets are padded with ignore_index = 0 after each row's length (including a row that is
all padding, and once with nothing ignored) and compares your dlogits with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.loss import CrossEntropyCache


def cross_entropy_backward(cache: CrossEntropyCache, dloss: float = 1.0) -> np.ndarray:
    """Gradient of the mean cross-entropy over the counted tokens. V vocabulary, K = N * T tokens.

    Forward (``cross_entropy_forward(logits, targets, ignore_index) -> loss, cache``), with the
    leading axes folded into K tokens (logits2 (K, V), targets2 (K,)):

        p       = softmax(logits2)                          (K, V)
        counted = targets2 != ignore_index                  (K,), all True when ignore_index is None
        n       = number of counted tokens
        loss    = -sum over counted k of log p[k, targets2[k]] / n      (0.0 when n = 0)

    Args:
        cache: the forward's :class:`CrossEntropyCache`, a NamedTuple with fields
            cache.p             (K, V)  the softmax probabilities
            cache.safe_targets  (K,)    the targets, ignored ones replaced by 0 (so they can index p)
            cache.counted       (K,)    bool, True where the token counts
            cache.n_counted     n
            cache.logits_shape  (N, T, V), the shape to return
        dloss: the gradient of the final objective with respect to loss (a float).

    Returns:
        dlogits: shaped cache.logits_shape (a single array).

    Hints (chapter 3: cross-entropy; chapter 6: the loss over real target tokens):
        - For one token, d(-log p[target]) / dlogits = p - onehot(target).
        - The mean divides by n, the number of COUNTED tokens, not by N * T.
        - An ignored token contributes nothing: its row is exactly 0 (and if n = 0, all is 0).
    """
    raise NotImplementedError("cross_entropy_backward: replace this line with your code")
