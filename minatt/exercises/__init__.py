"""Exercises: write a backward pass (or a forward, or a search loop) yourself, and have it checked.

Most exercises are one of the library's backward functions with its body taken out. The stub in
``lessons/exercises/<name>.py`` keeps the library's signature, e.g. ``name_backward(dout, cache)``,
and the checker hands it the library's OWN forward cache, so the learner reads the cache's
fields and returns the same tuple of gradients the library's backward returns::

    python -m minatt exercise --list                       # with the error a correct answer reaches
    python -m minatt exercise affine                       # lessons/exercises/affine.py
    python -m minatt exercise affine --file my_affine.py

Four kinds (:mod:`minatt.exercises.spec`): a backward, gradient-checked against centred
differences of the forward; a forward (``masked_softmax``), compared with the library's; a
forward AND backward with a cache of the learner's design (``lstm_cell``); a search loop
(``greedy``, ``beam``), compared token by token with the library's on small fixed models. The
report says, per gradient or output: PASS, FAIL (with a hint aimed at it, and for a gate-fused
weight the gates whose columns are wrong), WRONG SHAPE or NOT IMPLEMENTED.

One concern per module:

    spec       what an exercise is (Exercise, its kinds) and one input set (Trial)
    trials     the input sets: small float64 arrays, padding masks with a one-position and an empty row
    steps      forwards the checker needs beyond the ops: adapters, and the two decoder steps with a cache
    decode     the decoding exercises: the decoder as a step function, the fixed models
    registry   every exercise: its op, the function to write, its trials, hints and error level (EXERCISES)
    load       finding and loading the learner's file, their errors reported as theirs
    check      check_exercise(): calling the learner, the gradient checks, the report
    values     comparing outputs and tokens with the library's
    command    the ``exercise`` command of ``python -m minatt``
"""

from minatt.exercises.check import (
           STATUSES,
           TOL,
           ExerciseReport,
           GradientReport,
           check_exercise,
)
from minatt.exercises.command import add_parser, list_exercises, main, run
from minatt.exercises.load import find_exercise_file, load_module
from minatt.exercises.registry import EXERCISES, Exercise, Trial, get_exercise

__all__ = ["EXERCISES", "STATUSES", "TOL", "Exercise", "ExerciseReport", "GradientReport", "Trial", "add_parser",
           "check_exercise", "find_exercise_file", "get_exercise", "list_exercises", "load_module", "main", "run"]
