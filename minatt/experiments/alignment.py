"""The alignment experiment: does additive attention handle alignment errors better than multiplicative?

The source text says additive (Bahdanau) attention "has the advantage of being able to handle
alignment errors" and multiplicative attention "is sensitive to alignment errors". An alignment
error here is a source whose tokens have moved: a dropped token pulls everything after it one
place left, an inserted one pushes it one place right, so the position an output token must read
is no longer where it would have been.

Design (:func:`design`, written into the JSON before the first run). Every score (additive,
general, dot, scaled_dot) under both decoders (bahdanau, luong) trains on CLEAN sources of copy and
reverse, with the same budget and data stream per seed. Each is then greedy-decoded on the same
held-out clean sequences corrupted at each rate r of ``test_rates``: each token is dropped (r/3),
replaced by another digit (r/3), and a digit is inserted before it (r/3). The noise comes from the
task's own vocabulary, so no model can tell it from the sequence: the best a model can do is the
task done exactly on the source it is given. That model's score against the clean target is the
condition's ceiling (:func:`ceilings`), and each model's accuracy is reported relative to it.

The comparison: the drop in relative token accuracy from rate 0 to the highest rate, other score's
drop minus additive's, paired by seed and test sequence (> 0: additive holds up better).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy

from minatt.backend import default_dtype, host_rng, use
from minatt.experiments.alignment_figures import alignment_figure, heatmap_figure
from minatt.experiments.common import (
    bits,
    blas_limit,
    log,
    save_png,
    score_examples,
    score_tokens,
    train_model,
    unbits,
    write_design,
    write_result,
)
from minatt.experiments.runs import RunStore, run_jobs
from minatt.experiments.stats import curve, mde_block, spread, verdict_text
from minatt.tasks import DenoiseTask, collate, make_task

__all__ = ["HYPOTHESIS", "RULE", "SMALL_ALIGNMENT", "AlignmentConfig", "alignment_accuracy", "alignment_counts",
           "ceilings", "design", "run_alignment", "test_sets"]

HYPOTHESIS = ("If additive attention handles alignment errors better than multiplicative attention, then as the "
              "test sources get corrupted, its accuracy relative to the ceiling falls less than that of general, "
              "dot and scaled_dot under the same decoder.")
RULE = ("For each task, decoder and multiplicative score m: D = (m's drop) - (additive's drop) in relative token "
        "accuracy from rate 0 to the highest rate, paired by seed and test sequence, with a 95% interval. The claim "
        "holds if every D interval lies above 0; it fails if every D interval lies below 0; otherwise: criterion not "
        "met. If no interval excludes 0: no difference larger than X detected, X the largest |bound|.")
SCORES = ("additive", "general", "dot", "scaled_dot")
DECODERS = ("bahdanau", "luong")


@dataclass
class AlignmentConfig:
    """Settings of the alignment experiment (every variant gets the same)."""

    tasks: tuple[str, ...] = ("copy", "reverse")
    min_len: int = 5
    max_len: int = 10
    test_rates: tuple[float, ...] = (0.0, 0.1, 0.2, 0.4)
    per_rate: int = 200
    scores: tuple[str, ...] = SCORES
    decoders: tuple[str, ...] = DECODERS
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7)
    steps: int = 700
    batch: int = 32
    embed: int = 16
    hidden: int = 32
    lr: float = 0.01
    planning_sd: float = 0.03  # per-seed sd of D, for the MDE (judged from the one-seed pilot)
    workers: int = 2
    backend: str = "numpy"
    threads: int = 1


SMALL_ALIGNMENT = AlignmentConfig(tasks=("reverse",), min_len=4, max_len=7, test_rates=(0.0, 0.4), per_rate=60,
                                  scores=("additive", "dot"), decoders=("bahdanau",), seeds=(0, 1), steps=250,
                                  embed=16, hidden=24, workers=2)
RUN_SETTINGS_NOT = ("tasks", "scores", "decoders", "seeds", "workers", "threads", "planning_sd")


def _corrupter(rate: float, cfg: AlignmentConfig) -> DenoiseTask:
    """Corruption at ``rate``: drop r/3, replace r/3, insert r/3 (the digits of the task itself)."""
    return DenoiseTask(cfg.min_len, cfg.max_len, 0, p=2 * rate / 3, insert=rate / 3)


def test_sets(name: str, cfg: AlignmentConfig) -> list[dict[str, Any]]:
    """One held-out set per test rate: the same clean sequences at every rate, each corrupted afresh.

    ``name``: copy or reverse.

    Each is {"rate", "batch" (corrupted source, clean target), "where" (per example: the source
    position the task done exactly on the corrupted source reads for each output token), "ceiling"
    (per example, :func:`ceilings` of that output against the clean target), "oracle" (the same
    sources with that output as their target)}.
    """
    task = make_task(name, cfg.min_len, cfg.max_len, seed=0)
    out = []
    for rate in cfg.test_rates:
        keys, noise = host_rng(20_000), host_rng(30_000)  # the same streams at every rate
        pairs, wheres, oracles = [], [], []
        for _ in range(cfg.per_rate):
            clean, tgt = task.sample(keys, split="test")
            noisy, where = _corrupter(rate, cfg).corrupt(noise, list(clean))
            pairs.append((noisy, tgt))
            del where  # the positions of the clean tokens; a model trained on clean sources cannot know them
            reads = list(range(len(noisy)))
            wheres.append(reads[::-1] if name == "reverse" else reads)  # where the task done exactly reads
            oracles.append(noisy[::-1] if name == "reverse" else list(noisy))
        out.append({"rate": rate, "batch": collate(pairs, task.src_vocab, task.tgt_vocab), "where": wheres,
                    "ceiling": ceilings([t for _, t in pairs], oracles),
                    "oracle": collate([(s, o) for (s, _), o in zip(pairs, oracles)], task.src_vocab, task.tgt_vocab)})
    return out


def ceilings(targets: list[list[str]], oracles: list[list[str]]) -> dict[str, numpy.ndarray]:
    """Per example: the oracle's exact match (bool), right target positions, target positions.

    Scored like :func:`minatt.train.evaluate`: position by position against the clean target, the
    end of sequence included (the oracle's comes right after its output).
    """
    exact, hits, positions = [], [], []
    for target, oracle in zip(targets, oracles):
        truth, guess = [*target, None], [*oracle, None]  # None: the end of sequence
        hits.append(sum(t < len(guess) and guess[t] == x for t, x in enumerate(truth)))
        exact.append(guess == truth)
        positions.append(len(truth))
    return {"exact": numpy.array(exact), "hits": numpy.array(hits), "positions": numpy.array(positions)}


def alignment_counts(attention: Any, where: list[int], n: int, tolerance: int = 0) -> tuple[int, int]:
    """(hits, counted) for example ``n``: output tokens with a source position, and those attended there.

    attention: (N, L, S) decoder weights, row j used to emit output token j; where: the true source
    position of each output token (-1: none, not counted). A step the decoder never took (no row,
    or an all-zero row after its EOS) is a miss. ``tolerance``: count a landing that many positions
    away as a hit.
    """
    hits = total = 0
    for j, s in enumerate(where):
        if s < 0:
            continue
        total += 1
        if j < attention.shape[1] and attention[n, j].max() > 0:
            hits += int(abs(int(numpy.argmax(attention[n, j])) - s) <= tolerance)
    return hits, total


def alignment_accuracy(attention: Any, wheres: list[list[int]], tolerance: int = 0) -> float:
    """Share of output tokens with a source position whose largest attention weight lands on it (all examples)."""
    counts = numpy.array([alignment_counts(attention, w, n, tolerance) for n, w in enumerate(wheres)]).reshape(-1, 2)
    return float(counts[:, 0].sum() / max(counts[:, 1].sum(), 1))


def _one(cfg: AlignmentConfig, sets: dict[str, list], job: tuple[str, str, str, int]) -> dict[str, Any]:
    """Train one (task, score, decoder, seed) on clean sources; score every test example at every rate."""
    from minatt.train.config import TrainConfig

    name, score, decoder, seed = job
    config = TrainConfig(task=name, min_len=cfg.min_len, max_len=cfg.max_len, score=score, decoder=decoder,
                         embed=cfg.embed, hidden=cfg.hidden, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr,
                         seed=seed, backend=cfg.backend, target=None)
    with use(cfg.backend), default_dtype("float32"), blas_limit(cfg.threads):
        model, losses, seconds = train_model(config, make_task(name, cfg.min_len, cfg.max_len, seed=seed))
        rows, example = [], None
        for s in sets[name]:
            longest = max(s["batch"].tgt_out.shape[1], s["oracle"].tgt_out.shape[1])
            r = score_examples(model, s["batch"], extra=2 + longest - s["batch"].tgt_out.shape[1])
            agree = score_tokens(r["tokens"], s["oracle"])["hits"]
            align = [alignment_counts(r["attention"], w, n) for n, w in enumerate(s["where"])]
            rows.append({"rate": s["rate"], "exact": bits(r["exact"]), "hits": r["hits"].tolist(),
                         "agree_hits": agree.tolist(), "align_hits": [a for a, _ in align]})
            if s["rate"] == max(cfg.test_rates):  # the first example at the highest rate, for the heatmaps
                S, T = int(s["batch"].src_mask[0].sum()), int(s["oracle"].tgt_mask[0].sum())
                example = {"weights": r["attention"][0, :T, :S].round(3).tolist(), "where": s["where"][0]}
    tail = losses[-max(1, cfg.steps // 20):]
    return {"task": name, "variant": f"{score}/{decoder}", "seed": seed, "params": model.num_params(),
            "train_seconds": round(seconds, 1), "final_loss": round(float(numpy.mean(tail)), 5), "rates": rows,
            "example": example}


def design(cfg: AlignmentConfig) -> dict[str, Any]:
    """The design block, fixed before the first run."""
    return {"claim": "additive attention can handle alignment errors; multiplicative attention is sensitive to "
                     "them (source claim 1)",
            "owner": "source", "hypothesis": HYPOTHESIS,
            "comparison": f"D = (other score's drop) - (additive's drop) in token accuracy relative to the ceiling, "
                          f"from rate {cfg.test_rates[0]} to {cfg.test_rates[-1]}, per task and decoder, paired by "
                          f"seed and test sequence; trained on clean sources, tested on corrupted ones",
            "rule": RULE,
            "mde": mde_block(cfg.planning_sd, len(cfg.seeds), "the per-seed D (test-set noise included)"),
            "ceiling": "the score, against the clean target, of the model that does the task exactly on the "
                       "corrupted source it is given: noise drawn from the task's own digits cannot be told apart "
                       "from the sequence",
            "seeds": list(cfg.seeds), "steps": cfg.steps, "lrs": [cfg.lr]}


def _data(runs: list[dict], key: str) -> numpy.ndarray:
    """(seeds, rates, examples) of one per-example count ("exact" is stored as a string of 0s and 1s)."""
    read = unbits if key == "exact" else numpy.asarray
    return numpy.array([[read(row[key]) for row in r["rates"]] for r in runs], dtype=float)


def _summary(run: dict[str, Any], positions: numpy.ndarray, align_total: numpy.ndarray) -> dict[str, Any]:
    """A stored run without its per-example lists: per rate, its three accuracies."""
    rates = [{"rate": row["rate"], "sequence_accuracy": round(float(unbits(row["exact"]).mean()), 4),
              "token_accuracy": round(float(numpy.sum(row["hits"]) / positions[i].sum()), 4),
              "alignment_accuracy": round(float(numpy.sum(row["align_hits"]) / max(align_total[i].sum(), 1)), 4)}
             for i, row in enumerate(run["rates"])]
    return {**run, "rates": rates}


def _drop_minus(m: dict[str, numpy.ndarray]) -> numpy.ndarray:
    """(other's drop) - (additive's drop) in token accuracy relative to the ceiling, first to last rate (per draw).

    m: "other", "additive", "oracle" -> (D, K, rates) mean right positions per example.
    """
    relative = {k: m[k].sum(axis=1) / numpy.maximum(m["oracle"].sum(axis=1), 1e-12) for k in ("other", "additive")}
    drop = {k: r[:, 0] - r[:, -1] for k, r in relative.items()}
    return drop["other"] - drop["additive"]


def summarize(cfg: AlignmentConfig, sets: dict[str, list], runs: list[dict]) -> dict[str, Any]:
    """Per task: the ceilings, each variant's accuracies (raw and relative) and the comparisons D.

    Beside the rule's D (on accuracy / ceiling), exploration: "agreement", the share of the
    ceiling's own output (the task done exactly on the corrupted source) a model reproduces,
    position by position, and the same D on it ("agreement_comparisons"). Unlike the ratio, it
    does not flatter a model that was already wrong where the corruption makes everyone wrong.
    """
    tasks: dict[str, Any] = {}
    for name in cfg.tasks:
        oracle = [s["ceiling"] for s in sets[name]]
        positions = numpy.array([o["positions"] for o in oracle], dtype=float)[None]   # (1, rates, N)
        o_hits = numpy.array([o["hits"] for o in oracle], dtype=float)[None]
        o_exact = numpy.array([o["exact"] for o in oracle], dtype=float)[None]
        align_total = numpy.array([[alignment_counts(numpy.ones((1, 1, 1)), w, 0)[1] for w in s["where"]]
                                   for s in sets[name]], dtype=float)[None]
        o_positions = numpy.array([s["oracle"].tgt_mask.sum(axis=1) for s in sets[name]], dtype=float)[None]
        variants, data, agree = {}, {}, {}
        for d in cfg.decoders:
            for s in cfg.scores:
                mine = [r for r in runs if r["task"] == name and r["variant"] == f"{s}/{d}"]
                K = len(mine)
                hits, exact = _data(mine, "hits"), _data(mine, "exact")
                data[f"{s}/{d}"], agree[f"{s}/{d}"] = hits, _data(mine, "agree_hits")
                variants[f"{s}/{d}"] = {
                    "score": s, "decoder": d, "params": mine[0]["params"],
                    "token_accuracy": curve(hits, positions), "sequence_accuracy": curve(exact),
                    "relative_token": curve(hits, numpy.repeat(o_hits, K, 0)),
                    "relative_sequence": curve(exact, numpy.repeat(o_exact, K, 0)),
                    "alignment_accuracy": curve(_data(mine, "align_hits"), align_total),
                    "agreement": curve(agree[f"{s}/{d}"], o_positions),
                    "runs": [_summary(r, positions[0], align_total[0]) for r in mine]}
        comparisons, agreement = {}, {}
        for d in cfg.decoders:
            for s in cfg.scores:
                if s == "additive" or f"additive/{d}" not in data:
                    continue
                K = data[f"{s}/{d}"].shape[0]
                pair = {"other": data[f"{s}/{d}"], "additive": data[f"additive/{d}"],
                        "oracle": numpy.repeat(o_hits, K, 0)}
                comparisons[f"additive-{s}/{d}"] = spread(pair, _drop_minus)
                pair = {"other": agree[f"{s}/{d}"], "additive": agree[f"additive/{d}"],
                        "oracle": numpy.repeat(o_positions, K, 0)}
                agreement[f"additive-{s}/{d}"] = spread(pair, _drop_minus)
        tasks[name] = {"ceiling": [{"rate": r, "sequence": round(float(o_exact[0, i].mean()), 4),
                                    "token": round(float(o_hits[0, i].sum() / positions[0, i].sum()), 4)}
                                   for i, r in enumerate(cfg.test_rates)],
                       "variants": variants, "comparisons": comparisons, "agreement_comparisons": agreement}
    return tasks


def claim1_verdict(tasks: dict[str, Any]) -> dict[str, Any] | None:
    """:data:`RULE` applied literally to every D; None when no comparison was made."""
    checks = {f"{name}:{k}": {"interval": i, "condition": "lo > 0", "passes": i["lo"] > 0}
              for name, t in tasks.items() for k, i in t["comparisons"].items()}
    if not checks:
        return None
    return verdict_text(checks, holds=all(c["passes"] for c in checks.values()),
                        fails=all(c["interval"]["hi"] < 0 for c in checks.values()))


def run_alignment(cfg: AlignmentConfig, out: str | Path, command: str = "",
                  log: Callable[[str], None] = log) -> dict[str, Any]:
    """Train every (task, score, decoder, seed); write 10_alignment.json, .png and _heatmaps.png."""
    head = {"experiment": "alignment", "command": command, "config": asdict(cfg), "design": design(cfg)}
    write_design(out, "10_alignment", head)
    start = time.perf_counter()
    sets = {name: test_sets(name, cfg) for name in cfg.tasks}
    jobs = [(t, s, d, seed) for t in cfg.tasks for d in cfg.decoders for s in cfg.scores for seed in cfg.seeds]

    def done(r: dict[str, Any]) -> None:
        log(f"alignment: {r['task']:8s} {r['variant']:20s} seed {r['seed']}: {r['train_seconds']:.0f} s, "
            f"loss {r['final_loss']:.3f}, sequence accuracy by rate "
            f"{[round(float(unbits(x['exact']).mean()), 2) for x in r['rates']]}")

    store = RunStore(out, "alignment", {k: v for k, v in asdict(cfg).items() if k not in RUN_SETTINGS_NOT})
    runs = run_jobs(functools.partial(_one, cfg, sets), jobs, store, cfg.workers, done, log)
    tasks = summarize(cfg, sets, runs)
    result = {**head, "seconds": round(time.perf_counter() - start, 1), "results": {"tasks": tasks},
              "verdict": claim1_verdict(tasks)}
    write_result(result, functools.partial(alignment_figure, result), out, "10_alignment")
    save_png(functools.partial(heatmap_figure, result), Path(out) / "10_alignment_heatmaps.png")
    return result
