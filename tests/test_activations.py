"""sigmoid, tanh and their backwards against formulas written independently of minatt, and gradient-checked.

The library computes sigmoid as (1 + tanh(x/2)) / 2 and both derivatives from the forward
output; the references here use exp and cosh directly, so a slip in either form shows up.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from minatt import ops
from minatt.backend import array_module, asarray, to_numpy
from minatt.gradcheck import run_case
from minatt.gradcheck.basic_cases import sigmoid_case, tanh_case
from minatt.ops.activations import sigmoid, sigmoid_backward, tanh_backward
from minatt.validate import unchecked
from tests.planting import build, failures

X = np.array([-800.0, -30.0, -5.0, -1.0, -0.25, 0.0, 0.25, 1.0, 5.0, 30.0, 800.0])


def logistic(v: float) -> float:
    """1 / (1 + e^-v), written so that neither exponential overflows."""
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def sech2(v: float) -> float:
    """d tanh(v) / dv = 1 / cosh(v)^2 (0 where cosh overflows)."""
    return 0.0 if abs(v) > 700 else 1.0 / math.cosh(v) ** 2


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_is_the_logistic_function(backend, dtype):
    """Exact to the dtype's eps, absolutely: the tanh form rounds 1e-13 to 0 in the far tails."""
    s = to_numpy(sigmoid(asarray(X, dtype=dtype)))
    assert s.dtype == dtype
    expected = np.array([logistic(v) for v in X])
    eps = float(np.finfo(dtype).eps)
    np.testing.assert_allclose(s, expected, rtol=2 * eps, atol=eps)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[X == 0] == 0.5


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-6)])
def test_sigmoid_backward_is_the_derivative(backend, rng, dtype, rtol):
    """dx = ds * sigma'(x), with sigma'(x) = e^-x / (1 + e^-x)^2, for an arbitrary ds."""
    x = rng.uniform(-8, 8, size=(3, 7))
    ds = rng.standard_normal((3, 7))
    s = sigmoid(asarray(x, dtype=dtype))
    dx = to_numpy(sigmoid_backward(asarray(ds, dtype=dtype), s))
    derivative = np.array([math.exp(-abs(v)) / (1.0 + math.exp(-abs(v))) ** 2 for v in x.ravel()]).reshape(x.shape)
    np.testing.assert_allclose(dx, ds * derivative, rtol=rtol, atol=1e-7 if dtype == "float32" else 0)
    assert dx.dtype == dtype


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
def test_tanh_backward_is_the_derivative(backend, rng, dtype, rtol):
    """dx = dt * sech(x)^2, for an arbitrary dt."""
    x = np.concatenate([rng.uniform(-4, 4, size=9), [0.0, 20.0, -20.0]])
    dt = rng.standard_normal(x.shape)
    xx = asarray(x, dtype=dtype)
    t = array_module(xx).tanh(xx)
    dx = to_numpy(tanh_backward(asarray(dt, dtype=dtype), t))
    expected = dt * np.array([sech2(v) for v in x])
    np.testing.assert_allclose(dx, expected, rtol=rtol, atol=1e-7 if dtype == "float32" else 1e-16)


def test_the_derivatives_match_a_difference_of_the_reference_functions(rng):
    """Independent of the library's gradient checker: a plain centred difference of exp/tanh."""
    x = rng.uniform(-4, 4, size=20)
    h = 1e-5
    num_s = np.array([(logistic(v + h) - logistic(v - h)) / (2 * h) for v in x])
    num_t = np.array([(math.tanh(v + h) - math.tanh(v - h)) / (2 * h) for v in x])
    ones = np.ones_like(x)
    np.testing.assert_allclose(sigmoid_backward(ones, sigmoid(x)), num_s, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(tanh_backward(ones, np.tanh(x)), num_t, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
@pytest.mark.parametrize("seed", range(3))
def test_gradient_checks_pass(backend, name, seed):
    results = run_case(name, seed=seed)
    assert results and all(r.passed for r in results), [r.describe() for r in results if not r.passed]


def test_the_checked_ops_are_the_same_functions(rng):
    x = rng.standard_normal((2, 3))
    d = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(ops.sigmoid(x), sigmoid(x))
    np.testing.assert_array_equal(ops.sigmoid_backward(d, sigmoid(x)), sigmoid_backward(d, sigmoid(x)))
    np.testing.assert_array_equal(ops.tanh_backward(d, np.tanh(x)), tanh_backward(d, np.tanh(x)))


# --- planted bugs: the checker must catch each and name dx --------------------------------------

SIGMOID_BUGS = {
    "1-plus-s": lambda ds, s: ds * s * (1.0 + s),
    "no-ds": lambda ds, s: s * (1.0 - s),
    "s-squared": lambda ds, s: ds * s * s,
    "tanh-form": lambda ds, s: ds * (1.0 - s * s),
}
TANH_BUGS = {
    "1-plus-t2": lambda dt, t: dt * (1.0 + t * t),
    "1-minus-t": lambda dt, t: dt * (1.0 - t),
    "no-dt": lambda dt, t: 1.0 - t * t,
    "sigmoid-form": lambda dt, t: dt * t * (1.0 - t),
}


@pytest.mark.parametrize("bug", SIGMOID_BUGS)
def test_planted_sigmoid_backward_bugs_fail(bug):
    assert failures(build(sigmoid_case, 0, shape=(3, 4), backward=SIGMOID_BUGS[bug])) == {"x"}


@pytest.mark.parametrize("bug", TANH_BUGS)
def test_planted_tanh_backward_bugs_fail(bug):
    assert failures(build(tanh_case, 0, shape=(3, 4), backward=TANH_BUGS[bug])) == {"x"}


# --- tanh_backward's broadcasting: dt may be smaller than t, or (unchecked) larger ------------------


@pytest.mark.parametrize("dt_shape", [(4, 5, 3), (4, 5, 1), (3,), (1, 1, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@unchecked()  # a user's call must pass t's shape; the formula itself broadcasts
def test_tanh_backward_broadcasts_dt_and_leaves_its_inputs(backend, rng, dt_shape, dtype):
    """tanh_backward: dt * (1 - t^2) for any dt that broadcasts to t, inputs untouched."""
    xp = array_module(asarray(np.zeros(1)))
    t = xp.tanh(asarray(rng.standard_normal((4, 5, 3)), dtype=dtype))
    dt = asarray(rng.standard_normal(dt_shape), dtype=dtype)
    t_before, dt_before = to_numpy(t).copy(), to_numpy(dt).copy()
    dx = tanh_backward(dt, t)
    assert dx.shape == (4, 5, 3) and dx.dtype == t.dtype
    assert np.allclose(to_numpy(dx), dt_before * (1 - t_before**2), rtol=1e-6)
    assert np.array_equal(to_numpy(t), t_before) and np.array_equal(to_numpy(dt), dt_before)


def test_tanh_backward_when_dt_is_the_larger_array_or_another_dtype(rng):
    t = np.tanh(rng.standard_normal((5, 1)))
    dt = rng.standard_normal((5, 3))
    with unchecked():  # the math copes; a checked call refuses both (see tests/test_shape_errors.py)
        assert np.allclose(tanh_backward(dt, t), dt * (1 - t**2))  # t broadcasts: a new (5, 3) array
        t32 = t.astype(np.float32)
        dx = tanh_backward(dt, t32)
    assert dx.dtype == np.float64 and np.allclose(dx, dt * (1 - t32.astype(np.float64) ** 2), rtol=1e-6)
