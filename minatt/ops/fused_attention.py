"""The additive score's tanh (forward and backward) and the masked softmax (forward and backward),
each as ONE CUDA kernel (see minatt/ops/fused.py).

The score kernels are elementwise over (N, S, A); the softmax kernels give one thread a whole row
of S positions (S is a source length: tens, not thousands) and run the reference's lines over it.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import array_module
from minatt.ops.fused import Kernel, contiguous
from minatt.ops.softmax import SoftmaxCache

Array = Any

ADDITIVE_TANH = Kernel("additive_tanh", r"""
extern "C" __global__ void additive_tanh(const T* qproj, const T* kproj, i64 N, i64 S, i64 A, T* t_out) {
    FOR_EACH(k, N * S * A) {                           // k = [n, s, a] of (N, S, A)
        i64 n = k / (S * A), a = k % A;
        t_out[k] = tanh(qproj[n * A + a] + kproj[k]);  // t = xp.tanh(qproj[:, None, :] + kproj)
    }
}
""")


def additive_tanh(qproj: Array, kproj: Array) -> Array:
    """t = tanh(qproj[:, None, :] + kproj) in one kernel: qproj (N, A), kproj (N, S, A) -> t (N, S, A)."""
    xp = array_module(qproj)
    qproj, kproj = contiguous(qproj, kproj)
    N, S, A = kproj.shape
    t = xp.empty((N, S, A), dtype=kproj.dtype)
    ADDITIVE_TANH(N * S * A, t.dtype, qproj, kproj, N, S, A, t)
    return t


TANH_OF_SCORES_BACKWARD = Kernel("tanh_of_scores_backward", r"""
extern "C" __global__ void tanh_of_scores_backward(const T* dscores, const T* v, const T* t,
        i64 N, i64 S, i64 A, T* da_out) {
    FOR_EACH(k, N * S * A) {                           // k = [n, s, a] of (N, S, A)
        T dt = dscores[k / A] * v[k % A];              // dt = dscores * v
        da_out[k] = dt * (T(1) - t[k] * t[k]);         // da = dt * (1 - t**2)
    }
}
""")


def tanh_of_scores_backward(dscores: Array, v: Array, t: Array) -> Array:
    """:func:`minatt.ops.scores.tanh_of_scores_backward` in one kernel: dscores (N, S), v (A,), t (N, S, A) -> da."""
    xp = array_module(t)
    dscores, v, t = contiguous(dscores, v, t)
    N, S, A = t.shape
    da = xp.empty((N, S, A), dtype=t.dtype)
    TANH_OF_SCORES_BACKWARD(N * S * A, t.dtype, dscores, v, t, N, S, A, da)
    return da


SOFTMAX_FORWARD = Kernel("softmax_forward", r"""
extern "C" __global__ void softmax_forward(const T* x, const bool* mask, int has_mask, i64 R, i64 S, T* p_out) {
    FOR_EACH(row, R) {                                 // one thread per row of S positions
        const T* x_r = x + row * S;
        const bool* real = mask + row * S;             // (read only when has_mask)
        T* p = p_out + row * S;
        T m = T(0);                                    // m = max over the real positions (0 for none)
        bool seen = false;
        for (i64 s = 0; s < S; ++s)
            if ((!has_mask || real[s]) && (!seen || x_r[s] > m)) { m = x_r[s]; seen = true; }
        T total = T(0);                                // total = e.sum(axis=-1)
        for (i64 s = 0; s < S; ++s) {
            T e = (!has_mask || real[s]) ? exp(x_r[s] - m) : T(0);  // e = exp(filled - m), 0 if ignored
            p[s] = e;
            total += e;
        }
        for (i64 s = 0; s < S; ++s)
            p[s] = p[s] / (total > T(0) ? total : T(1));  // p = e / where(total > 0, total, 1)
    }
}
""")


def softmax_forward(x: Array, mask: Array | None) -> tuple[Array, SoftmaxCache]:
    """:func:`minatt.ops.softmax.softmax_forward` in one kernel: x (..., S), mask broadcastable bool or None."""
    xp = array_module(x)
    (x,) = contiguous(x)
    S = x.shape[-1]
    if mask is not None:
        mask = xp.ascontiguousarray(xp.broadcast_to(xp.asarray(mask, dtype=bool), x.shape))
    p = xp.empty_like(x)
    SOFTMAX_FORWARD(x.size // S, x.dtype, x, x if mask is None else mask, mask is not None, x.size // S, S, p)
    return p, SoftmaxCache(p=p)


SOFTMAX_BACKWARD = Kernel("softmax_backward", r"""
extern "C" __global__ void softmax_backward(const T* dp, const T* p, i64 R, i64 S, T* dx_out) {
    FOR_EACH(row, R) {                                 // one thread per row of S positions
        const T* p_r = p + row * S;
        const T* dp_r = dp + row * S;
        T pdp = T(0);                                  // pdp = (p * dp).sum(axis=-1)
        for (i64 s = 0; s < S; ++s) pdp += p_r[s] * dp_r[s];
        for (i64 s = 0; s < S; ++s)
            dx_out[row * S + s] = p_r[s] * (dp_r[s] - pdp);  // dx = p * (dp - pdp)
    }
}
""")


def softmax_backward(dp: Array, cache: SoftmaxCache) -> Array:
    """:func:`minatt.ops.softmax.softmax_backward` in one kernel: dp (..., S) -> dx (..., S)."""
    xp = array_module(dp)
    dp, p = contiguous(dp, cache.p)
    S = p.shape[-1]
    dx = xp.empty_like(p)
    SOFTMAX_BACKWARD(p.size // S, p.dtype, dp, p, p.size // S, S, dx)
    return dx
