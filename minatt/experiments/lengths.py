"""The lengths experiment: accuracy against source length, without attention and with each score.

lengths: every variant (a score, optionally a bidirectional encoder) trains with the same
budget -- steps, batch, sizes, learning-rate schedule, data stream per seed -- on a task whose
sources are ``min_len..max_len`` tokens, then is greedy-decoded on one held-out set per source
length up to ``test_max_len`` (beyond training). Every model sees the same test sets.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy
from matplotlib.figure import Figure

from minatt.backend import default_dtype, use
from minatt.errors import ConfigError
from minatt.experiments.common import COLORS, figure, interval, log, map_jobs, train_model, write_result
from minatt.runtime import blas_threads

__all__ = ["SMALL_LENGTHS", "VARIANTS", "LengthsConfig", "check_variants", "lengths_figure", "paired_gap",
           "run_lengths", "variant_config"]

# variant name -> (score, encoder, decoder). encoder: "rnn", "bi" (bidirectional RNN) or "transformer"
# (2 layers, 4 heads); decoder: "/luong" is Luong's, the rest Bahdanau's
VARIANTS = {"none": ("none", "rnn", "bahdanau"), "additive": ("additive", "rnn", "bahdanau"),
            "general": ("general", "rnn", "bahdanau"), "dot": ("dot", "rnn", "bahdanau"),
            "scaled_dot": ("scaled_dot", "rnn", "bahdanau"), "additive+bi": ("additive", "bi", "bahdanau"),
            **{f"{s}/luong": (s, "rnn", "luong") for s in ("additive", "general", "dot", "scaled_dot")},
            "additive+transformer": ("additive", "transformer", "bahdanau")}


@dataclass
class LengthsConfig:
    """Settings of the lengths experiment (every variant gets the same)."""

    task: str = "copy"
    min_len: int = 1
    max_len: int = 20
    test_min_len: int = 2
    test_max_len: int = 30
    per_length: int = 100
    variants: tuple[str, ...] = tuple(VARIANTS)  # the committed run: every variant
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    steps: int = 1500
    batch: int = 64
    embed: int = 32
    hidden: int = 64
    lr: float = 0.005
    workers: int = 1
    backend: str = "numpy"
    threads: int = 1


# small enough for a minute, big enough that the fixed-context model already falls off with length
SMALL_LENGTHS = LengthsConfig(min_len=1, max_len=8, test_min_len=2, test_max_len=10, per_length=40,
                              variants=("none", "additive"), seeds=(0, 1), steps=400, batch=32, embed=16, hidden=32,
                              lr=0.01)


def variant_config(cfg: LengthsConfig, variant: str, seed: int) -> Any:
    """The :class:`minatt.train.TrainConfig` of one variant: the shared budget plus its score, encoder, decoder."""
    from minatt.train import TrainConfig

    score, encoder, decoder = VARIANTS[variant]
    return TrainConfig(task=cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, score=score, decoder=decoder,
                       bidirectional=encoder == "bi", encoder="rnn" if encoder == "bi" else encoder,
                       layers=2, heads=4, embed=cfg.embed, hidden=cfg.hidden, steps=cfg.steps, batch=cfg.batch,
                       lr=cfg.lr, seed=seed, backend=cfg.backend, target=None)


def _train_one(cfg: LengthsConfig, test_sets: list, job: tuple[str, int]) -> dict[str, Any]:
    """Train one variant with one seed; evaluate on every per-length test set."""
    from minatt.tasks import make_task
    from minatt.train import evaluate

    variant, seed = job
    train_cfg = variant_config(cfg, variant, seed)
    with use(cfg.backend), default_dtype("float32"), blas_threads(cfg.threads):
        task = make_task(cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, seed=seed)
        model, losses, seconds = train_model(train_cfg, task)
        rows = [evaluate(model, batch) for _, batch in test_sets]
    tail = losses[-max(1, cfg.steps // 20):]
    return {"variant": variant, "seed": seed, "train_seconds": round(seconds, 2), "params": model.num_params(),
            "final_loss": float(numpy.mean(tail)),
            "sequence_accuracy": [r["sequence_accuracy"] for r in rows],
            "token_accuracy": [r["token_accuracy"] for r in rows]}


def _spread(runs: list[dict], key: str) -> dict[str, list[float]]:
    """Mean, min, max over seeds at each length, and the 95% t-interval of the mean (lo, hi)."""
    a = numpy.array([r[key] for r in runs])  # (seeds, lengths)
    ci = [interval(a[:, i]) for i in range(a.shape[1])]
    return {"mean": a.mean(axis=0).tolist(), "min": a.min(axis=0).tolist(),
            "max": a.max(axis=0).tolist(), "lo": [c["lo"] for c in ci], "hi": [c["hi"] for c in ci]}


def paired_gap(result: dict[str, Any], variant: str, baseline: str, lengths: range | list[int],
               key: str = "sequence_accuracy") -> dict[str, float]:
    """``variant`` minus ``baseline``, paired by seed, averaged over ``lengths``; a 95% interval over seeds.

    For each seed both models saw the same batches and the same held-out sets, so the difference
    of their mean accuracies over ``lengths`` is one number per seed; :func:`interval` of those.
    """
    at = [result["lengths"].index(n) for n in lengths]
    runs = {v: {r["seed"]: r[key] for r in result["variants"][v]["runs"]} for v in (variant, baseline)}
    seeds = sorted(set(runs[variant]) & set(runs[baseline]))
    gaps = [numpy.mean([runs[variant][s][i] - runs[baseline][s][i] for i in at]) for s in seeds]
    return interval(gaps)


def check_variants(variants: tuple[str, ...]) -> None:
    """Raise :class:`ConfigError` naming the unknown variants, if any."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ConfigError(f"unknown variant(s) {', '.join(unknown)}: choose from {', '.join(VARIANTS)}")


def run_lengths(cfg: LengthsConfig, out: str | Path, command: str = "",
                log: Callable[[str], None] = log) -> dict[str, Any]:
    """Train every variant with every seed, evaluate per length; write 10_lengths.json and .png."""
    from minatt.tasks import make_task

    check_variants(cfg.variants)
    task = make_task(cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, seed=0)
    lengths = list(range(cfg.test_min_len, cfg.test_max_len + 1))
    # one fixed held-out set per length, shared by every variant and seed (paired comparison)
    test_sets = [(n, task.test_set(cfg.per_length, min_len=n, max_len=n, seed=10_000 + n)) for n in lengths]
    start = time.perf_counter()
    jobs = [(variant, seed) for variant in cfg.variants for seed in cfg.seeds]

    def progress(r: dict[str, Any]) -> None:  # one line as each run finishes
        trained = [a for n, a in zip(lengths, r["sequence_accuracy"]) if n <= cfg.max_len]
        log(f"lengths: {r['variant']:12s} seed {r['seed']}: {cfg.steps} steps in {r['train_seconds']:.1f} s, "
            f"loss {r['final_loss']:.3f}, sequence accuracy on trained lengths {numpy.mean(trained):.3f} "
            f"({time.perf_counter() - start:.0f} s so far)")

    done = map_jobs(functools.partial(_train_one, cfg, test_sets), jobs, cfg.workers, done=progress)
    variants: dict[str, Any] = {}
    for variant in cfg.variants:
        runs = [r for r in done if r["variant"] == variant]
        score, encoder, decoder = VARIANTS[variant]
        variants[variant] = {"score": score, "encoder": encoder, "decoder": decoder,
                             "params": runs[0]["params"], "runs": runs,
                             "sequence_accuracy": _spread(runs, "sequence_accuracy"),
                             "token_accuracy": _spread(runs, "token_accuracy")}
    result = {"experiment": "lengths", "command": command, "config": asdict(cfg), "lengths": lengths,
              "seconds": round(time.perf_counter() - start, 1), "variants": variants}
    write_result(result, lengths_figure(result), out, "10_lengths")
    return result


def lengths_figure(result: dict[str, Any]) -> Figure:
    """Accuracy against source length: one column per decoder, line = mean over seeds, band = 95% interval.

    The no-attention baseline is drawn in both columns, as the reference; Luong variants are dashed.
    """
    cfg, lengths = result["config"], result["lengths"]
    luong = [n for n, v in result["variants"].items() if v.get("decoder") == "luong"]
    columns = [("Bahdanau decoder", [n for n in result["variants"] if n not in luong])]
    if luong:
        columns.append(("Luong decoder", [n for n in ("none", *luong) if n in result["variants"]]))
    fig = figure(5.8 * len(columns), 8.0)
    titles = {"sequence_accuracy": "whole sequence right", "token_accuracy": "tokens right"}
    for row, key in enumerate(("sequence_accuracy", "token_accuracy")):
        for col, (decoder, names) in enumerate(columns):
            ax = fig.add_subplot(2, len(columns), row * len(columns) + col + 1)
            ax.axvspan(cfg["max_len"] + 0.5, lengths[-1] + 0.5, color="0.92", zorder=0)
            if row == 0:
                ax.text(lengths[-1], 0.5, "longer than\nany in training", fontsize=8, color="0.35",
                        ha="right", va="bottom")
            for name in names:
                v, s = result["variants"][name], result["variants"][name][key]
                color = COLORS.get(name, COLORS.get(v["score"]))
                style = "o--" if v.get("decoder") == "luong" else "o-"
                label = f"{name} ({v['params'] / 1000:.0f}k params)" if row == 0 else None
                ax.plot(lengths, s["mean"], style, color=color, markersize=3, linewidth=1.4, label=label)
                ax.fill_between(lengths, s["lo"], s["hi"], color=color, alpha=0.15, linewidth=0)
            ax.set_xlim(lengths[0] - 0.5, lengths[-1] + 0.5)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel("source length (tokens)")
            ax.set_ylabel(key.replace("_", " "))
            ax.set_title(f"{decoder}: {titles[key]}", fontsize=10)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.legend(fontsize=7, loc="lower left")
    seeds = f"{len(cfg['seeds'])} seeds" if len(cfg["seeds"]) > 1 else "one seed"
    fig.suptitle(f"{cfg['task']}, trained on lengths {cfg['min_len']}..{cfg['max_len']}: {cfg['steps']} steps of "
                 f"{cfg['batch']}, hidden {cfg['hidden']}; line = mean of {seeds}, band = 95% interval of the mean; "
                 f"{cfg['per_length']} held-out sequences per length", fontsize=9)
    fig.tight_layout()
    return fig
