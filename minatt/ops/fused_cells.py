"""The LSTM and GRU cells, forward and backward, each as ONE CUDA kernel (see minatt/ops/fused.py).

Each kernel is its reference in minatt/ops/lstm.py or gru.py, line for line: thread k owns element
(n, j) of the (N, H) outputs, reads its four (or three) gate pre-activations from row n of a, and
runs the reference's equations on single numbers, the NumPy line beside each. C has no ``do``
variable (a keyword), so the LSTM's output-gate gradient is ``do_``.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import array_module
from minatt.ops.fused import Kernel, contiguous
from minatt.ops.gru import GRUCellCache
from minatt.ops.lstm import LSTMCellCache

Array = Any

LSTM_CELL_FORWARD = Kernel("lstm_cell_forward", r"""
extern "C" __global__ void lstm_cell_forward(const T* a, const T* c_prev, i64 N, i64 H,
        T* h_next_out, T* c_next_out, T* i_out, T* f_out, T* g_out, T* o_out, T* tc_out) {
    FOR_EACH(k, N * H) {
        const T* a_row = a + (k / H) * 4 * H + k % H;  // a[n, j]: the i block; +H f, +2H g, +3H o
        T i = sigmoid(a_row[0]);                       // i  = sigmoid(a_i)
        T f = sigmoid(a_row[H]);                       // f  = sigmoid(a_f)
        T g = tanh(a_row[2 * H]);                      // g  = xp.tanh(a_g)
        T o = sigmoid(a_row[3 * H]);                   // o  = sigmoid(a_o)
        T c_next = f * c_prev[k] + i * g;              // c  = f * c_prev + i * g
        T tc = tanh(c_next);                           // tc = xp.tanh(c)
        T h_next = o * tc;                             // h  = o * tc
        h_next_out[k] = h_next; c_next_out[k] = c_next;
        i_out[k] = i; f_out[k] = f; g_out[k] = g; o_out[k] = o; tc_out[k] = tc;  // the cache
    }
}
""")


def lstm_cell_forward(a: Array, c_prev: Array) -> tuple[Array, Array, LSTMCellCache]:
    """:func:`minatt.ops.lstm.lstm_cell_forward` in one kernel: a (N, 4H), c_prev (N, H) -> h_next, c_next, cache."""
    xp = array_module(a)
    a, c_prev = contiguous(a, c_prev)
    N, H = c_prev.shape
    h_next, c_next, i, f, g, o, tc = (xp.empty((N, H), dtype=a.dtype) for _ in range(7))
    LSTM_CELL_FORWARD(N * H, a.dtype, a, c_prev, N, H, h_next, c_next, i, f, g, o, tc)
    return h_next, c_next, LSTMCellCache(i, f, g, o, c_prev, tc)


LSTM_CELL_BACKWARD = Kernel("lstm_cell_backward", r"""
extern "C" __global__ void lstm_cell_backward(const T* dh_next_in, const T* dc_next_in, int has_dc_next,
        const T* i_in, const T* f_in, const T* g_in, const T* o_in, const T* c_prev_in, const T* tc_in,
        i64 N, i64 H, T* da_out, T* dc_prev_out) {
    FOR_EACH(k, N * H) {
        T i = i_in[k], f = f_in[k], g = g_in[k], o = o_in[k], c_prev = c_prev_in[k], tc = tc_in[k];  // = cache
        T dh_next = dh_next_in[k];
        T dc_next = has_dc_next ? dc_next_in[k] : T(0);  // dc = zeros when None
        T do_ = dh_next * tc;                            // do      = dh * tc
        T dc_t = dc_next + dh_next * o * (T(1) - tc * tc);  // dc_t = dc + tanh_backward(dh * o, tc)
        T di = dc_t * g;                                 // di      = dc_t * g
        T df = dc_t * c_prev;                            // df      = dc_t * c_prev
        T dg = dc_t * i;                                 // dg      = dc_t * i
        T dc_prev = dc_t * f;                            // dc_prev = dc_t * f
        T* da_row = da_out + (k / H) * 4 * H + k % H;   // da[n, j] and the three blocks after it
        da_row[0] = di * i * (T(1) - i);                 // sigmoid_backward(di, i)
        da_row[H] = df * f * (T(1) - f);                 // sigmoid_backward(df, f)
        da_row[2 * H] = dg * (T(1) - g * g);             // tanh_backward(dg, g)
        da_row[3 * H] = do_ * o * (T(1) - o);            // sigmoid_backward(do, o)
        dc_prev_out[k] = dc_prev;
    }
}
""")


def lstm_cell_backward(dh_next: Array, dc_next: Array | None, cache: LSTMCellCache) -> tuple[Array, Array]:
    """:func:`minatt.ops.lstm.lstm_cell_backward` in one kernel: dh_next, dc_next (N, H) or None -> da (N, 4H), dc_prev."""
    xp = array_module(dh_next)
    (dh_next,) = contiguous(dh_next)
    dc_in = dh_next if dc_next is None else contiguous(dc_next)[0]  # not read when None
    i, f, g, o, c_prev, tc = contiguous(*cache)
    N, H = dh_next.shape
    da = xp.empty((N, 4 * H), dtype=dh_next.dtype)
    dc_prev = xp.empty((N, H), dtype=dh_next.dtype)
    LSTM_CELL_BACKWARD(N * H, dh_next.dtype, dh_next, dc_in, dc_next is not None, i, f, g, o, c_prev, tc,
                       N, H, da, dc_prev)
    return da, dc_prev


GRU_CELL_FORWARD = Kernel("gru_cell_forward", r"""
extern "C" __global__ void gru_cell_forward(const T* ax, const T* ah, const T* h_prev, i64 N, i64 H,
        T* h_next_out, T* r_out, T* z_out, T* n_out, T* ah_n_out) {
    FOR_EACH(k, N * H) {
        i64 at = (k / H) * 3 * H + k % H;              // [n, j] of the r block; +H z, +2H n
        T r = sigmoid(ax[at] + ah[at]);                // r  = sigmoid(ax_r + ah_r)
        T z = sigmoid(ax[at + H] + ah[at + H]);        // z  = sigmoid(ax_z + ah_z)
        T ah_n = ah[at + 2 * H];                       // ah_n, the n block of ah
        T n = tanh(ax[at + 2 * H] + r * ah_n);         // n  = xp.tanh(ax_n + r * ah_n)
        T h_next = (T(1) - z) * n + z * h_prev[k];     // h  = (1 - z) * n + z * h_prev
        h_next_out[k] = h_next;
        r_out[k] = r; z_out[k] = z; n_out[k] = n; ah_n_out[k] = ah_n;  // the cache
    }
}
""")


def gru_cell_forward(ax: Array, ah: Array, h_prev: Array) -> tuple[Array, GRUCellCache]:
    """:func:`minatt.ops.gru.gru_cell_forward` in one kernel: ax, ah (N, 3H), h_prev (N, H) -> h_next, cache."""
    xp = array_module(ax)
    ax, ah, h_prev = contiguous(ax, ah, h_prev)
    N, H = h_prev.shape
    h_next, r, z, n, ah_n = (xp.empty((N, H), dtype=ax.dtype) for _ in range(5))
    GRU_CELL_FORWARD(N * H, ax.dtype, ax, ah, h_prev, N, H, h_next, r, z, n, ah_n)
    return h_next, GRUCellCache(r, z, n, ah_n, h_prev)


GRU_CELL_BACKWARD = Kernel("gru_cell_backward", r"""
extern "C" __global__ void gru_cell_backward(const T* dh_next_in, const T* r_in, const T* z_in,
        const T* n_in, const T* ah_n_in, const T* h_prev_in, i64 N, i64 H,
        T* dax_out, T* dah_out, T* dh_direct_out) {
    FOR_EACH(k, N * H) {
        T r = r_in[k], z = z_in[k], n = n_in[k], ah_n = ah_n_in[k], h_prev = h_prev_in[k];  // = cache
        T dh_next = dh_next_in[k];
        T dn = dh_next * (T(1) - z);                   // dn    = dh * (1 - z)
        T dz = dh_next * (h_prev - n);                 // dz    = dh * (h_prev - n)
        T da_nx = dn * (T(1) - n * n);                 // da_nx = tanh_backward(dn, n)
        T dr = da_nx * ah_n;                           // dr    = da_nx * ah_n
        T da_r = dr * r * (T(1) - r);                  // da_r  = sigmoid_backward(dr, r)
        T da_z = dz * z * (T(1) - z);                  // da_z  = sigmoid_backward(dz, z)
        T da_nh = da_nx * r;                           // da_nh = da_nx * r
        i64 at = (k / H) * 3 * H + k % H;              // [n, j] of the r block; +H z, +2H n
        dax_out[at] = da_r; dax_out[at + H] = da_z; dax_out[at + 2 * H] = da_nx;  // dax = [da_r, da_z, da_nx]
        dah_out[at] = da_r; dah_out[at + H] = da_z; dah_out[at + 2 * H] = da_nh;  // dah = [da_r, da_z, da_nh]
        dh_direct_out[k] = dh_next * z;                // the direct part dh * z of dh_prev
    }
}
""")


def gru_cell_backward(dh_next: Array, cache: GRUCellCache) -> tuple[Array, Array, Array]:
    """:func:`minatt.ops.gru.gru_cell_backward` in one kernel: dh_next (N, H) -> dax, dah (N, 3H), dh_next * z."""
    xp = array_module(dh_next)
    dh_next, r, z, n, ah_n, h_prev = contiguous(dh_next, *cache)
    N, H = dh_next.shape
    dax = xp.empty((N, 3 * H), dtype=dh_next.dtype)
    dah = xp.empty_like(dax)
    dh_direct = xp.empty((N, H), dtype=dh_next.dtype)
    GRU_CELL_BACKWARD(N * H, dh_next.dtype, dh_next, r, z, n, ah_n, h_prev, N, H, dax, dah, dh_direct)
    return dax, dah, dh_direct
