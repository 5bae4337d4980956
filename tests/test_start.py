"""minatt.train.start: train() and resume() select the run's backend, dtype and BLAS threads for the
run's duration only, and put a run without --out in its default directory."""

from __future__ import annotations

import numpy as np
import pytest

import minatt
from minatt.tools.runtime import get_blas_threads
from minatt.train.start import resume, train
from tests.tiny_runs import tiny


def test_the_run_sees_its_dtype_and_threads_and_the_caller_gets_its_own_back(tmp_path):
    seen = []

    def look(trainer):
        seen.append((dtype(), get_blas_threads(), str(trainer.model.params["dec.out.W"].dtype)))

    def dtype():
        return str(np.dtype(minatt.get_default_dtype()))

    before = (dtype(), get_blas_threads())
    train(tiny(steps=2, dtype="float64"), tmp_path / "run", on_step=look, threads=1)
    assert seen and all(s == ("float64", 1, "float64") for s in seen)
    assert (dtype(), get_blas_threads()) == before
    seen.clear()
    resume(tmp_path / "run", steps=3, on_step=look, threads=1)
    assert seen == [("float64", 1, "float64")]  # the run's dtype, from its config.json
    assert dtype() == before[0] == "float32"


def test_a_run_without_a_directory_goes_to_runs_task_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = train(tiny(steps=1, task="copy"))
    assert result.run_dir.parent.resolve() == (tmp_path / "runs").resolve()
    assert result.run_dir.name.startswith("copy-")


def test_a_bad_config_is_refused_before_any_file_is_written(tmp_path):
    with pytest.raises(minatt.errors.ConfigError):
        train(tiny(steps=0), tmp_path / "run")
    assert not (tmp_path / "run").exists()
