"""The alignment experiment: does additive attention handle alignment errors better than multiplicative?

The source text says additive (Bahdanau) attention "has the advantage of being able to handle
alignment errors" and multiplicative attention "is sensitive to alignment errors". An alignment
error here is a source whose tokens have moved: a dropped token pulls everything after it one
place left, an inserted one pushes it one place right, so the position an output token must copy
from is no longer the position it would have had.

Two tasks make such sources, each with a known true alignment (where every output token came from):

    denoise         the clean target, corrupted at rate r: each clean token is dropped (r/3),
                    replaced by another digit (r/3), and a random digit is inserted before it (r/3)
    reverse+noise   reverse the digits, with a noise token (a, b or c) inserted before each digit
                    with probability r; the model must skip the noise

Every score (additive, general, dot, scaled_dot) under both decoders (bahdanau, luong) trains with
the same budget and data stream per seed at one corruption rate (``train_rate``), and is then
greedy-decoded on held-out sets at each rate of ``test_rates``: the same clean sequences at every
rate, corrupted afresh, and the same sets for every model (paired comparisons). Measured per
model and rate: sequence and token accuracy, and the alignment accuracy, the share of output
tokens (whose source token was not dropped) for which the largest attention weight lands on the
source position the token came from (for a replaced token, the position of its replacement).

The comparison, stated before running (``HYPOTHESIS``, also written into the JSON): if the claim
holds, additive's alignment accuracy and sequence accuracy fall less from rate 0 to the highest
rate than those of each multiplicative score under the same decoder. Measured as the paired
difference over seeds of (additive's drop) - (other's drop), with a 95% t-interval; the claim
holds for a pair when that interval lies below 0, fails when it lies above 0.
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

from minatt.backend import default_dtype, host_rng, use
from minatt.experiments.common import COLORS, figure, interval, log, map_jobs, train_model, write_result
from minatt.plot import save_figure
from minatt.runtime import blas_threads
from minatt.tasks import DenoiseTask, SequenceTask, Vocab, collate
from minatt.tasks.base import DIGITS

__all__ = ["HYPOTHESIS", "SMALL_ALIGNMENT", "AlignmentConfig", "NoisyReverseTask", "alignment_accuracy",
           "alignment_figure", "heatmap_figure", "run_alignment"]

HYPOTHESIS = ("If additive attention handles alignment errors better than multiplicative attention, then from "
              "corruption rate 0 to the highest test rate its alignment accuracy and sequence accuracy drop less "
              "than those of general, dot and scaled_dot under the same decoder (bahdanau and luong alike): the "
              "paired difference (additive's drop - other's drop) over seeds has a 95% t-interval below 0.")

SCORES = ("additive", "general", "dot", "scaled_dot")
DECODERS = ("bahdanau", "luong")


class NoisyReverseTask(SequenceTask):
    """reverse+noise: reverse the digits of a source with noise tokens inserted among them.

    Before each digit a noise token (uniform over ``noise``) is inserted with probability
    ``insert``. The target is the digits reversed, without the noise. The split's key is the
    clean digit sequence, decided before the noise is drawn.
    """

    def __init__(self, min_len: int = 1, max_len: int = 10, seed: int | None = 0, insert: float = 0.2,
                 noise: tuple[str, ...] = ("a", "b", "c")) -> None:
        super().__init__("reverse", min_len, max_len, seed, DIGITS)
        self.name, self.insert, self.noise = "reverse+noise", float(insert), list(noise)
        self.src_vocab = Vocab(self.symbols + self.noise)

    def key_of(self, src, tgt):
        return list(tgt)[::-1]

    def _complete(self, rng: numpy.random.Generator, key: list[str]) -> tuple[list[str], list[str]]:
        return self.corrupt(rng, key)[0], key[::-1]

    def corrupt(self, rng: numpy.random.Generator, clean: list[str]) -> tuple[list[str], list[int]]:
        """(noisy source, where): ``where[j]`` is the source position of clean digit j."""
        inserted = rng.random(len(clean)) < self.insert
        extra = rng.integers(0, len(self.noise), size=len(clean))
        noisy: list[str] = []
        where = []
        for i, tok in enumerate(clean):
            if inserted[i]:
                noisy.append(self.noise[int(extra[i])])
            where.append(len(noisy))
            noisy.append(tok)
        return noisy, where


@dataclass
class AlignmentConfig:
    """Settings of the alignment experiment (every variant gets the same)."""

    tasks: tuple[str, ...] = ("denoise", "reverse+noise")
    min_len: int = 5
    max_len: int = 10
    train_rate: float = 0.2
    test_rates: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4)
    per_rate: int = 150
    scores: tuple[str, ...] = SCORES
    decoders: tuple[str, ...] = DECODERS
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    steps: int = 700
    batch: int = 32
    embed: int = 24
    hidden: int = 32
    lr: float = 0.008
    workers: int = 2
    backend: str = "numpy"
    threads: int = 1


SMALL_ALIGNMENT = AlignmentConfig(min_len=4, max_len=7, test_rates=(0.0, 0.3), per_rate=60, scores=("additive", "dot"),
                                  decoders=("bahdanau",), seeds=(0, 1), steps=250, batch=32, embed=16, hidden=24,
                                  lr=0.01)


def make_alignment_task(name: str, rate: float, cfg: AlignmentConfig, seed: int = 0) -> Any:
    """The task ``name`` corrupted at ``rate`` (see the module docstring for what a rate means)."""
    if name == "denoise":
        return DenoiseTask(cfg.min_len, cfg.max_len, seed, p=2 * rate / 3, insert=rate / 3)
    if name == "reverse+noise":
        return NoisyReverseTask(cfg.min_len, cfg.max_len, seed, insert=rate)
    raise ValueError(f"unknown alignment task {name!r}: choose denoise or reverse+noise")


def test_sets(name: str, cfg: AlignmentConfig) -> list[dict[str, Any]]:
    """One held-out set per test rate: the same clean sequences at every rate, each corrupted afresh.

    Each is {"rate", "batch", "where" (per example: the source position of each output token, -1
    if its source token was dropped)}.
    """
    out = []
    for rate in cfg.test_rates:
        task = make_alignment_task(name, rate, cfg)
        keys, noise = host_rng(20_000), host_rng(30_000)  # the same streams at every rate
        pairs, wheres = [], []
        for _ in range(cfg.per_rate):
            src, tgt = task.sample(keys, split="test")
            clean = task.key_of(src, tgt)
            noisy, where = task.corrupt(noise, clean)
            if name == "reverse+noise":
                where = where[::-1]  # output j copies clean digit L-1-j
            pairs.append((noisy, tgt))
            wheres.append(where)
        out.append({"rate": rate, "batch": collate(pairs, task.src_vocab, task.tgt_vocab), "where": wheres})
    return out


def alignment_accuracy(attention: Any, wheres: list[list[int]], tolerance: int = 0) -> float:
    """Share of output tokens with a source position whose largest attention weight lands on it.

    attention: (N, L, S) decoder weights, row j used to emit output token j; wheres: per example,
    the true source position of each output token (-1: none, not counted). ``tolerance``: count
    a landing up to that many positions away as a hit (1 accepts a model that reads each token
    one step early or late and carries it in its state). A step the decoder never took (it ended
    early: no row, or an all-zero row after its EOS) is a miss.
    """
    hits = total = 0
    for n, where in enumerate(wheres):
        for j, s in enumerate(where):
            if s < 0:
                continue
            total += 1
            if j < attention.shape[1] and attention[n, j].max() > 0:
                hits += int(abs(int(numpy.argmax(attention[n, j])) - s) <= tolerance)
    return hits / max(total, 1)


def _one(cfg: AlignmentConfig, sets: dict[str, list], job: tuple[str, str, str, int]) -> dict[str, Any]:
    """Train one (task, score, decoder, seed); evaluate at every test rate."""
    from minatt.train.config import TrainConfig
    from minatt.train.evaluation import evaluate

    name, score, decoder, seed = job
    config = TrainConfig(task="copy", min_len=cfg.min_len, max_len=cfg.max_len, score=score, decoder=decoder,
                         embed=cfg.embed, hidden=cfg.hidden, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr,
                         seed=seed, backend=cfg.backend, target=None)
    with use(cfg.backend), default_dtype("float32"), blas_threads(cfg.threads):
        model, losses, seconds = train_model(config, make_alignment_task(name, cfg.train_rate, cfg, seed))
        rows, example = [], None
        for s in sets[name]:
            batch = s["batch"]
            r = evaluate(model, batch)
            decoded = model.greedy(batch.src, batch.src_mask, max_len=batch.tgt_out.shape[1] + 2)
            attention = numpy.asarray(decoded.attention)
            rows.append({"rate": s["rate"], "sequence_accuracy": r["sequence_accuracy"],
                         "token_accuracy": r["token_accuracy"],
                         "alignment_accuracy": alignment_accuracy(attention, s["where"]),
                         "alignment_within_1": alignment_accuracy(attention, s["where"], tolerance=1)})
            if s["rate"] == max(cfg.test_rates):  # the first example at the highest rate, for the heatmaps
                S, T = int(batch.src_mask[0].sum()), int(batch.tgt_mask[0].sum())
                example = {"weights": attention[0, :T, :S].round(3).tolist(), "where": s["where"][0]}
    tail = losses[-max(1, cfg.steps // 20):]
    return {"task": name, "variant": f"{score}/{decoder}", "seed": seed, "params": model.num_params(),
            "train_seconds": round(seconds, 1), "final_loss": float(numpy.mean(tail)), "rates": rows,
            "example": example}


def _drops(runs: list[dict], key: str) -> numpy.ndarray:
    """Per seed: the metric at rate 0 (first test rate) minus the metric at the highest rate."""
    return numpy.array([r["rates"][0][key] - r["rates"][-1][key] for r in runs])


def run_alignment(cfg: AlignmentConfig, out: str | Path, command: str = "",
                  log: Callable[[str], None] = log) -> dict[str, Any]:
    """Train every (task, score, decoder, seed); write 10_alignment.json, .png and _heatmaps.png."""
    start = time.perf_counter()
    sets = {name: test_sets(name, cfg) for name in cfg.tasks}
    jobs = [(t, s, d, seed) for t in cfg.tasks for d in cfg.decoders for s in cfg.scores for seed in cfg.seeds]
    def done(r: dict[str, Any]) -> None:
        log(f"alignment: {r['task']:13s} {r['variant']:20s} seed {r['seed']}: {r['train_seconds']:.0f} s, "
            f"loss {r['final_loss']:.3f}, sequence accuracy by rate "
            f"{[round(x['sequence_accuracy'], 2) for x in r['rates']]}")

    runs = map_jobs(functools.partial(_one, cfg, sets), jobs, cfg.workers, done)
    metrics = ("sequence_accuracy", "token_accuracy", "alignment_accuracy", "alignment_within_1")
    tasks: dict[str, Any] = {}
    for name in cfg.tasks:
        variants = {}
        for d in cfg.decoders:
            for s in cfg.scores:
                mine = [r for r in runs if r["task"] == name and r["variant"] == f"{s}/{d}"]
                variants[f"{s}/{d}"] = {
                    "score": s, "decoder": d, "params": mine[0]["params"],
                    **{k: [interval([r["rates"][i][k] for r in mine]) for i in range(len(cfg.test_rates))]
                       for k in metrics},
                    "runs": mine}
        # the stated comparison: additive's drop minus each other score's drop, paired by seed
        compare = {}
        for d in cfg.decoders:
            base = variants.get(f"additive/{d}")
            for s in cfg.scores:
                if base is None or s == "additive":
                    continue
                other = variants[f"{s}/{d}"]
                compare[f"additive-{s}/{d}"] = {
                    k: interval(_drops(base["runs"], k) - _drops(other["runs"], k))
                    for k in ("alignment_accuracy", "sequence_accuracy")}
        tasks[name] = {"variants": variants, "additive_drop_minus_other_drop": compare}
    result = {"experiment": "alignment", "command": command, "hypothesis": HYPOTHESIS, "config": asdict(cfg),
              "seconds": round(time.perf_counter() - start, 1), "tasks": tasks}
    write_result(result, alignment_figure(result), out, "10_alignment")
    save_figure(heatmap_figure(result), Path(out) / "10_alignment_heatmaps.png", dpi=110)
    return result


def alignment_figure(result: dict[str, Any]) -> Figure:
    """Sequence and alignment accuracy against test corruption rate; error bars = 95% t-intervals."""
    cfg = result["config"]
    rates = cfg["test_rates"]
    names = list(result["tasks"])
    fig = figure(5.2 * len(names), 7.2)
    styles = {"bahdanau": "-", "luong": "--"}
    for col, name in enumerate(names):
        for row, key in enumerate(("sequence_accuracy", "alignment_accuracy")):
            ax = fig.add_subplot(2, len(names), row * len(names) + col + 1)
            for k, (v, r) in enumerate(result["tasks"][name]["variants"].items()):
                mean = [x["mean"] for x in r[key]]
                err = [[x["mean"] - x["lo"] for x in r[key]], [x["hi"] - x["mean"] for x in r[key]]]
                offset = (k - len(result["tasks"][name]["variants"]) / 2) * 0.002
                ax.errorbar([x + offset for x in rates], mean, yerr=err, fmt="o" + styles[r["decoder"]],
                            color=COLORS.get(r["score"]), markersize=3, capsize=2, linewidth=1.2,
                            label=f"{v} ({r['params'] / 1000:.1f}k)")
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel("corruption rate of the held-out sources")
            ax.set_ylabel(key.replace("_", " "))
            ax.set_title(f"{name}: {key.replace('_', ' ')}", fontsize=10)
            ax.grid(alpha=0.3)
            if row == 0 and col == 0:
                ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(f"trained at rate {cfg['train_rate']}, lengths {cfg['min_len']}..{cfg['max_len']}, "
                 f"{cfg['steps']} steps, hidden {cfg['hidden']}; mean of {len(cfg['seeds'])} seeds, bars = 95% "
                 f"t-interval; {cfg['per_rate']} held-out sequences per rate", fontsize=9)
    fig.tight_layout()
    return fig


def heatmap_figure(result: dict[str, Any]) -> Figure:
    """One corrupted held-out input per task, the attention of every variant (first seed) side by side.

    One row per (task, decoder), one column per score. Red squares mark the true source position
    of each output token.
    """
    cfg = result["config"]
    rows = [(name, d) for name in result["tasks"] for d in cfg["decoders"]]
    fig = figure(2.7 * len(cfg["scores"]), 2.6 * len(rows))
    for row, (name, d) in enumerate(rows):
        for col, score in enumerate(cfg["scores"]):
            ex = result["tasks"][name]["variants"][f"{score}/{d}"]["runs"][0]["example"]
            ax = fig.add_subplot(len(rows), len(cfg["scores"]), row * len(cfg["scores"]) + col + 1)
            ax.imshow(numpy.array(ex["weights"]), cmap="Greys", vmin=0, vmax=1, aspect="auto")
            true = [(j, s) for j, s in enumerate(ex["where"]) if s >= 0]
            ax.scatter([s for _, s in true], [j for j, _ in true], s=30, facecolors="none", edgecolors="red",
                       marker="s", linewidths=0.8)
            ax.set_title(f"{name}: {score}/{d}", fontsize=8)
            ax.set_xlabel("source position", fontsize=7)
            ax.set_ylabel("output step", fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"attention on one held-out source at rate {max(cfg['test_rates'])} (first seed); "
                 "red squares: where each output token really came from", fontsize=9)
    fig.tight_layout()
    return fig
