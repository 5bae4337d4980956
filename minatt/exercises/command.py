"""The ``exercise`` command: ``python -m minatt exercise NAME [--file PATH]`` and ``--list``."""

from __future__ import annotations

import argparse
from typing import Any

from minatt.argtypes import nonempty, run_one_command
from minatt.errors import ConfigError
from minatt.exercises.check import check_exercise
from minatt.exercises.registry import EXERCISES

__all__ = ["add_parser", "list_exercises", "main", "run"]


def list_exercises() -> str:
    """One line per exercise: name, chapter, what to write, and the error a correct answer reaches."""
    width = max(len(n) for n in EXERCISES)
    return "\n".join(
        f"{s.name.ljust(width)}  chapter {s.chapter}  {s.function}: {s.title}\n{' ' * width}  expected: {s.level}"
        for s in EXERCISES.values()
    )


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help=f"the exercise: {', '.join(EXERCISES)}")
    parser.add_argument("--file", type=nonempty, metavar="PATH", help="your solution (default: lessons/exercises/NAME.py)")
    parser.add_argument("--list", action="store_true", help="list the exercises and exit")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``exercise`` on an argparse subparsers object; dispatch with ``args.func(args)``."""
    parser = subparsers.add_parser(
        "exercise", help="check your own backward pass, forward or search loop (lessons/exercises)",
        description="Check the code you wrote in lessons/exercises/NAME.py: gradients against finite differences, "
                    "forwards and search loops against the library's.",
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the ``exercise`` command; 0 when every gradient passes, 1 otherwise (or after --list, 0)."""
    if args.list:
        print(list_exercises())
        return 0
    if not args.name:
        raise ConfigError(f"name an exercise: one of {', '.join(EXERCISES)} (or --list)")
    report = check_exercise(args.name, args.file)
    print(report.format())
    return report.exit_code


def main(argv: list[str] | None = None) -> int:
    """``python -m minatt.exercises ...``: the same as ``python -m minatt exercise ...``."""
    return run_one_command(add_parser, "exercise", argv)
