"""Prediction: decode one source with a trained model, as text, with its attention.

:func:`predict` parses the source (tokens, or a date string for ``dates``), refuses one longer
than :func:`source_limit`, decodes it (greedy, or beam search) and returns a
:class:`Prediction`: the tokens both sides, the attention weights and the output as text.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy

from minatt.backend import to_numpy
from minatt.errors import ConfigError
from minatt.tasks import Task, collate
from minatt.train.config import TrainConfig

__all__ = ["LENGTH_FACTOR", "Prediction", "attention_title", "decode", "empty_answer", "predict", "source_limit"]

# predict refuses a source longer than LENGTH_FACTOR times the longest training source: far past
# what the run was trained on, an RNN's attention gives no meaningful answer (and decoding slows).
LENGTH_FACTOR = 4


class Prediction(NamedTuple):
    """A decoded sequence: the source and output tokens (EOS included) and their attention (L, S).

    ``text`` is the output as a user would write it (characters joined for dates, else spaced);
    ``source`` is the input the same way; ``unfamiliar`` says how the source differs from every
    training source (:meth:`minatt.tasks.Task.unfamiliar`), or is None.
    """

    src_tokens: list[str]
    out_tokens: list[str]
    attention: numpy.ndarray
    text: str
    source: str
    unfamiliar: str | None = None

    def title(self) -> str:
        """``"source -> output"``, for a plot."""
        return f"{self.source} -> {self.text}"



def decode(model: Any, task: Task, src: numpy.ndarray, src_mask: numpy.ndarray, beam: int | None) -> Prediction:
    """Decode the first row of a (1, S) batch: greedy, or beam search when ``beam`` > 1."""
    S = src.shape[1]
    max_len = 2 * S + 10
    if beam is not None and beam > 1:
        decoded = model.beam(src, src_mask, max_len, beam)
    else:
        decoded = model.greedy(src, src_mask, max_len)
    ids = numpy.asarray(decoded.tokens)[0]
    words = task.tgt_vocab.decode(ids)
    n_out = len(words) + 1 if len(words) < len(ids) else len(words)   # + EOS when it was produced
    out_tokens = [*words, "<eos>"][:n_out]
    src_tokens = [task.src_vocab.tokens[int(i)] for i in src[0][src_mask[0]]]
    attention = numpy.asarray(to_numpy(decoded.attention))[0][:n_out, : len(src_tokens)]   # (L, S)
    sep = "" if task.name == "dates" else " "
    return Prediction(src_tokens, out_tokens, attention, sep.join(words), sep.join(src_tokens))


def source_limit(task: Task) -> int:
    """The longest source :func:`predict` accepts: ``LENGTH_FACTOR`` times the task's longest training source."""
    return LENGTH_FACTOR * task.longest_source


def predict(task: Task, model: Any, text: str | list[str], beam: int | None = None) -> Prediction:
    """Decode one source given as text or tokens (``"3 1 4"``, or a date string for ``dates``).

    Unknown tokens, and a source longer than :func:`source_limit`, raise :class:`ConfigError`
    (naming the valid tokens, or the limit); ``beam`` > 1 uses beam search. A source unlike any
    training source is still decoded; ``Prediction.unfamiliar`` says how it differs.
    """
    try:
        tokens = task.parse(text)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    limit = source_limit(task)
    if len(tokens) > limit:
        unit = "characters" if task.name == "dates" else "tokens"
        raise ConfigError(
            f"the input has {len(tokens)} {unit}, more than this run's limit of {limit} ({LENGTH_FACTOR} x the "
            f"longest training source, {task.longest_source}): shorten it, or train a run with a larger --max-len"
        )
    batch = collate([(tokens, [])], task.src_vocab, task.tgt_vocab)
    return decode(model, task, batch.src, batch.src_mask, beam)._replace(unfamiliar=task.unfamiliar(tokens))


def attention_title(config: TrainConfig, pred: Prediction) -> str:
    """The title of a run's attention plot."""
    if config.model.score == "none":
        return "no attention (score='none'): all weights are zero"
    return f"{config.task}: {pred.title()}"


def empty_answer(run_dir: Any, step: int | None) -> str:
    """What to tell a user whose answer is empty (the model's first token was EOS), by the run's checkpoint step."""
    if not step:
        return (f"the answer is empty: {run_dir} is untrained (its checkpoint is at step 0); "
                f"train it with: python -m minatt train --resume {run_dir}")
    return (f"the answer is empty (the model ended it at once) after {step} training steps: "
            f"check the run's accuracy in {run_dir}/metrics.json, or train it longer with --resume")
