"""Gradient-check cases for softmax, the five attention scores (and their halves) and attention itself.

Every case draws small random shapes from the rng it is given. Masks always hold a fully
masked row, a length-1 row and a full-length row, so the checks cover the padding paths.
The ops are looked up on their modules at call time (``score_ops.dot_score_backward``), so a
test can swap in a deliberately broken backward and watch the check fail.
"""

from __future__ import annotations

from typing import Any

import numpy

from minatt.backend import randn
from minatt.gradcheck.checker import Case, project, register
from minatt.ops import attention as attention_ops
from minatt.ops import scores as score_ops
from minatt.ops import softmax as softmax_ops
from minatt.ops.masks import padding_mask


def _size(rng: numpy.random.Generator, low: int, high: int) -> int:
    """A random size in [low, high]."""
    return int(rng.integers(low, high + 1))


def op_case(module: Any, op: str, params: dict[str, Any], rng: numpy.random.Generator, **kwargs: Any) -> Case:
    """A case for a one-output op: loss = sum(out * dout), grads = op_backward(dout) named like params.

    ``params`` must be in the order of the forward's arguments; ``kwargs`` (masks) are passed
    through unchanged and are not differentiated.
    """
    names = list(params)

    def forward(p: dict[str, Any]) -> tuple[Any, Any]:
        return getattr(module, f"{op}_forward")(*(p[k] for k in names), **kwargs)

    out, _ = forward(params)
    dout = randn(rng, tuple(out.shape))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        out, cache = forward(p)
        grads = getattr(module, f"{op}_backward")(dout, cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        return project(out, dout), dict(zip(names, grads, strict=True))

    return Case(fn, params)


@register("softmax")
def softmax_case(rng: numpy.random.Generator) -> Case:
    """softmax over the last axis of a 3-D x (N, T, S), no mask."""
    shape = (_size(rng, 1, 3), _size(rng, 1, 3), _size(rng, 2, 5))
    return op_case(softmax_ops, "softmax", {"x": randn(rng, shape, 2.0)}, rng)


@register("softmax_masked")
def softmax_masked_case(rng: numpy.random.Generator) -> Case:
    """softmax of x (N, S) with a padding mask (a fully masked row and a length-1 row)."""
    N, S = _size(rng, 3, 5), _size(rng, 2, 6)
    mask = padding_mask(rng, N, S, (0, 1, S))  # row 0 fully padded, row 1 length 1, row 2 full
    return op_case(softmax_ops, "softmax", {"x": randn(rng, (N, S), 2.0)}, rng, mask=mask)


def _query_keys(rng: numpy.random.Generator, Hq: int, Hk: int) -> dict[str, Any]:
    N, S = _size(rng, 1, 4), _size(rng, 1, 5)
    return {"q": randn(rng, (N, Hq)), "keys": randn(rng, (N, S, Hk))}


@register("dot_score")
def dot_score_case(rng: numpy.random.Generator) -> Case:
    """dot score: q (N, H), keys (N, S, H)."""
    H = _size(rng, 1, 4)
    return op_case(score_ops, "dot_score", _query_keys(rng, H, H), rng)


@register("scaled_dot_score")
def scaled_dot_score_case(rng: numpy.random.Generator) -> Case:
    """scaled dot score: q (N, H), keys (N, S, H)."""
    H = _size(rng, 1, 4)
    return op_case(score_ops, "scaled_dot_score", _query_keys(rng, H, H), rng)


@register("general_keys")
def general_keys_case(rng: numpy.random.Generator) -> Case:
    """general key projection: keys (N, S, Hk), Wa (Hq, Hk)."""
    N, S, Hq, Hk = _size(rng, 1, 4), _size(rng, 1, 5), _size(rng, 1, 4), _size(rng, 1, 4)
    params = {"keys": randn(rng, (N, S, Hk)), "Wa": randn(rng, (Hq, Hk), 0.5)}
    return op_case(score_ops, "general_keys", params, rng)


@register("general_score")
def general_score_case(rng: numpy.random.Generator, Hq: int | None = None, Hk: int | None = None) -> Case:
    """general score: q (N, Hq), keys (N, S, Hk), Wa (Hq, Hk); sizes random unless given."""
    Hq = Hq or _size(rng, 1, 4)
    Hk = Hk or _size(rng, 1, 4)
    params = _query_keys(rng, Hq, Hk)
    params["Wa"] = randn(rng, (Hq, Hk), 0.5)
    return op_case(score_ops, "general_score", params, rng)


@register("concat_score")
def concat_score_case(rng: numpy.random.Generator, Hq: int | None = None, Hk: int | None = None) -> Case:
    """concat score: q (N, Hq), keys (N, S, Hk), Wa (Hq + Hk, A), v (A,)."""
    Hq = Hq or _size(rng, 1, 4)
    Hk = Hk or _size(rng, 1, 4)
    A = _size(rng, 1, 4)
    params = _query_keys(rng, Hq, Hk)
    params.update(Wa=randn(rng, (Hq + Hk, A), 0.5), v=randn(rng, (A,)))
    return op_case(score_ops, "concat_score", params, rng)


@register("additive_score")
def additive_score_case(rng: numpy.random.Generator) -> Case:
    """additive score: q (N, Hq), keys (N, S, Hk), Wq (Hq, A), Wk (Hk, A), v (A,)."""
    Hq, Hk, A = _size(rng, 1, 4), _size(rng, 1, 4), _size(rng, 1, 4)
    params = _query_keys(rng, Hq, Hk)
    params.update(Wq=randn(rng, (Hq, A), 0.5), Wk=randn(rng, (Hk, A), 0.5), v=randn(rng, (A,)))
    return op_case(score_ops, "additive_score", params, rng)


@register("additive_keys")
def additive_keys_case(rng: numpy.random.Generator) -> Case:
    """additive key projection: keys (N, S, Hk), Wk (Hk, A)."""
    N, S, Hk, A = _size(rng, 1, 4), _size(rng, 1, 5), _size(rng, 1, 4), _size(rng, 1, 4)
    params = {"keys": randn(rng, (N, S, Hk)), "Wk": randn(rng, (Hk, A), 0.5)}
    return op_case(score_ops, "additive_keys", params, rng)


@register("additive_score_projected")
def additive_score_projected_case(rng: numpy.random.Generator) -> Case:
    """additive score on projected keys: q (N, Hq), kproj (N, S, A), Wq (Hq, A), v (A,)."""
    N, S, Hq, A = _size(rng, 1, 4), _size(rng, 1, 5), _size(rng, 1, 4), _size(rng, 1, 4)
    params = {"q": randn(rng, (N, Hq)), "kproj": randn(rng, (N, S, A)),
              "Wq": randn(rng, (Hq, A), 0.5), "v": randn(rng, (A,))}
    return op_case(score_ops, "additive_score_projected", params, rng)


@register("attention")
def attention_case(rng: numpy.random.Generator) -> Case:
    """attention: scores (N, S), values (N, S, Hv), padding mask; both outputs (context, weights) used."""
    N, S, Hv = _size(rng, 3, 5), _size(rng, 2, 5), _size(rng, 1, 4)
    mask = padding_mask(rng, N, S, (0, 1, S))  # row 0 fully padded, row 1 length 1, row 2 full
    params = {"scores": randn(rng, (N, S), 2.0), "values": randn(rng, (N, S, Hv))}
    dcontext, dweights = randn(rng, (N, Hv)), randn(rng, (N, S))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        context, weights, cache = attention_ops.attention_forward(p["scores"], p["values"], mask)
        dscores, dvalues = attention_ops.attention_backward(dcontext, dweights, cache)
        return project((context, weights), (dcontext, dweights)), {"scores": dscores, "values": dvalues}

    return Case(fn, params)


@register("concat_keys")
def concat_keys_case(rng: numpy.random.Generator) -> Case:
    """concat key projection: keys (N, S, Hk), Wa (Hq + Hk, A)."""
    N, S, Hq, Hk, A = (_size(rng, 1, 4), _size(rng, 1, 5), _size(rng, 1, 4), _size(rng, 1, 4),
                       _size(rng, 1, 4))
    params = {"keys": randn(rng, (N, S, Hk)), "Wa": randn(rng, (Hq + Hk, A), 0.5)}
    return op_case(score_ops, "concat_keys", params, rng)


@register("concat_score_projected")
def concat_score_projected_case(rng: numpy.random.Generator) -> Case:
    """concat score on projected keys: q (N, Hq), kproj (N, S, A), Wa (Hq + Hk, A), v (A,)."""
    N, S, Hq, Hk, A = (_size(rng, 1, 4), _size(rng, 1, 5), _size(rng, 1, 4), _size(rng, 1, 4),
                       _size(rng, 1, 4))
    params = {"q": randn(rng, (N, Hq)), "kproj": randn(rng, (N, S, A)),
              "Wa": randn(rng, (Hq + Hk, A), 0.5), "v": randn(rng, (A,))}
    return op_case(score_ops, "concat_score_projected", params, rng)
