"""The plain tanh RNN step (minatt.ops.rnn): gradient checks, planted bugs, and the vanishing product."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.ops.rnn as rnn_ops
from minatt.backend import asarray, default_dtype, to_numpy
from minatt.gradcheck import format_table, run_case
from minatt.gradcheck.rnn_cases import rnn_step_case
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
