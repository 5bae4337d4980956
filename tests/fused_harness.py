"""The harness of the fused kernels' tests (test_fused*.py): the CUDA sources built as C++ and run on the
CPU, the reference path, and agreement within a dtype's tolerance."""

from __future__ import annotations

import ctypes
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np

import minatt
from minatt import backend
from minatt.ops import fused, fused_attention, fused_cells, fused_training
from minatt.ops.fused import Kernel
from tests import strict_cupy

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


def cpu_launcher(folder: Path):
    """A stand-in for Kernel.__call__ on NumPy arrays (or the strict stand-in's): every kernel's CUDA source
    compiled once with g++ into ``folder``, run on the CPU by one thread. ``launch.ran`` counts the calls."""
    libs = {}
    for dtype in (np.float32, np.float64):
        (folder / f"k_{np.dtype(dtype).name}.cpp").write_text(CPU_PRELUDE + all_sources(dtype))
        lib = folder / f"k_{np.dtype(dtype).name}.so"
        subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(lib), str(lib.with_suffix(".cpp"))],
                       check=True, capture_output=True, text=True)
        libs[np.dtype(dtype)] = ctypes.CDLL(str(lib))
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
