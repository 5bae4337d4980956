"""Exercise (chapter 8): beam search with length normalisation.

Fill in ``beam_search`` below, then check it:

    python -m minatt exercise beam

The checker runs your search and the library's ``minatt.model.search.beam_search`` (k = 3) on three
small fixed models (Bahdanau and Luong decoders, LSTM and GRU, with and without attention) whose
sequences stop at different steps. Your tokens must equal the library's exactly, and your
attention to 1e-10 (a correct search gives exactly the same numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def beam_search(step: Callable, state: Any, n: int, max_len: int, k: int, bos: int, eos: int, pad: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Beam search, k hypotheses per sequence. N = n batch, S source, L steps, V vocabulary.

    Args:
        step: the decoder, one step on N*k rows: ``step(y, state) -> (state, logits, weights)``,
            y (N*k,) int, logits (N*k, V), weights (N*k, S) (zeros without attention). Row
            n*k + j is hypothesis j of sequence n. step never changes the state you pass in.
        state: the decoder state for the N*k rows before the first step (all k copies of a
            sequence equal). It is a NamedTuple of arrays (some fields None); to keep rows
            ``rows`` (an int array): ``type(state)(*(None if a is None else a[rows] for a in state))``.
        n, max_len, k: N, the most steps, the beam width.
        bos, eos, pad: the token ids.

    Returns:
        (tokens, attention) of each sequence's best hypothesis, as in greedy search:
        tokens (N, L) int (EOS included, PAD after it), attention (N, L, S).

    The rules (the library's; follow them exactly to get its answer):
        - A hypothesis has a score, its summed log-probability (log p = logits - logsumexp(logits)
          per row), and a length, the tokens it emitted including EOS. At the start only
          hypothesis 0 of each sequence is live (score 0; the k-1 copies have score -inf).
        - Each step, every hypothesis proposes V extensions, score + log p[v]. A FINISHED one
          proposes only pad, at no cost, and its length does not grow.
        - Of a sequence's k*V proposals keep the k with the best (score / length). Record each
          kept one's token, its parent hypothesis, and its parent's attention row (zeros if the
          parent had already finished); reorder the state rows to the parents.
        - Stop when every kept hypothesis has finished, or after max_len steps. Then pick each
          sequence's best score / length and follow the parents back to read its tokens.

    Hints (chapter 8: decoding, greedy and beam search):
        - Work on (N, k, V) arrays: reshape the logits, and np.argsort(-x, axis=1)[:, :k] over
          the flattened k*V proposals gives the kept ones; parent = index // V, token = index % V.
    """
    raise NotImplementedError("beam_search: replace this line with your code")
