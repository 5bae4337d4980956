"""Shared fixtures: every backend-aware test runs on NumPy and on CuPy.

The ``cupy`` case runs on real CuPy where a GPU answers; elsewhere (CI) on tests/strict_cupy.py,
a CPU stand-in as strict as CuPy at the host/device line, so the device path is exercised on
every run. ``GPU`` says which: tests that need real hardware (timings, device memory, CPU-against-
GPU numbers) skip on ``not GPU``.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import minatt
from minatt.backend import BackendError, _load_cupy
from tests import strict_cupy


def _gpu_available() -> bool:
    try:
        _load_cupy()
    except BackendError:
        return False
    return True


GPU = _gpu_available()
BACKENDS = ["numpy", "cupy"]


def device():
    """``with device():`` minatt's cupy backend is real CuPy on a GPU, else the strict stand-in."""
    return contextlib.nullcontext() if GPU else strict_cupy.installed()


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test under each backend; yields the backend's array module."""
    with device() if request.param == "cupy" else contextlib.nullcontext(), minatt.use(request.param):
        yield minatt.backend.get_xp()


@pytest.fixture
def reference_lines(backend, monkeypatch):
    """The per-equation reference path even on a real GPU: a planted bug lives in those lines, which
    the fused kernels (minatt/ops/fused_cells.py) would otherwise skip."""
    monkeypatch.setattr(minatt.backend, "_fused_type", None)
    return backend


@pytest.fixture
def one_blas_thread():
    """Training runs on one BLAS thread (their numbers then do not depend on the machine's cores)."""
    from minatt.tools.runtime import blas_threads

    with blas_threads(1):
        yield


@pytest.fixture
def rng():
    """A seeded host generator: tests are deterministic."""
    return np.random.default_rng(1234)


# --- Deterministic hypothesis and no silently lost cross-checks (helper "tests"; a self-contained block) ---
# The "minatt" profile (the default) draws the same examples on every run (derandomize); pass
# `--hypothesis-profile explore` to draw new ones, e.g. with `--hypothesis-seed N` to reproduce a seed.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("minatt", derandomize=True, deadline=None, database=None)
_hypothesis_settings.register_profile("explore", derandomize=False, deadline=None, database=None)
_hypothesis_settings.load_profile("minatt")


def pytest_configure(config):
    """With CI set, a missing PyTorch is an error: its cross-checks would otherwise be skipped in silence."""
    import importlib.util
    import os

    if os.environ.get("CI") and importlib.util.find_spec("torch") is None:
        raise pytest.UsageError("CI is set but PyTorch is not installed, so every PyTorch cross-check would be "
                                "skipped: install the test extra (pip install -e '.[test]')")


@pytest.fixture(scope="session")
def cpu_kernels(tmp_path_factory):
    """Kernel.__call__ for NumPy arrays: the CUDA sources compiled with g++, run on the CPU
    (tests/fused_harness.py; for the tests/test_fused*.py files)."""
    import shutil

    from tests.fused_harness import cpu_launcher

    if shutil.which("g++") is None:
        pytest.skip("needs g++ to run the CUDA sources on the CPU")
    return cpu_launcher(tmp_path_factory.mktemp("kernels"))


@pytest.fixture(params=["cpu", "gpu"])
def device_xp(request, monkeypatch):
    """The array module the kernels run on: NumPy with the C++ build, or real CuPy on a GPU."""
    from minatt.ops.fused import Kernel

    if request.param == "gpu":
        if not GPU:
            pytest.skip("needs CuPy and a CUDA GPU")
        with minatt.use("cupy"):
            yield minatt.backend.get_xp()
        return
    monkeypatch.setattr(Kernel, "__call__", request.getfixturevalue("cpu_kernels"))  # (skips without g++)
    yield np
