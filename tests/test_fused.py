"""minatt.ops.fused: the switch to the fused GPU kernels, and which path a training step takes.

Each kernel module has its own file against its per-equation reference (test_fused_cells.py,
test_fused_attention.py, test_fused_training.py); the harness that runs the CUDA sources without a GPU
(built as C++ with g++, one CPU thread per kernel) is tests/fused_harness.py. Here: nvcc compiles every
source for sm_90 (where nvcc is installed), as the GPU will; without a GPU (NumPy, the CPU stand-in) the
reference is the path taken; and with ``fusable`` saying yes, a whole training step runs through the
kernels and matches the reference.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

import minatt
from minatt import backend
from minatt.ops import fused, fused_attention, fused_cells, fused_training
from minatt.ops.fused import Kernel
from minatt.optim import Adam
from tests import strict_cupy
from tests.conftest import GPU
from tests.fused_harness import KERNELS, all_sources


def test_fused_sources_compile_with_nvcc(tmp_path):
    """The GPU compiles these at first use; nvcc here catches what would fail there."""
    if shutil.which("nvcc") is None:
        pytest.skip("needs nvcc")
    for dtype in (np.float32, np.float64):
        (tmp_path / "k.cu").write_text(all_sources(dtype))
        done = subprocess.run(["nvcc", "--ptx", "-arch=sm_90", "-o", str(tmp_path / "k.ptx"), str(tmp_path / "k.cu")],
                              check=False, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert all(f".entry {k.name}" in (tmp_path / "k.ptx").read_text() for k in KERNELS)


# -- which path runs ----------------------------------------------------------------------------------

def _train_steps(steps=2, cell="lstm", score="additive"):
    """Two training steps of a small model -> (losses, params), still on the backend (read nothing)."""
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
    from minatt.optim import clip_grad_norm
    from minatt.tasks import make_task

    task = make_task("reverse", min_len=2, max_len=5)
    V = len(task.src_vocab.tokens)
    model = Seq2Seq(Seq2SeqConfig(V, V, embed=6, hidden=8, cell=cell, score=score), seed=1)
    opt = Adam(model.params, lr=0.01)
    losses = []
    for step in range(steps):
        loss, grads = model.loss_and_grads(task.batch(step, 4))
        clip_grad_norm(grads, 1.0)
        opt.step(grads)
        losses.append(loss)
    return losses, model.params


def _read(result):
    losses, params = result
    return [float(loss) for loss in losses], {k: minatt.to_numpy(p) for k, p in params.items()}


def _refuse(monkeypatch):
    """Make every fused function raise if called."""
    def refuse(*args, **kwargs):
        raise AssertionError("the fused path ran")

    for module in (fused_cells, fused_attention, fused_training):
        for name, value in vars(module).items():
            if callable(value) and getattr(value, "__module__", "") == module.__name__:
                monkeypatch.setattr(fused, name, refuse, raising=False)


@pytest.mark.parametrize("name", ["numpy", "cupy"])
def test_without_a_gpu_the_reference_runs(monkeypatch, name):
    """On NumPy and on the CPU stand-in for CuPy, fusable says no and every op runs its own lines."""
    if GPU and name == "cupy":
        pytest.skip("on a GPU the cupy backend is real CuPy, which fuses")
    _refuse(monkeypatch)
    with strict_cupy.installed(), minatt.use(name):
        x = minatt.backend.get_xp().ones(3)
        assert not backend.fusable(x)
        for cell in ("lstm", "gru"):
            _train_steps(cell=cell)


@pytest.mark.parametrize("name", ["numpy", "cupy"])
def test_with_fusable_a_training_step_runs_the_kernels_and_matches(monkeypatch, cpu_kernels, name):
    """Point fusable at NumPy arrays (or at the strict stand-in's, which refuse what CuPy refuses) and a
    whole model step runs through the C++ build of every kernel (LSTM and GRU, additive score, softmax,
    cross-entropy, Adam), to the reference's numbers, reading nothing back to the host."""
    monkeypatch.setattr(Kernel, "__call__", cpu_kernels)
    with strict_cupy.installed(), minatt.use(name), minatt.default_dtype("float64"):
        expected = {cell: _read(_train_steps(cell=cell)) for cell in ("lstm", "gru")}
        cpu_kernels.ran.clear()
        monkeypatch.setattr(backend, "_fused_type", type(minatt.backend.get_xp().ones(1)))
        with strict_cupy.counting() as seen:
            raw = {cell: _train_steps(cell=cell) for cell in ("lstm", "gru")}
        got = {cell: _read(result) for cell, result in raw.items()}
    assert set(cpu_kernels.ran) == {k.name for k in KERNELS}, cpu_kernels.ran
    assert seen == {}
    for cell in got:
        np.testing.assert_allclose(got[cell][0], expected[cell][0], rtol=1e-12)
        for k, p in got[cell][1].items():
            np.testing.assert_allclose(p, expected[cell][1][k], rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.skipif(not GPU, reason="needs CuPy and a CUDA GPU")
def test_fused_training_step_on_the_gpu_matches_the_reference(monkeypatch):
    """On the GPU: a whole step through the kernels against the same step on the reference lines."""
    ran: Counter = Counter()
    launch = Kernel.__call__

    def counting(self, *args):
        ran[self.name] += 1
        return launch(self, *args)

    monkeypatch.setattr(Kernel, "__call__", counting)
    with minatt.use("cupy"), minatt.default_dtype("float64"):
        saved = type(minatt.backend.get_xp().ones(1))  # cupy.ndarray (not backend._fused_type: an earlier
        monkeypatch.setattr(backend, "_fused_type", None)  # test's monkeypatch may have left it None)
        expected = {cell: _read(_train_steps(cell=cell)) for cell in ("lstm", "gru")}
        monkeypatch.setattr(backend, "_fused_type", saved)
        got = {cell: _read(_train_steps(cell=cell)) for cell in ("lstm", "gru")}
    assert set(ran) == {k.name for k in KERNELS}, ran
    for cell in got:
        np.testing.assert_allclose(got[cell][0], expected[cell][0], rtol=1e-10)
        for k, p in got[cell][1].items():
            np.testing.assert_allclose(p, expected[cell][1][k], rtol=1e-8, atol=1e-10, err_msg=k)


def test_minatt_fused_0_turns_the_kernels_off(monkeypatch):
    monkeypatch.setattr(backend, "_fused_type", None)
    monkeypatch.setenv("MINATT_FUSED", "0")
    backend._enable_fused(np.ndarray)
    assert not backend.fusable(np.ones(2))
    monkeypatch.setenv("MINATT_FUSED", "1")
    backend._enable_fused(np.ndarray)
    assert backend.fusable(np.ones(2))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
