"""Exercise (chapter 3): the FORWARD pass of softmax with a padding mask.

Fill in ``softmax_forward`` below, then check it:

    python -m minatt exercise masked_softmax

The checker calls your function on small random inputs (with and without a mask, a row of one
real position, a row that is padding only, and scores in the hundreds) and compares your p with
the library's ``minatt.ops.softmax.softmax_forward``. A correct answer equals the library's to
about 1e-15; the checker passes relative errors below 1e-10.
"""

from __future__ import annotations

import numpy as np

from minatt.ops.softmax import SoftmaxCache


def softmax_forward(x: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, SoftmaxCache]:
    """Softmax over the last axis of x, ignoring the positions where mask is False.

    Args:
        x: (..., S) scores.
        mask: None (every position real), or bool broadcastable to x's shape: True = real
            position, False = padding.

    Returns:
        (p, cache): p (..., S) sums to 1 over each row's real positions and is exactly 0 at
        masked ones; a row with NO real position is all zeros (not NaN). cache is
        SoftmaxCache(p=p), what the backward (your softmax exercise) reads.

    Hints (chapter 3: linear, softmax and cross-entropy):
        - exp(800) overflows to inf: subtract each row's maximum over its REAL positions first
          (softmax does not change when a constant is subtracted from a row).
        - np.where(mask, x, -np.inf) makes masked positions vanish under exp, but a row that is
          all -inf has maximum -inf, and -inf - (-inf) is NaN: give such a row a finite maximum.
        - Divide only where the row's sum is positive; elsewhere the row stays 0.
    """
    raise NotImplementedError("softmax_forward: replace this line with your code")
