"""Exercises: write a backward pass yourself, and have it gradient-checked.

Each exercise is one of the library's backward functions with its body taken out. The stub in
``lessons/exercises/<name>.py`` keeps the library's signature, ``name_backward(dout, cache)``,
and the checker hands it the library's OWN forward cache, so the learner reads the cache's
fields and returns the same tuple of gradients the library's backward returns::

    python -m minatt exercise --list
    python -m minatt exercise affine                       # lessons/exercises/affine.py
    python -m minatt exercise affine --file my_affine.py

The checker (:mod:`minatt.exercises.check`) runs the library's forward on several input sets,
calls the learner's backward once on each, and compares every returned gradient with centred
differences: PASS, FAIL (with a hint), WRONG SHAPE or NOT IMPLEMENTED, per gradient.

One concern per module:

    registry   what each exercise is: the op, the backward to write, its trials and hints (EXERCISES)
    load       finding and loading the learner's file, their errors reported as theirs
    check      check_exercise(): the gradient checks and the report per gradient
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
