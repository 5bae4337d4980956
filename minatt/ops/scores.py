"""Attention scores: how well one query q matches each of S keys, one number per key.

    N batch, S source steps, Hq query size, Hk key size, A attention size.
    q (N, Hq), keys (N, S, Hk)  ->  scores (N, S)

    dot       (Luong)      scores[n, s] = keys[n, s] . q[n]                        (needs Hq == Hk)
    general   (Luong)      scores[n, s] = keys[n, s] . (q[n] Wa)                   Wa (Hq, Hk)
    concat    (Luong)      scores[n, s] = tanh([q[n]; keys[n, s]] Wa) . v          Wa (Hq + Hk, A), v (A,)
    additive  (Bahdanau)   scores[n, s] = tanh(q[n] Wq + keys[n, s] Wk) . v        Wq (Hq, A), Wk (Hk, A)

Luong's concat IS Bahdanau's additive score: [q; k] Wa = q Wa[:Hq] + k Wa[Hq:], so concat with
Wa is additive with Wq = Wa[:Hq] and Wk = Wa[Hq:]. The two differ only in how the weight is
stored, and here concat simply calls the additive code with those two row blocks.

Cost (FLOPs counted as matmul multiply-adds; "cache" is memory the cache holds beyond
references to the inputs). The multiplicative scores (dot, general) cost O(N S H) per query
and cache nothing new; the additive ones cost O(N S Hk A) for the key projection plus O(N S A)
per query and cache an (N, S, A) tanh per query. A decoder of T steps therefore projects the
keys ONCE (additive_keys_forward) and calls additive_score_projected_forward each step:
N S Hk A + T N (Hq A + S A) multiply-adds instead of T N (S Hk A + Hq A + S A), and T N S A
floats of tanh kept for backward, against none for dot.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.ops.activations import tanh_backward

Array = Any


# ---------------------------------------------------------------------------------------
# dot


class DotCache(NamedTuple):
    """What dot_score_backward needs: references to q and keys."""

    q: Array  # (N, H)
    keys: Array  # (N, S, H)


def dot_score_forward(q: Array, keys: Array) -> tuple[Array, DotCache]:
    """Dot-product scores. N batch, S source steps, H = Hq = Hk.

    q (N, H), keys (N, S, H) -> scores (N, S).
        scores = keys @ q                 (per batch row)
        dq = dscores @ keys;  dkeys = dscores[:, :, None] * q[:, None, :]
    FLOPs: N S H.  Cache: nothing new (references to q and keys).
    """
    xp = array_module(q, keys)
    scores = xp.matmul(keys, q[:, :, None])[:, :, 0]  # (N, S, 1) -> (N, S)
    return scores, DotCache(q=q, keys=keys)


def dot_score_backward(dscores: Array, cache: DotCache) -> tuple[Array, Array]:
    """dscores (N, S) -> dq (N, H), dkeys (N, S, H)."""
    xp = array_module(dscores)
    dq = xp.matmul(dscores[:, None, :], cache.keys)[:, 0, :]  # (N, 1, H) -> (N, H)
    dkeys = dscores[:, :, None] * cache.q[:, None, :]  # (N, S, H)
    return dq, dkeys


# ---------------------------------------------------------------------------------------
# general


class GeneralCache(NamedTuple):
    """What general_score_backward needs: q, Wa and the inner dot score's cache."""

    q: Array  # (N, Hq)
    Wa: Array  # (Hq, Hk)
    dot: DotCache  # the dot score of qW (N, Hk) against keys


def general_score_forward(q: Array, keys: Array, Wa: Array) -> tuple[Array, GeneralCache]:
    """Bilinear ("general") scores. N batch, S source steps, Hq query size, Hk key size.

    q (N, Hq), keys (N, S, Hk), Wa (Hq, Hk) -> scores (N, S).
        qW = q @ Wa;  scores = keys @ qW            (the dot score of qW against keys)
        dqW = dscores @ keys;  dq = dqW @ Wa.T;  dWa = q.T @ dqW;  dkeys = dscores * qW
    FLOPs: N Hk (Hq + S)  (projecting the query, not the S keys).  Cache: qW, N Hk floats.
    """
    xp = array_module(q, keys, Wa)
    qW = xp.matmul(q, Wa)  # (N, Hk)
    scores, dot = dot_score_forward(qW, keys)
    return scores, GeneralCache(q=q, Wa=Wa, dot=dot)


def general_score_backward(dscores: Array, cache: GeneralCache) -> tuple[Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkeys (N, S, Hk), dWa (Hq, Hk)."""
    xp = array_module(dscores)
    dqW, dkeys = dot_score_backward(dscores, cache.dot)  # (N, Hk), (N, S, Hk)
    dq = xp.matmul(dqW, cache.Wa.T)  # (N, Hq)
    dWa = xp.matmul(cache.q.T, dqW)  # (Hq, Hk)
    return dq, dkeys, dWa


# ---------------------------------------------------------------------------------------
# additive, split in two: project the keys once, then score each query against them


class KeysCache(NamedTuple):
    """What additive_keys_backward needs: references to keys and Wk."""

    keys: Array  # (N, S, Hk)
    Wk: Array  # (Hk, A)


def additive_keys_forward(keys: Array, Wk: Array) -> tuple[Array, KeysCache]:
    """Project the keys for additive attention, once per batch. N, S, Hk key size, A attention size.

    keys (N, S, Hk), Wk (Hk, A) -> kproj (N, S, A).
        kproj = keys @ Wk
        dkeys = dkproj @ Wk.T;  dWk = keys.T @ dkproj   (summed over N and S, one matmul)
    FLOPs: N S Hk A.  Cache: nothing new (references to keys and Wk).
    """
    xp = array_module(keys, Wk)
    return xp.matmul(keys, Wk), KeysCache(keys=keys, Wk=Wk)


def additive_keys_backward(dkproj: Array, cache: KeysCache) -> tuple[Array, Array]:
    """dkproj (N, S, A) -> dkeys (N, S, Hk), dWk (Hk, A)."""
    xp = array_module(dkproj)
    Hk, A = cache.Wk.shape
    dkeys = xp.matmul(dkproj, cache.Wk.T)  # (N, S, Hk)
    dWk = xp.matmul(cache.keys.reshape(-1, Hk).T, dkproj.reshape(-1, A))  # (Hk, N*S) @ (N*S, A) -> (Hk, A)
    return dkeys, dWk


class ProjectedCache(NamedTuple):
    """What additive_score_projected_backward needs: q, Wq, v and the tanh t."""

    q: Array  # (N, Hq)
    Wq: Array  # (Hq, A)
    v: Array  # (A,)
    t: Array  # (N, S, A) tanh(q Wq + kproj)


def additive_score_projected_forward(
    q: Array, kproj: Array, Wq: Array, v: Array
) -> tuple[Array, ProjectedCache]:
    """Additive scores of one query against pre-projected keys. N, S, Hq query size, A attention size.

    q (N, Hq), kproj (N, S, A) from additive_keys_forward, Wq (Hq, A), v (A,) -> scores (N, S).
        t = tanh(q @ Wq + kproj);  scores = t @ v
        dt = dscores * v;  da = dt * (1 - t^2);  dkproj = da;  dqproj = sum_s da
        dq = dqproj @ Wq.T;  dWq = q.T @ dqproj;  dv = t.T @ dscores   (over N and S)
    FLOPs: N A (Hq + S)  (plus N S A tanh).  Cache: t, N S A floats.
    """
    xp = array_module(q, kproj, Wq, v)
    t = xp.tanh(kproj + xp.matmul(q, Wq)[:, None, :])  # (N, S, A)
    scores = xp.matmul(t, v)  # (N, S)
    return scores, ProjectedCache(q=q, Wq=Wq, v=v, t=t)


def additive_score_projected_backward(
    dscores: Array, cache: ProjectedCache
) -> tuple[Array, Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkproj (N, S, A), dWq (Hq, A), dv (A,)."""
    xp = array_module(dscores)
    t = cache.t  # (N, S, A)
    N, S, A = t.shape
    dkproj = tanh_backward(dscores[:, :, None], t)  # (N, S, A): dscores * (1 - t^2), ...
    dkproj *= cache.v  # ... times v: dt = dscores * v, applied in two in-place factors
    ones = xp.ones((N, 1, S), dtype=t.dtype)
    dqproj = xp.matmul(ones, dkproj)[:, 0, :]  # (N, A) the sum over s, as a product: 3x faster than .sum(axis=1)
    dq = xp.matmul(dqproj, cache.Wq.T)  # (N, Hq)
    dWq = xp.matmul(cache.q.T, dqproj)  # (Hq, A)
    dv = xp.matmul(dscores.reshape(-1), t.reshape(-1, A))  # (N*S,) @ (N*S, A) -> (A,)
    return dq, dkproj, dWq, dv


class AdditiveCache(NamedTuple):
    """The two halves' caches: the key projection and the projected score."""

    keys: KeysCache
    score: ProjectedCache


def additive_score_forward(
    q: Array, keys: Array, Wq: Array, Wk: Array, v: Array
) -> tuple[Array, AdditiveCache]:
    """Bahdanau's additive scores in one call. N, S, Hq, Hk, A attention size.

    q (N, Hq), keys (N, S, Hk), Wq (Hq, A), Wk (Hk, A), v (A,) -> scores (N, S).
        kproj = keys @ Wk;  scores = tanh(q @ Wq + kproj) @ v
    (additive_keys_forward then additive_score_projected_forward; backward chains the two.)
    FLOPs: N S Hk A + N A (Hq + S).  Cache: t, N S A floats.
    """
    kproj, keys_cache = additive_keys_forward(keys, Wk)
    scores, score_cache = additive_score_projected_forward(q, kproj, Wq, v)
    return scores, AdditiveCache(keys=keys_cache, score=score_cache)


def additive_score_backward(
    dscores: Array, cache: AdditiveCache
) -> tuple[Array, Array, Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkeys (N, S, Hk), dWq (Hq, A), dWk (Hk, A), dv (A,)."""
    dq, dkproj, dWq, dv = additive_score_projected_backward(dscores, cache.score)
    dkeys, dWk = additive_keys_backward(dkproj, cache.keys)
    return dq, dkeys, dWq, dWk, dv


# ---------------------------------------------------------------------------------------
# concat = additive with Wa = [Wq; Wk] stacked by rows


class ConcatCache(NamedTuple):
    """The additive cache of Wa's two row blocks."""

    additive: AdditiveCache


def concat_score_forward(q: Array, keys: Array, Wa: Array, v: Array) -> tuple[Array, ConcatCache]:
    """Luong's concat scores. N, S, Hq, Hk, A attention size.

    q (N, Hq), keys (N, S, Hk), Wa (Hq + Hk, A), v (A,) -> scores (N, S).
        scores = tanh([q; keys_s] @ Wa) @ v = additive score with Wq = Wa[:Hq], Wk = Wa[Hq:]
        dWa = [dWq; dWk]
    FLOPs and cache: as additive_score_forward (the [q; k] concatenation is never built).
    """
    Hq = q.shape[1]
    scores, additive = additive_score_forward(q, keys, Wa[:Hq], Wa[Hq:], v)
    return scores, ConcatCache(additive=additive)


def concat_score_backward(dscores: Array, cache: ConcatCache) -> tuple[Array, Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkeys (N, S, Hk), dWa (Hq + Hk, A), dv (A,)."""
    xp = array_module(dscores)
    dq, dkeys, dWq, dWk, dv = additive_score_backward(dscores, cache.additive)
    return dq, dkeys, xp.concatenate([dWq, dWk], axis=0), dv
