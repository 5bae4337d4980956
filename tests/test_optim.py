"""Optimisers, clipping and schedules: the math by hand, in-place updates, exact resume, dtypes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from minatt.backend import array_module, to_numpy
from minatt.optim import SGD, Adam, clip_grad_norm, constant, warmup_decay


def make_params(xp, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return {"W": xp.asarray(rng.standard_normal((3, 4)).astype(dtype)),
            "b": xp.asarray(rng.standard_normal(4).astype(dtype))}


def grads_like(xp, params, seed):
    rng = np.random.default_rng(seed)
    return {k: xp.asarray(rng.standard_normal(p.shape).astype(p.dtype)) for k, p in params.items()}


def quadratic(xp, params, scale, centre):
    """f = 0.5 * sum(scale * (p - centre)^2) over all params; returns (f, grads)."""
    loss, grads = 0.0, {}
    for k, p in params.items():
        diff = p - centre[k]
        loss += 0.5 * float(xp.sum(scale[k] * diff * diff))
        grads[k] = scale[k] * diff
    return loss, grads


@pytest.mark.parametrize("make_opt", [lambda p: SGD(p, lr=0.1), lambda p: SGD(p, lr=0.05, momentum=0.9),
                                      lambda p: Adam(p, lr=0.05)], ids=["sgd", "momentum", "adam"])
def test_optimisers_minimise_a_quadratic(backend, make_opt):
    xp = backend
    params = make_params(xp)
    ids = {k: id(p) for k, p in params.items()}
    scale = {k: xp.asarray(np.linspace(0.5, 2.0, p.size).reshape(p.shape)) for k, p in params.items()}
    centre = grads_like(xp, params, 9)
    opt = make_opt(params)
    first, _ = quadratic(xp, params, scale, centre)
    for _ in range(300):
        _, grads = quadratic(xp, params, scale, centre)
        opt.step(grads)
    last, _ = quadratic(xp, params, scale, centre)
    assert last < 1e-3 * first
    assert {k: id(p) for k, p in params.items()} == ids  # updated in place


def test_sgd_momentum_matches_hand_computation(backend):
    xp = backend
    params = make_params(xp)
    p0 = {k: to_numpy(p).copy() for k, p in params.items()}
    gs = [grads_like(xp, params, s) for s in (1, 2, 3)]
    opt = SGD(params, lr=0.1, momentum=0.9)
    for g in gs:
        opt.step(g)
    g1, g2, g3 = ({k: to_numpy(g[k]) for k in g} for g in gs)
    for k in params:
        v1 = g1[k]
        v2 = 0.9 * v1 + g2[k]
        v3 = 0.9 * v2 + g3[k]
        expected = p0[k] - 0.1 * v1 - 0.1 * v2 - 0.1 * v3
        np.testing.assert_allclose(to_numpy(params[k]), expected, rtol=1e-12, atol=1e-12)


def test_plain_sgd_and_lr_override(backend):
    xp = backend
    params = make_params(xp)
    p0 = {k: to_numpy(p).copy() for k, p in params.items()}
    g = grads_like(xp, params, 1)
    opt = SGD(params, lr=0.1)
    opt.step(g, lr=0.5)
    for k in params:
        np.testing.assert_allclose(to_numpy(params[k]), p0[k] - 0.5 * to_numpy(g[k]), rtol=1e-12)
    assert opt.lr == 0.1 and opt.state == {}


def test_adam_first_step_is_lr_times_sign(backend):
    xp = backend
    for dtype in ("float64", "float32"):
        params = make_params(xp, dtype)
        p0 = {k: to_numpy(p).copy() for k, p in params.items()}
        g = {k: xp.sign(a) * (0.1 + abs(a)) for k, a in grads_like(xp, params, 4).items()}  # |g| >> eps
        g["b"][0] = 0.0  # a zero gradient does not move its parameter
        Adam(params, lr=0.01).step(g)
        for k in params:
            step = (p0[k] - to_numpy(params[k])).astype(np.float64)
            np.testing.assert_allclose(step, 0.01 * np.sign(to_numpy(g[k])), rtol=1e-4, atol=1e-9)
            assert params[k].dtype == dtype


def test_adam_matches_the_textbook_formula(backend):
    xp = backend
    params = make_params(xp)
    ref = {k: to_numpy(p).copy() for k, p in params.items()}
    m = {k: np.zeros_like(p) for k, p in ref.items()}
    v = {k: np.zeros_like(p) for k, p in ref.items()}
    opt = Adam(params, lr=0.02, betas=(0.8, 0.99), eps=1e-6)
    for t in range(1, 6):
        g = grads_like(xp, params, t)
        opt.step(g)
        for k in ref:
            gk = to_numpy(g[k])
            m[k] = 0.8 * m[k] + 0.2 * gk
            v[k] = 0.99 * v[k] + 0.01 * gk**2
            m_hat, v_hat = m[k] / (1 - 0.8**t), v[k] / (1 - 0.99**t)
            ref[k] -= 0.02 * m_hat / (np.sqrt(v_hat) + 1e-6)
    for k, expected in ref.items():
        np.testing.assert_allclose(to_numpy(params[k]), expected, rtol=1e-10, atol=1e-12)
    assert opt.t == 5


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_float32_stays_float32(backend, kind):
    xp = backend
    params = make_params(xp, "float32")
    opt = SGD(params, lr=0.1, momentum=0.5) if kind == "sgd" else Adam(params)
    for s in range(3):
        opt.step(grads_like(xp, params, s))
    assert all(p.dtype == xp.float32 for p in params.values())
    assert all(a.dtype == xp.float32 for slot in opt.state.values() for a in slot.values())


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_state_dict_round_trip_continues_bit_for_bit(backend, kind):
    xp = backend

    def build(params, lr):
        return SGD(params, lr=lr, momentum=0.9) if kind == "sgd" else Adam(params, lr=lr, betas=(0.8, 0.95))

    params_a = make_params(xp, "float32")
    opt_a = build(params_a, 0.01)
    for s in range(3):
        opt_a.step(grads_like(xp, params_a, s))
    saved = {k: to_numpy(a) for k, a in opt_a.state_dict().items()}  # as a checkpoint would hold them
    assert saved["t"].shape == () and int(saved["t"]) == 3 and float(saved["lr"]) == opt_a.lr
    params_b = {k: p.copy() for k, p in params_a.items()}
    opt_b = build(params_b, 0.5)  # the saved lr replaces this one
    opt_b.load_state_dict(saved)
    assert opt_b.lr == opt_a.lr
    snapshot = opt_a.state_dict()
    for s in range(3, 6):
        g = grads_like(xp, params_a, s)
        opt_a.step(g)
        opt_b.step({k: a.copy() for k, a in g.items()})
    for k in params_a:
        assert np.array_equal(to_numpy(params_a[k]), to_numpy(params_b[k]))
    assert int(snapshot["t"]) == 3  # a snapshot is a copy, not a live view
    assert opt_a.t == opt_b.t == 6


def test_load_state_dict_rejects_mismatches(backend):
    xp = backend
    opt = Adam(make_params(xp))
    state = opt.state_dict()
    with pytest.raises(KeyError, match="lacks m.W"):
        opt.load_state_dict({k: a for k, a in state.items() if k != "m.W"})
    with pytest.raises(KeyError, match="unknown"):
        opt.load_state_dict({**state, "velocity.W": state["m.W"]})
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict({**state, "v.b": xp.zeros(5)})


def test_step_checks_grads(backend):
    xp = backend
    params = make_params(xp)
    b0 = to_numpy(params["b"]).copy()
    opt = Adam(params)
    opt.step({"W": xp.ones((3, 4))})  # a param without a grad is left alone
    assert np.array_equal(to_numpy(params["b"]), b0)
    with pytest.raises(KeyError, match="no parameter"):
        opt.step({"nope": xp.ones(2)})
    with pytest.raises(ValueError, match="shape"):
        opt.step({"b": xp.ones(3)})


def test_clip_grad_norm(backend):
    xp = backend
    grads = make_params(xp, "float32")
    ids = {k: id(g) for k, g in grads.items()}
    host = {k: to_numpy(g).astype(np.float64) for k, g in grads.items()}
    norm = math.sqrt(sum(float((h * h).sum()) for h in host.values()))
    returned = clip_grad_norm(grads, 0.5)
    assert returned.shape == () and array_module(returned) is xp  # stays on the device: no wait for the GPU
    assert float(returned) == pytest.approx(norm, rel=1e-6)
    after = math.sqrt(sum(float((to_numpy(g).astype(np.float64) ** 2).sum()) for g in grads.values()))
    assert after == pytest.approx(0.5, rel=1e-6)
    for k, g in grads.items():  # same direction, scaled in place
        np.testing.assert_allclose(to_numpy(g), host[k] * 0.5 / norm, rtol=1e-5)
        assert id(g) == ids[k] and g.dtype == xp.float32
    small = {k: g.copy() for k, g in grads.items()}
    assert float(clip_grad_norm(small, 10.0)) == pytest.approx(0.5, rel=1e-6)
    assert all(np.array_equal(to_numpy(small[k]), to_numpy(grads[k])) for k in grads)
    for off in (None, 0, -1.0):
        assert float(clip_grad_norm(list(small.values()), off)) == pytest.approx(0.5, rel=1e-6)
    assert all(np.array_equal(to_numpy(small[k]), to_numpy(grads[k])) for k in grads)
    bad = [xp.asarray(np.array([np.inf, 1.0]))]
    assert float(clip_grad_norm(bad, 1.0)) == math.inf and to_numpy(bad[0])[1] == 1.0
    assert clip_grad_norm({}, 1.0) == 0.0


def test_schedules():
    assert constant(0.01)(0) == constant(0.01)(10**6) == 0.01
    s = warmup_decay(1.0, warmup_steps=10, total_steps=110, final_fraction=0.1)
    assert s(0) == pytest.approx(0.1) and s(4) == pytest.approx(0.5)
    assert s(9) == s(10) == 1.0
    assert s(60) == pytest.approx(0.55)  # halfway down the cosine: (1 + 0.1) / 2
    assert s(110) == pytest.approx(0.1) and s(10**6) == pytest.approx(0.1)
    values = [s(i) for i in range(10, 111)]
    assert all(a >= b for a, b in itertools.pairwise(values))
    assert warmup_decay(0.5, 0, 100)(0) == 0.5
    assert "warmup_decay" in repr(s)
    with pytest.raises(ValueError):
        warmup_decay(1.0, 20, 10)
    with pytest.raises(ValueError):
        s(-1)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-6)])
def test_adam_and_sgd_match_torch_optim(dtype, rtol):
    """Ten steps of minatt's Adam and momentum SGD against torch.optim's, from the same start."""
    torch = pytest.importorskip("torch")
    for kind in ("adam", "sgd"):
        params = make_params(np, dtype)
        tparams = {k: torch.tensor(p.copy(), requires_grad=True) for k, p in params.items()}
        if kind == "adam":
            opt = Adam(params, lr=0.02, betas=(0.8, 0.99), eps=1e-6)
            topt = torch.optim.Adam(tparams.values(), lr=0.02, betas=(0.8, 0.99), eps=1e-6)
        else:
            opt = SGD(params, lr=0.05, momentum=0.9)
            topt = torch.optim.SGD(tparams.values(), lr=0.05, momentum=0.9)
        state_ids = {id(a) for slot in opt.state.values() for a in slot.values()}
        for s in range(10):
            g = grads_like(np, params, s)
            for k, tp in tparams.items():
                tp.grad = torch.from_numpy(g[k].copy())
            topt.step()
            opt.step(g)
        for k, p in params.items():
            np.testing.assert_allclose(p, tparams[k].detach().numpy(), rtol=rtol, atol=rtol, err_msg=f"{kind} {k}")
        assert {id(a) for slot in opt.state.values() for a in slot.values()} == state_ids  # state updated in place
