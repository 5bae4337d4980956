"""Exercise (chapter 4): one step of the plain tanh RNN, forward AND backward, with your own cache.

Fill in ``rnn_step_forward`` and ``rnn_step_backward`` below, then check them:

    python -m minatt exercise rnn_step

The checker compares your forward's h_next with the library's ``minatt.ops.rnn.rnn_step_forward``
(a correct answer agrees to about 1e-15; it passes below 1e-10), then gives your backward the
cache YOUR forward returned and compares your five gradients with finite differences: your
relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def rnn_step_forward(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, Any]:
    """One tanh RNN step. N batch, D input, H hidden.

        a      = x @ Wx + h_prev @ Wh + b                   (N, H)
        h_next = tanh(a)

    Args:
        x: (N, D) the step's input.
        h_prev: (N, H) the previous hidden state.
        Wx: (D, H), Wh: (H, H), b: (H,).

    Returns:
        (h_next, cache): h_next (N, H), and a cache of YOUR design holding what your backward needs.
    """
    raise NotImplementedError("rnn_step_forward: replace this line with your code")


def rnn_step_backward(dh_next: np.ndarray, cache: Any) -> tuple[np.ndarray, ...]:
    """Backward of your rnn_step_forward.

    Args:
        dh_next: (N, H) gradient of the loss with respect to h_next.
        cache: what YOUR rnn_step_forward returned.

    Returns:
        (dx, dh_prev, dWx, dWh, db): dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,).

    Hints (chapter 4, "First, the plain tanh RNN"):
        - Everything goes through the tanh: write its derivative with its output, 1 - h_next ** 2.
        - Then it is chapter 3's affine backward twice, once for x and Wx, once for h_prev and Wh.
    """
    raise NotImplementedError("rnn_step_backward: replace this line with your code")
