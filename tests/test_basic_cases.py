"""minatt.gradcheck.basic_cases: the cases of the basic ops (sigmoid, tanh, affine, embedding, cross-entropy),
each builder taking the backward to check, so a wrong backward handed to the same case fails."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.gradcheck.basic_cases as basic_cases
from minatt import gradcheck
from minatt.backend import default_dtype
from minatt.ops.activations import sigmoid_backward, tanh_backward
from minatt.ops.linear import affine_backward
from tests.case_modules import assert_well_formed, failed, registered_by

NAMES = ["affine", "cross_entropy", "embedding", "sigmoid", "tanh"]


def test_the_module_registers_the_five_basic_ops():
    assert sorted(registered_by(basic_cases)) == NAMES


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_case_is_well_formed_and_passes(name, seed):
    case = gradcheck.build_case(name, seed)
    assert_well_formed(case)
    assert not failed(case)


def test_the_sigmoid_case_spans_both_tails_and_the_middle():
    x = basic_cases.sigmoid_case(np.random.default_rng(0), (400,)).params["x"]
    assert (x < -4).any() and (x > 4).any() and (abs(x) < 1).any()


def test_a_case_checks_the_backward_it_is_handed():
    """The same case, built with a backward off by a little, fails on exactly the gradient it breaks."""
    rng = np.random.default_rng(0)
    with default_dtype("float64"):
        _assert_each_wrong_backward_fails(rng)


def _assert_each_wrong_backward_fails(rng):
    assert failed(basic_cases.sigmoid_case(rng, (3, 4), backward=lambda d, s: 1.01 * sigmoid_backward(d, s))) == {"x"}
    assert failed(basic_cases.tanh_case(rng, (3, 4), backward=lambda d, t: d * (1 - t))) == {"x"}  # t, not t**2

    def wrong_bias(dout, cache):
        dx, dW, db = affine_backward(dout, cache)
        return dx, dW, db / 2

    assert failed(basic_cases.affine_case(rng, (2, 3), 4, 5, backward=wrong_bias)) == {"b"}
    assert not failed(basic_cases.tanh_case(rng, (3, 4), backward=tanh_backward))
