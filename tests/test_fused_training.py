"""minatt.ops.fused_training: cross-entropy and Adam's update as kernels, against the per-equation reference,
in float32 and float64, on the CPU build and on a GPU."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.ops.fused_training as fused_training
from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward
from minatt.optim import Adam
from tests.fused_harness import DTYPES, assert_agree, draw, host, reference


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ignore_index", [None, 0])
def test_fused_cross_entropy(device_xp, dtype, ignore_index):
    xp, rng = device_xp, np.random.default_rng(5)
    logits = draw(xp, rng, (3, 4, 6), dtype, 3.0)
    targets = xp.asarray(rng.integers(0, 6, (3, 4)))
    got = fused_training.cross_entropy_forward(logits, targets, ignore_index)
    want = reference(cross_entropy_forward, logits, targets, ignore_index)
    assert host(got[0]).shape == () and host(got[1].n_counted) == host(want[1].n_counted)
    assert_agree([got[0], got[1].p], [want[0], want[1].p], dtype)
    assert_agree([fused_training.cross_entropy_backward(got[1], 0.7)], [reference(cross_entropy_backward, want[1], 0.7)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_adam(device_xp, dtype):
    xp, rng = device_xp, np.random.default_rng(6)
    start = {"W": draw(xp, rng, (3, 4), dtype), "b": draw(xp, rng, (4,), dtype)}
    runs = []
    for use_fused in (True, False):
        params = {k: p.copy() for k, p in start.items()}
        opt = Adam(params, lr=0.01)
        for step in range(3):
            grads = {k: draw(xp, np.random.default_rng(step), p.shape, dtype) for k, p in params.items()}
            if use_fused:
                for name, p in params.items():
                    fused_training.adam_update(p, grads[name], opt.state["m"][name], opt.state["v"][name], 0.01,
                                      opt.beta1, opt.beta2, opt.eps, step + 1)
                opt.t += 1
            else:
                reference(opt.step, grads)
        runs.append([params["W"], params["b"], opt.state["m"]["W"], opt.state["v"]["b"]])
    assert_agree(runs[0], runs[1], dtype)
