"""Every numeric flag of every command refuses every kind of bad value at parse time: one line that
names the flag, exit status 2, no traceback.

The commands and their flags are read from the parser itself (:func:`minatt.cli.build_parser`), so a
new command or flag is covered the day it is added. The bad values of each argument type are listed
beside the types, in :data:`minatt.argtypes.NUMBER_TYPES`. The types themselves, and running a
command line (:func:`minatt.argtypes.run_command_line`), are tested directly at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from minatt import argtypes, cli
from minatt.argtypes import NUMBER_TYPES, nonempty

ROOT = Path(__file__).resolve().parents[1]


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(command words, its parser) for every (sub)command under ``parser``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


def _numeric_flags():
    """(command words, flag, type) for every flag whose value is a number."""
    out = []
    for words, sub in _commands(cli.build_parser()):
        for action in sub._actions:
            if action.type in NUMBER_TYPES:
                assert action.option_strings, f"{words}: a numeric positional argument is not covered here"
                out.append((words, "/".join(action.option_strings), action.type))  # argparse's name for it
    return out


FLAGS = _numeric_flags()
CASES = [(words, flag, bad) for words, flag, kind in FLAGS for bad in NUMBER_TYPES[kind]]


def test_every_command_is_walked():
    names = {words[0] for words, _ in _commands(cli.build_parser())}
    assert {"train", "predict", "gradcheck", "bench", "experiment", "exercise"} <= names
    assert ("experiment", "--seeds") in {(w[0], f) for w, f, _ in FLAGS}   # the issue's traceback
    assert ("train", "--seed") in {(w[0], f) for w, f, _ in FLAGS}


def test_no_flag_takes_a_bare_int_or_float():
    """``type=int`` takes -1 and fails later, in the library, with a traceback or a message that names no flag."""
    for words, sub in _commands(cli.build_parser()):
        for action in sub._actions:
            bare = action.type in (int, float)
            number_default = isinstance(action.default, (int, float)) and not isinstance(action.default, bool)
            untyped_number = number_default and action.type is None and action.nargs != 0 and action.const is None
            assert not (bare or untyped_number), f"{' '.join(words)} {'/'.join(action.option_strings)}: " \
                "give it a type from minatt.argtypes.NUMBER_TYPES"


@pytest.mark.parametrize("words, flag, bad", CASES, ids=[f"{' '.join(w)} {f} {b!r}" for w, f, b in CASES])
def test_bad_number_is_one_line_naming_the_flag(words, flag, bad, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # nothing may be written, not even a default output folder
    rc = cli.main([*words, flag.split("/")[-1], bad])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 2, captured
    assert len(lines) == 1 and lines[0].startswith(f"minatt: error: argument {flag}: "), captured.err
    assert "Traceback" not in captured.err
    assert not any(tmp_path.iterdir())


def test_the_issue_command_in_a_fresh_process(tmp_path):
    """The one the issue reported, as a user types it: 46 lines of traceback before."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "minatt", "experiment", "lengths", "--small", "--seeds", "-1"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "minatt: error: argument --seeds: must be an integer >= 0, got -1 (see: minatt experiment --help)"]


def _text_flags():
    """(command words, flag) for every flag that takes free text (a file, a folder, a name)."""
    out = []
    for words, sub in _commands(cli.build_parser()):
        for action in sub._actions:
            takes_text = action.option_strings and action.nargs != 0 and action.type not in NUMBER_TYPES
            if takes_text and action.choices is None and not isinstance(action, argparse._HelpAction):
                out.append((words, "/".join(action.option_strings), action.type))  # argparse's name for it
    return out


TEXT_FLAGS = _text_flags()


def test_every_text_flag_refuses_the_empty_string():
    """``train --resume ''`` trained a new run, ``lessons-html --chapter ''`` built every chapter: an empty
    value must be refused, not read as "not given"."""
    assert {("train", "--resume"), ("predict", "--plot"), ("lessons-html", "--chapter")} <= {
        (w[0], f) for w, f, _ in TEXT_FLAGS}
    untyped = [f"{' '.join(w)} {f}" for w, f, kind in TEXT_FLAGS if kind is None]
    assert not untyped, f"give these a type (minatt.argtypes.nonempty, or a choice): {untyped}"


@pytest.mark.parametrize("words, flag", [(w, f) for w, f, kind in TEXT_FLAGS if kind is nonempty],
                         ids=[f"{' '.join(w)} {f}" for w, f, kind in TEXT_FLAGS if kind is nonempty])
def test_an_empty_text_value_is_one_line_naming_the_flag(words, flag, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main([*words, flag, ""]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"minatt: error: argument {flag}: must not be empty (see: minatt {words[0]} --help)"]
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------ the types and the runner, directly


@pytest.mark.parametrize("parse, good, value", [
    (argtypes.positive_int, "3", 3), (argtypes.nonneg_int, "0", 0), (argtypes.positive_float, "0.5", 0.5),
    (argtypes.nonneg_float, "0", 0.0), (argtypes.fraction, "1", 1.0), (argtypes.fraction_below_one, "0", 0.0),
    (argtypes.target_value, "1", 1.0), (argtypes.target_value, "Off", argtypes.NO_TARGET),
    (argtypes.workers_count, "auto", "auto"), (argtypes.workers_count, "2", 2),
])
def test_each_type_takes_its_good_values(parse, good, value):
    assert parse(good) == value


@pytest.mark.parametrize("parse, bads", [*NUMBER_TYPES.items(), (argtypes.workers_count, ("0", "x", "1.5"))])
def test_each_type_refuses_its_bad_values_in_one_line(parse, bads):
    for bad in bads:
        with pytest.raises(argparse.ArgumentTypeError) as info:
            parse(bad)
        message = str(info.value)
        assert len(message.splitlines()) == 1 and message.endswith((f"got {bad!r}", f"got {bad}")), message


def test_choice_is_case_insensitive_and_lists_the_choices():
    cell = argtypes.choice(["lstm", "gru"], "cell")
    assert cell(" GRU ") == "gru" and cell.__name__ == "cell"
    with pytest.raises(argparse.ArgumentTypeError, match="unknown cell 'rnn': choose one of lstm, gru"):
        cell("rnn")


def test_durations_and_step_counts_read_as_a_person_writes_them():
    assert [argtypes.seconds(s) for s in (1.64, 9.94, 9.96, 42.4)] == ["1.6 s", "9.9 s", "10 s", "42 s"]
    assert [argtypes.steps_text(n) for n in (1, 2, 300)] == ["1 step", "2 steps", "300 steps"]


def _one_command(action):
    def add(subparsers):
        sub = subparsers.add_parser("go")
        sub.add_argument("--n", type=argtypes.positive_int, default=1)
        sub.set_defaults(func=lambda args: action(args))
    return add


@pytest.mark.parametrize("argv, action, code, err", [
    (["--n", "2"], lambda args: args.n - 2, 0, ""),
    (["--n", "2"], lambda args: 1, 1, ""),
    (["--m"], lambda args: 0, 2, "minatt: error: unrecognized arguments: --m (see: minatt go --help)"),
    ([], lambda args: (_ for _ in ()).throw(argtypes.MinattError("bad\n  thing")), 2, "minatt: error: bad thing"),
    ([], lambda args: (_ for _ in ()).throw(KeyboardInterrupt), 130, "minatt: interrupted"),
    ([], lambda args: (_ for _ in ()).throw(PermissionError(13, "Permission denied", "/x")), 2,
     "minatt: error: Permission denied (/x)"),
])
def test_run_one_command_turns_each_outcome_into_an_exit_status(argv, action, code, err, capsys):
    assert argtypes.run_one_command(_one_command(action), "go", argv) == code
    assert capsys.readouterr().err.strip() == err


def test_a_bad_flag_value_exits_2_naming_the_flag(capsys):
    assert argtypes.run_one_command(_one_command(lambda args: 0), "go", ["--n", "0"]) == 2
    assert "argument --n: must be a positive integer, got 0" in capsys.readouterr().err
