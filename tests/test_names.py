"""The ops and the model name a recurrent state one way: ``h_prev, c_prev -> h_next, c_next`` forward
and ``dh_next, dc_next -> dh_prev, dc_prev`` backward, never a bare ``h``, ``c``, ``dh`` or ``dc``.

Checked on every function and cache of ``minatt/ops`` and of the model's recurrent modules
(``minatt.model.nn``'s RNN, the decoders and their steps, search): the parameters (inspect), the
fields of the NamedTuples (caches, the decoder's state), and the names a step's or cell's
``return`` statement hands back (ast).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import textwrap
import types

import pytest

import minatt.ops

BARE = {"h", "c", "dh", "dc"}
# What a step's or cell's backward may hand back for a state: the gradient leaving it, or (GRU)
# the part of it that skips Wh, which the caller completes.
STATE_GRADIENTS = {"dh_prev", "dc_prev", "dh_direct"}


def op_modules() -> list[types.ModuleType]:
    return [importlib.import_module(f"minatt.ops.{m.name}") for m in pkgutil.iter_modules(minatt.ops.__path__)]


def returned_names(fn) -> list[str]:
    """The plain names in ``fn``'s return statements (``return a, b, Cache(...)`` -> ["a", "b"])."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(fn))))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            items = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            names += [item.id for item in items if isinstance(item, ast.Name)]
    return names


def function_problems(where: str, name: str, fn) -> list[str]:
    """A function's (or method's) bare parameters and, for a step or a cell, its bare returns."""
    problems = [f"{where}: parameter {p!r}" for p in inspect.signature(fn).parameters if p in BARE]
    if "_step_" in name or "_cell_" in name or name in ("step", "step_backward"):
        for r in returned_names(fn):
            if r in BARE or (name.endswith("_backward") and r[:2] in ("dh", "dc") and r not in STATE_GRADIENTS):
                problems.append(f"{where}: returns {r!r}")
    return problems


def naming_problems(module: types.ModuleType) -> list[str]:
    """Every break of the convention in one module, as 'module.function: what' (methods: 'module.Class.method')."""
    problems = []
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue  # imported from elsewhere: checked where it is defined
        where = f"{module.__name__}.{name}"
        if inspect.isclass(obj) and hasattr(obj, "_fields"):
            problems += [f"{where}: cache field {f!r}" for f in obj._fields if f in BARE]
        elif inspect.isclass(obj):
            for method, fn in vars(obj).items():
                if inspect.isfunction(fn):
                    problems += function_problems(f"{where}.{method}", method, fn)
        elif inspect.isfunction(obj):
            problems += function_problems(where, name, obj)
    return problems


@pytest.mark.parametrize("module", op_modules(), ids=lambda m: m.__name__)
def test_ops_name_states_prev_and_next(module):
    assert naming_problems(module) == []


@pytest.mark.parametrize("name", ["minatt.model.nn", "minatt.model.decoders", "minatt.model.search"])
def test_the_models_recurrent_modules_name_states_prev_and_next(name):
    assert naming_problems(importlib.import_module(name)) == []


def test_the_models_steps_take_the_conventional_names():
    from minatt.model import nn

    assert list(inspect.signature(nn.RNN.step).parameters)[3:] == ["h_prev", "c_prev"]
    assert list(inspect.signature(nn.RNN.step_backward).parameters)[1:3] == ["dh_next", "dc_next"]


def test_the_recurrent_ops_take_and_return_the_conventional_names():
    from minatt.ops import gru, lstm, rnn

    def params(fn):
        return list(inspect.signature(fn).parameters)

    assert params(lstm.lstm_step_forward)[:3] == ["x", "h_prev", "c_prev"]
    assert params(lstm.lstm_step_backward) == ["dh_next", "dc_next", "cache"]
    assert params(lstm.lstm_cell_backward) == ["dh_next", "dc_next", "cache"]
    assert params(gru.gru_step_forward)[:2] == ["x", "h_prev"]
    assert params(gru.gru_step_backward) == ["dh_next", "cache"]
    assert params(gru.gru_cell_backward) == ["dh_next", "cache"]
    assert params(rnn.rnn_step_forward)[:2] == ["x", "h_prev"]
    assert params(rnn.rnn_step_backward) == ["dh_next", "cache"]
    assert returned_names(lstm.lstm_step_backward)[:3] == ["dx", "dh_prev", "dc_prev"]
    assert returned_names(lstm.lstm_cell_forward) == ["h_next", "c_next"]
    assert returned_names(gru.gru_step_backward)[:2] == ["dx", "dh_prev"]
    assert returned_names(rnn.rnn_step_backward)[:2] == ["dx", "dh_prev"]


def test_a_planted_bare_name_is_reported(tmp_path):
    """The checker itself, on a module with a bare parameter, a bare return and a bare cache field."""
    path = tmp_path / "planted.py"
    path.write_text(textwrap.dedent('''
        from typing import NamedTuple


        class ToyCache(NamedTuple):
            x: object
            h: object


        def toy_step_forward(x, h_prev):
            h_next = x + h_prev
            return h_next


        def toy_step_backward(dh, cache):
            dx = dh
            return dx, dh
    '''))
    spec = importlib.util.spec_from_file_location("planted", path)
    planted = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(planted)
    assert naming_problems(planted) == ["planted.ToyCache: cache field 'h'", "planted.toy_step_backward: parameter 'dh'",
                                        "planted.toy_step_backward: returns 'dh'"]
