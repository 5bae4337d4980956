"""Shape specs: parse an argument's spec string, and check one call's arguments against their specs.

The spec language and the decorator that uses it are described in :mod:`minatt.validate`;
this module is its machinery: :func:`parse_spec` turns ``"N T bool?"`` into a :class:`Spec`,
and a :class:`Signature` checks one call, binding dimension letters, the float dtype and the
backend as it goes, and raising the one-line :class:`minatt.errors.ShapeError`. The model's
batch validation (:mod:`minatt.model.seq2seq`) uses a Signature directly.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from typing import Any, NamedTuple

from minatt.backend import is_device_array
from minatt.errors import ShapeError

__all__ = ["Cache", "Signature", "Spec", "as_spec", "compile_axes", "describe", "parse_spec", "spec_text"]

_EMPTY = {
    "N": "an empty batch (N = 0): pass at least one sequence",
    "T": "zero-length sequences (T = 0): every sequence needs at least one step",
    "S": "zero-length sources (S = 0): every source needs at least one position",
}


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
def compile_axes(pattern: str) -> tuple[bool, tuple[tuple[int, tuple[str, ...]], ...]]:
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
    kind, vocab, ignore = "float", None, None
    match = _KIND.fullmatch(tokens[-1]) if tokens else None
    if match:
        tokens.pop()
        kind, vocab, ignore = match[0].split("<")[0], match["vocab"], match["ignore"]
    axes = tokens[1:] if tokens[:1] == ["..."] else tokens
    bad = [t for t in axes if not _AXIS.fullmatch(t)]
    if bad:
        raise ValueError(f"bad contract spec {text!r}: see minatt.validate for the spec language")
    return Spec(text, " ".join(tokens), kind, optional, vocab, ignore)


class Cache:
    """A cache argument: an instance of ``kind`` (a NamedTuple), with spec strings for some of its
    fields, checked in the order given, as ``cache.<field>``. One level: a field is an array, a
    shape or a number, never a cache to look inside."""

    def __init__(self, kind: type, **fields: str) -> None:
        self.kind = kind
        if not all(isinstance(f, str) for f in fields.values()):
            raise TypeError(f"Cache({kind.__name__}): a field's spec is a string (one level, no cache inside a cache)")
        self.fields = {name: parse_spec(f) for name, f in fields.items()}

    def __repr__(self) -> str:
        fields = "".join(f", {name}={spec_text(spec)!r}" for name, spec in self.fields.items())
        return f"Cache({self.kind.__name__}{fields})"


def as_spec(spec: str | Cache) -> Spec | Cache:
    return spec if isinstance(spec, Cache) else parse_spec(spec)


def spec_text(spec: Spec | Cache) -> Any:
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
            self.floats(name, value, spec.axes)
        elif spec.kind == "bool":
            self.mask(name, value, spec.axes)
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

    def floats(self, name: str, a: Any, pattern: str) -> None:
        """A floating-point array of ``pattern``, of the same dtype and backend as the others."""
        self._array(name, a, pattern)
        if a.dtype.kind != "f":
            self.fail(name, f"expected a floating-point array, got {describe(a)}")
        if self.dtype is None:
            self.dtype, self.dtype_from = a.dtype, name
        elif a.dtype != self.dtype:
            self.fail(name, f"expected dtype {self.dtype} like {self.dtype_from}, got {a.dtype} "
                            "(cast it with .astype; minatt never mixes float dtypes)")
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

    def mask(self, name: str, m: Any, pattern: str) -> None:
        """A bool array of ``pattern`` (True = real token). It may stay on the host beside device
        arrays: an op copies it over, and a recurrence reads its padding flags there for free."""
        if is_device_array(m) or getattr(m, "dtype", None) is None or getattr(m, "shape", None) is None:
            self._array(name, m, pattern)  # (a host mask binds no backend and breaks none)
        if m.dtype.kind != "b":
            self.fail(name, f"expected a bool mask (True = real token, False = padding), got {describe(m)}")
        self.shape(name, tuple(m.shape), pattern, m)

    def bind(self, letter: str, size: int, source: str) -> None:
        """Fix a letter before any argument does (say the vocabulary V from the model's config)."""
        self.dims[letter], self.source[letter] = size, source

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
        lead, axes = compile_axes(pattern)
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
