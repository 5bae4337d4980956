"""The ``experiment`` command: ``python -m minatt experiment lengths | cost | alignment | pretrain | all``."""

from __future__ import annotations

import argparse
import functools
from dataclasses import replace
from pathlib import Path
from typing import Any

from minatt.argtypes import nonempty, nonneg_int, positive_float, positive_int, run_one_command, seconds
from minatt.errors import ConfigError
from minatt.experiments.alignment import SMALL_ALIGNMENT, AlignmentConfig, run_alignment
from minatt.experiments.common import FULL_OUT, SMALL_OUT, make_out, save_png
from minatt.experiments.lengths import SMALL_LENGTHS, VARIANTS, LengthsConfig, check_variants, run_lengths
from minatt.experiments.pretrain import SMALL_PRETRAIN, PretrainConfig, run_pretrain
from minatt.tools.checkpoint import read_json

__all__ = ["add_parser", "main", "run"]


NAMES = ("lengths", "cost", "alignment", "pretrain")
FLAGS = ("seeds", "steps", "lrs", "variants", "repeats", "reruns", "workers")  # the overrides, in the command line


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    """Each asked-for experiment's config: full or --small, with the command line's overrides where they apply."""
    small = {"lengths": SMALL_LENGTHS, "alignment": SMALL_ALIGNMENT, "pretrain": SMALL_PRETRAIN}
    full = {"lengths": LengthsConfig(), "alignment": AlignmentConfig(), "pretrain": PretrainConfig()}
    if args.name in ("cost", "all"):
        from minatt.experiments.cost import SMALL_COST, CostConfig  # needs matplotlib at import: only when asked

        small["cost"], full["cost"] = SMALL_COST, CostConfig()
    configs = {}
    for name, cfg in (small if args.small else full).items():
        changes = {"backend": args.backend, "threads": args.threads}
        for flag in FLAGS:
            value = getattr(args, flag)
            if value and hasattr(cfg, flag):
                changes[flag] = tuple(value) if isinstance(value, list) else value
        configs[name] = replace(cfg, **changes)
    return configs


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=(*NAMES, "all"), help="which experiment (all: every one)")
    parser.add_argument("--small", action="store_true",
                        help=f"a minute-long version (the tests run it); default --out {SMALL_OUT}")
    parser.add_argument("--out", type=nonempty, metavar="DIR",
                        help=f"where the JSON and PNG go (default: {FULL_OUT}; chapter 10's files: lessons/figures)")
    parser.add_argument("--seeds", type=nonneg_int, nargs="+", metavar="N",
                        help="lengths, alignment, pretrain: the seeds (default: each design's own)")
    parser.add_argument("--steps", type=positive_int, metavar="N",
                        help="lengths, alignment, pretrain: training (fine-tuning) steps")
    parser.add_argument("--lrs", type=positive_float, nargs="+", metavar="LR",
                        help="lengths: the learning rates swept (each variant's is chosen on validation sets)")
    parser.add_argument("--variants", nargs="+", type=nonempty, metavar="NAME",
                        help=f"lengths: {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--repeats", type=positive_int, metavar="N", help="cost: timed repeats (default: 9)")
    parser.add_argument("--reruns", type=positive_int, metavar="N",
                        help="cost: whole measurements, for intervals across reruns (default: 5)")
    parser.add_argument("--jobs", "--workers", dest="workers", type=positive_int, metavar="N",
                        help="lengths, alignment, pretrain: independent runs at once, one process each (default: "
                             "each design's own). Finished runs are kept in <out>/10_<name>.runs/: the same "
                             "command on the same --out resumes an interrupted experiment")
    parser.add_argument("--redraw", action="store_true",
                        help="draw the figures again from the JSON already in --out (no training)")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy", help="(default: numpy)")
    parser.add_argument("--threads", type=positive_int, default=1, metavar="N",
                        help="BLAS threads for NumPy (default: 1)")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``experiment`` on an argparse subparsers object; dispatch with ``args.func(args)``."""
    parser = subparsers.add_parser(
        "experiment", help="run the chapter-10 experiments and write their figures",
        description="Test the usual claims about attention: accuracy against source length (lengths), the "
                    "time and memory of the score functions (cost), robustness to alignment errors (alignment) "
                    "and pretraining by reconstruction (pretrain). Writes 10_<name>.json and .png.",
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces ``args``."""
    words = ["python -m minatt experiment", args.name] + (["--small"] if args.small else [])
    for flag in FLAGS:
        value = getattr(args, flag)
        if value:
            words += [f"--{'jobs' if flag == 'workers' else flag}", *map(str, value if isinstance(value, list) else [value])]
    if args.backend != "numpy":
        words += ["--backend", args.backend]
    if args.out:
        words += ["--out", str(args.out)]
    return " ".join(words)


def _runner(name: str) -> Any:
    """The function that runs experiment ``name``."""
    if name == "cost":
        from minatt.experiments.cost import run_cost

        return run_cost
    return {"lengths": run_lengths, "alignment": run_alignment, "pretrain": run_pretrain}[name]


def redraw(out: Path, names: list[str]) -> int:
    """Draw the figures of finished experiments again from their JSON in ``out`` (no training)."""
    from minatt.experiments.alignment_figures import alignment_figure, heatmap_figure
    from minatt.experiments.lengths import lengths_figure
    from minatt.experiments.pretrain import pretrain_figure

    draw = {"lengths": [lengths_figure], "alignment": [alignment_figure, heatmap_figure], "pretrain": [pretrain_figure]}
    stems = {heatmap_figure: "10_alignment_heatmaps"}
    for name in names:
        if name not in draw:
            print(f"minatt: {name}: nothing to redraw (its figure is made with its measurement)")
            continue
        result = read_json(out / f"10_{name}.json", f"the {name} experiment's result")
        if result.get("results") is None:
            raise ConfigError(f"{out / f'10_{name}.json'} holds a design without results: run the experiment first")
        for fn in draw[name]:
            path = out / f"{stems.get(fn, f'10_{name}')}.png"
            if save_png(functools.partial(fn, result), path):
                print(f"minatt: drew {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the ``experiment`` command; 0 on success."""
    out = Path(args.out) if args.out else (SMALL_OUT if args.small else FULL_OUT)
    names = [n for n in NAMES if args.name in (n, "all")]
    if args.redraw:
        return redraw(out, names)
    plan = _plan(args)
    check_variants(plan["lengths"].variants)
    make_out(out)  # before the experiments run, not after
    command = _command(args)
    for name in names:
        r = _runner(name)(plan[name], out, command)
        files = [str(p) for p in (out / f"10_{name}.png", out / f"10_{name}.json") if p.exists()]
        print(f"minatt: {name} experiment done in {seconds(r['seconds'])}: {', '.join(files)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m minatt.experiments ...``: the same as ``python -m minatt experiment ...``."""
    return run_one_command(add_parser, "experiment", argv)
