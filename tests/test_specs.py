"""Shape specs (minatt.specs): the spec language parses, and a Signature checks one call's arguments,
binding dimension letters, the dtype and the backend across them, with a one-line ShapeError.

The decorator that uses them (minatt.validate) is tested in tests/test_validate.py, the ops'
messages in tests/test_shape_errors.py.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import minatt.specs
from minatt.errors import ShapeError
from minatt.specs import Signature, Spec, compile_axes, describe, parse_spec


def test_the_docstring_examples_run():
    assert doctest.testmod(minatt.specs, raise_on_error=False).failed == 0


def test_specs_parse_into_axes_kind_and_flags():
    assert parse_spec("N T D") == Spec("N T D", "N T D", "float")
    assert parse_spec("N T bool?") == Spec("N T bool?", "N T", "bool", optional=True)
    assert parse_spec("... int<V|ignore_index") == Spec("... int<V|ignore_index", "...", "int", vocab="V",
                                                        ignore="ignore_index")
    assert parse_spec("Hq+Hk 4H") == Spec("Hq+Hk 4H", "Hq+Hk 4H", "float")
    assert parse_spec("id?") == Spec("id?", "", "id", optional=True)
    assert parse_spec("... D shape").kind == "shape"
    for bad in ("N T float", "N -1", "N ... D", "N 4H broadcastable", "4 H+"):
        with pytest.raises(ValueError, match="bad contract spec"):
            parse_spec(bad)


def test_axes_compile_to_multiples_of_sums_of_letters():
    assert compile_axes("... N 4H Hq+Hk 3") == (True, ((1, ("N",)), (4, ("H",)), (1, ("Hq", "Hk")), (3, ())))
    assert compile_axes("N T") == (False, ((1, ("N",)), (1, ("T",))))


def test_describe_names_an_arrays_dtype_and_shape_else_the_type():
    assert describe(np.zeros((2, 3), np.float32)) == "float32 array of shape (2, 3)"
    assert describe([1, 2]) == "list"


def fails(pattern: str, check, *args) -> None:
    with pytest.raises(ShapeError, match=pattern):
        check(*args)


def test_a_letter_bound_by_one_argument_holds_for_the_next():
    s = Signature("op")
    s.floats("x", np.zeros((2, 5, 3)), "N T D")
    s.floats("W", np.zeros((3, 8)), "D 4H")
    assert s.dims == {"N": 2, "T": 5, "D": 3, "H": 2} and s.source["H"] == "W"
    fails(r"^op: h0: expected shape \(N, H\) = \(2, 2\) \(N = 2 from x, H = 2 from W\), got \(2, 3\)$",
          s.floats, "h0", np.zeros((2, 3)), "N H")


def test_dtype_rank_and_kind_are_checked_in_one_line_each():
    s = Signature("op")
    s.floats("x", np.zeros((2, 3)), "N D")
    fails(r"^op: y: expected dtype float64 like x, got float32 \(cast it", s.floats, "y", np.zeros(2, np.float32), "N")
    fails(r"^op: y: expected a 1-d array of shape \(N\), got float64 array of shape \(2, 3\)$",
          s.floats, "y", np.zeros((2, 3)), "N")
    fails(r"^op: ids: expected an integer array of ids, got float64", s.ints, "ids", np.zeros(2), "N")
    fails(r"^op: mask: expected a bool mask", s.mask, "mask", np.ones(2, int), "N")
    fails(r"^op: z: expected an array of shape \(N\), got list$", s.floats, "z", [0.0, 1.0], "N")


def test_ids_stay_inside_the_vocabulary_or_are_the_ignored_one():
    s = Signature("op")
    s.bind("V", 5, "the config")
    s.ints("ids", np.array([0, 4]), "N", vocab="V")
    s.ints("targets", np.array([4, -100]), "N", vocab="V", ignore=-100)
    fails(r"^op: more: expected ids in \[0, V\) = \[0, 5\) \(V from the config\), got ids from 1 to 5$",
          s.ints, "more", np.array([1, 5]), "N", "V")


def test_empty_axes_and_leading_axes():
    fails(r"^op: x: an empty batch \(N = 0\)", Signature("op").floats, "x", np.zeros((0, 3)), "N D")
    fails(r"^op: x: expected a size that is a multiple of 4 \(4H\)", Signature("op").floats, "x", np.zeros(6), "4H")
    s = Signature("op")
    s.floats("logits", np.zeros((2, 3, 7)), "... V")
    fails(r"^op: t: expected leading axes \(...\) = \(2, 3\) like logits, got shape \(3, 2\)$",
          s.ints, "t", np.zeros((3, 2), int), "...")
