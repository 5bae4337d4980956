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
def rng():
    """A seeded host generator: tests are deterministic."""
    return np.random.default_rng(1234)
