"""Fused GPU kernels: an op's elementwise lines as ONE CUDA kernel, beside its NumPy reference.

On a GPU the cost of a small op is its launch, not its arithmetic (one tiny CuPy op ~13 us on an
H200, issue 27), and the LSTM cell alone is a dozen of them. Each kernel here writes the lines of
one reference function, one statement per equation, in the reference's names, with the NumPy line
in a comment beside it:

    reference (the lesson's code, and the path on NumPy)      kernel
    minatt/ops/lstm.py   lstm_cell_forward / _backward          minatt/ops/fused_cells.py
    minatt/ops/gru.py    gru_cell_forward / _backward           minatt/ops/fused_cells.py
    minatt/ops/scores.py the additive score's tanh, forward     minatt/ops/fused_attention.py
                         and backward
    minatt/ops/softmax.py softmax_forward / _backward (masked)  minatt/ops/fused_attention.py
    minatt/ops/loss.py   cross_entropy_forward / _backward      minatt/ops/fused_training.py
    minatt/optim.py      Adam's update of one parameter         minatt/ops/fused_training.py

Dispatch. A reference function's first line asks :func:`minatt.backend.fusable` about its input:
True only for a real CuPy array on a working GPU (not for NumPy, not for the tests' CPU stand-in,
not with MINATT_FUSED=0). Then it returns this module's version; otherwise it runs its own lines.

Every kernel is a grid-stride loop over the elements (or rows) it writes, compiled once per dtype
(T is float or double) when first called. The tests hold each against its reference on a GPU, and
on any machine compile the sources with nvcc and run them on the CPU through a C++ compiler
(tests/test_fused_cells.py, test_fused_attention.py, test_fused_training.py; the switch in tests/test_fused.py).
"""

from __future__ import annotations

from typing import Any

from minatt.backend import array_module, raw_kernel

Array = Any

BLOCK = 256  # threads per block
MAX_BLOCKS = 4096  # a grid-stride loop covers the rest

PRELUDE = r"""
typedef {ctype} T;
typedef long long i64;
// sigmoid(x) = 0.5 * tanh(0.5 * x) + 0.5, as minatt/ops/activations.py writes it (never overflows)
__device__ __forceinline__ T sigmoid(T x) {{ return T(0.5) * tanh(T(0.5) * x) + T(0.5); }}
#define FOR_EACH(k, count) for (i64 k = (i64)blockIdx.x * blockDim.x + threadIdx.x; k < (count); \
                                k += (i64)gridDim.x * blockDim.x)
"""
CTYPES = {"float32": "float", "float64": "double"}


class Kernel:
    """A CUDA kernel ``name`` with source ``code`` (using T, sigmoid, FOR_EACH from the prelude),
    compiled per dtype on first use. ``kernel(count, dtype, *args)`` launches enough threads for
    ``count`` items; arrays go in as pointers, Python ints as long long, floats as T."""

    def __init__(self, name: str, code: str) -> None:
        self.name, self.code = name, code
        self._compiled: dict[str, Any] = {}

    def source(self, dtype: Any) -> str:
        """The full CUDA source for ``dtype`` (a float32 or float64 array dtype)."""
        return PRELUDE.format(ctype=CTYPES[dtype.name]) + self.code

    def __call__(self, count: int, dtype: Any, *args: Any) -> None:
        kernel = self._compiled.get(dtype.name)
        if kernel is None:
            kernel = self._compiled[dtype.name] = raw_kernel(self.source(dtype), self.name)
        blocks = max(1, min(MAX_BLOCKS, -(-count // BLOCK)))
        kernel((blocks,), (BLOCK,), arguments(args, dtype))


def arguments(args: tuple, dtype: Any) -> tuple:
    """The kernel's arguments: a Python bool as int, an int as long long, a float as T (``dtype``);
    arrays and typed scalars as they are."""
    xp = array_module(*(a for a in args if hasattr(a, "dtype")))
    return tuple(xp.int32(a) if type(a) is bool else xp.int64(a) if type(a) is int else
                 dtype.type(a) if type(a) is float else a for a in args)


def contiguous(*arrays: Array) -> list[Array]:
    """The arrays as C-contiguous device arrays (each itself when it already is one)."""
    xp = array_module(*arrays)
    return [xp.ascontiguousarray(a) for a in arrays]


def __getattr__(name: str) -> Any:
    """``fused.lstm_cell_forward`` and the rest, imported on first use (the kernel modules import the
    reference modules' caches, so the references cannot import them at the top)."""
    import importlib

    for module in ("fused_cells", "fused_attention", "fused_training"):
        found = getattr(importlib.import_module(f"minatt.ops.{module}"), name, None)
        if found is not None:
            globals()[name] = found  # the next lookup is a plain attribute
            return found
    raise AttributeError(f"module 'minatt.ops.fused' has no attribute {name!r}")
