"""Claim 4: every score is a feed-forward network with one hidden layer and one output.

    N batch, S source steps, H query and key size, A hidden units.
    q (N, H), keys (N, S, H)  ->  scores (N, S)

    the network     e_s = v . act(q Wq + k_s Wk + b)            Wq (H, A), Wk (H, A), b (A,), v (A,)
    additive        act = tanh, b = 0: exactly Bahdanau's score
    dot, general    q Wa k_s = (1/4) sum_j [(u + k_s)_j^2 - (u - k_s)_j^2],  u = q Wa   (polarization)
                    so act = square, A = 2H, Wq = [Wa, Wa], Wk = [I, -I], b = 0, v = [1/4 ... -1/4 ...]
    with tanh       x^2 = [tanh(c + eps x) + tanh(c - eps x) - 2 tanh(c)] / (tanh''(c) eps^2) + O(eps^2):
                    A = 4H units with the bias c approximate the square network as closely as wanted

:func:`run_universal` checks the exact forms on real queries (decoder states) and keys (encoder
outputs) of a small trained dot-score model, measures the tanh construction's error against eps,
and fits tanh networks of several widths A to the model's own dot scores: a random hidden layer
(with or without a bias) and the best output weights v (least squares). That fit is an upper bound
on the error of the best tanh network of its width. Every error is measured after removing each
query's mean score (the softmax ignores it), relative to the target's size; the fit's on queries
it never saw, as a fraction of the target's variance.

    python -m minatt.experiments.universal --out lessons/figures    # writes 10_universal.json
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy

from minatt.argtypes import run_one_command
from minatt.experiments.common import make_out
from minatt.tools.checkpoint import atomic_write_json

__all__ = ["DESIGN", "UniversalConfig", "network", "quadratic_network", "random_feature_fit", "real_queries_and_keys",
           "run_universal", "tanh_network", "universal_verdict"]

DESIGN = {
    "claim": "Both the Bahdanau score function and the Luong score function can be implemented using a single "
             "feedforward neural network with a single output.",
    "owner": "source",
    "hypothesis": "Each score is a network with one hidden layer and one linear output unit: additive with tanh "
                  "and dot or general with the square activation exactly; dot and general with tanh approximately.",
    "comparison": "Each network's scores against the score op's on a trained model's queries and keys, largest "
                  "per-query-centred difference over the largest centred score; for tanh fits of width A, the "
                  "held-out residual variance over the target's variance.",
    "rule": "holds exactly for an activation if its network matches the op within 1e-12; approximately with tanh "
            "if the 4H-unit tanh construction is within 1e-3 at eps = 0.01 and the widest fit with a bias leaves "
            "under 5% of the held-out variance; otherwise criterion not met",
    "mde": {"value": None, "how": "not a comparison of means: a derivation, checked numerically"},
}


@dataclass
class UniversalConfig:
    """Settings of the claim-4 measurement (seconds on one core)."""

    task: str = "reverse"
    length: int = 6  # every source this long: no padding among the keys
    embed: int = 16
    hidden: int = 16
    train_steps: int = 300
    batch: int = 32
    lr: float = 0.01
    eps: tuple[float, ...] = (1.0, 0.1, 0.01, 0.001)
    widths: tuple[int, ...] = (8, 32, 128, 512)
    seed: int = 0


def network(q: Any, keys: Any, Wq: Any, Wk: Any, b: Any, v: Any, act: Any) -> Any:
    """e_s = v . act(q Wq + k_s Wk + b). q (M, H), keys (M, S, H) -> scores (M, S)."""
    return act((q @ Wq)[:, None, :] + keys @ Wk + b) @ v  # (M, S, A) hidden units -> (M, S)


def quadratic_network(Wa: Any) -> tuple[Any, Any, Any, Any]:
    """Wa (H, H) -> Wq, Wk (H, 2H), b, v (2H,): with act = square the network computes q Wa k exactly."""
    H = Wa.shape[0]
    eye = numpy.eye(H)
    return numpy.hstack([Wa, Wa]), numpy.hstack([eye, -eye]), numpy.zeros(2 * H), numpy.r_[[0.25] * H, [-0.25] * H]


def tanh_network(Wa: Any, eps: float, c: float = 0.5) -> tuple[Any, Any, Any, Any]:
    """Wa (H, H) -> Wq, Wk (H, 4H), b, v (4H,): with act = tanh, q Wa k + O(eps^2) (plus a constant per query).

    Each square x^2 of the quadratic network becomes [tanh(c + eps x) + tanh(c - eps x)] / (tanh''(c) eps^2);
    the -2 tanh(c) / (tanh''(c) eps^2) it leaves out is the same for every key, and cancels between
    the (u + k) and (u - k) halves anyway.
    """
    Wq, Wk, _, v = quadratic_network(Wa)  # (H, 2H), (H, 2H), (2H,)
    t = numpy.tanh(c)
    second = -2 * t * (1 - t**2)  # tanh''(c)
    return (eps * numpy.hstack([Wq, -Wq]), eps * numpy.hstack([Wk, -Wk]), numpy.full(2 * Wq.shape[1], c),
            numpy.r_[v, v] / (second * eps**2))


def real_queries_and_keys(cfg: UniversalConfig) -> dict[str, Any]:
    """Train a small dot-score model; its queries q (M, H) and keys (M, S, H) on fresh sources, float64,
    and each query's source row (M,). M = T N: every decoder step of a batch is one query against
    that row's S keys.
    """
    from minatt.backend import default_dtype, to_numpy, use
    from minatt.experiments.common import train_model
    from minatt.tasks import make_task
    from minatt.tools.runtime import blas_threads
    from minatt.train import TrainConfig

    train_cfg = TrainConfig(task=cfg.task, min_len=cfg.length, max_len=cfg.length, score="dot", embed=cfg.embed,
                            hidden=cfg.hidden, steps=cfg.train_steps, batch=cfg.batch, lr=cfg.lr, seed=cfg.seed,
                            target=None)
    with use("numpy"), default_dtype("float32"), blas_threads(1):
        task = make_task(cfg.task, min_len=cfg.length, max_len=cfg.length, seed=cfg.seed)
        model, losses, _ = train_model(train_cfg, task)
        batch = task.batch(numpy.random.default_rng([cfg.seed, 2]), 4 * cfg.batch)
        _, cache = model._forward(batch)
    steps = [step.attend.score for step in cache.decoder.steps]  # each step's DotCache(q, keys)
    q = numpy.concatenate([to_numpy(s.q) for s in steps]).astype(float)  # (T N, H)
    keys = numpy.concatenate([to_numpy(s.keys) for s in steps]).astype(float)  # (T N, S, H)
    rows = numpy.tile(numpy.arange(len(batch.src)), len(steps))  # (T N,) the source row of each query
    return {"q": q, "keys": keys, "rows": rows, "final_loss": float(numpy.mean(losses[-20:]))}


def _centred(scores: Any) -> Any:
    return scores - scores.mean(axis=1, keepdims=True)  # (M, S): what the softmax sees


def _error(scores: Any, target: Any) -> float:
    """Largest per-query-centred difference over the largest centred target."""
    return float(numpy.abs(_centred(scores) - _centred(target)).max() / numpy.abs(_centred(target)).max())


def random_feature_fit(q: Any, keys: Any, target: Any, fit: Any, width: int, bias: bool, seed: int) -> float:
    """A random tanh hidden layer of ``width`` units and its best v on the queries where ``fit`` (M,) is True;
    the error on the others: residual variance over target variance (per-query-centred)."""
    rng = numpy.random.default_rng([seed, width, bias])
    H = q.shape[1]
    Wq, Wk = rng.normal(size=(H, width)) / H**0.5, rng.normal(size=(H, width)) / H**0.5
    b = rng.normal(size=width) if bias else numpy.zeros(width)
    hidden = numpy.tanh((q @ Wq)[:, None, :] + keys @ Wk + b)  # (M, S, A)
    hidden = hidden - hidden.mean(axis=1, keepdims=True)  # centred like the target
    y = _centred(target)
    v = numpy.linalg.lstsq(hidden[fit].reshape(-1, width), y[fit].reshape(-1), rcond=None)[0]  # (A,)
    residual = hidden[~fit] @ v - y[~fit]
    return float(numpy.mean(residual**2) / numpy.mean(y[~fit] ** 2))


def universal_verdict(result: dict[str, Any]) -> dict[str, Any]:
    """DESIGN's rule applied to a result: {"outcome", "text", "checks"}."""
    res = result["results"]
    at = res["eps"].index(0.01)
    checks = {
        "additive = network with tanh, b = 0": (res["additive_error"], 1e-12),
        "dot, general = network with square, A = 2H": (res["quadratic_error"], 1e-12),
        "dot, general ~ network with tanh, A = 4H, eps = 0.01": (res["tanh_construction_error"][at], 1e-3),
        f"dot ~ fitted tanh network, A = {res['widths'][-1]}, with bias": (res["fit_error"]["bias"][-1], 0.05)}
    checks = {k: {"value": x, "passes": x < bound, "condition": f"value < {bound:g}"} for k, (x, bound) in checks.items()}
    failed = [name for name, c in checks.items() if not c["passes"]]
    return {"outcome": "criterion not met" if failed else "holds", "checks": checks,
            "text": "not met: " + "; ".join(failed) if failed else "every condition met"}


def run_universal(cfg: UniversalConfig, out: str | Path, command: str = "") -> dict[str, Any]:
    """Check the exact forms, the tanh construction and the fits; write ``out/10_universal.json``."""
    from minatt.ops.scores import additive_score_forward, dot_score_forward, general_score_forward

    start = time.perf_counter()
    out = Path(out)
    make_out(out)
    head = {"experiment": "universal", "command": command, "config": asdict(cfg), "design": DESIGN}
    atomic_write_json(out / "10_universal.json", head)  # the design, before anything runs
    real = real_queries_and_keys(cfg)
    q, keys = real["q"], real["keys"]  # (M, H), (M, S, H)
    rng = numpy.random.default_rng(cfg.seed)
    H = q.shape[1]
    Wa = rng.normal(size=(H, H)) / H**0.5
    general = general_score_forward(q, keys, Wa)[0]  # (keys Wa^T) . q = q Wa k
    quadratic = network(q, keys, *quadratic_network(Wa), numpy.square)
    Wq, Wk, v = rng.normal(size=(H, 8)), rng.normal(size=(H, 8)), rng.normal(size=8)
    additive = additive_score_forward(q, keys, Wq, Wk, v)[0]
    dot = dot_score_forward(q, keys)[0]
    fit = real["rows"] % 2 == 0  # fit on the queries of even source rows, measure on the odd ones
    results = {"queries": int(len(q)), "keys_per_query": int(keys.shape[1]), "H": H,
               "final_loss": round(real["final_loss"], 4),
               "additive_error": _error(network(q, keys, Wq, Wk, numpy.zeros(8), v, numpy.tanh), additive),
               "quadratic_error": _error(quadratic, general), "eps": list(cfg.eps),
               "tanh_construction_error": [_error(network(q, keys, *tanh_network(Wa, e), numpy.tanh), general)
                                           for e in cfg.eps],
               "widths": list(cfg.widths),
               "fit_error": {kind: [round(random_feature_fit(q, keys, dot, fit, A, kind == "bias", cfg.seed), 6)
                                    for A in cfg.widths] for kind in ("bias", "no_bias")}}
    result = {**head, "seconds": round(time.perf_counter() - start, 1), "results": results}
    result["verdict"] = universal_verdict(result)
    atomic_write_json(out / "10_universal.json", result)
    return result


def _add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("universal", help="claim 4: scores as one-hidden-layer networks")
    parser.add_argument("--out", metavar="DIR", default="runs/experiment",
                        help="where 10_universal.json goes (default: runs/experiment; chapter 10's: lessons/figures)")
    parser.set_defaults(func=lambda args: _run(args))
    return parser


def _run(args: argparse.Namespace) -> int:
    r = run_universal(UniversalConfig(), args.out, f"python -m minatt.experiments.universal --out {args.out}")
    print(f"minatt: universal done in {r['seconds']:.0f} s: {Path(args.out) / '10_universal.json'}: "
          f"{r['verdict']['outcome']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m minatt.experiments.universal [--out DIR]``."""
    return run_one_command(_add_parser, "universal", argv)


if __name__ == "__main__":
    raise SystemExit(main())
