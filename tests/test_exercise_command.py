"""minatt.exercises.exercise_command: ``python -m minatt exercise NAME [--file] [--hint [LEVEL]]`` and ``--list``."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from minatt.errors import ConfigError
from minatt.exercises import (
    EXERCISES,
    add_parser,
    main,
    run,
)
from minatt.exercises.spec import VALUE_TOL
from tests.exercise_checks import ROOT, STUBS
from tests.exercise_solutions import SOLUTIONS, write


def test_the_cli_via_add_parser(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="minatt")
    add_parser(parser.add_subparsers(dest="command"))
    good = write(tmp_path, "affine", SOLUTIONS["affine"])
    args = parser.parse_args(["exercise", "affine", "--file", str(good)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"dW\s+PASS\s+max rel error", out)
    assert run(parser.parse_args(["exercise", "affine", "--file", str(STUBS / "affine.py")])) == 1
    assert "not implemented yet: fill in affine_backward" in capsys.readouterr().out
    assert run(parser.parse_args(["exercise", "--list"])) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in EXERCISES) and "chapter  4" in listing
    with pytest.raises(ConfigError, match="name an exercise"):
        run(parser.parse_args(["exercise"]))


def test_main_exit_codes(tmp_path, capsys):
    assert main(["general_score", "--file", str(write(tmp_path, "general_score", SOLUTIONS["general_score"]))]) == 0
    assert main(["nope"]) == 2
    assert "minatt: error: no exercise named 'nope'" in capsys.readouterr().err


def test_python_dash_m_minatt_exercise(tmp_path):
    good = write(tmp_path, "softmax", SOLUTIONS["softmax"])
    done = subprocess.run([sys.executable, "-m", "minatt", "exercise", "softmax", "--file", str(good)],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout
    done = subprocess.run([sys.executable, "-m", "minatt", "exercise", "softmax"],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and "not implemented yet" in done.stdout


@pytest.mark.parametrize("argv, level", [(["--hint"], 1), (["--hint", "--hint"], 2), (["--hint", "2"], 2),
                                         ([], 0), (["--hint", "5"], 2)])
def test_hint_on_the_command_line(argv, level, tmp_path, capsys):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("dW = cache.x2.T @ dout2", "dW = 2 * dout2[:2]"))
    assert main(["affine", "--file", str(path), *argv]) == 1
    out = " ".join(capsys.readouterr().out.split())
    pointer, formula = EXERCISES["affine"].hints["dW"]
    assert (pointer in out) == (level >= 1) and (formula in out) == (level >= 2)


def test_hint_before_the_name(tmp_path, capsys):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("dW = cache.x2.T @ dout2", "dW = 2 * dout2[:2]"))
    assert main(["--hint", "affine", "--file", str(path)]) == 1
    assert EXERCISES["affine"].hints["dW"][0] in " ".join(capsys.readouterr().out.split())


def test_the_list_states_each_level_and_what_passes(capsys):
    assert main(["--list"]) == 0
    listing = " ".join(capsys.readouterr().out.split())
    for spec in EXERCISES.values():
        assert f"expected: {spec.level}" in listing
    assert f"p equal to the library's to about 1e-15 (relative error) (passes p below {VALUE_TOL:.0e})" in listing
