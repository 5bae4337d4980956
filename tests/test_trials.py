"""minatt.exercises.trials: the input sets each exercise is checked on: small float64 arrays of several shapes,
and masks with a row of one real position and one of none where the op takes a mask."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.exercises.trials as trials
from minatt.backend import default_dtype
from minatt.exercises import EXERCISES


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_exercise_gets_input_sets_of_float64_several_unless_it_trains(name):
    with default_dtype("float64"):
        sets = EXERCISES[name].trials(np.random.default_rng(0))
    assert len(sets) >= (1 if EXERCISES[name].kind == "overfit" else 2), name
    for trial in sets:
        assert all(np.asarray(a).dtype == np.float64 for a in trial.params.values()), (name, trial.label())
        for key, pad in trial.padded.items():
            assert pad.shape == np.shape(trial.params[key]) and pad.dtype == bool


def test_the_masked_softmax_sets_hold_an_empty_row_a_length_one_row_and_large_scores():
    with default_dtype("float64"):
        sets = trials.masked_softmax(np.random.default_rng(0))
    masks = [t.kwargs["mask"] for t in sets if t.kwargs.get("mask") is not None]
    lengths = {int(n) for m in masks for n in np.asarray(m).reshape(-1, np.shape(m)[-1]).sum(axis=1)}
    assert {0, 1} <= lengths
    last = sets[-1]
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(last.params["x"])).any(axis=1).all()  # every row overflows without its max
    np.testing.assert_array_equal(last.padded["x"], ~np.broadcast_to(np.asarray(last.kwargs["mask"]), (3, 4)))
