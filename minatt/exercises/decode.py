"""The decoding exercises: greedy search and beam search over a decoder given as a step function.

The learner gets the decoder as ``step(y, state) -> (state, logits, weights)`` (:class:`DecoderStep`),
so the exercise is the search loop alone. The checker runs the learner's loop and the library's
(:func:`minatt.model.search.greedy_search`, :func:`minatt.model.search.beam_search`) on the same small fixed
models (random weights, the end-of-sequence bias raised so that sequences stop at different steps)
and compares the tokens exactly and the attention to 1e-10.

N batch, S source steps, L decoded steps, k beams, V target vocabulary.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy

from minatt.backend import array_module
from minatt.exercises.spec import Exercise, Trial
from minatt.model.search import _rows, _step
from minatt.model.search import beam_search as library_beam
from minatt.model.search import greedy_search as library_greedy
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig

__all__ = ["BEAM", "GREEDY", "DecoderStep", "beam_search", "decode_trials", "greedy_search"]

Array = Any


class DecoderStep:
    """One decoder step on M rows: ``step(y (M,), state) -> (state, logits (M, V), weights (M, S))``.

    The rows are the batch's N sequences, or for beam search N*k rows (row n*k + j is beam j of
    sequence n). ``weights`` is all zeros for a model without attention.
    """

    def __init__(self, decoder: Any, mem: Any, k: int = 1) -> None:
        N = mem.keys.shape[0]
        self.decoder, self.mem, self.k = decoder, mem, k
        self._mem = _rows(mem, array_module(mem.keys).repeat(array_module(mem.keys).arange(N), k))

    def __call__(self, y: Array, state: Any) -> tuple:
        return _step(self.decoder, y, state, self._mem)


def _config(bos: int, eos: int, pad: int) -> SimpleNamespace:
    return SimpleNamespace(bos_id=bos, eos_id=eos, pad_id=pad)


def greedy_search(step: DecoderStep, state: Any, n: int, max_len: int, bos: int, eos: int, pad: int) -> tuple:
    """The reference: the library's :func:`minatt.model.search.greedy_search` -> tokens (N, L), attention (N, L, S)."""
    return tuple(library_greedy(step.decoder, step.mem, state.hidden, state.cell_state, max_len, _config(bos, eos, pad)))


def beam_search(step: DecoderStep, state: Any, n: int, max_len: int, k: int, bos: int, eos: int, pad: int) -> tuple:
    """The reference: the library's :func:`minatt.model.search.beam_search` -> tokens (N, L), attention (N, L, S)."""
    c0 = None if state.cell_state is None else state.cell_state[::k]
    return tuple(library_beam(step.decoder, step.mem, state.hidden[::k], c0, max_len, k, _config(bos, eos, pad)))


MODELS = [  # (decoder, cell, score, source lengths, max_len, seed, weight scale, EOS bias)
    ("bahdanau", "lstm", "additive", (3, 2, 4), 5, 2, 3.0, 1.5),
    ("luong", "gru", "general", (3, 2, 4), 5, 4, 2.0, 0.5),
    ("bahdanau", "gru", "none", (3, 2, 4), 5, 1, 2.0, 0.5),
    ("luong", "lstm", "dot", (3, 2, 4), 5, 0, 2.0, 1.0),
]  # chosen so that sequences end at different steps (or never, on the last), greedy search stops
#   before max_len, beam search finds other tokens than greedy, and beam search without length
#   normalisation finds other tokens again (on the first, second and last)


def decode_trials(k: int) -> Any:
    """The trials of greedy (k = 1) or beam search: one per model in :data:`MODELS`."""

    def make(_: numpy.random.Generator) -> list[Trial]:
        out = []
        for decoder, cell, score, lengths, max_len, seed, scale, bias in MODELS:
            config = Seq2SeqConfig(src_vocab=7, tgt_vocab=8, embed=4, hidden=5, cell=cell, score=score,
                                   decoder=decoder)
            model = Seq2Seq(config, seed=seed)
            for weights in model.params.values():
                weights *= scale  # larger weights: outputs that depend on the source
            model.params["dec.out.b"][config.eos_id] += bias
            model.params["dec.out.b"][[config.pad_id, config.bos_id]] -= 10.0  # never predicted, as when trained
            N, S = len(lengths), max(lengths)
            mask = numpy.arange(S)[None, :] < numpy.asarray(lengths)[:, None]  # (N, S)
            src = numpy.where(mask, numpy.random.default_rng(seed).integers(3, 7, size=(N, S)), config.pad_id)
            mem, h0, c0, _ = model.encode(src, mask)
            about = f"{decoder} decoder, {cell}, score {score}, N {N}, S {S}, max_len {max_len}"
            out.append(Trial({}, {"mem": mem, "h0": h0, "c0": c0, "model": model, "max_len": max_len, "k": k},
                             about=about + (f", k {k}" if k > 1 else "")))
        return out

    return make


def run_search(fn: Any, trial: Trial) -> tuple:
    """Call a search ``fn`` (the learner's or the reference) on a trial's model."""
    kw = trial.kwargs
    k = kw["k"]
    decoder, config = kw["model"].decoder, kw["model"].config
    N = kw["mem"].keys.shape[0]
    state = decoder.initial_state(kw["h0"], kw["c0"])
    ids = (config.bos_id, config.eos_id, config.pad_id)
    if k == 1:
        return fn(DecoderStep(decoder, kw["mem"]), state, N, kw["max_len"], *ids)
    rows = numpy.repeat(numpy.arange(N), k)
    return fn(DecoderStep(decoder, kw["mem"], k), _rows(state, rows), N, kw["max_len"], k, *ids)


_HINTS_ATTENTION = ("attention[:, t] holds the weights of the step that produced token t",
                    "zero for a sequence that had finished before that step (the EOS step's own row is kept)")

GREEDY = Exercise(
    "greedy", 8, "greedy decoding", "minatt.exercises.decode", "run_search", "greedy_search",
    (), decode_trials(1),
    {
        "tokens": (("feed back your own best token, starting from BOS; a finished sequence emits only PAD; stop "
                   "as soon as every sequence is finished"), ("y_t = argmax of the step's logits; once a sequence "
                   "has produced EOS its later tokens are PAD; stop when all have produced EOS, or after max_len")),
        "attention": _HINTS_ATTENTION,
    },
    outputs=("tokens", "attention"), level="tokens equal to the library's; attention the same numbers", kind="decode",
)

BEAM = Exercise(
    "beam", 8, "beam search", "minatt.exercises.decode", "run_search", "beam_search",
    (), decode_trials(3),
    {
        "tokens": (("rank hypotheses by their summed log-probability divided by their length; a finished one "
                   "extends only by PAD; at the first step only beam 0 is live; at the end follow the parents back"),
                   ("log p = logits - logsumexp(logits); rank the k*V extensions of a sequence by (score + log p) / "
                   "length (tokens emitted, EOS included) and keep the best k; PAD after EOS costs nothing and "
                   "adds no length; pick the best score / length")),
        "attention": (_HINTS_ATTENTION[0] + "; a kept hypothesis carries its parent's attention rows",
                      _HINTS_ATTENTION[1]),
    },
    outputs=("tokens", "attention"), level="tokens equal to the library's; attention the same numbers", kind="decode",
)
