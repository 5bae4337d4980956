"""The best a model could do on denoise: what the generator's own posterior predicts.

A denoise source is its clean target (uniform symbols, a length uniform in lo..hi) with each
token, independently, kept (probability 1 - p), replaced by a different symbol (p_r) or dropped
(p_d); p_d = p_r = p/2 with V >= 2 symbols, and with one symbol every hit token is dropped
(:class:`minatt.tasks.DenoiseTask`). A model that knew this generator exactly and computed
P(clean | noisy) could do no better than the outputs computed here, so a trained model's
accuracy reads against them (:meth:`minatt.tasks.DenoiseTask.heldout_report`).

Sequences are lists of symbol indices 0..V-1; the index V stands for EOS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["best_output", "copy_is_best", "lost", "position_posterior", "rates"]


def rates(V: int, p: float) -> tuple[float, float]:
    """(p_d, p_r): the chance that a clean token is dropped, and that it is replaced."""
    return (p / 2, p / 2) if V > 1 else (p, 0.0)


def copy_is_best(V: int, p: float, max_len: int) -> bool:
    """True when every source of an allowed length is its own most probable clean sequence.

    Explaining a source by d drops and r replacements instead of "it is clean" multiplies its
    probability by (p_d / V)^d (p_r / ((V-1)(1-p)))^r per alignment (a dropped symbol is one of
    V, a replaced one of V - 1, either way with no trace). Summed over the at most C(n, d)
    alignments of another clean sequence of n <= max_len tokens, that stays below 1 when
    p_r < (V-1)(1-p) and 2 * max_len * p_d <= V (then C(n, d) (p_d / V)^d <= (1/2)^d / d!).
    Then the best exact-match decoder copies its source.
    """
    p_drop, p_replace = rates(V, p)
    return p_replace < max(V - 1, 1) * (1 - p) and 2 * max_len * p_drop <= V


def lost(noisy: Sequence, clean: Sequence) -> tuple[int, int]:
    """(d, r): the drops, and the fewest replacements, that turn ``clean`` into ``noisy``.

    r is an edit distance with deletions and substitutions only, by dynamic programming:
    best[j] = the fewest mismatches aligning noisy[:j] with the clean tokens seen so far.
    """
    d = len(clean) - len(noisy)
    if d < 0:
        raise ValueError(f"a denoise source is never longer than its target: {list(noisy)} vs {list(clean)}")
    best = [0] + [len(clean) + 1] * len(noisy)
    for tok in clean:                 # each clean token is kept (matched or replaced) or dropped
        for j in range(len(noisy), 0, -1):
            best[j] = min(best[j], best[j - 1] + (noisy[j - 1] != tok))
    return d, best[len(noisy)]


def position_posterior(noisy: Sequence[int], V: int, p: float, lo: int, hi: int) -> np.ndarray:
    """(hi + 1, V + 1) array: up to the constant 1 / (hi - lo + 1), P(target[t] = x, noisy) for
    every output position t and token x (the V symbols, then EOS).

    With the clean symbols summed out, a clean position that emits the next source token weighs
    e = (1 - p_d) / V (kept: (1 - p) / V; replaced: p_r / V) and one that drops weighs p_d. So
    the first i clean tokens emit the first j source tokens with weight F[i, j] = C(i, j) e^j
    p_d^(i-j), and clean tokens i.. emit source tokens j.. with B[i, j] (the same count). Clean
    token i is x with weight, summed over j, F[i, j] times B[i+1, j+1] ((1-p)/V if x = noisy[j],
    else p_r / (V (V-1))) plus B[i+1, j] p_d / V; target position L (the EOS) weighs F[L, m].
    A one-token source may also be the kept first token of an all-dropped clean sequence
    (weight p_d^L / V).
    """
    m = len(noisy)
    p_drop, p_replace = rates(V, p)
    emit = (1 - p_drop) / V
    match, other = (1 - p) / V, (p_replace / (V * (V - 1)) if V > 1 else 0.0)
    binomial = np.array([[math.comb(a, b) for b in range(hi + 1)] for a in range(hi + 1)], dtype=float)
    onehot = np.zeros((m, V))                                          # (m, V)
    onehot[np.arange(m), list(noisy)] = 1.0

    def weight(steps: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """C(steps, tokens) e^tokens p_d^(steps - tokens): ``steps`` clean tokens emit ``tokens``."""
        ok = (tokens >= 0) & (tokens <= steps)
        steps, tokens = np.maximum(steps, 0), np.clip(tokens, 0, None)
        return np.where(ok, binomial[steps, tokens] * emit**tokens * p_drop ** np.abs(steps - tokens), 0.0)

    out = np.zeros((hi + 1, V + 1))
    for length in range(max(lo, m), hi + 1):
        i, j = np.arange(length + 1)[:, None], np.arange(m + 1)[None, :]
        F, B = weight(i, j), weight(length - i, m - j)                 # (length + 1, m + 1)
        next_ = F[:-1, :-1] * B[1:, 1:]                                # (length, m) clean i emits noisy[j]
        stay = F[:-1, :] * B[1:, :]                                    # (length, m + 1) clean i dropped
        tokens = next_ @ (onehot * match + (1 - onehot) * other) + stay.sum(1, keepdims=True) * p_drop / V
        total = F[length, m]
        if m == 1:                                                     # every token dropped, the first kept
            tokens[0] += p_drop**length / V * onehot[0]
            tokens[1:] += p_drop**length / V / V
            total += p_drop**length / V
        out[:length, :V] += tokens
        out[length, V] += total
    return out


def best_output(noisy: Sequence[int], V: int, p: float, lo: int, hi: int) -> list[int]:
    """The output (symbol indices, then V for EOS) with the most right target positions to expect.

    A decoder writes symbols, then EOS, then padding that no target position matches. Writing
    EOS at position k is worth P(target[k] = EOS) plus, before it, the most probable symbol's
    probability at each position; k = hi + 1 stands for no EOS in range.
    """
    P = position_posterior(noisy, V, p, lo, hi)                        # (hi + 1, V + 1)
    before = np.concatenate([[0.0], np.cumsum(P[:, :V].max(axis=1))])  # (hi + 2,)
    worth = before + np.append(P[:, V], 0.0)                          # (hi + 2,) EOS at k = 0 .. hi + 1
    k = int(worth.argmax())
    return [*P[:k, :V].argmax(axis=1).tolist(), V][: hi + 1]
