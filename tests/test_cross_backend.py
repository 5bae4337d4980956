"""The same seed gives the same model and the same training on NumPy and CuPy.

These run wherever CuPy finds a CUDA GPU and skip elsewhere. Initial weights must be
bit-identical (they are drawn on the host); after training, losses and weights agree within
float32 tolerance (the two BLAS libraries sum in different orders).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import minatt
from minatt.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.train import TrainConfig, load_run, train
from tests.conftest import GPU

pytestmark = pytest.mark.skipif(not GPU, reason="needs CuPy and a CUDA GPU")


@pytest.mark.parametrize("cell, score", [("lstm", "additive"), ("gru", "general")])
def test_same_seed_same_initial_weights(cell, score):
    config = Seq2SeqConfig(src_vocab=14, tgt_vocab=14, embed=8, hidden=12, cell=cell, score=score)
    with minatt.use("numpy"):
        cpu = {k: minatt.to_numpy(v) for k, v in Seq2Seq(config, seed=3).params.items()}
    with minatt.use("cupy"):
        gpu = {k: minatt.to_numpy(v) for k, v in Seq2Seq(config, seed=3).params.items()}
    assert cpu.keys() == gpu.keys()
    for name in cpu:
        np.testing.assert_array_equal(cpu[name], gpu[name], err_msg=name)


def test_same_seed_trains_to_the_same_numbers(tmp_path):
    base = dict(task="reverse", min_len=3, max_len=6, embed=16, hidden=24, steps=60, batch=16,
                eval_every=30, test_size=64, target=None, seed=5)
    runs = {}
    for backend in ("numpy", "cupy"):
        run_dir = tmp_path / backend
        train(TrainConfig(backend=backend, **base), run_dir)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        with minatt.use("numpy"):
            _, _, model, _ = load_run(run_dir, backend="numpy")
        runs[backend] = (metrics, {k: minatt.to_numpy(v) for k, v in model.params.items()})
    (m_cpu, w_cpu), (m_gpu, w_gpu) = runs["numpy"], runs["cupy"]
    np.testing.assert_allclose(m_cpu["loss"]["value"], m_gpu["loss"]["value"], rtol=2e-3, atol=1e-4)
    assert abs(m_cpu["test"]["sequence_accuracy"] - m_gpu["test"]["sequence_accuracy"]) <= 0.02
    for name in w_cpu:
        np.testing.assert_allclose(w_cpu[name], w_gpu[name], rtol=1e-2, atol=1e-3, err_msg=name)
