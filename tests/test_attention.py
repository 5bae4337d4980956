"""Masked softmax attention (minatt.ops.attention): gradient checks, planted bugs the checker must catch,
padding (zero weight, zero gradient), float32, a property over random masks, and PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minatt.backend import asarray, to_numpy
from minatt.gradcheck import GradientCheckError, assert_gradients, build_case, run_case
from minatt.ops import attention as attention_ops
from minatt.ops.attention import attention_backward, attention_forward
from minatt.ops.scores import additive_score_backward, additive_score_forward
from tests.planting import failures, scaled


@pytest.mark.parametrize("seed", range(6))
def test_gradients(backend, seed):
    results = run_case("attention", seed)
    assert results and all(r.passed for r in results), "\n".join(r.describe() for r in results)


# --- planted bugs ---------------------------------------------------------------------------


def _attention_ignores_dweights(dcontext, dweights, cache):
    return attention_backward(dcontext, None, cache)


def _softmax_drops_sum_term(dp, cache):
    return cache.p * dp


# (function to replace on minatt.ops.attention, replacement factory, gradients that must fail)
BUGS = [
    ("softmax_backward", lambda f: _softmax_drops_sum_term, {"scores"}),
    ("attention_backward", lambda f: _attention_ignores_dweights, {"scores"}),
    ("attention_backward", lambda f: scaled(f, 1, 1.001), {"values"}),
    ("attention_backward", lambda f: scaled(f, 0, -1.0), {"scores"}),
]


@pytest.mark.parametrize("attr, make_bug, expected", BUGS, ids=[f"attention-{b[0]}-{i}" for i, b in enumerate(BUGS)])
def test_planted_bugs_are_caught(backend, reference_lines, monkeypatch, attr, make_bug, expected):
    monkeypatch.setattr(attention_ops, attr, make_bug(getattr(attention_ops, attr)))
    case = build_case("attention", seed=2)
    with pytest.raises(GradientCheckError) as info:
        assert_gradients(case.fn, case.params)
    assert failures(case) == expected
    for grad in expected:
        assert f"d{grad}[" in str(info.value) or f"d{grad} (random direction)" in str(info.value)


# --- masking --------------------------------------------------------------------------------


def _attention_inputs(rng, N=4, S=5, Hv=3):
    mask = np.arange(S)[None, :] < np.array([0, 1, S, 3])[:N, None]
    return rng.standard_normal((N, S)) * 3.0, rng.standard_normal((N, S, Hv)), mask


def test_padding_gets_zero_weight_and_zero_gradient(backend, rng):
    scores, values, mask = _attention_inputs(rng)
    scores[~mask] = 1e6  # huge scores at padded positions must still be ignored
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise", over="raise"):
        warnings.simplefilter("error")
        context, weights, cache = attention_forward(asarray(scores), asarray(values), asarray(mask))
        dscores, dvalues = attention_backward(asarray(rng.standard_normal((4, 3))),
                                              asarray(rng.standard_normal((4, 5))), cache)
    context, weights, dscores, dvalues = map(to_numpy, (context, weights, dscores, dvalues))
    assert np.all(weights[~mask] == 0.0) and np.all(dscores[~mask] == 0.0) and np.all(dvalues[~mask] == 0.0)
    assert np.all(context[0] == 0.0) and np.all(weights[0] == 0.0)  # fully padded row
    np.testing.assert_array_equal(context[1], values[1, 0])  # length-1 row: context = that value
    np.testing.assert_allclose(weights.sum(-1), [0, 1, 1, 1], rtol=1e-12)
    for arr in (context, weights, dscores, dvalues):
        assert np.all(np.isfinite(arr))


def test_dweights_none_means_zero(backend, rng):
    scores, values, mask = _attention_inputs(rng)
    _, _, cache = attention_forward(asarray(scores), asarray(values), asarray(mask))
    dc = asarray(rng.standard_normal((4, 3)))
    zero = asarray(np.zeros((4, 5)))
    for a, b in zip(attention_backward(dc, None, cache), attention_backward(dc, zero, cache), strict=True):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_row_results_ignore_other_rows_masks(backend, rng):
    scores, values, mask = _attention_inputs(rng)
    dc, dw = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    outs = []
    for other in (mask[1:], ~mask[1:]):
        m = np.concatenate([mask[3:4], other])  # row 0 keeps length 3; the rest change
        context, weights, cache = attention_forward(asarray(scores), asarray(values), asarray(m))
        dscores, dvalues = attention_backward(asarray(dc), asarray(dw), cache)
        outs.append([to_numpy(a)[0] for a in (context, weights, dscores, dvalues)])
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_float32_stays_float32_and_matches_float64(backend, rng):
    """Forward and backward in float32: every output float32, within float32 rounding of float64."""
    scores, values, mask = _attention_inputs(rng)
    dcontext, dweights = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    outs = {}
    for dtype in ("float32", "float64"):
        context, weights, cache = attention_forward(asarray(scores, dtype=dtype), asarray(values, dtype=dtype),
                                                    asarray(mask))
        grads = attention_backward(asarray(dcontext, dtype=dtype), asarray(dweights, dtype=dtype), cache)
        outs[dtype] = (context, weights, *grads)
    assert all(o.dtype == np.float32 for o in outs["float32"])
    for ours, exact in zip(outs["float32"], outs["float64"], strict=True):
        np.testing.assert_allclose(to_numpy(ours), to_numpy(exact), rtol=1e-4, atol=1e-5)


# --- properties and a reference ---------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(N=st.integers(1, 4), S=st.integers(1, 6), Hv=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_property_attention_weights(backend, N, S, Hv, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, S + 1, size=N)
    mask = np.arange(S)[None, :] < lengths[:, None]
    values = rng.standard_normal((N, S, Hv))
    scores = asarray(rng.standard_normal((N, S)) * 5)
    context, weights, _ = attention_forward(scores, asarray(values), asarray(mask))
    context, weights = to_numpy(context), to_numpy(weights)
    assert np.all(weights[~mask] == 0.0) and np.all(weights >= 0.0)
    np.testing.assert_allclose(weights.sum(-1), (lengths > 0).astype(float), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(context, np.einsum("ns,nsh->nh", weights, values), rtol=1e-12, atol=1e-12)
    assert np.all(context[lengths == 0] == 0.0)


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    q, keys, Wq, Wk, v = (rng.standard_normal(s) for s in [(4, 3), (4, 5, 3), (3, 5), (3, 5), (5,)])
    _, values, mask = _attention_inputs(rng)
    dc, dw = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    scores, score_cache = additive_score_forward(q, keys, Wq, Wk, v)
    context, weights, cache = attention_forward(scores, values, mask)
    dscores, dvalues = attention_backward(dc, dw, cache)
    dq, dkeys, dWq, dWk, dv = additive_score_backward(dscores, score_cache)

    arrays = {"q": q, "keys": keys, "Wq": Wq, "Wk": Wk, "v": v, "values": values}
    t = {k: torch.tensor(a, requires_grad=True) for k, a in arrays.items()}
    s = torch.tanh((t["q"] @ t["Wq"])[:, None, :] + t["keys"] @ t["Wk"]) @ t["v"]
    w = torch.nan_to_num(s.masked_fill(~torch.tensor(mask), float("-inf")).softmax(-1))  # NaN row -> 0
    c = torch.einsum("ns,nsh->nh", w, t["values"])
    ((c * torch.tensor(dc)).sum() + (w * torch.tensor(dw)).sum()).backward()
    np.testing.assert_allclose(weights, w.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(context, c.detach().numpy(), rtol=1e-12, atol=1e-15)
    for ours, key in [(dvalues, "values"), (dq, "q"), (dkeys, "keys"), (dWq, "Wq"), (dWk, "Wk"), (dv, "v")]:
        np.testing.assert_allclose(ours, t[key].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)

