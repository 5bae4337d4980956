"""Where a GPU training step's time goes: each fused op against its per-equation reference, the step's
phases (forward, backward, clipping, Adam), and what one queued launch of each kind costs. One JSON line;
part of minatt/tools/bench/gpu_check.sh.

    python -m minatt.tools.bench.gpu_phases [--backend cupy] [--repeats 200]

Every op and phase time is the median of ``repeats`` calls, each ended by a stream synchronisation, in
microseconds (ops) or milliseconds (phases). A launch cost is the other view: ``repeats`` calls queued back
to back, one synchronisation at the end, the total divided by ``repeats`` (what a launch-bound step pays
per launch). Sizes: the small step (N=64, H=128, E=64, S=T=20, LSTM + additive).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy

from minatt import backend
from minatt.backend import synchronize


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """The median wall time of ``fn()``, each call ended by a device synchronisation (after one warm-up)."""
    fn()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def op_times(xp: Any, repeats: int, N: int = 64, H: int = 128, S: int = 20) -> dict[str, dict[str, float]]:
    """Each fused op and its reference, microseconds per call: {op: {"fused": us, "reference": us}}."""
    from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward
    from minatt.ops.lstm import lstm_cell_backward, lstm_cell_forward
    from minatt.ops.scores import (
        additive_score_projected_forward,
        tanh_of_scores_backward,
    )
    from minatt.ops.softmax import softmax_backward, softmax_forward

    rng = numpy.random.default_rng(0)

    def draw(*shape: int) -> Any:
        return xp.asarray(rng.standard_normal(shape), dtype=xp.float32)

    a, c, dh, scores, dp, kproj, q, Wq, v = (draw(*s) for s in ((N, 4 * H), (N, H), (N, H), (N, S), (N, S),
                                                              (N, S, H), (N, H), (H, H), (H,)))
    mask = xp.asarray(rng.random((N, S)) < 0.9)
    logits, targets = draw(S, N, 32), xp.asarray(rng.integers(0, 32, (S, N)))
    cell = lstm_cell_forward(a, c)[2]
    t = additive_score_projected_forward(q, kproj, Wq, v)[1].t
    ops = {
        "lstm_cell fwd+bwd": lambda: lstm_cell_backward(dh, c, lstm_cell_forward(a, c)[2]),
        "lstm_cell bwd": lambda: lstm_cell_backward(dh, c, cell),
        "additive score fwd": lambda: additive_score_projected_forward(q, kproj, Wq, v),
        "tanh_of_scores_backward": lambda: tanh_of_scores_backward(scores, v, t),
        "masked softmax fwd+bwd": lambda: softmax_backward(dp, softmax_forward(scores, mask)[1]),
        "cross_entropy fwd+bwd": lambda: cross_entropy_backward(cross_entropy_forward(logits, targets, 0)[1]),
    }
    fused_type, result = backend._fused_type, {}
    try:
        for name, fn in ops.items():
            backend._fused_type = fused_type
            fused_us = 1e6 * median_seconds(fn, repeats)
            backend._fused_type = None
            result[name] = {"fused": fused_us, "reference": 1e6 * median_seconds(fn, repeats)}
    finally:
        backend._fused_type = fused_type
    return result


def launch_costs(xp: Any, repeats: int, N: int = 64, H: int = 128) -> dict[str, float]:
    """Microseconds per call of each kind of launch a step makes, queued back to back (see the docstring)."""
    rng = numpy.random.default_rng(1)
    a, b = (xp.asarray(rng.standard_normal((N, H)), dtype=xp.float32) for _ in range(2))
    W = xp.asarray(rng.standard_normal((H, 4 * H)), dtype=xp.float32)
    out = xp.empty((N, 2 * H), dtype=xp.float32)

    def copy_into_slice() -> None:
        out[:, :H] = a

    kinds: dict[str, Callable[[], Any]] = {
        "elementwise a + b": lambda: a + b,
        "tanh(a)": lambda: xp.tanh(a),
        "product a @ W": lambda: xp.matmul(a, W),
        "sum over an axis": lambda: a.sum(axis=0),
        "concatenate [a, b]": lambda: xp.concatenate([a, b], axis=1),
        "copy into a slice": copy_into_slice,
    }
    result = {}
    for name, fn in kinds.items():
        fn()
        synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        synchronize()
        result[name] = 1e6 * (time.perf_counter() - start) / repeats
    return result


def step_phases(repeats: int) -> dict[str, float]:
    """The small step's phases, milliseconds: forward (to the loss), backward, clip, Adam, and all four."""
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
    from minatt.optim import Adam, clip_grad_norm
    from minatt.tools.bench.timed_steps import make_batch
    from minatt.validate import unchecked

    model = Seq2Seq(Seq2SeqConfig(32, 32, embed=64, hidden=128), seed=0)
    opt = Adam(model.params, lr=1e-3)
    batch = make_batch(64, 20, 20, 32)
    with unchecked():
        forward = median_seconds(lambda: model.loss(batch), repeats)
        whole = median_seconds(lambda: model.loss_and_grads(batch), repeats)
        grads = model.loss_and_grads(batch)[1]
        clip = median_seconds(lambda: clip_grad_norm(grads, 5.0), repeats)
        adam = median_seconds(lambda: opt.step(grads), repeats)
    return {"forward": 1e3 * forward, "backward": 1e3 * (whole - forward), "clip": 1e3 * clip, "adam": 1e3 * adam,
            "step": 1e3 * (whole + clip + adam)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m minatt.tools.bench.gpu_phases", description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=("numpy", "cupy"), default="cupy")
    p.add_argument("--repeats", type=int, default=200)
    args = p.parse_args(argv)
    with backend.use(args.backend):
        xp = backend.get_xp()
        result = {"backend": args.backend, "fused_available": backend._fused_type is not None,
                  "ops_us": op_times(xp, args.repeats), "phases_ms": step_phases(max(5, args.repeats // 20)),
                  "launch_us": launch_costs(xp, 10 * args.repeats)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
