"""``python -m minatt.tools.bench.curve``: does the default run forget? Its held-out curve on several seeds.

Trains the default ``python -m minatt train`` run (any ``TrainConfig`` field can be changed with
``--set name=value``) on each seed, and besides the run's own evaluations (every ``eval_every``
steps, which decide when it stops) measures the held-out sequence accuracy every ``--every``
steps on the same evaluation set. Those extra evaluations draw no batch, so the run is the same
one ``train`` makes. It prints one line per seed (the steps and accuracies, the step the run
stopped at, the largest drop) and exits 1 when a run drops by more than ``--max-drop`` after first
passing 0.9: the largest fall below the best accuracy seen so far.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from typing import Any

from minatt.argtypes import nonneg_float, nonneg_int, positive_int
from minatt.backend import default_dtype, use
from minatt.tools.runtime import blas_threads
from minatt.train.config import TrainConfig
from minatt.train.evaluation import evaluate
from minatt.train.loop import Trainer

__all__ = ["curve", "largest_drop", "main"]

PASSED = 0.9  # a drop counts once the accuracy has first reached this


def largest_drop(accuracies: list[float]) -> float:
    """The largest fall below the best accuracy so far, counted from the first accuracy >= PASSED (0 before it)."""
    best, drop = None, 0.0
    for a in accuracies:
        if best is None and a < PASSED:
            continue
        best = a if best is None else max(best, a)
        drop = max(drop, best - a)
    return drop


def curve(config: TrainConfig, every: int) -> dict[str, Any]:
    """Train ``config`` as ``train`` does; return its curve ``steps``/``accuracy`` (every ``every`` steps),
    ``stopped`` (the step it stopped at) and ``status``."""
    steps, accuracy = [], []

    def measure(trainer: Trainer) -> None:
        if trainer.step % every == 0:
            steps.append(trainer.step)
            accuracy.append(evaluate(trainer.model, trainer.eval_set)["sequence_accuracy"])

    with use(config.backend), default_dtype(config.dtype), blas_threads(1), tempfile.TemporaryDirectory() as d:
        trainer = Trainer.create(config, f"{d}/run")
        result = trainer.run(progress="none", on_step=measure)
    return {"seed": config.seed, "steps": steps, "accuracy": accuracy, "stopped": result.step,
            "status": result.status}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minatt.tools.bench.curve", description=__doc__.split("\n\n")[1])
    parser.add_argument("--seeds", type=nonneg_int, nargs="+", default=[0, 1, 2, 3, 4], metavar="N")
    parser.add_argument("--every", type=positive_int, default=25, metavar="N", help="steps between measurements")
    parser.add_argument("--max-drop", type=nonneg_float, default=0.1, metavar="F")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a TrainConfig field (a JSON value), e.g. --set lr=0.005")
    parser.add_argument("--json", action="store_true", help="one JSON line per seed")
    args = parser.parse_args(argv)
    changes = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    worst = 0.0
    for seed in args.seeds:
        r = curve(TrainConfig(**{**changes, "seed": seed}).validate(), args.every)
        r["largest_drop"] = largest_drop(r["accuracy"])
        worst = max(worst, r["largest_drop"])
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            points = " ".join(f"{s}:{a:.3f}" for s, a in zip(r["steps"], r["accuracy"]))
            print(f"seed {seed}: {r['status']} at step {r['stopped']}, largest drop {r['largest_drop']:.3f}; {points}",
                  flush=True)
    print(f"largest drop after passing {PASSED}: {worst:.3f} (allowed {args.max_drop})")
    return 0 if worst <= args.max_drop else 1


if __name__ == "__main__":
    sys.exit(main())
