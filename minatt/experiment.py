"""Experiments that test the usual claims about attention, with the numbers and figures they produce.

    python -m minatt experiment lengths     accuracy against source length: no attention vs scores
    python -m minatt experiment cost        time and memory of the score functions as S grows
    python -m minatt experiment all         both

Each writes ``10_<name>.json`` (every number, the settings, the command) and ``10_<name>.png``
into ``--out`` (default ``lessons/figures``, where chapter 10 reads them). ``--small`` runs a
seconds-long version with the same code path (the tests run it) and writes to
``runs/experiment-small`` unless ``--out`` says otherwise, so it never overwrites the committed
figures.

lengths: every variant (a score, optionally a bidirectional encoder) trains with the same
budget -- steps, batch, sizes, learning-rate schedule, data stream per seed -- on a task whose
sources are ``min_len..max_len`` tokens, then is greedy-decoded on one held-out set per source
length up to ``test_max_len`` (beyond training). Every model sees the same test sets.

cost: (1) the score ops of :mod:`minatt.ops.scores` alone, for a T-step decoder: forward for
every step, then backward for every step, timed together; the bytes their caches keep beyond
their inputs are counted exactly, and set against the formulas in the ops' docstrings.
(2) a whole model's training step (``loss_and_grads``) per score, with tracemalloc's peak.
Timings are medians over repeats, taken round-robin so that a busy neighbour slows every
variant alike; the spread (quartiles) is kept with them.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from minatt.backend import array_module, default_dtype, randn, synchronize, use
from minatt.checkpoint import atomic_write_json
from minatt.errors import ConfigError
from minatt.plot import save_figure

__all__ = ["SMALL_COST", "SMALL_LENGTHS", "VARIANTS", "CostConfig", "LengthsConfig", "add_parser", "cache_bytes", "cost_figure",
           "lengths_figure", "main", "run", "run_cost", "run_lengths", "score_cost"]

FIGURES = Path("lessons/figures")
SMALL_OUT = Path("runs/experiment-small")
# variant name -> (score, bidirectional encoder)
VARIANTS = {"none": ("none", False), "additive": ("additive", False), "general": ("general", False),
            "dot": ("dot", False), "additive+bi": ("additive", True)}
COLORS = {"none": "tab:gray", "additive": "tab:blue", "general": "tab:orange", "dot": "tab:green",
          "additive+bi": "tab:purple", "concat": "tab:red"}


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


# ---------------------------------------------------------------------------------------
# lengths


@dataclass
class LengthsConfig:
    """Settings of the lengths experiment (every variant gets the same)."""

    task: str = "copy"
    min_len: int = 1
    max_len: int = 20
    test_min_len: int = 2
    test_max_len: int = 30
    per_length: int = 100
    variants: tuple[str, ...] = ("none", "additive", "general", "dot", "additive+bi")
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 1500
    batch: int = 64
    embed: int = 32
    hidden: int = 64
    lr: float = 0.005
    backend: str = "numpy"
    threads: int = 1


SMALL_LENGTHS = LengthsConfig(min_len=2, max_len=5, test_max_len=7, per_length=12, variants=("none", "additive"),
                              seeds=(0, 1), steps=20, batch=16, embed=8, hidden=12)


def _train_one(cfg: LengthsConfig, variant: str, seed: int, test_sets: list) -> dict[str, Any]:
    """Train one variant with one seed; evaluate on every per-length test set."""
    from minatt.train import TrainConfig, Trainer, evaluate

    score, bidirectional = VARIANTS[variant]
    train_cfg = TrainConfig(task=cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, score=score,
                            bidirectional=bidirectional, embed=cfg.embed, hidden=cfg.hidden, steps=cfg.steps,
                            batch=cfg.batch, lr=cfg.lr, seed=seed, backend=cfg.backend, test_size=16,
                            target=None)
    trainer = Trainer(train_cfg, Path("unused"))  # builds task, model, optimiser; writes nothing
    start = time.perf_counter()
    for _ in range(cfg.steps):
        trainer.train_step()
    seconds = time.perf_counter() - start
    rows = [evaluate(trainer.model, batch) for _, batch in test_sets]
    tail = trainer.loss_history[-max(1, cfg.steps // 20):]
    return {"seed": seed, "train_seconds": round(seconds, 2), "params": trainer.model.num_params(),
            "final_loss": float(numpy.mean(tail)),
            "sequence_accuracy": [r["sequence_accuracy"] for r in rows],
            "token_accuracy": [r["token_accuracy"] for r in rows]}


def _spread(runs: list[dict], key: str) -> dict[str, list[float]]:
    a = numpy.array([r[key] for r in runs])  # (seeds, lengths)
    return {"mean": a.mean(axis=0).round(4).tolist(), "min": a.min(axis=0).tolist(),
            "max": a.max(axis=0).tolist()}


def _check_variants(variants: tuple[str, ...]) -> None:
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ConfigError(f"unknown variant(s) {', '.join(unknown)}: choose from {', '.join(VARIANTS)}")


def run_lengths(cfg: LengthsConfig, out: str | Path, command: str = "",
                log: Callable[[str], None] = _log) -> dict[str, Any]:
    """Train every variant with every seed, evaluate per length; write 10_lengths.json and .png."""
    from minatt.tasks import make_task
    from minatt.train import blas_threads

    _check_variants(cfg.variants)
    task = make_task(cfg.task, min_len=cfg.min_len, max_len=cfg.max_len, seed=0)
    lengths = list(range(cfg.test_min_len, cfg.test_max_len + 1))
    # one fixed held-out set per length, shared by every variant and seed (paired comparison)
    test_sets = [(n, task.test_set(cfg.per_length, min_len=n, max_len=n, seed=10_000 + n)) for n in lengths]
    start = time.perf_counter()
    variants: dict[str, Any] = {}
    with use(cfg.backend), default_dtype("float32"), blas_threads(cfg.threads):
        for variant in cfg.variants:
            runs = []
            for seed in cfg.seeds:
                r = _train_one(cfg, variant, seed, test_sets)
                runs.append(r)
                trained = [a for n, a in zip(lengths, r["sequence_accuracy"]) if n <= cfg.max_len]
                log(f"lengths: {variant:12s} seed {seed}: {cfg.steps} steps in {r['train_seconds']:.1f} s, "
                    f"loss {r['final_loss']:.3f}, sequence accuracy on trained lengths {numpy.mean(trained):.3f}")
            score, bidirectional = VARIANTS[variant]
            variants[variant] = {"score": score, "bidirectional": bidirectional, "params": runs[0]["params"],
                                 "runs": runs, "sequence_accuracy": _spread(runs, "sequence_accuracy"),
                                 "token_accuracy": _spread(runs, "token_accuracy")}
    result = {"experiment": "lengths", "command": command, "config": asdict(cfg), "lengths": lengths,
              "seconds": round(time.perf_counter() - start, 1), "variants": variants}
    _write(result, lengths_figure(result), out, "10_lengths")
    return result


def lengths_figure(result: dict[str, Any]) -> Figure:
    """Sequence and token accuracy against source length: mean over seeds, band = min..max."""
    cfg, lengths = result["config"], result["lengths"]
    fig = _figure(11.5, 4.2)
    titles = {"sequence_accuracy": "whole sequence right (exact match)",
              "token_accuracy": "tokens right (per position)"}
    for i, key in enumerate(("sequence_accuracy", "token_accuracy")):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.axvspan(cfg["max_len"] + 0.5, lengths[-1] + 0.5, color="0.92", zorder=0)
        ax.text(lengths[-1], 0.5 if i == 0 else 0.05, "longer than\nany in training", fontsize=8, color="0.35",
                ha="right", va="bottom")
        for name, v in result["variants"].items():
            s = v[key]
            color = COLORS.get(name)
            label = f"{name} ({v['params'] / 1000:.0f}k params)" if i == 0 else None
            ax.plot(lengths, s["mean"], "o-", color=color, markersize=3, linewidth=1.6, label=label)
            ax.fill_between(lengths, s["min"], s["max"], color=color, alpha=0.18, linewidth=0)
        ax.set_xlim(lengths[0] - 0.5, lengths[-1] + 0.5)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("source length (tokens)")
        ax.set_ylabel(key.replace("_", " "))
        ax.set_title(titles[key], fontsize=10)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8, loc="lower left")
    seeds = f"{len(cfg['seeds'])} seeds" if len(cfg["seeds"]) > 1 else "one seed"
    fig.suptitle(f"{cfg['task']}, trained on lengths {cfg['min_len']}..{cfg['max_len']}: {cfg['steps']} steps of "
                 f"{cfg['batch']}, hidden {cfg['hidden']}; line = mean of {seeds}, band = min..max; "
                 f"{cfg['per_length']} held-out sequences per length", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------
# cost


@dataclass
class CostConfig:
    """Settings of the cost experiment."""

    N: int = 64
    T: int = 20
    sources: tuple[int, ...] = (10, 25, 50, 75, 100)
    sizes: tuple[int, ...] = (64, 256)  # H = Hq = Hk = A for the op-level measurement
    scores: tuple[str, ...] = ("dot", "general", "additive", "concat")
    model_scores: tuple[str, ...] = ("none", "dot", "general", "additive", "concat")
    model_hidden: int = 64
    model_embed: int = 32
    repeats: int = 9
    backend: str = "numpy"
    threads: int = 1


SMALL_COST = CostConfig(N=4, T=3, sources=(4, 8), sizes=(8,), model_hidden=8, model_embed=4, repeats=2)


def score_cost(kind: str, N: int, S: int, T: int, Hq: int, Hk: int, A: int) -> tuple[int, int]:
    """(forward multiply-adds, floats the caches keep) of a T-step decoder's scores, per minatt.ops.scores.

    additive projects the keys once (additive_keys_forward); concat is concat_score_forward called
    every step, which projects the keys every step.
    """
    if kind == "dot":
        return T * N * S * Hk, 0
    if kind == "general":
        return T * N * Hk * (Hq + S), T * N * Hk
    if kind == "additive":
        return N * S * Hk * A + T * N * A * (Hq + S), T * N * S * A
    if kind == "concat":
        return T * (N * S * Hk * A + N * A * (Hq + S)), T * N * S * A
    raise ConfigError(f"unknown score {kind!r}: choose from dot, general, additive, concat")


def _arrays(obj: Any, out: list) -> list:
    """Every array reachable from a cache (NamedTuples, tuples, lists, dicts)."""
    if hasattr(obj, "nbytes") and hasattr(obj, "shape"):
        out.append(obj)
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _arrays(item, out)
    elif isinstance(obj, dict):
        for item in obj.values():
            _arrays(item, out)
    return out


def _root(a: Any) -> Any:
    while getattr(a, "base", None) is not None:
        a = a.base
    return a


def cache_bytes(cache: Any, inputs: Sequence[Any] = ()) -> int:
    """Bytes of the distinct buffers a cache keeps alive, not counting the buffers of ``inputs``.

    A view counts as its whole underlying buffer (that is what it keeps alive), once.
    """
    skip = {id(_root(a)) for a in inputs}
    seen: dict[int, int] = {}
    for a in _arrays(cache, []):
        root = _root(a)
        if id(root) not in skip:
            seen[id(root)] = int(root.nbytes)
    return sum(seen.values())


def _score_inputs(N: int, S: int, T: int, H: int, seed: int = 0) -> dict[str, Any]:
    rng = numpy.random.default_rng(seed)
    s = 1.0 / H**0.5
    return {"q": randn(rng, (T, N, H)), "keys": randn(rng, (N, S, H)), "dscores": randn(rng, (T, N, S)),
            "Wa": randn(rng, (H, H), s), "Wq": randn(rng, (H, H), s), "Wk": randn(rng, (H, H), s),
            "v": randn(rng, (H,), s), "Wcat": randn(rng, (2 * H, H), s)}


def _score_pass(kind: str, x: dict[str, Any]) -> tuple[int, Any]:
    """Forward for all T steps, then backward for all T steps; returns (cache bytes, dkeys)."""
    from minatt.ops import scores as ops

    q, keys, dscores = x["q"], x["keys"], x["dscores"]
    T = q.shape[0]
    caches = []
    if kind == "additive":
        kproj, keys_cache = ops.additive_keys_forward(keys, x["Wk"])
        caches.append(keys_cache)
    for t in range(T):
        if kind == "dot":
            caches.append(ops.dot_score_forward(q[t], keys)[1])
        elif kind == "general":
            caches.append(ops.general_score_forward(q[t], keys, x["Wa"])[1])
        elif kind == "additive":
            caches.append(ops.additive_score_projected_forward(q[t], kproj, x["Wq"], x["v"])[1])
        else:
            caches.append(ops.concat_score_forward(q[t], keys, x["Wcat"], x["v"])[1])
    kept = cache_bytes(caches, list(x.values()))
    dkeys = array_module(keys).zeros_like(keys)
    if kind == "additive":
        dkproj = array_module(keys).zeros_like(kproj)
        for t in range(T - 1, -1, -1):
            dkproj += ops.additive_score_projected_backward(dscores[t], caches[t + 1])[1]
        dkeys += ops.additive_keys_backward(dkproj, caches[0])[0]
        return kept, dkeys
    backward = {"dot": ops.dot_score_backward, "general": ops.general_score_backward,
                "concat": ops.concat_score_backward}[kind]
    for t in range(T - 1, -1, -1):
        dkeys += backward(dscores[t], caches[t])[1]
    return kept, dkeys


def _quartiles(times: list[float]) -> dict[str, float]:
    q1, med, q3 = numpy.percentile(times, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "min": float(min(times))}


def _timed_round_robin(jobs: dict[str, Callable[[], Any]], repeats: int, xp: Any) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in jobs}
    order = list(jobs)
    for fn in jobs.values():  # warm-up
        fn()
    for r in range(repeats):
        for k in order[r % len(order):] + order[:r % len(order)]:  # rotate who goes first
            synchronize()
            start = time.perf_counter()
            jobs[k]()
            synchronize()
            times[k].append(time.perf_counter() - start)
    return times


def _model_batch(N: int, S: int, T: int, vocab: int, seed: int) -> Any:
    from minatt.tasks import BOS, EOS, Batch

    rng = numpy.random.default_rng(seed)
    src = rng.integers(4, vocab, size=(N, S))
    tgt = rng.integers(4, vocab, size=(N, T - 1))
    full = numpy.ones((N, T), dtype=bool)
    return Batch(src=src, src_mask=numpy.ones((N, S), dtype=bool),
                 tgt_in=numpy.concatenate([numpy.full((N, 1), BOS), tgt], axis=1),
                 tgt_out=numpy.concatenate([tgt, numpy.full((N, 1), EOS)], axis=1), tgt_mask=full)


def _peak_bytes(fn: Callable[[], Any]) -> int:
    """tracemalloc's peak of new allocations while ``fn`` runs (NumPy reports its buffers to it)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()


def run_cost(cfg: CostConfig, out: str | Path, command: str = "",
             log: Callable[[str], None] = _log) -> dict[str, Any]:
    """Measure the score ops and whole training steps; write 10_cost.json and 10_cost.png."""
    from minatt.seq2seq import Seq2Seq, Seq2SeqConfig
    from minatt.train import blas_threads

    start = time.perf_counter()
    ops_rows, model_rows = [], []
    with use(cfg.backend), default_dtype("float32"), blas_threads(cfg.threads):
        from minatt.backend import get_xp

        xp = get_xp()
        for H in cfg.sizes:
            for S in cfg.sources:
                x = _score_inputs(cfg.N, S, cfg.T, H)
                jobs = {k: (lambda k=k, x=x: _score_pass(k, x)) for k in cfg.scores}
                times = _timed_round_robin(jobs, cfg.repeats, xp)
                for k in cfg.scores:
                    macs, floats = score_cost(k, cfg.N, S, cfg.T, H, H, H)
                    ops_rows.append({"score": k, "H": H, "S": S, "seconds": _quartiles(times[k]),
                                     "cache_bytes": _score_pass(k, x)[0], "formula_cache_bytes": 4 * floats,
                                     "formula_forward_macs": macs})
                log(f"cost: ops H=A={H} S={S}: " + ", ".join(
                    f"{r['score']} {1e3 * r['seconds']['median']:.2f} ms" for r in ops_rows[-len(cfg.scores):]))
        vocab = 16
        for S in cfg.sources:
            batch = _model_batch(cfg.N, S, cfg.T, vocab, seed=S)
            models = {k: Seq2Seq(Seq2SeqConfig(src_vocab=vocab, tgt_vocab=vocab, embed=cfg.model_embed,
                                               hidden=cfg.model_hidden, score=k), seed=0) for k in cfg.model_scores}
            jobs = {k: (lambda m=m, b=batch: m.loss_and_grads(b)) for k, m in models.items()}
            times = _timed_round_robin(jobs, cfg.repeats, xp)
            for k, m in models.items():
                peak = _peak_bytes(jobs[k]) if xp is numpy else None
                model_rows.append({"score": k, "S": S, "seconds": _quartiles(times[k]), "peak_bytes": peak,
                                   "params": m.num_params()})
            log(f"cost: model S={S}: " + ", ".join(
                f"{r['score']} {1e3 * r['seconds']['median']:.1f} ms" for r in model_rows[-len(models):]))
    result = {"experiment": "cost", "command": command, "config": asdict(cfg), "backend": cfg.backend,
              "seconds": round(time.perf_counter() - start, 1), "ops": ops_rows, "model": model_rows}
    _write(result, cost_figure(result), out, "10_cost")
    return result


def _series(rows: list[dict], score: str, key: Callable[[dict], float], **match: Any) -> tuple[list, list]:
    picked = [r for r in rows if r["score"] == score and all(r[k] == v for k, v in match.items())]
    return [r["S"] for r in picked], [key(r) for r in picked]


def cost_figure(result: dict[str, Any]) -> Figure:
    """Top: score ops over a T-step decoder (time per size; cache bytes vs formula). Bottom: whole steps."""
    cfg = result["config"]
    sizes = cfg["sizes"]
    cols = len(sizes) + 1
    grid_cols = cols if cols % 2 == 0 else 2 * cols  # `cols` panels on top, 2 below
    fig = _figure(4.0 * cols, 7.4)
    grid = fig.add_gridspec(2, grid_cols)
    top, half = grid_cols // cols, grid_cols // 2
    for i, H in enumerate(sizes):
        ax = fig.add_subplot(grid[0, i * top:(i + 1) * top])
        for k in cfg["scores"]:
            S, med = _series(result["ops"], k, lambda r: 1e3 * r["seconds"]["median"], H=H)
            _, lo = _series(result["ops"], k, lambda r: 1e3 * r["seconds"]["q1"], H=H)
            _, hi = _series(result["ops"], k, lambda r: 1e3 * r["seconds"]["q3"], H=H)
            ax.errorbar(S, med, yerr=[numpy.subtract(med, lo), numpy.subtract(hi, med)], fmt="o-",
                        color=COLORS[k], markersize=3, capsize=2, label=k)
        ax.set_xlabel("source length S")
        ax.set_ylabel("ms, forward + backward")
        ax.set_title(f"score ops, T={cfg['T']} steps, N={cfg['N']}, H=A={H}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[0, (cols - 1) * top:])
    H = sizes[-1]
    for k in cfg["scores"]:
        S, kept = _series(result["ops"], k, lambda r: r["cache_bytes"] / 2**20, H=H)
        _, formula = _series(result["ops"], k, lambda r: r["formula_cache_bytes"] / 2**20, H=H)
        ax.plot(S, formula, "-", color=COLORS[k], alpha=0.5, linewidth=4)
        style = {"marker": "x", "markersize": 7} if k == "concat" else {"marker": "o", "markersize": 4}
        ax.plot(S, kept, linestyle="none", color=COLORS[k], label=k, **style)
    ax.set_xlabel("source length S")
    ax.set_ylabel("MiB kept for backward")
    ax.set_title(f"score caches, H=A={H}: markers measured,\nwide lines = formula in scores.py", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[1, :half])
    for k in cfg["model_scores"]:
        S, med = _series(result["model"], k, lambda r: 1e3 * r["seconds"]["median"])
        _, lo = _series(result["model"], k, lambda r: 1e3 * r["seconds"]["q1"])
        _, hi = _series(result["model"], k, lambda r: 1e3 * r["seconds"]["q3"])
        ax.errorbar(S, med, yerr=[numpy.subtract(med, lo), numpy.subtract(hi, med)], fmt="o-",
                    color=COLORS[k], markersize=3, capsize=2, label=k)
    ax.set_xlabel("source length S")
    ax.set_ylabel("ms per loss_and_grads")
    ax.set_title(f"whole model training step, T={cfg['T']}, N={cfg['N']}, hidden={cfg['model_hidden']}",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[1, half:])
    if all(r["peak_bytes"] is not None for r in result["model"]):
        for k in cfg["model_scores"]:
            S, peak = _series(result["model"], k, lambda r: r["peak_bytes"] / 2**20)
            ax.plot(S, peak, "o--" if k == "concat" else "o-", color=COLORS[k], markersize=3, label=k)
        ax.legend(fontsize=8)
    ax.set_xlabel("source length S")
    ax.set_ylabel("MiB (tracemalloc peak)")
    ax.set_title("whole model: peak memory of a training step", fontsize=9)
    ax.grid(alpha=0.3)
    fig.suptitle(f"medians of {cfg['repeats']} repeats, bars = quartiles; {result['backend']}, "
                 f"{cfg['threads']} BLAS thread(s), float32", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------
# files and command line


def _make_out(out: Path) -> None:
    """Create the --out directory (a :class:`ConfigError` if that is impossible)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create --out {out}: {exc.strerror or exc}") from None


def _write(result: dict[str, Any], fig: Figure, out: str | Path, stem: str) -> None:
    out = Path(out)
    _make_out(out)
    atomic_write_json(out / f"{stem}.json", result)
    save_figure(fig, out / f"{stem}.png", dpi=110)


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
    from minatt.cli import positive_int

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
    _check_variants(plan.lengths.variants)
    _make_out(out)  # before the experiments run, not after
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
    """``python -m minatt.experiment ...``: the same as ``python -m minatt experiment ...``."""
    from minatt.cli import main as cli_main

    return cli_main(["experiment", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
