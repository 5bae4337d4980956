"""minatt.train.evaluation: held-out scores counted right, in bounded memory; the final evaluation is
bounded (--eval-size sets its examples, the per-length table has at most MAX_LENGTHS lengths), reports its
progress, and a run whose evaluation will outlast its training is told so."""

from __future__ import annotations

import math
import re

import numpy as np

from minatt.tasks import collate, make_task
from minatt.train import TrainConfig, train
from minatt.train.config import build_model, build_task
from minatt.train.evaluation import MAX_LENGTHS, _table_lengths, estimate_note, evaluate, final_metrics
from tests.tiny_runs import tiny

TINY = {"embed": 8, "hidden": 16, "batch": 8, "min_len": 2, "max_len": 4, "eval_every": 5, "test_size": 16,
        "warmup": 2, "lr": 0.01, "target": None, "steps": 5}


def test_eval_size_sets_the_test_and_the_per_length_table(tmp_path):
    metrics = train(TrainConfig(**TINY, eval_size=40), tmp_path / "run").metrics
    assert metrics["test"]["n"] == 40
    assert [row["n"] for row in metrics["by_length"]] == [20] * 8   # 40 over 8 lengths, at least 20 a length


def test_long_ranges_are_sampled_to_at_most_max_lengths():
    lengths = _table_lengths(TrainConfig(min_len=3, max_len=400), 3)
    assert len(lengths) == MAX_LENGTHS and lengths[0] == 3 and lengths[-6:] == [400, 401, 402, 403, 404, 405]
    assert _table_lengths(TrainConfig(min_len=3, max_len=10), 3) == list(range(3, 16))   # short ranges: every length


def test_an_evaluation_longer_than_the_training_is_announced(monkeypatch):
    assert estimate_note(5.0, 1.0, 500) is None          # a few seconds are not worth a line
    assert estimate_note(30.0, 40.0, 500) is None         # shorter than the training
    assert estimate_note(300.0, 28.0, 500) == ("the final evaluation will take about 300 s, longer than the 28.0 s "
                                               "of training: --eval-size (now 500) makes it shorter")
    from minatt.backend import use
    from minatt.train import evaluation
    from minatt.train.config import build_model, build_task

    monkeypatch.setattr(evaluation, "NOTE_AFTER", 0.0)

    config = TrainConfig(**{**TINY, "max_len": 30})
    with use("numpy"):
        task = build_task(config)
        model = build_model(config, task)
        notes: list[str] = []
        final_metrics(model, task, config, task.test_set(16, seed=2), train_seconds=1e-9, notice=notes.append)
    assert len(notes) == 1 and notes[0].startswith("the final evaluation will take about")


class _FakeModel:
    """greedy returns fixed tokens for each source (known by its first token), so the accuracy
    arithmetic can be checked by hand, whatever order and chunks the rows are decoded in."""

    def __init__(self, tokens, firsts=(5, 7)):   # (the ids of "1" and "3": the batch's sources start so)
        self.tokens = dict(zip(firsts, np.asarray(tokens)))

    def greedy(self, src, src_mask, max_len):
        class D:
            tokens = np.stack([self.tokens[int(first)] for first in src[:, 0]])
            attention = None

        return D()

    def loss(self, batch):
        return 0.5


def test_evaluate_counts_tokens_and_exact_sequences():
    task = make_task("reverse", min_len=2, max_len=4)
    batch = collate([(["1", "2"], ["2", "1"]), (["3", "4", "5"], ["5", "4", "3"])], task.src_vocab, task.tgt_vocab)
    ids = task.tgt_vocab.index
    eos = 2
    right = [[ids["2"], ids["1"], eos, 0, 0], [ids["5"], ids["4"], ids["3"], eos, 0]]
    assert evaluate(_FakeModel(right), batch) == {"token_accuracy": 1.0, "sequence_accuracy": 1.0, "loss": 0.5, "n": 2}
    no_eos = [[ids["2"], ids["1"], ids["1"], eos, 0], [ids["5"], ids["4"], ids["3"], eos, 0]]
    scores = evaluate(_FakeModel(no_eos), batch)  # row 0 misses its EOS: 6 of 7 tokens, 1 of 2 rows
    assert scores["sequence_accuracy"] == 0.5 and math.isclose(scores["token_accuracy"], 6 / 7)
    short = [[eos], [eos]]  # stops at once: nothing right but nothing crashes
    assert evaluate(_FakeModel(short), batch)["sequence_accuracy"] == 0.0


def _long_batch(task, rows, length):
    return task.test_set(rows, min_len=length, max_len=length, seed=3)


def test_evaluation_in_chunks_gives_the_same_numbers_in_bounded_memory(monkeypatch):
    """A long batch is evaluated in chunks of rows: the same scores, and memory that does not grow with the rows."""
    import tracemalloc

    from minatt.train import evaluation

    config = tiny(max_len=40)
    task = build_task(config)
    model = build_model(config, task)
    batch = _long_batch(task, 40, 40)
    whole = evaluate(model, batch)
    monkeypatch.setattr(evaluation, "EVAL_CHUNK", 42 * 40 * 16 * 4)   # 4 rows x T x S x hidden
    monkeypatch.setattr(evaluation, "DECODE_CHUNK", 40 * 16 * 4)       # 4 rows x S x hidden
    chunked = evaluate(model, batch)
    assert chunked["n"] == 40 and chunked["token_accuracy"] == whole["token_accuracy"]
    assert chunked["sequence_accuracy"] == whole["sequence_accuracy"]
    assert math.isclose(chunked["loss"], whole["loss"], rel_tol=1e-5)

    def peak(rows):
        tracemalloc.start()
        try:
            evaluate(model, batch[:0] if rows == 0 else type(batch)(*(a[:rows] for a in batch)))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak(40) < 2 * peak(4)   # ten times the rows, not ten times the memory


def test_final_evaluation_reports_progress_with_the_time_left(tmp_path, monkeypatch):
    from minatt.train import report

    monkeypatch.setattr(report, "EVAL_LOG_EVERY", 0.0)
    lines = []
    result = train(tiny(max_len=6), tmp_path / "run", progress="log", log=lines.append)
    evaluation = [line for line in lines if line.startswith("final evaluation")]
    assert evaluation and all(re.fullmatch(r"final evaluation \d+% done in \d+ s, about \d+ s left", line)
                              for line in evaluation)
    assert result.metrics["evaluation_seconds"] > 0
