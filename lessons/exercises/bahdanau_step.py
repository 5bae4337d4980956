"""Exercise (chapter 8): the backward pass of one Bahdanau-style decoder step.

Fill in ``bahdanau_step_backward`` below, then check it:

    python -m minatt exercise bahdanau_step

The step is ``bahdanau_step_forward`` of minatt/model/plain_steps.py, one function with a cache (an LSTM
cell and the additive score). The checker runs it on small random float64 inputs (with a padding
mask, including a row of one real source position) and compares your ten gradients with finite
differences. Your relative errors should be below 1e-8 (the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.exercises.decoder_steps import BahdanauStepCache
from minatt.ops.attention import attention_backward  # noqa: F401 - the pieces' backwards are yours to call
from minatt.ops.lstm import lstm_step_backward  # noqa: F401
from minatt.ops.scores import additive_score_backward  # noqa: F401


def bahdanau_step_backward(do: np.ndarray, ds_next: np.ndarray, dc_next: np.ndarray,
                           cache: BahdanauStepCache) -> tuple:
    """Gradients of one Bahdanau decoder step. N batch, S source, E embedding, H hidden, K key size.

    Forward (``bahdanau_step_forward(y_emb, s_prev, c_prev, keys, Wq, Wk, v, Wx, Wh, b, mask)
    -> o, s, c, cache``): attend from the PREVIOUS state, then step the cell.

        scores  = additive_score(s_prev, keys; Wq, Wk, v)   (N, S)
        weights = softmax(scores, mask)                     (N, S)
        context = weights @ keys                            (N, K)  (per row)
        s, c    = lstm_step([y_emb; context], s_prev, c_prev; Wx, Wh, b)
        o       = [s; context]                              (N, H + K), the output layer's input

    Args:
        do: (N, H + K) gradient with respect to o.
        ds_next, dc_next: (N, H) gradients with respect to the new state s and cell c (from the next step).
        cache: a :class:`BahdanauStepCache`, a NamedTuple of the pieces' caches:
            cache.score      the additive score's cache:  additive_score_backward(dscores, cache.score)
                             -> dq, dkeys, dWq, dWk, dv
            cache.attention  the attention's cache:       attention_backward(dcontext, None, cache.attention)
                             -> dscores, dvalues (cache.attention.softmax.p are the weights)
            cache.lstm       the LSTM step's cache:       lstm_step_backward(dh, dc, cache.lstm)
                             -> dx, dh, dc, dWx, dWh, db (its input x was [y_emb; context])

    Returns:
        (dy_emb, ds_prev, dc_prev, dkeys, dWq, dWk, dv, dWx, dWh, db), shaped like y_emb (N, E),
        s_prev (N, H), c_prev (N, H), keys (N, S, K), Wq (H, A), Wk (K, A), v (A,), Wx (E + K, 4H),
        Wh (H, 4H), b (4H,).

    Hints (chapter 8: the attention decoder, "Bahdanau style: its backward pass"):
        - Call the pieces' backwards in reverse order: the LSTM step first, then attention, then
          the score. The exercise is the wiring between them.
        - Three values are used twice, and each gets the SUM of its two gradients: the context
          (in o and in the cell's input), s_prev (the query and the cell's previous state), and
          the keys (scored, and averaged into the context).
        - o = [s; context]: its first H columns add to ds, its last K to dcontext.
    """
    raise NotImplementedError("bahdanau_step_backward: replace this line with your code")
