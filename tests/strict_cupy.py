"""A strict CPU stand-in for CuPy, for the tests: NumPy does the arithmetic, CuPy's rules guard the edge.

No GPU has run minatt's CuPy path, and the bugs that break CuPy code are not wrong numbers but
crossings of the host/device line that NumPy forgives. This module makes a CPU refuse them as
CuPy does:

- implicit device-to-host conversion: ``numpy.asarray(x)``, matplotlib on a device array raise
  ``TypeError: Implicit conversion to a NumPy array is not allowed``;
- a host array in device arithmetic (``x + numpy_mask``, ``xp.where(numpy_mask, x, 0)``, ``out=`` a
  NumPy array) raises ``TypeError``; Python and NumPy scalars are fine, as in CuPy;
- a function the stand-in does not list, or a keyword CuPy's function lacks, raises; reductions and
  scalar indexing return 0-d device arrays, never NumPy scalars; ``float(x)``, ``x.item()`` and
  ``x.get()`` are the explicit ways back (in CuPy they wait for the GPU).

What CuPy allows, it allows too: indices built on the host (CuPy copies them over), host values
assigned through advanced indexing, ``x[:] = host`` of the same shape and dtype, ``numpy.<f>(x)``
for a function the device module has (NumPy hands it over through ``__array_function__``).

Why a wrapper around a NumPy array and not a ``numpy.ndarray`` subclass: NumPy never asks a
subclass for ``__array__``; ``numpy.asarray(sub)`` takes its buffer directly, so a subclass cannot
refuse the conversion this module exists to catch, and every NumPy routine would accept it. An
object that is not an ndarray meets NumPy exactly as a CuPy array does: through ``__array__``,
``__array_ufunc__`` and ``__array_function__``, which is all CuPy itself implements.

It also counts what CuPy would copy back to the host (each of which, on a GPU, waits for everything
queued before it): ``TRANSFERS`` counts ``.get()``, ``float``, ``int``, ``bool``, ``.item()``,
``.tolist()``, formatting and printing, by kind; ``with counting() as seen:`` gives the counts of a block.
And it counts what CuPy would launch on the GPU: ``LAUNCHES`` counts, by name, every call that makes
new device data or writes into it (a ufunc, a reduction, ``concatenate``, a copy, a fill, a
``zeros``, an advanced index, an assignment, a host array sent over), and not what CuPy does
without the GPU (a view: a basic slice, ``reshape``, ``.T``; ``empty``). One count is one kernel
(or one cuBLAS call, or one copy) as a first approximation: what a step costs on a GPU, where each
launch costs ~10-30 us whatever its size; ``with launching() as seen:`` gives the counts of a block.

What it does not imitate: speed, memory, asynchrony (everything here is finished when it
returns), and two index quirks (CuPy wraps out-of-range integer indices around where NumPy raises,
and leaves the winner of duplicate-index assignment undefined). Those need a GPU.

Use :func:`installed` (the test suite's ``backend`` fixture does, when no GPU answers); the module
it installs is :data:`cupy`, which holds only the names listed in ``FUNCTIONS``, ``UFUNCS`` and
``CONSTANTS``. tests/test_strict_cupy.py checks every listed name and keyword against the real
CuPy where it is installed.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy
from numpy.lib.mixins import NDArrayOperatorsMixin

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")
SCALARS = (bool, int, float, complex, numpy.generic)
_new = object.__new__
TRANSFERS: collections.Counter = collections.Counter()  # device-to-host reads, by kind
LAUNCHES: collections.Counter = collections.Counter()  # device work CuPy would launch, by name


def _transfer(kind: str) -> None:
    TRANSFERS[kind] += 1


def _launch(name: str) -> None:
    LAUNCHES[name] += 1


@contextlib.contextmanager
def counting() -> Iterator[collections.Counter]:
    """``with counting() as seen:`` ``seen`` holds the device-to-host transfers made inside the block."""
    before = TRANSFERS.copy()
    seen: collections.Counter = collections.Counter()
    try:
        yield seen
    finally:
        seen.update(TRANSFERS - before)


@contextlib.contextmanager
def launching() -> Iterator[collections.Counter]:
    """``with launching() as seen:`` ``seen`` holds the launches (see the module docstring) made inside."""
    before = LAUNCHES.copy()
    seen: collections.Counter = collections.Counter()
    try:
        yield seen
    finally:
        seen.update(LAUNCHES - before)


def _shares(r: Any, a: numpy.ndarray) -> bool:
    """True if the NumPy result r is a view of a (CuPy makes it without a launch)."""
    return isinstance(r, numpy.ndarray) and (r is a or (r.base is not None and numpy.may_share_memory(r, a)))

# ndarray methods (each of them CuPy has) and the keywords CuPy's version takes.
METHODS = {
    "all": ("axis", "out", "keepdims"), "any": ("axis", "out", "keepdims"),
    "argmax": ("axis", "out", "dtype", "keepdims"), "argmin": ("axis", "out", "dtype", "keepdims"),
    "argsort": ("axis", "kind"), "astype": ("dtype", "order", "casting", "subok", "copy"),
    "clip": ("min", "max", "out"), "copy": ("order",), "cumsum": ("axis", "dtype", "out"),
    "dot": ("b", "out"), "fill": ("value",), "flatten": ("order",), "item": (),
    "max": ("axis", "out", "keepdims"), "mean": ("axis", "dtype", "out", "keepdims"),
    "min": ("axis", "out", "keepdims"), "nonzero": (), "prod": ("axis", "dtype", "out", "keepdims"),
    "ravel": ("order",), "repeat": ("repeats", "axis"), "reshape": ("order",), "round": ("decimals", "out"),
    "squeeze": ("axis",), "std": ("axis", "dtype", "out", "ddof", "keepdims"),
    "sum": ("axis", "dtype", "out", "keepdims"), "swapaxes": ("axis1", "axis2"),
    "take": ("indices", "axis", "out"), "tolist": (), "transpose": (),
    "var": ("axis", "dtype", "out", "ddof", "keepdims"), "view": ("dtype",),
}


def _raw(x: Any) -> Any:
    """The NumPy array inside a device array; refuse a host array (CuPy's kernels do)."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, numpy.ndarray):
        raise TypeError(f"Unsupported type {type(x)} (a NumPy array where CuPy wants a cupy.ndarray: "
                        "move it with cupy.asarray first)")
    if isinstance(x, (list, tuple)):
        return [_raw(v) for v in x] if isinstance(x, list) else tuple(_raw(v) for v in x)
    return x


def _operand(x: Any) -> Any:
    """A ufunc operand: a device array, or a Python or NumPy scalar (CuPy takes nothing else)."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, SCALARS):
        return x
    raise TypeError(f"Unsupported type {type(x)}")


def _wrap(r: Any, parent: ndarray | None = None) -> Any:
    """NumPy results back as device arrays: a NumPy scalar becomes a 0-d array, as CuPy returns.

    A view of ``parent`` gets CuPy's ``base``: the array that owns the memory, one object however
    often it is asked for (minatt's memory counts key buffers by ``id(base)``).
    """
    if type(r) is numpy.ndarray:
        x = _new(ndarray)
        x._a, x._base = r, None
        if parent is not None and r.base is not None and (r.base is parent._a or r.base is parent._a.base):
            x._base = parent if parent._base is None else parent._base
        return x
    if isinstance(r, numpy.generic):
        return _wrap(numpy.asarray(r))
    if isinstance(r, tuple):
        return tuple(_wrap(v, parent) for v in r)
    return r


def _check_keywords(name: str, kwargs: dict, allowed: tuple[str, ...]) -> None:
    for key in kwargs:
        if key not in allowed:
            raise TypeError(f"cupy.{name}() got an unexpected keyword argument {key!r} (not in CuPy's signature)")


def _call(fn: Any, args: tuple, kwargs: dict, outs: tuple = (), parent: ndarray | None = None) -> Any:
    """Run a NumPy callable on raw arrays; hand back ``out`` itself where NumPy returned its buffer."""
    result = fn(*args, **kwargs)
    for out in outs:
        if type(out) is ndarray and result is out._a:
            return out
    return _wrap(result, parent)


class ndarray(NDArrayOperatorsMixin):
    """A device array: a NumPy array that refuses to be read as one without ``.get()``.

    Operators come from NumPy's mixin and all go through ``__array_ufunc__``, so ``x + host``
    and ``host + x`` fail alike. Slices and views share memory, as CuPy views do.
    """

    __slots__ = ("_a", "_base")
    __array_priority__ = 100

    def __init__(self, shape: Any, dtype: Any = float) -> None:  # cupy.ndarray(shape, dtype): uninitialised
        self._a, self._base = numpy.empty(shape, dtype), None

    # -- the host/device line ------------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> numpy.ndarray:
        raise TypeError(IMPLICIT)

    def get(self, stream: Any = None, order: str = "C", out: Any = None) -> numpy.ndarray:
        """A copy on the host (in CuPy this waits for the GPU)."""
        _transfer("get")
        if out is None:
            return numpy.array(self._a, order=order, copy=True)
        if not isinstance(out, numpy.ndarray):
            raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
        out[...] = self._a
        return out

    def __array_ufunc__(self, ufunc: numpy.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or ufunc.__name__ not in UFUNCS:
            return NotImplemented  # NumPy then raises TypeError, as it does for CuPy
        return _ufunc_call(ufunc, inputs, kwargs)

    def __array_function__(self, func: Any, types: tuple, args: tuple, kwargs: dict) -> Any:
        mine = getattr(cupy, func.__name__, None) if func.__module__ == "numpy" else None
        if mine is None or not all(issubclass(t, (ndarray, numpy.ndarray)) for t in types):
            return NotImplemented  # NumPy raises "no implementation found for 'numpy.f'"
        return mine(*args, **kwargs)

    def __int__(self) -> int:
        _transfer("int")
        return int(self._a)

    def __float__(self) -> float:
        _transfer("float")
        return float(self._a)

    def __bool__(self) -> bool:
        _transfer("bool")
        return bool(self._a)

    def __repr__(self) -> str:
        _transfer("repr")
        return repr(self._a)

    def __str__(self) -> str:
        _transfer("str")
        return str(self._a)

    def __format__(self, spec: str) -> str:
        _transfer("format")
        return format(self._a, spec)

    def __reduce__(self) -> tuple:
        return _from_host, (self.get(),)

    def __copy__(self) -> ndarray:
        return _wrap(self._a.copy())

    def __deepcopy__(self, memo: dict) -> ndarray:
        return _wrap(self._a.copy())

    # -- attributes -----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @shape.setter
    def shape(self, value: Any) -> None:
        self._a.shape = value

    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: self if self._a.ndim < 2 else _wrap(self._a.T, self))
    base = property(lambda self: self._base)

    # -- containers and indexing ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Iterator[ndarray]:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __getitem__(self, key: Any) -> ndarray:
        key = _index(key)
        r = self._a[key]
        if type(r) is not numpy.ndarray:  # a NumPy scalar: CuPy returns a 0-d view instead
            r = self._a[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
        if not _shares(r, self._a):
            _launch("getitem (advanced)")
        return _wrap(r, self)

    def __setitem__(self, key: Any, value: Any) -> None:
        key = _index(key)
        if isinstance(value, (numpy.ndarray, list, tuple)) and numpy.size(value) != 1:
            # CuPy copies a host array only into x[:] (same shape and dtype) or through advanced
            # indexing; basic indexing fills from a scalar and refuses anything larger.
            if type(key) is slice and key == slice(None):
                if not (isinstance(value, numpy.ndarray) and value.shape == self.shape
                        and value.dtype == self.dtype):
                    raise ValueError("copying a numpy.ndarray to a cupy.ndarray by empty slice "
                                     "assignment must ensure arrays have same shape and dtype")
            elif not _advanced(key):
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        _launch("setitem")
        self._a[key] = value._a if type(value) is ndarray else value

    def scatter_add(self, slices: Any, value: Any) -> None:
        """``cupyx.scatter_add``: the unbuffered ``a[slices] += value``."""
        if self.dtype.type not in (numpy.int32, numpy.float16, numpy.float32, numpy.float64,
                                   numpy.uint32, numpy.uint64):
            raise TypeError("scatter_add only supports int32, float16, float32, float64, uint32, uint64, "
                            "as data type")
        _launch("scatter_add")
        numpy.add.at(self._a, _index(slices), value._a if type(value) is ndarray else value)


def _index(key: Any) -> Any:
    """An index with device arrays unwrapped (host arrays and lists are allowed: CuPy copies them)."""
    if type(key) is ndarray:
        return key._a
    if isinstance(key, tuple):
        return tuple(k._a if type(k) is ndarray else k for k in key)
    return key


def _advanced(key: Any) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (numpy.ndarray, list)) for k in parts)


def _method(name: str, allowed: tuple[str, ...]) -> Any:
    def method(self: ndarray, *args: Any, **kwargs: Any) -> Any:
        _check_keywords(f"ndarray.{name}", kwargs, allowed)
        if name in ("item", "tolist"):
            _transfer(name)
        result = getattr(self._a, name)(*_raw(args), **{k: _raw(v) for k, v in kwargs.items()})
        if name not in ("item", "tolist") and not _shares(result, self._a):
            _launch(name)
        if result is self._a:
            return self  # astype(copy=False), reshape to the same shape...
        return _call(lambda: result, (), {}, (kwargs.get("out"),), self)

    method.__name__ = name
    return method


for _name, _allowed in METHODS.items():
    setattr(ndarray, _name, _method(_name, _allowed))
ndarray.__module__ = "cupy"  # minatt.backend.is_device_array() knows CuPy arrays by this


def _from_host(a: numpy.ndarray) -> ndarray:
    return _wrap(numpy.array(a, copy=True))


# -- the module's functions ------------------------------------------------------------------------


def _ufunc_call(u: numpy.ufunc, inputs: tuple, kwargs: dict) -> Any:
    args = [_operand(x) for x in inputs]
    _launch(u.__name__)
    out = kwargs.get("out")
    if out is None:
        return _wrap(u(*args, **kwargs))
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        if o is not None and type(o) is not ndarray:
            raise TypeError(f"Output arrays must be cupy.ndarray, not {type(o)}")
    return _call(u, args, {**kwargs, "out": tuple(o._a for o in outs)}, outs)


class ufunc:
    """A CuPy ufunc: NumPy's, refusing host arrays; ``at`` is CuPy's scatter (``add.at``)."""

    def __init__(self, u: numpy.ufunc) -> None:
        self._u, self.__name__ = u, u.__name__

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        _check_keywords(self.__name__, kwargs, ("out", "dtype", "casting"))
        return _ufunc_call(self._u, inputs, kwargs)

    def at(self, a: ndarray, indices: Any, b: Any = None) -> None:
        if self.__name__ != "add" or type(a) is not ndarray:
            raise TypeError(f"cupy.{self.__name__}.at: the stand-in imitates only add.at on a cupy.ndarray")
        a.scatter_add(indices, b)

    def __repr__(self) -> str:
        return f"<ufunc 'cupy.{self.__name__}' (strict stand-in)>"


def _function(name: str, params: tuple[str, ...]) -> Any:
    np_fn = getattr(numpy, name)

    def fn(*args: Any, **kwargs: Any) -> Any:
        _check_keywords(name, kwargs, params)
        if len(args) > len(params):
            raise TypeError(f"cupy.{name}() takes at most {len(params)} positional arguments")
        outs = (kwargs.get("out"),)
        parent = args[0] if args and type(args[0]) is ndarray else None
        result = _call(np_fn, _raw(args), {k: _raw(v) for k, v in kwargs.items()}, outs, parent)
        if name not in ("empty", "empty_like", "allclose") and not (
                parent is not None and type(result) is ndarray and _shares(result._a, parent._a)):
            _launch(name)  # (allclose: counted by the launches of its parts; empty: no kernel)
        return result

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"cupy.{name}{params}: numpy.{name} on device arrays, refusing host arrays."
    return fn


def asarray(a: Any, dtype: Any = None, order: Any = None, *, copy: Any = None, blocking: bool = False) -> ndarray:
    """Host data (array, list, scalar) copied to the device; a device array as it is (or cast)."""
    if type(a) is ndarray:
        return a if dtype is None or numpy.dtype(dtype) == a.dtype else a.astype(dtype)
    _launch("host to device")
    return _wrap(numpy.array(_host_ok(a), dtype=dtype, order=order or "K", copy=True))


def array(obj: Any, dtype: Any = None, copy: bool = True, order: str = "K", subok: bool = False,
          ndmin: int = 0, *, blocking: bool = False) -> ndarray:
    """Like :func:`asarray`, but a device array is copied unless ``copy=False``."""
    if type(obj) is ndarray and not copy and (dtype is None or numpy.dtype(dtype) == obj.dtype):
        return obj
    _launch("array" if type(obj) is ndarray else "host to device")
    return _wrap(numpy.array(_host_ok(obj), dtype=dtype, order=order, copy=True, ndmin=ndmin))


def _host_ok(a: Any) -> Any:
    """Nested lists may hold device arrays (CuPy gathers them); everything else is host data."""
    if type(a) is ndarray:
        return a._a
    if isinstance(a, (list, tuple)):
        return [_host_ok(v) for v in a]
    return a


def asnumpy(a: Any, stream: Any = None, order: str = "C", out: Any = None, *, blocking: bool = True) -> numpy.ndarray:
    """The explicit way to the host."""
    return a.get(order=order, out=out) if type(a) is ndarray else numpy.asarray(a, order=order)


def get_array_module(*args: Any) -> ModuleType:
    return cupy if any(type(a) is ndarray for a in args) else numpy


def copyto(dst: ndarray, src: Any, casting: str = "same_kind", where: Any = None) -> None:
    """CuPy's copyto: ``dst`` on the device; a host ``src`` only as one value."""
    if type(dst) is not ndarray:
        raise TypeError(f"copyto: dst must be a cupy.ndarray, not {type(dst)}")
    if isinstance(src, numpy.ndarray):
        if src.size != 1:
            raise ValueError("non-scalar numpy.ndarray cannot be used for copyto")
        src = src.squeeze()[()]
    _launch("copyto")
    numpy.copyto(dst._a, _operand(src), casting=casting, where=True if where is None else _raw(where))


def ascontiguousarray(a: ndarray, dtype: Any = None) -> ndarray:
    """A C-contiguous device array (``a`` itself if it already is one of that dtype)."""
    if type(a) is not ndarray:
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy.ndarray, got {type(a).__name__})")
    r = numpy.ascontiguousarray(a._a, dtype=dtype)
    if r is not a._a:
        _launch("ascontiguousarray")
    return a if r is a._a else _wrap(r)


class broadcast:
    """``cupy.broadcast(*arrays)``: the broadcast shape, and the arrays broadcast to it (as views)."""

    def __init__(self, *arrays: Any) -> None:
        b = numpy.broadcast(*(_operand(x) for x in arrays))
        self.shape, self.size, self.nd = b.shape, b.size, b.nd
        self.values = tuple(_wrap(v, x) if type(x) is ndarray else _wrap(v)
                            for v, x in zip(numpy.broadcast_arrays(*(_operand(x) for x in arrays)), arrays))


# Functions the stand-in imitates, with the parameter names of CuPy's own signature (checked).
FUNCTIONS = {
    "argmax": ("a", "axis", "dtype", "out", "keepdims"), "argmin": ("a", "axis", "dtype", "out", "keepdims"),
    "argsort": ("a", "axis", "kind"), "allclose": ("a", "b", "rtol", "atol", "equal_nan"),
    "broadcast_to": ("array", "shape"),
    "any": ("a", "axis", "out", "keepdims"), "all": ("a", "axis", "out", "keepdims"),
    "concatenate": ("tup", "axis", "out", "dtype", "casting"), "dot": ("a", "b", "out"),
    "max": ("a", "axis", "out", "keepdims"), "mean": ("a", "axis", "dtype", "out", "keepdims"),
    "min": ("a", "axis", "out", "keepdims"), "repeat": ("a", "repeats", "axis"),
    "reshape": ("a", "newshape", "order"), "stack": ("tup", "axis", "out", "dtype", "casting"),
    "sum": ("a", "axis", "dtype", "out", "keepdims"), "take_along_axis": ("a", "indices", "axis"),
    "transpose": ("a", "axes"), "vdot": ("a", "b"),
    "where": ("condition", "x", "y"),
    # creation: a host prototype for *_like is refused (stricter than CuPy, which reads only its layout)
    "arange": ("start", "stop", "step", "dtype"), "empty": ("shape", "dtype", "order"),
    "full": ("shape", "fill_value", "dtype", "order"), "ones": ("shape", "dtype", "order"),
    "zeros": ("shape", "dtype", "order"), "empty_like": ("prototype", "dtype", "order", "subok", "shape"),
    "full_like": ("a", "fill_value", "dtype", "order", "subok", "shape"),
    "ones_like": ("a", "dtype", "order", "subok", "shape"), "zeros_like": ("a", "dtype", "order", "subok", "shape"),
}
UFUNCS = ("abs", "absolute", "add", "bitwise_and", "bitwise_or", "bitwise_xor", "cos", "divide", "equal", "exp",
          "expm1", "floor_divide", "greater", "greater_equal", "invert", "isfinite", "isinf", "isnan", "less",
          "less_equal", "log", "log1p", "logical_and", "logical_not", "logical_or", "logical_xor", "matmul",
          "maximum", "minimum", "multiply", "negative", "not_equal", "positive", "power", "remainder", "sign", "sin",
          "sqrt", "square", "subtract", "tanh", "true_divide")
CONSTANTS = ("inf", "nan", "newaxis", "pi", "e", "bool_", "int8", "int32", "int64", "uint8", "float16",
             "float32", "float64", "dtype", "finfo", "iinfo")


def _build() -> ModuleType:
    m = ModuleType("cupy", "Strict CPU stand-in for CuPy (tests/strict_cupy.py); not a backend users choose.")
    for name, params in FUNCTIONS.items():
        setattr(m, name, _function(name, params))
    for name in UFUNCS:
        setattr(m, name, ufunc(getattr(numpy, name)))
    for name in CONSTANTS:
        setattr(m, name, getattr(numpy, name))
    for f in (asarray, array, asnumpy, get_array_module, copyto, ascontiguousarray):
        setattr(m, f.__name__, f)
    m.ndarray, m.ufunc, m.broadcast = ndarray, ufunc, broadcast
    m.__version__ = "strict-stand-in"
    stream = SimpleNamespace(synchronize=lambda: None)  # everything here has finished when it returns
    m.cuda = SimpleNamespace(get_current_stream=lambda: stream, runtime=SimpleNamespace(getDeviceCount=lambda: 1))

    def missing(name: str) -> Any:
        raise AttributeError(f"module 'cupy' (the strict stand-in) has no attribute {name!r}: CuPy lacks it, "
                             "or tests/strict_cupy.py does not imitate it yet (add it if CuPy has it)")

    m.__getattr__ = missing
    return m


cupy = _build()


@contextlib.contextmanager
def installed() -> Iterator[ModuleType]:
    """``with installed():`` ``minatt.use("cupy")`` gets the stand-in; the previous module comes back after."""
    from minatt import backend

    previous = backend._set_cupy_module(cupy)
    try:
        yield cupy
    finally:
        backend._set_cupy_module(previous)


__all__ = ["IMPLICIT", "LAUNCHES", "TRANSFERS", "counting", "cupy", "installed", "launching", "ndarray"]
