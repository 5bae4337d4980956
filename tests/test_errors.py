"""The errors a user's mistake raises (minatt.errors): one family, caught by the command line as one line.

Each error is a MinattError (the command line prints it and exits 2, without a traceback); the
shape and config errors are also ValueErrors, so code that catches ValueError keeps working.
"""

from __future__ import annotations

import pytest

from minatt import errors
from minatt.argtypes import run_one_command

USER_ERRORS = [errors.ShapeError, errors.ConfigError, errors.CheckpointError, errors.TrainingDiverged]


def test_every_user_error_is_a_minatt_error_and_nothing_else_is():
    assert all(issubclass(e, errors.MinattError) for e in USER_ERRORS)
    assert issubclass(errors.ShapeError, ValueError) and issubclass(errors.ConfigError, ValueError)
    assert not issubclass(errors.MinattError, (ValueError, RuntimeError))  # a bug is not caught as a user error
    assert {e for e in vars(errors).values() if isinstance(e, type)} == {errors.MinattError, *USER_ERRORS}


def raising(error):
    def add(subparsers):
        subparsers.add_parser("go").set_defaults(func=lambda args: (_ for _ in ()).throw(error))
    return add


@pytest.mark.parametrize("error", USER_ERRORS)
def test_the_command_line_prints_a_user_error_as_one_line_and_exits_2(error, capsys):
    assert run_one_command(raising(error("the batch is empty;\n  pass --batch 1 or more")), "go", []) == 2
    assert capsys.readouterr().err == "minatt: error: the batch is empty; pass --batch 1 or more\n"


def test_anything_else_is_a_bug_and_escapes_with_its_traceback():
    with pytest.raises(ZeroDivisionError):
        run_one_command(raising(ZeroDivisionError("a bug")), "go", [])
