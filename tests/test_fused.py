"""The fused GPU kernels (minatt/ops/fused*.py) against their per-equation references.

Three ways to run a kernel's CUDA source, so most of this file runs without a GPU:

- ``gpu``: real CuPy on a GPU (skipped elsewhere);
- ``cpu``: the same source compiled as C++ (g++) and run on the CPU by one thread: every kernel is a
  grid-stride loop, so one thread does all the work. The wrappers then run on NumPy arrays;
- nvcc compiles every source for sm_90 (where nvcc is installed), as the GPU will.

Then: without a GPU (NumPy, the CPU stand-in) the reference is the path taken, and with
``fusable`` saying yes, a whole training step runs through the kernels and matches the reference.
"""

from __future__ import annotations

import ctypes
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
from minatt.ops.gru import gru_cell_backward, gru_cell_forward
from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward
from minatt.ops.lstm import lstm_cell_backward, lstm_cell_forward
from minatt.ops.scores import additive_score_projected_forward, tanh_of_scores_backward
from minatt.ops.softmax import softmax_backward, softmax_forward
from minatt.optim import Adam
from tests import strict_cupy
from tests.conftest import GPU

KERNELS = [k for m in (fused_cells, fused_attention, fused_training) for k in vars(m).values() if isinstance(k, Kernel)]
CPU_PRELUDE = r"""
#include <cmath>
struct minatt_dim { unsigned x; };
static const minatt_dim blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};  // one thread
#define __global__
#define __device__
#define __forceinline__ inline
using std::tanh; using std::exp; using std::log; using std::sqrt;
"""
CTYPES = {np.int32: ctypes.c_int, np.int64: ctypes.c_longlong, np.float32: ctypes.c_float, np.float64: ctypes.c_double}


def all_sources(dtype) -> str:
    """Every kernel's source for ``dtype``, each in a namespace of its own (one compiler run)."""
    return "\n".join(f"namespace k_{k.name} {{\n{k.source(np.dtype(dtype))}\n}}" for k in KERNELS)


@pytest.fixture(scope="module")
def cpu_kernels(tmp_path_factory):
    """Kernel.__call__ for NumPy arrays: the CUDA sources compiled with g++, run on the CPU."""
    if shutil.which("g++") is None:
        pytest.skip("needs g++ to run the CUDA sources on the CPU")
    libs = {}
    for dtype in (np.float32, np.float64):
        folder = tmp_path_factory.mktemp(np.dtype(dtype).name)
        (folder / "k.cpp").write_text(CPU_PRELUDE + all_sources(dtype))
        subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(folder / "k.so"), str(folder / "k.cpp")],
                       check=True, capture_output=True, text=True)
        libs[np.dtype(dtype)] = ctypes.CDLL(str(folder / "k.so"))
    ran: Counter = Counter()

    def launch(self, count, dtype, *args):
        values = fused.arguments(tuple(a._a if type(a) is strict_cupy.ndarray else a for a in args), np.dtype(dtype))
        for a in values:
            assert not isinstance(a, np.ndarray) or a.flags.c_contiguous, f"{self.name}: a strided array"
        c_args = [ctypes.c_void_p(a.ctypes.data) if isinstance(a, np.ndarray) else CTYPES[type(a)](a) for a in values]
        getattr(libs[np.dtype(dtype)], self.name)(*c_args)
        ran[self.name] += 1

    launch.ran = ran
    return launch


@pytest.fixture(params=["cpu", "gpu"])
def device_xp(request, monkeypatch):
    """The array module the kernels run on: NumPy with the C++ build, or real CuPy on a GPU."""
    if request.param == "gpu":
        if not GPU:
            pytest.skip("needs CuPy and a CUDA GPU")
        with minatt.use("cupy"):
            yield minatt.backend.get_xp()
        return
    monkeypatch.setattr(Kernel, "__call__", request.getfixturevalue("cpu_kernels"))  # (skips without g++)
    yield np


def reference(fn, *args):
    """``fn`` on its per-equation lines, whatever the arrays (fusable says no)."""
    saved, backend._fused_type = backend._fused_type, None
    try:
        return fn(*args)
    finally:
        backend._fused_type = saved


def host(a):
    return [host(x) for x in a] if isinstance(a, (tuple, list)) else np.asarray(minatt.to_numpy(a), dtype=np.float64)


def assert_agree(got, want, dtype):
    tol = 1e-5 if dtype == "float32" else 1e-13  # float32: sums over S terms, each rounded at ~6e-8
    for g, w in zip(host(got), host(want), strict=True):
        if isinstance(g, list):
            assert_agree(g, w, dtype)
            continue
        assert g.shape == w.shape and np.isfinite(g).all()
        assert np.linalg.norm(g - w) <= tol * max(np.linalg.norm(w), 1e-30), (g, w)


def draw(xp, rng, shape, dtype, scale=1.5):
    return xp.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_lstm_cell(device_xp, dtype):
    xp, rng = device_xp, np.random.default_rng(1)
    a, c_prev, dh, dc = (draw(xp, rng, s, dtype) for s in ((5, 12), (5, 3), (5, 3), (5, 3)))
    got, want = fused.lstm_cell_forward(a, c_prev), reference(lstm_cell_forward, a, c_prev)
    assert_agree(got[:2] + tuple(got[2]), want[:2] + tuple(want[2]), dtype)
    for dc_next in (dc, None):
        assert_agree(fused.lstm_cell_backward(dh, dc_next, got[2]),
                     reference(lstm_cell_backward, dh, dc_next, want[2]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_gru_cell(device_xp, dtype):
    xp, rng = device_xp, np.random.default_rng(2)
    ax, ah, h_prev, dh = (draw(xp, rng, s, dtype) for s in ((4, 9), (4, 9), (4, 3), (4, 3)))
    got, want = fused.gru_cell_forward(ax, ah, h_prev), reference(gru_cell_forward, ax, ah, h_prev)
    assert_agree((got[0], *got[1]), (want[0], *want[1]), dtype)
    assert_agree(fused.gru_cell_backward(dh, got[1]), reference(gru_cell_backward, dh, want[1]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_additive_tanh(device_xp, dtype):
    xp, rng = device_xp, np.random.default_rng(3)
    q, kproj, Wq, v, dscores = (draw(xp, rng, s, dtype) for s in ((3, 4), (3, 5, 6), (4, 6), (6,), (3, 5)))
    qproj = q @ Wq
    assert_agree([fused.additive_tanh(qproj, kproj)], [xp.tanh(qproj[:, None, :] + kproj)], dtype)
    t = reference(additive_score_projected_forward, q, kproj, Wq, v)[1].t
    assert_agree([fused.tanh_of_scores_backward(dscores, v, t)], [reference(tanh_of_scores_backward, dscores, v, t)],
                 dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_shape", [None, (4, 7), (4, 1, 7)])
def test_fused_masked_softmax(device_xp, dtype, mask_shape):
    xp, rng = device_xp, np.random.default_rng(4)
    shape = (4, 7) if mask_shape != (4, 1, 7) else (4, 3, 7)
    x, dp = draw(xp, rng, shape, dtype, 4.0), draw(xp, rng, shape, dtype)
    mask = None
    if mask_shape is not None:
        host_mask = rng.random(mask_shape) < 0.6
        host_mask[0] = False  # a fully masked row: all zeros, never NaN
        mask = xp.asarray(host_mask)
    full = None if mask is None else xp.broadcast_to(mask, shape)  # the op's contract wants x's shape
    got, want = fused.softmax_forward(x, mask), reference(softmax_forward, x, full)
    assert_agree([got[0]], [want[0]], dtype)
    assert_agree([fused.softmax_backward(dp, got[1])], [reference(softmax_backward, dp, want[1])], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ignore_index", [None, 0])
def test_fused_cross_entropy(device_xp, dtype, ignore_index):
    xp, rng = device_xp, np.random.default_rng(5)
    logits = draw(xp, rng, (3, 4, 6), dtype, 3.0)
    targets = xp.asarray(rng.integers(0, 6, (3, 4)))
    got = fused.cross_entropy_forward(logits, targets, ignore_index)
    want = reference(cross_entropy_forward, logits, targets, ignore_index)
    assert host(got[0]).shape == () and host(got[1].n_counted) == host(want[1].n_counted)
    assert_agree([got[0], got[1].p], [want[0], want[1].p], dtype)
    assert_agree([fused.cross_entropy_backward(got[1], 0.7)], [reference(cross_entropy_backward, want[1], 0.7)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_adam(device_xp, dtype):
    xp, rng = device_xp, np.random.default_rng(6)
    start = {"W": draw(xp, rng, (3, 4), dtype), "b": draw(xp, rng, (4,), dtype)}
    runs = []
    for use_fused in (True, False):
        params = {k: p.copy() for k, p in start.items()}
        opt = Adam(params, lr=0.01)
        for step in range(3):
            grads = {k: draw(xp, np.random.default_rng(step), p.shape, dtype) for k, p in params.items()}
            if use_fused:
                for name, p in params.items():
                    fused.adam_update(p, grads[name], opt.state["m"][name], opt.state["v"][name], 0.01,
                                      opt.beta1, opt.beta2, opt.eps, step + 1)
                opt.t += 1
            else:
                reference(opt.step, grads)
        runs.append([params["W"], params["b"], opt.state["m"]["W"], opt.state["v"]["b"]])
    assert_agree(runs[0], runs[1], dtype)


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
