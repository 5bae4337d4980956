"""Exercise (chapter 8): greedy decoding.

Fill in ``greedy_search`` below, then check it:

    python -m minatt exercise greedy

The checker runs your loop and the library's ``minatt.model.search.greedy_search`` on three small
fixed models (Bahdanau and Luong decoders, LSTM and GRU, with and without attention; sequences
that stop at different steps, and some that never stop). Your tokens must equal the library's
exactly, and your attention to 1e-10 (a correct loop gives exactly the same numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def greedy_search(step: Callable, state: Any, n: int, max_len: int, bos: int, eos: int, pad: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Decode n sequences greedily. N = n batch, S source steps, L decoded steps, V vocabulary.

    Args:
        step: the decoder, one step at a time: ``step(y, state) -> (state, logits, weights)`` with
            y (N,) int the previous tokens, logits (N, V), weights (N, S) the step's attention
            (all zeros for a model without attention). It never changes the state you pass in.
        state: the decoder's state before the first step (an opaque value: pass it back to step).
        n: the number of sequences N.
        max_len: the most steps to decode.
        bos, eos, pad: the begin-of-sequence, end-of-sequence and padding token ids.

    Returns:
        (tokens, attention): tokens (N, L) int, attention (N, L, S) float, where L is the number
        of steps run. Row n holds sequence n's tokens up to and including its EOS, then PAD.
        attention[:, t] is the weights of step t, and all zeros in rows that had finished
        before step t (the EOS step's own weights are kept).

    Hints (chapter 8: decoding, greedy and beam search):
        - Start from y = bos for every row; the next y is the argmax of the logits.
        - Keep a boolean "finished" per row: a finished row emits pad (whatever the logits say).
        - Stop when every row has finished, or after max_len steps; np.stack the steps on axis 1.
    """
    raise NotImplementedError("greedy_search: replace this line with your code")
