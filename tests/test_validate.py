"""The contract mechanism itself (minatt.validate): the decorator, the switch, what a check reads.

The spec language and one call's checks (minatt.specs) are tested in tests/test_specs.py; the ops'
own contracts and messages in tests/test_shape_errors.py.
"""

from __future__ import annotations

import doctest
import threading
from typing import NamedTuple

import numpy as np
import pytest

import minatt.validate
from minatt.errors import ShapeError
from minatt.validate import Cache, checking, contract, unchecked


class Inner(NamedTuple):
    keys: np.ndarray


class Outer(NamedTuple):
    keys: np.ndarray
    shape: tuple
    inner: Inner


@contract(x="N D", W="D 2M", b="2M?", mask="N bool?")
def probe(x, W, b=None, mask=None):
    """A test op: returns whether checks are on while it runs."""
    return checking()


@contract(cache=Cache(Outer, keys="N S K", shape="... K shape"), d="... S")
def probe_backward(d, cache):
    return "ran"


@contract(scale="number", index="id?", table="V D", ids="... int<V|index")
def probe_ids(ids, table, index=None, scale=1.0):
    return "ran"


def test_the_docstring_examples_run():
    assert doctest.testmod(minatt.validate, raise_on_error=False).failed == 0


def test_a_contract_names_only_real_parameters():
    def f(x, ids):
        return x

    with pytest.raises(TypeError, match=r"^contract of f: no parameter named y$"):
        contract(x="N", y="N")(f)
    with pytest.raises(TypeError, match=r"^contract of f: ids: V must be bound by an earlier argument$"):
        contract(ids="N int<V", x="V")(f)
    with pytest.raises(TypeError, match=r"^contract of f: x: Hq\+Hk has two letters no earlier argument binds$"):
        contract(x="N Hq+Hk", ids="N int")(f)
    with pytest.raises(ValueError, match="bad contract spec 'N bolean'"):
        contract(x="N bolean")


def test_checks_are_on_by_default_and_off_inside_unchecked_and_inside_an_op():
    x, W = np.ones((2, 3)), np.ones((3, 4))
    assert checking()
    assert probe(x, W) is False  # the op runs with checks off: the ops it calls are not checked again
    assert checking()
    with unchecked():
        assert not checking()
        assert probe(x, np.ones((5, 5))) is False  # no check: a wrong W goes through
        with unchecked():
            assert not checking()
        assert not checking()
    assert checking()
    with pytest.raises(ShapeError):
        probe(x, np.ones((5, 5)))
    assert checking()  # restored after a failed check
    with pytest.raises(RuntimeError), unchecked():
        raise RuntimeError
    assert checking()  # restored after an error inside


def test_unchecked_is_a_decorator_and_per_thread():
    seen = {}

    @unchecked()
    def step():
        seen["step"] = checking()
        thread = threading.Thread(target=lambda: seen.setdefault("thread", checking()))
        thread.start()
        thread.join()

    step()
    assert seen == {"step": False, "thread": True}
    assert checking()


def test_optional_arguments_and_multiples():
    x = np.ones((2, 3))
    probe(x, np.ones((3, 4)), None, None)
    probe(x, np.ones((3, 4)), np.ones(4), np.ones(2, dtype=bool))
    with pytest.raises(ShapeError, match=r"^probe: W: expected a size that is a multiple of 2 \(2M\) on that axis, got 5$"):
        probe(x, np.ones((3, 5)))
    with pytest.raises(ShapeError, match=r"^probe: b: expected shape \(2M\) = \(4\) \(M = 2 from W\), got \(3,\)$"):
        probe(x, np.ones((3, 4)), b=np.ones(3))
    with pytest.raises(ShapeError, match=r"^probe: mask: expected a bool mask"):
        probe(x, np.ones((3, 4)), mask=np.ones(2))


def test_a_fixed_size_axis():
    pair = contract(x="N 2")(lambda x: x)
    pair(np.ones((3, 2)))
    with pytest.raises(ShapeError, match=r"^<lambda>: x: expected shape \(N, 2\) = \(3, 2\), got \(3, 4\)$"):
        pair(np.ones((3, 4)))


def test_a_sum_with_one_new_letter_binds_it():
    @contract(q="N Hq", Wa="Hq+Hk A", keys="N S Hk")
    def concat(q, Wa, keys):
        return "ran"

    q = np.ones((2, 3))
    assert concat(q, np.ones((8, 4)), np.ones((2, 5, 5))) == "ran"  # Hk = 8 - 3
    with pytest.raises(ShapeError, match=r"^concat: keys: expected shape \(N, S, Hk\) = \(2, 5, 5\) \(N = 2 from q, "
                                         r"Hk = 5 from Wa\), got \(2, 5, 4\)$"):
        concat(q, np.ones((8, 4)), np.ones((2, 5, 4)))
    with pytest.raises(ShapeError, match=r"^concat: Wa: expected shape \(Hq\+Hk, A\) = \(Hk\+3, A\) \(Hq = 3 from q\), "
                                         r"got \(3, 4\)$"):
        concat(q, np.ones((3, 4)), np.ones((2, 5, 4)))


def test_a_cache_is_one_level_and_its_fields_are_checked():
    with pytest.raises(TypeError, match=r"^Cache\(Outer\): a field's spec is a string \(one level, no cache inside a cache\)$"):
        Cache(Outer, inner=Cache(Inner, keys="N S K"))
    inner = Inner(np.ones((2, 5, 3)))
    assert probe_backward(np.ones((4, 5)), Outer(np.ones((2, 5, 3)), (4, 3), inner)) == "ran"
    with pytest.raises(ShapeError, match=r"^probe_backward: cache: expected the Outer returned by probe_forward, got tuple$"):
        probe_backward(np.ones((4, 5)), (np.ones((2, 5, 3)), (4, 3), inner))
    with pytest.raises(ShapeError, match=r"^probe_backward: cache.shape: expected shape \(\.\.\., K\) = \(\.\.\., 3\) "
                                         r"\(K = 3 from cache.keys\), got \(4, 2\)$"):
        probe_backward(np.ones((4, 5)), Outer(np.ones((2, 5, 3)), (4, 2), inner))
    with pytest.raises(ShapeError, match=r"^probe_backward: d: expected leading axes \(...\) = \(4,\) like cache.shape, "
                                         r"got shape \(2, 5\)$"):
        probe_backward(np.ones((2, 5)), Outer(np.ones((2, 5, 3)), (4, 3), inner))
    assert "cache=Cache(Outer, keys='N S K', shape='... K shape')" in str(probe_backward.contract)


def test_ids_scalars_and_an_ignored_id():
    table = np.ones((4, 2))
    assert probe_ids(np.array([0, 3]), table) == "ran"
    assert probe_ids(np.array([0, -1]), table, index=-1, scale=2) == "ran"
    with pytest.raises(ShapeError, match=r"^probe_ids: ids: expected ids in \[0, V\) = \[0, 4\) \(or ignore_index 9\) "
                                         r"\(V from table\), got ids from -1 to 0$"):
        probe_ids(np.array([0, -1]), table, index=9)
    with pytest.raises(ShapeError, match=r"^probe_ids: scale: expected a finite Python number, got inf$"):
        probe_ids(np.array([0]), table, scale=float("inf"))
    with pytest.raises(ShapeError, match=r"^probe_ids: scale: expected a finite Python number, got True$"):
        probe_ids(np.array([0]), table, scale=True)
    with pytest.raises(ShapeError, match=r"^probe_ids: index: expected an integer id or None, got 1.0$"):
        probe_ids(np.array([0]), table, index=1.0)


def test_the_op_keeps_its_name_signature_and_docstring():
    assert probe.__name__ == "probe" and probe.__doc__.startswith("A test op: returns whether checks are on")
    assert "Contract (checked on calls from user code): x='N D', W='D 2M', b='2M?', mask='N bool?'" in probe.__doc__
    assert list(__import__("inspect").signature(probe).parameters) == ["x", "W", "b", "mask"]
