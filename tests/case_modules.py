"""Helpers for the tests of minatt.gradcheck's case modules (test_basic_cases.py and its three siblings)."""

from __future__ import annotations

import numpy as np

from minatt import gradcheck
from minatt.gradcheck import check_gradients


def registered_by(module) -> list[str]:
    """The registered case names whose factory is defined in ``module``."""
    return [name for name, make in gradcheck.registry().items() if make.__module__ == module.__name__]


def assert_well_formed(case) -> None:
    """float64 params; fn(params) -> (a finite scalar loss, one gradient of each param's shape)."""
    loss, grads = case.fn(case.params)
    assert np.ndim(loss) == 0 and np.isfinite(float(loss))
    assert set(grads) == set(case.params)
    for name, p in case.params.items():
        assert p.dtype == np.float64, name
        assert grads[name].shape == p.shape, name


def failed(case, **kwargs) -> set[str]:
    """The names of the params whose gradient fails the check."""
    return {r.name for r in check_gradients(case.fn, case.params, **kwargs) if not r.passed}
