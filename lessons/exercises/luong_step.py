"""Exercise (chapter 8): the backward pass of one Luong-style decoder step (with input feeding).

Fill in ``luong_step_backward`` below, then check it:

    python -m minatt exercise luong_step

The step is ``luong_step_forward`` of minatt/model/plain_steps.py, one function with a cache (an LSTM
cell and the general score). The checker runs it on small random float64 inputs (with a padding
mask, including a row of one real source position) and compares your eleven gradients with finite
differences. Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.exercises.decoder_steps import LuongStepCache
from minatt.ops.attention import attention_backward  # noqa: F401 - the pieces' backwards are yours to call
from minatt.ops.linear import affine_backward  # noqa: F401
from minatt.ops.lstm import lstm_step_backward  # noqa: F401
from minatt.ops.scores import general_score_backward  # noqa: F401


def luong_step_backward(dht: np.ndarray, dh_next: np.ndarray, dc_next: np.ndarray, cache: LuongStepCache) -> tuple:
    """Gradients of one Luong decoder step. N batch, S source, E embedding, H hidden, K key size.

    Forward (``luong_step_forward(y_emb, h_prev, c_prev, feed, keys, Wx, Wh, b, Wa, Wc, bc, mask)
    -> ht, h, c, cache``): step the cell first, then attend from the NEW state.

        h, c    = lstm_step([y_emb; feed], h_prev, c_prev; Wx, Wh, b)   feed: the previous step's ht
        scores  = general_score(h, keys; Wa)                (N, S)
        weights = softmax(scores, mask)                     (N, S)
        context = weights @ keys                            (N, K)  (per row)
        ht      = tanh([context; h] @ Wc + bc)              (N, H): the output, and the next feed

    Args:
        dht: (N, H) gradient with respect to ht (the output's and the next step's feed's, summed).
        dh_next, dc_next: (N, H) gradients with respect to the new state h and cell c (from the next step).
        cache: a :class:`LuongStepCache`, a NamedTuple of the pieces' caches:
            cache.lstm       lstm_step_backward(dh, dc, cache.lstm) -> dx, dh, dc, dWx, dWh, db
                             (its input x was [y_emb; feed])
            cache.score      general_score_backward(dscores, cache.score) -> dq, dkeys, dWa
            cache.attention  attention_backward(dcontext, None, cache.attention) -> dscores, dvalues
            cache.combine    affine_backward(dpre, cache.combine) -> d[context; h], dWc, dbc
            cache.ht         (N, H) the output ht = tanh(pre)

    Returns:
        (dy_emb, dh_prev, dc_prev, dfeed, dkeys, dWx, dWh, db, dWa, dWc, dbc), shaped like y_emb
        (N, E), h_prev, c_prev, feed (N, H), keys (N, S, K), Wx (E + H, 4H), Wh (H, 4H), b (4H,),
        Wa (H, K), Wc (K + H, H), bc (H,).

    Hints (chapter 8: the attention decoder, "Luong style: its backward pass"):
        - Start at the output: dpre = dht * (1 - ht ** 2), then the combination's backward.
        - h is used three times (the next state, the query, the combination): run the LSTM step's
          backward LAST, with the sum of all three gradients.
        - The keys are used twice (scored, and averaged): dkeys is the sum of both gradients.
    """
    raise NotImplementedError("luong_step_backward: replace this line with your code")
