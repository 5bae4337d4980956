"""minatt.exercises.check: checking a learner's backward per input set: wrong counts and shapes reported, the
learner's own cache handed back, a NaN or an overflow explained."""

from __future__ import annotations

import numpy

from minatt.exercises import (
    check_exercise,
)
from tests.exercise_checks import planted
from tests.exercise_solutions import SOLUTIONS, write


def test_the_wrong_number_of_gradients_is_reported(tmp_path):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("return dx, dW, db", "return dx, dW"))
    report = check_exercise("affine", path)
    assert report.status == "error"
    assert "returned 2 values; it must return 3 values: dx, dW, db" in report.message


def test_none_and_junk_are_wrong_shapes(tmp_path):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("return dx, dW, db", "return dx, None, 'db'"))
    report = check_exercise("affine", path)
    assert report.grad("dx").passed
    assert report.grad("dW").status == report.grad("db").status == "wrong_shape"
    assert "got None" in report.grad("dW").detail and "not an array" in report.grad("db").detail


def test_the_learner_may_write_into_the_cache_and_dout(tmp_path):
    pad = "\n" + " " * 12
    source = SOLUTIONS["affine"].replace("return dx, dW, db", f"cache.W[...] = 0.0{pad}dout[...] = 0.0{pad}return dx, dW, db")
    assert check_exercise("affine", write(tmp_path, "affine", source)).passed


def test_a_nonzero_gradient_at_padding_is_explained(tmp_path):
    source = SOLUTIONS["attention"].replace("dvalues = w[:, :, None]", "dvalues = (w + 0.1)[:, :, None]")
    report = check_exercise("attention", write(tmp_path, "attention", source))
    assert report.grad("dvalues").status == "fail" and report.grad("dscores").passed
    assert "padded position" in report.grad("dvalues").detail


def test_a_nan_from_a_fully_masked_row_is_explained(tmp_path):
    with numpy.errstate(invalid="ignore"):
        report = planted(tmp_path, "masked_softmax", "p = e / np.where(total > 0, total, 1.0)", "p = e / total")
    assert "nan at p[0, 0]" in report.grad("p").detail
    assert "a row with no real position: it must be all zeros" in report.grad("p").detail


def test_an_overflow_is_explained(tmp_path):
    with numpy.errstate(over="ignore", invalid="ignore"):
        report = planted(tmp_path, "masked_softmax", "m = np.where(np.isfinite(m), m, 0.0)", "m = np.zeros_like(m)")
    assert "exp overflows unless you subtract the row's maximum first" in report.grad("p").detail


def test_the_learners_own_cache_is_what_their_backward_gets(tmp_path):
    """lstm_cell: a cache of a different design (a dict, tanh(c_next) recomputed) passes too."""
    source = SOLUTIONS["lstm_cell"].replace("(i, f, g, o, c_prev, tc)", "{'gates': (i, f, g, o), 'c': c_next, "
                                                                       "'c_prev': c_prev}")
    source = source.replace("i, f, g, o, c_prev, tc = cache",
                            "(i, f, g, o), c_prev = cache['gates'], cache['c_prev']\n            tc = np.tanh(cache['c'])")
    report = check_exercise("lstm_cell", write(tmp_path, "lstm_cell", source))
    assert report.passed, report.format()
