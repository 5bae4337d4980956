"""Shape contracts: each op declares its arguments once, on itself, and calls from user code are checked.

    @contract(x="N T D", h0="N H", c0="N H", Wx="D 4H", Wh="H 4H", b="4H", mask="N T bool?")
    def lstm_forward(x, h0, c0, Wx, Wh, b, mask=None): ...

A call ``lstm_forward(x, h0, ...)`` first checks every declared argument, in the order the
contract lists them, binding each dimension letter the first time it is seen: x fixes N, T
and D, so h0 must have N rows, and Wx must be D by 4 times the H that h0 fixed. A mistake
raises :class:`minatt.errors.ShapeError` with one line that names the op, the argument, the
expected and the received shape, and where each letter came from:

>>> import numpy as np
>>> from minatt.ops import affine_forward
>>> affine_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5))
Traceback (most recent call last):
    ...
minatt.errors.ShapeError: affine_forward: W: expected shape (D, M) = (3, M) (D = 3 from x), got (4, 5)

The spec of one argument is a string, axes first, then an optional kind, then ``?``:

    "N T D"          a floating-point array of 3 axes; every float argument of a call has one dtype
    "D 4H"  "Hq+Hk"  an axis k times a letter, or the sum of letters (names start with a capital)
    "... D"          any number of leading axes, bound as one group ("..." alone: any shape)
    "N T bool"       a bool mask (True = real token, False = padding)
    "... S bool broadcastable"   a bool mask of any shape that broadcasts to (..., S), its letters
                     bound by earlier arguments; "N 4H broadcastable": a float array that does
    "... int"        integer ids;  "... int<V": ids in [0, V), V bound by an earlier argument;
                     "... int<V|ignore_index": or equal to the argument ignore_index
    "... D shape"    a shape tuple (not an array), e.g. a cache's record of its input's shape
    "number"  "id"   a finite Python real; a Python int
    "N H?"           a trailing ? allows None

A cache is declared with :class:`Cache`: its NamedTuple type, and specs for the fields whose
shapes should be checked or whose dims bind letters for the other arguments:

    @contract(cache=Cache(LSTMCache, x="N T D", c0="N H"), dhs="N T H", dhT="N H?", dcT="N H?")
    def lstm_backward(dhs, dhT, dcT, cache): ...

Every array argument must live on one backend (no NumPy array among CuPy ones), and every
named size must be positive: an empty batch (N = 0) and zero-length sequences (T = 0, S = 0)
get their own messages. A check reads only ``.shape``, ``.dtype`` and the array's type, with
one exception: ``int<V`` needs a min/max over the ids (on a GPU, a wait for the device).

When checks run: on every call from user code (lessons, exercises, experiments, your own
scripts). Inside a checked op the nested op calls are not checked again, and the model enters
:func:`unchecked` once per batch (``Seq2Seq.loss_and_grads``, decoding), so its time loops pay
one flag read per op call (about 0.1 microseconds) and no checks; the model validates its own
inputs once, at its boundary.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
import numbers
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from minatt.backend import is_device_array
from minatt.errors import ShapeError

__all__ = ["Cache", "Signature", "checking", "contract", "describe", "unchecked"]

_EMPTY = {
    "N": "an empty batch (N = 0): pass at least one sequence",
    "T": "zero-length sequences (T = 0): every sequence needs at least one step",
    "S": "zero-length sources (S = 0): every source needs at least one position",
}

# -- the switch ------------------------------------------------------------------------------

_checking: contextvars.ContextVar[bool] = contextvars.ContextVar("minatt_checking", default=True)


def checking() -> bool:
    """True where a call to an op checks its arguments (the default), False inside :func:`unchecked`."""
    return _checking.get()


@contextlib.contextmanager
def unchecked() -> Iterator[None]:
    """Skip the contract checks of every op called inside (per thread). Also a decorator:

    >>> @unchecked()
    ... def train_step(batch): ...
    """
    token = _checking.set(False)
    try:
        yield
    finally:
        _checking.reset(token)


# -- the spec language -----------------------------------------------------------------------


def describe(a: Any) -> str:
    """``"float32 array of shape (2, 3)"`` for an array, else the type's name."""
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        return f"{a.dtype} array of shape {tuple(a.shape)}"
    return type(a).__name__


def _backend_name(a: Any) -> str:
    return "CuPy" if is_device_array(a) else "NumPy"


@functools.cache
def _parse(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.split())


@functools.cache
def _compile(pattern: str) -> tuple[bool, tuple[tuple[int, tuple[str, ...]], ...]]:
    """``"... N 4H Hq+Hk"`` -> (leading, ((1, ("N",)), (4, ("H",)), (1, ("Hq", "Hk")))): each axis is
    k times the sum of its letters (no letters: exactly k)."""
    tokens = _parse(pattern)
    lead = bool(tokens) and tokens[0] == "..."
    axes = []
    for token in tokens[1:] if lead else tokens:
        if "+" in token:
            axes.append((1, tuple(token.split("+"))))
        else:
            k, letter = _split_multiple(token)
            axes.append((k, (letter,) if letter else ()))
    return lead, tuple(axes)


def _split_multiple(token: str) -> tuple[int, str]:
    """``"4H"`` -> (4, "H"); ``"H"`` -> (1, "H")."""
    i = 0
    while i < len(token) and token[i].isdigit():
        i += 1
    return (int(token[:i]) if i else 1), token[i:]


_AXIS = re.compile(r"\d+|\d*[A-Z]\w*|[A-Z]\w*(\+[A-Z]\w*)+")  # dimension names start with a capital
_KIND = re.compile(r"bool|int(<(?P<vocab>[A-Z]\w*)(\|(?P<ignore>\w+))?)?|shape")


class Spec(NamedTuple):
    """One argument's compiled spec (see the module docstring)."""

    text: str  # as written in the contract
    axes: str  # "N T D", "... S", "" for the scalar kinds
    kind: str  # "float", "bool", "int", "shape", "number" or "id"
    optional: bool = False  # None allowed
    broadcast: bool = False  # the array only needs to broadcast to the axes (all bound before)
    vocab: str | None = None  # int<V: the letter bounding the ids
    ignore: str | None = None  # int<V|name: the argument whose value is also allowed


@functools.cache
def parse_spec(text: str) -> Spec:
    """``"N T bool?"`` -> Spec("N T", "bool", optional=True); ValueError for a malformed spec."""
    body = text.strip()
    optional = body.endswith("?")
    body = body.removesuffix("?").strip()
    if body in ("number", "id"):
        return Spec(text, "", body, optional)
    tokens = body.split()
    broadcast = bool(tokens) and tokens[-1] == "broadcastable"
    if broadcast:
        tokens.pop()
    kind, vocab, ignore = "float", None, None
    match = _KIND.fullmatch(tokens[-1]) if tokens else None
    if match:
        tokens.pop()
        kind, vocab, ignore = match[0].split("<")[0], match["vocab"], match["ignore"]
    axes = tokens[1:] if tokens[:1] == ["..."] else tokens
    bad = [t for t in axes if not _AXIS.fullmatch(t)]
    if bad or (broadcast and kind not in ("bool", "float")):
        raise ValueError(f"bad contract spec {text!r}: see minatt.validate for the spec language")
    return Spec(text, " ".join(tokens), kind, optional, broadcast, vocab, ignore)


class Cache:
    """A cache argument: an instance of ``kind`` (a NamedTuple), with specs for some of its fields.

    A field's spec is a spec string or another :class:`Cache` (for a cache inside a cache);
    fields are checked in the order given, as ``cache.<field>``.
    """

    def __init__(self, kind: type, **fields: str | Cache) -> None:
        self.kind = kind
        self.fields = {name: _spec(f) for name, f in fields.items()}

    def __repr__(self) -> str:
        fields = "".join(f", {name}={_text(spec)!r}" for name, spec in self.fields.items())
        return f"Cache({self.kind.__name__}{fields})"


def _spec(spec: str | Cache) -> Spec | Cache:
    return spec if isinstance(spec, Cache) else parse_spec(spec)


def _text(spec: Spec | Cache) -> Any:
    return spec if isinstance(spec, Cache) else spec.text


# -- one call's checks -----------------------------------------------------------------------


class Signature:
    """The checks of one call: binds dimension letters, the float dtype and the backend as it goes.

    Each method checks one argument and raises :class:`minatt.errors.ShapeError` with a
    one-line message ``"<op>: <argument>: expected ..., got ..."``.

    >>> import numpy as np
    >>> s = Signature("lstm_forward")
    >>> s.floats("x", np.zeros((2, 5, 3)), "N T D")
    >>> s.floats("h0", np.zeros((2, 4)), "N H")
    >>> s.floats("Wh", np.zeros((4, 12)), "H 4H")
    Traceback (most recent call last):
        ...
    minatt.errors.ShapeError: lstm_forward: Wh: expected shape (H, 4H) = (4, 16) (H = 4 from h0), got (4, 12)
    """

    __slots__ = ("device", "device_from", "dims", "dtype", "dtype_from", "op", "source")

    def __init__(self, op: str) -> None:
        self.op = op
        self.dims: dict[str, Any] = {}  # letter -> size ("..." -> a tuple of sizes)
        self.source: dict[str, str] = {}  # letter -> the argument that fixed it
        self.dtype: Any = None
        self.dtype_from = ""
        self.device: bool | None = None
        self.device_from = ""

    def fail(self, name: str, message: str) -> None:
        """Raise the one-line error for argument ``name``."""
        raise ShapeError(f"{self.op}: {name}: {message}")

    def check(self, name: str, value: Any, spec: Spec | Cache, arguments: dict[str, Any]) -> None:
        """Check one argument against its compiled spec (``arguments``: the call's, for ``int<V|name``)."""
        if isinstance(spec, Cache):
            self.cache(name, value, spec)
        elif value is None and spec.optional:
            return
        elif spec.kind == "float":
            self.floats(name, value, spec.axes, spec.broadcast)
        elif spec.kind == "bool":
            self.mask(name, value, spec.axes, spec.broadcast)
        elif spec.kind == "int":
            self.ints(name, value, spec.axes, spec.vocab, arguments.get(spec.ignore) if spec.ignore else None)
        elif spec.kind == "shape":
            self.shape(name, tuple(value), spec.axes)
        elif spec.kind == "number":
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
                self.fail(name, f"expected a finite Python number, got {value!r}")
        elif not isinstance(value, numbers.Integral) or isinstance(value, bool):  # "id"
            self.fail(name, f"expected an integer id{' or None' if spec.optional else ''}, got {value!r}")

    # -- argument kinds ------------------------------------------------------------------
    def _array(self, name: str, a: Any, pattern: str) -> None:
        if getattr(a, "dtype", None) is None or getattr(a, "shape", None) is None:
            self.fail(name, f"expected an array of shape ({', '.join(_parse(pattern))}), got {describe(a)}")
        dev = is_device_array(a)
        if self.device is None:
            self.device, self.device_from = dev, name
        elif dev != self.device:
            self.fail(name, f"is a {_backend_name(a)} array but {self.device_from} is a "
                            f"{'CuPy' if self.device else 'NumPy'} array: put every argument on one backend "
                            "(minatt.asarray(a) moves an array to the current backend)")

    def floats(self, name: str, a: Any, pattern: str, broadcast: bool = False) -> None:
        """A floating-point array of ``pattern`` (with ``broadcast``: of a shape that broadcasts to it),
        of the same dtype and backend as the others."""
        self._array(name, a, pattern)
        if a.dtype.kind != "f":
            self.fail(name, f"expected a floating-point array, got {describe(a)}")
        if self.dtype is None:
            self.dtype, self.dtype_from = a.dtype, name
        elif a.dtype != self.dtype:
            self.fail(name, f"expected dtype {self.dtype} like {self.dtype_from}, got {a.dtype} "
                            "(cast it with .astype; minatt never mixes float dtypes)")
        if broadcast:
            self._broadcasts(name, tuple(a.shape), pattern, "an array")
        else:
            self.shape(name, tuple(a.shape), pattern, a)

    def ints(self, name: str, a: Any, pattern: str, vocab: str | None = None, ignore: Any = None) -> None:
        """An integer array of ``pattern``; with ``vocab`` (a bound letter) every id is in [0, vocab) or ``ignore``."""
        self._array(name, a, pattern)
        if a.dtype.kind not in "iu":
            self.fail(name, f"expected an integer array of ids, got {describe(a)}")
        self.shape(name, tuple(a.shape), pattern, a)
        if vocab is None or a.size == 0:
            return
        V = self.dims[vocab]
        bad = (a < 0) | (a >= V)
        if ignore is not None:
            bad &= a != ignore
        if bool(bad.any()):
            lo, hi = int(a.min()), int(a.max())
            also = f" (or ignore_index {ignore})" if ignore is not None else ""
            self.fail(name, f"expected ids in [0, {vocab}) = [0, {V}){also} ({vocab} from "
                            f"{self.source[vocab]}), got ids from {lo} to {hi}")

    def mask(self, name: str, m: Any, pattern: str, broadcast: bool = False) -> None:
        """A bool array of ``pattern`` (True = real token); with ``broadcast``, any shape that
        broadcasts to the bound pattern."""
        self._array(name, m, pattern)
        if m.dtype.kind != "b":
            self.fail(name, f"expected a bool mask (True = real token, False = padding), got {describe(m)}")
        if broadcast:
            self._broadcasts(name, tuple(m.shape), pattern, "a bool mask")
        else:
            self.shape(name, tuple(m.shape), pattern, m)

    def _broadcasts(self, name: str, shape: tuple, pattern: str, what: str) -> None:
        target = self.expected(pattern)
        ok = len(shape) <= len(target) and all(s in (1, t) for s, t in zip(shape[::-1], target[::-1]))
        if not ok:
            self.fail(name, f"expected {what} of shape {target} (or one that broadcasts to it), got {shape}")

    def cache(self, name: str, cache: Any, spec: Cache) -> None:
        """``cache`` must be a ``spec.kind`` (as the matching forward returns it); then its fields."""
        if not isinstance(cache, spec.kind):
            forward = f" returned by {self.op.replace('_backward', '_forward')}" if "_backward" in self.op else ""
            self.fail(name, f"expected the {spec.kind.__name__}{forward}, got {describe(cache)}")
        for field, field_spec in spec.fields.items():
            self.check(f"{name}.{field}", getattr(cache, field), field_spec, {})

    # -- shapes --------------------------------------------------------------------------
    def shape(self, name: str, shape: tuple, pattern: str, a: Any = None) -> None:
        """Check ``shape`` (of array ``a``, if given) against ``pattern``, binding letters seen for the first time."""
        lead, axes = _compile(pattern)
        full = shape
        if len(shape) < len(axes) or (not lead and len(shape) != len(axes)):
            rank = f"an array of at least {len(axes)} axes" if lead else f"a {len(axes)}-d array"
            got = describe(a) if a is not None else f"shape {shape}"
            self.fail(name, f"expected {rank} of shape ({', '.join(_parse(pattern))}), got {got}")
        dims = self.dims
        if lead:
            before = shape[: len(shape) - len(axes)]
            if "..." in dims and before != dims["..."]:
                self.fail(name, f"expected leading axes (...) = {dims['...']} like "
                                f"{self.source['...']}, got shape {shape}")
            if 0 in before:
                self.fail(name, f"has an empty leading axis (shape {shape}): pass at least one row")
            dims.setdefault("...", before)
            self.source.setdefault("...", name)
            shape = shape[len(before):]
        for (k, letters), size in zip(axes, shape):
            if len(letters) == 1 and letters[0] in dims:  # the common case first: a known letter
                if size != k * dims[letters[0]]:
                    self._mismatch(name, _parse(pattern), full)
                continue
            new = [t for t in letters if t not in dims]
            if len(new) == 1:  # "4H" or "Hq+Hk" with Hk known: the axis fixes the new letter
                rest = sum(dims[t] for t in letters if t in dims)
                if rest and size <= k * rest:
                    self._mismatch(name, _parse(pattern), full)
                self._bind(name, k, new[0], size, rest)
            elif not new and size != k * (sum(dims[t] for t in letters) if letters else 1):
                self._mismatch(name, _parse(pattern), full)

    def _bind(self, name: str, k: int, letter: str, size: int, rest: int = 0) -> None:
        if size % k:
            self.fail(name, f"expected a size that is a multiple of {k} ({k}{letter}) on that axis, got {size}")
        if size == 0:
            self.fail(name, _EMPTY.get(letter, f"has size 0 on axis {letter}: every size must be positive"))
        self.dims[letter], self.source[letter] = size // k - rest, name

    def _mismatch(self, name: str, tokens: tuple[str, ...], shape: tuple) -> None:
        want: list[str] = []
        why: dict[str, str] = {}  # letter -> "H = 4 from h0", for letters another argument fixed
        for token in tokens:
            if token == "...":
                want.append("...")
                continue
            k, letter = _split_multiple(token)
            letters = token.split("+") if "+" in token else [letter] if letter else []
            if not letters:
                want.append(str(k))
            elif all(t in self.dims for t in letters):
                want.append(str(k * sum(self.dims[t] for t in letters)))
            else:  # not bound yet: any size goes, plus the known part
                known = sum(self.dims[t] for t in letters if t in self.dims)
                want.append("+".join([t for t in letters if t not in self.dims] + ([str(known)] if known else [])))
            for t in letters:
                if t in self.dims and self.source.get(t, name) != name:
                    why[t] = f"{t} = {self.dims[t]} from {self.source[t]}"
        reason = f" ({', '.join(why.values())})" if why else ""
        self.fail(name, f"expected shape ({', '.join(tokens)}) = ({', '.join(want)}){reason}, got {shape}")

    def expected(self, pattern: str) -> tuple[int, ...]:
        """The shape ``pattern`` stands for, with every letter already bound."""
        out: list[int] = []
        for token in _parse(pattern):
            if token == "...":
                out += list(self.dims["..."])
            elif "+" in token:
                out.append(sum(self.dims[t] for t in token.split("+")))
            else:
                k, letter = _split_multiple(token)
                out.append(k * self.dims[letter] if letter else k)
        return tuple(out)


# -- the decorator ---------------------------------------------------------------------------

_NO_DEFAULT = inspect.Parameter.empty


class Contract:
    """The compiled contract of one op: its parameters and the specs to check, in order."""

    def __init__(self, fn: Callable, specs: dict[str, str | Cache]) -> None:
        self.op = fn.__name__
        parameters = inspect.signature(fn).parameters
        unknown = [name for name in specs if name not in parameters]
        if unknown:
            raise TypeError(f"contract of {self.op}: no parameter named {', '.join(unknown)}")
        self.parameters = [(name, p.default) for name, p in parameters.items()]
        self.specs = {name: _spec(spec) for name, spec in specs.items()}
        bound: set[str] = set()
        for name, spec in self.specs.items():
            self._check_order(name, spec, bound)

    def _check_order(self, name: str, spec: Spec | Cache, bound: set[str]) -> None:
        """Fail at the decorator unless every letter can be known when it is needed: ``int<V`` after V,
        and at most one new letter per axis ("Hq+Hk" once Hq or Hk is known)."""
        if isinstance(spec, Cache):
            for field, field_spec in spec.fields.items():
                self._check_order(f"{name}.{field}", field_spec, bound)
            return
        if spec.vocab and spec.vocab not in bound:
            raise TypeError(f"contract of {self.op}: {name}: {spec.vocab} must be bound by an earlier argument")
        lead, axes = _compile(spec.axes)
        if spec.broadcast and ({t for _, letters in axes for t in letters} - bound or (lead and "..." not in bound)):
            raise TypeError(f"contract of {self.op}: {name}: a broadcastable spec needs every letter bound before it")
        if lead:
            bound.add("...")
        for _, letters in axes:
            if len(set(letters) - bound) > 1:
                raise TypeError(f"contract of {self.op}: {name}: {'+'.join(letters)} has two letters "
                                "no earlier argument binds")
            bound.update(letters)

    def arguments(self, args: tuple, kwargs: dict) -> dict[str, Any] | None:
        """The call's arguments by name (defaults filled in), or None when the call itself is wrong."""
        if len(args) > len(self.parameters):
            return None
        values = dict(zip((name for name, _ in self.parameters), args))
        for name, default in self.parameters[len(args):]:
            if name in kwargs:
                values[name] = kwargs[name]
            elif default is _NO_DEFAULT:
                return None
            else:
                values[name] = default
        return values

    def check(self, args: tuple, kwargs: dict) -> None:
        """Raise ShapeError for the first argument that breaks the contract (a call Python itself
        would refuse, e.g. a missing argument, is left to raise its own TypeError)."""
        values = self.arguments(args, kwargs)
        if values is None:
            return
        sig = Signature(self.op)
        for name, spec in self.specs.items():
            sig.check(name, values[name], spec, values)

    def __str__(self) -> str:
        return ", ".join(f"{name}={_text(spec)!r}" for name, spec in self.specs.items())


def contract(**specs: str | Cache) -> Callable[[Callable], Callable]:
    """Declare an op's argument specs (see the module docstring); calls from user code are checked.

    The op keeps its name, signature and docstring (with the contract appended); ``op.contract``
    is the compiled :class:`Contract`. While an op checks and runs, the ops it calls are not
    checked again; inside :func:`unchecked` nothing is.
    """
    for spec in specs.values():
        _spec(spec)  # a malformed spec fails here, at the decorator's line

    def decorate(fn: Callable) -> Callable:
        rules = Contract(fn, specs)

        @functools.wraps(fn)
        def op(*args: Any, **kwargs: Any) -> Any:
            if not _checking.get():
                return fn(*args, **kwargs)
            token = _checking.set(False)
            try:
                rules.check(args, kwargs)
                return fn(*args, **kwargs)
            finally:
                _checking.reset(token)

        op.contract = rules  # type: ignore[attr-defined]
        op.__doc__ = f"{(fn.__doc__ or '').rstrip()}\n\n    Contract (checked on calls from user code): {rules}\n"
        return op

    return decorate
