"""Exercise (chapter 6): the bidirectional encoder's backward, and its reversal within each row's length.

Fill in ``bidirectional_backward`` below, then check it:

    python -m minatt exercise bidirectional

The checker runs ``minatt.exercises.references.bidirectional_forward`` (what the library's
``minatt.model.nn.Encoder`` does with bidirectional=True, without the embedding) on small padded
batches and compares your seven gradients with finite differences. Your relative errors should
be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.exercises.references import BidirectionalCache
from minatt.ops.lstm import lstm_backward  # noqa: F401 - yours to call


def bidirectional_backward(dkeys: np.ndarray, dfinal_h: np.ndarray, dfinal_c: np.ndarray,
                           cache: BidirectionalCache) -> tuple[np.ndarray, ...]:
    """Gradients of a bidirectional LSTM encoder. N batch, S steps, D input, H hidden per direction.

    Forward (``bidirectional_forward(x, Wx_f, Wh_f, b_f, Wx_b, Wh_b, b_b, mask)``), both LSTMs
    starting from zeros, rev = reverse_index(mask) (rev[n, s] = len_n - 1 - s at a real position,
    s at padding; gathering by it twice gives the input back), rows = arange(N)[:, None]:

        hs_f, (h_f, c_f) = lstm_forward(x, 0, 0, Wx_f, Wh_f, b_f, mask)
        hs_r, (h_b, c_b) = lstm_forward(x[rows, rev], 0, 0, Wx_b, Wh_b, b_b, mask)   each row reversed
        keys    = [hs_f; hs_r[rows, rev]]     (N, S, 2H)   the backward outputs put back in source order
        final_h = [h_f; h_b],  final_c = [c_f; c_b]        (N, 2H)

    Args:
        dkeys: (N, S, 2H), dfinal_h: (N, 2H), dfinal_c: (N, 2H) the upstream gradients.
        cache: the forward's :class:`BidirectionalCache`, a NamedTuple with fields
            cache.fwd, cache.bwd   the two LSTMs' caches (for lstm_backward)
            cache.rows             (N, 1) arange(N)
            cache.rev              (N, S) the reversal

    Returns:
        (dx, dWx_f, dWh_f, db_f, dWx_b, dWh_b, db_b): dx (N, S, D), each direction's weight
        gradients (D, 4H), (H, 4H), (4H,).

    Hints (chapter 6, "Two directions"):
        - lstm_backward(dhs, dhT, dcT, cache) -> dx, dh0, dc0, dWx, dWh, db is yours to call.
        - Each direction gets its half of every gradient; the backward LSTM's outputs were
          reversed after it ran, so reverse its half of dkeys before its backward, and its dx
          after.
    """
    raise NotImplementedError("bidirectional_backward: replace this line with your code")
