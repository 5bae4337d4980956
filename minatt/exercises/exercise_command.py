"""The ``exercise`` command: ``python -m minatt exercise NAME [--file PATH] [--hint [LEVEL]]`` and ``--list``.

``--hint`` asks for the next tier of feedback: once, a pointer at the cause; twice (or ``--hint 2``),
the formula too.
"""

from __future__ import annotations

import argparse
from typing import Any

from minatt.argtypes import nonempty, run_one_command
from minatt.errors import ConfigError
from minatt.exercises.check import check_exercise
from minatt.exercises.registry import EXERCISES
from minatt.exercises.spec import HINT_LEVELS

__all__ = ["add_parser", "list_exercises", "main", "run"]


def list_exercises() -> str:
    """One line per exercise: name, chapter, what to write, and the error a correct answer reaches."""
    width = max(len(n) for n in EXERCISES)
    lines = []
    for s in EXERCISES.values():  # in chapter order
        passing = s.passing()
        lines.append(f"{s.name.ljust(width)}  chapter {s.chapter:>2}  {s.function}: {s.title}")
        lines.append(f"{' ' * width}  expected: {s.level}" + (f" (passes {passing})" if passing else ""))
    return "\n".join(lines)


class _HintAction(argparse.Action):
    """``--hint`` adds one level; ``--hint N`` sets it (a non-number after it is the exercise's name)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        level = getattr(namespace, self.dest) or 0
        if values is None:
            level += 1
        elif values.isdigit():
            level = int(values)
        else:
            if getattr(namespace, "hint_name", None) is not None:
                parser.error(f"--hint takes a level from 0 to {HINT_LEVELS}, not {values!r}")
            level += 1
            namespace.hint_name = values  # argparse may still set the positional name to None after this
        setattr(namespace, self.dest, min(level, HINT_LEVELS))


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help=f"the exercise: {', '.join(EXERCISES)}")
    parser.add_argument("--file", type=nonempty, metavar="PATH", help="your solution (default: lessons/exercises/NAME.py)")
    parser.add_argument("--list", action="store_true", help="list the exercises (in chapter order) and exit")
    parser.add_argument("--hint", nargs="?", action=_HintAction, type=nonempty, default=None, metavar="LEVEL",
                        help="more feedback on a failure: once, a pointer at the cause; twice (or --hint 2), "
                             "the formula")


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
    args.name = args.name or getattr(args, "hint_name", None)
    if not args.name:
        raise ConfigError(f"name an exercise: one of {', '.join(EXERCISES)} (or --list)")
    report = check_exercise(args.name, args.file, hint_level=args.hint or 0)
    print(report.format())
    return report.exit_code


def main(argv: list[str] | None = None) -> int:
    """``python -m minatt.exercises ...``: the same as ``python -m minatt exercise ...``."""
    return run_one_command(add_parser, "exercise", argv)
