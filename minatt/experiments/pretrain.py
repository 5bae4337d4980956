"""The pretraining experiment: does reconstruction on unlabelled sequences help a small labelled task?

The source text says seq2seq models "can also be trained using unsupervised learning, where the
model is trained to reconstruct the input sequence from a corrupted version of it". The use of
such training is as pretraining: it needs only unlabelled sequences, which are plentiful, and it
should make a small labelled set go further.

For each seed: one model is pretrained on ``denoise`` (clean digit sequences, corrupted at rate
``p``: no labels needed beyond the sequences themselves) for ``pretrain_steps``. Then, for each
labelled-set size n, a copy of it is fine-tuned on n labelled pairs of ``task`` (reverse by
default) for ``steps`` steps, and a fresh model with the same seed is trained from scratch on the
same n pairs for the same steps. Both are greedy-decoded on the same held-out set.

The comparison, stated before running (``HYPOTHESIS``, also in the JSON): pretrained minus scratch
sequence accuracy, paired by seed, with a 95% t-interval, at every labelled-set size.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy
from matplotlib.figure import Figure

from minatt.backend import default_dtype, use
from minatt.experiments.common import figure, interval, log, map_jobs, train_model, write_result
from minatt.runtime import blas_threads
from minatt.tasks import Batch, collate, make_task

__all__ = ["HYPOTHESIS", "SMALL_PRETRAIN", "LabelledSet", "PretrainConfig", "pretrain_figure", "run_pretrain"]

HYPOTHESIS = ("If pretraining by reconstruction (denoise) helps, a pretrained model fine-tuned on n labelled pairs "
              "reaches a higher held-out sequence accuracy than the same model trained from scratch on the same n "
              "pairs for the same steps: the paired difference over seeds has a 95% t-interval above 0, at least "
              "for the smallest n, and the gap shrinks as n grows.")


class LabelledSet:
    """A fixed list of labelled pairs that hands out batches like a task (for :func:`train_model`).

    The pairs are the first ``n`` training examples of ``task`` drawn with ``seed``.
    """

    def __init__(self, task: Any, n: int, seed: int) -> None:
        rng = numpy.random.default_rng([seed, 2])
        self.pairs = [task.sample(rng, split="train") for _ in range(n)]
        self.src_vocab, self.tgt_vocab = task.src_vocab, task.tgt_vocab

    def batch(self, rng: numpy.random.Generator, n: int) -> Batch:
        """``n`` pairs drawn with replacement from the set."""
        return collate([self.pairs[i] for i in rng.integers(0, len(self.pairs), size=n)],
                       self.src_vocab, self.tgt_vocab)


@dataclass
class PretrainConfig:
    """Settings of the pretraining experiment."""

    task: str = "reverse"
    min_len: int = 4
    max_len: int = 10
    p: float = 0.2
    sizes: tuple[int, ...] = (50, 100, 200, 400)
    pretrain_steps: int = 1000
    steps: int = 500
    test_size: int = 300
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    score: str = "additive"
    batch: int = 32
    embed: int = 24
    hidden: int = 32
    lr: float = 0.008
    workers: int = 3
    backend: str = "numpy"
    threads: int = 1


SMALL_PRETRAIN = PretrainConfig(min_len=3, max_len=6, sizes=(30, 120), pretrain_steps=300, steps=150, test_size=100,
                                seeds=(0, 1), embed=16, hidden=24, lr=0.01)


def _one_seed(cfg: PretrainConfig, test: Batch, seed: int) -> list[dict[str, Any]]:
    """Pretrain once with ``seed``; then per size, fine-tune a copy and train from scratch."""
    from minatt.train.config import TrainConfig
    from minatt.train.evaluation import evaluate

    config = TrainConfig(task=cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, score=cfg.score,
                         embed=cfg.embed, hidden=cfg.hidden, steps=cfg.pretrain_steps, batch=cfg.batch, lr=cfg.lr,
                         seed=seed, backend=cfg.backend, target=None)
    task = make_task(cfg.task, cfg.min_len, cfg.max_len, seed=seed)
    rows = []
    with use(cfg.backend), default_dtype("float32"), blas_threads(cfg.threads):
        unlabelled = make_task("denoise", cfg.min_len, cfg.max_len, seed=seed, p=cfg.p)
        pretrained, _, pretrain_seconds = train_model(config, unlabelled)
        for n in cfg.sizes:
            labelled = LabelledSet(task, n, seed)
            short = replace(config, steps=cfg.steps)
            for start, model in (("pretrained", copy.deepcopy(pretrained)), ("scratch", None)):
                model, losses, seconds = train_model(short, labelled, model)
                r = evaluate(model, test)
                rows.append({"seed": seed, "n": n, "start": start, "seconds": round(seconds, 1),
                             "pretrain_seconds": round(pretrain_seconds, 1), "final_loss": float(losses[-1]),
                             "sequence_accuracy": r["sequence_accuracy"], "token_accuracy": r["token_accuracy"]})
    return rows


def run_pretrain(cfg: PretrainConfig, out: str | Path, command: str = "",
                 log: Callable[[str], None] = log) -> dict[str, Any]:
    """Run every seed; write 10_pretrain.json and .png."""
    start = time.perf_counter()
    test = make_task(cfg.task, cfg.min_len, cfg.max_len, seed=0).test_set(cfg.test_size, seed=40_000)
    rows = [r for rs in map_jobs(functools.partial(_one_seed, cfg, test), list(cfg.seeds), cfg.workers) for r in rs]
    for r in rows:
        log(f"pretrain: seed {r['seed']} n {r['n']:4d} {r['start']:10s}: sequence accuracy "
            f"{r['sequence_accuracy']:.3f}, token accuracy {r['token_accuracy']:.3f}")
    by = {(r["start"], r["n"], r["seed"]): r for r in rows}
    table: dict[str, Any] = {}
    for key in ("sequence_accuracy", "token_accuracy"):
        table[key] = {start: [interval([by[(start, n, s)][key] for s in cfg.seeds]) for n in cfg.sizes]
                      for start in ("pretrained", "scratch")}
        table[key]["pretrained-scratch"] = [
            interval([by[("pretrained", n, s)][key] - by[("scratch", n, s)][key] for s in cfg.seeds])
            for n in cfg.sizes]
    result = {"experiment": "pretrain", "command": command, "hypothesis": HYPOTHESIS, "config": asdict(cfg),
              "seconds": round(time.perf_counter() - start, 1), "sizes": list(cfg.sizes), **table, "runs": rows}
    write_result(result, pretrain_figure(result), out, "10_pretrain")
    return result


def pretrain_figure(result: dict[str, Any]) -> Figure:
    """Held-out accuracy against labelled-set size, pretrained vs scratch; bars = 95% t-intervals."""
    cfg, sizes = result["config"], result["sizes"]
    fig = figure(11, 4.2)
    for i, key in enumerate(("sequence_accuracy", "token_accuracy")):
        ax = fig.add_subplot(1, 2, i + 1)
        for start, color in (("pretrained", "tab:blue"), ("scratch", "tab:gray")):
            rows = result[key][start]
            ax.errorbar(sizes, [r["mean"] for r in rows],
                        yerr=[[r["mean"] - r["lo"] for r in rows], [r["hi"] - r["mean"] for r in rows]],
                        fmt="o-", color=color, capsize=3, label=start)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(f"labelled {cfg['task']} pairs")
        ax.set_ylabel(key.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{cfg['task']} {cfg['min_len']}..{cfg['max_len']}: pretrained {cfg['pretrain_steps']} steps on denoise "
                 f"(p = {cfg['p']}), then {cfg['steps']} steps on the labelled set, vs the same steps from scratch; "
                 f"mean of {len(cfg['seeds'])} seeds, bars = 95% t-interval", fontsize=9)
    fig.tight_layout()
    return fig
