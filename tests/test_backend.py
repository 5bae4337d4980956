"""The backend switch: names, context manager, environment variable, dtype, seeded init, errors."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import minatt
from minatt import backend
from minatt.backend import BackendError
from tests import strict_cupy
from tests.conftest import GPU, device


def test_default_backend_is_numpy():
    """In a fresh interpreter with MINATT_BACKEND unset: no earlier use() can make this pass."""
    code = "import numpy, minatt; from minatt import backend; print(minatt.current(), backend.get_xp() is numpy)"
    env = {k: v for k, v in os.environ.items() if k != "MINATT_BACKEND"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["numpy", "True"]


def test_context_manager_switches_and_restores_even_on_error(monkeypatch):
    # Stand NumPy in for CuPy so the switch itself can be tested on any machine.
    monkeypatch.setattr(backend, "_module_for", lambda name: np)
    minatt.use("numpy")
    with minatt.use("cupy"):
        assert minatt.current() == "cupy"
    assert minatt.current() == "numpy"
    with pytest.raises(ZeroDivisionError), minatt.use("cupy"):
        assert minatt.current() == "cupy"
        raise ZeroDivisionError
    assert minatt.current() == "numpy"


def test_unknown_backend_names_the_choices():
    with pytest.raises(BackendError, match=r"unknown backend 'torch': choose one of numpy, cupy"):
        minatt.use("torch")
    assert minatt.current() == "numpy"  # a failed switch changes nothing


def test_cupy_without_gpu_says_which_and_how_to_fix(monkeypatch):
    # Make the "no driver" path deterministic whatever this machine has.
    monkeypatch.setattr(backend, "_cupy", None)
    try:
        import cupy
    except ImportError:
        with pytest.raises(BackendError, match=r"pip install 'minatt\[gpu\]'"):
            minatt.use("cupy")
        return

    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    monkeypatch.setattr(cupy.cuda.runtime, "getDeviceCount", no_device)
    with pytest.raises(BackendError, match=r"no usable CUDA device or driver.*cudaErrorNoDevice.*--backend numpy"):
        minatt.use("cupy")


@pytest.mark.skipif(GPU, reason="with a GPU, use('cupy') is real CuPy: there is no error to keep")
def test_the_tests_stand_in_leaves_users_the_one_line_error():
    """The suite runs its cupy cases on tests/strict_cupy.py; outside that block, no GPU still means the error."""
    with device(), minatt.use("cupy"):
        assert type(minatt.asarray(np.ones(2))) is strict_cupy.ndarray
    with pytest.raises(BackendError, match="use --backend numpy"):
        minatt.use("cupy")
    assert minatt.current() == "numpy" and backend._cupy is None


def test_cupy_not_installed_names_the_extra(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    with pytest.raises(BackendError, match=r"CuPy, which is not installed: pip install 'minatt\[gpu\]'"):
        minatt.use("cupy")


@pytest.mark.parametrize("value, returncode, expected", [
    ("numpy", 0, "numpy"), ("bogus", 1, "MINATT_BACKEND='bogus' is not a backend")])
def test_environment_variable(value, returncode, expected):
    code = "import minatt; print(minatt.current())"
    env = dict(os.environ, MINATT_BACKEND=value)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == returncode, proc.stderr
    assert expected in (proc.stdout if returncode == 0 else proc.stderr)


def test_default_dtype_switch():
    assert minatt.get_default_dtype() is np.float32
    with minatt.default_dtype("float64"):
        assert minatt.get_default_dtype() is np.float64
        assert backend.randn(np.random.default_rng(0), (2,)).dtype == np.float64
    assert minatt.get_default_dtype() is np.float32
    with pytest.raises(BackendError, match="float32 or float64"):
        minatt.set_default_dtype("int32")


def test_seeded_draws_are_identical_and_on_the_current_backend(backend):
    a = minatt.backend.randn(np.random.default_rng(7), (3, 4), scale=0.1)
    b = minatt.backend.randn(np.random.default_rng(7), (3, 4), scale=0.1)
    assert type(a) is type(backend.zeros(1))
    assert a.dtype == np.float32
    host = (np.random.default_rng(7).standard_normal((3, 4)) * 0.1).astype(np.float32)
    np.testing.assert_array_equal(minatt.to_numpy(a), minatt.to_numpy(b))
    np.testing.assert_array_equal(minatt.to_numpy(a), host)  # bit-identical to the host draw


def test_array_module_follows_the_data(backend):
    x = minatt.asarray(np.ones(3))
    assert backend_name(minatt.backend.array_module(x)) == minatt.current()
    assert minatt.backend.array_module(np.ones(3)) is np


def test_to_numpy_roundtrip(backend):
    host = np.arange(6.0).reshape(2, 3)
    dev = minatt.asarray(host, dtype="float32")
    back = minatt.to_numpy(dev)
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    np.testing.assert_array_equal(back, host)


def backend_name(module) -> str:
    return module.__name__.split(".")[0]
