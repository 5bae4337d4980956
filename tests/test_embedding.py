"""Embedding lookup (minatt.ops.embedding): gradient checks, planted bugs the checker must catch, and
the scatter-add its backward promises (repeats accumulate, both paths agree, dtypes kept)."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import array_module, asarray, randn, to_numpy
from minatt.gradcheck import GradientCheckError, assert_gradients, run_case
from minatt.gradcheck.basic_cases import embedding_case
from minatt.ops import embedding as embedding_module
from minatt.ops.embedding import embedding_backward, embedding_forward
from tests.planting import build, failures

TOL = 1e-7


@pytest.mark.parametrize("seed", range(6))
def test_registered_embedding_case_passes(backend, seed):
    results = run_case("embedding", seed, tol=TOL)
    assert results and all(r.passed for r in results), [r.describe() for r in results if not r.passed]
    assert {r.op for r in results} == {"embedding"}


@pytest.mark.parametrize("lead, V, D", [((7,), 3, 2), ((2, 5), 4, 3), ((1, 1), 2, 1)])
def test_embedding_gradients(backend, lead, V, D):
    case = build(embedding_case, lead=lead, V=V, D=D)
    assert_gradients(case.fn, case.params, tol=TOL)


# ---------------------------------------------------------------------------------------------
# Planted bugs: each must fail the check, and the check must name dW


def _embedding_bugs():
    def scaled(dout, cache):
        return embedding_backward(dout, cache) * 1.001

    def wrong_sign(dout, cache):
        return -embedding_backward(dout, cache)

    def overwrites_repeats(dout, cache):  # dW[ids] = dout: a repeated id keeps one row, not the sum
        xp = array_module(dout)
        D = dout.shape[-1]
        dW = xp.zeros((cache.vocab_size, D), dtype=dout.dtype)
        dW[cache.ids.reshape(-1)] = dout.reshape(-1, D)
        return dW

    return [scaled, wrong_sign, overwrites_repeats]


@pytest.mark.parametrize("bug", _embedding_bugs(), ids=lambda f: f.__name__)
def test_embedding_planted_bugs(backend, reference_lines, bug):
    case = build(embedding_case, lead=(2, 4), V=4, D=3, backward=bug)
    assert failures(case, tol=TOL) == {"W"}
    with pytest.raises(GradientCheckError, match=r"dW\["):
        assert_gradients(case.fn, case.params, tol=TOL)


# ---------------------------------------------------------------------------------------------
# Embedding behaviour


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_repeated_ids_accumulate(backend, rng, dtype):
    ids_host = np.array([[1, 1, 3], [1, 0, 3]])
    W = randn(rng, (5, 2), dtype=dtype)
    out, cache = embedding_forward(asarray(ids_host), W)
    np.testing.assert_array_equal(to_numpy(out), to_numpy(W)[ids_host])
    dout_host = rng.standard_normal((2, 3, 2)).astype(dtype)
    dW = embedding_backward(asarray(dout_host), cache)
    assert dW.shape == (5, 2) and dW.dtype == W.dtype
    expected = np.zeros((5, 2))
    for i, j in np.ndindex(*ids_host.shape):  # the naive loop
        expected[ids_host[i, j]] += dout_host[i, j]
    np.testing.assert_allclose(to_numpy(dW), expected, rtol=1e-6, atol=1e-6)
    assert not to_numpy(dW)[[2, 4]].any()  # rows never looked up get exactly zero


def test_embedding_add_at_path_matches_onehot_path(backend, rng, monkeypatch):
    ids = asarray(rng.integers(0, 6, size=(3, 7)))
    W = randn(rng, (6, 4), dtype="float64")
    dout = randn(rng, (3, 7, 4), dtype="float64")
    _, cache = embedding_forward(ids, W)
    onehot_dW = embedding_backward(dout, cache)
    monkeypatch.setattr(embedding_module, "ONEHOT_MAX_VOCAB", 0)
    add_at_dW = embedding_backward(dout, cache)
    np.testing.assert_allclose(to_numpy(add_at_dW), to_numpy(onehot_dW), rtol=1e-12, atol=1e-12)
    case = build(embedding_case, lead=(3, 4), V=5, D=2)
    assert not failures(case, tol=TOL)  # the gradient check passes on the add.at path too

