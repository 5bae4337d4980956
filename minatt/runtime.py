"""Process settings that decide how fast the same NumPy code runs: BLAS threads and the C heap.

Neither changes a single number a step computes; both change how long it takes.

``blas_threads(n)`` sets the thread count of the OpenBLAS bundled with NumPy. minatt's
matrices are small (N x H with H ~ 64-256): one thread is about as fast as two, and a
multi-threaded BLAS that shares its cores with another busy process can run 10-30x slower.

``tune_malloc()`` stops glibc from handing the step's large temporaries back to the kernel.
By default glibc serves every allocation above a dynamic threshold (128 KiB at first) with
its own ``mmap`` and trims the top of the heap whenever more than 128 KiB is free there. A
training step allocates and frees the same (N, S, A) and (T, N, V) arrays hundreds of times,
so each of them is returned to the kernel and faulted back in, page by page, on its next
use. On the 2-core test machine that was 2,700-5,000 minor page faults per small step and
about 14 ms of a 58 ms step (BENCHMARKS.md). Raising both thresholds keeps the memory in the
process: the peak resident memory is the same, it is simply not given back between steps.
The command line calls it for ``train``, ``bench`` and ``experiment``; a library user may
call it once at start-up. It does nothing where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy

__all__ = ["blas_threads", "get_blas_threads", "set_blas_threads", "tune_malloc"]

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MALLOC_THRESHOLD = 1 << 30  # 1 GiB: larger than any single array of the benchmark configurations


def _openblas() -> tuple[Any, Any] | None:
    """(set_num_threads, get_num_threads) of the OpenBLAS bundled with NumPy, or None if not found."""
    libs = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("scipy_openblas_{}_num_threads64_", "scipy_openblas_{}_num_threads", "openblas_{}_num_threads"):
            setter, getter = (getattr(lib, suffix.format(v), None) for v in ("set", "get"))
            if setter is not None and getter is not None:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                return setter, getter
    return None


def get_blas_threads() -> int | None:
    """OpenBLAS's current thread count (None when NumPy's BLAS is not the bundled OpenBLAS)."""
    found = _openblas()
    return None if found is None else int(found[1]())


def set_blas_threads(n: int) -> bool:
    """Run NumPy's OpenBLAS on ``n`` threads from now on; False when it cannot be set."""
    found = _openblas()
    if found is None:
        return False
    found[0](int(n))
    return True


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """``with blas_threads(1):`` run NumPy's OpenBLAS on ``n`` threads (None: leave it alone).

    Restores the previous count on exit. A no-op when NumPy's BLAS is not the bundled OpenBLAS.
    """
    found = _openblas() if n is not None else None
    if found is None:
        yield
        return
    setter, getter = found
    previous = getter()
    setter(int(n))
    try:
        yield
    finally:
        setter(previous)


def tune_malloc() -> bool:
    """Keep freed memory in the process (glibc only); True when the settings took effect.

    Sets glibc's mmap threshold and trim threshold to 1 GiB (the mmap one to 32 MiB where glibc
    refuses more), so large temporaries come from the heap and freed ones stay there for the
    next step instead of being unmapped and faulted in again. Process-wide and not undone: call it in programs that train.
    """
    name = ctypes.util.find_library("c")
    if not name or "libc.so" not in name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Some glibc versions refuse an mmap threshold above 32 MiB (half their heap size): fall back to that.
    mapped = any(mallopt(_M_MMAP_THRESHOLD, value) for value in (_MALLOC_THRESHOLD, 32 << 20))
    return mapped and bool(mallopt(_M_TRIM_THRESHOLD, _MALLOC_THRESHOLD))
