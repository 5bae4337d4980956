"""The pretraining experiment: source claim 5a, and a hypothesis of the course's own about what it is for.

The source text says seq2seq models "can also be trained using unsupervised learning, where the
model is trained to reconstruct the input sequence from a corrupted version of it". That much
(claim 5a) is shown by the denoise task reaching its ceiling: the model pretrained here is scored
on held-out denoise sources against what any model can expect there
(:meth:`minatt.tasks.DenoiseTask.heldout_report`).

What such training is for is the course's hypothesis, not the source's: reconstruction needs only
unlabelled sequences, and should make a small labelled set go further. For each seed, one model
is pretrained on ``denoise`` for ``pretrain_steps``. Then, for each labelled-set size n, a copy of
it is fine-tuned on n labelled pairs of ``task`` for ``steps`` steps, and a fresh model with the
same seed trains on the same n pairs for ``pretrain_steps + steps`` steps: the same number of
steps in all (compute-matched). Both are greedy-decoded on the same held-out set; the comparison is
pretrained minus scratch, paired by seed and test sequence (:data:`RULE`, in the JSON before the run).
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy

from minatt.backend import default_dtype, use
from minatt.experiments.common import (
    bits,
    blas_limit,
    figure,
    log,
    score_examples,
    train_model,
    unbits,
    write_design,
    write_result,
)
from minatt.experiments.runs import RunStore, run_jobs
from minatt.experiments.stats import curve, mde_block, spread, verdict_text
from minatt.tasks import Batch, collate, make_task

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["HYPOTHESIS", "RULE", "SMALL_PRETRAIN", "LabelledSet", "PretrainConfig", "design", "pretrain_figure",
           "run_pretrain"]

HYPOTHESIS = ("(The course's hypothesis, not the source's.) Pretraining by reconstruction (denoise) helps a small "
              "labelled set: a pretrained model fine-tuned on n labelled pairs reaches a higher held-out sequence "
              "accuracy than a model trained from scratch on the same n pairs for the same total number of steps.")
RULE = ("At the smallest labelled-set size, pretrained minus scratch sequence accuracy, paired by seed and test "
        "sequence, with a 95% interval: the hypothesis holds if the interval lies above 0, fails if it lies below 0; "
        "otherwise: criterion not met. Claim 5a holds if the pretrained models' denoise sequence accuracy, relative "
        "to the ceiling, has a mean of at least 0.95.")


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
    sizes: tuple[int, ...] = (50, 200)
    pretrain_steps: int = 1000
    steps: int = 500
    test_size: int = 300
    seeds: tuple[int, ...] = tuple(range(15))
    score: str = "additive"
    batch: int = 32
    embed: int = 24
    hidden: int = 32
    lr: float = 0.008
    planning_sd: float = 0.15  # per-seed sd of the paired difference, for the MDE (the 5-seed run: bimodal)
    workers: int = 3
    backend: str = "numpy"
    threads: int = 1


SMALL_PRETRAIN = PretrainConfig(min_len=3, max_len=6, sizes=(30,), pretrain_steps=300, steps=150, test_size=100,
                                seeds=(0, 1), embed=16, hidden=24, lr=0.01, workers=2)
RUN_SETTINGS_NOT = ("seeds", "workers", "threads", "planning_sd")


def _one_seed(cfg: PretrainConfig, sets: dict[str, Batch], job: tuple[int]) -> dict[str, Any]:
    """Pretrain once with seed ``job[0]``, score it on denoise; then per size, fine-tune a copy and train from scratch."""
    from minatt.train.config import TrainConfig

    (seed,) = job
    config = TrainConfig(task=cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, score=cfg.score,
                         embed=cfg.embed, hidden=cfg.hidden, steps=cfg.pretrain_steps, batch=cfg.batch, lr=cfg.lr,
                         seed=seed, backend=cfg.backend, target=None)
    task = make_task(cfg.task, cfg.min_len, cfg.max_len, seed=seed)
    rows = []
    with use(cfg.backend), default_dtype("float32"), blas_limit(cfg.threads):
        unlabelled = make_task("denoise", cfg.min_len, cfg.max_len, seed=seed, p=cfg.p)
        pretrained, _, pretrain_seconds = train_model(config, unlabelled)
        denoise = score_examples(pretrained, sets["denoise"])["exact"]
        for n in cfg.sizes:
            labelled = LabelledSet(task, n, seed)
            for start, model, steps in (("pretrained", copy.deepcopy(pretrained), cfg.steps),
                                        ("scratch", None, cfg.pretrain_steps + cfg.steps)):
                model, losses, seconds = train_model(replace(config, steps=steps), labelled, model)
                exact = score_examples(model, sets["test"])["exact"]
                rows.append({"n": n, "start": start, "steps": steps, "seconds": round(seconds, 1),
                             "final_loss": round(float(losses[-1]), 5), "sequence_accuracy": round(exact.mean(), 4),
                             "exact": bits(exact)})
    return {"seed": seed, "pretrain_seconds": round(pretrain_seconds, 1), "denoise_exact": bits(denoise), "rows": rows}


def design(cfg: PretrainConfig) -> dict[str, Any]:
    """The design block, fixed before the first run."""
    return {"claim": "seq2seq models can be trained, unsupervised, to reconstruct the input from a corrupted "
                     "version of it (source claim 5a); what for: the course's hypothesis below",
            "owner": "course", "hypothesis": HYPOTHESIS,
            "comparison": f"pretrained ({cfg.pretrain_steps} denoise steps + {cfg.steps} labelled) minus scratch "
                          f"({cfg.pretrain_steps + cfg.steps} labelled steps) sequence accuracy on {cfg.task}, paired "
                          f"by seed and test sequence, at each labelled-set size {list(cfg.sizes)}",
            "rule": RULE,
            "mde": mde_block(cfg.planning_sd, len(cfg.seeds), "the per-seed difference"),
            "seeds": list(cfg.seeds), "steps": {"pretrain": cfg.pretrain_steps, "fine-tune": cfg.steps,
                                                "scratch": cfg.pretrain_steps + cfg.steps}, "lrs": [cfg.lr]}


def _scalar(interval: dict[str, Any]) -> dict[str, Any]:
    """A one-group :func:`curve` with plain numbers instead of one-element lists."""
    return {k: v[0] if isinstance(v, list) else v for k, v in interval.items()}


def run_pretrain(cfg: PretrainConfig, out: str | Path, command: str = "",
                 log: Callable[[str], None] = log) -> dict[str, Any]:
    """Run every seed; write 10_pretrain.json and .png."""
    head = {"experiment": "pretrain", "command": command, "config": asdict(cfg), "sizes": list(cfg.sizes),
            "design": design(cfg)}
    write_design(out, "10_pretrain", head)
    start = time.perf_counter()
    denoise_task = make_task("denoise", cfg.min_len, cfg.max_len, seed=0, p=cfg.p)
    sets = {"test": make_task(cfg.task, cfg.min_len, cfg.max_len, seed=0).test_set(cfg.test_size, seed=40_000),
            "denoise": denoise_task.test_set(cfg.test_size, seed=41_000)}

    def done(r: dict[str, Any]) -> None:
        log(f"pretrain: seed {r['seed']}: denoise {unbits(r['denoise_exact']).mean():.3f}; " + ", ".join(
            f"n {x['n']} {x['start']} {x['sequence_accuracy']:.3f}" for x in r["rows"]))

    store = RunStore(out, "pretrain", {k: v for k, v in asdict(cfg).items() if k not in RUN_SETTINGS_NOT})
    runs = run_jobs(functools.partial(_one_seed, cfg, sets), [(s,) for s in cfg.seeds], store, cfg.workers, done, log)
    exact = {(x["start"], x["n"]): [] for x in runs[0]["rows"]}
    for r in runs:
        for x in r["rows"]:
            exact[(x["start"], x["n"])].append(unbits(x["exact"]))
    arrays = {k: numpy.array(v)[:, None, :] for k, v in exact.items()}  # (seeds, 1, examples)

    def diff(m: dict[str, numpy.ndarray]) -> numpy.ndarray:
        return m["pretrained"].mean(axis=(1, 2)) - m["scratch"].mean(axis=(1, 2))

    results: dict[str, Any] = {"sizes": list(cfg.sizes)}
    for begin in ("pretrained", "scratch"):
        results[begin] = [_scalar(curve(arrays[(begin, n)])) for n in cfg.sizes]
    results["difference"] = [spread({"pretrained": arrays[("pretrained", n)], "scratch": arrays[("scratch", n)]}, diff)
                             for n in cfg.sizes]
    results["per_seed_difference"] = [[round(float(a.mean() - b.mean()), 4) for a, b in
                                       zip(arrays[("pretrained", n)], arrays[("scratch", n)])] for n in cfg.sizes]
    ceiling = denoise_task.heldout_report(sets["denoise"])["sequence_ceiling"]
    denoise = numpy.array([unbits(r["denoise_exact"]) for r in runs])[:, None, :]
    results["denoise"] = {"sequence_accuracy": _scalar(curve(denoise)), "sequence_ceiling": round(ceiling, 4),
                          "relative": _scalar(curve(denoise, numpy.full_like(denoise, ceiling)))}
    results["runs"] = [{**r, "rows": [{k: v for k, v in x.items() if k != "exact"} for x in r["rows"]]} for r in runs]
    for r in results["runs"]:
        r.pop("denoise_exact")
    first = results["difference"][0]
    check = {"interval": first, "condition": "lo > 0", "passes": first["lo"] > 0}
    verdict = verdict_text({f"pretrained-scratch at n = {cfg.sizes[0]}": check}, first["lo"] > 0, first["hi"] < 0)
    verdict["claim_5a"] = {"relative": results["denoise"]["relative"], "condition": "mean >= 0.95",
                           "holds": results["denoise"]["relative"]["mean"] >= 0.95}
    result = {**head, "seconds": round(time.perf_counter() - start, 1), "results": results, "verdict": verdict}
    write_result(result, functools.partial(pretrain_figure, result), out, "10_pretrain")
    return result


def pretrain_figure(result: dict[str, Any]) -> Figure:
    """Left: accuracy against labelled-set size, pretrained and scratch. Right: the paired differences, per seed."""
    cfg, res = result["config"], result["results"]
    sizes = res["sizes"]
    fig = figure(11, 4.4)
    ax = fig.add_subplot(1, 2, 1)
    for start, color in (("pretrained", "tab:blue"), ("scratch", "tab:gray")):
        rows = res[start]
        mean = [r["mean"] for r in rows]
        ax.errorbar(sizes, mean, yerr=[numpy.subtract(mean, [r["lo"] for r in rows]),
                                       numpy.subtract([r["hi"] for r in rows], mean)],
                    fmt="o-", color=color, capsize=3, label=start)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"labelled {cfg['task']} pairs")
    ax.set_ylabel("sequence accuracy")
    ax.set_title("held-out sequence accuracy", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax = fig.add_subplot(1, 2, 2)
    rng = numpy.random.default_rng(0)
    for i in range(len(sizes)):
        per_seed, d = res["per_seed_difference"][i], res["difference"][i]
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(per_seed)), per_seed, s=14, color="tab:blue", alpha=0.6,
                   label="one seed" if i == 0 else None)
        ax.errorbar([i + 0.3], [d["mean"]], yerr=[[d["mean"] - d["lo"]], [d["hi"] - d["mean"]]], fmt="o",
                    color="k", capsize=4, label="mean and interval" if i == 0 else None)
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xticks(range(len(sizes)), [str(n) for n in sizes])
    ax.set_xlabel(f"labelled {cfg['task']} pairs")
    ax.set_ylabel("pretrained minus scratch")
    ax.set_title("paired difference in sequence accuracy (same seed, same test sequences)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    kind = res["difference"][0]["kind"]
    band = "95% bootstrap over seeds and test sequences" if kind == "bootstrap" else "min to max over seeds"
    fig.suptitle(f"{cfg['task']} {cfg['min_len']}..{cfg['max_len']}: pretrained {cfg['pretrain_steps']} steps on "
                 f"denoise (p = {cfg['p']}) + {cfg['steps']} on the labelled set,\n"
                 f"against {cfg['pretrain_steps'] + cfg['steps']} from scratch (the same steps); "
                 f"{len(cfg['seeds'])} seeds, intervals: {band}", fontsize=9)
    fig.tight_layout()
    return fig
