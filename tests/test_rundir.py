"""minatt.train.rundir: run directories (reading their config, loading a run, old formats)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from minatt.train.rundir import load_run
from minatt.train.start import resume, train
from tests.tiny_runs import arrays as _arrays

pytestmark = pytest.mark.usefixtures("one_blas_thread")


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
