"""What every command of the command line shares: argument types, the parser, the exit statuses.

Argument types are checked while parsing, before anything is built. :func:`run_command_line`
turns the errors a user can cause into one line ``minatt: error: ...`` and exit status 2.
Every command module (:mod:`minatt.cli`, :mod:`minatt.train.train_command`, :mod:`minatt.tools.bench.bench_command`,
:mod:`minatt.exercises.exercise_command`, :mod:`minatt.experiments.experiment_command`) takes them from here, so
that nothing but ``__main__`` imports :mod:`minatt.cli`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from minatt.errors import MinattError

__all__ = ["NO_TARGET", "NUMBER_TYPES", "Formatter", "MinattParser", "UsageError", "choice", "fraction",
           "fraction_below_one", "nonempty", "nonneg_float", "nonneg_int", "positive_float", "positive_int",
           "run_command_line", "run_one_command", "seconds", "steps_text", "target_value", "warn_if_more_than_cores",
           "workers_count"]


class UsageError(MinattError):
    """A command line argparse refused (unknown flag, bad value, missing argument)."""


class MinattParser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: {self.prog} --help)")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks; the help strings state their own defaults."""


def _number(text: str, convert: Callable[[str], Any], ok: Callable[[Any], bool], what: str) -> Any:
    """``convert(text)`` if ``ok`` holds for it, else the one-line message argparse prefixes with the flag."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
    return value


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")   # (NaN is the one float unequal to itself)


def positive_int(text: str) -> int:
    """An integer > 0."""
    return _number(text, int, lambda v: v > 0, "a positive integer")


def nonneg_int(text: str) -> int:
    """An integer >= 0."""
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def positive_float(text: str) -> float:
    """A finite number > 0."""
    return _number(text, float, lambda v: _finite(v) and v > 0, "a positive number")


def nonneg_float(text: str) -> float:
    """A finite number >= 0."""
    return _number(text, float, lambda v: _finite(v) and v >= 0, "a number >= 0")


def fraction(text: str) -> float:
    """A number in [0, 1] (``--decay-to``: 1 = no decay)."""
    return _number(text, float, lambda v: 0 <= v <= 1, "a number in [0, 1]")


def fraction_below_one(text: str) -> float:
    """A number in [0, 1) (``--momentum``)."""
    return _number(text, float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def nonempty(text: str) -> str:
    """Any text but the empty string (a file, a folder, a name): ``--out ''`` would silently mean the default."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


NO_TARGET = "none"


def target_value(text: str) -> float | str:
    """A target accuracy in (0, 1], or :data:`NO_TARGET` for ``none``/``off`` (train all --steps)."""
    if text.strip().lower() in ("none", "off"):
        return NO_TARGET
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1] or 'none', got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1] or 'none', got {text}")
    return value


#: Every numeric argument type, with the values it refuses: the command-line test
#: (tests/test_cli.py) gives each flag of these types each of its bad values. A flag with a bare
#: ``type=int`` or ``type=float`` (which takes -1 and fails later, with a traceback) fails that test.
NUMBER_TYPES: dict[Callable[[str], Any], tuple[str, ...]] = {
    positive_int: ("-1", "0", "x", "", "1.5"),
    nonneg_int: ("-1", "x", "", "1.5"),
    positive_float: ("-1", "0", "x", "", "inf", "nan"),
    nonneg_float: ("-1", "x", "", "inf", "nan"),
    fraction: ("-1", "1.5", "x", "", "nan"),
    fraction_below_one: ("-1", "1", "x", "", "nan"),
    target_value: ("-1", "0", "1.5", "x", "", "nan"),
}


def choice(valid: Sequence[str], what: str) -> Callable[[str], str]:
    """One of ``valid``, case-insensitive (argparse names the type ``what`` in its messages)."""

    def parse(text: str) -> str:
        key = text.strip().lower()
        if key not in valid:
            raise argparse.ArgumentTypeError(f"unknown {what} {text!r}: choose one of {', '.join(valid)}")
        return key

    parse.__name__ = what
    return parse


# ---------------------------------------------------------------------------------------
# Running a command line


_TRAINING_COMMANDS = ("train", "experiment")  # (bench calls it itself: its memory runs are fresh processes)


def run_command_line(build: Callable[[], MinattParser], argv: Sequence[str]) -> int:
    """Parse ``argv`` with the parser ``build()`` makes and run the chosen command's ``func``.

    Returns the exit status: 0 ok, 1 a check failed, 2 an error a user can cause (printed as one
    line, no traceback), 130 after a Ctrl-C, 141 (quietly) when the reader of a pipe went away.
    """
    try:
        parser = build()
        try:
            args, extras = parser.parse_known_args(list(argv))
        except SystemExit as exc:  # --help and --version exit through argparse
            return int(exc.code or 0)
        if extras:  # name the subcommand's --help, not the top-level one
            prog = f"minatt {args.command}" if args.command else "minatt"
            raise UsageError(f"unrecognized arguments: {' '.join(extras)} (see: {prog} --help)")
        if args.command is None:
            raise UsageError(f"choose a command: {', '.join(parser.command_names)} (see: minatt --help)")
        if args.command in _TRAINING_COMMANDS:
            from minatt.tools.runtime import tune_malloc

            tune_malloc()  # keep the step's freed memory for the next step (see minatt.tools.runtime)
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:  # `python -m minatt ... | head`: the reader has gone, so stop quietly
        return _reader_gone()
    except MinattError as exc:
        message = " ".join(str(exc).split())
        print(f"minatt: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # the disk, not minatt: full, read-only, permissions
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"minatt: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minatt: interrupted", file=sys.stderr)
        return 130


def seconds(s: float) -> str:
    """A duration as a person reads it: ``"1.6 s"`` under 10 s (one decimal), ``"42 s"`` from there."""
    return f"{s:.1f} s" if s < 9.95 else f"{s:.0f} s"


def steps_text(n: int) -> str:
    """``"1 step"``, ``"300 steps"``."""
    return f"{n} step" if n == 1 else f"{n} steps"


def _reader_gone() -> int:
    """After a write to a closed pipe: send what stdout still buffers to /dev/null (so the exit
    flush raises nothing) and return the status a Unix tool killed by SIGPIPE leaves, 128 + 13."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no file (replaced, as in tests)
        pass
    return 128 + getattr(signal, "SIGPIPE", 13)


def workers_count(text: str) -> int | str:
    """``--workers``: a positive integer, or ``auto`` (the command picks from the cores and the batch
    with :func:`minatt.train.parallel.auto_workers`)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}") from None
    return positive_int(text)


def warn_if_more_than_cores(flag: str, n: int) -> None:
    """Print one warning line when ``n`` processes (``--workers N``) exceed the cores this process may use."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cores and n > cores:
        print(f"minatt: warning: {flag} {n} is more than the {cores} CPU cores here: the processes will take turns "
              f"on them, so each step will be slower than with {flag} {cores}", file=sys.stderr)


def run_one_command(add_parser: Callable[[Any], Any], name: str, argv: Sequence[str] | None = None) -> int:
    """``python -m minatt.tools.bench ARGS`` and the like: run one command as ``python -m minatt NAME ARGS`` does."""

    def build() -> MinattParser:
        parser = MinattParser(prog="minatt")
        subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=MinattParser)
        add_parser(subparsers)
        parser.command_names = list(subparsers.choices)
        return parser

    return run_command_line(build, [name, *(sys.argv[1:] if argv is None else argv)])
