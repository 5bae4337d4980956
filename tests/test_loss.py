"""Softmax cross-entropy (minatt.ops.loss): gradient checks, planted bugs the checker must catch, and the
loss and gradient against a naive token-by-token reference and PyTorch (padding ignored, stable, dtypes)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minatt
from minatt.backend import array_module, asarray, randn, to_numpy
from minatt.gradcheck import GradientCheckError, assert_gradients, run_case
from minatt.gradcheck.basic_cases import cross_entropy_case
from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward
from tests.planting import build, failures

TOL = 1e-7


@pytest.mark.parametrize("seed", range(6))
def test_registered_cross_entropy_case_passes(backend, seed):
    results = run_case("cross_entropy", seed, tol=TOL)
    assert results and all(r.passed for r in results), [r.describe() for r in results if not r.passed]
    assert {r.op for r in results} == {"cross_entropy"}


@pytest.mark.parametrize("lead, V, ignore_index", [((6,), 5, None), ((2, 4), 3, 0), ((3, 3), 4, -100), ((1, 2), 2, 1)])
def test_cross_entropy_gradients(backend, lead, V, ignore_index):
    case = build(cross_entropy_case, 3, lead=lead, V=V, ignore_index=ignore_index)
    assert_gradients(case.fn, case.params, tol=TOL)


# ---------------------------------------------------------------------------------------------
# Planted bugs: each must fail the check, and the check must name dlogits


def _onehot(cache):
    xp = array_module(cache.p)
    return (cache.safe_targets[:, None] == xp.arange(cache.p.shape[1])).astype(cache.p.dtype)  # (K, V)


def _cross_entropy_bugs():
    def scaled(cache, dloss=1.0):
        return cross_entropy_backward(cache, dloss) * 1.001

    def wrong_sign(cache, dloss=1.0):
        return -cross_entropy_backward(cache, dloss)

    def no_onehot_term(cache, dloss=1.0):  # p instead of p - onehot
        d = cache.p * cache.counted[:, None] * (dloss / cache.n_counted)
        return d.reshape(cache.logits_shape)

    def padding_not_masked(cache, dloss=1.0):  # ignored tokens get a gradient too
        return ((cache.p - _onehot(cache)) * (dloss / cache.n_counted)).reshape(cache.logits_shape)

    def mean_over_all_tokens(cache, dloss=1.0):  # divides by K instead of the counted n
        d = (cache.p - _onehot(cache)) * cache.counted[:, None] * (dloss / cache.p.shape[0])
        return d.reshape(cache.logits_shape)

    def dloss_dropped(cache, dloss=1.0):
        return cross_entropy_backward(cache, 1.0)

    return [scaled, wrong_sign, no_onehot_term, padding_not_masked, mean_over_all_tokens, dloss_dropped]


@pytest.mark.parametrize("bug", _cross_entropy_bugs(), ids=lambda f: f.__name__)
def test_cross_entropy_planted_bugs(backend, reference_lines, bug):
    case = build(cross_entropy_case, 1, lead=(3, 4), V=5, ignore_index=0, backward=bug)
    assert failures(case, tol=TOL) == {"logits"}
    with pytest.raises(GradientCheckError, match=r"dlogits\["):
        assert_gradients(case.fn, case.params, tol=TOL)


# ---------------------------------------------------------------------------------------------
# Cross-entropy behaviour


def naive_cross_entropy(logits, targets, ignore_index=None) -> float:
    """Token by token in float64 with math.log/exp: the mean of -log softmax(logits)[target]."""
    logits = np.asarray(logits, dtype=np.float64).reshape(-1, logits.shape[-1])
    total, count = 0.0, 0
    for row, t in zip(logits, np.asarray(targets).reshape(-1)):
        if ignore_index is not None and t == ignore_index:
            continue
        m = max(row)
        total -= row[t] - m - math.log(sum(math.exp(v - m) for v in row))
        count += 1
    return total / count if count else 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ignore_index", [None, 0, -100, 3])  # 3: an id inside the vocabulary
def test_cross_entropy_matches_naive(backend, rng, dtype, ignore_index):
    targets_host = rng.integers(0, 5, size=(3, 4))
    if ignore_index is not None:
        targets_host[0, :2] = ignore_index
    logits = randn(rng, (3, 4, 5), 2.0, dtype=dtype)
    loss, cache = cross_entropy_forward(logits, asarray(targets_host), ignore_index)
    assert loss.shape == () and array_module(loss) is backend  # on the device: reading it is the caller's choice
    loss = float(loss)
    expected = naive_cross_entropy(to_numpy(logits), targets_host, ignore_index)
    assert loss == pytest.approx(expected, rel=1e-5 if dtype == "float32" else 1e-12)
    dlogits = cross_entropy_backward(cache)
    assert dlogits.shape == logits.shape and dlogits.dtype == logits.dtype
    host = to_numpy(logits).astype(np.float64)  # naive: (softmax - onehot) / counted, 0 where ignored
    p = np.exp(host - host.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    counted = targets_host != ignore_index if ignore_index is not None else np.ones(targets_host.shape, bool)
    expected = (p - np.eye(5)[np.where(counted, targets_host, 0)]) * counted[..., None] / max(counted.sum(), 1)
    np.testing.assert_allclose(to_numpy(dlogits), expected, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-7)


def test_cross_entropy_ignores_padding(backend, rng):
    targets_host = np.array([[2, 4, 0, 0], [1, 0, 0, 0], [3, 3, 1, 2]])  # PAD = 0 ends the short rows
    logits_host = rng.standard_normal((3, 4, 5))
    targets = asarray(targets_host)
    loss, cache = cross_entropy_forward(asarray(logits_host), targets, ignore_index=0)
    dlogits = to_numpy(cross_entropy_backward(cache))
    pad = targets_host == 0
    assert np.all(dlogits[pad] == 0.0)  # exactly zero, not merely small
    assert np.all(np.abs(dlogits[~pad]).sum(-1) > 0)
    np.testing.assert_allclose(dlogits[~pad].sum(-1), 0.0, atol=1e-12)  # each counted row: sum(p) - 1 = 0
    changed = logits_host.copy()
    changed[pad] = rng.standard_normal((int(pad.sum()), 5)) * 10.0  # whatever sits under padding
    assert cross_entropy_forward(asarray(changed), targets, ignore_index=0)[0] == loss
    assert float(loss) == pytest.approx(naive_cross_entropy(logits_host[~pad][None], targets_host[~pad]), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_nothing_counted(backend, rng, dtype):
    logits = randn(rng, (2, 3, 4), dtype=dtype)
    loss, cache = cross_entropy_forward(logits, asarray(np.zeros((2, 3), dtype=np.int64)), ignore_index=0)
    dlogits = cross_entropy_backward(cache, 2.5)
    assert loss == 0.0
    assert dlogits.dtype == logits.dtype and not to_numpy(dlogits).any()


def test_cross_entropy_stable_for_huge_logits(backend):
    logits_host = np.array([[1e4, -1e4, 0.0], [-3e4, -3e4 + 1.0, -3e4 - 1.0], [80.0, 90.0, 100.0]])
    targets_host = np.array([1, 0, 2])
    expected = naive_cross_entropy(logits_host, targets_host)
    for dtype in ("float32", "float64"):
        loss, cache = cross_entropy_forward(asarray(logits_host, dtype=dtype), asarray(targets_host))
        dlogits = to_numpy(cross_entropy_backward(cache))
        assert math.isfinite(loss) and np.all(np.isfinite(dlogits))
        assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_cross_entropy_float32_close_to_float64(backend, rng):
    logits64 = randn(rng, (4, 6, 7), 3.0, dtype="float64")
    targets = asarray(rng.integers(0, 7, size=(4, 6)))
    loss64, cache64 = cross_entropy_forward(logits64, targets, ignore_index=0)
    loss32, cache32 = cross_entropy_forward(logits64.astype("float32"), targets, ignore_index=0)
    assert float(loss32) == pytest.approx(float(loss64), rel=1e-5)
    d32, d64 = cross_entropy_backward(cache32, 0.5), cross_entropy_backward(cache64, 0.5)
    assert d32.dtype == np.float32
    np.testing.assert_allclose(to_numpy(d32), to_numpy(d64), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("ignore_index", [0, -100])
def test_cross_entropy_matches_torch(rng, ignore_index):
    torch = pytest.importorskip("torch")
    targets_host = rng.integers(0, 6, size=(3, 5))
    targets_host[1, 3:] = ignore_index
    logits_host = rng.standard_normal((3, 5, 6)) * 2.0
    with minatt.use("numpy"):
        loss, cache = cross_entropy_forward(logits_host, targets_host, ignore_index)
        dlogits = cross_entropy_backward(cache, 0.7)
    t_logits = torch.tensor(logits_host.reshape(-1, 6), dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(
        t_logits, torch.tensor(targets_host.reshape(-1)), ignore_index=ignore_index
    )
    (t_loss * 0.7).backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    np.testing.assert_allclose(dlogits.reshape(-1, 6), t_logits.grad.numpy(), rtol=1e-10, atol=1e-14)
