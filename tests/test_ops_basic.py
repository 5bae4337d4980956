"""Affine, embedding and cross-entropy: gradient checks, planted bugs the checker must catch, and
the behaviour each op promises (repeats accumulate, padding ignored, float32 stays float32)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minatt
from minatt.backend import array_module, asarray, default_dtype, randn, to_numpy
from minatt.gradcheck import GradientCheckError, assert_gradients, check_gradients, run_case
from minatt.gradcheck.basic_cases import affine_case, cross_entropy_case, embedding_case
from minatt.ops import embedding as embedding_module
from minatt.ops.embedding import embedding_backward, embedding_forward
from minatt.ops.linear import affine_backward, affine_forward
from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward
from minatt.validate import unchecked

TOL = 1e-7


def failing(case) -> set[str]:
    """The names of the arrays whose gradient check fails (tol 1e-7)."""
    return {r.name for r in check_gradients(case.fn, case.params, tol=TOL) if not r.passed}


def build(make, *args, **kwargs):
    """Build a case from a ``*_case`` builder in float64 on the current backend, seeded."""
    with default_dtype("float64"):
        return make(np.random.default_rng(kwargs.pop("seed", 0)), *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Gradient checks: the registry and hand-picked shapes


@pytest.mark.parametrize("name", ["affine", "embedding", "cross_entropy"])
def test_registered_cases_pass(backend, name):
    for seed in range(6):
        results = run_case(name, seed, tol=TOL)
        bad = [r.describe() for r in results if not r.passed]
        assert not bad, bad
        assert {r.op for r in results} == {name}


@pytest.mark.parametrize("lead, D, M", [((), 3, 4), ((1,), 1, 1), ((5,), 4, 2), ((2, 3), 3, 3), ((2, 1, 3), 2, 5)])
def test_affine_gradients(backend, lead, D, M):
    case = build(affine_case, lead, D, M)
    assert_gradients(case.fn, case.params, tol=TOL)


@pytest.mark.parametrize("lead, V, D", [((7,), 3, 2), ((2, 5), 4, 3), ((1, 1), 2, 1)])
def test_embedding_gradients(backend, lead, V, D):
    case = build(embedding_case, lead, V, D)
    assert_gradients(case.fn, case.params, tol=TOL)


@pytest.mark.parametrize("lead, V, ignore_index", [((6,), 5, None), ((2, 4), 3, 0), ((3, 3), 4, -100), ((1, 2), 2, 1)])
def test_cross_entropy_gradients(backend, lead, V, ignore_index):
    case = build(cross_entropy_case, lead, V, ignore_index=ignore_index, seed=3)
    assert_gradients(case.fn, case.params, tol=TOL)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=3),
    D=st.integers(1, 4),
    M=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_affine_gradients_property(backend, lead, D, M, seed):
    case = build(affine_case, tuple(lead), D, M, seed=seed)
    assert not failing(case)


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
    case = build(affine_case, (2, 3), 4, 4, backward=bug)
    assert failing(case) == {culprit}
    with pytest.raises(GradientCheckError, match=f"d{culprit}\\["):
        assert_gradients(case.fn, case.params, tol=TOL)


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
    case = build(embedding_case, (2, 4), 4, 3, backward=bug)
    assert failing(case) == {"W"}
    with pytest.raises(GradientCheckError, match=r"dW\["):
        assert_gradients(case.fn, case.params, tol=TOL)


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
    case = build(cross_entropy_case, (3, 4), 5, ignore_index=0, backward=bug, seed=1)
    assert failing(case) == {"logits"}
    with pytest.raises(GradientCheckError, match=r"dlogits\["):
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
    case = build(embedding_case, (3, 4), 5, 2)
    assert not failing(case)  # the gradient check passes on the add.at path too


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


@pytest.mark.parametrize("dt_shape", [(4, 5, 3), (4, 5, 1), (3,), (1, 1, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@unchecked()  # a user's call must pass t's shape; the formula itself broadcasts
def test_tanh_backward_broadcasts_dt_and_leaves_its_inputs(backend, rng, dt_shape, dtype):
    """tanh_backward: dt * (1 - t^2) for any dt that broadcasts to t, inputs untouched."""
    from minatt.ops.activations import tanh_backward

    xp = array_module(asarray(np.zeros(1)))
    t = xp.tanh(asarray(rng.standard_normal((4, 5, 3)), dtype=dtype))
    dt = asarray(rng.standard_normal(dt_shape), dtype=dtype)
    t_before, dt_before = to_numpy(t).copy(), to_numpy(dt).copy()
    dx = tanh_backward(dt, t)
    assert dx.shape == (4, 5, 3) and dx.dtype == t.dtype
    assert np.allclose(to_numpy(dx), dt_before * (1 - t_before**2), rtol=1e-6)
    assert np.array_equal(to_numpy(t), t_before) and np.array_equal(to_numpy(dt), dt_before)


def test_tanh_backward_when_dt_is_the_larger_array_or_another_dtype(rng):
    from minatt.ops.activations import tanh_backward

    t = np.tanh(rng.standard_normal((5, 1)))
    dt = rng.standard_normal((5, 3))
    with unchecked():  # the math copes; a checked call refuses both (see tests/test_shape_errors.py)
        assert np.allclose(tanh_backward(dt, t), dt * (1 - t**2))  # t broadcasts: a new (5, 3) array
        t32 = t.astype(np.float32)
        dx = tanh_backward(dt, t32)
    assert dx.dtype == np.float64 and np.allclose(dx, dt * (1 - t32.astype(np.float64) ** 2), rtol=1e-6)
