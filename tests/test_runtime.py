"""BLAS threads through threadpoolctl, on whatever BLAS this NumPy was built with."""

from __future__ import annotations

import os

import numpy  # noqa: F401  (loads NumPy's BLAS, so threadpoolctl can find it)
import pytest
from threadpoolctl import threadpool_info

from minatt.tools.runtime import blas_info, blas_threads, describe_blas, get_blas_threads, set_blas_threads


def blas_counts() -> list[int]:
    """The thread count of every BLAS threadpoolctl finds, asked directly (not through minatt)."""
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


needs_a_blas = pytest.mark.skipif(not blas_counts(), reason="threadpoolctl finds no BLAS in this NumPy")
needs_two_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: a BLAS caps its threads at 1")


@needs_a_blas
@needs_two_cores
def test_blas_threads_limits_every_blas_and_restores_the_previous_count():
    with blas_threads(2):
        assert blas_counts() and all(n == 2 for n in blas_counts())
        with blas_threads(1):
            assert all(n == 1 for n in blas_counts())
            assert get_blas_threads() == 1
        assert all(n == 2 for n in blas_counts())  # the previous count, not a default
        assert get_blas_threads() == 2


@needs_a_blas
def test_none_leaves_the_blas_alone():
    before = blas_counts()
    with blas_threads(None):
        assert blas_counts() == before


@needs_a_blas
@needs_two_cores
def test_set_blas_threads_keeps_its_limit():
    with blas_threads(2):  # restores whatever set_blas_threads changes inside
        assert set_blas_threads(1) is True
        assert all(n == 1 for n in blas_counts())
        assert all(b["threads"] == 1 for b in blas_info())


@needs_a_blas
def test_the_description_names_the_blas_and_its_threads():
    with blas_threads(1):
        lib = blas_info()[0]
        text = describe_blas()
    assert text.startswith(f"BLAS {lib['library']}") and text.endswith("on 1 thread")
    assert describe_blas([]) == "BLAS unknown (threadpoolctl finds none)"
    assert describe_blas([{"library": "mkl", "version": None, "threads": 4}]) == "BLAS mkl on 4 threads"
