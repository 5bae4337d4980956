"""The attention scorer: the parameters of a score function, and its two halves over a batch.

A parameter holder like those in :mod:`minatt.model.nn` (it calls :mod:`minatt.ops.scores` and does no
math of its own): the keys' half runs once per batch, the query's half at every decoder step.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import uniform
from minatt.model.nn import Grads, Module, Params, Rng, accumulate
from minatt.ops.scores import (
    additive_keys_backward,
    additive_keys_forward,
    additive_score_projected_backward,
    additive_score_projected_forward,
    concat_keys_backward,
    concat_keys_forward,
    concat_score_projected_backward,
    concat_score_projected_forward,
    dot_score_backward,
    dot_score_forward,
    general_keys_backward,
    general_keys_forward,
    scaled_dot_score_backward,
    scaled_dot_score_forward,
)

Array = Any

SCORES = ("additive", "dot", "scaled_dot", "general", "concat")  # the learned/parameter-free scorers ('none' has none)

__all__ = ["SCORES", "Scorer"]


class Scorer(Module):
    """The attention score of a query against every key, in the two halves of minatt.ops.scores.

    ``prepare(keys)`` runs the keys' half once per batch (structural speed: the key projection
    is not repeated at every decoder step); ``score(q, prepared)`` runs the query's half at each
    step. Backward mirrors it: ``score_backward`` per step returns the gradient of the prepared
    keys, which the caller SUMS over steps and hands to ``prepare_backward`` once.

        kind        prepare (once per batch)                  score (every step)
        dot         prepared = keys                           dot_score_forward(q, prepared)
        scaled_dot  prepared = keys                           scaled_dot_score_forward(q, prepared)
        general     general_keys_forward(keys, Wa)            dot_score_forward(q, prepared)
        additive    additive_keys_forward(keys, Wk)           additive_score_projected_forward(q, prepared, Wq, v)
        concat      concat_keys_forward(keys, Wa)             concat_score_projected_forward(q, prepared, Wa, v)

    Parameters: general ``prefix.Wa`` (Hq, Hk); additive ``prefix.Wq`` (Hq, A), ``prefix.Wk``
    (Hk, A), ``prefix.v`` (A,); concat ``prefix.Wa`` (Hq + Hk, A), ``prefix.v``; dot and
    scaled_dot none (they need Hq == Hk).
    """

    def __init__(self, params: Params, prefix: str, kind: str, q_dim: int, k_dim: int, attn_dim: int,
                 rng: Rng) -> None:
        super().__init__(params, prefix)
        if kind not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, not {kind!r}")
        if kind in ("dot", "scaled_dot") and q_dim != k_dim:
            raise ValueError(f"the {kind} score needs query size == key size, got {q_dim} and {k_dim}")
        self.kind = kind
        if kind == "general":
            self.add("Wa", uniform(rng, (q_dim, k_dim), 1.0 / k_dim**0.5))
        elif kind == "additive":
            self.add("Wq", uniform(rng, (q_dim, attn_dim), 1.0 / q_dim**0.5))
            self.add("Wk", uniform(rng, (k_dim, attn_dim), 1.0 / k_dim**0.5))
            self.add("v", uniform(rng, (attn_dim,), 1.0 / attn_dim**0.5))
        elif kind == "concat":
            self.add("Wa", uniform(rng, (q_dim + k_dim, attn_dim), 1.0 / (q_dim + k_dim) ** 0.5))
            self.add("v", uniform(rng, (attn_dim,), 1.0 / attn_dim**0.5))

    def prepare(self, keys: Array) -> tuple[Array, Any]:
        """keys (N, S, Hk) -> prepared (N, S, Hk | Hq | A) (see the class docstring), cache."""
        # Structural speed: the keys' projection runs here, once per batch, not at every decoder step.
        if self.kind == "general":
            return general_keys_forward(keys, self.p("Wa"))
        if self.kind == "additive":
            return additive_keys_forward(keys, self.p("Wk"))
        if self.kind == "concat":
            return concat_keys_forward(keys, self.p("Wa"))
        return keys, None  # dot, scaled_dot: the keys as they are

    def prepare_backward(self, dprepared: Array, cache: Any, grads: Grads) -> Array:
        """dprepared (summed over steps) -> dkeys (N, S, Hk); adds the key-side weight gradients."""
        if self.kind == "general":
            dkeys, dWa = general_keys_backward(dprepared, cache)
            accumulate(grads, self.key("Wa"), dWa)
            return dkeys
        if self.kind == "additive":
            dkeys, dWk = additive_keys_backward(dprepared, cache)
            accumulate(grads, self.key("Wk"), dWk)
            return dkeys
        if self.kind == "concat":
            dkeys, dWa = concat_keys_backward(dprepared, cache)
            accumulate(grads, self.key("Wa"), dWa)
            return dkeys
        return dprepared

    def score(self, q: Array, prepared: Array) -> tuple[Array, Any]:
        """q (N, Hq), prepared (from :meth:`prepare`) -> scores (N, S), cache."""
        if self.kind in ("dot", "general"):
            return dot_score_forward(q, prepared)
        if self.kind == "scaled_dot":
            return scaled_dot_score_forward(q, prepared)
        if self.kind == "additive":
            return additive_score_projected_forward(q, prepared, self.p("Wq"), self.p("v"))
        return concat_score_projected_forward(q, prepared, self.p("Wa"), self.p("v"))

    def score_backward(self, dscores: Array, cache: Any, grads: Grads) -> tuple[Array, Array]:
        """dscores (N, S) -> dq (N, Hq), dprepared (like prepared); adds the query-side gradients."""
        if self.kind in ("dot", "general"):
            return dot_score_backward(dscores, cache)
        if self.kind == "scaled_dot":
            return scaled_dot_score_backward(dscores, cache)
        if self.kind == "additive":
            dq, dprepared, dWq, dv = additive_score_projected_backward(dscores, cache)
            accumulate(grads, self.key("Wq"), dWq)
        else:
            dq, dprepared, dWa, dv = concat_score_projected_backward(dscores, cache)
            accumulate(grads, self.key("Wa"), dWa)
        accumulate(grads, self.key("v"), dv)
        return dq, dprepared
