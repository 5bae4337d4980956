"""minatt.model.search: greedy and beam search, held against brute force over every output sequence, and never
emitting BOS or PAD.

The models here have a tiny target vocabulary, PAD 0, BOS 1, EOS 2 and three words, and PAD
and BOS are made (nearly) impossible outputs, so every sequence a search can return is a run of
words ended by EOS, or max_len words. A sequence's log-probability is minus its teacher-forced
loss times its length (``Seq2Seq.loss`` is the mean cross-entropy per token), computed here
without the search code.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from minatt.backend import default_dtype
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.tasks import Batch

PAD, BOS, EOS = 0, 1, 2
WORDS = (3, 4, 5)
V = 6
MAX_LEN = 3
SOURCES = np.array([[3, 4, 5, 4], [5, 5, 3, 0], [4, 3, 0, 0], [3, 3, 3, 5]])
MASK = SOURCES != PAD


def sharp_model(seed: int, **settings) -> Seq2Seq:
    """A random model whose output distributions are far from uniform, never emitting PAD or BOS."""
    with default_dtype("float64"):
        model = Seq2Seq(Seq2SeqConfig(V, V, embed=4, hidden=6, **settings), seed=seed)
    model.params["dec.out.W"] *= 4.0
    model.params["dec.out.b"][[PAD, BOS]] = -1e4
    return model


def every_output(max_len: int = MAX_LEN) -> list[list[int]]:
    """Every sequence a search can return: words then EOS (at most max_len tokens), or max_len words."""
    ended = [[*words, EOS] for n in range(max_len) for words in itertools.product(WORDS, repeat=n)]
    return ended + [list(words) for words in itertools.product(WORDS, repeat=max_len)]


def log_prob(model: Seq2Seq, row: int, seq: list[int]) -> float:
    """log p(seq | source ``row``), teacher forced: minus the mean cross-entropy times the length."""
    batch = Batch(SOURCES[row:row + 1], MASK[row:row + 1], np.array([[BOS, *seq[:-1]]]), np.array([seq]),
                  np.ones((1, len(seq)), bool))
    return -model.loss(batch) * len(seq)


def unpadded(tokens: np.ndarray) -> list[int]:
    """A decoded row up to and including its EOS (all of it when it has none)."""
    ends = np.flatnonzero(tokens == EOS)
    return [int(t) for t in (tokens[: ends[0] + 1] if len(ends) else tokens)]


@pytest.mark.parametrize("seed, settings", [(3, {}), (5, {}), (1, {"cell": "gru", "decoder": "luong", "score": "general"})])
def test_beam_with_every_hypothesis_kept_finds_the_best_sequence_by_brute_force(seed, settings):
    """With k = V**max_len nothing is ever cut, so beam search must return the sequence with the best
    mean log-probability (the module's length-normalised score) among every possible output."""
    model = sharp_model(seed, **settings)
    found = model.beam(SOURCES, MASK, max_len=MAX_LEN, k=V**MAX_LEN).tokens
    outputs = [tuple(seq) for seq in every_output()]
    by_last_step = 0
    for row in range(len(SOURCES)):
        total = functools.cache(lambda seq, row=row: log_prob(model, row, list(seq)) if seq else 0.0)
        best = max(outputs, key=lambda seq: total(seq) / len(seq))
        assert unpadded(found[row]) == list(best), f"source {row}"
        assert (found[row][len(best):] == PAD).all()
        # The test's power: ranking by the last token's log-probability alone picks another sequence.
        last = max(outputs, key=lambda seq: (total(seq) - total(seq[:-1])) / len(seq))
        by_last_step += last != best
    assert by_last_step > 0


def test_greedy_takes_the_most_likely_next_token_at_every_step():
    model = sharp_model(2)
    found = model.greedy(SOURCES, MASK, max_len=4).tokens
    for row in range(len(SOURCES)):
        seq = unpadded(found[row])
        for t in range(len(seq)):
            prefix = seq[:t]
            step = {v: log_prob(model, row, [*prefix, v]) for v in range(BOS, V)}  # (a PAD target counts for nothing)
            assert max(step, key=step.get) == seq[t], f"source {row}, step {t + 1}"


def test_searches_stop_at_eos_and_pad_after_it():
    model = sharp_model(3)  # its rows end after 1, 2 and 6 tokens
    for decoded in (model.greedy(SOURCES, MASK, max_len=6), model.beam(SOURCES, MASK, max_len=6, k=3)):
        lengths = [len(unpadded(tokens)) for tokens in decoded.tokens]
        assert min(lengths) < max(lengths) == decoded.tokens.shape[1] == 6
        for tokens, attention, n in zip(decoded.tokens, decoded.attention, lengths):
            assert (tokens[n:] == PAD).all() and (attention[n:] == 0).all()
            assert np.allclose(attention[:n].sum(axis=1), 1.0)


# -- greedy and beam never emit BOS or PAD, even from a model that prefers them --------------


def _model_that_likes(token: str, seed: int) -> tuple[Seq2Seq, np.ndarray, np.ndarray]:
    """A small random model whose output bias favours BOS or PAD, and a batch of 3 sources."""
    with default_dtype("float64"):
        model = Seq2Seq(Seq2SeqConfig(src_vocab=7, tgt_vocab=7, embed=4, hidden=6), seed=seed)
    config = model.config
    liked = config.bos_id if token == "bos" else config.pad_id
    model.params["dec.out.b"][liked] += 3.0   # the most likely token at most steps, were it allowed
    src = np.array([[3, 4, 5, 6], [6, 5, 0, 0], [4, 4, 4, 0]])
    return model, src, src != config.pad_id


def _answers_are_clean(tokens: np.ndarray, config) -> None:
    """Before a row's first EOS: real tokens only; after it: PAD only."""
    for row in tokens:
        ends = np.flatnonzero(row == config.eos_id)
        answer = row if ends.size == 0 else row[:ends[0]]
        assert not np.isin(answer, [config.bos_id, config.pad_id]).any(), row
        if ends.size:
            assert (row[ends[0] + 1:] == config.pad_id).all(), row


@pytest.mark.parametrize("token", ["bos", "pad"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_never_emits_bos_or_pad(token, seed):
    model, src, mask = _model_that_likes(token, seed)
    decoded = model.greedy(src, mask, max_len=6)
    _answers_are_clean(decoded.tokens, model.config)


@pytest.mark.parametrize("token", ["bos", "pad"])
@pytest.mark.parametrize("k", [1, 3, 6])
def test_beam_never_emits_bos_or_pad(token, k):
    model, src, mask = _model_that_likes(token, seed=0)
    decoded = model.beam(src, mask, max_len=6, k=k)
    _answers_are_clean(decoded.tokens, model.config)
    assert np.isfinite(decoded.attention).all()
