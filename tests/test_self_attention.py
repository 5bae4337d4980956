"""minatt.ops.self_attention: scaled dot-product and multi-head attention, their gradients (checked, and
against PyTorch), planted bugs, padding and causal masks, heads split and merged."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from minatt.backend import asarray, to_numpy
from minatt.ops import self_attention as sa_ops
from minatt.ops.self_attention import (
    merge_heads,
    multihead_attention_backward,
    multihead_attention_forward,
    scaled_dot_attention_backward,
    scaled_dot_attention_forward,
    split_heads,
)
from tests.planting import mutated, scaled
from tests.transformer_ops import (
    TORCH_TOL,
    as_torch,
    attention_weights,
    copy_attention,
    lengths_mask,
    op_tests,
)


def _softmax_without_sum_term(dp, cache):
    return cache.p * dp  # softmax backward without "- sum(p * dp)"


CASES = ["scaled_dot_attention", "scaled_dot_attention_causal", "multihead_attention"]
BUGS = [  # (case, module, attribute, replacement factory, gradients that must fail)
    ("scaled_dot_attention", sa_ops, "softmax_backward", lambda f: _softmax_without_sum_term, {"queries", "keys"}),
    ("scaled_dot_attention", sa_ops, "scaled_dot_attention_backward",
     lambda f: mutated(f, "dkeys = xp.matmul(dscores.swapaxes(-1, -2), cache.queries) * cache.scale",
                       "dkeys = xp.matmul(dscores.swapaxes(-1, -2), cache.queries)"), {"keys"}),
    ("scaled_dot_attention", sa_ops, "scaled_dot_attention_backward", lambda f: scaled(f, 2, 1.001), {"values"}),
    ("scaled_dot_attention_causal", sa_ops, "scaled_dot_attention_backward", lambda f: scaled(f, 0, -1.0), {"queries"}),
    ("multihead_attention", sa_ops, "multihead_attention_backward",
     lambda f: mutated(f, "dxk + dxv", "dxv"), {"xkv"}),
    ("multihead_attention", sa_ops, "multihead_attention_backward",
     lambda f: mutated(f, "merge_heads(dqh, h)", "dqh.reshape(cache.q.x_shape)"), {"xq", "Wq", "bq"}),
    ("multihead_attention", sa_ops, "multihead_attention_backward", lambda f: scaled(f, 8, 1.001), {"Wo"}),
]

test_gradients, test_planted_bugs_are_caught = op_tests(CASES, BUGS)


def test_key_bias_gradient_is_zero(rng):
    """The gradient cases leave bk out (see minatt.gradcheck.transformer_cases): its gradient is 0 up to round-off."""
    xq, xkv, D = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 4, 6)), 6
    weights = [rng.standard_normal((D, D)) if i % 2 == 0 else rng.standard_normal(D) for i in range(8)]
    out, _, cache = multihead_attention_forward(xq, xkv, *weights, 2, lengths_mask([4, 2], 4))
    grads = multihead_attention_backward(rng.standard_normal(out.shape), cache)
    dWk, dbk = grads[4], grads[5]
    assert np.abs(dWk).max() > 0.1 and np.abs(dbk).max() < 1e-12 * np.abs(dWk).max()


def test_fully_masked_rows_give_zeros_not_nan(backend, rng):
    q, k, v = (asarray(rng.standard_normal(s)) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 2)))
    mask = asarray(np.array([[False] * 5, [True, True, False, False, False]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, weights, cache = scaled_dot_attention_forward(q, k, v, mask, causal=True)
        dq, dk, dv = scaled_dot_attention_backward(asarray(rng.standard_normal((2, 3, 2))), cache)
    assert not np.isnan(to_numpy(out)).any()
    np.testing.assert_array_equal(to_numpy(out[0]), 0.0)
    np.testing.assert_array_equal(to_numpy(dq[0]), 0.0)
    w = to_numpy(weights[1])  # row 1: two real keys, causal: query 0 sees key 0 only
    np.testing.assert_allclose(w.sum(-1), 1.0)
    np.testing.assert_array_equal(w[0, 1:], 0.0)
    np.testing.assert_array_equal(w[:, 2:], 0.0)
    np.testing.assert_array_equal(to_numpy(dk[1, 2:]), 0.0)  # padded keys get no gradient
    np.testing.assert_array_equal(to_numpy(dv[1, 2:]), 0.0)


def test_causal_output_ignores_later_keys(rng):
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 2))
    out, _, _ = scaled_dot_attention_forward(q, k, v, causal=True)
    k2, v2 = k.copy(), v.copy()
    k2[:, 2:], v2[:, 2:] = 7.0, -7.0  # change keys and values from step 2 on
    out2, _, _ = scaled_dot_attention_forward(q, k2, v2, causal=True)
    np.testing.assert_array_equal(out[:, :2], out2[:, :2])
    assert not np.allclose(out[:, 2:], out2[:, 2:])


def test_heads_split_and_merge(rng):
    x = rng.standard_normal((2, 3, 6))
    heads = split_heads(x, 3)  # (N*h, L, dk)
    assert heads.shape == (6, 3, 2)
    np.testing.assert_array_equal(heads[1 * 3 + 2], x[1, :, 4:6])  # row n*h + i holds head i of row n
    np.testing.assert_array_equal(merge_heads(heads, 3), x)


def test_heads_must_divide_the_model_size(rng):
    x, W, b = rng.standard_normal((1, 2, 6)), rng.standard_normal((6, 6)), np.zeros(6)
    with pytest.raises(ValueError, match="4 heads do not divide the model size D = 6"):
        multihead_attention_forward(x, x, W, b, W, b, W, b, W, b, heads=4)


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_matches_torch(rng, causal):
    torch = pytest.importorskip("torch")
    N, T, S, K, Dv = 3, 4, 5, 3, 2
    q, k, v = rng.standard_normal((N, T, K)), rng.standard_normal((N, S, K)), rng.standard_normal((N, S, Dv))
    mask = lengths_mask([5, 1, 3], S)  # no fully masked row: PyTorch gives NaN there
    dout = rng.standard_normal((N, T, Dv))
    out, weights, cache = scaled_dot_attention_forward(q, k, v, mask, causal)
    grads = scaled_dot_attention_backward(dout, cache)
    allowed = torch.from_numpy(mask[:, None, :] & (np.tril(np.ones((T, S), dtype=bool)) if causal else True))
    tq, tk, tv = as_torch(torch, q), as_torch(torch, k), as_torch(torch, v)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=allowed)
    (tout * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), **TORCH_TOL)
    for mine, theirs in zip(grads, (tq, tk, tv)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), **TORCH_TOL)


def test_scaled_dot_matches_torch_is_causal(rng):
    torch = pytest.importorskip("torch")
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    out, _, _ = scaled_dot_attention_forward(q, k, v, causal=True)
    tout = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), is_causal=True)
    np.testing.assert_allclose(out, tout.numpy(), **TORCH_TOL)


@pytest.mark.parametrize("padded", [False, True])
def test_multihead_matches_torch(rng, padded):
    torch = pytest.importorskip("torch")
    N, T, S, D, h = 3, 4, 5, 6, 3
    xq, xkv = rng.standard_normal((N, T, D)), rng.standard_normal((N, S, D))
    weights = [rng.standard_normal((D, D)) * 0.5 if i % 2 == 0 else rng.standard_normal(D) for i in range(8)]
    mask = lengths_mask([5, 1, 3], S) if padded else None
    dout = rng.standard_normal((N, T, D))
    out, attn, cache = multihead_attention_forward(xq, xkv, *weights, h, mask)
    grads = multihead_attention_backward(dout, cache)

    mha = torch.nn.MultiheadAttention(D, h, batch_first=True, dtype=torch.float64)
    copy_attention(torch, mha, *weights)
    tq, tkv = as_torch(torch, xq), as_torch(torch, xkv)
    tout, tattn = mha(tq, tkv, tkv, key_padding_mask=None if mask is None else torch.from_numpy(~mask),
                      average_attn_weights=False)
    (tout * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), **TORCH_TOL)
    np.testing.assert_allclose(attn, tattn.detach().numpy(), **TORCH_TOL)  # (N, h, T, S) per head
    theirs = (tq.grad.numpy(), tkv.grad.numpy(), *attention_weights(torch, mha))
    for name, mine, their in zip(("xq", "xkv", "Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"), grads, theirs):
        np.testing.assert_allclose(mine, their, err_msg=name, **TORCH_TOL)
