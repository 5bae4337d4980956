"""The package minatt.gradcheck: its registry of op cases covers every backward in minatt.ops, every case
passes, and every gradient of every case is guarded (the checker itself: tests/test_checker.py)."""

from __future__ import annotations

import pytest

from minatt import gradcheck
from minatt.gradcheck import (
    check_gradients,
)

# --- the registry: every op passes, and every one of its gradients is guarded --------------------

CASES = sorted(gradcheck.registry())


def _backwards() -> dict:
    """Every ``*_backward`` function defined in a module of minatt.ops: code object -> dotted name."""
    import importlib
    import inspect
    import pkgutil

    import minatt.ops

    found = {}
    for info in pkgutil.iter_modules(minatt.ops.__path__):
        if info.name.startswith("fused"):  # GPU kernels of the references here: tests/test_fused_*.py check them
            continue
        module = importlib.import_module(f"minatt.ops.{info.name}")
        for name, f in vars(module).items():
            if name.endswith("_backward") and inspect.isfunction(f) and f.__module__ == module.__name__:
                found[inspect.unwrap(f).__code__] = f"{module.__name__}.{name}"  # past a checking wrapper
    return found


def test_every_backward_in_ops_is_run_by_a_registered_case():
    """The registry covers the library: each backward pass in minatt.ops is called by some case."""
    import sys

    backwards = _backwards()
    assert len(backwards) >= 10  # the op modules were found at all
    called = set()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in backwards:
            called.add(frame.f_code)

    for name in CASES:
        case = gradcheck.build_case(name)
        sys.setprofile(profile)
        try:
            case.fn(case.params)
        finally:
            sys.setprofile(None)
    missed = sorted(backwards[code] for code in backwards.keys() - called)
    assert not missed, f"no registered gradient case calls {missed}"


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_registered_op_passes(name, seed, backend):
    results = gradcheck.run_case(name, seed=seed)
    failures = [r.describe() for r in results if not r.passed]
    assert not failures, failures
    assert max(r.max_rel_error for r in results) <= 1e-7


@pytest.mark.parametrize("name", CASES)
def test_every_gradient_of_every_op_is_guarded(name):
    """Scaling any single gradient by 1.001, or dropping it, must fail that gradient, and only that one."""
    case = gradcheck.build_case(name, seed=3)
    _, grads = case.fn(case.params)
    assert set(grads) == set(case.params)
    for target in grads:

        def dropped(p, target=target):
            loss, g = case.fn(p)
            return loss, {k: v for k, v in g.items() if k != target}

        results = check_gradients(dropped, case.params, op=name, max_full=0, n_samples=0, n_directions=0)
        assert [(r.name, r.method) for r in results if not r.passed] == [(target, "missing")]

        def scaled(p, target=target):
            loss, g = case.fn(p)
            return loss, {k: v * 1.001 if k == target else v for k, v in g.items()}

        results = check_gradients(scaled, case.params, op=name, n_samples=16, n_directions=1)
        failed = {r.name for r in results if not r.passed}
        assert failed == {target}, f"{name}: scaling d{target} made {failed or 'nothing'} fail"


@pytest.mark.parametrize("case, module, function", [
    ("lstm", "lstm", "lstm_backward"), ("lstm_step", "lstm", "lstm_step_backward"),
    ("gru", "gru", "gru_backward"), ("gru_step", "gru", "gru_step_backward"),
])
def test_a_backward_that_forgets_its_last_gradient_fails(monkeypatch, case, module, function):
    """lstm_backward without db (the issue's first surviving mutation) must not pass unnoticed."""
    import importlib

    ops = importlib.import_module(f"minatt.ops.{module}")
    real = getattr(ops, function)
    monkeypatch.setattr(ops, function, lambda *args: real(*args)[:-1])
    try:
        results = gradcheck.run_case(case)
    except ValueError as exc:  # the case's strict zip refuses a short tuple of gradients
        assert "zip()" in str(exc)
    else:
        assert any(r.method == "missing" for r in results if not r.passed)
