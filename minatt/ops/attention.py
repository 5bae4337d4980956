"""Attention: turn scores into weights over the source positions, then average the values.

    N batch, S source steps, Hv value size.

    weights = softmax(scores, mask)                       (N, S); 0 at padded positions
    context[n] = sum_s weights[n, s] * values[n, s]       (N, Hv)

    dw      = dweights + values @ dcontext                (N, S): dw[n, s] = dweights[n, s] + values[n, s] . dcontext[n]
    dvalues = weights[:, :, None] * dcontext[:, None, :]  (N, S, Hv)
    dscores = softmax_backward(dw)                        (N, S)

A padded position has weight 0, so it adds nothing to the context and gets exactly zero
dvalues and dscores. A row with no real position at all has zero weights and a zero context.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.ops.softmax import SoftmaxCache, softmax_backward, softmax_forward
from minatt.validate import Cache, contract

Array = Any


class AttentionCache(NamedTuple):
    """What attention_backward needs: the softmax cache (the weights) and the values."""

    softmax: SoftmaxCache  # holds the weights (N, S)
    values: Array  # (N, S, Hv)


@contract(scores="N S", values="N S Hv", mask="N S bool?")
def attention_forward(
    scores: Array, values: Array, mask: Array | None = None
) -> tuple[Array, Array, AttentionCache]:
    """Masked softmax attention. N batch, S source steps, Hv value size.

    Args:
        scores: (N, S) float, e.g. from minatt.ops.scores.
        values: (N, S, Hv) float, usually the encoder outputs (the keys).
        mask:   (N, S) bool, True = real position, False = padding (optional).

    Returns:
        context (N, Hv), weights (N, S), cache.

    Math:
        weights = softmax(scores, mask);  context = weights @ values   (per batch row)
    """
    xp = array_module(scores, values)
    weights, softmax_cache = softmax_forward(scores, mask)
    context = xp.matmul(weights[:, None, :], values)[:, 0, :]  # (N, 1, Hv) -> (N, Hv)
    return context, weights, AttentionCache(softmax=softmax_cache, values=values)


@contract(cache=Cache(AttentionCache, values="N S Hv"), dcontext="N Hv", dweights="N S?")
def attention_backward(
    dcontext: Array, dweights: Array | None, cache: AttentionCache
) -> tuple[Array, Array]:
    """Backward of attention_forward. dcontext (N, Hv), dweights (N, S) or None (= zero).

    Returns dscores (N, S) and dvalues (N, S, Hv); both exactly 0 at padded positions.

    Math:
        dw = dweights + values @ dcontext;  dvalues = weights * dcontext;  dscores = softmax_backward(dw)
    """
    weights = cache.softmax.p  # (N, S)
    dvalues = weights[:, :, None] * dcontext[:, None, :]  # (N, S, Hv)
    return attention_scores_backward(dcontext, dweights, cache), dvalues


def attention_scores_backward(dcontext: Array, dweights: Array | None, cache: AttentionCache) -> Array:
    """The dscores (N, S) half of :func:`attention_backward`, without dvalues.

    A decoder attends to the same values at every step; it sums the values' gradient
    sum_t weights_t^T dcontext_t over all steps itself, in one batched matmul, instead of
    building an (N, S, Hv) outer product per step.

        dw = dweights + values @ dcontext;  dscores = softmax_backward(dw)
    """
    xp = array_module(dcontext)
    dw = xp.matmul(cache.values, dcontext[:, :, None])[:, :, 0]  # (N, S, 1) -> (N, S)
    if dweights is not None:
        dw = dw + dweights
    dscores = softmax_backward(dw, cache.softmax)  # (N, S)
    return dscores
