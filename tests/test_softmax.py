"""Masked softmax: gradient checks, planted bugs the checker must catch, padding and stability."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minatt.backend import asarray, default_dtype, to_numpy
from minatt.gradcheck import GradientCheckError, assert_gradients, build_case, registry, run_case
from minatt.ops import softmax as softmax_ops
from minatt.ops.softmax import softmax_backward, softmax_forward
from minatt.validate import unchecked

SEEDS = range(6)
CASES = ["softmax", "softmax_masked"]


def failing(name: str, seed: int = 0) -> set[str]:
    """The inputs whose gradient check fails for the registered case."""
    return {r.name for r in run_case(name, seed) if not r.passed}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CASES)
def test_gradients(backend, name, seed):
    results = run_case(name, seed)
    assert results and all(r.passed for r in results), "\n".join(r.describe() for r in results)


# --- planted bugs: each must fail, and the checker must name dx ------------------------------


def _drop_sum_term(dp, cache):
    return cache.p * dp  # forgot the - p * sum(p * dp) term


def _scaled(dp, cache):
    return 1.001 * softmax_backward(dp, cache)


def _wrong_sign(dp, cache):
    return -softmax_backward(dp, cache)


def _sum_over_wrong_axis(dp, cache):
    p = cache.p
    return p * (dp - (p * dp).sum(axis=0, keepdims=True))


@pytest.mark.parametrize("bug", [_drop_sum_term, _scaled, _wrong_sign, _sum_over_wrong_axis])
@pytest.mark.parametrize("name", CASES)
def test_planted_bugs_are_caught(backend, reference_lines, monkeypatch, name, bug):
    monkeypatch.setattr(softmax_ops, "softmax_backward", bug)
    case = build_case(name, seed=1)
    with pytest.raises(GradientCheckError, match=r"dx\["):
        assert_gradients(case.fn, case.params)
    assert failing(name, seed=1) == {"x"}


# --- padding --------------------------------------------------------------------------------


def _padded(rng, N=4, S=5):
    lengths = np.array([0, 1, S, 3])[:N]
    return rng.standard_normal((N, S)), np.arange(S)[None, :] < lengths[:, None]


def test_masked_positions_are_exact_zeros(backend, rng):
    x, mask = _padded(rng)
    x = x * 30.0
    p, cache = softmax_forward(asarray(x), asarray(mask))
    dx = to_numpy(softmax_backward(asarray(rng.standard_normal(x.shape) * 5.0), cache))
    p = to_numpy(p)
    assert np.all(p[~mask] == 0.0) and np.all(dx[~mask] == 0.0)
    np.testing.assert_allclose(p.sum(-1), [0.0, 1.0, 1.0, 1.0], rtol=1e-12)
    assert p[1, 0] == 1.0 and dx[1, 0] == 0.0  # a length-1 row: weight 1, no gradient


def test_fully_masked_row_no_nan_no_warning(backend):
    x = asarray(np.array([[1e4, -1e4, 3.0], [0.5, 2.0, -1.0]]))
    mask = asarray(np.array([[False, False, False], [True, False, True]]))
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise", over="raise"):
        warnings.simplefilter("error")
        p, cache = softmax_forward(x, mask)
        dx = softmax_backward(asarray(np.ones((2, 3))), cache)
    p, dx = to_numpy(p), to_numpy(dx)
    assert np.all(p[0] == 0.0) and np.all(dx[0] == 0.0)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(dx))


def test_stable_for_huge_inputs(backend):
    x = np.array([[1000.0, 999.0, -1000.0], [-1e30, -1e30, -1e30]])
    with np.errstate(over="raise", invalid="raise"):
        p = to_numpy(softmax_forward(asarray(x))[0])
    e = np.exp([1.0, 0.0])
    np.testing.assert_allclose(p[0], [e[0] / e.sum(), e[1] / e.sum(), 0.0], atol=1e-15)
    np.testing.assert_allclose(p[1], [1 / 3] * 3)


def test_shift_invariance_and_no_mask_equals_all_true(backend, rng):
    x = rng.standard_normal((2, 3, 4))
    p = to_numpy(softmax_forward(asarray(x))[0])
    np.testing.assert_allclose(to_numpy(softmax_forward(asarray(x + 50.0))[0]), p, rtol=1e-12)
    all_real = asarray(np.ones(x.shape, bool))
    np.testing.assert_array_equal(to_numpy(softmax_forward(asarray(x), all_real)[0]), p)


@unchecked()  # a user's call must pass x's shape; an op inside (scaled_dot_attention) passes an (N, 1, S) mask
def test_broadcast_mask_equals_explicit(backend, rng):
    x = rng.standard_normal((3, 2, 4))
    mask = np.array([[True, True, False, False], [False] * 4, [True] * 4])[:, None, :]  # (3, 1, 4)
    p1, c1 = softmax_forward(asarray(x), asarray(mask))
    p2, c2 = softmax_forward(asarray(x), asarray(np.broadcast_to(mask, x.shape)))
    np.testing.assert_array_equal(to_numpy(p1), to_numpy(p2))
    dp = asarray(rng.standard_normal(x.shape))
    np.testing.assert_array_equal(to_numpy(softmax_backward(dp, c1)), to_numpy(softmax_backward(dp, c2)))


def test_rows_do_not_see_other_rows_masks(backend, rng):
    x = rng.standard_normal((3, 5))
    dp = rng.standard_normal((3, 5))
    outs = []
    for other in ([1, 0, 5], [4, 2, 0]):
        mask = np.arange(5)[None, :] < np.array([3, *other[1:]])[:, None]
        p, cache = softmax_forward(asarray(x), asarray(mask))
        outs.append((to_numpy(p)[0], to_numpy(softmax_backward(asarray(dp), cache))[0]))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


@pytest.mark.parametrize("name", CASES)
def test_float32_runs_and_matches_float64(backend, name):
    with default_dtype("float32"):
        case32 = registry()[name](np.random.default_rng(3))
    case64 = build_case(name, seed=3)
    loss32, g32 = case32.fn(case32.params)
    loss64, g64 = case64.fn(case64.params)
    p32 = softmax_forward(case32.params["x"])[0]
    assert p32.dtype == np.float32 and g32["x"].dtype == np.float32
    np.testing.assert_allclose(loss32, loss64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(to_numpy(g32["x"]), to_numpy(g64["x"]), rtol=1e-3, atol=1e-5)


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 6)),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([0.1, 1.0, 100.0]),
)
def test_property_masked_rows_sum_to_one(backend, shape, seed, scale):
    rng = np.random.default_rng(seed)
    N, S = shape
    lengths = rng.integers(0, S + 1, size=N)
    mask = np.arange(S)[None, :] < lengths[:, None]
    p = to_numpy(softmax_forward(asarray(rng.standard_normal(shape) * scale), asarray(mask))[0])
    assert np.all(np.isfinite(p)) and np.all(p >= 0.0)
    assert np.all(p[~mask] == 0.0)
    np.testing.assert_allclose(p.sum(-1), (lengths > 0).astype(float), rtol=1e-12, atol=1e-12)


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, mask = _padded(rng, N=4, S=6)
    dp = rng.standard_normal(x.shape)
    p, cache = softmax_forward(x, mask)
    dx = softmax_backward(dp, cache)
    real = mask.any(-1)  # torch gives NaN on a fully masked row; compare the others
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    pt = xt.masked_fill(~torch.tensor(mask), float("-inf")).softmax(-1)
    (pt[torch.tensor(real)] * torch.tensor(dp[real])).sum().backward()
    np.testing.assert_allclose(p[real], pt.detach().numpy()[real], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
