"""Whole-model gradient checks: every cell x score x decoder x direction of :class:`minatt.model.seq2seq.Seq2Seq`.

Not in the op registry (the op sweep stays fast); ``python -m minatt gradcheck --model`` runs
:func:`check_model` over :data:`COMBOS`. Each case is a tiny float64 model on a fixed batch
whose sources and targets have different lengths, one of each of length 1:

    N = 3, S = 5 (source lengths 5, 1, 3), T = 4 (target lengths incl. EOS 2, 4, 1),
    src vocab 7, tgt vocab 6, E = 3, H = 4 (two directions of 2), A = 3;
    a transformer encoder: 2 layers of 2 heads, F = 8, ReLU inputs kept clear of the kink.

The parameters are redrawn from N(0, 0.7^2): at PyTorch's initialisation a model this small
pays so little attention that some attention gradients are ~1e-9, below what a centred
difference of a loss ~2 can resolve to six digits (its rounding error is ~1e-13).
The check samples a few elements of every array and one random direction through all of it.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import numpy

from minatt.backend import asarray, default_dtype, randn
from minatt.gradcheck.checker import Case, GradResult, check_gradients
from minatt.gradcheck.transformer_cases import clear_encoder_kinks
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.tasks import Batch

CELLS = ("lstm", "gru")
SCORES = ("additive", "dot", "scaled_dot", "general", "concat", "none")  # aliases ('bahdanau') excluded
DECODERS = ("bahdanau", "luong")


class Combo(NamedTuple):
    """One model configuration to check (a plain 4-tuple in this order works too)."""

    cell: str
    score: str
    decoder: str
    bidirectional: bool
    encoder: str = "rnn"  # or "transformer", with the settings TRANSFORMER


TRANSFORMER = {"layers": 2, "heads": 2, "ff": 8}  # two layers of two heads of size 2
COMBOS: list[Combo] = [Combo(*c) for c in itertools.product(CELLS, SCORES, DECODERS, (False, True))]
COMBOS += [Combo(cell, score, decoder, False, "transformer") for cell, score, decoder in
           (("lstm", "additive", "bahdanau"), ("gru", "scaled_dot", "luong"), ("lstm", "none", "luong"))]

SRC_VOCAB, TGT_VOCAB = 7, 6
SRC_LENGTHS = (5, 1, 3)
TGT_LENGTHS = (2, 4, 1)  # including the EOS
PARAM_SCALE = 0.7
STEP = 2e-3  # the centred-difference step (4th order), for elements and unit directions alike

__all__ = ["COMBOS", "check_batch", "check_model", "combo_name", "model_case"]


def combo_name(combo: Combo) -> str:
    """'lstm-additive-bahdanau-bi' style label ('...-transformer' for a transformer encoder)."""
    cell, score, decoder, bidirectional, encoder = Combo(*combo)
    kind = "transformer" if encoder == "transformer" else ("bi" if bidirectional else "uni")
    return f"{cell}-{score}-{decoder}-{kind}"


def check_batch(seed: int = 0) -> Batch:
    """The fixed host batch (see the module docstring); ids >= 3 so real tokens are never PAD/BOS/EOS."""
    rng = numpy.random.default_rng(seed)
    S, T = max(SRC_LENGTHS), max(TGT_LENGTHS)
    src_mask = numpy.arange(S) < numpy.array(SRC_LENGTHS)[:, None]  # (N, S)
    tgt_mask = numpy.arange(T) < numpy.array(TGT_LENGTHS)[:, None]  # (N, T)
    src = numpy.where(src_mask, rng.integers(3, SRC_VOCAB, src_mask.shape), 0)
    words = rng.integers(3, TGT_VOCAB, tgt_mask.shape)  # (N, T) the target words
    last = numpy.arange(T) == numpy.array(TGT_LENGTHS)[:, None] - 1  # (N, T) the EOS position
    tgt_out = numpy.where(tgt_mask, numpy.where(last, 2, words), 0)
    shifted = numpy.concatenate([numpy.ones_like(words[:, :1]), words[:, :-1]], axis=1)  # BOS + words
    tgt_in = numpy.where(tgt_mask, shifted, 0)
    return Batch(src, src_mask, tgt_in.astype(numpy.int64), tgt_out.astype(numpy.int64), tgt_mask)


def _build(combo: Combo, seed: int, options: dict | None = None) -> tuple[Seq2Seq, Batch]:
    cell, score, decoder, bidirectional, encoder = Combo(*combo)
    settings = {"encoder": encoder, **(TRANSFORMER if encoder == "transformer" else {}), **(options or {})}
    config = Seq2SeqConfig(SRC_VOCAB, TGT_VOCAB, embed=3, hidden=4, cell=cell, score=score, decoder=decoder,
                           bidirectional=bidirectional, attn_dim=3, **settings)
    rng = numpy.random.default_rng(seed)
    with default_dtype("float64"):
        model = Seq2Seq(config, seed=seed)
        for p in model.params.values():
            p[...] = randn(rng, p.shape, PARAM_SCALE)
        batch = check_batch(seed)
        if config.encoder == "transformer":  # ReLU inputs away from the kink (see minatt.gradcheck.transformer_cases)
            clear_encoder_kinks(model.encoder, asarray(batch.src), asarray(batch.src_mask), rng)
    return model, batch


def model_case(cell: str, score: str, decoder: str, bidirectional: bool, seed: int = 0,
               options: dict | None = None) -> Case:
    """A float64 gradient Case for one configuration: ``fn(params) -> model.loss_and_grads(batch)``.

    ``options``: further Seq2SeqConfig settings, e.g. ``{"input_feeding": False}``.
    """
    model, batch = _build((cell, score, decoder, bidirectional), seed, options)
    return Case(fn=lambda params: model.loss_and_grads(batch), params=model.params)


def check_model(combo: Combo, seed: int = 0, options: dict | None = None, **kw: Any) -> list[GradResult]:
    """Check one configuration's gradients; ``options`` as in :func:`model_case`; ``kw`` overrides
    check_gradients' settings.

    Defaults: 3 sampled elements per array and 1 random unit direction through each whole
    array, step h = 2e-3, tol 1e-6, and the cheaper forward-only ``model.loss`` for the
    perturbed evaluations. The parameters and gradients must match key for key (strict).
    """
    model, batch = _build(tuple(combo), seed, options)
    settings: dict[str, Any] = {"max_full": 0, "n_samples": 3, "n_directions": 1, "h": STEP, "tol": 1e-6,
                                "seed": seed, "op": f"model[{combo_name(tuple(combo))}]"}
    settings.update(kw)
    return check_gradients(lambda params: model.loss_and_grads(batch), model.params,
                           loss_only=lambda params: model.loss(batch), **settings)
