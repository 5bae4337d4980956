"""Cross-entropy (forward and backward) and Adam's update of one parameter, each as ONE CUDA kernel
(see minatt/ops/fused.py), plus the device reductions they need. Nothing here reads a value back
to the host: the loss and the token count stay 0-d device arrays.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import array_module
from minatt.ops.fused import Kernel, contiguous
from minatt.ops.loss import CrossEntropyCache

Array = Any

CROSS_ENTROPY_FORWARD = Kernel("cross_entropy_forward", r"""
extern "C" __global__ void cross_entropy_forward(const T* logits2, const i64* targets2, i64 ignore_index,
        int has_ignore, i64 R, i64 V, T* p_out, T* nll_out, bool* counted_out, i64* safe_targets_out) {
    FOR_EACH(row, R) {                                 // one thread per token: a row of V logits
        const T* x = logits2 + row * V;
        T m = x[0];                                    // logits2.max(axis=-1)
        for (i64 v = 1; v < V; ++v) m = x[v] > m ? x[v] : m;
        T total = T(0);                                // sum_v exp(shifted)
        for (i64 v = 0; v < V; ++v) total += exp(x[v] - m);
        T log_z = log(total);                          // log_z = log(sum_v exp(shifted))
        for (i64 v = 0; v < V; ++v)
            p_out[row * V + v] = exp(x[v] - m - log_z);  // p = exp(log_p),  log_p = shifted - log_z
        bool counted = !has_ignore || targets2[row] != ignore_index;  // counted = targets2 != ignore_index
        i64 safe_target = counted ? targets2[row] : 0;  // safe_targets = where(counted, targets2, 0)
        T picked = x[safe_target] - m - log_z;         // picked = log_p[k, safe_targets[k]]
        nll_out[row] = counted ? -picked : T(0);       // -where(counted, picked, 0)
        counted_out[row] = counted;
        safe_targets_out[row] = safe_target;
    }
}
""")


def cross_entropy_forward(logits: Array, targets: Array, ignore_index: int | None) -> tuple[Array, CrossEntropyCache]:
    """:func:`minatt.ops.loss.cross_entropy_forward` in one kernel and two sums: logits (..., V),
    targets (...) -> loss (a 0-d device array), cache."""
    xp = array_module(logits)
    V = logits.shape[-1]
    logits2, targets2 = contiguous(logits.reshape(-1, V), targets.reshape(-1).astype(xp.int64, copy=False))
    R = logits2.shape[0]
    p = xp.empty_like(logits2)
    nll = xp.empty(R, dtype=logits2.dtype)
    counted = xp.empty(R, dtype=bool)
    safe_targets = xp.empty(R, dtype=xp.int64)
    CROSS_ENTROPY_FORWARD(R, p.dtype, logits2, targets2, 0 if ignore_index is None else int(ignore_index),
                          ignore_index is not None, R, V, p, nll, counted, safe_targets)
    n_counted = counted.sum()  # n, a 0-d device array
    loss = nll.sum() / xp.maximum(n_counted, 1)  # mean over the counted tokens, 0 when none
    return loss, CrossEntropyCache(p, safe_targets, counted, n_counted, tuple(logits.shape))


CROSS_ENTROPY_BACKWARD = Kernel("cross_entropy_backward", r"""
extern "C" __global__ void cross_entropy_backward(const T* p, const i64* safe_targets, const bool* counted,
        const i64* n_counted, double dloss, i64 R, i64 V, T* dlogits2_out) {
    FOR_EACH(k, R * V) {                               // k = [row, v] of (R, V)
        i64 row = k / V, v = k % V;
        i64 n = n_counted[0] > 1 ? n_counted[0] : 1;   // max(n, 1)
        T scale = counted[row] ? T(dloss / n) : T(0);  // where(counted, dloss / n, 0)
        T onehot = v == safe_targets[row] ? T(1) : T(0);
        dlogits2_out[k] = (p[k] - onehot) * scale;     // dlogits2 = (p - onehot(safe_targets)) * scale
    }
}
""")


def cross_entropy_backward(cache: CrossEntropyCache, dloss: float) -> Array:
    """:func:`minatt.ops.loss.cross_entropy_backward` in one kernel: cache, dloss -> dlogits (..., V)."""
    xp = array_module(cache.p)
    p, safe_targets, counted = contiguous(cache.p, cache.safe_targets, cache.counted)
    n_counted = xp.asarray(cache.n_counted, dtype=xp.int64)
    R, V = p.shape
    dlogits2 = xp.empty_like(p)
    CROSS_ENTROPY_BACKWARD(R * V, p.dtype, p, safe_targets, counted, n_counted, xp.float64(dloss), R, V, dlogits2)
    return dlogits2.reshape(cache.logits_shape)


ADAM_UPDATE = Kernel("adam_update", r"""
extern "C" __global__ void adam_update(T* p, const T* g, T* m, T* v, i64 size,
        T lr, T b1, T b2, T eps, T one_minus_b1, T one_minus_b2, T bias1, T bias2) {  // bias1 = 1 - b1**t
    FOR_EACH(k, size) {
        m[k] = b1 * m[k] + one_minus_b1 * g[k];        // m = b1 * m + (1 - b1) * g
        v[k] = b2 * v[k] + one_minus_b2 * (g[k] * g[k]);  // v = b2 * v + (1 - b2) * g**2
        T m_hat = m[k] / bias1;                        // m_hat = m / (1 - b1**t)
        T v_hat = v[k] / bias2;                        // v_hat = v / (1 - b2**t)
        p[k] -= lr * m_hat / (sqrt(v_hat) + eps);      // p -= lr * m_hat / (sqrt(v_hat) + eps)
    }
}
""")


def adam_update(p: Array, g: Array, m: Array, v: Array, lr: float, b1: float, b2: float, eps: float,
                t: int) -> None:
    """Adam's update of one parameter p (P), in place, with its moments m, v (P), in one kernel
    (:meth:`minatt.optim.Adam._update`). p, m and v are the optimiser's own contiguous arrays."""
    (g,) = contiguous(g)
    ADAM_UPDATE(p.size, p.dtype, p, g, m, v, p.size, float(lr), float(b1), float(b2), float(eps),
                float(1 - b1), float(1 - b2), float(1 - b1**t), float(1 - b2**t))
