"""minatt.gradcheck.checker: its formulas, its verdicts, and that it cannot be fooled by a planted bug."""

from __future__ import annotations

import re

import numpy as np
import pytest

import minatt
from minatt import gradcheck
from minatt.gradcheck.checker import (
    GradientCheckError,
    assert_gradients,
    centred_difference,
    check_gradients,
    numerical_gradient,
    project,
    rel_error,
)


def tanh_layer_case(rng, n=3, d=4, m=5):
    """A tiny two-input function with a known backward: loss = sum(tanh(x @ W) * dout)."""
    params = {"x": rng.standard_normal((n, d)), "W": rng.standard_normal((d, m)) * 0.5}
    dout = rng.standard_normal((n, m))

    def fn(p):
        out = np.tanh(p["x"] @ p["W"])
        dz = dout * (1 - out**2)
        return project(out, dout), {"x": dz @ p["W"].T, "W": p["x"].T @ dz}

    fn.dout = dout
    return fn, params


def test_rel_error_formula():
    assert rel_error(1.0, 1.0) == 0
    assert rel_error(0.0, 0.0) == 0  # two exact zeros agree
    np.testing.assert_allclose(rel_error(1.0, 1.001), 0.001 / 2.001)
    np.testing.assert_allclose(rel_error(1e-12, 0.0), 1e-12 / 1e-10)  # the floor


@pytest.mark.parametrize("order, expected_digits", [(2, 9), (4, 11)])
def test_centred_difference_orders(order, expected_digits):
    f = np.sin
    numeric = centred_difference(lambda t: f(0.7 + t), gradcheck.DEFAULT_STEP[order], order)
    assert abs(numeric - np.cos(0.7)) < 10.0**-expected_digits


def test_fourth_order_beats_second_order_at_the_same_step():
    h = 1e-3
    err2 = abs(centred_difference(lambda t: np.exp(t), h, 2) - 1)
    err4 = abs(centred_difference(lambda t: np.exp(t), h, 4) - 1)
    assert err4 < err2 / 1000


def test_numerical_gradient_matches_analytic_and_restores_input():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = x.copy()
    g = numerical_gradient(lambda a: float(np.sum(a**3)), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-9)
    np.testing.assert_array_equal(x, before)


def test_correct_gradients_pass_every_method():
    fn, params = tanh_layer_case(np.random.default_rng(0))
    results = check_gradients(fn, params, max_full=8)  # x (12) and W (20) are sampled
    assert {r.method for r in results} == {"sampled", "direction"}
    assert all(r.passed for r in results), [r.describe() for r in results if not r.passed]
    assert max(r.max_rel_error for r in results) < 1e-9


@pytest.mark.parametrize("bug", ["scale", "transpose", "sign", "drop"])
def test_planted_bugs_are_caught_and_named(bug):
    fn, params = tanh_layer_case(np.random.default_rng(1), d=4, m=4)

    def buggy(p):
        loss, grads = fn(p)
        if bug == "scale":
            grads["W"] = grads["W"] * 1.001
        elif bug == "transpose":
            grads["W"] = grads["W"].T
        elif bug == "sign":
            grads["W"] = -grads["W"]
        else:  # drop the tanh derivative from dx
            grads["x"] = fn.dout @ p["W"].T
        return loss, grads

    with pytest.raises(GradientCheckError) as info:
        assert_gradients(buggy, params, op="toy")
    named = "dx" if bug == "drop" else "dW"
    assert f"toy: {named}[" in str(info.value)
    assert "analytic" in str(info.value) and "numeric" in str(info.value)


def test_direction_check_catches_a_bug_that_sampling_misses():
    fn, params = tanh_layer_case(np.random.default_rng(2), n=40, d=50, m=3)

    def one_bad_element(p):
        loss, grads = fn(p)
        grads["W"] = grads["W"].copy()
        grads["W"][17, 1] += 1e-3
        return loss, grads

    results = check_gradients(one_bad_element, params, names=["W"], max_full=0, n_samples=3, n_directions=2)
    sampled = [r for r in results if r.method == "sampled"]
    directions = [r for r in results if r.method == "direction"]
    assert all(r.passed for r in sampled)  # 3 of 150 elements: the bad one is not among them
    assert not all(r.passed for r in directions)


@pytest.mark.parametrize("problem, name, method, says", [
    ("missing", "W", "missing", "no gradient for parameter 'W'"),
    ("extra", "V", "extra", "gradient 'V' has no matching parameter"),
    ("shape", "W", "shape", "shape (5, 4), but W has shape (4, 5)"),
])
def test_gradient_keys_and_shapes_are_strict(problem, name, method, says):
    """A backward that forgets a gradient (or invents one, or transposes it) fails, naming it."""
    fn, params = tanh_layer_case(np.random.default_rng(0))

    def wrong(p):
        loss, grads = fn(p)
        if problem == "missing":
            del grads["W"]
        elif problem == "extra":
            grads["V"] = grads["W"]
        else:
            grads["W"] = grads["W"].T
        return loss, grads

    for names in (None, ["x"]):  # asking only about x does not excuse a problem with another key
        results = check_gradients(wrong, params, names=names, op="toy")
        failed = [r for r in results if not r.passed]
        assert [(r.name, r.method) for r in failed] == [(name, method)]
        assert failed[0].describe() == f"toy: d{name}: {says} FAIL"
        assert any(r.name == "x" and r.passed for r in results)  # the rest is still checked
    with pytest.raises(GradientCheckError, match=re.escape(f"toy: d{name}: {says}")):
        assert_gradients(wrong, params, op="toy")


def test_asking_about_an_unknown_name_is_an_error():
    fn, params = tanh_layer_case(np.random.default_rng(0))
    with pytest.raises(KeyError, match="'y' is not a parameter; parameters: x, W"):
        check_gradients(fn, params, names=["y"])


def test_float32_is_refused_with_advice():
    fn, params = tanh_layer_case(np.random.default_rng(0))
    params = {k: v.astype(np.float32) for k, v in params.items()}
    with pytest.raises(TypeError, match="need float64.*default_dtype"):
        check_gradients(fn, params)


def test_table_lists_every_result():
    fn, params = tanh_layer_case(np.random.default_rng(0))
    table = gradcheck.format_table(check_gradients(fn, params, op="toy", n_directions=1))
    assert table.splitlines()[0].split() == ["op", "input", "method", "max", "rel", "error", "verdict"]
    assert len(table.splitlines()) == 2 + 4


def test_checks_run_on_the_current_backend(backend):
    with minatt.default_dtype("float64"):
        x = minatt.backend.randn(np.random.default_rng(0), (3,))

    def fn(p):
        return float((p["x"] ** 2).sum()), {"x": 2 * p["x"]}

    assert all(r.passed for r in check_gradients(fn, {"x": x}))


def test_tiny_gradients_are_judged_by_their_absolute_error():
    """A gradient of 1e-9 sits below what the difference can resolve relatively, but not absolutely."""
    params = {"x": np.array([0.3, -1.1, 2.0])}

    def fn(p, scale=1.0):
        return 1.0 + 1e-9 * float(np.sin(p["x"]).sum()), {"x": scale * 1e-9 * np.cos(p["x"])}

    assert gradcheck.resolution(1.0, 1e-3) < 1e-12  # so an absolute error of 1e-9 is resolvable
    assert all(r.passed for r in check_gradients(fn, params))
    wrong = check_gradients(lambda p: fn(p, scale=2.0), params)  # off by 1e-9, absolutely
    assert not any(r.passed for r in wrong)
