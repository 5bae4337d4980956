"""Greedy and beam search never emit BOS or PAD inside an answer, even from a model that prefers them."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import default_dtype
from minatt.seq2seq import Seq2Seq, Seq2SeqConfig


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
