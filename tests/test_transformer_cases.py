"""minatt.gradcheck.transformer_cases: the cases of the Transformer's ops. Inputs keep clear of the bends the
finite difference cannot follow (ReLU's kink by KINK_MARGIN, a layer norm's row spread at least SIGMA_MIN),
the key bias bk is left out, and the ops are looked up at call time, so a planted bug makes a case fail."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.gradcheck.transformer_cases as transformer_cases
from minatt import gradcheck
from minatt.ops import encoder_layer as layer_ops
from minatt.ops import layernorm as ln_ops
from tests.case_modules import assert_well_formed, failed, registered_by

NAMES = ["encoder_layer", "feedforward", "layer_norm", "multihead_attention", "scaled_dot_attention",
         "scaled_dot_attention_causal"]


def test_the_module_registers_every_transformer_op():
    assert sorted(registered_by(transformer_cases)) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_case_is_well_formed(name):
    assert_well_formed(gradcheck.build_case(name, 1))


@pytest.mark.parametrize("seed", range(5))
def test_clear_of_kink_keeps_every_relu_input_away_from_zero(seed):
    rng = np.random.default_rng(seed)
    z0 = rng.standard_normal((40, 6)) * 0.3  # many rows near 0: a plain draw of b1 would land some there
    b1 = transformer_cases.clear_of_kink(rng, z0)
    assert b1.shape == (6,) and np.abs(z0 + b1).min() >= transformer_cases.KINK_MARGIN


@pytest.mark.parametrize("seed", range(5))
def test_the_layer_norm_case_spreads_every_row(seed):
    x = gradcheck.build_case("layer_norm", seed).params["x"]
    assert x.std(axis=-1).min() >= transformer_cases.SIGMA_MIN


def test_the_key_bias_is_not_checked():
    params = gradcheck.build_case("multihead_attention", 0).params
    assert "bk" not in params and {"Wk", "bq", "bv"} <= set(params)


def test_a_bug_planted_in_layer_norm_fails_its_case_and_through_the_encoder_layer_the_layers(monkeypatch):
    real = ln_ops.layer_norm_backward

    def no_gain(dy, cache):
        dx, dg, db = real(dy, cache)
        return dx, 0 * dg, db

    monkeypatch.setattr(ln_ops, "layer_norm_backward", no_gain)
    assert failed(gradcheck.build_case("layer_norm", 0)) == {"g"}
    assert not failed(gradcheck.build_case("encoder_layer", 0))  # the layer calls its own module's name
    monkeypatch.setattr(layer_ops, "layer_norm_backward", no_gain)
    assert failed(gradcheck.build_case("encoder_layer", 0)) == {"ln1_g", "ln2_g"}
