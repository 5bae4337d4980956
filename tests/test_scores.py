"""Attention scores (minatt.ops.scores): gradient checks, planted bugs the checker must catch, the additive
split into keys and queries, concat = additive, float32, and every score against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import array_module, asarray, default_dtype, to_numpy
from minatt.gradcheck import (
    GradientCheckError,
    assert_gradients,
    build_case,
    check_gradients,
    registry,
    run_case,
)
from minatt.gradcheck.attention_cases import concat_score_case, general_score_case
from minatt.ops import scores as score_ops
from minatt.ops.scores import (
    additive_keys_forward,
    additive_score_backward,
    additive_score_forward,
    additive_score_projected_backward,
    additive_score_projected_forward,
    concat_score_backward,
    concat_score_forward,
    dot_score_forward,
    general_score_forward,
)

SEEDS = range(6)
SCORE_CASES = ["dot_score", "scaled_dot_score", "general_keys", "general_score", "concat_keys",
               "concat_score_projected", "concat_score", "additive_score", "additive_keys",
               "additive_score_projected"]


def failures(results) -> set[str]:
    return {r.name for r in results if not r.passed}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", SCORE_CASES)
def test_gradients(backend, name, seed):
    results = run_case(name, seed)
    assert results and all(r.passed for r in results), "\n".join(r.describe() for r in results)


# --- planted bugs ---------------------------------------------------------------------------


def tweak(backward, index, change):
    """A backward that returns the true gradients except grads[index] -> change(grads[index])."""

    def wrong(*args):
        grads = list(backward(*args))
        grads[index] = change(grads[index])
        return tuple(grads)

    return wrong


def scaled(g):
    return 1.001 * g


def negated(g):
    return -g


def _general_wa_not_transposed(dscores, cache):
    dq, dkW = score_ops.dot_score_backward(dscores, cache.score)
    keys, Wa = cache.keys.keys, cache.keys.Wk.T  # the cache keeps Wk = Wa.T
    return dq, dkW @ Wa.T, dkW.reshape(-1, 3).T @ keys.reshape(-1, 3)  # dkeys should use Wa, not Wa.T


def _transposed(g):
    return g.T


def _concat_halves_swapped(dscores, cache):
    dq, dkeys, dWa, dv = concat_score_backward(dscores, cache)
    Hq = cache.score.additive.q.shape[1]
    return dq, dkeys, array_module(dWa).concatenate([dWa[Hq:], dWa[:Hq]]), dv  # [dWq; dWk] in the wrong order


def _projected_without_tanh_derivative(dscores, cache):
    """additive_score_projected_backward with the tanh's 1 - t^2 forgotten."""
    q, Wq, v, t = cache.q, cache.Wq, cache.v, cache.t
    da = dscores[:, :, None] * v  # should be times (1 - t**2)
    dqproj = da.sum(axis=1)
    return dqproj @ Wq.T, da, q.T @ dqproj, (dscores[:, :, None] * t).sum(axis=(0, 1))


def _scaled_dot_scale_forgotten(dscores, cache):
    return score_ops.dot_score_backward(dscores, cache.dot)  # the 1 / sqrt(H) is missing


# (case, function to replace on its module, replacement factory, gradients that must fail)
BUGS = [
    ("dot_score", score_ops, "dot_score_backward", lambda f: tweak(f, 0, scaled), {"q"}),
    ("dot_score", score_ops, "dot_score_backward", lambda f: tweak(f, 1, negated), {"keys"}),
    ("general_score", score_ops, "general_score_backward", lambda f: tweak(f, 2, scaled), {"Wa"}),
    ("general_score", score_ops, "general_score_backward", lambda f: tweak(f, 1, negated), {"keys"}),
    ("additive_keys", score_ops, "additive_keys_backward", lambda f: tweak(f, 0, negated), {"keys"}),
    ("additive_keys", score_ops, "additive_keys_backward", lambda f: tweak(f, 1, scaled), {"Wk"}),
    ("scaled_dot_score", score_ops, "scaled_dot_score_backward", lambda f: _scaled_dot_scale_forgotten,
     {"q", "keys"}),
    ("scaled_dot_score", score_ops, "scaled_dot_score_backward", lambda f: tweak(f, 1, negated), {"keys"}),
    ("general_keys", score_ops, "general_keys_backward", lambda f: tweak(f, 1, scaled), {"Wa"}),
    ("general_keys", score_ops, "general_keys_backward", lambda f: tweak(f, 0, negated), {"keys"}),
    ("additive_score_projected", score_ops, "additive_score_projected_backward",
     lambda f: _projected_without_tanh_derivative, {"q", "kproj", "Wq"}),
    ("additive_score_projected", score_ops, "additive_score_projected_backward",
     lambda f: tweak(f, 3, scaled), {"v"}),
    ("additive_score_projected", score_ops, "additive_score_projected_backward",
     lambda f: tweak(f, 1, negated), {"kproj"}),
    ("additive_score", score_ops, "additive_score_projected_backward",
     lambda f: _projected_without_tanh_derivative, {"q", "keys", "Wq", "Wk"}),
    ("additive_score", score_ops, "additive_score_backward", lambda f: tweak(f, 3, scaled), {"Wk"}),
    ("additive_score", score_ops, "additive_score_backward", lambda f: tweak(f, 0, negated), {"q"}),
    ("concat_keys", score_ops, "concat_keys_backward", lambda f: tweak(f, 1, scaled), {"Wa"}),
    ("concat_score_projected", score_ops, "concat_score_projected_backward", lambda f: tweak(f, 2, scaled),
     {"Wa"}),
    ("concat_score", score_ops, "additive_score_projected_backward",
     lambda f: _projected_without_tanh_derivative, {"q", "keys", "Wa"}),
    ("concat_score", score_ops, "concat_score_backward", lambda f: tweak(f, 3, scaled), {"v"}),
    ("concat_score", score_ops, "concat_score_backward", lambda f: tweak(f, 0, negated), {"q"}),
]


@pytest.mark.parametrize("name, module, attr, make_bug, expected", BUGS,
                         ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(BUGS)])
def test_planted_bugs_are_caught(backend, reference_lines, monkeypatch, name, module, attr, make_bug, expected):
    monkeypatch.setattr(module, attr, make_bug(getattr(module, attr)))
    case = build_case(name, seed=2)
    with pytest.raises(GradientCheckError) as info:
        assert_gradients(case.fn, case.params)
    assert failures(check_gradients(case.fn, case.params)) == expected
    for grad in expected:
        assert f"d{grad}[" in str(info.value) or f"d{grad} (random direction)" in str(info.value)


@pytest.mark.parametrize("make_bug, expected", [
    (lambda f: _general_wa_not_transposed, "keys"),
    (lambda f: tweak(f, 2, _transposed), "Wa"),
])
def test_general_score_transposed_wa_is_caught(backend, monkeypatch, make_bug, expected):
    """With Hq == Hk a transposed Wa (or dWa) has the right shape; only the numbers can tell."""
    monkeypatch.setattr(score_ops, "general_score_backward", make_bug(score_ops.general_score_backward))
    with default_dtype("float64"):
        case = general_score_case(np.random.default_rng(4), Hq=3, Hk=3)
    with pytest.raises(GradientCheckError, match=rf"d{expected}\["):
        assert_gradients(case.fn, case.params)
    assert failures(check_gradients(case.fn, case.params)) == {expected}


def test_concat_swapped_weight_halves_are_caught(backend, monkeypatch):
    monkeypatch.setattr(score_ops, "concat_score_backward", _concat_halves_swapped)
    with default_dtype("float64"):
        case = concat_score_case(np.random.default_rng(4), Hq=3, Hk=3)
    assert failures(check_gradients(case.fn, case.params)) == {"Wa"}


# --- the additive split, and concat = additive --------------------------------------------------


def _qk(rng, N=3, S=4, Hq=3, Hk=2, A=5):
    return (asarray(rng.standard_normal((N, Hq))), asarray(rng.standard_normal((N, S, Hk))),
            asarray(rng.standard_normal((Hq, A))), asarray(rng.standard_normal((Hk, A))),
            asarray(rng.standard_normal(A)))


def test_additive_is_keys_then_projected(backend, rng):
    q, keys, Wq, Wk, v = _qk(rng)
    scores, cache = additive_score_forward(q, keys, Wq, Wk, v)
    kproj, keys_cache = additive_keys_forward(keys, Wk)
    scores2, score_cache = additive_score_projected_forward(q, kproj, Wq, v)
    np.testing.assert_array_equal(to_numpy(scores), to_numpy(scores2))
    dscores = asarray(rng.standard_normal(scores.shape))
    dq, dkproj, dWq, dv = additive_score_projected_backward(dscores, score_cache)
    dkeys, dWk = score_ops.additive_keys_backward(dkproj, keys_cache)
    for a, b in zip(additive_score_backward(dscores, cache), (dq, dkeys, dWq, dWk, dv), strict=True):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_keys_projected_once_reused_over_steps(backend, rng):
    """The decoder pattern: project once, score T queries, sum dkproj, one keys backward."""
    _, keys, Wq, Wk, v = _qk(rng)
    qs = [asarray(rng.standard_normal((3, 3))) for _ in range(3)]
    ds = [asarray(rng.standard_normal((3, 4))) for _ in range(3)]
    kproj, keys_cache = additive_keys_forward(keys, Wk)
    dkproj = 0.0
    for q, d in zip(qs, ds, strict=True):
        _, cache = additive_score_projected_forward(q, kproj, Wq, v)
        dkproj = dkproj + additive_score_projected_backward(d, cache)[1]  # summed over steps
    dkeys, dWk = score_ops.additive_keys_backward(dkproj, keys_cache)
    want_dkeys, want_dWk = 0.0, 0.0
    for q, d in zip(qs, ds, strict=True):
        grads = additive_score_backward(d, additive_score_forward(q, keys, Wq, Wk, v)[1])
        want_dkeys, want_dWk = want_dkeys + grads[1], want_dWk + grads[3]
    np.testing.assert_allclose(to_numpy(dkeys), to_numpy(want_dkeys), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(to_numpy(dWk), to_numpy(want_dWk), rtol=1e-12, atol=1e-13)


def test_concat_equals_additive_with_split_weights(backend, rng):
    q, keys, Wq, Wk, v = _qk(rng)
    Wa = asarray(np.concatenate([to_numpy(Wq), to_numpy(Wk)]))  # (Hq + Hk, A)
    s1, c1 = concat_score_forward(q, keys, Wa, v)
    s2, c2 = additive_score_forward(q, keys, Wq, Wk, v)
    np.testing.assert_array_equal(to_numpy(s1), to_numpy(s2))
    d = asarray(rng.standard_normal(s1.shape))
    dq, dkeys, dWa, dv = concat_score_backward(d, c1)
    dq2, dkeys2, dWq, dWk, dv2 = additive_score_backward(d, c2)
    for a, b in [(dq, dq2), (dkeys, dkeys2), (dWa[:3], dWq), (dWa[3:], dWk), (dv, dv2)]:
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_scores_match_their_definitions(backend, rng):
    q, keys, Wq, Wk, v = _qk(rng, Hk=3)
    qn, kn = to_numpy(q), to_numpy(keys)
    np.testing.assert_allclose(to_numpy(dot_score_forward(q, keys)[0]), np.einsum("nh,nsh->ns", qn, kn))
    Wa = asarray(rng.standard_normal((3, 3)))
    np.testing.assert_allclose(to_numpy(general_score_forward(q, keys, Wa)[0]),
                               np.einsum("ni,ij,nsj->ns", qn, to_numpy(Wa), kn))
    pre = (qn @ to_numpy(Wq))[:, None, :] + kn @ to_numpy(Wk)
    additive = additive_score_forward(q, keys, Wq, Wk, v)[0]
    np.testing.assert_allclose(to_numpy(additive), np.tanh(pre) @ to_numpy(v))




@pytest.mark.parametrize("name", SCORE_CASES)
def test_float32_runs_and_matches_float64(backend, name):
    with default_dtype("float32"):
        case32 = registry()[name](np.random.default_rng(5))
    case64 = build_case(name, seed=5)
    loss32, g32 = case32.fn(case32.params)
    loss64, g64 = case64.fn(case64.params)
    np.testing.assert_allclose(loss32, loss64, rtol=1e-4, atol=1e-4)
    for key, g in g32.items():
        assert g.dtype == np.float32, f"d{key} is {g.dtype}"
        np.testing.assert_allclose(to_numpy(g), to_numpy(g64[key]), rtol=1e-3, atol=1e-4)


def test_float32_scores_stay_float32(backend, rng):
    q, keys, Wq, Wk, v = (a.astype(np.float32) for a in _qk(rng, Hk=3))
    Wa3 = asarray(rng.standard_normal((3, 3)).astype(np.float32))
    outs = [dot_score_forward(q, keys)[0], general_score_forward(q, keys, Wa3)[0],
            additive_score_forward(q, keys, Wq, Wk, v)[0]]
    assert all(o.dtype == np.float32 for o in outs)


# --- PyTorch and the forms the lessons show ----------------------------------------------------


def _torch_score(torch, kind, t):
    """The score written in PyTorch straight from its definition (module docstring of ops.scores)."""
    q, keys = t["q"], t["keys"]
    if kind == "dot":
        return torch.einsum("nh,nsh->ns", q, keys)
    if kind == "scaled_dot":
        return torch.einsum("nh,nsh->ns", q, keys) / keys.shape[2] ** 0.5
    if kind == "general":
        return torch.einsum("ni,ij,nsj->ns", q, t["Wa"], keys)
    if kind == "additive":
        return torch.tanh((q @ t["Wq"])[:, None, :] + keys @ t["Wk"]) @ t["v"]
    qk = torch.cat([q[:, None, :].expand(-1, keys.shape[1], -1), keys], dim=2)  # [q; k_s] (N, S, Hq + Hk)
    return torch.tanh(qk @ t["Wa"]) @ t["v"]


@pytest.mark.parametrize("kind", ["dot", "scaled_dot", "general", "additive", "concat"])
def test_every_score_matches_torch(rng, kind):
    """Forward and every gradient against PyTorch's autograd, float64."""
    torch = pytest.importorskip("torch")
    N, S, Hq, A = 3, 4, 5, 6
    Hk = Hq if kind in ("dot", "scaled_dot") else 2
    arrays = {"q": rng.standard_normal((N, Hq)), "keys": rng.standard_normal((N, S, Hk))}
    arrays.update({"general": {"Wa": rng.standard_normal((Hq, Hk))},
                   "additive": {"Wq": rng.standard_normal((Hq, A)), "Wk": rng.standard_normal((Hk, A)),
                                "v": rng.standard_normal(A)},
                   "concat": {"Wa": rng.standard_normal((Hq + Hk, A)), "v": rng.standard_normal(A)},
                   }.get(kind, {}))
    dscores = rng.standard_normal((N, S))
    scores, cache = getattr(score_ops, f"{kind}_score_forward")(*arrays.values())
    grads = getattr(score_ops, f"{kind}_score_backward")(dscores, cache)

    t = {k: torch.tensor(a, requires_grad=True) for k, a in arrays.items()}
    theirs = _torch_score(torch, kind, t)
    (theirs * torch.tensor(dscores)).sum().backward()
    np.testing.assert_allclose(scores, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    for ours, key in zip(grads, arrays, strict=True):
        np.testing.assert_allclose(ours, t[key].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)


def test_scaled_dot_is_dot_over_sqrt_h(backend, rng):
    q, keys = asarray(rng.standard_normal((3, 16))), asarray(rng.standard_normal((3, 4, 16)))
    np.testing.assert_allclose(to_numpy(score_ops.scaled_dot_score_forward(q, keys)[0]),
                               to_numpy(dot_score_forward(q, keys)[0]) / 4.0, rtol=1e-14)


def test_general_projecting_the_query_gives_the_same_scores(backend, rng):
    """(k_s Wa^T) . q = k_s . (q Wa): the form the lesson shows as the same multiply-adds moved."""
    q, keys, Wa = (asarray(rng.standard_normal(s)) for s in ((3, 5), (3, 4, 2), (5, 2)))
    query_projected = dot_score_forward(q @ Wa, keys)[0]
    np.testing.assert_allclose(to_numpy(general_score_forward(q, keys, Wa)[0]), to_numpy(query_projected),
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_additive_speed_helper_is_the_two_plain_lines(dtype):
    """tanh_of_scores_backward builds da in one array; it must be the lesson's two lines, and leave its inputs alone."""
    rng = np.random.default_rng(3)
    N, S, A = 3, 5, 4
    t = np.tanh(rng.normal(size=(N, S, A))).astype(dtype)
    v, dscores = rng.normal(size=A).astype(dtype), rng.normal(size=(N, S)).astype(dtype)
    before = (t.copy(), v.copy(), dscores.copy())
    dt = dscores[:, :, None] * v
    plain = dt * (1 - t**2)
    da = score_ops.tanh_of_scores_backward(dscores, v, t)
    assert da.dtype == dtype and da.shape == (N, S, A)
    np.testing.assert_allclose(da, plain, rtol=1e-14 if dtype == np.float64 else 1e-6)
    assert all(np.array_equal(a, b) for a, b in zip((t, v, dscores), before))
