"""minatt.ops.encoder_layer: one post-norm encoder layer, its gradients (checked, and against PyTorch),
planted bugs, float32 kept."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import asarray, default_dtype
from minatt.ops import encoder_layer as tr_ops
from minatt.ops.encoder_layer import encoder_layer_backward, encoder_layer_forward
from tests.planting import mutated, scaled
from tests.transformer_ops import (
    TORCH_TOL,
    as_torch,
    attention_weights,
    copy_attention,
    lengths_mask,
    op_tests,
)

CASES = ["encoder_layer"]
BUGS = [  # (case, module, attribute, replacement factory, gradients that must fail)
    ("encoder_layer", tr_ops, "encoder_layer_backward", lambda f: mutated(f, "dy1 = dz2 + dffn_in", "dy1 = dffn_in"),
     {"x", "Wq", "bq", "Wk", "Wv", "bv", "Wo", "bo", "ln1_g", "ln1_b"}),
    ("encoder_layer", tr_ops, "encoder_layer_backward", lambda f: mutated(f, "dx = dz1 + dxq + dxkv", "dx = dxq + dxkv"),
     {"x"}),
    ("encoder_layer", tr_ops, "layer_norm_backward", lambda f: scaled(f, 2, 1.001), {"ln1_b", "ln2_b"}),
]

test_gradients, test_planted_bugs_are_caught = op_tests(CASES, BUGS)


def test_float32_stays_float32(backend, rng):
    with default_dtype("float32"):
        from minatt.gradcheck.transformer_cases import encoder_layer_params

        layer = encoder_layer_params(rng, 4, 8)
    x = asarray(rng.standard_normal((2, 3, 4)), dtype="float32")
    y, weights, cache = encoder_layer_forward(x, layer, 2, asarray(np.array([[1, 1, 0], [1, 1, 1]], dtype=bool)))
    dx, grads = encoder_layer_backward(y, cache)
    assert y.dtype == weights.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_encoder_layer_matches_torch(rng):
    torch = pytest.importorskip("torch")
    N, S, D, h, F = 3, 5, 8, 2, 16
    from minatt.gradcheck.transformer_cases import encoder_layer_params

    with default_dtype("float64"):
        layer = encoder_layer_params(rng, D, F, scale=0.5)
    x = rng.standard_normal((N, S, D))
    mask = lengths_mask([5, 2, 4], S)
    dy = rng.standard_normal((N, S, D)) * mask[:, :, None]  # only the real rows' outputs count
    y, _, cache = encoder_layer_forward(x, layer, h, mask)
    dx, grads = encoder_layer_backward(dy, cache)

    torch_layer = torch.nn.TransformerEncoderLayer(D, h, F, dropout=0.0, batch_first=True, dtype=torch.float64)
    copy_attention(torch, torch_layer.self_attn, *layer[:8])
    pairs = [(torch_layer.norm1.weight, layer.ln1_g), (torch_layer.norm1.bias, layer.ln1_b),
             (torch_layer.linear1.weight, layer.W1.T), (torch_layer.linear1.bias, layer.b1),
             (torch_layer.linear2.weight, layer.W2.T), (torch_layer.linear2.bias, layer.b2),
             (torch_layer.norm2.weight, layer.ln2_g), (torch_layer.norm2.bias, layer.ln2_b)]
    with torch.no_grad():
        for theirs, mine in pairs:
            theirs.copy_(torch.from_numpy(np.ascontiguousarray(mine)))
    tx = as_torch(torch, x)
    ty = torch_layer(tx, src_key_padding_mask=torch.from_numpy(~mask))
    (ty * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(y[mask], ty.detach().numpy()[mask], **TORCH_TOL)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TORCH_TOL)
    theirs = dict(zip(("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"), attention_weights(torch, torch_layer.self_attn)))
    theirs.update(ln1_g=torch_layer.norm1.weight.grad, ln1_b=torch_layer.norm1.bias.grad,
                  W1=torch_layer.linear1.weight.grad.T, b1=torch_layer.linear1.bias.grad,
                  W2=torch_layer.linear2.weight.grad.T, b2=torch_layer.linear2.bias.grad,
                  ln2_g=torch_layer.norm2.weight.grad, ln2_b=torch_layer.norm2.bias.grad)
    for name, mine in grads._asdict().items():
        np.testing.assert_allclose(mine, np.asarray(theirs[name]), err_msg=name, **TORCH_TOL)
