"""minatt.gradcheck.rnn_cases: the recurrent ops' cases (tanh RNN, LSTM, GRU: one step, one cell, whole
sequences). Sizes can be fixed by keyword, sequence masks always hold a full, an empty and a length-1 row,
and the ops are looked up at call time, so a bug planted with monkeypatch makes the case fail."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.gradcheck.rnn_cases as rnn_cases
import minatt.ops.gru as gru_ops
import minatt.ops.lstm as lstm_ops
from minatt import gradcheck
from tests.case_modules import assert_well_formed, failed, registered_by

NAMES = ["gru", "gru_cell", "gru_step", "lstm", "lstm_cell", "lstm_step", "rnn_step"]


def test_the_module_registers_every_recurrent_op():
    assert sorted(registered_by(rnn_cases)) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_case_is_well_formed(name):
    assert_well_formed(gradcheck.build_case(name, 3))


def test_sizes_can_be_fixed_by_keyword():
    rng = np.random.default_rng(0)
    params = rnn_cases.lstm_case(rng, N=5, T=6, D=3, H=2).params
    assert params["x"].shape == (5, 6, 3) and params["Wx"].shape == (3, 8) and params["Wh"].shape == (2, 8)
    square = rnn_cases.gru_step_case(rng, D=4, H=4).params
    assert square["Wx"].shape == square["Wh"].shape == (4, 12)


@pytest.mark.parametrize("make", [rnn_cases.lstm_case, rnn_cases.gru_case])
def test_sequence_masks_hold_a_full_an_empty_and_a_length_one_row(make, monkeypatch):
    seen = []
    forward = {rnn_cases.lstm_case: (lstm_ops, "lstm_forward"), rnn_cases.gru_case: (gru_ops, "gru_forward")}[make]
    real = getattr(*forward)

    def spy(*args):
        seen.append(np.asarray(args[-1]))
        return real(*args)

    monkeypatch.setattr(*forward, spy)
    for seed in range(5):
        case = make(np.random.default_rng(seed))
        case.fn(case.params)
        lengths = set(seen[-1].sum(axis=1).tolist())
        assert {0, 1, seen[-1].shape[1]} <= lengths


def test_a_bug_planted_in_the_op_makes_its_case_fail(monkeypatch):
    """The case calls lstm_ops.lstm_step_backward at check time: a dropped forget-gate path is caught."""
    real = lstm_ops.lstm_step_backward

    def no_carry(dh_next, dc_next, cache):
        grads = real(dh_next, dc_next, cache)
        return (*grads[:2], 0 * grads[2], *grads[3:])  # dc_prev dropped

    monkeypatch.setattr(lstm_ops, "lstm_step_backward", no_carry)
    assert failed(gradcheck.build_case("lstm_step", 0)) == {"c_prev"}
