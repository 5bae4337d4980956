"""Attention scores: how well one query q matches each of S keys, one number per key.

    N batch, S source steps, Hq query size, Hk key size, A attention size.
    q (N, Hq), keys (N, S, Hk)  ->  scores (N, S)

    dot         (Luong)      scores[n, s] = keys[n, s] . q[n]                     (needs Hq == Hk)
    scaled_dot  (Vaswani)    scores[n, s] = keys[n, s] . q[n] / sqrt(Hk)          (needs Hq == Hk)
    general     (Luong)      scores[n, s] = (keys[n, s] Wa^T) . q[n]              Wa (Hq, Hk)
    additive    (Bahdanau)   scores[n, s] = tanh(q[n] Wq + keys[n, s] Wk) . v     Wq (Hq, A), Wk (Hk, A), v (A,)
    concat      (Luong)      scores[n, s] = tanh([q[n]; keys[n, s]] Wa) . v       Wa (Hq + Hk, A), v (A,)

A decoder scores T queries against the same keys, so every score with a key-side weight is
split in two, as the model runs it (structural speed: keys projected ONCE per batch):

    the keys' half, once per batch:   general_keys_forward   kW    = keys @ Wa.T     (N, S, Hq)
                                      additive_keys_forward  kproj = keys @ Wk       (N, S, A)
                                      concat_keys_forward    kproj = keys @ Wa[Hq:]  (N, S, A)
    the query's half, every step:     dot_score_forward(q, kW)
                                      additive_score_projected_forward(q, kproj, Wq, v)
                                      concat_score_projected_forward(q, kproj, Wa, v)

Backward mirrors it: the decoder SUMS each step's gradient of kW / kproj and calls the keys'
backward once. ``general_score_forward``, ``additive_score_forward`` and ``concat_score_forward``
chain the two halves for one query.

concat IS additive: [q; k] Wa = q Wa[:Hq] + k Wa[Hq:], so concat is the additive score with
Wq = Wa[:Hq] and Wk = Wa[Hq:] stored as one matrix. Its ops call the additive ops on those
row blocks and return dWa with the block the half never touched set to zero.

Cost per decoder step, in multiply-adds (the keys' half once per batch on top):
dot, scaled_dot, general N S H; additive, concat N A (Hq + S). Once per batch: general
N S Hk Hq, additive and concat N S Hk A. Cache per step: additive and concat keep t, N S A
floats; the others keep references only.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from minatt.backend import array_module, fusable
from minatt.ops import fused
from minatt.validate import Cache, contract

Array = Any


# ---------------------------------------------------------------------------------------
# dot and scaled dot


class DotCache(NamedTuple):
    """What dot_score_backward needs: references to q and keys."""

    q: Array  # (N, H)
    keys: Array  # (N, S, H)


@contract(q="N H", keys="N S H")
def dot_score_forward(q: Array, keys: Array) -> tuple[Array, DotCache]:
    """Dot-product scores. N batch, S source steps, H = Hq = Hk.

    q (N, H), keys (N, S, H) -> scores (N, S).
        scores = keys @ q                          (per batch row)
        dq = dscores @ keys;  dkeys = dscores * q   (dkeys[n, s] = dscores[n, s] q[n])
    FLOPs: N S H.  Cache: nothing new (references to q and keys).
    """
    xp = array_module(q, keys)
    scores = xp.matmul(keys, q[:, :, None])[:, :, 0]  # (N, S, 1) -> (N, S)
    return scores, DotCache(q=q, keys=keys)


@contract(cache=Cache(DotCache, keys="N S H"), dscores="N S")
def dot_score_backward(dscores: Array, cache: DotCache) -> tuple[Array, Array]:
    """dscores (N, S) -> dq (N, H), dkeys (N, S, H)."""
    xp = array_module(dscores)
    dq = xp.matmul(dscores[:, None, :], cache.keys)[:, 0, :]  # (N, 1, H) -> (N, H)
    dkeys = dscores[:, :, None] * cache.q[:, None, :]  # (N, S, H)
    return dq, dkeys


class ScaledDotCache(NamedTuple):
    """What scaled_dot_score_backward needs: the dot score's cache and the scale."""

    dot: DotCache
    scale: float  # 1 / sqrt(H)


@contract(q="N H", keys="N S H")
def scaled_dot_score_forward(q: Array, keys: Array) -> tuple[Array, ScaledDotCache]:
    """Scaled dot-product scores (Vaswani et al. 2017). N batch, S source steps, H = Hq = Hk.

    q (N, H), keys (N, S, H) -> scores (N, S).
        scale = 1 / sqrt(H);  scores = scale * (keys @ q)
        ddot = scale * dscores;  dq = ddot @ keys;  dkeys = ddot * q
    The scale keeps the scores' spread ~1 whatever H (q . k sums H products of size ~1).
    FLOPs: N S H.  Cache: nothing new.
    """
    scale = 1.0 / math.sqrt(q.shape[1])
    dot, dot_cache = dot_score_forward(q, keys)  # (N, S)
    scores = scale * dot
    return scores, ScaledDotCache(dot=dot_cache, scale=scale)


@contract(cache=Cache(ScaledDotCache), dscores="N S")
def scaled_dot_score_backward(dscores: Array, cache: ScaledDotCache) -> tuple[Array, Array]:
    """dscores (N, S) -> dq (N, H), dkeys (N, S, H)."""
    ddot = cache.scale * dscores  # (N, S)
    dq, dkeys = dot_score_backward(ddot, cache.dot)
    return dq, dkeys


# ---------------------------------------------------------------------------------------
# general: project the keys once (kW = keys Wa^T), then the dot score of q against kW


class KeysCache(NamedTuple):
    """What the key projections' backward needs: references to keys and Wk (Wa.T for general)."""

    keys: Array  # (N, S, Hk)
    Wk: Array  # (Hk, A); general: Wa.T, (Hk, Hq)


@contract(keys="N S Hk", Wa="Hq Hk")
def general_keys_forward(keys: Array, Wa: Array) -> tuple[Array, KeysCache]:
    """Project the keys into query space for the general score, once per batch. N, S, Hq, Hk.

    keys (N, S, Hk), Wa (Hq, Hk) -> kW (N, S, Hq).
        kW = keys @ Wa.T        the additive score's key projection with Wk = Wa.T (below)
        dkeys = dkW @ Wa;  dWa = dkW.T @ keys   (summed over N and S, one matmul)
    FLOPs: N S Hk Hq.  Cache: nothing new.
    """
    return additive_keys_forward(keys, Wa.T)


@contract(cache=Cache(KeysCache, keys="N S Hk", Wk="Hk Hq"), dkW="N S Hq")
def general_keys_backward(dkW: Array, cache: KeysCache) -> tuple[Array, Array]:
    """dkW (N, S, Hq) -> dkeys (N, S, Hk), dWa (Hq, Hk)."""
    dkeys, dWa_T = additive_keys_backward(dkW, cache)  # dWa_T = keys.T @ dkW, (Hk, Hq)
    return dkeys, dWa_T.T


class GeneralCache(NamedTuple):
    """The two halves' caches: the keys' projection and the dot score of q against kW."""

    keys: KeysCache  # keys.Wk is Wa.T
    score: DotCache  # score.q is q, score.keys is kW


@contract(q="N Hq", keys="N S Hk", Wa="Hq Hk")
def general_score_forward(q: Array, keys: Array, Wa: Array) -> tuple[Array, GeneralCache]:
    """Bilinear ("general") scores in one call. N batch, S source steps, Hq query, Hk key size.

    q (N, Hq), keys (N, S, Hk), Wa (Hq, Hk) -> scores (N, S).
        kW = keys @ Wa.T;  scores = kW @ q      (general_keys_forward, then the dot score)
    FLOPs: N S Hk Hq + N S Hq.  Cache: nothing new.
    """
    kW, keys_cache = general_keys_forward(keys, Wa)
    scores, score_cache = dot_score_forward(q, kW)
    return scores, GeneralCache(keys=keys_cache, score=score_cache)


@contract(cache=Cache(GeneralCache), dscores="N S")
def general_score_backward(dscores: Array, cache: GeneralCache) -> tuple[Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkeys (N, S, Hk), dWa (Hq, Hk)."""
    dq, dkW = dot_score_backward(dscores, cache.score)
    dkeys, dWa = general_keys_backward(dkW, cache.keys)
    return dq, dkeys, dWa


# ---------------------------------------------------------------------------------------
# additive: project the keys once (kproj = keys Wk), then score each query against them


@contract(keys="N S Hk", Wk="Hk A")
def additive_keys_forward(keys: Array, Wk: Array) -> tuple[Array, KeysCache]:
    """Project the keys for additive attention, once per batch. N, S, Hk key size, A attention size.

    keys (N, S, Hk), Wk (Hk, A) -> kproj (N, S, A).
        kproj = keys @ Wk
        dkeys = dkproj @ Wk.T;  dWk = keys.T @ dkproj   (summed over N and S, one matmul)
    FLOPs: N S Hk A.  Cache: nothing new (references to keys and Wk).
    """
    xp = array_module(keys, Wk)
    kproj = xp.matmul(keys, Wk)  # (N, S, A)
    return kproj, KeysCache(keys=keys, Wk=Wk)


@contract(cache=Cache(KeysCache, keys="N S Hk", Wk="Hk A"), dkproj="N S A")
def additive_keys_backward(dkproj: Array, cache: KeysCache) -> tuple[Array, Array]:
    """dkproj (N, S, A) -> dkeys (N, S, Hk), dWk (Hk, A)."""
    xp = array_module(dkproj)
    Hk, A = cache.Wk.shape
    dkeys = xp.matmul(dkproj, cache.Wk.T)  # (N, S, Hk)
    dWk = xp.matmul(cache.keys.reshape(-1, Hk).T, dkproj.reshape(-1, A))  # (Hk, N*S) @ (N*S, A)
    return dkeys, dWk


class ProjectedCache(NamedTuple):
    """What additive_score_projected_backward needs: q, Wq, v and the tanh t."""

    q: Array  # (N, Hq)
    Wq: Array  # (Hq, A)
    v: Array  # (A,)
    t: Array  # (N, S, A) tanh(q Wq + kproj)


@contract(q="N Hq", kproj="N S A", Wq="Hq A", v="A")
def additive_score_projected_forward(
    q: Array, kproj: Array, Wq: Array, v: Array
) -> tuple[Array, ProjectedCache]:
    """Additive scores of one query against pre-projected keys. N, S, Hq query size, A attention size.

    q (N, Hq), kproj (N, S, A) from additive_keys_forward, Wq (Hq, A), v (A,) -> scores (N, S).
        qproj = q @ Wq;  t = tanh(qproj + kproj);  scores = t @ v
        dt = dscores * v;  da = dt * (1 - t^2);  dkproj = da;  dqproj = sum_s da
        dq = dqproj @ Wq.T;  dWq = q.T @ dqproj;  dv = dscores @ t   (summed over N and S)
    FLOPs: N A (Hq + S)  (plus N S A tanh).  Cache: t, N S A floats.
    """
    xp = array_module(q, kproj, Wq, v)
    qproj = xp.matmul(q, Wq)  # (N, A)
    if fusable(q):  # the same line as one GPU kernel: ops/fused_attention.py
        t = fused.additive_tanh(qproj, kproj)
    else:
        t = xp.tanh(qproj[:, None, :] + kproj)  # (N, S, A): the query is shared by all S keys
    scores = xp.matmul(t, v)  # (N, S)
    return scores, ProjectedCache(q=q, Wq=Wq, v=v, t=t)


def tanh_of_scores_backward(dscores: Array, v: Array, t: Array) -> Array:
    """The additive score's two backward lines, from scores = t @ v back through t = tanh(a):

        dt = dscores * v          (N, S, A)   scores_s = t_s . v
        da = dt * (1 - t**2)      (N, S, A)   t = tanh(a)

    A speed helper, written with in-place updates rather than one line per equation: the same
    numbers in ONE (N, S, A) array, not the two lines' four temporaries; 1.0 against 2.0 ms per
    decoder step at N = 128, S = 50, A = 256 (BENCHMARKS.md). tests/test_scores.py holds it against the two plain lines.
    """
    if fusable(t):
        return fused.tanh_of_scores_backward(dscores, v, t)  # as one GPU kernel: ops/fused_attention.py
    xp = array_module(t)
    da = t * t  # t^2, the one new array
    xp.subtract(1.0, da, out=da)  # 1 - t^2
    da *= dscores[:, :, None]  # dscores * (1 - t^2)
    da *= v  # (dscores * v) * (1 - t^2) = dt * (1 - t^2)
    return da


@contract(cache=Cache(ProjectedCache, t="N S A"), dscores="N S")
def additive_score_projected_backward(
    dscores: Array, cache: ProjectedCache
) -> tuple[Array, Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkproj (N, S, A), dWq (Hq, A), dv (A,)."""
    xp = array_module(dscores)
    q, Wq, v, t = cache.q, cache.Wq, cache.v, cache.t
    A = t.shape[2]
    da = tanh_of_scores_backward(dscores, v, t)  # (N, S, A): dt = dscores * v;  da = dt * (1 - t**2)
    dkproj = da  # a plain sum: kproj's gradient is da itself
    dqproj = da.sum(axis=1)  # (N, A): qproj was broadcast over the S keys
    dq = xp.matmul(dqproj, Wq.T)  # (N, Hq)
    dWq = xp.matmul(q.T, dqproj)  # (Hq, A)
    dv = xp.matmul(dscores.reshape(-1), t.reshape(-1, A))  # (N*S,) @ (N*S, A) -> (A,): sum over n, s
    return dq, dkproj, dWq, dv


class AdditiveCache(NamedTuple):
    """The two halves' caches: the key projection and the projected score."""

    keys: KeysCache
    score: ProjectedCache


@contract(q="N Hq", keys="N S Hk", Wq="Hq A", Wk="Hk A", v="A")
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


@contract(cache=Cache(AdditiveCache), dscores="N S")
def additive_score_backward(
    dscores: Array, cache: AdditiveCache
) -> tuple[Array, Array, Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkeys (N, S, Hk), dWq (Hq, A), dWk (Hk, A), dv (A,)."""
    dq, dkproj, dWq, dv = additive_score_projected_backward(dscores, cache.score)
    dkeys, dWk = additive_keys_backward(dkproj, cache.keys)
    return dq, dkeys, dWq, dWk, dv


# ---------------------------------------------------------------------------------------
# concat: the additive score with Wq = Wa[:Hq] and Wk = Wa[Hq:] stored stacked in one Wa


class ConcatKeysCache(NamedTuple):
    """The additive keys' cache of Wa's key rows, and Hq (the query rows it never touched)."""

    additive: KeysCache
    Hq: int


@contract(keys="N S Hk", Wa="Hq+Hk A")
def concat_keys_forward(keys: Array, Wa: Array) -> tuple[Array, ConcatKeysCache]:
    """The keys' half of concat, once per batch: additive_keys_forward with Wk = Wa[Hq:].

    keys (N, S, Hk), Wa (Hq + Hk, A) -> kproj (N, S, A).
        kproj = keys @ Wa[Hq:];  dWa = [0; dWk]   (the keys never meet Wa's query rows)
    """
    Hq = Wa.shape[0] - keys.shape[2]
    kproj, additive = additive_keys_forward(keys, Wa[Hq:])
    return kproj, ConcatKeysCache(additive=additive, Hq=Hq)


@contract(cache=Cache(ConcatKeysCache), dkproj="N S A")
def concat_keys_backward(dkproj: Array, cache: ConcatKeysCache) -> tuple[Array, Array]:
    """dkproj (N, S, A) -> dkeys (N, S, Hk), dWa (Hq + Hk, A)."""
    xp = array_module(dkproj)
    dkeys, dWk = additive_keys_backward(dkproj, cache.additive)
    dWq = xp.zeros((cache.Hq, dWk.shape[1]), dtype=dWk.dtype)
    dWa = xp.concatenate([dWq, dWk], axis=0)  # (Hq + Hk, A)
    return dkeys, dWa


class ConcatProjectedCache(NamedTuple):
    """The additive projected score's cache of Wa's query rows, and Hk (the key rows it never touched)."""

    additive: ProjectedCache
    Hk: int


@contract(q="N Hq", kproj="N S A", Wa="Hq+Hk A", v="A")
def concat_score_projected_forward(
    q: Array, kproj: Array, Wa: Array, v: Array
) -> tuple[Array, ConcatProjectedCache]:
    """The query's half of concat, every step: additive_score_projected_forward with Wq = Wa[:Hq].

    q (N, Hq), kproj (N, S, A) from concat_keys_forward, Wa (Hq + Hk, A), v (A,) -> scores (N, S).
        scores = tanh(q @ Wa[:Hq] + kproj) @ v;  dWa = [dWq; 0]   (q never meets Wa's key rows)
    """
    Hq = q.shape[1]
    scores, additive = additive_score_projected_forward(q, kproj, Wa[:Hq], v)
    return scores, ConcatProjectedCache(additive=additive, Hk=Wa.shape[0] - Hq)


@contract(cache=Cache(ConcatProjectedCache), dscores="N S")
def concat_score_projected_backward(
    dscores: Array, cache: ConcatProjectedCache
) -> tuple[Array, Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkproj (N, S, A), dWa (Hq + Hk, A), dv (A,)."""
    xp = array_module(dscores)
    dq, dkproj, dWq, dv = additive_score_projected_backward(dscores, cache.additive)
    dWk = xp.zeros((cache.Hk, dWq.shape[1]), dtype=dWq.dtype)
    dWa = xp.concatenate([dWq, dWk], axis=0)  # (Hq + Hk, A)
    return dq, dkproj, dWa, dv


class ConcatCache(NamedTuple):
    """The two halves' caches."""

    keys: ConcatKeysCache
    score: ConcatProjectedCache


@contract(q="N Hq", keys="N S Hk", Wa="Hq+Hk A", v="A")
def concat_score_forward(q: Array, keys: Array, Wa: Array, v: Array) -> tuple[Array, ConcatCache]:
    """Luong's concat scores in one call. N, S, Hq, Hk, A attention size.

    q (N, Hq), keys (N, S, Hk), Wa (Hq + Hk, A), v (A,) -> scores (N, S).
        scores = tanh([q; keys_s] @ Wa) @ v = tanh(q @ Wa[:Hq] + keys_s @ Wa[Hq:]) @ v
        dWa = [dWq; 0] + [0; dWk]   (Wa is used by both halves: its gradient is the sum)
    FLOPs and cache: as additive_score_forward (the [q; k] concatenation is never built).
    """
    kproj, keys_cache = concat_keys_forward(keys, Wa)
    scores, score_cache = concat_score_projected_forward(q, kproj, Wa, v)
    return scores, ConcatCache(keys=keys_cache, score=score_cache)


@contract(cache=Cache(ConcatCache), dscores="N S")
def concat_score_backward(dscores: Array, cache: ConcatCache) -> tuple[Array, Array, Array, Array]:
    """dscores (N, S) -> dq (N, Hq), dkeys (N, S, Hk), dWa (Hq + Hk, A), dv (A,)."""
    dq, dkproj, dWa_query, dv = concat_score_projected_backward(dscores, cache.score)
    dkeys, dWa_keys = concat_keys_backward(dkproj, cache.keys)
    dWa = dWa_query + dWa_keys
    return dq, dkeys, dWa, dv
