"""The ``figures`` command of ``python -m minatt``: regenerate the course's pictures."""

from __future__ import annotations

import argparse
import time
from typing import Any

from minatt.argtypes import Formatter, nonempty, seconds

__all__ = ["DEFAULT_OUT", "GROUPS", "add_parser", "run"]

#: the picture groups, in the order they are drawn
GROUPS = ("graphs", "trained")
#: where the pictures go unless --out says otherwise (ignored by git, so nothing committed changes)
DEFAULT_OUT = "runs/figures"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``figures`` on an argparse subparsers object; dispatch with ``args.func(args)``."""
    parser = subparsers.add_parser(
        "figures", help="draw the course's pictures (graphs, heatmaps, curves)",
        description=(
            "Draw every picture of the course: the computational graphs and the figures of small\n"
            "trained models (about a minute on two cores).\n\n"
            "examples:\n"
            "  python -m minatt figures                          into runs/figures\n"
            "  python -m minatt figures --out lessons/figures    regenerate the committed pictures\n"
            "  python -m minatt figures --only graphs            only the graphs, no training"
        ),
        formatter_class=Formatter,
    )
    parser.add_argument("--out", type=nonempty, default=DEFAULT_OUT, metavar="DIR",
                        help=f"where to write (default: {DEFAULT_OUT})")
    parser.add_argument("--only", choices=GROUPS, action="append", help="draw only this group (repeatable)")
    parser.add_argument("--small", action="store_true",
                        help="train tiny models for a few steps: the same code in seconds (for tests)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the ``figures`` command; 0 on success."""
    from minatt.figures import make_figures

    start = time.perf_counter()
    make_figures(args.out, only=args.only or GROUPS, small=args.small)
    print(f"took {seconds(time.perf_counter() - start)}")
    return 0
