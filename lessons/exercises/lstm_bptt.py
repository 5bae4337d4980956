"""Exercise (chapter 4): backpropagation through time, the backward of a whole masked LSTM sequence.

Fill in ``lstm_backward`` below, then check it:

    python -m minatt exercise lstm_bptt

The checker runs the library's own ``minatt.ops.lstm.lstm_forward`` on small random float64
sequences (with padding masks, including a row of one real step, and once with dhT and dcT
None) and compares your six gradients with finite differences. Your relative errors should be
below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.lstm import LSTMCache, lstm_cell_backward  # noqa: F401 - yours to call


def lstm_backward(
    dhs: np.ndarray, dhT: np.ndarray | None, dcT: np.ndarray | None, cache: LSTMCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of an LSTM run over a batch of padded sequences. N batch, T steps, D input, H hidden.

    Forward (``lstm_forward(x, h0, c0, Wx, Wh, b, mask) -> hs, (hT, cT), cache``), for t = 0 .. T-1:

        a_t            = x[:, t] @ Wx + h_prev @ Wh + b        (N, 4H), gates i, f, g, o
        h_next, c_next = lstm_cell(a_t, c_prev)                (chapter 4's cell)
        at a padded step (mask[n, t] False) row n keeps h_prev and c_prev unchanged
        hs[:, t]       = h_next, but 0 at padded steps         (N, T, H)
        h_prev, c_prev = h_next, c_next                        (h_prev, c_prev = h0, c0 before step 0)
        hT, cT         = the last h_next, c_next (each row's state after its last real step)

    Args:
        dhs: (N, T, H) gradient of the loss with respect to every output hs[:, t].
        dhT, dcT: (N, H) gradients with respect to the final hT and cT, or None meaning zero.
        cache: the forward's :class:`LSTMCache`, a NamedTuple with fields
            cache.x       (N, T, D)
            cache.Wx      (D, 4H)
            cache.Wh      (H, 4H)
            cache.h_prev  (N, T, H)  the state each step started from
            cache.cells   a list of T cell caches:
                          lstm_cell_backward(dh_next, dc_next, cache.cells[t]) -> da_t, dc_prev
            cache.pad     (N, T, 1) bool, True at padding; None when no step is padded

    Returns:
        (dx, dh0, dc0, dWx, dWh, db): dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H),
        dWh (H, 4H), db (4H,).

    Hints (chapter 4: the LSTM and backpropagation through time):
        - Walk t from T-1 down to 0 carrying dh and dc (starting at dhT and dcT). At step t the
          gradient at h_next is the carried dh PLUS dhs[:, t]: h_next was an output and the next
          step's input.
        - The cell's backward gives da_t; then dh for the step before is da_t @ Wh^T, and dx[:, t],
          dWx, dWh, db follow from da_t as in the step exercise (the weights' gradients SUM over t).
        - A padded step changed nothing: its rows pass dh and dc through unchanged, get da_t = 0,
          and dhs is ignored there (the output was the constant 0).
    """
    raise NotImplementedError("lstm_backward: replace this line with your code")
