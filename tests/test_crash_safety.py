"""minatt.train.crash_safety: no way of stopping a run loses work (Ctrl-C once or twice, mid-step or
in the final evaluation, with or without worker processes)."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

from minatt.errors import ConfigError
from minatt.train import crash_safety
from minatt.train.loop import Trainer
from minatt.train.start import resume, train
from tests.tiny_runs import arrays as _arrays
from tests.tiny_runs import tiny

pytestmark = pytest.mark.usefixtures("one_blas_thread")


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


def test_until_pauses_like_a_ctrl_c_without_a_final_evaluation(tmp_path):
    trainer = Trainer.create(tiny(steps=10), tmp_path / "run")
    result = crash_safety.run_safely(trainer, progress="none", until=3)
    assert isinstance(result, crash_safety.TrainResult)
    assert (result.status, result.step, result.interrupted) == ("paused", 3, False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "paused" and "test" not in metrics  # the final evaluation waits for the end
    assert _arrays(tmp_path / "run")[2]["step"] == 3
