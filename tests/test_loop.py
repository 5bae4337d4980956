"""minatt.train.loop: the Trainer and its fit() loop (exact resume, divergence, early stopping, refusals)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from minatt.errors import CheckpointError, ConfigError, TrainingDiverged
from minatt.tools import checkpoint as ckpt
from minatt.train.loop import LOG_EVERY, Trainer
from minatt.train.rundir import load_run, read_run_config
from minatt.train.start import resume, train
from tests.tiny_runs import arrays as _arrays
from tests.tiny_runs import tiny

pytestmark = pytest.mark.usefixtures("one_blas_thread")


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
