"""Exercise (chapter 3): the backward pass of an embedding lookup, a scatter-add.

Fill in ``embedding_backward`` below, then check it:

    python -m minatt exercise embedding

The checker runs the library's own ``minatt.ops.embedding.embedding_forward`` on small tables
and id arrays in which ids repeat, and compares your dW with finite differences. Your relative
errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.embedding import EmbeddingCache


def embedding_backward(dout: np.ndarray, cache: EmbeddingCache) -> np.ndarray:
    """Gradient of out = W[ids] with respect to the table. V vocabulary, D embedding size.

    Forward (``embedding_forward(ids, W) -> out, cache``): out[...] = W[ids[...]], shape (..., D).

    Args:
        dout: (..., D) gradient of the loss with respect to out.
        cache: the forward's :class:`EmbeddingCache`, a NamedTuple with fields
            cache.ids         (...) the integer ids (same leading shape as dout)
            cache.vocab_size  V

    Returns:
        dW: (V, D), a single array.

    Hints (chapter 3: the embedding):
        - Row v of dW is the sum of dout over every position whose id is v; a row whose id never
          occurs is 0.
        - ``dW[ids] += dout`` is wrong when an id repeats: NumPy writes each row once. Use
          np.add.at, or a one-hot matrix and one matmul.
    """
    raise NotImplementedError("embedding_backward: replace this line with your code")
