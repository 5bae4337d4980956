"""The array backend: NumPy on the CPU, CuPy on a CUDA GPU, behind one name.

The math in ``minatt.ops``, ``minatt.model.nn``, ``minatt.model.seq2seq`` and ``minatt.optim`` never imports
numpy or cupy. Ops ask their own inputs which module they live in (``array_module(x)``, the
same idea as ``cupy.get_array_module``), so nothing holds a stale module after a switch.
Code that *creates* arrays (parameter initialisation, batches) asks this module for the
current backend:

>>> import minatt
>>> minatt.use("numpy")                    # the default; MINATT_BACKEND=cupy also works
>>> with minatt.use("numpy"):              # a temporary switch, undone on exit
...     pass
>>> minatt.backend.get_xp().__name__
'numpy'

Crossing the host/device line is always explicit: ``asarray`` moves a host array to the
current backend, ``to_numpy`` brings any array back to the host.

Random numbers are drawn on the host from a seeded ``numpy.random.Generator`` and then moved
to the device, so one seed gives bit-identical initial weights on both backends.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

import numpy

from minatt.errors import MinattError

__all__ = [
    "BackendError",
    "array_module",
    "asarray",
    "current",
    "default_dtype",
    "fusable",
    "raw_kernel",
    "get_default_dtype",
    "get_xp",
    "host_rng",
    "is_device_array",
    "randn",
    "set_default_dtype",
    "synchronize",
    "to_numpy",
    "uniform",
    "use",
]

BACKENDS = ("numpy", "cupy")


class BackendError(MinattError, RuntimeError):
    """A backend cannot be used; the message says why and what to do."""


class _State:
    name: str | None = None  # resolved lazily so MINATT_BACKEND is read at first use
    xp: ModuleType = numpy
    dtype: Any = numpy.float32


_state = _State()
_cupy: ModuleType | None = None
_fused_type: Any = None  # cupy.ndarray once real CuPy answers on a GPU; see fusable()


def _load_cupy() -> ModuleType:
    """Import CuPy and make sure a CUDA device answers; raise BackendError otherwise."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy
    except ImportError:
        raise BackendError(
            "backend 'cupy' needs CuPy, which is not installed: pip install 'minatt[gpu]' "
            "(CuPy for CUDA 12), or use --backend numpy"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError, or an import-time driver failure
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BackendError(
            f"CuPy is installed but no usable CUDA device or driver was found ({reason}); "
            "check `nvidia-smi`, or use --backend numpy"
        ) from None
    if count < 1:
        raise BackendError(
            "CuPy is installed but no CUDA device was found; check `nvidia-smi`, or use --backend numpy"
        )
    _cupy = cupy
    _enable_fused(cupy.ndarray)
    return cupy


def _enable_fused(array_type: Any) -> None:
    """Let :func:`fusable` say yes for arrays of ``array_type``, unless MINATT_FUSED=0 asks for the
    per-equation reference everywhere (how BENCHMARKS.md times the step before and after fusing)."""
    global _fused_type
    _fused_type = array_type if os.environ.get("MINATT_FUSED", "1").strip() != "0" else None


def _set_cupy_module(module: ModuleType | None) -> ModuleType | None:
    """For the tests only: make ``use("cupy")`` return ``module`` (tests/strict_cupy.py, a strict CPU
    stand-in), or forget it with None; returns the module it replaces. Nothing else calls this: a user
    who picks cupy gets real CuPy on a GPU, or the BackendError of :func:`_load_cupy`."""
    global _cupy, _fused_type
    previous, _cupy, _fused_type = _cupy, module, None  # the stand-in has no kernels: the reference path
    if module is not None and module is sys.modules.get("cupy"):  # real CuPy coming back
        _enable_fused(module.ndarray)
    return previous


def _module_for(name: str) -> ModuleType:
    if name == "numpy":
        return numpy
    if name == "cupy":
        return _load_cupy()
    raise BackendError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


def _ensure_resolved() -> None:
    if _state.name is None:
        name = os.environ.get("MINATT_BACKEND", "numpy").strip().lower() or "numpy"
        if name not in BACKENDS:
            raise BackendError(
                f"MINATT_BACKEND={name!r} is not a backend: set it to one of {', '.join(BACKENDS)}"
            )
        _state.xp = _module_for(name)
        _state.name = name


class use:
    """Switch the backend: ``use("cupy")`` for good, or ``with use("cupy"):`` for a block.

    The switch happens at the call; as a context manager it restores the previous backend on
    exit (the default dtype is untouched: see :class:`default_dtype`).
    """

    def __init__(self, name: str) -> None:
        _ensure_resolved()
        key = str(name).strip().lower()
        module = _module_for(key)
        self._previous = (_state.name, _state.xp)
        _state.name, _state.xp = key, module

    def __enter__(self) -> use:
        return self

    def __exit__(self, *exc: object) -> None:
        _state.name, _state.xp = self._previous

    def __repr__(self) -> str:
        return f"minatt.use({_state.name!r})"


def current() -> str:
    """The name of the current backend: ``"numpy"`` or ``"cupy"``."""
    _ensure_resolved()
    assert _state.name is not None
    return _state.name


def get_xp() -> ModuleType:
    """The current backend's array module (for code that creates arrays)."""
    _ensure_resolved()
    return _state.xp


def is_device_array(a: Any) -> bool:
    """True if ``a`` is a CuPy array (checked without importing CuPy)."""
    return type(a).__module__.startswith("cupy")


def fusable(a: Any) -> bool:
    """True if ``a`` is a real CuPy array on a working GPU, so an op may run its fused kernel
    (minatt/ops/fused.py) instead of its per-equation reference. False for NumPy arrays, for the
    tests' CPU stand-in, and everywhere when MINATT_FUSED=0. One type check: free on the NumPy path."""
    return type(a) is _fused_type


def raw_kernel(code: str, name: str) -> Any:
    """The CUDA kernel ``name`` of the source ``code``, compiled by CuPy (``cupy.RawKernel``) on first
    launch. For minatt/ops/fused.py, whose kernels run only where :func:`fusable` said yes."""
    return _load_cupy().RawKernel(code, name)


def array_module(*arrays: Any) -> ModuleType:
    """The module the given arrays live in: cupy if any is a CuPy array, else numpy.

    Ops call this on their own inputs, so they follow the data, not a global setting.
    """
    for a in arrays:
        if type(a) is not numpy.ndarray and is_device_array(a):  # (the first test is the fast path)
            return _load_cupy()
    return numpy


def asarray(a: Any, dtype: Any = None) -> Any:
    """Move ``a`` (host or device) onto the current backend, optionally casting it."""
    xp = get_xp()
    if xp is numpy and is_device_array(a):
        a = a.get()
    return xp.asarray(a, dtype=dtype)


def to_numpy(a: Any) -> numpy.ndarray:
    """Bring ``a`` back to the host as a NumPy array (a no-op for NumPy input)."""
    if is_device_array(a):
        return a.get()
    return numpy.asarray(a)


def synchronize() -> None:
    """Wait until the GPU has finished all queued work (a no-op on NumPy). Call it before
    reading a clock: CuPy launches kernels asynchronously, so without it a timer measures
    only the launches."""
    if current() == "cupy" and _cupy is not None:
        _cupy.cuda.get_current_stream().synchronize()


def get_default_dtype() -> Any:
    """The dtype new parameters and activations get: float32 unless changed."""
    return _state.dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the default float dtype (``"float32"`` or ``"float64"``)."""
    dt = numpy.dtype(dtype)
    if dt not in (numpy.float32, numpy.float64):
        raise BackendError(f"default dtype must be float32 or float64, not {dt}")
    _state.dtype = dt.type


class default_dtype:
    """``with default_dtype("float64"):`` a temporary dtype switch (used by gradient checks)."""

    def __init__(self, dtype: Any) -> None:
        self._previous = _state.dtype
        set_default_dtype(dtype)

    def __enter__(self) -> default_dtype:
        return self

    def __exit__(self, *exc: object) -> None:
        _state.dtype = self._previous


def host_rng(seed: int | numpy.random.Generator | None) -> numpy.random.Generator:
    """A NumPy generator on the host: all of minatt's randomness starts here."""
    if isinstance(seed, numpy.random.Generator):
        return seed
    return numpy.random.default_rng(seed)


def randn(rng: numpy.random.Generator, shape: tuple[int, ...], scale: float = 1.0, dtype: Any = None) -> Any:
    """Normal(0, scale^2) samples drawn on the host, cast, then moved to the current backend."""
    dt = dtype or _state.dtype
    return asarray((rng.standard_normal(shape) * scale).astype(dt))


def uniform(rng: numpy.random.Generator, shape: tuple[int, ...], bound: float, dtype: Any = None) -> Any:
    """Uniform(-bound, bound) samples drawn on the host, cast, then moved to the current backend."""
    dt = dtype or _state.dtype
    return asarray(rng.uniform(-bound, bound, size=shape).astype(dt))
