"""The same code on NumPy and on the device: whole runs, end to end, on both backends.

The device is real CuPy where a GPU answers, and the strict stand-in (tests/strict_cupy.py)
elsewhere, so every path here (train, resume, evaluate, checkpoint, predict, search, plot, the
command line, the data-parallel guard) runs on every machine. On the stand-in the arithmetic is
NumPy's, so a device run must match the NumPy run bit for bit: any difference is a device-only
code path. On a GPU, cuBLAS sums in another order, so the last test compares within float32
tolerance instead, and it alone needs the hardware.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import minatt
from minatt import cli
from minatt.errors import ConfigError
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.tools.plot import save_attention
from minatt.train import TrainConfig, load_run, predict, resume, train
from minatt.train.parallel import DataParallel
from tests.conftest import GPU, device

BASE = {"task": "reverse", "min_len": 3, "max_len": 6, "embed": 16, "hidden": 24, "steps": 60, "batch": 16,
        "eval_every": 30, "test_size": 64, "target": None, "seed": 5}


def _host(model) -> dict[str, np.ndarray]:
    return {k: minatt.to_numpy(v) for k, v in model.params.items()}


def _train_on_each_backend(tmp_path, **overrides) -> dict[str, tuple[dict, dict]]:
    """Train the same config on numpy and cupy; per backend, (metrics.json, params on the host)."""
    runs = {}
    for backend in ("numpy", "cupy"):
        run_dir = tmp_path / backend
        with device():
            train(TrainConfig(**{**BASE, **overrides, "backend": backend}), run_dir)
        with minatt.use("numpy"):
            _, _, model, _ = load_run(run_dir)  # a device run's checkpoint loads on the host
        runs[backend] = (json.loads((run_dir / "metrics.json").read_text()), _host(model))
    return runs


@pytest.mark.parametrize("cell, score", [("lstm", "additive"), ("gru", "general")])
def test_same_seed_same_initial_weights(cell, score):
    config = Seq2SeqConfig(src_vocab=14, tgt_vocab=14, embed=8, hidden=12, cell=cell, score=score)
    with minatt.use("numpy"):
        cpu = _host(Seq2Seq(config, seed=3))
    with device(), minatt.use("cupy"):
        model = Seq2Seq(config, seed=3)
        assert all(minatt.backend.is_device_array(p) for p in model.params.values())
        gpu = _host(model)
    assert cpu.keys() == gpu.keys()
    for name in cpu:
        np.testing.assert_array_equal(cpu[name], gpu[name], err_msg=name)


@pytest.mark.skipif(GPU, reason="on a GPU the numbers differ by rounding: see test_same_seed_trains_to_the_same_numbers")
@pytest.mark.parametrize("overrides", [{}, {"cell": "gru", "score": "concat", "decoder": "luong", "bidirectional": True,
                                           "optimizer": "sgd", "dtype": "float64"}], ids=["lstm-adam", "gru-sgd"])
def test_the_device_path_trains_exactly_like_numpy(tmp_path, overrides):
    runs = _train_on_each_backend(tmp_path, **{**overrides, "steps": 30, "eval_every": 15})
    (m_cpu, w_cpu), (m_dev, w_dev) = runs["numpy"], runs["cupy"]
    assert m_cpu["loss"] == m_dev["loss"] and m_cpu["test"] == m_dev["test"]
    for name in w_cpu:
        np.testing.assert_array_equal(w_cpu[name], w_dev[name], err_msg=name)


@pytest.mark.skipif(GPU, reason="on a GPU a switch of backend mid-run changes the rounding, not the path")
def test_a_run_resumes_on_the_other_backend_exactly(tmp_path):
    config = {**BASE, "embed": 8, "hidden": 12, "batch": 8, "test_size": 16, "steps": 20, "eval_every": 10}
    with device():
        train(TrainConfig(**config), tmp_path / "straight")
        for first, then in (("numpy", "cupy"), ("cupy", "numpy")):
            train(TrainConfig(**{**config, "backend": first}), tmp_path / first, until=10)
            resume(tmp_path / first, backend=then)  # the optimiser state crosses the line too
    with minatt.use("numpy"):
        straight = _host(load_run(tmp_path / "straight")[2])
        for first in ("numpy", "cupy"):
            resumed = _host(load_run(tmp_path / first)[2])
            for name in straight:
                np.testing.assert_array_equal(resumed[name], straight[name], err_msg=f"{first}: {name}")


def test_a_device_run_resumes_predicts_searches_and_plots(tmp_path):
    run_dir = tmp_path / "run"
    with device():
        train(TrainConfig(**{**BASE, "steps": 10, "eval_every": 5, "backend": "cupy"}), run_dir)
        resume(run_dir, steps=20)
        with minatt.use("cupy"):
            _, task, model, meta = load_run(run_dir)
            assert meta["step"] == 20 and minatt.backend.is_device_array(model.params["dec.out.W"])
            on_device = [predict(task, model, "1 2 3 4"), predict(task, model, "1 2 3 4", beam=3)]
    with minatt.use("numpy"):
        _, task, model, _ = load_run(run_dir)
        on_host = [predict(task, model, "1 2 3 4"), predict(task, model, "1 2 3 4", beam=3)]
    for dev, host in zip(on_device, on_host):
        assert type(dev.attention) is np.ndarray and dev.out_tokens == host.out_tokens
        np.testing.assert_allclose(dev.attention, host.attention, rtol=1e-5, atol=1e-6)
    save_attention(tmp_path / "attention.png", on_device[1].attention, on_device[1].src_tokens, on_device[1].out_tokens)
    assert (tmp_path / "attention.png").stat().st_size > 0


@pytest.mark.parametrize("argv", [
    ["gradcheck", "--backend", "cupy", "--op", "affine", "--op", "softmax"],
    ["bench", "--backend", "cupy", "--steps", "2", "--warmup", "1", "--batch", "4", "--embed", "8", "--hidden", "8",
     "--src-len", "4", "--tgt-len", "4", "--memory", "--json"],
    ["experiment", "cost", "--small", "--repeats", "1", "--backend", "cupy"],
], ids=lambda argv: argv[0])
def test_the_commands_run_on_the_device(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    extra = ["--out", str(tmp_path / "out")] if argv[0] == "experiment" else []
    with device():
        assert cli.main(argv + extra) == 0, capsys.readouterr().err


def test_data_parallel_refuses_a_device_model_and_one_worker_runs_it():
    with device(), minatt.use("cupy"):
        model = Seq2Seq(Seq2SeqConfig(src_vocab=9, tgt_vocab=9, embed=4, hidden=6), seed=0)
        with pytest.raises(ConfigError, match="data-parallel workers run the NumPy backend"):
            DataParallel(model, workers=2)
        with DataParallel(model, workers=1) as one:
            assert one is model or one.model is model


@pytest.mark.skipif(not GPU, reason="compares cuBLAS against OpenBLAS rounding: needs CuPy and a CUDA GPU "
                                    "(on the stand-in test_the_device_path_trains_exactly_like_numpy checks the path)")
def test_same_seed_trains_to_the_same_numbers(tmp_path):
    runs = _train_on_each_backend(tmp_path)
    (m_cpu, w_cpu), (m_gpu, w_gpu) = runs["numpy"], runs["cupy"]
    np.testing.assert_allclose(m_cpu["loss"]["value"], m_gpu["loss"]["value"], rtol=2e-3, atol=1e-4)
    assert abs(m_cpu["test"]["sequence_accuracy"] - m_gpu["test"]["sequence_accuracy"]) <= 0.02
    for name in w_cpu:
        np.testing.assert_allclose(w_cpu[name], w_gpu[name], rtol=1e-2, atol=1e-3, err_msg=name)
