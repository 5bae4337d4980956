"""Exercise (chapter 3): the backward pass of the affine map.

Fill in ``affine_backward`` below, then check it:

    python -m minatt exercise affine

The checker runs the library's own ``minatt.ops.linear.affine_forward`` on small random
float64 inputs, hands your function its cache, and compares every gradient you return with
finite differences of the forward.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.linear import AffineCache


def affine_backward(dout: np.ndarray, cache: AffineCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of out = x @ W + b. D input features, M output features.

    Forward (``affine_forward(x, W, b) -> out, cache``), with R = the product of x's leading dims:

        x2  = x.reshape(R, D)
        out = (x2 @ W + b).reshape(..., M)

    Args:
        dout: (..., M) the gradient of the loss with respect to out (same leading axes as x).
        cache: the forward's :class:`AffineCache`, a NamedTuple with fields
            cache.x2       (R, D) the input with its leading axes folded into R rows
            cache.W        (D, M) the weight
            cache.x_shape  the tuple (..., D): x's original shape

    Returns:
        (dx, dW, db): dx (..., D) shaped like x, dW (D, M) like W, db (M,) like b.

    Hints (chapter 3: linear, softmax and cross-entropy):
        - Fold dout the same way the forward folded x: dout.reshape(-1, M) is (R, M).
        - Each gradient has the shape of its input; write the shapes of the two factors of
          each matmul and there is only one way to make them fit.
        - b is added to every one of the R rows, so its gradient adds up over them.
    """
    raise NotImplementedError("affine_backward: replace this line with your code")
