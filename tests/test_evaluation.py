"""The final evaluation is bounded: --eval-size sets its examples, the per-length table has at most
MAX_LENGTHS lengths, and a run whose evaluation will outlast its training is told so."""

from __future__ import annotations

from minatt.train import TrainConfig, train
from minatt.train.evaluation import MAX_LENGTHS, _table_lengths, estimate_note, final_metrics

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
