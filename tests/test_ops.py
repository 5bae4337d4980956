"""The ops package (minatt/ops/__init__.py): one flat namespace over the submodules, every op checked.

Each op is tested in the file of its submodule (tests/test_lstm.py, tests/test_gru.py,
tests/test_linear.py, tests/test_scores.py, ...); the GPU kernels of the
fused_*.py modules in tests/test_fused_cells.py and its two siblings. This file tests what the package itself promises.
"""

from __future__ import annotations

import doctest
import inspect

import numpy as np
import pytest

from minatt import ops
from minatt.errors import ShapeError
from minatt.validate import unchecked

EXPORTED = sorted(ops.__all__)
FUNCTIONS = [n for n in EXPORTED if inspect.isfunction(getattr(ops, n))]


def test_the_docstring_example_runs():
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder(recurse=False).find(ops):   # the package's own docstring
        runner.run(test)
    assert runner.summarize(verbose=False) == (0, 3)   # 3 examples, none failed


@pytest.mark.parametrize("name", EXPORTED)
def test_each_name_is_the_submodules_own_object(name):
    """``minatt.ops.lstm_forward is minatt.ops.lstm.lstm_forward``: defined once, re-exported under the same name."""
    obj = getattr(ops, name)
    module = inspect.getmodule(obj)
    assert module.__name__.startswith("minatt.ops.") and getattr(module, name) is obj


def test_every_exported_forward_has_its_backward():
    forwards = {n.removesuffix("_forward") for n in FUNCTIONS if n.endswith("_forward")}
    backwards = {n.removesuffix("_backward") for n in FUNCTIONS if n.endswith("_backward")}
    assert forwards <= backwards
    assert backwards - forwards == {"relu", "sigmoid", "tanh"}  # activations: the forward is the function itself


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n.endswith(("_forward", "_backward"))])
def test_every_forward_and_backward_carries_its_shape_contract(name):
    assert getattr(ops, name).contract is not None


def test_a_call_from_user_code_is_checked_and_one_inside_unchecked_is_not():
    x, W, b = np.ones((2, 3)), np.ones((4, 5)), np.ones(5)
    with pytest.raises(ShapeError, match=r"^affine_forward: W: expected shape \(D, M\) = \(3, M\)"):
        ops.affine_forward(x, W, b)
    with unchecked(), pytest.raises(ValueError) as info:   # NumPy's own complaint, not the contract's
        ops.affine_forward(x, W, b)
    assert not isinstance(info.value, ShapeError)
