"""Helpers the op tests share for planting bugs in a backward pass and seeing which gradients fail."""

from __future__ import annotations

import inspect
import textwrap

import numpy as np

from minatt.backend import default_dtype
from minatt.gradcheck import check_gradients


def build(factory, seed=0, **kwargs):
    """A registered case factory's case, built in float64 from a seeded generator."""
    with default_dtype("float64"):
        return factory(np.random.default_rng(seed), **kwargs)


def failures(case, **kwargs):
    """The names of the gradients of ``case`` that fail the check."""
    return {r.name for r in check_gradients(case.fn, case.params, **kwargs) if not r.passed}


def mutated(func, old, new):
    """A copy of func whose source has the one occurrence of ``old`` replaced by ``new``."""
    source = textwrap.dedent(inspect.getsource(func))
    assert source.count(old) == 1, f"{old!r} should occur once in {func.__name__}"
    namespace = dict(inspect.unwrap(func).__globals__)  # an op with a contract: its module's names
    flags = annotations.compiler_flag  # the __future__ feature imported above: keep annotations lazy
    code = compile(source.replace(old, new), f"<planted bug in {func.__name__}>", "exec", flags, True)
    exec(code, namespace)  # a test planting a bug in our own source
    return namespace[func.__name__]


def edit(target, old, new):
    """(target, plant): plant(f) is ``mutated(f, old, new)``, for monkeypatching the op named target."""
    return target, lambda f: mutated(f, old, new)


def scaled(func, index, factor):
    """func with its gradient number ``index`` multiplied by factor."""
    def wrapper(*args):
        grads = list(func(*args))
        grads[index] = grads[index] * factor
        return tuple(grads)
    return wrapper
