"""The ``experiment`` command: ``python -m minatt experiment lengths | cost | all``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from minatt.argtypes import positive_int, run_one_command
from minatt.experiments.common import FIGURES, SMALL_OUT, make_out
from minatt.experiments.cost import SMALL_COST, CostConfig, run_cost
from minatt.experiments.lengths import SMALL_LENGTHS, VARIANTS, LengthsConfig, check_variants, run_lengths

__all__ = ["add_parser", "main", "run"]


@dataclass
class _Plan:
    lengths: LengthsConfig = field(default_factory=LengthsConfig)
    cost: CostConfig = field(default_factory=CostConfig)


def _plan(args: argparse.Namespace) -> _Plan:
    lengths = SMALL_LENGTHS if args.small else LengthsConfig()
    cost = SMALL_COST if args.small else CostConfig()
    common = {"backend": args.backend, "threads": args.threads}
    lengths = replace(lengths, **common)
    cost = replace(cost, **common)
    if args.seeds:
        lengths = replace(lengths, seeds=tuple(args.seeds))
    if args.steps:
        lengths = replace(lengths, steps=args.steps)
    if args.variants:
        lengths = replace(lengths, variants=tuple(args.variants))
    if args.repeats:
        cost = replace(cost, repeats=args.repeats)
    return _Plan(lengths, cost)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=("lengths", "cost", "all"), help="which experiment (all: both)")
    parser.add_argument("--small", action="store_true",
                        help=f"a seconds-long version (the tests run it); default --out {SMALL_OUT}")
    parser.add_argument("--out", metavar="DIR", help=f"where the JSON and PNG go (default: {FIGURES})")
    parser.add_argument("--seeds", type=int, nargs="+", metavar="N", help="lengths: the seeds (default: 0 1 2)")
    parser.add_argument("--steps", type=positive_int, metavar="N", help="lengths: training steps (default: 1500)")
    parser.add_argument("--variants", nargs="+", metavar="NAME",
                        help=f"lengths: {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--repeats", type=positive_int, metavar="N", help="cost: timed repeats (default: 9)")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy", help="(default: numpy)")
    parser.add_argument("--threads", type=positive_int, default=1, metavar="N",
                        help="BLAS threads for NumPy (default: 1)")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``experiment`` on an argparse subparsers object; dispatch with ``args.func(args)``."""
    parser = subparsers.add_parser(
        "experiment", help="run the chapter-10 experiments and write their figures",
        description="Test the usual claims about attention: accuracy against source length (lengths) and the "
                    "time and memory of the score functions (cost). Writes 10_<name>.json and .png.",
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces ``args``."""
    words = ["python -m minatt experiment", args.name] + (["--small"] if args.small else [])
    for flag in ("seeds", "steps", "variants", "repeats"):
        value = getattr(args, flag)
        if value:
            words += [f"--{flag}", *map(str, value if isinstance(value, list) else [value])]
    if args.backend != "numpy":
        words += ["--backend", args.backend]
    if args.out:
        words += ["--out", str(args.out)]
    return " ".join(words)


def run(args: argparse.Namespace) -> int:
    """Run the ``experiment`` command; 0 on success."""
    out = Path(args.out) if args.out else (SMALL_OUT if args.small else FIGURES)
    plan = _plan(args)
    check_variants(plan.lengths.variants)
    make_out(out)  # before the experiments run, not after
    command = _command(args)
    if args.name in ("lengths", "all"):
        r = run_lengths(plan.lengths, out, command)
        print(f"minatt: lengths experiment done in {r['seconds']:.0f} s: {out / '10_lengths.png'}, "
              f"{out / '10_lengths.json'}")
    if args.name in ("cost", "all"):
        r = run_cost(plan.cost, out, command)
        print(f"minatt: cost experiment done in {r['seconds']:.0f} s: {out / '10_cost.png'}, {out / '10_cost.json'}")
    return 0



def main(argv: list[str] | None = None) -> int:
    """``python -m minatt.experiments ...``: the same as ``python -m minatt experiment ...``."""
    return run_one_command(add_parser, "experiment", argv)
