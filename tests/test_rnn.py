"""The plain tanh RNN step (minatt.ops.rnn): float32 in, float32 out, and the gradient over T steps shrinking
or growing geometrically, as the module docstring says (gradient checks, planted bugs: tests/test_rnn_cell.py)."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import asarray, to_numpy
from minatt.ops.rnn import rnn_step_backward, rnn_step_forward


def test_float32_stays_float32_and_matches_float64(backend, rng):
    shapes = [(3, 2), (3, 4), (2, 4), (4, 4), (4,)]  # x (N, D), h_prev (N, H), Wx, Wh, b
    host = [rng.standard_normal(s) for s in shapes]
    dh_next = rng.standard_normal((3, 4))
    outs = {}
    for dtype in ("float32", "float64"):
        h_next, cache = rnn_step_forward(*(asarray(a, dtype=dtype) for a in host))
        outs[dtype] = (h_next, *rnn_step_backward(asarray(dh_next, dtype=dtype), cache))
    assert all(o.dtype == np.float32 for o in outs["float32"])  # h_next, dx, dh_prev, dWx, dWh, db
    for ours, exact in zip(outs["float32"], outs["float64"], strict=True):
        np.testing.assert_allclose(to_numpy(ours), to_numpy(exact), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("scale", [0.5, 1.5])
def test_the_gradient_shrinks_or_grows_geometrically(backend, rng, scale):
    """Each step back multiplies the gradient by diag(1 - h_next^2), then by Wh^T. With tiny inputs every h stays
    near 0, so 1 - h_next^2 is 1 to within 1e-9 and only Wh^T is left: with Wh = scale * (an orthogonal
    matrix), T steps multiply the gradient's norm by scale^T, the vanishing (or exploding) product."""
    N, D, H, T = 2, 3, 4, 12
    u, _, vt = np.linalg.svd(rng.standard_normal((H, H)))
    Wh = asarray(scale * u @ vt)  # every singular value is scale
    Wx, b = asarray(rng.standard_normal((D, H))), asarray(np.zeros(H))
    h_prev, caches = asarray(np.zeros((N, H))), []  # h0
    for _ in range(T):
        h_next, cache = rnn_step_forward(asarray(1e-8 * rng.standard_normal((N, D))), h_prev, Wx, Wh, b)
        h_prev = h_next
        caches.append(cache)
    dh_T = rng.standard_normal((N, H))  # arriving at the last h_next
    dh_next = asarray(dh_T)
    for cache in reversed(caches):
        dh_prev = rnn_step_backward(dh_next, cache)[1]
        dh_next = dh_prev  # one step's dh_prev is the gradient at the step before's h_next
    dh0 = to_numpy(dh_prev)
    change = np.linalg.norm(dh0, axis=1) / np.linalg.norm(dh_T, axis=1)
    np.testing.assert_allclose(change, scale**T, rtol=1e-8)
