"""minatt.ops.layernorm: layer norm's gradients (checked, and against PyTorch), and planted bugs."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.ops import layernorm as ln_ops
from minatt.ops.layernorm import layer_norm_backward, layer_norm_forward
from tests.planting import mutated, scaled
from tests.transformer_ops import (
    TORCH_TOL,
    as_torch,
    op_tests,
)

CASES = ["layer_norm"]
BUGS = [  # (case, module, attribute, replacement factory, gradients that must fail)
    ("layer_norm", ln_ops, "layer_norm_backward",
     lambda f: mutated(f, "- xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)", ""), {"x"}),
    ("layer_norm", ln_ops, "layer_norm_backward", lambda f: mutated(f, "dxhat = dy * cache.g", "dxhat = dy"), {"x"}),
    ("layer_norm", ln_ops, "layer_norm_backward", lambda f: scaled(f, 1, 1.001), {"g"}),
]

test_gradients, test_planted_bugs_are_caught = op_tests(CASES, BUGS)


def test_layer_norm_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, g, b, dy = rng.standard_normal((2, 3, 5)) * 3, rng.standard_normal(5), rng.standard_normal(5), \
        rng.standard_normal((2, 3, 5))
    y, cache = layer_norm_forward(x, g, b)
    dx, dg, db = layer_norm_backward(dy, cache)
    ln = torch.nn.LayerNorm(5, dtype=torch.float64)
    with torch.no_grad():
        ln.weight.copy_(torch.from_numpy(g))
        ln.bias.copy_(torch.from_numpy(b))
    tx = as_torch(torch, x)
    ty = ln(tx)
    (ty * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), **TORCH_TOL)
    for mine, theirs in ((dx, tx.grad), (dg, ln.weight.grad), (db, ln.bias.grad)):
        np.testing.assert_allclose(mine, theirs.numpy(), **TORCH_TOL)
