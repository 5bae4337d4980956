"""Exercise (chapter 4): the backward pass of one LSTM step.

Fill in ``lstm_step_backward`` below, then check it:

    python -m minatt exercise lstm_step

The checker runs the library's own ``minatt.ops.lstm.lstm_step_forward`` on small random
float64 inputs and compares each of your six gradients with finite differences.
Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.lstm import LSTMStepCache


def lstm_step_backward(
    dh_next: np.ndarray, dc_next: np.ndarray, cache: LSTMStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one LSTM step. N batch, D input, H hidden.

    Forward (``lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b) -> h_next, c_next, cache``), gates
    in PyTorch's order i, f, g, o, fused in 4H columns [0:H] = i, [H:2H] = f, [2H:3H] = g, [3H:4H] = o:

        a      = x @ Wx + h_prev @ Wh + b                   (N, 4H) pre-activations
        i      = sigmoid(a_i)
        f      = sigmoid(a_f)
        g      = tanh(a_g)
        o      = sigmoid(a_o)
        c_next = f * c_prev + i * g                         (N, H)
        tc     = tanh(c_next)
        h_next = o * tc

    Args:
        dh_next: (N, H) gradient of the loss with respect to h_next.
        dc_next: (N, H) gradient of the loss with respect to c_next (from the next step).
        cache: the forward's :class:`LSTMStepCache`, a NamedTuple with fields
            cache.x       (N, D)  the input x
            cache.h_prev  (N, H)  the previous hidden state
            cache.Wx      (D, 4H)
            cache.Wh      (H, 4H)
            cache.cell    the cell's cache, each field (N, H):
                cache.cell.i, cache.cell.f, cache.cell.g, cache.cell.o   the gates (after sigmoid/tanh)
                cache.cell.c_prev   the previous cell state
                cache.cell.tc       tanh(c_next)

    Returns:
        (dx, dh_prev, dc_prev, dWx, dWh, db), the gradients with respect to the forward's inputs:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).

    Hints (chapter 4: the LSTM):
        - c_next receives gradient twice: straight from dc_next, and through h_next = o * tanh(c_next).
          Add both into one dc_t before anything else.
        - Write the derivatives from the outputs: sigmoid' = s * (1 - s), tanh' = 1 - t ** 2.
        - Gather the four pre-activation gradients into one da (N, 4H) in Wx's column order
          i, f, g, o (np.concatenate along axis 1); then every remaining gradient is one matmul
          or one sum.
    """
    raise NotImplementedError("lstm_step_backward: replace this line with your code")
