"""Evaluation: greedy-decode held-out sets and score them.

:func:`evaluate` scores one batch (the loop calls it every ``eval_every`` steps on the
evaluation set). :func:`final_metrics` computes the numbers a finished run adds to
``metrics.json``: the test set (held out from training and different from the evaluation set,
so the stopping rule does not flatter it) and one set per source length, including lengths
longer than any seen in training. A new end-of-run metric is one more key there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy

from minatt.tasks import Batch, Task
from minatt.train.config import TrainConfig

__all__ = ["CHUNK_ROWS", "DECODE_CHUNK", "EVAL_CHUNK", "LONGER", "MAX_LENGTHS", "estimate_note", "evaluate", "evaluation_cost",
           "final_metrics"]

LONGER = 5  # the per-length evaluation goes this many lengths beyond the training range
MAX_LENGTHS = 16  # the per-length table has at most this many lengths: LONGER beyond training, the rest spread over it

# Rows are evaluated longest first, in chunks of similar length, each cut to its own longest row.
# Greedy decoding keeps one (rows, S, width) array per step (width: the hidden or attention size):
# a decoding chunk holds at most DECODE_CHUNK such elements (2**22 float32 = 16 MiB). The
# teacher-forced loss keeps one for each of the T decoder steps, so a loss chunk holds at most
# EVAL_CHUNK elements of rows x T x S x width (2**26 float32 = 256 MiB). No chunk has more than
# CHUNK_ROWS rows, so that progress (and a Ctrl-C) is seen between chunks.
DECODE_CHUNK = 2**22
EVAL_CHUNK = 2**26
CHUNK_ROWS = 128
NOTE_AFTER = 10.0  # an evaluation estimated under this many seconds is not announced

Progress = Callable[[int], None]  # called with the cost (evaluation_cost) of each evaluated chunk


def _width(model: Any) -> int:
    """The model's widest per-position vector (hidden or attention size; 1 for a model without a config)."""
    config = getattr(model, "config", None)
    return max(getattr(config, "hidden", 1), getattr(config, "attn_dim", None) or 0)


def _lengths(batch: Batch) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Each row's source length and target length (EOS included): (N,), (N,)."""
    return batch.src_mask.sum(axis=1), batch.tgt_mask.sum(axis=1)


def evaluation_cost(batch: Batch) -> int:
    """The sum over rows of source length x target length: what decoding ``batch`` costs, in time."""
    S, T = _lengths(batch)
    return int((S * T).sum())


def _chunks(batch: Batch, per_row: Callable[[int, int], int], budget: int) -> list[tuple[numpy.ndarray, Batch]]:
    """(row indices, rows cut to their own longest lengths) for ``batch``'s rows, longest source first,
    as many rows a chunk as keep rows x ``per_row(S, T)`` within ``budget``."""
    S, T = _lengths(batch)
    order = numpy.lexsort((-T, -S))                                  # longest source first, then longest target
    out, i = [], 0
    while i < len(order):
        s, t = int(S[order[i]]), int(T[order[i]])
        rows = min(CHUNK_ROWS, max(1, budget // per_row(s, t)))
        index = order[i:i + rows]
        t = int(T[index].max())
        out.append((index, Batch(batch.src[index, :s], batch.src_mask[index, :s], batch.tgt_in[index, :t],
                                 batch.tgt_out[index, :t], batch.tgt_mask[index, :t])))
        i += len(index)
    return out


def _decode_rows(model: Any, batch: Batch, extra: int = 2,
                 progress: Progress | None = None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Greedy-decode every row of ``batch``: (target positions right per row (N,), row exactly right (N,))."""
    N = batch.src.shape[0]
    hits, exact = numpy.zeros(N, dtype=numpy.int64), numpy.zeros(N, dtype=bool)
    width = _width(model)
    for index, chunk in _chunks(batch, lambda s, t: s * width, DECODE_CHUNK):
        T = chunk.tgt_out.shape[1]
        pred = numpy.asarray(model.greedy(chunk.src, chunk.src_mask, max_len=T + extra).tokens)   # (n, L)
        if pred.shape[1] < T:
            pred = numpy.pad(pred, ((0, 0), (0, T - pred.shape[1])))  # (n, T) PAD after the end
        hit = (pred[:, :T] == chunk.tgt_out) & chunk.tgt_mask          # (n, T)
        hits[index] = hit.sum(axis=1)
        exact[index] = (hit | ~chunk.tgt_mask).all(axis=1)
        if progress is not None:
            progress(evaluation_cost(chunk))
    return hits, exact


def _loss(model: Any, batch: Batch) -> float:
    """Teacher-forced cross-entropy per real target token of ``batch``, in chunks of at most EVAL_CHUNK."""
    width = _width(model)
    total = tokens = 0.0
    for _, chunk in _chunks(batch, lambda s, t: s * t * width, EVAL_CHUNK):
        real = int(chunk.tgt_mask.sum())
        total += float(model.loss(chunk)) * real                     # (a mean per real token)
        tokens += real
    return total / tokens


def _scores(hits: numpy.ndarray, exact: numpy.ndarray, batch: Batch) -> dict[str, float]:
    return {"token_accuracy": int(hits.sum()) / int(batch.tgt_mask.sum()),
            "sequence_accuracy": int(exact.sum()) / len(exact), "n": len(exact)}


def evaluate(model: Any, batch: Batch, extra: int = 2, progress: Progress | None = None) -> dict[str, float]:
    """Greedy-decode ``batch`` and score it against its targets, chunk by chunk (see :data:`DECODE_CHUNK`).

    Returns ``token_accuracy`` (share of target positions, EOS included, predicted right),
    ``sequence_accuracy`` (share of rows predicted exactly, up to and including EOS), ``loss``
    (teacher-forced cross-entropy per token) and ``n`` (rows). ``progress`` is called after each chunk.
    """
    hits, exact = _decode_rows(model, batch, extra, progress)
    return {**_scores(hits, exact, batch), "loss": _loss(model, batch)}


def _table_lengths(config: TrainConfig, lo: int) -> list[int]:
    """The source lengths of the per-length table: every length from ``lo`` to max_len + LONGER, or
    at most MAX_LENGTHS of them (every length beyond training, the trained range evenly spread)."""
    beyond = list(range(config.max_len + 1, config.max_len + LONGER + 1))
    trained = numpy.arange(lo, config.max_len + 1)
    room = MAX_LENGTHS - len(beyond)
    if len(trained) > room:
        trained = numpy.unique(numpy.linspace(lo, config.max_len, room).round().astype(int))
    return [int(n) for n in trained] + beyond


def _length_sets(config: TrainConfig, task: Task) -> list[tuple[int, Batch]]:
    """One held-out set per source length of :func:`_table_lengths`: ``eval_size`` examples in all
    (``--eval-size``, else ``--test-size``), spread evenly, at least 20 a length."""
    if not task.uses_lengths or task.split_min_len is None:
        return []
    lengths = _table_lengths(config, max(config.min_len, task.split_min_len))
    per = max(20, (config.eval_size or config.test_size) // len(lengths))
    out = []
    for length in lengths:
        try:
            out.append((length, task.test_set(per, min_len=length, max_len=length, seed=config.seed + 7919 + length)))
        except (ValueError, RuntimeError):
            continue
    return out


def _concat(batches: list[Batch]) -> Batch:
    """One batch of the rows of ``batches``, padded to the longest (PAD ids, False masks)."""
    S = max(b.src.shape[1] for b in batches)
    T = max(b.tgt_out.shape[1] for b in batches)

    def stack(arrays: list[numpy.ndarray], width: int) -> numpy.ndarray:
        return numpy.concatenate([numpy.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in arrays])

    return Batch(*(stack([b[i] for b in batches], S if i < 2 else T) for i in range(5)))


def estimate_note(estimate: float, train_seconds: float | None, eval_size: int) -> str | None:
    """The line that warns of a final evaluation longer than the training, or None."""
    if train_seconds is None or estimate <= max(train_seconds, NOTE_AFTER):
        return None
    return (f"the final evaluation will take about {estimate:.0f} s, longer than the {train_seconds:.1f} s of "
            f"training: --eval-size (now {eval_size}) makes it shorter")


def final_metrics(model: Any, task: Task, config: TrainConfig, test: Batch,
                  progress: Callable[[int], Progress] | None = None, train_seconds: float | None = None,
                  notice: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The end-of-run numbers for ``metrics.json``: ``test`` (:func:`evaluate` on ``test``, plus
    what the task says about the set: for denoise, :meth:`minatt.tasks.DenoiseTask.heldout_report`'s
    uncorrupted share and the ceilings beside the accuracies they bound) and ``by_length``.

    ``by_length`` holds one row per source length (``length``, ``trained``: inside the training
    range, ``token_accuracy``, ``sequence_accuracy``, ``n``). The test set and every length's set
    are decoded as one batch, in chunks of similar length. This is the one place where end-of-run
    metrics are computed: a task-specific number goes in as one more key of the returned dict (and,
    to be printed, one more line in :func:`minatt.train.report.print_summary`). ``progress(total)``,
    given the whole evaluation's :func:`evaluation_cost`, returns the callback each chunk reports to.
    After the first chunk (the longest rows), ``notice`` gets :func:`estimate_note`'s warning when
    the estimated evaluation time exceeds ``train_seconds``.
    """
    sets = _length_sets(config, task)
    everything = _concat([test, *(b for _, b in sets)])
    total = evaluation_cost(everything)
    step = None if progress is None else progress(total)
    start, done, told = time.perf_counter(), 0, False

    def advance(cost: int) -> None:
        nonlocal done, told
        done += cost
        if step is not None:
            step(cost)
        if not told and notice is not None and done < total:
            told = True
            note = estimate_note((time.perf_counter() - start) * total / done, train_seconds,
                                 config.eval_size or config.test_size)
            if note:
                notice(note)

    hits, exact = _decode_rows(model, everything, progress=advance)
    n = test.src.shape[0]
    out: dict[str, Any] = {"test": {**_scores(hits[:n], exact[:n], test), "loss": _loss(model, test),
                                    **task.heldout_report(test)}, "by_length": []}
    for length, batch in sets:
        rows = slice(n, n + batch.src.shape[0])
        out["by_length"].append({"length": length, "trained": config.min_len <= length <= config.max_len,
                                 **_scores(hits[rows], exact[rows], batch)})
        n = rows.stop
    return out
