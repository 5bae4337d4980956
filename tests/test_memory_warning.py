"""minatt.train.memory_warning: a step's memory is estimated from a 2-row probe and scaled to the batch,
and a run is warned, in one line naming the fix, only when that estimate exceeds the memory free."""

from __future__ import annotations

import minatt
from minatt.train import memory_warning as mw
from minatt.train.loop import Trainer
from tests.tiny_runs import tiny


def _trainer(tmp_path, **changes):
    return Trainer(tiny(**changes), tmp_path / "run")


def test_the_estimate_scales_with_the_batch_and_leaves_the_data_stream_alone(tmp_path):
    trainer = _trainer(tmp_path, batch=8)
    state = trainer.batches.rng.bit_generator.state
    a = mw.step_bytes(trainer)
    trainer.config = trainer.config.replace(batch=32)
    b = mw.step_bytes(trainer)
    assert a > 0 and 3.5 * a < b < 4.5 * a  # the same 2-row probe, scaled by batch / 2
    assert trainer.batches.rng.bit_generator.state == state  # the probe has its own generator


def test_a_warning_only_when_the_step_needs_more_than_is_free(tmp_path, monkeypatch):
    trainer = _trainer(tmp_path)
    need = mw.step_bytes(trainer)
    monkeypatch.setattr(mw, "available_bytes", lambda: need + 1)
    assert mw.memory_warning(trainer) is None
    monkeypatch.setattr(mw, "available_bytes", lambda: need // 2)
    line = mw.memory_warning(trainer)
    assert line is not None and "\n" not in line and "--batch" in line and "--max-len" in line
    monkeypatch.setattr(mw, "available_bytes", lambda: None)  # unknown: say nothing
    assert mw.memory_warning(trainer) is None


def test_no_estimate_off_numpy(tmp_path, monkeypatch):
    trainer = _trainer(tmp_path)
    monkeypatch.setattr(mw, "available_bytes", lambda: 0)
    monkeypatch.setattr(mw, "current", lambda: "cupy")  # tracemalloc does not see device memory
    assert mw.memory_warning(trainer) is None
    assert minatt.current() == "numpy"


def test_available_bytes_is_a_positive_count_or_none():
    free = mw.available_bytes()
    assert free is None or free > 0
