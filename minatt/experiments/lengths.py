"""The lengths experiment: accuracy against source length, without attention and with each score.

Source claim 2: multiplicative attention "can struggle with long input sequences"; and claim 5b,
the fixed-length context of a plain encoder-decoder (the ``none`` variant) against length.

Every variant (a score, optionally another encoder or Luong's decoder) trains with the same
budget -- steps, batch, sizes, learning-rate schedule, data stream per seed -- at each learning
rate of ``lrs``, on a task whose sources are ``min_len..max_len`` tokens. Each is then
greedy-decoded on one validation set and one test set per source length up to ``test_max_len``
(beyond training); every model sees the same sets. Each variant's learning rate is the one with
the best mean validation sequence accuracy over seeds; the test sets are read only at that rate.

The comparison and rule (:data:`RULE`) are written into the JSON before the first run; the
verdict is computed from them (:func:`claim2_verdict`). Intervals: :mod:`minatt.experiments.stats`
(a bootstrap over seeds and test sequences, or min-max with 2-3 seeds).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy

from minatt.backend import default_dtype, use
from minatt.errors import ConfigError
from minatt.experiments.common import (
    COLORS,
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

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["HYPOTHESIS", "RULE", "RULE_5B", "SMALL_LENGTHS", "VARIANTS", "LengthsConfig", "check_variants", "claim2_verdict",
           "comparisons", "design", "lengths_figure", "run_lengths", "variant_config"]

# variant name -> (score, encoder, decoder). encoder: "rnn", "bi" (bidirectional RNN) or "transformer"
# (2 layers, 4 heads); decoder: "/luong" is Luong's, the rest Bahdanau's
VARIANTS = {"none": ("none", "rnn", "bahdanau"), "additive": ("additive", "rnn", "bahdanau"),
            "general": ("general", "rnn", "bahdanau"), "dot": ("dot", "rnn", "bahdanau"),
            "scaled_dot": ("scaled_dot", "rnn", "bahdanau"), "additive+bi": ("additive", "bi", "bahdanau"),
            **{f"{s}/luong": (s, "rnn", "luong") for s in ("additive", "general", "dot", "scaled_dot")},
            "additive+transformer": ("additive", "transformer", "bahdanau")}


RULE = ("At each decoder, take dot's sequence accuracy minus additive's, and scaled_dot's minus additive's, "
        "paired by seed and test sequence and averaged over the longer trained lengths (rule_lengths). The claim "
        "holds if, under every decoder, dot's 95% interval lies below 0 while scaled_dot's does not; it fails if "
        "dot's interval lies above 0 under every decoder; otherwise: criterion not met.")
RULE_5B = ("Claim 5b (the fixed-length context is a bottleneck): over the trained lengths, the none variant's "
           "sequence accuracy falls with source length (the 95% interval of its slope lies below 0), and falls faster "
           "than additive attention's (the interval of the slope of none minus additive, paired, lies below 0).")
HYPOTHESIS = ("If multiplicative attention struggles with long inputs, dot attention copies fewer of the longer "
              "sources than additive attention, and the gap grows with source length; if the trouble is the "
              "scale of the scores (Vaswani et al.), scaled_dot does not show it.")


@dataclass
class LengthsConfig:
    """Settings of the lengths experiment (every variant gets the same)."""

    task: str = "copy"
    min_len: int = 1
    max_len: int = 12
    test_min_len: int = 2
    test_max_len: int = 18
    per_length: int = 100
    variants: tuple[str, ...] = ("none", "additive", "dot", "scaled_dot", "additive/luong", "dot/luong",
                                 "scaled_dot/luong")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    lrs: tuple[float, ...] = (0.003, 0.01, 0.03)  # brackets each score's best in a pilot (dot: 0.03, additive: 0.003-0.01)
    steps: int = 1000
    batch: int = 32
    embed: int = 16
    hidden: int = 32
    rule_lengths: tuple[int, int] = (8, 12)   # the longer trained lengths the rule averages over
    planning_sd: float = 0.08                 # per-seed sd of a paired gap, for the MDE (judged from the pilot runs)
    workers: int = 1
    backend: str = "numpy"
    threads: int = 1


# small enough for 30 s on 2 cores, big enough that the fixed-context model already falls off with length
SMALL_LENGTHS = LengthsConfig(min_len=1, max_len=8, test_min_len=2, test_max_len=10, per_length=40,
                              variants=("none", "additive", "dot", "scaled_dot"), seeds=(0, 1), lrs=(0.01,), steps=400,
                              batch=32, embed=16, hidden=32, rule_lengths=(6, 8), workers=2)
# what a stored run does not depend on (the lists of jobs, the processes, the analysis)
RUN_SETTINGS_NOT = ("variants", "seeds", "lrs", "workers", "threads", "rule_lengths", "planning_sd")


def variant_config(cfg: LengthsConfig, variant: str, seed: int, lr: float | None = None) -> Any:
    """The :class:`minatt.train.TrainConfig` of one variant: the shared budget plus its score, encoder, decoder."""
    from minatt.train import TrainConfig

    score, encoder, decoder = VARIANTS[variant]
    return TrainConfig(task=cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, score=score, decoder=decoder,
                       bidirectional=encoder == "bi", encoder="rnn" if encoder == "bi" else encoder,
                       layers=2, heads=4, embed=cfg.embed, hidden=cfg.hidden, steps=cfg.steps, batch=cfg.batch,
                       lr=cfg.lrs[0] if lr is None else lr, seed=seed, backend=cfg.backend, target=None)


def _sets(cfg: LengthsConfig, seed: int) -> list[Any]:
    """One held-out set per test length (seed 10_000 + n: test; 50_000 + n: validation)."""
    from minatt.tasks import make_task

    task = make_task(cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, seed=0)
    lengths = range(cfg.test_min_len, cfg.test_max_len + 1)
    return [task.test_set(cfg.per_length, min_len=n, max_len=n, seed=seed + n) for n in lengths]


def _train_one(cfg: LengthsConfig, sets: dict[str, list], job: tuple[str, float, int]) -> dict[str, Any]:
    """Train one (variant, learning rate, seed); score every validation and test sequence."""
    from minatt.tasks import make_task

    variant, lr, seed = job
    with use(cfg.backend), default_dtype("float32"), blas_limit(cfg.threads):
        task = make_task(cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, seed=seed)
        model, losses, seconds = train_model(variant_config(cfg, variant, seed, lr), task)
        scored = {split: [score_examples(model, batch) for batch in sets[split]] for split in sets}
    tail = losses[-max(1, cfg.steps // 20):]
    return {"variant": variant, "lr": lr, "seed": seed, "train_seconds": round(seconds, 2),
            "params": model.num_params(), "final_loss": round(float(numpy.mean(tail)), 5),
            "validation": round(float(numpy.mean([s["exact"].mean() for s in scored["validation"]])), 5),
            "exact": [bits(s["exact"]) for s in scored["test"]], "hits": [s["hits"].tolist() for s in scored["test"]]}


def check_variants(variants: tuple[str, ...]) -> None:
    """Raise :class:`ConfigError` naming the unknown variants, if any."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ConfigError(f"unknown variant(s) {', '.join(unknown)}: choose from {', '.join(VARIANTS)}")


def design(cfg: LengthsConfig) -> dict[str, Any]:
    """The design block, fixed before the first run."""
    lo, hi = cfg.rule_lengths
    return {"claim": "multiplicative attention can struggle with long input sequences (source claim 2); the "
                     "encoder compresses the source into a fixed-length context (source claim 5b: the none variant)",
            "owner": "source", "hypothesis": HYPOTHESIS,
            "comparison": f"paired gap in sequence accuracy, score minus additive under the same decoder, averaged "
                          f"over source lengths {lo}..{hi}; and its slope against source length over the trained "
                          f"lengths {cfg.test_min_len}..{cfg.max_len} (the length x score interaction)",
            "rule": RULE, "rule_lengths": [lo, hi], "rule_5b": RULE_5B,
            "mde": mde_block(cfg.planning_sd, len(cfg.seeds), "the per-seed paired gap (test-set noise included)"),
            "seeds": list(cfg.seeds), "steps": cfg.steps, "lrs": list(cfg.lrs),
            "lr_choice": "per variant, the learning rate with the best mean validation sequence accuracy over seeds "
                         "(validation sets: other sequences of the same lengths; the test sets are not used)"}


def _arrays(runs: list[dict], key: str) -> numpy.ndarray:
    """(seeds, lengths, examples): 0/1 exact matches (key "exact") or right tokens (key "hits")."""
    if key == "exact":
        return numpy.array([[unbits(b) for b in r["exact"]] for r in runs])
    return numpy.array([r["hits"] for r in runs], dtype=float)


def _slope(lengths: numpy.ndarray) -> Callable[[dict], numpy.ndarray]:
    """The least-squares slope, per token of length, of the mean gap (a - b) at each length (per draw)."""
    x = lengths - lengths.mean()
    return lambda m: (m["a"] - m["b"]).mean(axis=1) @ x / (x @ x)


def comparisons(lengths: list[int], variants: dict[str, Any], cfg: LengthsConfig) -> dict[str, Any]:
    """Every score minus additive under the same decoder: the rule's gap, the gap beyond training, the slope.

    variants: the results' variants (each with its chosen-rate "runs"). Returns {"gaps", "gaps_beyond",
    "slopes" (per token of source length, over the trained lengths), "gap_curves" (per length), and for
    claim 5b "bottleneck": the slope of none's accuracy, and of none minus additive}.
    """
    lengths = numpy.array(lengths)
    exact = {v: _arrays(r["runs"], "exact") for v, r in variants.items()}
    lo, hi = cfg.rule_lengths
    rule_at, beyond_at = (lengths >= lo) & (lengths <= hi), lengths > cfg.max_len
    trained_at = lengths <= cfg.max_len
    out: dict[str, Any] = {"gaps": {}, "gaps_beyond": {}, "slopes": {}, "gap_curves": {}}
    for v in exact:
        score, _, decoder = VARIANTS[v]
        base = "additive" + ("/luong" if decoder == "luong" else "")
        if score in ("none", "additive") or base not in exact or v == base:
            continue
        name = f"{v}-{base}"
        pair = {"a": exact[v], "b": exact[base]}
        diff = lambda m: m["a"].mean(axis=(1, 2)) - m["b"].mean(axis=(1, 2))  # noqa: E731
        out["gaps"][name] = spread({k: a[:, rule_at] for k, a in pair.items()}, diff)
        if beyond_at.any():
            out["gaps_beyond"][name] = spread({k: a[:, beyond_at] for k, a in pair.items()}, diff)
        out["slopes"][name] = spread({k: a[:, trained_at] for k, a in pair.items()}, _slope(lengths[trained_at]))
        out["gap_curves"][name] = curve(exact[v] - exact[base])
    if "none" in exact and "additive" in exact:  # claim 5b: the bottleneck
        slope = _slope(lengths[trained_at])
        none = exact["none"][:, trained_at]
        out["bottleneck"] = {"slope_none": spread({"a": none, "b": numpy.zeros_like(none)}, slope),
                             "slope_none_minus_additive": spread({"a": none, "b": exact["additive"][:, trained_at]},
                                                                 slope)}
    return out


def claim2_verdict(gaps: dict[str, Any]) -> dict[str, Any] | None:
    """:data:`RULE` applied literally to the gaps; None when the run lacks dot, scaled_dot or additive."""
    checks, decoders = {}, []
    for suffix in ("", "/luong"):
        dot, scaled = f"dot{suffix}-additive{suffix}", f"scaled_dot{suffix}-additive{suffix}"
        if dot in gaps and scaled in gaps:
            decoders.append(suffix)
            checks[dot] = {"interval": gaps[dot], "condition": "hi < 0", "passes": gaps[dot]["hi"] < 0}
            checks[scaled] = {"interval": gaps[scaled], "condition": "not hi < 0",
                              "passes": not gaps[scaled]["hi"] < 0}
    if not decoders:
        return None
    holds = all(c["passes"] for c in checks.values())
    fails = all(gaps[f"dot{s}-additive{s}"]["lo"] > 0 for s in decoders)
    return verdict_text(checks, holds, fails)


def run_lengths(cfg: LengthsConfig, out: str | Path, command: str = "",
                log: Callable[[str], None] = log) -> dict[str, Any]:
    """Train every (variant, lr, seed), evaluate per length; write 10_lengths.json and .png."""
    check_variants(cfg.variants)
    lengths = list(range(cfg.test_min_len, cfg.test_max_len + 1))
    head = {"experiment": "lengths", "command": command, "config": asdict(cfg), "lengths": lengths,
            "design": design(cfg)}
    write_design(out, "10_lengths", head)
    # one fixed validation and test set per length, shared by every variant and seed (paired comparison)
    sets = {"validation": _sets(cfg, 50_000), "test": _sets(cfg, 10_000)}
    start = time.perf_counter()
    jobs = [(variant, lr, seed) for variant in cfg.variants for lr in cfg.lrs for seed in cfg.seeds]
    trained = [i for i, n in enumerate(lengths) if n <= cfg.max_len]

    def progress(r: dict[str, Any]) -> None:  # one line as each run finishes
        acc = numpy.mean([unbits(r["exact"][i]).mean() for i in trained])
        log(f"lengths: {r['variant']:16s} lr {r['lr']:<6} seed {r['seed']}: {r['train_seconds']:.1f} s, loss "
            f"{r['final_loss']:.3f}, validation {r['validation']:.3f}, test on trained lengths {acc:.3f} "
            f"({time.perf_counter() - start:.0f} s so far)")

    store = RunStore(out, "lengths", {k: v for k, v in asdict(cfg).items() if k not in RUN_SETTINGS_NOT})
    done = run_jobs(functools.partial(_train_one, cfg, sets), jobs, store, cfg.workers, progress, log)
    variants: dict[str, Any] = {}
    for variant in cfg.variants:
        mine = [r for r in done if r["variant"] == variant]
        validation = {str(lr): round(float(numpy.mean([r["validation"] for r in mine if r["lr"] == lr])), 4)
                      for lr in cfg.lrs}
        lr = max(cfg.lrs, key=lambda x: validation[str(x)])  # the first of equals: the order of lrs
        runs = [r for r in mine if r["lr"] == lr]
        score, encoder, decoder = VARIANTS[variant]
        hits = _arrays(runs, "hits") / (numpy.array(lengths) + 1)[None, :, None]  # right share, EOS included
        variants[variant] = {"score": score, "encoder": encoder, "decoder": decoder, "params": runs[0]["params"],
                             "lr": lr, "validation": validation,
                             "sequence_accuracy": curve(_arrays(runs, "exact")), "token_accuracy": curve(hits),
                             "runs": [{**{k: x for k, x in r.items() if k != "hits"},  # the bits stay
                                       "token_accuracy": [round(float(h), 4) for h in hits[i].mean(axis=1)]}
                                      for i, r in enumerate(runs)],
                             "all_runs": [{k: r[k] for k in ("lr", "seed", "final_loss", "validation",
                                                              "train_seconds")} for r in mine]}
    results = {"variants": variants}
    results.update(comparisons(lengths, variants, cfg))
    verdict = claim2_verdict(results["gaps"])
    if "bottleneck" in results:
        b = results["bottleneck"]
        claim_5b = {"holds": b["slope_none"]["hi"] < 0 and b["slope_none_minus_additive"]["hi"] < 0,
                    "condition": "slope_none hi < 0 and slope_none_minus_additive hi < 0", **b}
        verdict = {**(verdict or {}), "claim_5b": claim_5b}
    result = {**head, "seconds": round(time.perf_counter() - start, 1), "results": results, "verdict": verdict}
    write_result(result, functools.partial(lengths_figure, result), out, "10_lengths")
    return result


def lengths_figure(result: dict[str, Any]) -> Figure:
    """Accuracy against source length, one column per decoder; a third row: each score minus additive.

    Line = mean over seeds and test sequences, band = its interval (bootstrap or min-max, as the
    suptitle says). The no-attention baseline is drawn in both columns; Luong variants are dashed.
    """
    cfg, lengths, variants = result["config"], result["lengths"], result["results"]["variants"]
    luong = [n for n, v in variants.items() if v["decoder"] == "luong"]
    columns = [("Bahdanau decoder", [n for n in variants if n not in luong])]
    if luong:
        columns.append(("Luong decoder", [n for n in ("none", *luong) if n in variants]))
    gaps = result["results"]["gap_curves"]
    rows = ("sequence_accuracy", "token_accuracy") + (("gap",) if gaps else ())
    fig = figure(5.8 * len(columns), 3.9 * len(rows))
    ylabels = {"sequence_accuracy": "sequence accuracy (whole sequence right)",
               "token_accuracy": "token accuracy (target positions right)",
               "gap": "sequence accuracy minus additive's"}
    for row, key in enumerate(rows):
        for col, (decoder, names) in enumerate(columns):
            ax = fig.add_subplot(len(rows), len(columns), row * len(columns) + col + 1)
            ax.axvspan(cfg["max_len"] + 0.5, lengths[-1] + 0.5, color="0.92", zorder=0)
            if key == "gap":
                lines = [(g, gaps[g], g.split("-")[0]) for g in gaps if g.split("-")[0] in names]
                ax.axhline(0, color="0.3", linewidth=0.8)
            else:
                lines = [(n, variants[n][key], n) for n in names]
            for label, s, name in lines:
                v = variants[name]
                color = COLORS.get(name, COLORS.get(v["score"]))
                style = "o--" if v["decoder"] == "luong" else "o-"
                if key != "gap":
                    label = f"{name} (lr {v['lr']}, {v['params'] / 1000:.0f}k params)"
                ax.plot(lengths, s["mean"], style, color=color, markersize=3, linewidth=1.4, label=label)
                ax.fill_between(lengths, s["lo"], s["hi"], color=color, alpha=0.15, linewidth=0)
            ax.set_xlim(lengths[0] - 0.5, lengths[-1] + 0.5)
            ax.set_ylim(*((-1.02, 1.02) if key == "gap" else (-0.02, 1.02)))
            ax.set_xlabel("source length (tokens); grey: longer than any in training")
            ax.set_ylabel(ylabels[key])
            ax.set_title(f"{decoder}: {ylabels[key]}", fontsize=10)
            ax.grid(alpha=0.3)
            if lines and row != 1:
                ax.legend(fontsize=7, loc="lower left")
    kind = next(iter(variants.values()))["sequence_accuracy"]["kind"]
    band = ("95% bootstrap interval over seeds and test sequences" if kind == "bootstrap"
            else "min to max over the seeds")
    fig.suptitle(f"{cfg['task']}, trained on lengths {cfg['min_len']}..{cfg['max_len']}: {cfg['steps']} steps of "
                 f"{cfg['batch']}, hidden {cfg['hidden']}, learning rate chosen on validation;\nline = mean of "
                 f"{len(cfg['seeds'])} seeds x {cfg['per_length']} test sequences per length, band = {band}",
                 fontsize=9)
    fig.tight_layout()
    return fig
