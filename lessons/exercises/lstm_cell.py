"""Exercise (chapter 4): the LSTM cell, forward AND backward, with a cache you design.

Fill in ``lstm_cell_forward`` and ``lstm_cell_backward`` below, then check them:

    python -m minatt exercise lstm_cell

The checker compares your forward's h and c with the library's ``minatt.ops.lstm.lstm_cell_forward``
(they should agree to about 1e-15; it passes below 1e-10), then gives your backward the cache
YOUR forward returned and compares da and dc_prev with finite differences: your relative errors
should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def lstm_cell_forward(a: np.ndarray, c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    """The LSTM cell, given its pre-activations. N batch, H hidden.

    The step computes a = x @ Wx + h_prev @ Wh + b and hands it to the cell. Gates in PyTorch's
    order i, f, g, o: columns [0:H] = i, [H:2H] = f, [2H:3H] = g, [3H:4H] = o.

        i = sigmoid(a_i),  f = sigmoid(a_f),  g = tanh(a_g),  o = sigmoid(a_o)
        c_next = f * c_prev + i * g
        h_next = o * tanh(c_next)

    Args:
        a: (N, 4H) pre-activations.
        c_prev: (N, H) the previous cell state.

    Returns:
        (h_next, c_next, cache): h_next (N, H), c_next (N, H), and a cache of YOUR design: anything your backward
        needs (a tuple, a NamedTuple, a dict). Decide what to keep: recomputing is allowed, but
        the cheapest backward keeps the values it multiplies by.
    """
    raise NotImplementedError("lstm_cell_forward: replace this line with your code")


def lstm_cell_backward(dh_next: np.ndarray, dc_next: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray]:
    """Backward of your lstm_cell_forward. N batch, H hidden.

    Args:
        dh_next: (N, H) gradient of the loss with respect to h_next.
        dc_next: (N, H) gradient of the loss with respect to c_next (from the next step).
        cache: what YOUR lstm_cell_forward returned.

    Returns:
        (da, dc_prev): da (N, 4H) in the column order i, f, g, o, and dc_prev (N, H).

    Hints (chapter 4: the LSTM):
        - c_next receives gradient twice: dc_next, and through h_next = o * tanh(c_next). Add both
          into dc_t first.
        - Write the derivatives from the outputs: sigmoid' = s * (1 - s), tanh' = 1 - t ** 2.
          That is why the cache should hold the gates after their nonlinearities, and tanh(c).
    """
    raise NotImplementedError("lstm_cell_backward: replace this line with your code")
