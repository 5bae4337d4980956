"""Exercise (chapter 5): the backward pass of one GRU step.

Fill in ``gru_step_backward`` below, then check it:

    python -m minatt exercise gru_step

The checker runs the library's own ``minatt.ops.gru.gru_step_forward`` on small random
float64 inputs and compares each of your six gradients with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.gru import GRUStepCache


def gru_step_backward(
    dh_next: np.ndarray, cache: GRUStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one GRU step (PyTorch's formulation). N batch, D input, H hidden.

    Forward (``gru_step_forward(x, h_prev, Wx, Wh, bx, bh) -> h_next, cache``), gates r, z, n
    fused in 3H columns [0:H] = r, [H:2H] = z, [2H:3H] = n:

        ax     = x @ Wx + bx,   ah = h_prev @ Wh + bh       (N, 3H)
        r      = sigmoid(ax_r + ah_r)
        z      = sigmoid(ax_z + ah_z)
        n      = tanh(ax_n + r * ah_n)
        h_next = (1 - z) * n + z * h_prev

    Args:
        dh_next: (N, H) gradient of the loss with respect to h_next.
        cache: the forward's :class:`GRUStepCache`, a NamedTuple with fields
            cache.x       (N, D)  the input x
            cache.Wx      (D, 3H)
            cache.Wh      (H, 3H)
            cache.cell    the cell's cache, each field (N, H):
                cache.cell.r, cache.cell.z, cache.cell.n   the gates (after sigmoid/tanh)
                cache.cell.ah_n     h_prev @ Wh_n + bh_n, the n block of ah (before r multiplies it)
                cache.cell.h_prev   the previous hidden state

    Returns:
        (dx, dh_prev, dWx, dWh, dbx, dbh), the gradients with respect to the forward's inputs:
        dx (N, D), dh_prev (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,).

    Hints (chapter 5: the GRU):
        - h_prev reaches h_next twice: directly through z * h_prev, and through the three gates
          via Wh.
        - The n block differs between the two sides: ax_n enters tanh as is, ah_n only after
          being multiplied by r. So the x side and the h side get different (N, 3H) gradients:
          call the n blocks da_nx and da_nh.
        - sigmoid' = s * (1 - s), tanh' = 1 - n ** 2, from the cached outputs.
    """
    raise NotImplementedError("gru_step_backward: replace this line with your code")
