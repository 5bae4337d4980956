"""The trainer: run directories, exact resume, Ctrl-C, divergence, evaluation, and every task learning."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from minatt.errors import CheckpointError, ConfigError, TrainingDiverged
from minatt.model.seq2seq import Seq2SeqConfig
from minatt.tasks import collate, make_task
from minatt.tools import checkpoint as ckpt
from minatt.train import (
    LOG_EVERY,
    TrainConfig,
    Trainer,
    blas_threads,
    build_model,
    build_task,
    evaluate,
    load_run,
    predict,
    read_run_config,
    resume,
    train,
)

TINY = {"embed": 8, "hidden": 16, "batch": 8, "min_len": 2, "max_len": 4, "eval_every": 5,
        "test_size": 16, "warmup": 2, "lr": 0.01, "target": None}


def tiny(**changes) -> TrainConfig:
    """A config that trains in a fraction of a second."""
    return TrainConfig(**{**TINY, "steps": 10, **changes})


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with blas_threads(1):
        yield


def _arrays(run_dir):
    params, optim, meta = ckpt.load_checkpoint(ckpt.run_paths(run_dir)["checkpoint"])
    return params, optim, meta


def test_run_directory_has_every_file(tmp_path):
    result = train(tiny(), tmp_path / "run")
    run = tmp_path / "run"
    assert result.status == "done" and result.step == 10
    assert sorted(p.name for p in run.iterdir()) == [
        "attention.png", "checkpoint.npz", "config.json", "curves.png", "metrics.json"]
    doc = json.loads((run / "config.json").read_text())
    assert doc["train"] == tiny().to_dict() and doc["model"]["hidden"] == 16 and doc["model"]["src_vocab"] == 14
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["steps"] == 10 and metrics["seconds"] > 0 and len(metrics["loss"]["value"]) == 10
    assert metrics["loss"]["step"] == list(range(1, 11)) and metrics["eval"]["step"] == [5, 10]
    assert set(metrics["test"]) == {"token_accuracy", "sequence_accuracy", "loss", "n"}
    lengths = [row["length"] for row in metrics["by_length"]]
    assert lengths == list(range(2, 4 + 5 + 1))  # 2..4 trained, 5..9 longer than training
    assert [row["trained"] for row in metrics["by_length"]] == [True] * 3 + [False] * 5
    params, optim, meta = _arrays(run)
    assert meta["step"] == 10 and "t" in optim and int(optim["t"]) == 10
    assert all(a.dtype == np.float32 for a in params.values())
    config, _, model, _ = load_run(run)
    assert config == tiny() and set(model.params) == set(params)
    for png in ("attention.png", "curves.png"):
        assert (run / png).read_bytes()[:4] == b"\x89PNG"


def test_straight_and_resumed_runs_are_bit_identical(tmp_path):
    cfg = tiny(steps=12, eval_every=4)
    train(cfg, tmp_path / "straight")
    first = train(cfg, tmp_path / "split", until=6)
    assert first.status == "paused" and first.step == 6
    assert _arrays(tmp_path / "split")[2]["step"] == 6
    second = resume(tmp_path / "split")
    assert second.status == "done" and second.step == 12
    (p1, o1, m1), (p2, o2, m2) = _arrays(tmp_path / "straight"), _arrays(tmp_path / "split")
    assert set(p1) == set(p2) and set(o1) == set(o2)
    for name in p1:
        assert np.array_equal(p1[name], p2[name]), name
    for name in o1:
        assert np.array_equal(o1[name], o2[name]), name
    assert m1["data_rng"] == m2["data_rng"] and m1["loss_history"] == m2["loss_history"]


def test_sigint_saves_a_checkpoint_and_resume_finishes_identically(tmp_path):
    cfg = tiny(steps=12, eval_every=5)

    def interrupt_at_7(trainer):
        if trainer.step == 7:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: the handler turns it into a flag

    result = train(cfg, tmp_path / "int", on_step=interrupt_at_7)
    assert result.interrupted and result.step == 7
    assert _arrays(tmp_path / "int")[2]["step"] == 7  # saved at the step it stopped, not the last eval
    assert json.loads((tmp_path / "int" / "metrics.json").read_text())["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler was given back
    assert resume(tmp_path / "int").step == 12
    train(cfg, tmp_path / "straight")
    p1, p2 = _arrays(tmp_path / "straight")[0], _arrays(tmp_path / "int")[0]
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)


def test_workers_follow_the_one_process_run(tmp_path):
    """Split over 2 processes the gradients differ only in rounding: in float64 the losses of
    12 steps agree to 1e-9, and a fixed worker count resumes bit for bit."""
    cfg = tiny(steps=12, eval_every=4, dtype="float64")
    one = train(cfg, tmp_path / "one")
    two = train(cfg, tmp_path / "two", workers=2)
    loss_one, loss_two = (json.loads((r.run_dir / "metrics.json").read_text())["loss"]["value"] for r in (one, two))
    assert np.allclose(loss_one, loss_two, rtol=1e-9, atol=0)
    split = train(cfg, tmp_path / "split", until=5, workers=2)
    assert resume(tmp_path / "split", workers=2).step == 12
    p2, ps = _arrays(tmp_path / "two")[0], _arrays(tmp_path / "split")[0]
    assert split.step == 5 and all(np.array_equal(p2[k], ps[k]) for k in p2)


def test_sigint_with_workers_stops_them_and_saves(tmp_path):
    def interrupt_at_3(trainer):
        if trainer.step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # the children ignore it: the parent decides

    trainer = Trainer.create(tiny(steps=12), tmp_path / "run")
    result = trainer.run(progress="none", on_step=interrupt_at_3, workers=2)
    assert result.interrupted and result.step == 3 and trainer.gradients is trainer.model  # workers stopped
    assert _arrays(tmp_path / "run")[2]["step"] == 3


def test_keyboard_interrupt_mid_update_keeps_the_last_consistent_checkpoint(tmp_path, monkeypatch):
    trainer = Trainer.create(tiny(steps=12, eval_every=5), tmp_path / "run")
    updated = []
    real_update = trainer.optimizer._update

    def update_then_break(name, p, g, lr):
        real_update(name, p, g, lr)
        updated.append(name)
        if len(updated) == 7 * len(p_names) + 1:
            raise KeyboardInterrupt  # step 8 has updated one parameter of many: never save that state

    p_names = list(trainer.model.params)
    monkeypatch.setattr(trainer.optimizer, "_update", update_then_break)
    result = trainer.run(progress="none")
    assert result.interrupted and result.step == 5
    assert _arrays(tmp_path / "run")[2]["step"] == 5


def test_keyboard_interrupt_mid_forward_saves_the_step_before_and_resumes_exactly(tmp_path):
    cfg = tiny(steps=12, eval_every=5)
    trainer = Trainer.create(cfg, tmp_path / "run")
    real = trainer.model.loss_and_grads
    calls = {"n": 0}

    def forward_then_break(batch):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt  # during step 8's forward pass: its batch is drawn, nothing updated
        return real(batch)

    trainer.model.loss_and_grads = forward_then_break
    result = trainer.run(progress="none")
    assert result.interrupted and result.step == 7
    assert resume(tmp_path / "run").step == 12
    train(cfg, tmp_path / "straight")
    p1, p2 = _arrays(tmp_path / "straight")[0], _arrays(tmp_path / "run")[0]
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)  # the half-drawn batch was given back


def test_divergence_names_the_step_and_keeps_the_last_checkpoint(tmp_path):
    def poison_after_7(trainer):
        if trainer.step == 7:
            real = trainer.model.loss_and_grads

            def nan_loss(batch):
                _, grads = real(batch)
                return float("nan"), grads

            trainer.model.loss_and_grads = nan_loss

    with pytest.raises(TrainingDiverged) as info:
        train(tiny(steps=20), tmp_path / "run", on_step=poison_after_7)
    msg = str(info.value)
    assert "diverged at step 8" in msg and "loss is nan" in msg
    assert str(tmp_path / "run" / "checkpoint.npz") in msg and "(step 5)" in msg
    params, _, meta = _arrays(tmp_path / "run")
    assert meta["step"] == 5 and all(np.isfinite(a).all() for a in params.values())
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "diverged at step 8"


def test_infinite_gradient_diverges_naming_the_gradient_norm(tmp_path):
    def poison_after_5(trainer):
        if trainer.step == 5:
            real = trainer.model.loss_and_grads

            def inf_grad(batch):
                loss, grads = real(batch)
                next(iter(grads.values()))[...] = np.inf
                return loss, grads

            trainer.model.loss_and_grads = inf_grad

    with pytest.raises(TrainingDiverged) as info:
        train(tiny(steps=20, clip=0.0), tmp_path / "run", on_step=poison_after_5)
    msg = str(info.value)
    assert "training diverged at step 6: the gradient norm is inf" in msg and "(step 5) is kept intact" in msg
    assert "start a new run with a smaller --lr (now 0.01) or a --clip (now 0.0)" in msg
    assert _arrays(tmp_path / "run")[2]["step"] == 5
    _config, _, _, meta = load_run(tmp_path / "run")  # the kept checkpoint loads
    assert meta["step"] == 5


def test_a_nan_loss_stops_the_run_at_the_next_log_point_and_no_step_reads_the_loss(tmp_path):
    """The loss may be a device scalar: no step converts it (float() would wait for the device every
    step); the loop reads the losses every LOG_EVERY steps and stops there at a NaN, naming its step."""

    class DeviceScalar(np.ndarray):  # a 0-d array that refuses the per-step host read
        def __float__(self):
            raise AssertionError("float() of the loss inside a step")

    trainer = Trainer.create(tiny(steps=60, eval_every=25), tmp_path / "run")
    real, calls = trainer.model.loss_and_grads, []

    def loss_and_grads(batch):
        calls.append(1)
        loss, grads = real(batch)
        return np.asarray(np.nan if len(calls) == 13 else loss).view(DeviceScalar), grads

    trainer.model.loss_and_grads = loss_and_grads
    with pytest.raises(TrainingDiverged) as info:
        trainer.run(progress="none")
    assert LOG_EVERY == 10 and len(calls) == 20  # the first log point after step 13; the evaluation is at 25
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("training diverged at step 13: the loss is nan (loss nan, gradient norm ")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "diverged at step 13" and metrics["loss"]["step"] == list(range(1, 13))
    assert all(math.isfinite(v) for v in metrics["loss"]["value"]) and _arrays(tmp_path / "run")[2]["step"] == 0


def test_predict_refuses_sources_over_the_length_limit(tmp_path):
    from minatt.train import LENGTH_FACTOR, source_limit

    train(tiny(), tmp_path / "run")
    _, task, model, _ = load_run(tmp_path / "run")
    assert source_limit(task) == LENGTH_FACTOR * 4 == 16
    assert len(predict(task, model, ["1"] * 16).src_tokens) == 16
    with pytest.raises(ConfigError, match=r"^the input has 17 tokens, more than this run's limit of 16 \(4 x the "
                                          r"longest training source, 4\): shorten it, or train a run with a larger "
                                          r"--max-len$"):
        predict(task, model, ["1"] * 17)
    dates = make_task("dates")
    with pytest.raises(ConfigError, match=r"the input has 117 characters, more than this run's limit of 116"):
        predict(dates, None, "1" * 117)


def test_huge_learning_rate_diverges_cleanly(tmp_path):
    cfg = tiny(steps=200, optimizer="sgd", momentum=0.0, lr=1e30, clip=0.0, warmup=0, eval_every=50)
    with pytest.raises(TrainingDiverged, match=r"diverged at step \d+: the (loss|gradient norm) is (nan|inf)"):
        train(cfg, tmp_path / "run")
    _, _, meta = _arrays(tmp_path / "run")
    assert meta["step"] % 50 == 0  # the last good checkpoint, from an evaluation step (or step 0)


def test_early_stopping_needs_patience_evaluations_in_a_row(tmp_path, monkeypatch):
    import minatt.train.loop as loop_module  # the trainer's own name for evaluate

    script = iter([0.5, 0.995, 0.8, 0.995, 0.999])  # reached, missed, reached, reached -> stop at eval 5

    def scripted(model, batch, extra=2):
        acc = next(script, 1.0)
        return {"token_accuracy": acc, "sequence_accuracy": acc, "loss": 1.0 - acc, "n": 1}

    monkeypatch.setattr(loop_module, "evaluate", scripted)
    result = train(tiny(steps=100, target=0.99, patience=2), tmp_path / "run")
    assert result.status == "target reached" and result.step == 25
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "target reached" and metrics["eval"]["step"] == [5, 10, 15, 20, 25]
    assert _arrays(tmp_path / "run")[2]["step"] == 25


def test_resume_rejects_fixed_settings_and_finished_runs(tmp_path):
    train(tiny(), tmp_path / "run")
    with pytest.raises(ConfigError, match=r"hidden, lr cannot change when resuming \(hidden: run has 16, you gave 32; "):
        resume(tmp_path / "run", hidden=32, lr=0.1)
    config = read_run_config(tmp_path / "run")[0]
    with pytest.raises(ConfigError, match="already trained"):  # equal values are no change: accepted
        resume(tmp_path / "run", hidden=config.model.hidden, task=config.task)
    with pytest.raises(ConfigError, match=r"already trained 10 of steps=10: pass a larger --steps"):
        resume(tmp_path / "run")
    assert resume(tmp_path / "run", steps=15).step == 15
    assert read_run_config(tmp_path / "run")[0].steps == 15  # the new total is recorded


def test_existing_run_directory_is_not_overwritten(tmp_path):
    train(tiny(), tmp_path / "run")
    with pytest.raises(ConfigError, match="already holds a run: continue it with --resume"):
        train(tiny(), tmp_path / "run")


def test_checkpoint_that_disagrees_with_config_is_refused(tmp_path):
    train(tiny(), tmp_path / "run")
    path = tmp_path / "run" / "config.json"
    doc = json.loads(path.read_text())
    doc["train"]["hidden"] = 24
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=r"different model than config.json says \(hidden: checkpoint 16, "
                                              r"config 24\)"):
        load_run(tmp_path / "run")
    # Arrays alone: a checkpoint without the model record is still checked name by name.
    params, optim, meta = _arrays(tmp_path / "run")
    meta.pop("model")
    meta.pop("format"), meta.pop("version")
    ckpt.save_checkpoint(tmp_path / "run" / "checkpoint.npz", params, optim, meta)
    with pytest.raises(CheckpointError, match=r"parameters in .* do not match the config: .* has shape "
                                              r"\(\d+, 16\), config expects \(\d+, 24\)"):
        load_run(tmp_path / "run")


# A run directory written by main 7ca864e (config.json "version": 1, every setting flat under "train"):
# reverse, lengths 2..4, a Luong decoder with the general score, paused at step 4 of 8.
OLD_RUN = Path(__file__).parent / "fixtures" / "run-2026-12-v1"


def test_a_run_directory_of_the_flat_config_format_loads_and_resumes_exactly(tmp_path):
    run = tmp_path / "old"
    shutil.copytree(OLD_RUN, run)
    config, _, model, meta = load_run(run)
    assert (config.model.score, config.model.decoder, config.model.hidden, config.steps) == ("general", "luong", 16, 8)
    assert meta["step"] == 4 and model.config.src_vocab == 14
    assert resume(run).step == 8
    straight = train(config, tmp_path / "straight")
    (p1, o1, m1), (p2, o2, m2) = _arrays(straight.run_dir), _arrays(run)
    assert all(np.array_equal(p1[k], p2[k]) for k in p1) and all(np.array_equal(o1[k], o2[k]) for k in o1)
    assert m1["loss_history"] == m2["loss_history"] and m1["data_rng"] == m2["data_rng"]
    # The numbers are today's: this code's first four losses are those the old code recorded.
    old = json.loads((OLD_RUN / "metrics.json").read_text())["loss"]["value"]
    assert np.allclose(m1["loss_history"][:4], old, rtol=1e-6, atol=0)


def test_no_model_setting_is_a_field_of_train_config_too():
    own = {f.name for f in fields(TrainConfig)}
    assert own.isdisjoint(f.name for f in fields(Seq2SeqConfig)) and "model" in own
    config = TrainConfig(hidden=24, score="dot", steps=7)
    assert (config.model.hidden, config.model.score, config.steps) == (24, "dot", 7)
    assert TrainConfig.from_dict(config.to_dict()) == config and config.replace(hidden=8).model.hidden == 8
    assert config.model.src_vocab is None  # the task's, set by build_model
    full = TrainConfig(Seq2SeqConfig(14, 14, hidden=24), steps=7)
    assert full.replace(steps=9).model == Seq2SeqConfig(14, 14, hidden=24)  # a replace keeps the whole model


def test_config_validation_lists_valid_choices():
    with pytest.raises(ConfigError, match="unknown task 'rev': choose one of copy, reverse, sort, dates, denoise"):
        TrainConfig(task="rev").validate()
    with pytest.raises(ConfigError, match="unknown cell 'rnn': choose one of lstm, gru"):
        TrainConfig(cell="rnn").validate()
    with pytest.raises(ConfigError, match="hidden must be a positive integer, got 0"):
        TrainConfig(hidden=0).validate()
    with pytest.raises(ConfigError, match="need min_len <= max_len"):
        TrainConfig(min_len=5, max_len=3).validate()
    with pytest.raises(ConfigError, match="unknown training settings colour"):
        TrainConfig.from_dict({"colour": "red"})
    TrainConfig(task="dates", min_len=50, max_len=1).validate()  # lengths do not apply to dates


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


def test_ctrl_c_in_the_final_evaluation_leaves_metrics_and_resume_redoes_it(tmp_path, monkeypatch):
    from minatt.train import loop

    real = loop.final_metrics

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "final_metrics", interrupted)
    first = train(tiny(), tmp_path / "run")
    assert first.status == "interrupted" and first.step == 10
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["final_evaluation"] == "interrupted" and metrics["ended"] == "done" and metrics["steps"] == 10
    monkeypatch.setattr(loop, "final_metrics", real)
    again = resume(tmp_path / "run")
    assert again.status == "done" and again.step == 10 and "test" in again.metrics
    assert "final_evaluation" not in json.loads((tmp_path / "run" / "metrics.json").read_text())
    with pytest.raises(ConfigError, match="already trained 10 of steps=10"):
        resume(tmp_path / "run")


def test_predict_decodes_and_rejects_unknown_tokens(tmp_path):
    train(tiny(), tmp_path / "run")
    _, task, model, _ = load_run(tmp_path / "run")
    pred = predict(task, model, "3 1 4")
    assert pred.src_tokens == ["3", "1", "4"]
    assert pred.attention.shape == (len(pred.out_tokens), 3)
    assert all(t in task.tgt_vocab.symbols for t in pred.out_tokens[:-1])
    assert pred.text == " ".join(t for t in pred.out_tokens if t != "<eos>")
    assert predict(task, model, ["3", "1", "4"], beam=3).src_tokens == ["3", "1", "4"]
    with pytest.raises(ConfigError, match="unknown token 'x' at position 1"):
        predict(task, model, "3 x")


@pytest.mark.parametrize("task", ["copy", "reverse", "sort", "denoise", "dates"])
def test_every_task_learns(tmp_path, task):
    """About a second of training: the loss halves and held-out token accuracy is far above chance."""
    cfg = TrainConfig(task=task, min_len=3, max_len=6, embed=16, hidden=32, batch=32, steps=120, lr=0.01,
                      warmup=10, eval_every=60, test_size=100, target=None)
    result = train(cfg, tmp_path / task)
    losses = result.metrics["loss"]["value"]
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    chance = 1.0 / (len(make_task(task).tgt_vocab.symbols) + 1)  # uniform over the symbols and EOS
    # (measured: 0.81 for dates, 0.94-1.0 for the others; chance is 0.08-0.09)
    assert result.metrics["test"]["token_accuracy"] > max(0.5, 5 * chance), result.metrics["test"]


def test_denoise_reports_its_ceilings(tmp_path, capsys):
    from minatt.train.report import print_summary

    cfg = tiny(task="denoise", min_len=3, max_len=6, test_size=64)
    trainer = Trainer.create(cfg, tmp_path / "run")
    result = trainer.run()
    test = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    held_out = trainer.task.test_set(cfg.test_size, seed=cfg.seed + 2)       # the run's final test set
    assert {k: test[k] for k in ("uncorrupted", "sequence_ceiling", "token_ceiling", "n")} == \
        trainer.task.heldout_report(held_out)
    assert 0 < test["uncorrupted"] <= test["sequence_ceiling"] < test["token_ceiling"] < 1
    print_summary(trainer, result)
    out = capsys.readouterr().out
    assert f"{test['uncorrupted']:.1%} of the held-out sources are uncorrupted" in out
    assert f"sequence accuracy {test['sequence_ceiling']:.4f}, token accuracy {test['token_ceiling']:.4f}" in out
