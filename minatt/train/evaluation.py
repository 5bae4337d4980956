"""Evaluation: greedy-decode held-out sets and score them.

:func:`evaluate` scores one batch (the loop calls it every ``eval_every`` steps on the
evaluation set). :func:`final_metrics` computes the numbers a finished run adds to
``metrics.json``: the test set (held out from training and different from the evaluation set,
so the stopping rule does not flatter it) and one set per source length, including lengths
longer than any seen in training. A new end-of-run metric is one more key there.
"""

from __future__ import annotations

from typing import Any

import numpy

from minatt.tasks import Batch, Task
from minatt.train.config import TrainConfig

__all__ = ["LONGER", "evaluate", "final_metrics"]

LONGER = 5  # the per-length evaluation goes this many lengths beyond the training range


def evaluate(model: Any, batch: Batch, extra: int = 2) -> dict[str, float]:
    """Greedy-decode ``batch`` and score it against its targets.

    Returns ``token_accuracy`` (share of target positions, EOS included, predicted right),
    ``sequence_accuracy`` (share of rows predicted exactly, up to and including EOS), ``loss``
    (teacher-forced cross-entropy per token) and ``n`` (rows).
    """
    N, T = batch.tgt_out.shape
    decoded = model.greedy(batch.src, batch.src_mask, max_len=T + extra)
    pred = numpy.asarray(decoded.tokens)                         # (N, L)
    if pred.shape[1] < T:
        pred = numpy.pad(pred, ((0, 0), (0, T - pred.shape[1])))  # (N, T) PAD after the end
    pred = pred[:, :T]                                           # (N, T)
    hit = (pred == batch.tgt_out) & batch.tgt_mask               # (N, T)
    exact = (hit | ~batch.tgt_mask).all(axis=1)                  # (N,)
    return {
        "token_accuracy": float(hit.sum() / batch.tgt_mask.sum()),
        "sequence_accuracy": float(exact.mean()),
        "loss": float(model.loss(batch)),
        "n": int(N),
    }


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



def final_metrics(model: Any, task: Task, config: TrainConfig, test: Batch) -> dict[str, Any]:
    """The end-of-run numbers for ``metrics.json``: ``test`` (:func:`evaluate` on ``test``, plus
    what the task says about the set: for denoise, :meth:`minatt.tasks.DenoiseTask.heldout_report`'s
    uncorrupted share and the ceilings beside the accuracies they bound) and ``by_length``.

    ``by_length`` holds one row per source length (``length``, ``trained``: inside the training
    range, and the :func:`evaluate` scores). This is the one place where end-of-run metrics are
    computed: a task-specific number goes in as one more key of the returned dict (and, to be
    printed, one more line in :func:`minatt.train.report.print_summary`).
    """
    return {
        "test": {**evaluate(model, test), **task.heldout_report(test)},
        "by_length": [
            {"length": length, "trained": config.min_len <= length <= config.max_len, **evaluate(model, batch)}
            for length, batch in _length_sets(config, task)
        ],
    }
