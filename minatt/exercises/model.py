"""The whole-model exercises: wire chapter 6's encoder-decoder (``model_loss_and_grads``), then
overfit a tiny set with it (``overfit``).

The model is the library's own ``Seq2Seq`` with ``score="none"`` and one LSTM direction (Cho et
al.'s encoder-decoder of chapter 6): the learner writes ``loss_and_grads(params, batch) -> (loss,
grads)`` from the ops' forwards and backwards; the reference is ``Seq2Seq.loss_and_grads``. The
checker compares the loss with the library's and checks every parameter's gradient against
centred differences of the library's loss, as chapter 8 checks the whole model.

``overfit`` is a training loop the learner writes and runs on their OWN model (their
``model_loss_and_grads.py`` beside it; the library's while that one is not written yet): on four
examples, a correct loop drives the loss to nearly 0, the sanity check to run before any long
training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy

from minatt.backend import array_module
from minatt.exercises.load import (
    LearnerError,
    call_learner,
    load_module,
    returned,
)
from minatt.exercises.spec import Exercise, Trial
from minatt.exercises.values import as_host, compare_output
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.tasks import Batch

__all__ = [
    "OVERFIT_LOSS",
    "OVERFIT_STEPS",
    "PARAMS",
    "call_model",
    "loss_and_grads",
    "loss_rows",
    "model_loss",
    "model_trials",
    "overfit",
    "overfit_rows",
    "overfit_trials",
]

Array = Any
PARAMS = ("enc.embed.W", "enc.fwd.Wx", "enc.fwd.Wh", "enc.fwd.b", "dec.embed.W", "dec.rnn.Wx", "dec.rnn.Wh",
          "dec.rnn.b", "dec.out.W", "dec.out.b")  # the chapter-6 model's parameters, in Seq2Seq's order
OVERFIT_STEPS = 200  # the steps the learner's loop is given
OVERFIT_LOSS = 0.05  # the loss a correct loop reaches on the tiny set within them (it reaches ~1e-3)


def _config(params: dict[str, Array]) -> Seq2SeqConfig:
    """The chapter-6 model whose parameters these are (sizes read off the shapes)."""
    V_src, E = params["enc.embed.W"].shape
    V_tgt = params["dec.embed.W"].shape[0]
    return Seq2SeqConfig(src_vocab=int(V_src), tgt_vocab=int(V_tgt), embed=int(E),
                         hidden=int(params["enc.fwd.Wh"].shape[0]), score="none")


def loss_and_grads(params: dict[str, Array], batch: Batch) -> tuple[float, dict[str, Array]]:
    """The reference: ``Seq2Seq.loss_and_grads`` of the chapter-6 model with these parameters."""
    model = Seq2Seq(_config(params))
    model.params.update(params)  # the modules read the shared dict at call time
    return model.loss_and_grads(batch)


class ModelInputs(NamedTuple):
    params: dict[str, Array]
    batch: Batch


def model_loss(*arrays: Array, names: tuple[str, ...], batch: Batch) -> tuple[Array, ModelInputs]:
    """The checker's forward: the library's loss for parameters ``arrays`` (in ``names`` order), a 0-d array."""
    params = dict(zip(names, arrays))
    model = Seq2Seq(_config(params))
    model.params.update(params)
    loss = model.loss(batch)
    return array_module(arrays[0]).asarray(loss, dtype=arrays[0].dtype), ModelInputs(params, batch)


def _split(result: Any) -> tuple[Any, dict]:
    loss, grads = returned(result, ("loss", "grads"), "loss_and_grads")
    if not hasattr(grads, "get"):
        raise LearnerError(f"your loss_and_grads returned grads as a {type(grads).__name__}; it must be a dict "
                           f"keyed like params ('enc.embed.W', ...)")
    return loss, grads


def call_model(fn: Any, douts: tuple, cache: ModelInputs) -> tuple:
    """The learner's loss_and_grads as a backward: its gradients, in parameter order, times the loss's dout."""
    _, grads = _split(fn({k: v.copy() for k, v in cache.params.items()}, cache.batch))
    return tuple(None if grads.get(k) is None else as_host(grads[k]) * float(douts[0]) for k in cache.params)


def loss_rows(spec: Exercise, fn: Any, trial: Trial, filename: str | None) -> dict[str, dict]:
    """The learner's loss against the library's, on one batch."""
    params = {k: v.copy() for k, v in trial.params.items()}
    loss, _ = _split(call_learner(spec, fn, (params, trial.kwargs["batch"]), filename))
    expected = model_loss(*trial.params.values(), **trial.kwargs)[0]
    return {"loss": compare_output("loss", loss, expected, trial, None)}


def _batch(rng: numpy.random.Generator, src_lengths: tuple, tgt_lengths: tuple, V_src: int, V_tgt: int) -> Batch:
    """A padded batch (PAD 0, BOS 1, EOS 2; the other ids random) of these lengths."""
    S, T = max(src_lengths), max(tgt_lengths) + 1
    src_mask = numpy.arange(S)[None, :] < numpy.asarray(src_lengths)[:, None]
    src = numpy.where(src_mask, rng.integers(3, V_src, size=src_mask.shape), 0)
    tgt_mask = numpy.arange(T)[None, :] < numpy.asarray(tgt_lengths)[:, None] + 1  # the target and its EOS
    words = rng.integers(3, V_tgt, size=tgt_mask.shape)
    lengths = numpy.asarray(tgt_lengths)[:, None]
    steps = numpy.arange(T)[None, :]
    tgt_out = numpy.where(steps < lengths, words, numpy.where(steps == lengths, 2, 0))
    tgt_in = numpy.where(tgt_mask, numpy.concatenate([numpy.ones((len(src), 1), int), tgt_out[:, :-1]], axis=1), 0)
    return Batch(src, src_mask, tgt_in, tgt_out, tgt_mask)


def model_trials(rng: numpy.random.Generator) -> list[Trial]:
    """Two batches, one with padding in the source and the target, on a small model (float64)."""
    out = []
    for (V_src, V_tgt, E, H), src_lengths, tgt_lengths in [((5, 4, 2, 2), (4, 2, 3), (3, 0, 2)),
                                                           ((4, 5, 2, 2), (3, 3), (2, 2))]:
        model = Seq2Seq(Seq2SeqConfig(src_vocab=V_src, tgt_vocab=V_tgt, embed=E, hidden=H, score="none"),
                        seed=int(rng.integers(1000)))
        params = {k: v * 2.0 for k, v in model.params.items()}  # larger weights: the gates are not all ~0.5
        batch = _batch(rng, src_lengths, tgt_lengths, V_src, V_tgt)
        about = f"src {batch.src.shape}, tgt {batch.tgt_in.shape}, E {E}, H {H}"
        out.append(Trial(params, {"names": tuple(params), "batch": batch}, about=about))
    return out


# ---------------------------------------------------------------------------------------
# Overfitting a tiny set


def overfit(loss_and_grads: Any, params: dict[str, Array], batch: Batch, steps: int) -> list[float]:
    """The reference loop: Adam (lr 0.05) on clipped gradients (norm 1) -> the loss before each step."""
    from minatt.optim import Adam, clip_grad_norm

    opt = Adam(params, lr=0.05)
    losses = []
    for _ in range(steps):
        loss, grads = loss_and_grads(params, batch)
        clip_grad_norm(grads, 1.0)
        opt.step(grads)
        losses.append(float(loss))
    return losses


def overfit_trials(rng: numpy.random.Generator) -> list[Trial]:
    """Four examples of 'reverse the sequence' (lengths 2 to 4) and a fresh model of embed 8, hidden 16."""
    model = Seq2Seq(Seq2SeqConfig(src_vocab=8, tgt_vocab=8, embed=8, hidden=16, score="none"), seed=0)
    src_lengths = (2, 3, 4, 3)
    batch = _batch(rng, src_lengths, src_lengths, 8, 8)
    src, mask = batch.src, batch.src_mask
    rev = numpy.where(mask, src[numpy.arange(4)[:, None], numpy.maximum(numpy.asarray(src_lengths)[:, None] - 1
                                                                          - numpy.arange(4)[None, :], 0)], 0)
    tgt_out = numpy.where(batch.tgt_mask, numpy.pad(rev, ((0, 0), (0, 1))), 0)
    tgt_out[numpy.arange(4), src_lengths] = 2  # EOS after the reversed source
    tgt_in = numpy.where(batch.tgt_mask, numpy.concatenate([numpy.ones((4, 1), int), tgt_out[:, :-1]], axis=1), 0)
    tiny = Batch(src, mask, tgt_in, tgt_out, batch.tgt_mask)
    return [Trial(dict(model.params), {"batch": tiny}, about="4 examples of reverse, embed 8, hidden 16")]


def _learners_model(filename: str | None, params: dict[str, Array], batch: Batch) -> tuple[Any, str]:
    """The learner's own loss_and_grads (model_loss_and_grads.py beside their overfit file), or the
    library's while theirs is missing or still raises NotImplementedError."""
    path = Path(filename).parent / "model_loss_and_grads.py" if filename else None
    if path is None or not path.is_file():
        return loss_and_grads, "the library's model (no model_loss_and_grads.py beside yours)"
    fn = getattr(load_module(path), "loss_and_grads", None)
    if not callable(fn):
        return loss_and_grads, "the library's model (your model_loss_and_grads.py defines no loss_and_grads)"
    try:
        fn({k: v.copy() for k, v in params.items()}, batch)
    except NotImplementedError:
        return loss_and_grads, "the library's model (your model_loss_and_grads is not written yet)"
    except Exception:  # noqa: BLE001, S110 - it is written; the training loop will report its error
        pass
    return fn, f"your model ({path.name})"


def overfit_rows(spec: Exercise, fn: Any, trial: Trial, filename: str | None) -> dict[str, dict]:
    """Run the learner's loop on their model: the loss must fall below OVERFIT_LOSS in OVERFIT_STEPS steps."""
    params = {k: v.copy() for k, v in trial.params.items()}
    batch = trial.kwargs["batch"]
    model_fn, whose = _learners_model(filename, params, batch)
    losses = call_learner(spec, fn, (model_fn, params, batch, OVERFIT_STEPS), filename)
    try:
        losses = numpy.asarray(losses, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        losses = numpy.zeros(0)
    if losses.size != OVERFIT_STEPS:
        return {"loss": {"status": "wrong_shape", "err": None,
                         "detail": f"got {losses.size} losses; return the loss of each of the {OVERFIT_STEPS} steps"}}
    final = float(losses[-1])
    said = f"on {whose}: the loss went from {losses[0]:.4g} to {final:.4g} in {OVERFIT_STEPS} steps"
    if not numpy.isfinite(final) or final > OVERFIT_LOSS:
        return {"loss": {"status": "fail", "err": None,
                         "detail": f"{said}; a correct loop on a correct model gets below {OVERFIT_LOSS}"}}
    return {"loss": {"status": "pass", "err": None, "detail": said}}
