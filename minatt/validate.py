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

    @contract(cache=Cache(LSTMCache, x="N T D", Wh="H 4H"), dhs="N T H", dhT="N H?", dcT="N H?")
    def lstm_backward(dhs, dhT, dcT, cache): ...

Every array argument must live on one backend (no NumPy array among CuPy ones), and every
named size must be positive: an empty batch (N = 0) and zero-length sequences (T = 0, S = 0)
get their own messages. A check reads only ``.shape``, ``.dtype`` and the array's type, with
one exception: ``int<V`` needs a min/max over the ids (on a GPU, a wait for the device).

When checks run: on every call from user code (lessons, exercises, experiments, your own
scripts), about ten microseconds per call. Inside a checked op the nested op calls are not
checked again, and the model enters :func:`unchecked` once per batch (``Seq2Seq.loss``,
``loss_and_grads``, ``greedy``, ``beam``), so in its time loops an op call pays one flag read
(0.1 to 0.3 microseconds more than a plain call, measured; a few hundred op calls make a
training step) and no checks; the model validates its own inputs once, at its boundary. The
parsing and checking machinery is in :mod:`minatt.specs`.

Why not jaxtyping with beartype (``Float[ndarray, "D M"]`` annotations)? Tried (0.3.11 and
0.23.1) on ``affine_forward``: its error is a nine-line TypeCheckError that shows the axis
values (D=3) but not which argument fixed them; it has no rule for mixed NumPy/CuPy arguments,
ids outside the vocabulary or empty batches; a checked call took about 75 microseconds against
about 20 here, on the same (busy) machine; and it is switched off for the whole process, not
for one block of code such as a training step. Two dependencies for less than this file does.
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
