"""The plain tanh RNN step (minatt.ops.rnn): gradient checks, planted bugs, the equations, float32 in and out,
and the gradient over T steps shrinking or growing geometrically, as the module docstring says."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.ops.rnn as rnn_ops
from minatt.backend import asarray, default_dtype, to_numpy
from minatt.gradcheck import format_table, run_case
from minatt.gradcheck.rnn_cases import rnn_step_case
from minatt.ops.rnn import rnn_step_backward, rnn_step_forward
from tests.planting import build, edit, failures, scaled

DA = {"x", "h_prev", "Wx", "Wh", "b"}  # every gradient computed from da


@pytest.mark.parametrize("seed", range(4))
def test_registered_case_passes(backend, seed):
    results = run_case("rnn_step", seed)
    assert all(r.passed for r in results), format_table(results)


@pytest.mark.parametrize("target, plant, kwargs, expected", [
    pytest.param(*edit("rnn_step_backward", "tanh_backward(dh_next, h_next)", "dh_next"), {}, DA, id="drop-tanh-derivative"),
    pytest.param(*edit("rnn_step_backward", "da @ Wh.T", "da @ Wx.T"), {"D": 3, "H": 3}, {"h_prev"}, id="Wx-for-Wh"),
    pytest.param(*edit("rnn_step_backward", "h_prev.T @ da", "x.T @ da"), {"D": 3, "H": 3}, {"Wh"}, id="x-for-h_prev"),
    pytest.param(*edit("rnn_step_backward", "da.sum(axis=0)", "da.sum(axis=0) * 0.5"), {}, {"b"}, id="half-db"),
    pytest.param("rnn_step_backward", lambda f: scaled(f, 2, 1.001), {}, {"Wx"}, id="scale-dWx"),
])
def test_planted_bugs(backend, reference_lines, monkeypatch, target, plant, kwargs, expected):
    monkeypatch.setattr(rnn_ops, target, plant(getattr(rnn_ops, target)))
    assert failures(build(rnn_step_case, 1, **kwargs)) == expected


def test_matches_the_equations(backend):
    rng = np.random.default_rng(0)
    x, h, Wx, Wh, b = (rng.standard_normal(s) for s in [(3, 2), (3, 4), (2, 4), (4, 4), (4,)])
    with default_dtype("float64"):
        out, cache = rnn_ops.rnn_step_forward(*(asarray(a) for a in (x, h, Wx, Wh, b)))
    assert np.allclose(to_numpy(out), np.tanh(x @ Wx + h @ Wh + b))
    assert isinstance(cache, rnn_ops.RNNStepCache) and cache.h_next is out  # the backward reads tanh' from h_next


def test_one_step_back_is_tanh_derivative_then_Wh_transposed():
    """dh_prev = (dh * (1 - h^2)) @ Wh^T: T steps multiply T such factors, which is the vanishing product."""
    rng = np.random.default_rng(1)
    x, h, Wx, Wh, b, dh = (rng.standard_normal(s) for s in [(2, 3), (2, 5), (3, 5), (5, 5), (5,), (2, 5)])
    h_next, cache = rnn_ops.rnn_step_forward(x, h, Wx, Wh, b)
    _, dh_prev, *_ = rnn_ops.rnn_step_backward(dh, cache)
    jacobians = [np.diag(1 - h_next[n] ** 2) @ Wh.T for n in range(2)]  # d h_next / d h_prev, transposed
    assert np.allclose(dh_prev, np.stack([dh[n] @ jacobians[n] for n in range(2)]))


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
