"""The ops against references written plainly here, in float64, sharing no code with minatt.

The library's step and sequence versions of a cell share one cell backward, and its concat score
calls its additive score: checking one against the other cannot catch a bug they share. Here the
forward passes are plain loops of the textbook formulas, and the reference gradients are centred
differences of those loops, so nothing in minatt (not even its gradient checker) is trusted.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from minatt.backend import asarray, to_numpy
from minatt.ops.gru import gru_backward, gru_forward
from minatt.ops.lstm import lstm_backward, lstm_forward
from minatt.ops.scores import (
    additive_score_backward,
    additive_score_forward,
    concat_score_backward,
    concat_score_forward,
)


def sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


def numeric_gradients(loss, arrays: dict[str, np.ndarray], h: float = 1e-6) -> dict[str, np.ndarray]:
    """d loss / d each array, element by element: (loss(x + h) - loss(x - h)) / 2h."""
    grads = {}
    for name, x in arrays.items():
        g = np.zeros_like(x)
        for i in np.ndindex(*x.shape):
            keep = x[i]
            x[i] = keep + h
            up = loss()
            x[i] = keep - h
            down = loss()
            x[i] = keep
            g[i] = (up - down) / (2 * h)
        grads[name] = g
    return grads


def assert_close(ours, reference, names):
    for name, a, b in zip(names, ours, reference):
        np.testing.assert_allclose(to_numpy(a), b, rtol=1e-6, atol=1e-8, err_msg=f"d{name}")


LENGTHS = (4, 0, 2)  # a full row, a fully padded row, a shorter row
N, T, D, H = len(LENGTHS), max(LENGTHS), 3, 2
MASK = np.arange(T)[None, :] < np.array(LENGTHS)[:, None]  # (N, T)


# --- LSTM ------------------------------------------------------------------------------------


def lstm_loop(x, h0, c0, Wx, Wh, b, mask):
    """PyTorch's LSTM, gates i, f, g, o; a padded step keeps h and c and outputs zeros."""
    h, c = h0.copy(), c0.copy()
    hs = np.zeros((N, T, H))
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        real = mask[:, t:t + 1]
        h, c = np.where(real, h_new, h), np.where(real, c_new, c)
        hs[:, t] = np.where(real, h_new, 0.0)
    return hs, h, c


def test_lstm_sequence_matches_a_plain_loop(backend, rng):
    p = {"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H)), "c0": rng.standard_normal((N, H)),
         "Wx": rng.standard_normal((D, 4 * H)) * 0.6, "Wh": rng.standard_normal((H, 4 * H)) * 0.6,
         "b": rng.standard_normal(4 * H) * 0.5}
    dhs, dhT, dcT = rng.standard_normal((N, T, H)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    hs, (hT, cT), cache = lstm_forward(*(asarray(v) for v in p.values()), asarray(MASK))
    ref_hs, ref_hT, ref_cT = lstm_loop(*p.values(), MASK)
    assert_close((hs, hT, cT), (ref_hs, ref_hT, ref_cT), ("hs", "hT", "cT"))

    def loss():
        hs_, hT_, cT_ = lstm_loop(*p.values(), MASK)
        return float(np.sum(hs_ * dhs) + np.sum(hT_ * dhT) + np.sum(cT_ * dcT))

    reference = numeric_gradients(loss, p)
    ours = lstm_backward(asarray(dhs), asarray(dhT), asarray(dcT), cache)
    assert_close(ours, reference.values(), reference.keys())


# --- GRU -------------------------------------------------------------------------------------


def gru_loop(x, h0, Wx, Wh, bx, bh, mask):
    """PyTorch's GRU, gates r, z, n, with r applied to (h Wh_n + bh_n); padded steps keep h."""
    h = h0.copy()
    hs = np.zeros((N, T, H))
    for t in range(T):
        ax, ah = x[:, t] @ Wx + bx, h @ Wh + bh
        r = sigmoid(ax[:, :H] + ah[:, :H])
        z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
        n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
        h_new = (1 - z) * n + z * h
        real = mask[:, t:t + 1]
        h = np.where(real, h_new, h)
        hs[:, t] = np.where(real, h_new, 0.0)
    return hs, h


def test_gru_sequence_matches_a_plain_loop(backend, rng):
    p = {"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H)),
         "Wx": rng.standard_normal((D, 3 * H)) * 0.6, "Wh": rng.standard_normal((H, 3 * H)) * 0.6,
         "bx": rng.standard_normal(3 * H) * 0.5, "bh": rng.standard_normal(3 * H) * 0.5}
    dhs, dhT = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    hs, hT, cache = gru_forward(*(asarray(v) for v in p.values()), asarray(MASK))
    ref_hs, ref_hT = gru_loop(*p.values(), MASK)
    assert_close((hs, hT), (ref_hs, ref_hT), ("hs", "hT"))

    def loss():
        hs_, hT_ = gru_loop(*p.values(), MASK)
        return float(np.sum(hs_ * dhs) + np.sum(hT_ * dhT))

    reference = numeric_gradients(loss, p)
    ours = gru_backward(asarray(dhs), asarray(dhT), cache)
    assert_close(ours, reference.values(), reference.keys())


# --- additive and concat scores ----------------------------------------------------------------

S, HQ, HK, A = 4, 3, 2, 5


def additive_loop(q, keys, Wq, Wk, v):
    """scores[n, s] = sum_a v[a] tanh(sum_i q[n, i] Wq[i, a] + sum_j keys[n, s, j] Wk[j, a]), with math.tanh."""
    scores = np.zeros((q.shape[0], keys.shape[1]))
    for n, s in np.ndindex(*scores.shape):
        for a in range(v.shape[0]):
            u = sum(q[n, i] * Wq[i, a] for i in range(q.shape[1]))
            u += sum(keys[n, s, j] * Wk[j, a] for j in range(keys.shape[2]))
            scores[n, s] += v[a] * math.tanh(u)
    return scores


def concat_loop(q, keys, Wa, v):
    """scores[n, s] = tanh([q[n]; keys[n, s]] Wa) . v, the concatenation built explicitly."""
    scores = np.zeros((q.shape[0], keys.shape[1]))
    for n, s in np.ndindex(*scores.shape):
        qk = np.concatenate([q[n], keys[n, s]])  # (Hq + Hk,)
        scores[n, s] = sum(v[a] * math.tanh(sum(qk[i] * Wa[i, a] for i in range(len(qk)))) for a in range(len(v)))
    return scores


@pytest.mark.parametrize("kind", ["additive", "concat"])
def test_additive_and_concat_scores_match_plain_loops(backend, rng, kind):
    p = {"q": rng.standard_normal((N, HQ)), "keys": rng.standard_normal((N, S, HK))}
    if kind == "additive":
        p |= {"Wq": rng.standard_normal((HQ, A)) * 0.6, "Wk": rng.standard_normal((HK, A)) * 0.6}
        forward, backward, loop = additive_score_forward, additive_score_backward, additive_loop
    else:
        p |= {"Wa": rng.standard_normal((HQ + HK, A)) * 0.6}
        forward, backward, loop = concat_score_forward, concat_score_backward, concat_loop
    p["v"] = rng.standard_normal(A)
    dscores = rng.standard_normal((N, S))
    scores, cache = forward(*(asarray(a) for a in p.values()))
    np.testing.assert_allclose(to_numpy(scores), loop(*p.values()), rtol=1e-12, atol=1e-12)

    reference = numeric_gradients(lambda: float(np.sum(loop(*p.values()) * dscores)), p)
    assert_close(backward(asarray(dscores), cache), reference.values(), reference.keys())
