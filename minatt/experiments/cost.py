"""The cost experiment: time and memory of the score functions as the source grows.

cost: (1) the score ops of :mod:`minatt.ops.scores` alone, for a T-step decoder: forward for
every step, then backward for every step, timed together; the bytes their caches keep beyond
their inputs are counted exactly, and set against the formulas in the ops' docstrings.
(2) a whole model's training step (``loss_and_grads``) per score, with tracemalloc's peak.
Timings are medians over repeats, taken round-robin so that a busy neighbour slows every
variant alike; the spread (quartiles) is kept with them.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy
from matplotlib.figure import Figure

from minatt.backend import array_module, default_dtype, randn, synchronize, use
from minatt.errors import ConfigError
from minatt.experiments.common import COLORS, figure, interval, log, make_out, write_result
from minatt.tools.checkpoint import atomic_write_json
from minatt.tools.runtime import blas_threads
from minatt.validate import unchecked

__all__ = ["DESIGN", "SMALL_COST", "CostConfig", "cache_bytes", "cost_figure", "cost_verdict", "model_batch",
           "run_cost", "score_cost"]

# written into the JSON before the measurement starts; cost_verdict applies the rule to the results
DESIGN = {
    "claim": "Additive attention is computationally expensive; multiplicative attention is faster and more "
             "memory efficient.",
    "owner": "source",
    "hypothesis": "At every source length and size measured, the score ops of a T-step decoder keep fewer "
                  "bytes and take less time with dot or general than with additive.",
    "comparison": "Per (H, S) cell: cache bytes of dot and general against additive (exact); time of additive "
                  "over dot and over general, as ratios of medians within one rerun, 95% t-interval over reruns.",
    "rule": "holds if, in every (H, S) cell, dot's and general's caches are smaller than additive's and both "
            "ratio intervals (additive over dot, additive over general) lie above 1; otherwise criterion not met",
    "mde": {"value": None, "how": "not planned: each ratio's interval over the reruns shows what it resolves"},
}


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
    reruns: int = 5  # the whole timing, again: what varies between runs, not only within one
    backend: str = "numpy"
    threads: int = 1


SMALL_COST = CostConfig(N=4, T=3, sources=(4, 8), sizes=(8,), model_hidden=8, model_embed=4, repeats=2, reruns=2)


def score_cost(kind: str, N: int, S: int, T: int, Hq: int, Hk: int, A: int) -> tuple[int, int]:
    """(forward multiply-adds, floats the caches keep) of a T-step decoder's scores, per minatt.ops.scores.

    general and additive project the keys once (general_keys_forward, additive_keys_forward), as the
    model does; concat is concat_score_forward called every step, which projects the keys every step.
    """
    if kind == "dot":
        return T * N * S * Hk, 0
    if kind == "general":
        return N * S * Hk * Hq + T * N * S * Hq, N * S * Hq  # kW, kept once for the backward pass
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


@unchecked()  # time the math, as the model runs it, not the ops' argument checks
def _score_pass(kind: str, x: dict[str, Any]) -> tuple[int, Any]:
    """Forward for all T steps, then backward for all T steps; returns (cache bytes, dkeys)."""
    from minatt.ops import scores as ops

    q, keys, dscores = x["q"], x["keys"], x["dscores"]
    T = q.shape[0]
    caches = []
    if kind in ("general", "additive"):  # the keys projected once, as the model does
        keys_forward = {"general": ops.general_keys_forward, "additive": ops.additive_keys_forward}[kind]
        prepared, keys_cache = keys_forward(keys, x["Wa" if kind == "general" else "Wk"])
        caches.append(keys_cache)
    for t in range(T):
        if kind == "dot":
            caches.append(ops.dot_score_forward(q[t], keys)[1])
        elif kind == "general":
            caches.append(ops.dot_score_forward(q[t], prepared)[1])
        elif kind == "additive":
            caches.append(ops.additive_score_projected_forward(q[t], prepared, x["Wq"], x["v"])[1])
        else:
            caches.append(ops.concat_score_forward(q[t], keys, x["Wcat"], x["v"])[1])
    kept = cache_bytes(caches, list(x.values()))
    dkeys = array_module(keys).zeros_like(keys)
    if kind in ("general", "additive"):
        step_backward, keys_backward = {
            "general": (ops.dot_score_backward, ops.general_keys_backward),
            "additive": (ops.additive_score_projected_backward, ops.additive_keys_backward)}[kind]
        dprepared = array_module(keys).zeros_like(prepared)
        for t in range(T - 1, -1, -1):
            dprepared += step_backward(dscores[t], caches[t + 1])[1]
        dkeys += keys_backward(dprepared, caches[0])[0]
        return kept, dkeys
    backward = {"dot": ops.dot_score_backward, "concat": ops.concat_score_backward}[kind]
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


def model_batch(N: int, S: int, T: int, vocab: int, seed: int) -> Any:
    """A host Batch of N full-length random rows: sources of S tokens, targets of T (EOS last)."""
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


def _over(r: dict, base: dict) -> dict[str, float]:
    return interval(numpy.divide(r["rerun_medians"], base["rerun_medians"]))


def _ratios(ops_rows: dict[tuple, dict], model_rows: dict[tuple, dict]) -> dict[str, list[dict]]:
    """Each score's time over dot's (additive's and concat's also over general's) in the same run,
    with a 95% t-interval over the reruns.

    A ratio within one run cancels what slows every score alike (a busy neighbour), so it varies
    less between runs than the times do; the interval says how much it still varies.
    """
    ops = []
    for (k, H, S), r in ops_rows.items():
        if k != "dot" and ("dot", H, S) in ops_rows:
            ops.append({"score": k, "H": H, "S": S, "over_dot": _over(r, ops_rows[("dot", H, S)])})
            if k in ("additive", "concat") and ("general", H, S) in ops_rows:
                ops[-1]["over_general"] = _over(r, ops_rows[("general", H, S)])
    model = [{"score": k, "S": S,
              "over_dot": interval(numpy.divide(r["rerun_medians"], model_rows[("dot", S)]["rerun_medians"]))}
             for (k, S), r in model_rows.items() if k != "dot" and ("dot", S) in model_rows]
    return {"ops": ops, "model": model}


def cost_verdict(result: dict[str, Any]) -> dict[str, Any]:
    """DESIGN's rule applied to a cost result: {"outcome", "text", "checks"}, one check per condition.

    Each check: {"value" (cache bytes over additive's) or "interval" (a time ratio), "condition", "passes"}.
    """
    checks = {}
    bytes_of = {(r["score"], r["H"], r["S"]): r["cache_bytes"] for r in result["ops"]}
    for x in result["ratios"]["ops"]:
        if x["score"] != "additive" or "over_general" not in x:
            continue
        cell = f"H={x['H']} S={x['S']}"
        for base in ("dot", "general"):
            kept = bytes_of[(base, x["H"], x["S"])] / bytes_of[("additive", x["H"], x["S"])]
            checks[f"memory: {base} over additive, {cell}"] = {"value": kept, "condition": "value < 1",
                                                              "passes": kept < 1}
            ratio = x[f"over_{base}"]
            checks[f"time: additive over {base}, {cell}"] = {"interval": ratio, "condition": "lo > 1",
                                                            "passes": ratio["lo"] > 1}
    failed = [name for name, c in checks.items() if not c["passes"]]
    if checks and not failed:
        return {"outcome": "holds", "text": f"all {len(checks)} conditions met", "checks": checks}
    return {"outcome": "criterion not met", "checks": checks,
            "text": f"{len(failed)} of {len(checks)} conditions not met: {', '.join(failed)}" if checks
            else "no cell has additive, dot and general: the rule cannot be applied"}


def run_cost(cfg: CostConfig, out: str | Path, command: str = "",
             log: Callable[[str], None] = log) -> dict[str, Any]:
    """Measure the score ops and whole training steps; write 10_cost.json (DESIGN first) and 10_cost.png."""
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig

    start = time.perf_counter()
    out = Path(out)
    make_out(out)  # the design goes into the file before anything is measured
    atomic_write_json(out / "10_cost.json", {"experiment": "cost", "command": command, "config": asdict(cfg),
                                             "design": DESIGN})
    ops_rows: dict[tuple, dict] = {}
    model_rows: dict[tuple, dict] = {}
    with use(cfg.backend), default_dtype("float32"), blas_threads(cfg.threads):
        from minatt.backend import get_xp

        xp = get_xp()
        for rerun in range(cfg.reruns):  # the first run fills the rows; every run adds its medians
            for H in cfg.sizes:
                for S in cfg.sources:
                    x = _score_inputs(cfg.N, S, cfg.T, H)
                    jobs = {k: (lambda k=k, x=x: _score_pass(k, x)) for k in cfg.scores}
                    times = _timed_round_robin(jobs, cfg.repeats, xp)
                    for k in cfg.scores:
                        if rerun == 0:
                            macs, floats = score_cost(k, cfg.N, S, cfg.T, H, H, H)
                            ops_rows[(k, H, S)] = {"score": k, "H": H, "S": S, "seconds": _quartiles(times[k]),
                                                   "cache_bytes": _score_pass(k, x)[0],
                                                   "formula_cache_bytes": 4 * floats, "formula_forward_macs": macs,
                                                   "rerun_medians": []}
                        ops_rows[(k, H, S)]["rerun_medians"].append(float(numpy.median(times[k])))
                    log(f"cost: run {rerun + 1}, ops H=A={H} S={S}: " + ", ".join(
                        f"{k} {1e3 * numpy.median(times[k]):.2f} ms" for k in cfg.scores))
            vocab = 16
            for S in cfg.sources:
                batch = model_batch(cfg.N, S, cfg.T, vocab, seed=S)
                models = {k: Seq2Seq(Seq2SeqConfig(src_vocab=vocab, tgt_vocab=vocab, embed=cfg.model_embed,
                                                   hidden=cfg.model_hidden, score=k), seed=0)
                          for k in cfg.model_scores}
                jobs = {k: (lambda m=m, b=batch: m.loss_and_grads(b)) for k, m in models.items()}
                times = _timed_round_robin(jobs, cfg.repeats, xp)
                for k, m in models.items():
                    if rerun == 0:
                        peak = _peak_bytes(jobs[k]) if xp is numpy else None
                        model_rows[(k, S)] = {"score": k, "S": S, "seconds": _quartiles(times[k]), "peak_bytes": peak,
                                              "params": m.num_params(), "rerun_medians": []}
                    model_rows[(k, S)]["rerun_medians"].append(float(numpy.median(times[k])))
                log(f"cost: run {rerun + 1}, model S={S}: " + ", ".join(
                    f"{k} {1e3 * numpy.median(times[k]):.1f} ms" for k in models))
    result = {"experiment": "cost", "command": command, "config": asdict(cfg), "design": DESIGN,
              "backend": cfg.backend, "seconds": round(time.perf_counter() - start, 1),
              "ops": list(ops_rows.values()), "model": list(model_rows.values()),
              "ratios": _ratios(ops_rows, model_rows)}
    result["verdict"] = cost_verdict(result)
    write_result(result, cost_figure(result), out, "10_cost")
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
    fig = figure(4.0 * cols, 7.4)
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
