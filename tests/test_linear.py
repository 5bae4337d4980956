"""The affine map (minatt.ops.linear): gradient checks, planted bugs the checker must catch, and the
forward and backward against their naive einsums in both float dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minatt.backend import randn, to_numpy
from minatt.gradcheck import GradientCheckError, assert_gradients, run_case
from minatt.gradcheck.basic_cases import affine_case
from minatt.ops.linear import affine_backward, affine_forward
from tests.planting import build, failures

TOL = 1e-7


@pytest.mark.parametrize("seed", range(6))
def test_registered_affine_case_passes(backend, seed):
    results = run_case("affine", seed, tol=TOL)
    assert results and all(r.passed for r in results), [r.describe() for r in results if not r.passed]
    assert {r.op for r in results} == {"affine"}


@pytest.mark.parametrize("lead, D, M", [((), 3, 4), ((1,), 1, 1), ((5,), 4, 2), ((2, 3), 3, 3), ((2, 1, 3), 2, 5)])
def test_affine_gradients(backend, lead, D, M):
    case = build(affine_case, lead=lead, D=D, M=M)
    assert_gradients(case.fn, case.params, tol=TOL)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=3),
    D=st.integers(1, 4),
    M=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_affine_gradients_property(backend, lead, D, M, seed):
    case = build(affine_case, seed, lead=tuple(lead), D=D, M=M)
    assert not failures(case, tol=TOL)


# ---------------------------------------------------------------------------------------------
# Planted bugs: each must fail the check, and the check must name the right gradient


def _affine_bugs():
    def scale_dx(dout, cache):
        dx, dW, db = affine_backward(dout, cache)
        return dx * 1.001, dW, db

    def scale_dW(dout, cache):
        dx, dW, db = affine_backward(dout, cache)
        return dx, dW * 1.001, db

    def bias_not_summed(dout, cache):  # db from the first row only
        dx, dW, _ = affine_backward(dout, cache)
        return dx, dW, dout.reshape(-1, dout.shape[-1])[0]

    def W_not_transposed(dout, cache):  # dx = dout @ W instead of dout @ W.T (W square)
        _, dW, db = affine_backward(dout, cache)
        return (dout.reshape(-1, dout.shape[-1]) @ cache.W).reshape(cache.x_shape), dW, db

    def dW_wrong_sign(dout, cache):
        dx, dW, db = affine_backward(dout, cache)
        return dx, -dW, db

    return [(scale_dx, "x"), (scale_dW, "W"), (bias_not_summed, "b"), (W_not_transposed, "x"), (dW_wrong_sign, "W")]


@pytest.mark.parametrize("bug, culprit", _affine_bugs(), ids=lambda v: getattr(v, "__name__", v))
def test_affine_planted_bugs(backend, reference_lines, bug, culprit):
    case = build(affine_case, lead=(2, 3), D=4, M=4, backward=bug)
    assert failures(case, tol=TOL) == {culprit}
    with pytest.raises(GradientCheckError, match=f"d{culprit}\\["):
        assert_gradients(case.fn, case.params, tol=TOL)


# ---------------------------------------------------------------------------------------------
# Affine behaviour


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_affine_matches_naive_and_keeps_dtype(backend, rng, dtype):
    x, W, b = randn(rng, (2, 3, 4), dtype=dtype), randn(rng, (4, 5), dtype=dtype), randn(rng, (5,), dtype=dtype)
    out, cache = affine_forward(x, W, b)
    assert out.shape == (2, 3, 5) and out.dtype == x.dtype
    expected = np.einsum("ntd,dm->ntm", to_numpy(x).astype(np.float64), to_numpy(W).astype(np.float64))
    np.testing.assert_allclose(to_numpy(out), expected + to_numpy(b), rtol=1e-5, atol=1e-5)
    dout = randn(rng, (2, 3, 5), dtype=dtype)
    dx, dW, db = affine_backward(dout, cache)
    assert (dx.shape, dW.shape, db.shape) == ((2, 3, 4), (4, 5), (5,))
    assert dx.dtype == dW.dtype == db.dtype == x.dtype
    g, xh, Wh = (to_numpy(a).astype(np.float64) for a in (dout, x, W))  # dx = g W^T, dW = sum x^T g, db = sum g
    for ours, naive in zip((dx, dW, db), (np.einsum("ntm,dm->ntd", g, Wh), np.einsum("ntd,ntm->dm", xh, g),
                                          g.sum(axis=(0, 1)))):
        np.testing.assert_allclose(to_numpy(ours), naive, rtol=1e-5, atol=1e-5)


def test_affine_float32_close_to_float64(backend, rng):
    args64 = [randn(rng, s, dtype="float64") for s in [(3, 2, 4), (4, 3), (3,)]]
    dout64 = randn(rng, (3, 2, 3), dtype="float64")
    out64, cache64 = affine_forward(*args64)
    out32, cache32 = affine_forward(*[a.astype("float32") for a in args64])
    np.testing.assert_allclose(to_numpy(out32), to_numpy(out64), rtol=1e-5, atol=1e-5)
    for g32, g64 in zip(affine_backward(dout64.astype("float32"), cache32), affine_backward(dout64, cache64)):
        np.testing.assert_allclose(to_numpy(g32), to_numpy(g64), rtol=1e-5, atol=1e-5)

