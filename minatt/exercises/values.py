"""Comparing a learner's outputs with the library's: forwards (values) and search loops (tokens).

Each function returns, per reported name, a row ``{"status", "err", "detail"}`` for one input
set, as the gradient check does (:mod:`minatt.exercises.check` gathers the rows over input sets).
"""

from __future__ import annotations

from typing import Any

import numpy

from minatt.backend import to_numpy
from minatt.exercises.feedback import kind_of_mistake
from minatt.exercises.spec import VALUE_TOL, Trial
from minatt.gradcheck import rel_error

__all__ = ["VALUE_TOL", "as_host", "compare_output", "compare_tokens"]



def as_host(a: Any) -> numpy.ndarray | None:
    """a as a host float64 array, or None when it is not an array of numbers."""
    try:
        return numpy.asarray(to_numpy(a), dtype=numpy.float64)
    except (TypeError, ValueError):
        return None


def _row_note(index: tuple, padded: numpy.ndarray | None) -> str:
    """What is special about the row (last axis) holding ``index``: all padding, or one real position."""
    if padded is None:
        return ""
    row = padded[index[:-1]]
    if row.all():
        return " (a row with no real position: it must be all zeros; 0 / 0 gives NaN)"
    if padded[index]:
        return " (a masked position: it must be exactly 0)"
    return ""


def compare_output(name: str, yours: Any, expected: Any, trial: Trial, padded: numpy.ndarray | None,
                   tol: float = VALUE_TOL) -> dict:
    """One output against the library's: shape, NaN/inf, then the largest relative error (passing: <= tol)."""
    want = numpy.asarray(to_numpy(expected), dtype=numpy.float64)
    host = None if yours is None else as_host(yours)
    if host is None:
        what = "None" if yours is None else f"a {type(yours).__name__}, not an array of numbers"
        return {"status": "wrong_shape", "err": None, "detail": f"got {what}; expected shape {want.shape}"}
    if host.shape != want.shape:
        return {"status": "wrong_shape", "err": None,
                "detail": f"got shape {host.shape}, expected {want.shape} (inputs {trial.label()})"}
    bad = ~numpy.isfinite(host)
    if bad.any():
        index = tuple(int(i) for i in numpy.argwhere(bad)[0])
        note = _row_note(index, padded)
        big = max(float(numpy.abs(as_host(v)).max()) for v in trial.params.values())
        if not note and big > 50:
            note = f" (the inputs reach {big:.0f}: exp overflows unless you subtract the row's maximum first)"
        return {"status": "fail", "err": float("inf"),
                "detail": f"{host[index]} at {name}{list(index)}, expected {want[index]:.6g}{note}; "
                          f"inputs {trial.label()}"}
    errors = rel_error(host, want)
    index = tuple(int(i) for i in numpy.unravel_index(int(numpy.argmax(errors)), errors.shape))
    err = float(errors[index]) if errors.size else 0.0
    if err <= tol:
        return {"status": "pass", "err": err, "detail": ""}
    note = _row_note(index, padded) if host[index] != 0 or want[index] != 0 else ""
    kind = kind_of_mistake(host, want, padded if padded is not None and padded.shape == host.shape else None,
                           tol, "output")
    return {"status": "fail", "err": err,
            "detail": (f"{kind}; " if kind else "") + f"worst at {name}{list(index)}: yours {host[index]:.6g}, "
                      f"expected {want[index]:.6g}{note}; inputs {trial.label()}"}


def compare_tokens(yours: Any, expected: Any, trial: Trial, pad: int, eos: int) -> dict:
    """Decoded tokens (N, L) against the library's: equal, or where the first difference is."""
    want = numpy.asarray(expected, dtype=numpy.int64)
    try:
        host = numpy.asarray(to_numpy(yours))
        ok = host.dtype.kind in "iu" or (host.dtype.kind == "f" and numpy.array_equal(host, numpy.round(host)))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        return {"status": "wrong_shape", "err": None,
                "detail": f"got {type(yours).__name__}; expected integer tokens of shape {want.shape}"}
    if host.ndim != 2 or host.shape[0] != want.shape[0]:
        return {"status": "wrong_shape", "err": None,
                "detail": f"got shape {host.shape}, expected {want.shape} (N, L) ({trial.label()})"}
    L = min(host.shape[1], want.shape[1])
    diff = numpy.argwhere(host[:, :L] != want[:, :L])
    if diff.size == 0 and host.shape == want.shape:
        return {"status": "pass", "err": None, "detail": ""}  # tokens are equal or not: no error size
    names = {pad: " (PAD)", eos: " (EOS)"}
    if diff.size == 0:
        detail = (f"you decoded {host.shape[1]} steps, expected {want.shape[1]}: stop as soon as every "
                  f"sequence has produced EOS, or after max_len steps")
    else:
        n, t = (int(i) for i in diff[0])
        y, w = int(host[n, t]), int(want[n, t])
        detail = (f"sequence {n} first differs at step {t}: yours {y}{names.get(y, '')}, expected "
                  f"{w}{names.get(w, '')}; expected row {want[n].tolist()}, yours {host[n].tolist()}")
        if w == pad and eos in want[n, :t]:
            detail += " (after EOS every token is PAD)"
    return {"status": "fail", "err": None, "detail": f"{detail}; {trial.label()}"}
