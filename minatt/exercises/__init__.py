"""Exercises: write a backward pass (or a forward, or a search loop) yourself, and have it checked.

Most exercises are one of the library's backward functions with its body taken out. The stub in
``lessons/exercises/<name>.py`` keeps the library's signature, e.g. ``name_backward(dout, cache)``,
and the checker hands it the library's OWN forward cache, so the learner reads the cache's
fields and returns the same tuple of gradients the library's backward returns::

    python -m minatt exercise --list                       # with the error a correct answer reaches
    python -m minatt exercise affine                       # lessons/exercises/affine.py
    python -m minatt exercise affine --file my_affine.py
    python -m minatt exercise affine --hint             # a pointer at the cause (--hint 2: the formula)

Six kinds (:mod:`minatt.exercises.spec`): a backward, gradient-checked against centred
differences of the forward; a forward (``masked_softmax``, ``adam``, ``clip_grad_norm``),
compared with the library's; a forward AND backward with a cache of the learner's design
(``rnn_step``, ``rnn_sequence``, ``lstm_cell``); a search loop (``greedy``, ``beam``), compared
token by token with the library's on small fixed models; a whole model's ``loss_and_grads``
(``model_loss_and_grads``); a training loop run on the learner's own model (``overfit``). The
report says, per gradient or output: PASS, FAIL (with the kind of mistake, and for a gate-fused
weight the gates whose columns are wrong), WRONG SHAPE or NOT IMPLEMENTED; ``--hint`` adds a
pointer at the cause, ``--hint 2`` the formula.

One concern per module:

    spec             what an exercise is (Exercise, its kinds, its hints' tiers) and one input set (Trial)
    trials           the input sets: small float64 arrays, padding masks with a one-position and an empty row
    steps            forwards the checker needs beyond the ops: adapters, and the two decoder steps with a cache
    references       references built from the library's pieces: the RNN sequence, the bidirectional
                     encoder, one Adam step, clipping as outputs
    decode           the decoding exercises: the decoder as a step function, the fixed models
    model            the whole-model exercise and the overfit check
    registry_basics  the exercises of chapters 3 to 5: op, function to write, trials, hints, error level
    registry         those of chapters 6 to 11, and EXERCISES, all of them in chapter order
    load             finding and loading the learner's file, calling it, their errors reported as theirs
    check            check_exercise(): calling the learner, the gradient checks
    feedback         what a wrong gradient tells: the kind of mistake, the wrong gates, their order
    report           the report: a line per gradient, the feedback in tiers
    values           comparing outputs and tokens with the library's
    command          the ``exercise`` command of ``python -m minatt``
"""

from minatt.exercises.check import (
           STATUSES,
           TOL,
           ExerciseReport,
           GradientReport,
           check_exercise,
)
from minatt.exercises.exercise_command import add_parser, list_exercises, main, run
from minatt.exercises.load import find_exercise_file, load_module
from minatt.exercises.registry import EXERCISES, Exercise, Trial, get_exercise

__all__ = ["EXERCISES", "STATUSES", "TOL", "Exercise", "ExerciseReport", "GradientReport", "Trial", "add_parser",
           "check_exercise", "find_exercise_file", "get_exercise", "list_exercises", "load_module", "main", "run"]
