"""Evaluation: greedy-decode held-out sets and score them.

:func:`evaluate` scores one batch (the loop calls it every ``eval_every`` steps on the
evaluation set). :func:`final_metrics` computes the numbers a finished run adds to
``metrics.json``: the test set (held out from training and different from the evaluation set,
so the stopping rule does not flatter it) and one set per source length, including lengths
longer than any seen in training. A new end-of-run metric is one more key there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from minatt.tasks import Batch, Task
from minatt.train.config import TrainConfig

__all__ = ["EVAL_CHUNK", "LONGER", "evaluate", "evaluation_cost", "final_metrics"]

LONGER = 5  # the per-length evaluation goes this many lengths beyond the training range

# The most rows x T x S x width (width: the hidden or attention size) one evaluation chunk holds at
# once. The teacher-forced loss keeps, for each of the T decoder steps, an (N, S, A) array of the
# additive score, so memory grows as N T S A: a long batch is split into chunks of rows under this
# product (2**26 float32 elements = 256 MiB per such array). Short batches are one chunk.
EVAL_CHUNK = 2**26

Progress = Callable[[int], None]  # called with the cost (evaluation_cost) of each evaluated chunk


def _width(model: Any) -> int:
    """The model's widest per-position vector (hidden or attention size; 1 for a model without a config)."""
    config = getattr(model, "config", None)
    return max(getattr(config, "hidden", 1), getattr(config, "attn_dim", None) or 0)


def evaluation_cost(batch: Batch) -> int:
    """Rows x T x S of ``batch``: what its evaluation costs, in time and in memory."""
    return int(batch.src.shape[0] * batch.tgt_out.shape[1] * batch.src.shape[1])


def _chunks(batch: Batch, width: int) -> list[Batch]:
    """``batch`` split into consecutive row chunks of at most :data:`EVAL_CHUNK` rows x T x S x width."""
    N, T, S = batch.src.shape[0], batch.tgt_out.shape[1], batch.src.shape[1]
    rows = max(1, EVAL_CHUNK // (T * S * width))
    return [Batch(*(array[i:i + rows] for array in batch)) for i in range(0, N, rows)]


def evaluate(model: Any, batch: Batch, extra: int = 2, progress: Progress | None = None) -> dict[str, float]:
    """Greedy-decode ``batch`` and score it against its targets, chunk by chunk (see :data:`EVAL_CHUNK`).

    Returns ``token_accuracy`` (share of target positions, EOS included, predicted right),
    ``sequence_accuracy`` (share of rows predicted exactly, up to and including EOS), ``loss``
    (teacher-forced cross-entropy per token) and ``n`` (rows). ``progress`` is called after each chunk.
    """
    N, T = batch.tgt_out.shape
    hits = exact = tokens = 0
    losses = []
    for chunk in _chunks(batch, _width(model)):
        decoded = model.greedy(chunk.src, chunk.src_mask, max_len=T + extra)
        pred = numpy.asarray(decoded.tokens)                         # (n, L)
        if pred.shape[1] < T:
            pred = numpy.pad(pred, ((0, 0), (0, T - pred.shape[1])))  # (n, T) PAD after the end
        pred = pred[:, :T]                                           # (n, T)
        hit = (pred == chunk.tgt_out) & chunk.tgt_mask               # (n, T)
        real = int(chunk.tgt_mask.sum())
        hits += int(hit.sum())
        exact += int((hit | ~chunk.tgt_mask).all(axis=1).sum())
        losses.append((float(model.loss(chunk)), real))              # (a mean per real token)
        tokens += real
        if progress is not None:
            progress(evaluation_cost(chunk))
    loss = losses[0][0] if len(losses) == 1 else sum(mean * n for mean, n in losses) / tokens
    return {"token_accuracy": hits / tokens, "sequence_accuracy": exact / N, "loss": loss, "n": int(N)}


def _length_sets(config: TrainConfig, task: Task) -> list[tuple[int, Batch]]:
    """One held-out set per source length, from the shortest holdable one to max_len + LONGER."""
    if not task.uses_lengths or task.split_min_len is None:
        return []
    lo = max(config.min_len, task.split_min_len)
    per = max(50, config.test_size // 5)
    out = []
    for length in range(lo, config.max_len + LONGER + 1):
        try:
            out.append((length, task.test_set(per, min_len=length, max_len=length, seed=config.seed + 7919 + length)))
        except (ValueError, RuntimeError):
            continue
    return out


def final_metrics(model: Any, task: Task, config: TrainConfig, test: Batch,
                  progress: Callable[[int], Progress] | None = None) -> dict[str, Any]:
    """The end-of-run numbers for ``metrics.json``: ``test`` (:func:`evaluate` on ``test``, plus
    what the task says about the set: for denoise, :meth:`minatt.tasks.DenoiseTask.heldout_report`'s
    uncorrupted share and the ceilings beside the accuracies they bound) and ``by_length``.

    ``by_length`` holds one row per source length (``length``, ``trained``: inside the training
    range, and the :func:`evaluate` scores). This is the one place where end-of-run metrics are
    computed: a task-specific number goes in as one more key of the returned dict (and, to be
    printed, one more line in :func:`minatt.train.report.print_summary`). ``progress(total)``,
    given the whole evaluation's :func:`evaluation_cost`, returns the callback each chunk reports to.
    """
    sets = _length_sets(config, task)
    step = None if progress is None else progress(sum(evaluation_cost(b) for b in [test, *(b for _, b in sets)]))
    return {
        "test": {**evaluate(model, test, progress=step), **task.heldout_report(test)},
        "by_length": [
            {"length": length, "trained": config.min_len <= length <= config.max_len,
             **evaluate(model, batch, progress=step)}
            for length, batch in sets
        ],
    }
