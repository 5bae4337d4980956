"""minatt.gradcheck.attention_cases: the cases of softmax, the score functions (and their halves) and attention.
Masked cases hold a fully masked row, a length-1 row and a full row; op_case names the gradients like the
params; the ops are looked up at call time, so a bug planted with monkeypatch makes the case fail."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.gradcheck.attention_cases as attention_cases
from minatt import gradcheck
from minatt.backend import default_dtype
from minatt.ops import scores as score_ops
from minatt.ops import softmax as softmax_ops
from tests.case_modules import assert_well_formed, failed, registered_by

NAMES = ["additive_keys", "additive_score", "additive_score_projected", "attention", "concat_keys", "concat_score",
         "concat_score_projected", "dot_score", "general_keys", "general_score", "scaled_dot_score", "softmax",
         "softmax_masked"]


def test_the_module_registers_softmax_every_score_and_attention():
    assert sorted(registered_by(attention_cases)) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_case_is_well_formed(name):
    assert_well_formed(gradcheck.build_case(name, 2))


def test_the_masked_softmax_case_has_an_empty_a_length_one_and_a_full_row(monkeypatch):
    masks = []
    real = softmax_ops.softmax_forward

    def spy(x, mask=None):
        masks.append(np.asarray(mask))
        return real(x, mask=mask)

    monkeypatch.setattr(softmax_ops, "softmax_forward", spy)
    for seed in range(4):
        gradcheck.build_case("softmax_masked", seed)
        lengths = masks[-1].sum(axis=1).tolist()
        assert lengths[:3] == [0, 1, masks[-1].shape[1]]


def test_op_case_names_each_gradient_after_its_param():
    rng = np.random.default_rng(0)
    params = {"q": rng.standard_normal((2, 3)), "keys": rng.standard_normal((2, 4, 3))}
    with default_dtype("float64"):
        case = attention_cases.op_case(score_ops, "dot_score", params, rng)
    _, grads = case.fn(case.params)
    assert list(grads) == ["q", "keys"] and grads["keys"].shape == (2, 4, 3)
    assert not failed(case)


def test_a_bug_planted_in_a_score_makes_its_case_fail(monkeypatch):
    real = score_ops.dot_score_backward
    monkeypatch.setattr(score_ops, "dot_score_backward", lambda d, cache: (real(d, cache)[0], 0 * real(d, cache)[1]))
    assert failed(gradcheck.build_case("dot_score", 0)) == {"keys"}
