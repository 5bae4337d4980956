"""Gradient-check cases for the basic ops: sigmoid, tanh, affine, embedding, cross-entropy.

Each ``*_case`` builder takes the backward to check (the real one by default), so the tests can
hand the very same case a backward with a planted bug and watch the checker catch it.
The registered factories draw small random shapes from the rng they are given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy

from minatt.backend import array_module, asarray, randn
from minatt.gradcheck.checker import Case, project, register
from minatt.ops.activations import sigmoid, sigmoid_backward, tanh_backward
from minatt.ops.embedding import embedding_backward, embedding_forward
from minatt.ops.linear import affine_backward, affine_forward
from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward


def sigmoid_case(rng: numpy.random.Generator, shape: tuple[int, ...], backward: Callable = sigmoid_backward) -> Case:
    """x (*shape) spread over [-6, 6] (both tails and the middle); loss = sum(sigmoid(x) * dout)."""
    params = {"x": randn(rng, shape, 3.0)}
    dout = randn(rng, shape)

    def fn(p: dict) -> tuple[float, dict]:
        s = sigmoid(p["x"])
        return project(s, dout), {"x": backward(dout, s)}

    return Case(fn, params)


def tanh_case(rng: numpy.random.Generator, shape: tuple[int, ...], backward: Callable = tanh_backward) -> Case:
    """x (*shape); loss = sum(tanh(x) * dout)."""
    params = {"x": randn(rng, shape, 1.5)}
    dout = randn(rng, shape)

    def fn(p: dict) -> tuple[float, dict]:
        t = array_module(p["x"]).tanh(p["x"])
        return project(t, dout), {"x": backward(dout, t)}

    return Case(fn, params)


def affine_case(
    rng: numpy.random.Generator, lead: tuple[int, ...], D: int, M: int, backward: Callable = affine_backward
) -> Case:
    """x (*lead, D), W (D, M), b (M,); loss = sum(out * dout) with a fixed random dout (*lead, M)."""
    params = {"x": randn(rng, (*lead, D)), "W": randn(rng, (D, M), 0.5), "b": randn(rng, (M,))}
    dout = randn(rng, (*lead, M))

    def fn(p: dict) -> tuple[float, dict]:
        out, cache = affine_forward(p["x"], p["W"], p["b"])
        dx, dW, db = backward(dout, cache)
        return project(out, dout), {"x": dx, "W": dW, "b": db}

    return Case(fn, params)


def embedding_case(
    rng: numpy.random.Generator, lead: tuple[int, ...], V: int, D: int, backward: Callable = embedding_backward
) -> Case:
    """ids (*lead,) with id 0 repeated (given three or more ids) and row V - 1 unused, W (V, D) (V >= 2);
    loss = sum(out * dout)."""
    n_ids = int(numpy.prod(lead))
    host_ids = rng.integers(0, V - 1, size=n_ids)  # row V - 1 is never looked up: its gradient is 0
    host_ids[: min(3, n_ids)] = 0  # id 0 at least three times (when there is room): repeats must add up
    ids = asarray(rng.permutation(host_ids).reshape(lead), dtype="int64")  # (*lead,)
    params = {"W": randn(rng, (V, D))}
    dout = randn(rng, (*lead, D))

    def fn(p: dict) -> tuple[float, dict]:
        out, cache = embedding_forward(ids, p["W"])
        return project(out, dout), {"W": backward(dout, cache)}

    return Case(fn, params)


def cross_entropy_case(
    rng: numpy.random.Generator,
    lead: tuple[int, ...],
    V: int,
    ignore_index: int | None = 0,
    backward: Callable = cross_entropy_backward,
) -> Case:
    """logits (*lead, V), targets (*lead,) with some ignored; loss = c * cross_entropy, c a fixed random scalar.

    With ignore_index set, the first target is ignored and (when there are at least two) the
    last is counted, so both kinds are always present; targets are drawn from the whole vocabulary
    including the ignored id, the way PAD appears in real batches.
    """
    n_tokens = int(numpy.prod(lead))
    host_targets = rng.integers(0, V, size=n_tokens)
    if ignore_index is not None:
        host_targets[0] = ignore_index
        if n_tokens > 1 and host_targets[-1] == ignore_index:
            host_targets[-1] = (ignore_index + 1) % V
    targets = asarray(host_targets.reshape(lead), dtype="int64")  # (*lead,)
    params = {"logits": randn(rng, (*lead, V))}
    c = float(rng.uniform(0.5, 2.0))

    def fn(p: dict) -> tuple[float, dict]:
        loss, cache = cross_entropy_forward(p["logits"], targets, ignore_index)
        return c * loss, {"logits": backward(cache, c)}

    return Case(fn, params)


def _lead(rng: numpy.random.Generator) -> tuple[int, ...]:
    """Random small leading dims: (K,) or (N, T), sometimes with a length-1 axis."""
    if rng.random() < 0.5:
        return (int(rng.integers(1, 7)),)
    return int(rng.integers(1, 4)), int(rng.integers(1, 5))


@register("sigmoid")
def make_sigmoid(rng: numpy.random.Generator) -> Case:
    """sigmoid over random (K,) or (N, T) leading dims."""
    return sigmoid_case(rng, _lead(rng))


@register("tanh")
def make_tanh(rng: numpy.random.Generator) -> Case:
    """tanh over random (K,) or (N, T) leading dims."""
    return tanh_case(rng, _lead(rng))


@register("affine")
def make_affine(rng: numpy.random.Generator) -> Case:
    """affine over random (K,) or (N, T) leading dims."""
    return affine_case(rng, _lead(rng), int(rng.integers(1, 6)), int(rng.integers(1, 6)))


@register("embedding")
def make_embedding(rng: numpy.random.Generator) -> Case:
    """embedding over (N, T) ids, at least three of them, with repeated ids and an unused row."""
    lead = int(rng.integers(1, 4)), int(rng.integers(3, 6))
    return embedding_case(rng, lead, int(rng.integers(3, 8)), int(rng.integers(1, 5)))


@register("cross_entropy")
def make_cross_entropy(rng: numpy.random.Generator) -> Case:
    """cross-entropy over (N, T) tokens, at least two, with PAD = 0 ignored (some ignored, some counted)."""
    lead = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    return cross_entropy_case(rng, lead, int(rng.integers(2, 7)), ignore_index=0)
