"""The input sets each exercise is checked on: small random float64 arrays, several shapes,
padding masks where the op takes one (with a row of one real position, and one of none).

Every function takes the checker's random generator and returns a list of :class:`Trial`.
"""

from __future__ import annotations

from typing import Any

import numpy

from minatt.backend import randn
from minatt.exercises.spec import Trial

Array = Any


def _inputs(rng: numpy.random.Generator, **shapes: tuple) -> dict[str, Array]:
    """Random float64 inputs: name=(shape, scale) -> array on the current backend."""
    return {k: randn(rng, shape, scale) for k, (shape, scale) in shapes.items()}


def _mask(lengths: tuple[int, ...], S: int) -> Array:
    """(N, S) bool, True on the first lengths[n] positions of row n."""
    return numpy.arange(S)[None, :] < numpy.asarray(lengths)[:, None]  # (N, S)


def affine(rng: numpy.random.Generator) -> list[Trial]:
    sizes = [((5,), 2, 3), ((2, 3), 4, 4), ((1,), 3, 1)]
    return [Trial(_inputs(rng, x=((*lead, D), 1.0), W=((D, M), 0.5), b=((M,), 1.0))) for lead, D, M in sizes]


def _padded(mask: Array | None, shape: tuple) -> numpy.ndarray:
    """Host bool (shape), True at padding: a (N, S) or (N, T) mask broadcast over the trailing axes."""
    if mask is None:
        return numpy.zeros(shape, dtype=bool)
    pad = ~numpy.asarray(mask, dtype=bool)
    pad = pad.reshape(pad.shape + (1,) * (len(shape) - pad.ndim))
    return numpy.broadcast_to(pad, shape).copy()


def _softmax_inputs(rng: numpy.random.Generator, scale: float = 2.0) -> list[tuple[Array, Array | None]]:
    mask3 = numpy.arange(4)[None, None, :] < numpy.array([[0, 1, 4], [2, 3, 1]])[:, :, None]  # (2, 3, 4)
    return [
        (randn(rng, (3, 5), scale), None),
        (randn(rng, (4, 6), scale), _mask((0, 1, 6, 3), 6)),
        (randn(rng, (2, 3, 4), scale), mask3),
    ]


def softmax(rng: numpy.random.Generator) -> list[Trial]:
    return [Trial({"x": x}, {"mask": m}, padded={"x": _padded(m, x.shape)}) for x, m in _softmax_inputs(rng)]


def masked_softmax(rng: numpy.random.Generator) -> list[Trial]:
    """softmax's input sets, and one of large scores (exp overflows unless the row max is subtracted)."""
    trials = softmax(rng)
    big = randn(rng, (3, 4), 400.0)
    big[:, 0] = 800.0
    trials.append(Trial({"x": big}, {"mask": _mask((4, 2, 0), 4)}, padded={"x": _padded(_mask((4, 2, 0), 4), (3, 4))}))
    return trials


def lstm_step(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for N, D, H in [(3, 4, 2), (1, 2, 3), (2, 3, 3)]:
        out.append(Trial(_inputs(rng, x=((N, D), 1.0), h_prev=((N, H), 1.0), c_prev=((N, H), 1.0),
                                 Wx=((D, 4 * H), 0.5), Wh=((H, 4 * H), 0.5), b=((4 * H,), 0.5))))
    return out


def gru_step(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for N, D, H in [(3, 4, 2), (1, 2, 3), (2, 3, 3)]:
        out.append(Trial(_inputs(rng, x=((N, D), 1.0), h_prev=((N, H), 1.0), Wx=((D, 3 * H), 0.5),
                                 Wh=((H, 3 * H), 0.5), bx=((3 * H,), 0.5), bh=((3 * H,), 0.5))))
    return out


def gru_bptt(rng: numpy.random.Generator) -> list[Trial]:
    """Masked sequences (a row with one real step), once without a mask and dhT = None."""
    out = []
    for (N, T, D, H), lengths, none_douts in [((3, 4, 3, 2), (4, 2, 1), ()), ((2, 3, 2, 3), None, (1,)),
                                             ((4, 5, 2, 2), (5, 3, 1, 2), ())]:
        mask = None if lengths is None else _mask(lengths, T)
        params = _inputs(rng, x=((N, T, D), 1.0), h0=((N, H), 1.0), Wx=((D, 3 * H), 0.5), Wh=((H, 3 * H), 0.5),
                         bx=((3 * H,), 0.5), bh=((3 * H,), 0.5))
        out.append(Trial(params, {"mask": mask}, none_douts=none_douts, padded={"x": _padded(mask, (N, T, D))}))
    return out


def rnn_step(rng: numpy.random.Generator) -> list[Trial]:
    return [Trial(_inputs(rng, x=((N, D), 1.0), h_prev=((N, H), 1.0), Wx=((D, H), 0.5), Wh=((H, H), 0.5),
                          b=((H,), 0.5))) for N, D, H in [(3, 4, 2), (1, 2, 3), (2, 3, 3)]]


def rnn_sequence(rng: numpy.random.Generator) -> list[Trial]:
    return [Trial(_inputs(rng, x=((N, T, D), 1.0), h0=((N, H), 1.0), Wx=((D, H), 0.5), Wh=((H, H), 0.5),
                          b=((H,), 0.5))) for N, T, D, H in [(2, 4, 3, 2), (1, 1, 2, 3), (3, 3, 2, 3)]]


def bidirectional(rng: numpy.random.Generator) -> list[Trial]:
    """Rows of different lengths (one of a single position), and once with none padded."""
    out = []
    for (N, S, D, H), lengths in [((3, 4, 2, 2), (4, 1, 3)), ((2, 3, 3, 2), (3, 3))]:
        mask = _mask(lengths, S)
        params = _inputs(rng, x=((N, S, D), 1.0), Wx_f=((D, 4 * H), 0.5), Wh_f=((H, 4 * H), 0.5),
                         b_f=((4 * H,), 0.5), Wx_b=((D, 4 * H), 0.5), Wh_b=((H, 4 * H), 0.5), b_b=((4 * H,), 0.5))
        out.append(Trial(params, {"mask": mask}, padded={"x": _padded(mask, (N, S, D))}))
    return out


def adam(rng: numpy.random.Generator) -> list[Trial]:
    """The first step (t = 1, zero moments), a later one, and one with other hyperparameters."""
    out = []
    for shape, t, zero, kwargs in [((3, 2), 1, True, {}), ((4,), 7, False, {}),
                                   ((2, 3), 3, False, {"lr": 0.1, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3})]:
        m = numpy.zeros(shape) if zero else randn(rng, shape, 0.1)
        v = numpy.zeros(shape) if zero else numpy.abs(randn(rng, shape, 0.1))
        out.append(Trial({"p": randn(rng, shape, 1.0), "g": randn(rng, shape, 1.0), "m": m, "v": v},
                         {"t": t, **kwargs}))
    return out


def clip_grad_norm(rng: numpy.random.Generator) -> list[Trial]:
    """Gradients whose global norm is above max_norm, below it, and max_norm None (measure only)."""
    out = []
    for shapes, scale, max_norm in [([(3, 2), (4,)], 2.0, 1.0), ([(2, 2), (3,), (1,)], 0.1, 5.0),
                                    ([(5,)], 3.0, None)]:
        grads = {f"g{k}": randn(rng, s, scale) for k, s in enumerate(shapes)}
        out.append(Trial(grads, {"max_norm": max_norm}))
    return out


def additive_score(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for N, S, Hq, Hk, A in [(3, 4, 2, 3, 5), (1, 1, 2, 2, 2), (2, 3, 3, 3, 3)]:
        out.append(Trial(_inputs(rng, q=((N, Hq), 1.0), keys=((N, S, Hk), 1.0), Wq=((Hq, A), 0.5),
                                 Wk=((Hk, A), 0.5), v=((A,), 1.0))))
    return out


def general_score(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for N, S, Hq, Hk in [(3, 4, 2, 5), (1, 1, 3, 3), (2, 3, 3, 3)]:
        out.append(Trial(_inputs(rng, q=((N, Hq), 1.0), keys=((N, S, Hk), 1.0), Wa=((Hq, Hk), 0.5))))
    return out


def attention(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for (N, S, Hv), lengths, none_douts in [((3, 4, 2), (0, 1, 4), ()), ((2, 3, 3), None, (1,)),
                                             ((4, 5, 1), (5, 2, 0, 1), ())]:
        mask = None if lengths is None else _mask(lengths, S)
        params = _inputs(rng, scores=((N, S), 2.0), values=((N, S, Hv), 1.0))
        padded = {"scores": _padded(mask, (N, S)), "values": _padded(mask, (N, S, Hv))}
        out.append(Trial(params, {"mask": mask}, none_douts=none_douts, padded=padded))
    return out


def lstm_cell(rng: numpy.random.Generator) -> list[Trial]:
    return [Trial(_inputs(rng, a=((N, 4 * H), 1.5), c_prev=((N, H), 1.0))) for N, H in [(3, 2), (1, 3), (2, 3)]]


def lstm_bptt(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for (N, T, D, H), lengths, none_douts in [((3, 4, 3, 2), (4, 2, 1), ()), ((2, 3, 2, 3), None, (1, 2)),
                                             ((4, 5, 2, 2), (5, 3, 1, 2), ())]:
        mask = None if lengths is None else _mask(lengths, T)
        params = _inputs(rng, x=((N, T, D), 1.0), h0=((N, H), 1.0), c0=((N, H), 1.0), Wx=((D, 4 * H), 0.5),
                         Wh=((H, 4 * H), 0.5), b=((4 * H,), 0.5))
        out.append(Trial(params, {"mask": mask}, none_douts=none_douts, padded={"x": _padded(mask, (N, T, D))}))
    return out


def embedding(rng: numpy.random.Generator) -> list[Trial]:
    ids = [numpy.array([[1, 1, 3], [0, 1, 4]]), numpy.array([2, 2, 2, 0]), rng.integers(0, 6, size=(2, 2, 3))]
    return [Trial(_inputs(rng, W=((V, D), 1.0)), {"ids": i}) for i, V, D in zip(ids, (5, 4, 6), (3, 2, 4))]


def cross_entropy(rng: numpy.random.Generator) -> list[Trial]:
    """Logits (N, T, V) over time; targets padded with 0 after each row's length (ignore_index 0)."""
    out = []
    for (N, T, V), lengths in [((2, 4, 5), (4, 2)), ((3, 2, 4), None), ((3, 3, 3), (3, 0, 1))]:
        targets = rng.integers(1, V, size=(N, T))
        if lengths is not None:
            targets = numpy.where(_mask(lengths, T), targets, 0)
        logits = randn(rng, (N, T, V), 2.0)
        padded = numpy.broadcast_to((targets == 0)[:, :, None], (N, T, V)).copy()
        out.append(Trial({"logits": logits}, {"targets": targets, "ignore_index": 0 if lengths else None},
                         padded={"logits": padded}))
    return out


def bahdanau_step(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for (N, S, E, H, K, A), lengths in [((3, 4, 2, 3, 2, 2), (4, 1, 2)), ((2, 3, 3, 2, 3, 2), None)]:
        mask = None if lengths is None else _mask(lengths, S)
        params = _inputs(rng, y_emb=((N, E), 1.0), s_prev=((N, H), 1.0), c_prev=((N, H), 1.0),
                         keys=((N, S, K), 1.0), Wq=((H, A), 0.5), Wk=((K, A), 0.5), v=((A,), 1.0),
                         Wx=((E + K, 4 * H), 0.5), Wh=((H, 4 * H), 0.5), b=((4 * H,), 0.5))
        out.append(Trial(params, {"mask": mask}, padded={"keys": _padded(mask, (N, S, K))}))
    return out


def luong_step(rng: numpy.random.Generator) -> list[Trial]:
    out = []
    for (N, S, E, H, K), lengths in [((3, 4, 2, 3, 2), (4, 1, 2)), ((2, 3, 3, 2, 3), None)]:
        mask = None if lengths is None else _mask(lengths, S)
        params = _inputs(rng, y_emb=((N, E), 1.0), h_prev=((N, H), 1.0), c_prev=((N, H), 1.0),
                         feed=((N, H), 1.0), keys=((N, S, K), 1.0), Wx=((E + H, 4 * H), 0.5),
                         Wh=((H, 4 * H), 0.5), b=((4 * H,), 0.5), Wa=((H, K), 0.5), Wc=((K + H, H), 0.5),
                         bc=((H,), 0.5))
        out.append(Trial(params, {"mask": mask}, padded={"keys": _padded(mask, (N, S, K))}))
    return out


# ---------------------------------------------------------------------------------------
# Chapter 11, the Transformer


def multihead_attention(rng: numpy.random.Generator) -> list[Trial]:
    """Cross-attention with a key padding mask (a fully padded row), and self-attention shapes, causal."""
    out = []
    for (N, T, S, D, h), lengths, causal in [((2, 3, 4, 4, 2), (4, 0), False), ((2, 3, 3, 6, 3), None, True)]:
        mask = None if lengths is None else _mask(lengths, S)
        params = _inputs(rng, xq=((N, T, D), 1.0), xkv=((N, S, D), 1.0))
        for name in "qkvo":
            params.update(_inputs(rng, **{f"W{name}": ((D, D), 0.6), f"b{name}": ((D,), 0.3)}))
        order = ["xq", "xkv", "Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"]
        out.append(Trial({k: params[k] for k in order}, {"heads": h, "mask": mask, "causal": causal},
                         none_douts=(1,), padded={"xkv": _padded(mask, (N, S, D))}))
    return out


def scaled_dot_attention(rng: numpy.random.Generator) -> list[Trial]:
    """Key padding masks with a fully padded row, once the causal mask; the weights get no gradient."""
    out = []
    for (N, T, S, K, Dv), lengths, causal in [((3, 2, 4, 3, 2), (0, 1, 4), False),
                                              ((2, 3, 3, 2, 3), None, True),
                                              ((1, 1, 2, 1, 1), (2,), False)]:
        mask = None if lengths is None else _mask(lengths, S)
        params = _inputs(rng, queries=((N, T, K), 1.5), keys=((N, S, K), 1.5), values=((N, S, Dv), 1.0))
        padded = {"keys": _padded(mask, (N, S, K)), "values": _padded(mask, (N, S, Dv))}
        out.append(Trial(params, {"mask": mask, "causal": causal}, none_douts=(1,), padded=padded))
    return out


def layer_norm(rng: numpy.random.Generator) -> list[Trial]:
    """Rows spread out (sigma >= 1): a layer norm bends on the scale of sigma, and so would the check
    (these shapes reach 1e-10 with the library's backward on seeds 0..3)."""
    out = []
    for shape in [(2, 3, 4), (4, 5), (1, 3)]:
        x = randn(rng, shape, 2.0)
        while float(x.std(axis=-1).min()) < 1.0:
            x = randn(rng, shape, 2.0)
        D = shape[-1]
        out.append(Trial({"x": x, "g": 1.0 + randn(rng, (D,), 0.5), "b": randn(rng, (D,), 1.0)}))
    return out
