"""Shape contracts: each op declares its arguments once, on itself; calls from user code are checked.

    @contract(x="N T D", h0="N H", c0="N H", Wx="D 4H", Wh="H 4H", b="4H", mask="N T bool?")
    def lstm_forward(x, h0, c0, Wx, Wh, b, mask=None): ...

The arguments are checked in the contract's order, each letter bound where first seen (x fixes
N, T, D; then Wh must be H by 4H for the H that h0 fixed). A mistake raises a one-line
:class:`minatt.errors.ShapeError` naming the op, the argument, both shapes and each letter's source:

>>> import numpy as np
>>> from minatt.ops import affine_forward
>>> affine_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5))
Traceback (most recent call last):
    ...
minatt.errors.ShapeError: affine_forward: W: expected shape (D, M) = (3, M) (D = 3 from x), got (4, 5)

The grammar of one spec: axes, then an optional kind, then an optional ``?`` (None allowed).

    "N T D"   a float array, one positive size per letter (float arguments share a dtype and backend)
    "D 4H"    an axis 4 times a letter;  "Hq+Hk": the sum of two letters;  "2": exactly 2
    "... D"   any leading axes, the same for every argument that has them ("..." alone: any shape)
    "N S bool"        a bool mask, True = real token (it may stay on the host: the op copies it)
    "N int<V"         integer ids in [0, V); "int<V|ignore_index": or equal to that argument
    "... D shape"     a shape tuple (a cache's record of its input's shape)
    "number", "id"    a finite Python real; a Python int
    Cache(LSTMCache, x="N T D")   an instance of that NamedTuple, with specs for some fields

Inside an op, the ops it calls are not checked again; inside :func:`unchecked` (the model's
``loss``, ``loss_and_grads``, ``greedy`` and ``beam``) nothing is, and the model checks its
batch once, at its boundary. The machinery is in :mod:`minatt.specs`.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from minatt.specs import Cache, Signature, Spec, as_spec, compile_axes, spec_text

__all__ = ["Cache", "Contract", "checking", "contract", "unchecked"]

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
        self.specs = {name: as_spec(spec) for name, spec in specs.items()}
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
        lead, axes = compile_axes(spec.axes)
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
        return ", ".join(f"{name}={spec_text(spec)!r}" for name, spec in self.specs.items())


def contract(**specs: str | Cache) -> Callable[[Callable], Callable]:
    """Declare an op's argument specs (see the module docstring); calls from user code are checked.

    The op keeps its name, signature and docstring (with the contract appended); ``op.contract``
    is the compiled :class:`Contract`. While an op checks and runs, the ops it calls are not
    checked again; inside :func:`unchecked` nothing is.
    """
    for spec in specs.values():
        as_spec(spec)  # a malformed spec fails here, at the decorator's line

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
