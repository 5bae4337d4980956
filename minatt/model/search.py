"""Decoding without a target: greedy and beam search, batched over the sequences (and beams).

Dimensions: N batch, S source steps, L decoded steps (<= max_len), k beams, V target vocabulary.

Both feed the decoder its own previous token, starting from BOS, and stop when every sequence
has produced EOS or after max_len steps. The returned tokens include the EOS and are PAD
after it; the attention row of a step after EOS is zero (score 'none': all zeros).

Greedy:  y_t = argmax_v logits_t[v]     over v not in {BOS, PAD}.

Neither search ever emits BOS or PAD as a token of an answer: BOS only starts the decoder, PAD
only fills the rows after EOS. Both are masked out (their logits, or log-probabilities, set to
-inf) before the choice, so even an untrained model's answers hold only real tokens and EOS.

Beam: every sequence keeps k hypotheses, run as one batch of N*k rows. A hypothesis' score
is its summed log-probability, log p = logits - logsumexp(logits); it is RANKED by the
length-normalised score

    score / length           (length = tokens emitted, EOS included: the mean log-probability)

both when the N*k*V candidate extensions are cut back to k per sequence and when the best
finished hypothesis is chosen. A finished hypothesis stays in the beam: it can only be extended
by PAD at no cost and with no change in length, so it competes with the live ones by its
normalised score. Unnormalised, search favours short outputs (every token adds a negative
log-probability); the mean does not. With k = 1 the one candidate kept is the argmax token,
so beam search is greedy search. Backpointers are kept per step and the best hypothesis'
tokens and attention are read back at the end.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module, to_numpy

Array = Any

__all__ = ["Decoded", "beam_search", "greedy_search"]


class Decoded(NamedTuple):
    """Decoder output on the host."""

    tokens: Any  # (N, L) int64, EOS included, PAD after it
    attention: Any  # (N, L, S) float, zero rows after EOS (all zero for score 'none')


def _step(decoder, y: Array, state, mem) -> tuple[Any, Array, Array]:
    """y (M,) previous tokens -> (next state, logits (M, V), weights (M, S))."""
    xp = array_module(mem.keys)
    emb, _ = decoder.embed.forward(y)  # (M, E)
    ay, _ = decoder.rnn.project(emb)  # (M, GH)
    state, o, weights, _ = decoder.step(ay, state, mem)
    if weights is None:  # score 'none'
        weights = xp.zeros(mem.mask.shape, dtype=o.dtype)
    return state, decoder.logits(o), weights


def _forbid(scores: Array, config) -> Array:
    """``scores`` (..., V) with the BOS and PAD columns set to -inf, in place: never emitted."""
    scores[..., config.bos_id] = -float("inf")
    scores[..., config.pad_id] = -float("inf")
    return scores


def _done(tokens: list, attention: list) -> Decoded:
    tokens = to_numpy(array_module(tokens[0]).stack(tokens, axis=1)).astype("int64")  # (N, L)
    attention = to_numpy(array_module(attention[0]).stack(attention, axis=1))  # (N, L, S)
    return Decoded(tokens, attention)


def greedy_search(decoder, mem, h0: Array, c0: Array | None, max_len: int, config) -> Decoded:
    """decoder (minatt.model.decoders), mem (Memory, N rows), h0/c0 the initial state -> Decoded (N, L)."""
    xp = array_module(mem.keys)
    N = mem.keys.shape[0]
    pad, eos = config.pad_id, config.eos_id
    y = xp.full((N,), config.bos_id, dtype=xp.int64)
    finished = xp.zeros((N,), dtype=bool)
    state, tokens, attention = decoder.initial_state(h0, c0), [], []
    for _ in range(max_len):
        state, logits, weights = _step(decoder, y, state, mem)
        y = xp.where(finished, pad, xp.argmax(_forbid(logits, config), axis=1))  # (N,)
        tokens.append(y)
        attention.append(weights * ~finished[:, None])
        finished = finished | (y == eos)
        if bool(finished.all()):  # the one host sync per step: the price of stopping early
            break
    return _done(tokens, attention)


def _rows(x: Any, index: Array) -> Any:
    """Select rows ``index`` of every array in a NamedTuple (None fields stay None)."""
    return type(x)(*(None if a is None else a[index] for a in x))


def beam_search(decoder, mem, h0: Array, c0: Array | None, max_len: int, k: int, config) -> Decoded:
    """Like :func:`greedy_search` with k beams per sequence (see the module docstring)."""
    xp = array_module(mem.keys)
    N, S = mem.mask.shape
    pad, eos = config.pad_id, config.eos_id
    rows = xp.arange(N)[:, None]  # (N, 1)
    start = xp.repeat(xp.arange(N), k)  # (N*k,) every sequence k times
    mem = _rows(mem, start)
    state = _rows(decoder.initial_state(h0, c0), start)
    y = xp.full((N * k,), config.bos_id, dtype=xp.int64)
    score = None  # (N, k) summed log-probabilities
    length = xp.zeros((N, k), dtype=xp.int64)  # tokens emitted, EOS included
    finished = xp.zeros((N, k), dtype=bool)
    history = []  # per step: (tokens (N, k), parents (N, k), attention (N, k, S))
    for _ in range(max_len):
        state, logits, weights = _step(decoder, y, state, mem)  # (N*k, V), (N*k, S)
        V = logits.shape[1]
        if score is None:  # only beam 0 of each sequence is live at the start
            score = xp.full((N, k), -xp.inf, dtype=logits.dtype)
            score[:, 0] = 0.0
            pad_only = xp.full((V,), -xp.inf, dtype=logits.dtype)
            pad_only[pad] = 0.0
        top = logits.max(axis=1, keepdims=True)  # (N*k, 1)
        logp = logits - (top + xp.log(xp.exp(logits - top).sum(axis=1, keepdims=True)))  # (N*k, V)
        logp = _forbid(logp.reshape(N, k, V), config)  # (N, k, V), the model's log p; BOS and PAD -inf
        logp = xp.where(finished[:, :, None], pad_only, logp)  # a finished beam: PAD at no cost
        cand = score[:, :, None] + logp  # (N, k, V)
        cand_len = length + ~finished  # (N, k)
        norm = cand / cand_len.astype(cand.dtype)[:, :, None]  # (N, k, V) length-normalised
        ranked = xp.argsort(-norm.reshape(N, k * V), axis=1)[:, :k]  # (N, k*V) -> best k (N, k)
        parent, token = ranked // V, ranked % V
        score = cand.reshape(N, k * V)[rows, ranked]  # (N, k*V) -> (N, k)
        length = cand_len[rows, parent]
        was_finished = finished[rows, parent]
        finished = was_finished | (token == eos)
        flat = (rows * k + parent).reshape(-1)  # (N*k,) the parent's row
        state = _rows(state, flat)
        attention = weights.reshape(N, k, S)[rows, parent]  # (N, k, S), the parent's attention
        attention = attention * ~was_finished[:, :, None]
        history.append((token, parent, attention))
        y = token.reshape(-1)  # (N*k,)
        if bool(finished.all()):  # the one host sync per step: the price of stopping early
            break
    best = xp.argmax(score / length.astype(score.dtype), axis=1)  # (N,)
    tokens, attention = [], []
    for token, parent, att in reversed(history):
        tokens.append(token[rows[:, 0], best])
        attention.append(att[rows[:, 0], best])
        best = parent[rows[:, 0], best]
    return _done(tokens[::-1], attention[::-1])
