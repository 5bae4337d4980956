"""Exercise (chapter 11): the backward pass of layer norm.

Fill in ``layer_norm_backward`` below, then check it:

    python -m minatt exercise layer_norm

The checker runs the library's own ``minatt.ops.layernorm.layer_norm_forward`` on inputs with
one, two and three axes and compares your three gradients with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.layernorm import LayerNormCache


def layer_norm_backward(dy: np.ndarray, cache: LayerNormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of layer norm over the last axis. D features, any leading axes.

    Forward (``layer_norm_forward(x, g, b) -> y, cache``), for every row x of D numbers:

        mu    = mean(x)                   sigma = sqrt(mean((x - mu)^2) + eps)
        xhat  = (x - mu) / sigma          (..., D)
        y     = g * xhat + b              (..., D)

    Args:
        dy: (..., D) gradient of the loss with respect to y.
        cache: the forward's :class:`LayerNormCache`, a NamedTuple with fields
            cache.xhat       (..., D)  the normalised input
            cache.inv_sigma  (..., 1)  1 / sigma, per row
            cache.g          (D,)      the gain

    Returns:
        (dx, dg, db): dx (..., D) like x; dg and db (D,), summed over every leading axis.

    Hints (chapter 11: from Luong to the Transformer):
        - g and b are shared by every row: their gradients are sums over the rows.
        - Call dxhat = dy * g. Each x_j reaches the loss three ways: directly through xhat_j, and
          through mu and sigma, which every xhat_i depends on. d mu / d x_j = 1 / D and
          d sigma / d x_j = xhat_j / D.
        - The three terms fit in one line: the means are over the last axis, with keepdims=True.
    """
    raise NotImplementedError("layer_norm_backward: replace this line with your code")
