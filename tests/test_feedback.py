"""minatt.exercises.feedback: what a wrong gradient tells (issues 14 and 24). Each rule gets a test that plants
the mistake it describes in a solution of tests/exercise_solutions.py and checks that its message, and no wrong
one, fires: the kind of mistake, the gates whose columns are wrong, their order."""

from __future__ import annotations

import re

import pytest

from minatt.exercises import (
    check_exercise,
)
from tests.exercise_checks import flat, kinds, planted
from tests.exercise_solutions import SOLUTIONS, write


def test_a_sign_error_is_called_a_sign_error(tmp_path):
    source = SOLUTIONS["affine"].replace("db = dout2.sum(axis=0)", "db = -dout2.sum(axis=0)")
    report = check_exercise("affine", write(tmp_path, "affine", source))
    assert "sign is flipped" in report.grad("db").detail


def test_the_affine_transpose_hint(tmp_path):
    source = SOLUTIONS["affine"].replace("dW = cache.x2.T @ dout2", "dW = dout2.T @ cache.x2")
    text = check_exercise("affine", write(tmp_path, "affine", source), hint_level=2).format()
    text = " ".join(text.split())  # the hints are wrapped
    assert "dW = x2^T @ dout2" in text
    assert "got shape (3, 2), expected (2, 3) like W: a transpose" in text


def test_a_bug_under_every_gradient_shows_the_common_hint(tmp_path):
    line = "dc_t = dc_next + dh_next * o * (1 - tc ** 2)"
    source = SOLUTIONS["lstm_step"].replace(line, "dc_t = dh_next * o * (1 - tc ** 2)")  # dropped dc_next
    path = write(tmp_path, "lstm_step", source)
    report = check_exercise("lstm_step", path)
    assert {g.status for g in report.grads} == {"fail"}
    assert "every gradient fails: look first at what they all go through" in " ".join(report.format().split())
    told = " ".join(check_exercise("lstm_step", path, hint_level=1).format().split())
    assert "every gradient fails: every gradient goes through dc_t and da" in told


def test_a_constant_factor_is_named_and_is_no_transpose(tmp_path):
    """A 1.0001 scale on dh_prev: a factor, not 'check for a transpose'."""
    report = planted(tmp_path, "lstm_step", "dh_prev = da @ cache.Wh.T", "dh_prev = 1.0001 * (da @ cache.Wh.T)",
                      level=2)
    detail = report.grad("dh_prev").detail
    assert "yours is 1.0001 times the right gradient everywhere" in detail
    assert kinds(detail) == {"times the right gradient"}
    assert "transpose" not in flat(report) and "order" not in flat(report)
    assert {g.name for g in report.grads if not g.passed} == {"dh_prev"}


def test_a_flipped_sign_is_named(tmp_path):
    detail = planted(tmp_path, "affine", "db = dout2.sum(axis=0)", "db = -dout2.sum(axis=0)").grad("db").detail
    assert kinds(detail) == {"the sign is flipped"}


def test_a_square_transpose_is_named(tmp_path):
    """dWh (H, H) transposed has the right shape: the numbers say it is the transpose."""
    detail = planted(tmp_path, "rnn_step", "dWh = h_prev.T @ da", "dWh = da.T @ h_prev").grad("dWh").detail
    assert kinds(detail) == {"transpose"}


def test_a_reversed_shape_is_called_a_transpose_and_a_wrong_shape_otherwise(tmp_path):
    report = planted(tmp_path, "affine", "dW = cache.x2.T @ dout2", "dW = dout2.T @ cache.x2")
    assert "got shape (3, 2), expected (2, 3) like W: a transpose" in report.grad("dW").detail
    report = planted(tmp_path, "affine", "db = dout2.sum(axis=0)", "db = dout2.sum(axis=0, keepdims=True)")
    assert "transpose" not in report.grad("db").detail and "got shape (1, 3)" in report.grad("db").detail


def test_an_all_zero_gradient_is_a_missing_path(tmp_path):
    detail = planted(tmp_path, "affine", "db = dout2.sum(axis=0)", "db = 0 * dout2.sum(axis=0)").grad("db").detail
    assert kinds(detail) == {"yours is 0 everywhere"}


def test_a_partly_wrong_gradient_says_how_much(tmp_path):
    """dW[ids] += dout keeps one of a repeated id's rows: the rows of ids seen once are right."""
    report = planted(tmp_path, "embedding", "np.add.at(dW, cache.ids.reshape(-1), dout.reshape(-1, D))",
                      "dW[cache.ids.reshape(-1)] += dout.reshape(-1, D)")
    detail = report.grad("dW").detail
    assert re.search(r"wrong in \d+ of \d+ elements: a term is wrong or missing for part of it", detail), detail
    assert kinds(detail) == {"elements: a term is wrong"}


def test_wrong_only_at_padding_is_named(tmp_path):
    detail = planted(tmp_path, "cross_entropy", "d * cache.counted[:, None] *", "d *").grad("dlogits").detail
    assert "wrong only at padded positions" in detail
    assert "a padded position: its gradient must be exactly 0" in detail


def test_an_unused_row_is_not_called_padding(tmp_path):
    detail = planted(tmp_path, "embedding", "return dW",
                      "return dW + (np.abs(dW).sum(axis=1, keepdims=True) == 0)").grad("dW").detail
    assert "padded" not in detail and "does not depend on th" in detail


def test_no_padding_is_blamed_on_a_row_without_padding(tmp_path):
    """Dropping the softmax subtraction: the worst element is the one real position of a row, not padding."""
    report = planted(tmp_path, "attention", "w * (dw - (w * dw).sum(axis=1, keepdims=True))", "w * dw")
    detail = report.grad("dscores").detail
    assert report.grad("dscores").status == "fail"
    assert "padded" not in detail and "the only real position of its row" in detail, detail


def test_a_mistake_only_at_padding_is_told_so(tmp_path):
    """BPTT that adds dhs at padded steps: right without padding, and the report says so."""
    report = planted(tmp_path, "lstm_bptt", "dh_t = dh + np.where(r, dhs[:, t], 0.0)", "dh_t = dh + dhs[:, t]",
                      level=1)
    assert "right on every input set without padding: check what happens at the padded positions" in \
        report.grad("dh0").detail
    assert "ignores dhs there" in flat(report)


@pytest.mark.parametrize("name", ["lstm_step", "lstm_cell"])
def test_a_wrong_gate_derivative_names_the_gate(name, tmp_path):
    """The sigmoid's derivative used for g: only the g columns are wrong, and the report says so."""
    report = planted(tmp_path, name, "dc_t * i * (1 - g ** 2)", "dc_t * i * g * (1 - g)", level=1)
    grad = "dWx" if name == "lstm_step" else "da"
    detail = report.grad(grad).detail
    assert detail.startswith(f"{grad} wrong in columns 2H:3H (gate g); the other gates (i, f, o) are right: "
                             f"g is a tanh, not a sigmoid"), detail
    assert "(1 - g ** 2)" not in detail  # the formula waits for --hint 2
    assert "order" not in flat(report) and "transpose" not in flat(report)
    if name == "lstm_step":
        assert report.grad("db").detail.startswith("db wrong in columns 2H:3H (gate g)")
        assert report.grad("dc_prev").passed
    formula = planted(tmp_path, name, "dc_t * i * (1 - g ** 2)", "dc_t * i * g * (1 - g)", level=2)
    assert "da_g = dc_t * i * (1 - g ** 2)" in formula.grad(grad).detail


def test_the_second_block_is_columns_h_to_2h(tmp_path):
    report = planted(tmp_path, "lstm_step", "da_f = dc_t * cache.cell.c_prev * f * (1 - f)",
                      "da_f = dc_t * cache.cell.c_prev * f")
    assert report.grad("dWx").detail.startswith("dWx wrong in columns H:2H (gate f)")
    assert "1H" not in flat(report)


def test_gates_in_the_wrong_order_are_named(tmp_path):
    """Swapping g's and o's blocks: the order advice fires, because swapping them back makes it match."""
    report = planted(tmp_path, "lstm_step", "[da_i, da_f, da_g, da_o]", "[da_i, da_f, da_o, da_g]")
    assert report.grad("dWh").detail.startswith(
        "dWh wrong in columns 2H:3H (gate g) and columns 3H:4H (gate o); the other gates (i, f) are right: your "
        "blocks are in the order i, f, o, g; put them in the order i, f, g, o")


def test_a_dropped_path_into_dc_t_is_not_called_gate_order(tmp_path):
    """dc_t without the h_next path: i, f, g are wrong, o is right; no gradient's line speaks of order."""
    line = "dc_t = dc_next + dh_next * o * (1 - tc ** 2)"
    report = planted(tmp_path, "lstm_step", line, "dc_t = dc_next", level=1)
    text = flat(report)
    assert "order" not in text
    for grad in ("dWx", "dWh", "db"):
        detail = report.grad(grad).detail
        assert detail.startswith(f"{grad} wrong in columns 0:H (gate i) and columns H:2H (gate f) and columns "
                                 f"2H:3H (gate g); the other gates (o) are right: i, f and g act through the "
                                 f"cell state and o does not: what they share is dc_t"), detail
    # dx and dh_prev are da @ W^T: they point at the gate line. dc_prev = dc_t * f is not: it keeps its own.
    assert report.grad("dx").hint.startswith("dx is computed from the gate pre-activation gradient")
    assert report.grad("dh_prev").hint.startswith("dh_prev is computed from the gate pre-activation gradient")
    assert report.grad("dc_prev").hint == "c_prev reaches the loss only through c_next = f * c_prev + i * g"
    assert "same pre-activation gradient" not in text


def test_a_wrong_gru_gate_is_named_with_the_codes_names(tmp_path):
    report = planted(tmp_path, "gru_step", "da_r = da_nx * cache.cell.ah_n * r * (1 - r)",
                      "da_r = da_nx * cache.cell.ah_n * r", level=2)
    detail = report.grad("dWx").detail
    assert detail.startswith("dWx wrong in columns 0:H (gate r); the other gates (z, n) are right: r multiplies")
    assert "da_r = da_nx * ah_n * r * (1 - r)" in detail


def test_a_wrong_gru_n_points_at_n_first(tmp_path):
    """n's derivative wrong: r's gradient, computed from n's, is wrong too; the report says to fix n."""
    report = planted(tmp_path, "gru_step", "da_nx = dh_next * (1 - z) * (1 - n ** 2)",
                      "da_nx = dh_next * (1 - z) * (1 - n)", level=1)
    detail = report.grad("dWx").detail
    assert "(gate r) and columns 2H:3H (gate n)" in detail and "check n first" in detail
    assert "order" not in flat(report)
