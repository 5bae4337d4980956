"""The ``figures`` command of ``python -m minatt``: regenerate the course's pictures (make_figures)."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from minatt.argtypes import Formatter, nonempty, seconds
from minatt.tools.figures.draw import graph_figure
from minatt.tools.figures.graphs import GRAPHS
from minatt.tools.plot import save_figure

__all__ = ["DEFAULT_OUT", "GROUPS", "add_parser", "make_figures", "run"]

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
    start = time.perf_counter()
    make_figures(args.out, only=args.only or GROUPS, small=args.small)
    print(f"took {seconds(time.perf_counter() - start)}")
    return 0


def make_figures(out: str | os.PathLike, only: Sequence[str] = GROUPS, small: bool = False,
                 log: Callable[[str], None] = print) -> list[Path]:
    """Draw the pictures of the groups in ``only`` into the directory ``out``; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = {}
    if "graphs" in only:
        for stem, build in GRAPHS.items():
            nodes, edges, title, note = build()
            figures[stem] = graph_figure(nodes, edges, title, note=note)
    if "trained" in only:
        # imported here, not at the top: it imports the trainer, which the other groups never need
        from minatt.tools.figures.trained import trained_figures

        figures.update(trained_figures(small=small, log=log))
    paths = []
    for stem, fig in figures.items():
        path = out / f"{stem}.png"
        save_figure(fig, path, dpi=80)
        paths.append(path)
    log(f"wrote {len(paths)} pictures into {out}")
    return paths
