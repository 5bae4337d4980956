"""Shared fixtures: every backend-aware test runs on NumPy, and on CuPy where a GPU answers."""

from __future__ import annotations

import numpy as np
import pytest

import minatt
from minatt.backend import BackendError, _load_cupy


def _gpu_available() -> bool:
    try:
        _load_cupy()
    except BackendError:
        return False
    return True


GPU = _gpu_available()
BACKENDS = ["numpy", pytest.param("cupy", marks=pytest.mark.skipif(not GPU, reason="needs CuPy and a CUDA GPU"))]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test under each available backend; yields the backend's array module."""
    with minatt.use(request.param):
        yield minatt.backend.get_xp()


@pytest.fixture
def rng():
    """A seeded host generator: tests are deterministic."""
    return np.random.default_rng(1234)
