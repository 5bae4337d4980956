"""Process settings that decide how fast the same NumPy code runs: BLAS threads and the C heap.

Neither changes a single number a step computes; both change how long it takes.

``blas_threads(n)`` sets the thread count of every BLAS loaded in the process (OpenBLAS as
bundled with NumPy's wheels or from the system, MKL, BLIS, Apple's Accelerate: whatever
threadpoolctl supports) and :func:`blas_info` says which BLAS that is and how many threads it
has. minatt's matrices are small (N x H with H ~ 64-256): one thread is about as fast as two,
and a multi-threaded BLAS that shares its cores with another busy process can run 10-30x slower.

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
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_info, threadpool_limits

__all__ = ["blas_info", "blas_threads", "describe_blas", "get_blas_threads", "set_blas_threads", "tune_malloc"]

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MALLOC_THRESHOLD = 1 << 30  # 1 GiB: larger than any single array of the benchmark configurations


def blas_info() -> list[dict]:
    """Every BLAS loaded in this process, as threadpoolctl sees it now: library, version, threads.

    e.g. ``[{"library": "openblas", "version": "0.3.27", "threads": 1}]``; empty when it finds none.
    """
    return [{"library": lib["internal_api"], "version": lib.get("version"), "threads": lib["num_threads"]}
            for lib in threadpool_info() if lib["user_api"] == "blas"]


def describe_blas(found: list[dict] | None = None) -> str:
    """One phrase for a log line: ``"BLAS openblas 0.3.27 on 1 thread"`` (each BLAS, if several).

    ``found`` is a :func:`blas_info` list (default: the BLAS as it is now).
    """
    found = blas_info() if found is None else found
    if not found:
        return "BLAS unknown (threadpoolctl finds none)"
    phrases = []
    for b in found:
        version = f" {b['version']}" if b["version"] else ""
        threads = f"{b['threads']} thread" + ("" if b["threads"] == 1 else "s")
        phrases.append(f"BLAS {b['library']}{version} on {threads}")
    return ", ".join(phrases)


def get_blas_threads() -> int | None:
    """The thread count of NumPy's BLAS (the first BLAS loaded); None when threadpoolctl finds none."""
    found = blas_info()
    return found[0]["threads"] if found else None


def set_blas_threads(n: int) -> bool:
    """Run every loaded BLAS on ``n`` threads from now on; False when there is none to set."""
    threadpool_limits(limits=int(n), user_api="blas")  # not used as a context: the limit stays
    return bool(blas_info())


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """``with blas_threads(1):`` run every loaded BLAS on ``n`` threads (None: leave them alone).

    Restores each BLAS's previous count on exit (threadpoolctl's ``threadpool_limits``).
    """
    if n is None:
        yield
        return
    with threadpool_limits(limits=int(n), user_api="blas"):
        yield


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
