"""minatt.ops.fused_attention: the additive score's tanh and the masked softmax as kernels, against the
per-equation reference, in float32 and float64, on the CPU build and on a GPU."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.ops.fused_attention as fused_attention
from minatt.ops.scores import additive_score_projected_forward, tanh_of_scores_backward
from minatt.ops.softmax import softmax_backward, softmax_forward
from tests.fused_harness import DTYPES, assert_agree, draw, reference


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_additive_tanh(device_xp, dtype):
    xp, rng = device_xp, np.random.default_rng(3)
    q, kproj, Wq, v, dscores = (draw(xp, rng, s, dtype) for s in ((3, 4), (3, 5, 6), (4, 6), (6,), (3, 5)))
    qproj = q @ Wq
    assert_agree([fused_attention.additive_tanh(qproj, kproj)], [xp.tanh(qproj[:, None, :] + kproj)], dtype)
    t = reference(additive_score_projected_forward, q, kproj, Wq, v)[1].t
    assert_agree([fused_attention.tanh_of_scores_backward(dscores, v, t)], [reference(tanh_of_scores_backward, dscores, v, t)],
                 dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_shape", [None, (4, 7), (4, 1, 7)])
def test_fused_masked_softmax(device_xp, dtype, mask_shape):
    xp, rng = device_xp, np.random.default_rng(4)
    shape = (4, 7) if mask_shape != (4, 1, 7) else (4, 3, 7)
    x, dp = draw(xp, rng, shape, dtype, 4.0), draw(xp, rng, shape, dtype)
    mask = None
    if mask_shape is not None:
        host_mask = rng.random(mask_shape) < 0.6
        host_mask[0] = False  # a fully masked row: all zeros, never NaN
        mask = xp.asarray(host_mask)
    full = None if mask is None else xp.broadcast_to(mask, shape)  # the op's contract wants x's shape
    got, want = fused_attention.softmax_forward(x, mask), reference(softmax_forward, x, full)
    assert_agree([got[0]], [want[0]], dtype)
    assert_agree([fused_attention.softmax_backward(dp, got[1])], [reference(softmax_backward, dp, want[1])], dtype)
