"""Softmax cross-entropy, averaged over the counted tokens (targets != ignore_index).

With logits2 (R, V) and targets2 (R,) the leading axes folded into R tokens:

    shifted = logits2 - max_v logits2              (R, V)  the row max makes exp safe
    log_z   = log(sum_v exp(shifted))              (R, 1)
    log_p   = shifted - log_z                      (R, V)  stable log-softmax
    counted = targets2 != ignore_index             (R,)    all True when ignore_index is None
    n       = number of counted tokens
    loss    = -sum_k counted[k] * log_p[k, targets2[k]] / n

    dlogits2 = dloss * (p - onehot(targets2)) * counted[:, None] / n      p = exp(log_p)

An ignored token's gradient row is exactly zero; with no counted token at all the loss is 0.0
and the gradient all zeros (never 0/0). Nothing here reads a value back to the host: on a GPU the
loss and n stay 0-d device arrays (NumPy gives NumPy scalars), so a training step never waits for
the GPU until someone reads the loss.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module, fusable
from minatt.ops import fused
from minatt.validate import Cache, contract

Array = Any


class CrossEntropyCache(NamedTuple):
    """What cross_entropy_backward needs: the probabilities, the targets, which tokens count."""

    p: Array  # (R, V) softmax of the logits
    safe_targets: Array  # (R,) targets with ignored ones replaced by 0, so they can index p
    counted: Array  # (R,) bool, True where the token enters the mean
    n_counted: Array  # n, a 0-d integer array on the logits' device
    logits_shape: tuple  # (..., V)


@contract(ignore_index="id?", logits="... V", targets="... int<V|ignore_index")
def cross_entropy_forward(
    logits: Array, targets: Array, ignore_index: int | None = None
) -> tuple[Array, CrossEntropyCache]:
    """V vocabulary size, R = product of the leading dims (e.g. N * T).

    Args:
        logits: (..., V) unnormalised scores.
        targets: (...) integer ids in [0, V), or ignore_index, on the same backend as logits.
        ignore_index: a target value whose tokens are left out of the mean (e.g. PAD = 0), or None.

    Returns:
        loss: 0-d, on the logits' device: the mean of -log_p[k, targets2[k]] over counted tokens (0.0 if
            none). ``float(loss)`` reads it (on a GPU that waits for the GPU: do it only to log).
        cache: :class:`CrossEntropyCache` for :func:`cross_entropy_backward`.

    Math: see the module docstring (same names).
    """
    if fusable(logits):
        return fused.cross_entropy_forward(logits, targets, ignore_index)  # one GPU kernel: ops/fused_training.py
    xp = array_module(logits)
    V = logits.shape[-1]
    logits2 = logits.reshape(-1, V)  # (R, V)
    targets2 = targets.reshape(-1)  # (R,)
    if ignore_index is None:
        counted = xp.ones(targets2.shape, dtype=bool)  # (R,)
    else:
        counted = targets2 != ignore_index  # (R,)
    safe_targets = xp.where(counted, targets2, 0)  # (R,)
    shifted = logits2 - logits2.max(axis=-1, keepdims=True)  # (R, V)
    log_z = xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))  # (R, 1)
    log_p = shifted - log_z  # (R, V)
    picked = xp.take_along_axis(log_p, safe_targets[:, None], axis=-1)[:, 0]  # (R,)
    n_counted = counted.sum()  # n
    loss = -xp.where(counted, picked, 0.0).sum() / xp.maximum(n_counted, 1)
    p = xp.exp(log_p)  # (R, V)
    return loss, CrossEntropyCache(p, safe_targets, counted, n_counted, tuple(logits.shape))


@contract(cache=Cache(CrossEntropyCache), dloss="number")
def cross_entropy_backward(cache: CrossEntropyCache, dloss: float = 1.0) -> Array:
    """V vocabulary size, R = product of the leading dims.

    Args:
        cache: from :func:`cross_entropy_forward`.
        dloss: d (final objective) / d loss, a number or 0-d array (1.0 when loss is the objective).

    Returns:
        dlogits: (..., V) in the logits' dtype; rows of ignored tokens are exactly zero.

    Math (code names): dlogits2 = (p - onehot(safe_targets)) * counted[:, None] * (dloss / n).
    """
    if fusable(cache.p):
        return fused.cross_entropy_backward(cache, dloss)  # one GPU kernel: ops/fused_training.py
    xp = array_module(cache.p)
    R = cache.p.shape[0]
    dlogits2 = cache.p.copy()  # (R, V)
    dlogits2[xp.arange(R), cache.safe_targets] -= 1.0
    scale = dloss / xp.maximum(cache.n_counted, 1)  # 0-d, on the device
    dlogits2 *= xp.where(cache.counted, scale, 0.0).astype(dlogits2.dtype)[:, None]  # (R, V)
    return dlogits2.reshape(cache.logits_shape)  # (..., V)
