"""minatt.ops.feedforward: the block relu(x W1 + b1) W2 + b2, its gradients and planted bugs."""

from __future__ import annotations

import numpy as np

from minatt.ops import feedforward as ff_ops
from tests.planting import scaled
from tests.transformer_ops import (
    op_tests,
)


def _relu_passes_everything(dr, r):
    return dr + 0.0 * r


CASES = ["feedforward"]
BUGS = [  # (case, module, attribute, replacement factory, gradients that must fail)
    ("feedforward", ff_ops, "relu_backward", lambda f: _relu_passes_everything, {"x", "W1", "b1"}),
    ("feedforward", ff_ops, "feedforward_backward", lambda f: scaled(f, 4, -1.0), {"b2"}),
]

test_gradients, test_planted_bugs_are_caught = op_tests(CASES, BUGS)


def test_the_block_is_its_equation_and_relu_passes_gradient_only_where_it_fired():
    """out = relu(x W1 + b1) W2 + b2, by hand; a ReLU input below 0 sends no gradient back to it."""
    rng = np.random.default_rng(0)
    x, W1, b1 = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    W2, b2 = rng.standard_normal((5, 4)), rng.standard_normal(4)
    out, cache = ff_ops.feedforward_forward(x, W1, b1, W2, b2)
    inner = x @ W1 + b1
    np.testing.assert_allclose(out, np.maximum(inner, 0.0) @ W2 + b2, rtol=1e-13)
    dx, dW1, db1, dW2, db2 = ff_ops.feedforward_backward(np.ones_like(out), cache)
    dinner = (np.ones_like(out) @ W2.T) * (inner > 0)
    np.testing.assert_allclose(db1, dinner.sum(axis=(0, 1)), rtol=1e-13)
    np.testing.assert_allclose(dx, dinner @ W1.T, rtol=1e-13)
    assert (dinner[inner < 0] == 0).all() and (inner < 0).any()

