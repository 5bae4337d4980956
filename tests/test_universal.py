"""minatt.experiments.universal: claim 4 (an additive score can approximate the general one): the networks, the
random-feature fit, a tiny run with its verdict."""

from __future__ import annotations

import json

import numpy as np


def test_quadratic_network_is_the_general_score_and_tanh_approaches_it():
    from minatt.experiments.universal import network, quadratic_network, tanh_network
    from minatt.ops.scores import general_score_forward

    rng = np.random.default_rng(3)
    q, keys, Wa = rng.normal(size=(5, 4)), rng.normal(size=(5, 7, 4)), rng.normal(size=(4, 4))
    general = general_score_forward(q, keys, Wa)[0]
    assert np.abs(network(q, keys, *quadratic_network(Wa), np.square) - general).max() < 1e-12
    errors = [np.abs(network(q, keys, *tanh_network(Wa, eps), np.tanh) - general).max() for eps in (0.1, 0.01)]
    assert 50 < errors[0] / errors[1] < 200  # O(eps^2)


def test_random_feature_fit_improves_with_width_and_needs_a_bias_on_symmetric_inputs():
    from minatt.experiments.universal import random_feature_fit

    rng = np.random.default_rng(0)
    q, keys = rng.normal(size=(200, 3)), rng.normal(size=(200, 5, 3))  # symmetric around 0
    dot = np.einsum("mh,msh->ms", q, keys)
    fit = np.arange(200) % 2 == 0
    narrow, wide = (random_feature_fit(q, keys, dot, fit, A, True, 0) for A in (4, 256))
    assert wide < 0.5 * narrow and wide < 0.2
    assert random_feature_fit(q, keys, dot, fit, 256, False, 0) > 0.9  # odd network, even target: nothing fits


def test_run_universal_writes_design_results_and_a_verdict(tmp_path):
    from minatt.experiments.universal import DESIGN, UniversalConfig, run_universal, universal_verdict

    r = run_universal(UniversalConfig(train_steps=5, batch=4, widths=(4, 16)), tmp_path, "cmd")
    saved = json.loads((tmp_path / "10_universal.json").read_text())
    assert saved["design"] == DESIGN and saved["verdict"] == universal_verdict(saved) == r["verdict"]
    assert saved["results"]["quadratic_error"] < 1e-12 and saved["results"]["additive_error"] < 1e-12
    saved["results"]["quadratic_error"] = 1e-9  # one condition fails: so does the verdict
    assert universal_verdict(saved)["outcome"] == "criterion not met"
