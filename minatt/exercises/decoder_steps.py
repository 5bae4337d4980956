"""Forwards for the exercises whose library function is not a plain ``forward -> outputs, cache``.

Two groups:

- Adapters, so the checker can call the library op as ``forward(*inputs, **rest) -> (*outputs,
  cache)``: :func:`lstm_sequence` (the masked LSTM over a sequence), :func:`embedding`
  (the table first, then the ids) and :func:`cross_entropy` (the loss as a 0-d array).
- The two decoder steps, one function each: :func:`minatt.model.plain_steps.bahdanau_step_forward` and
  :func:`minatt.model.plain_steps.luong_step_forward` (and their backwards, the reference solutions),
  imported from the library so that the exercise and the model share one definition.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import array_module
from minatt.model.plain_steps import (
    BahdanauStepCache,
    LuongStepCache,
    bahdanau_step_backward,
    bahdanau_step_forward,
    luong_step_backward,
    luong_step_forward,
)
from minatt.ops.embedding import embedding_forward
from minatt.ops.loss import cross_entropy_forward
from minatt.ops.lstm import lstm_forward

__all__ = [
    "BahdanauStepCache",
    "LuongStepCache",
    "bahdanau_step_backward",
    "bahdanau_step_forward",
    "cross_entropy",
    "embedding",
    "lstm_sequence",
    "luong_step_backward",
    "luong_step_forward",
]

Array = Any


# ---------------------------------------------------------------------------------------
# Adapters


def lstm_sequence(x: Array, h0: Array, c0: Array, Wx: Array, Wh: Array, b: Array,
                  mask: Array | None = None) -> tuple:
    """:func:`minatt.ops.lstm.lstm_forward` with its outputs flat: hs, hT, cT, cache."""
    hs, (hT, cT), cache = lstm_forward(x, h0, c0, Wx, Wh, b, mask)
    return hs, hT, cT, cache


def embedding(W: Array, ids: Array) -> tuple:
    """:func:`minatt.ops.embedding.embedding_forward` with the table first: out (..., D), cache."""
    return embedding_forward(ids, W)


def cross_entropy(logits: Array, targets: Array, ignore_index: int | None = None) -> tuple:
    """:func:`minatt.ops.loss.cross_entropy_forward` with the loss as a 0-d array: loss, cache."""
    loss, cache = cross_entropy_forward(logits, targets, ignore_index)
    return array_module(logits).asarray(loss, dtype=logits.dtype), cache
