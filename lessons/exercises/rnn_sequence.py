"""Exercise (chapter 4): the tanh RNN over a whole sequence, forward AND backward through time.

Fill in ``rnn_forward`` and ``rnn_backward`` below, then check them:

    python -m minatt exercise rnn_sequence

The checker compares your hs with the reference's (``minatt.exercises.references.rnn_forward``,
the library's ``rnn_step_forward`` in a loop; a correct answer agrees to about 1e-15, it passes
below 1e-10), then gives your backward the cache YOUR forward returned and compares your five
gradients with finite differences: your relative errors should be below 1e-8 (the checker
passes below 1e-7).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                b: np.ndarray) -> tuple[np.ndarray, Any]:
    """A tanh RNN over T steps. N batch, T steps, D input, H hidden.

        h_prev = h0
        for t = 0 .. T-1:
            h_next   = tanh(x[:, t] @ Wx + h_prev @ Wh + b)
            hs[:, t] = h_next
            h_prev   = h_next

    Args:
        x: (N, T, D) the inputs; h0: (N, H) the initial state; Wx (D, H), Wh (H, H), b (H,).

    Returns:
        (hs, cache): hs (N, T, H) every step's state, and a cache of YOUR design.
    """
    raise NotImplementedError("rnn_forward: replace this line with your code")


def rnn_backward(dhs: np.ndarray, cache: Any) -> tuple[np.ndarray, ...]:
    """Backward of your rnn_forward.

    Args:
        dhs: (N, T, H) gradient of the loss with respect to every hs[:, t] (the outputs only).
        cache: what YOUR rnn_forward returned.

    Returns:
        (dx, dh0, dWx, dWh, db): dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).

    Hints (chapter 4, "Backpropagation through time"):
        - Walk t from T - 1 down to 0. h_t is used twice, as an output and by step t + 1, so the
          gradient at h_t is dhs[:, t] plus what step t + 1 sent back.
        - The weights are shared by every step: add up each step's gradient.
        - Your rnn_step_backward (exercise rnn_step) is the body of the loop.
    """
    raise NotImplementedError("rnn_backward: replace this line with your code")
