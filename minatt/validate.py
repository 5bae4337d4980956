"""Cheap argument checks for the public ops: one-line errors that name the argument, expected and actual.

The checked entry points in :mod:`minatt.ops` (``minatt.ops.lstm_forward``, ...) run these
before the math; the submodule functions (``minatt.ops.lstm.lstm_forward``) do not, and they
are what the model's time loops call, so checking costs nothing there.

A check reads only ``.shape``, ``.ndim``, ``.dtype`` and the array's type (NumPy or CuPy), with
one exception: the range of integer ids (``ids`` of an embedding, ``targets`` of a loss), which
needs a ``min``/``max`` over the ids (on a GPU that waits for the device).

Shapes are written with dimension letters, bound left to right across one call:

>>> from minatt.validate import Signature
>>> import numpy as np
>>> s = Signature("lstm_forward")
>>> s.floats("x", np.zeros((2, 5, 3)), "N T D")
>>> s.floats("h0", np.zeros((2, 4)), "N H")
>>> s.floats("Wh", np.zeros((4, 12)), "H 4H")
Traceback (most recent call last):
    ...
minatt.errors.ShapeError: lstm_forward: Wh: expected shape (H, 4H) = (4, 16) (H = 4 from h0), got (4, 12)

A pattern token is a letter name (``N``, ``Hq``), a multiple (``4H``), a sum of names
(``Hq+Hk``), or ``...`` (any leading axes, as a group). Every named size must be positive:
an empty batch (N = 0) and zero-length sequences (T = 0, S = 0) get their own messages.
"""

from __future__ import annotations

import functools
from typing import Any

from minatt.backend import is_device_array
from minatt.errors import ShapeError

__all__ = ["Signature", "describe"]

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


class Signature:
    """The checks of one call: binds dimension letters, the float dtype and the backend as it goes.

    Each method checks one argument and raises :class:`minatt.errors.ShapeError` with a
    one-line message ``"<op>: <argument>: expected ..., got ..."``.
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

    # -- the pieces ----------------------------------------------------------------------
    def fail(self, name: str, message: str) -> None:
        """Raise the one-line error for argument ``name``."""
        raise ShapeError(f"{self.op}: {name}: {message}")

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

    def shape(self, name: str, a: Any, pattern: str) -> None:
        """Check ``a.shape`` against ``pattern``, binding letters seen for the first time."""
        lead, axes = _compile(pattern)
        shape = tuple(a.shape)
        if len(shape) < len(axes) or (not lead and len(shape) != len(axes)):
            rank = f"an array of at least {len(axes)} axes" if lead else f"a {len(axes)}-d array"
            self.fail(name, f"expected {rank} of shape ({', '.join(_parse(pattern))}), got {describe(a)}")
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
            if len(letters) == 1 and letters[0] not in dims:
                self._bind(name, k, letters[0], size)
            elif size != k * sum(dims[t] for t in letters):
                self._mismatch(name, _parse(pattern), a)

    def _bind(self, name: str, k: int, letter: str, size: int) -> None:
        if size % k:
            self.fail(name, f"expected a size that is a multiple of {k} ({k}{letter}) on that axis, got {size}")
        if size == 0:
            self.fail(name, _EMPTY.get(letter, f"has size 0 on axis {letter}: every size must be positive"))
        self.dims[letter], self.source[letter] = size // k, name

    def _mismatch(self, name: str, tokens: tuple[str, ...], a: Any) -> None:
        want: list[str] = []
        why: dict[str, str] = {}  # letter -> "H = 4 from h0", for letters another argument fixed
        for token in tokens:
            if token == "...":
                want.append("...")
                continue
            if "+" in token:
                want.append(str(sum(self.dims[t] for t in token.split("+"))))
                letters = token.split("+")
            else:
                k, letter = _split_multiple(token)
                if letter and letter not in self.dims:
                    want.append(token)  # not bound yet: any size goes
                    continue
                want.append(str(k * self.dims[letter]) if letter else str(k))
                letters = [letter] if letter else []
            for t in letters:
                if self.source.get(t, name) != name:
                    why[t] = f"{t} = {self.dims[t]} from {self.source[t]}"
        reason = f" ({', '.join(why.values())})" if why else ""
        self.fail(name, f"expected shape ({', '.join(tokens)}) = ({', '.join(want)}){reason}, "
                        f"got {tuple(a.shape)}")

    # -- argument kinds ------------------------------------------------------------------
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
        self.shape(name, a, pattern)

    def maybe_floats(self, name: str, a: Any, pattern: str) -> None:
        """Like :meth:`floats`, but ``None`` is allowed (meaning zero)."""
        if a is not None:
            self.floats(name, a, pattern)

    def ints(self, name: str, a: Any, pattern: str, vocab: str | None = None, ignore: Any = None) -> None:
        """An integer array of ``pattern``; with ``vocab`` (a bound letter) every id is in [0, vocab) or ``ignore``."""
        self._array(name, a, pattern)
        if a.dtype.kind not in "iu":
            self.fail(name, f"expected an integer array of ids, got {describe(a)}")
        self.shape(name, a, pattern)
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
        """``None`` or a bool array of ``pattern`` (True = real token); with ``broadcast``, any shape
        that broadcasts to the bound pattern."""
        if m is None:
            return
        self._array(name, m, pattern)
        if m.dtype.kind != "b":
            self.fail(name, f"expected a bool mask (True = real token, False = padding), got {describe(m)}")
        if not broadcast:
            self.shape(name, m, pattern)
            return
        target = self.expected(pattern)
        shape = tuple(m.shape)
        ok = len(shape) <= len(target) and all(
            s in (1, t) for s, t in zip(shape[::-1], target[::-1]))
        if not ok:
            self.fail(name, f"expected a bool mask of shape {target} (or one that broadcasts to it), got {shape}")

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

    def cache(self, name: str, cache: Any, kind: type, forward: str) -> None:
        """``cache`` must be the ``kind`` NamedTuple that ``forward`` returned."""
        if not isinstance(cache, kind):
            self.fail(name, f"expected the {kind.__name__} returned by {forward}, got {describe(cache)}")
