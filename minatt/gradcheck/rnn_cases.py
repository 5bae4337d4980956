"""Gradient-check cases for the recurrent cells: the tanh RNN step, LSTM and GRU, one step and whole sequences.

Each factory draws small random shapes from the rng it is given (any of them can be fixed by
keyword, e.g. ``D=H`` for a square-weight test) and returns a :class:`~minatt.gradcheck.Case`
whose loss projects every output (hs and the final states) on fixed random douts. Sequence
cases use a right-padded mask with different lengths that always includes a full row, a fully
padded row and a length-1 row. The ops are looked up on their modules at call time, so a test
can plant a bug in them with ``monkeypatch``.
"""

from __future__ import annotations

from typing import Any

import numpy

import minatt.ops.gru as gru_ops
import minatt.ops.lstm as lstm_ops
import minatt.ops.rnn as rnn_ops
from minatt.backend import asarray, randn
from minatt.gradcheck.checker import Case, project, register
from minatt.ops.masks import padding_mask


def _dims(rng: numpy.random.Generator, **fixed: int | None) -> dict[str, int]:
    """Random small sizes for the given names, except those fixed by keyword."""
    low = {"N": 3, "T": 2}
    return {k: int(v) if v is not None else int(rng.integers(low.get(k, 2), 5)) for k, v in fixed.items()}


def _weights(rng: numpy.random.Generator, D: int, H: int, gates: int) -> dict[str, Any]:
    return {"Wx": randn(rng, (D, gates * H), D ** -0.5), "Wh": randn(rng, (H, gates * H), H ** -0.5)}


@register("rnn_step")
def rnn_step_case(rng: numpy.random.Generator, N: int | None = None, D: int | None = None,
                  H: int | None = None) -> Case:
    """rnn_step_forward/backward (the plain tanh RNN): loss = h_next . dh_next."""
    n = _dims(rng, N=N, D=D, H=H)
    N, D, H = n["N"], n["D"], n["H"]
    params = {"x": randn(rng, (N, D)), "h_prev": randn(rng, (N, H), 0.5), **_weights(rng, D, H, 1),
              "b": randn(rng, (H,), 0.5)}
    dh_next = randn(rng, (N, H))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        h_next, cache = rnn_ops.rnn_step_forward(p["x"], p["h_prev"], p["Wx"], p["Wh"], p["b"])
        grads = rnn_ops.rnn_step_backward(dh_next, cache)
        return project(h_next, dh_next), dict(zip(("x", "h_prev", "Wx", "Wh", "b"), grads, strict=True))

    return Case(fn, params)


@register("lstm_step")
def lstm_step_case(rng: numpy.random.Generator, N: int | None = None, D: int | None = None,
                   H: int | None = None) -> Case:
    """lstm_step_forward/backward: loss = h_next . dh_next + c_next . dc_next."""
    n = _dims(rng, N=N, D=D, H=H)
    N, D, H = n["N"], n["D"], n["H"]
    params = {"x": randn(rng, (N, D)), "h_prev": randn(rng, (N, H), 0.5), "c_prev": randn(rng, (N, H), 0.5),
              **_weights(rng, D, H, 4), "b": randn(rng, (4 * H,), 0.5)}
    dh_next, dc_next = randn(rng, (N, H)), randn(rng, (N, H))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        h_next, c_next, cache = lstm_ops.lstm_step_forward(p["x"], p["h_prev"], p["c_prev"], p["Wx"], p["Wh"], p["b"])
        grads = lstm_ops.lstm_step_backward(dh_next, dc_next, cache)
        return (project((h_next, c_next), (dh_next, dc_next)),
                dict(zip(("x", "h_prev", "c_prev", "Wx", "Wh", "b"), grads, strict=True)))

    return Case(fn, params)


@register("lstm")
def lstm_case(rng: numpy.random.Generator, N: int | None = None, T: int | None = None, D: int | None = None,
              H: int | None = None, mask: Any = None) -> Case:
    """lstm_forward/backward with a padding mask: loss = hs . dhs + hT . dhT + cT . dcT."""
    n = _dims(rng, N=N, T=T, D=D, H=H)
    N, T, D, H = n["N"], n["T"], n["D"], n["H"]
    mask = padding_mask(rng, N, T, (T, 0, 1), shuffle=True) if mask is None else asarray(mask)
    params = {"x": randn(rng, (N, T, D)), "h0": randn(rng, (N, H), 0.5), "c0": randn(rng, (N, H), 0.5),
              **_weights(rng, D, H, 4), "b": randn(rng, (4 * H,), 0.5)}
    dhs, dhT, dcT = randn(rng, (N, T, H)), randn(rng, (N, H)), randn(rng, (N, H))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        hs, (hT, cT), cache = lstm_ops.lstm_forward(p["x"], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"], mask)
        grads = lstm_ops.lstm_backward(dhs, dhT, dcT, cache)
        return project((hs, hT, cT), (dhs, dhT, dcT)), dict(zip(("x", "h0", "c0", "Wx", "Wh", "b"), grads, strict=True))

    return Case(fn, params)


@register("gru_step")
def gru_step_case(rng: numpy.random.Generator, N: int | None = None, D: int | None = None,
                  H: int | None = None) -> Case:
    """gru_step_forward/backward: loss = h_next . dh_next."""
    n = _dims(rng, N=N, D=D, H=H)
    N, D, H = n["N"], n["D"], n["H"]
    params = {"x": randn(rng, (N, D)), "h_prev": randn(rng, (N, H), 0.5), **_weights(rng, D, H, 3),
              "bx": randn(rng, (3 * H,), 0.5), "bh": randn(rng, (3 * H,), 0.5)}
    dh_next = randn(rng, (N, H))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        h_next, cache = gru_ops.gru_step_forward(p["x"], p["h_prev"], p["Wx"], p["Wh"], p["bx"], p["bh"])
        grads = gru_ops.gru_step_backward(dh_next, cache)
        return project(h_next, dh_next), dict(zip(("x", "h_prev", "Wx", "Wh", "bx", "bh"), grads, strict=True))

    return Case(fn, params)


@register("gru")
def gru_case(rng: numpy.random.Generator, N: int | None = None, T: int | None = None, D: int | None = None,
             H: int | None = None, mask: Any = None) -> Case:
    """gru_forward/backward with a padding mask: loss = hs . dhs + hT . dhT."""
    n = _dims(rng, N=N, T=T, D=D, H=H)
    N, T, D, H = n["N"], n["T"], n["D"], n["H"]
    mask = padding_mask(rng, N, T, (T, 0, 1), shuffle=True) if mask is None else asarray(mask)
    params = {"x": randn(rng, (N, T, D)), "h0": randn(rng, (N, H), 0.5), **_weights(rng, D, H, 3),
              "bx": randn(rng, (3 * H,), 0.5), "bh": randn(rng, (3 * H,), 0.5)}
    dhs, dhT = randn(rng, (N, T, H)), randn(rng, (N, H))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        hs, hT, cache = gru_ops.gru_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["bx"], p["bh"], mask)
        grads = gru_ops.gru_backward(dhs, dhT, cache)
        return project((hs, hT), (dhs, dhT)), dict(zip(("x", "h0", "Wx", "Wh", "bx", "bh"), grads, strict=True))

    return Case(fn, params)


@register("lstm_cell")
def lstm_cell_case(rng: numpy.random.Generator, N: int | None = None, H: int | None = None) -> Case:
    """lstm_cell_forward/backward (the cell without its matmuls): loss = h_next . dh_next + c_next . dc_next."""
    n = _dims(rng, N=N, H=H)
    N, H = n["N"], n["H"]
    params = {"a": randn(rng, (N, 4 * H)), "c_prev": randn(rng, (N, H), 0.5)}
    dh_next, dc_next = randn(rng, (N, H)), randn(rng, (N, H))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        h_next, c_next, cache = lstm_ops.lstm_cell_forward(p["a"], p["c_prev"])
        da, dc_prev = lstm_ops.lstm_cell_backward(dh_next, dc_next, cache)
        return project((h_next, c_next), (dh_next, dc_next)), {"a": da, "c_prev": dc_prev}

    return Case(fn, params)


@register("gru_cell")
def gru_cell_case(rng: numpy.random.Generator, N: int | None = None, H: int | None = None) -> Case:
    """gru_cell_forward/backward (the cell without its matmuls): loss = h_next . dh_next."""
    n = _dims(rng, N=N, H=H)
    N, H = n["N"], n["H"]
    params = {"ax": randn(rng, (N, 3 * H)), "ah": randn(rng, (N, 3 * H)), "h_prev": randn(rng, (N, H), 0.5)}
    dh_next = randn(rng, (N, H))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        h_next, cache = gru_ops.gru_cell_forward(p["ax"], p["ah"], p["h_prev"])
        dax, dah, dh_direct = gru_ops.gru_cell_backward(dh_next, cache)
        return project(h_next, dh_next), {"ax": dax, "ah": dah, "h_prev": dh_direct}

    return Case(fn, params)
