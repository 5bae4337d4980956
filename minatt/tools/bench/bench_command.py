"""``python -m minatt bench``: time full training steps, against PyTorch if asked.

One step is what `python -m minatt train` does per batch: forward, loss, hand-written
backward, global-norm clipping (5.0), an Adam update. The bench builds a model of the given
size, a fixed random batch of full-length sequences (every position real), runs ``--warmup``
steps, then times ``--steps`` steps one by one and reports the median (and the spread).

    GFLOP/step   the analytic matrix-product count of :mod:`minatt.tools.flops` (forward + backward)
    GFLOP/s      GFLOP/step / median seconds
    % of peak    that over this machine's float32 matmul peak, measured here by
                 :func:`matmul_peak` (the best of several square float32 products)
    memory       the growth of peak resident memory (VmHWM) over the first training step of a
                 fresh process, after the model, optimiser and batch exist (``--memory``);
                 for NumPy also the exact peak of NumPy's own allocations (tracemalloc)

``--vs-torch`` builds the PyTorch twin (:mod:`minatt.tools.torch_reference`: same parameters,
same FLOPs, the same loss on the same weights), and times the two in the SAME process,
alternating blocks of ``--block`` steps with a ``--pause`` before each (see :func:`time_steps`),
so both see the same machine load; it prints the ratio of the medians (minatt / PyTorch:
below 1.0 minatt is faster).

Threads: ``--threads N`` sets NumPy's BLAS (through threadpoolctl, so on any build: OpenBLAS,
MKL, BLIS, Accelerate) and ``torch.set_num_threads`` to N (default: the BLAS's current count),
so the two libraries always use the same number of threads. The output names the BLAS and its
thread count as threadpoolctl reports them (``blas`` in ``--json``).
``--workers W`` splits minatt's batch over W processes (:mod:`minatt.train.parallel`, the same
gradient), each on N / W BLAS threads, so ``--threads 2 --workers 2`` gives both libraries
the same two cores.
On ``--backend cupy`` every timed step ends with a stream synchronisation (and PyTorch runs
on CUDA when it has it).
"""


from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from typing import Any

import numpy

from minatt.argtypes import (
    nonneg_float,
    positive_int,
    run_one_command,
    warn_if_more_than_cores,
    workers_count,
)
from minatt.tools.bench.cache_memory import measure_memory
from minatt.tools.bench.timed_steps import (
    MinattTrainer,
    make_batch,
    make_config,
    matmul_peak,
    set_threads,
    time_steps,
)
from minatt.tools.flops import step_flops
from minatt.tools.runtime import blas_info, describe_blas, get_blas_threads, tune_malloc

__all__ = ["add_arguments", "add_parser", "bench", "format_result", "main", "run"]


def bench(args: argparse.Namespace) -> dict:
    """Everything ``bench`` measures, as one dict (what ``--json`` prints)."""
    from minatt.backend import get_xp, use

    config = make_config(args)
    batch = make_batch(args.batch, args.src_len, args.tgt_len, args.vocab)
    torch = _torch(args)
    tune_malloc()  # process-wide, so the PyTorch twin runs with the same heap settings
    threads = set_threads(args.threads, torch)
    blas = blas_info()  # what threadpoolctl reports once --threads is set
    workers = args.workers
    if workers == "auto":
        from minatt.train.parallel import auto_workers

        workers = auto_workers(args.batch) if args.backend == "numpy" else 1
    warn_if_more_than_cores("--workers", workers)
    per_worker = max(1, (threads or 1) // workers)
    flops = step_flops(config, args.batch, args.src_len, args.tgt_len)
    result: dict[str, Any] = {
        "config": {k: getattr(args, k) for k in ("cell", "score", "decoder", "batch", "src_len", "tgt_len",
                                                    "embed", "hidden", "vocab", "attn_dim", "encoder", "layers",
                                                    "heads", "ff")},
        "backend": args.backend, "threads": threads, "blas": blas, "workers": workers,
        "worker_threads": per_worker if workers > 1 else threads, "steps": args.steps, "warmup": args.warmup,
        "block": args.block, "pause": args.pause,
        "gflop_per_step": flops / 1e9,
        "machine": f"{platform.machine()} {_cpu_name()}, {os.cpu_count()} cores",
        "versions": {"python": platform.python_version(), "numpy": numpy.__version__},
    }
    with use(args.backend):
        xp = get_xp()
        if xp.__name__ == "cupy":
            result["versions"]["cupy"] = xp.__version__
        result["peak_gflops"] = matmul_peak(xp, size=args.peak_size)
        trainer = MinattTrainer(config, batch, workers=workers, threads=per_worker)
        result["params"] = trainer.model.num_params()
        steps, syncs = {"minatt": trainer.step}, {"minatt": trainer.synchronize}
        if torch is not None:
            from minatt.tools.torch_reference import TorchTrainer, build_twin, trainable_count

            device = "cuda" if xp.__name__ == "cupy" and torch.cuda.is_available() else "cpu"
            twin = build_twin(config, device=device)
            result["versions"]["torch"] = torch.__version__
            result["torch_device"], result["torch_params"] = device, trainable_count(twin)
            tt = TorchTrainer(twin, batch, device=device)
            steps["torch"], syncs["torch"] = tt.step, tt.synchronize
        try:
            if workers > 1:
                set_threads(per_worker)  # minatt's own process is one of its workers; torch keeps its count
            times = time_steps(steps, syncs, args.steps, args.warmup, args.block, args.pause)
        finally:
            trainer.close()
    for name, ts in times.items():
        med = statistics.median(ts)
        result[name] = {"median_ms": 1e3 * med, "min_ms": 1e3 * min(ts),
                        "p90_ms": 1e3 * sorted(ts)[int(0.9 * (len(ts) - 1))],
                        "gflops": flops / med / 1e9, "peak_share": flops / med / 1e9 / result["peak_gflops"]}
    result["median_ms"] = result["minatt"]["median_ms"]
    if torch is not None:
        result["ratio"] = result["minatt"]["median_ms"] / result["torch"]["median_ms"]
    if args.memory:
        for name in times:
            result[name]["memory"] = measure_memory(args, name)
    return result


def _torch(args: argparse.Namespace) -> Any:
    """PyTorch when ``--vs-torch`` asks for it and it is installed; else None (and, asked for, a note saying how)."""
    if not args.vs_torch:
        return None
    try:
        import torch
    except ImportError:
        if not getattr(args, "_told", False):
            args._told = True
            print("minatt: note: PyTorch is not installed, so this times minatt alone; for the comparison: "
                  "pip install 'minatt[torch]'", file=sys.stderr)
        return None
    return torch


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _workers_note(r: dict) -> str:
    if r.get("workers", 1) == 1:
        return ""
    return f" (minatt: {r['workers']} worker processes x {r['worker_threads']} BLAS thread(s))"


def format_result(r: dict) -> str:
    """The table ``bench`` prints (without ``--json``)."""
    c = r["config"]
    encoder = c["cell"] if c.get("encoder", "rnn") == "rnn" else f"transformer ({c['layers']} layers, {c['heads']} heads)"
    lines = [
        (f"{encoder} + {c['score']} ({c['decoder']}), batch {c['batch']}, lengths {c['src_len']}/{c['tgt_len']}, "
        f"embed {c['embed']}, hidden {c['hidden']}, vocab {c['vocab']}: {r['params']:,} parameters"),
        (f"{r['backend']}, {describe_blas(r['blas'])}{_workers_note(r)}; {r['steps']} timed steps after {r['warmup']} warm-up; "
        f"{r['gflop_per_step']:.3f} GFLOP/step; float32 matmul peak {r['peak_gflops']:.0f} GFLOP/s"),
    ]
    for name in ("minatt", "torch"):
        if name in r:
            s = r[name]
            mem = s.get("memory", {})
            extra = ""
            if "rss_mib" in mem:
                extra = f", peak memory +{mem['rss_mib']:.1f} MiB"
                if "traced_mib" in mem:
                    extra += f" (numpy arrays {mem['traced_mib']:.1f} MiB, kept for backward {mem['cache_mib']:.1f})"
            lines.append(f"  {name:7s} median {s['median_ms']:8.2f} ms  (min {s['min_ms']:.2f}, p90 {s['p90_ms']:.2f})"
                         f"  {s['gflops']:6.1f} GFLOP/s  {100 * s['peak_share']:5.1f}% of peak{extra}")
    if "ratio" in r:
        lines.append(f"  minatt / torch = {r['ratio']:.3f}")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The bench's flags."""
    from minatt.model.seq2seq import CELLS, DECODERS, ENCODERS, SCORES

    p.add_argument("--cell", choices=CELLS, default="lstm", metavar="NAME",
                   help=f"recurrent cell: {', '.join(CELLS)} (default: lstm)")
    p.add_argument("--score", choices=SCORES, default="additive", metavar="NAME",
                   help=f"attention score: {', '.join(SCORES)} (default: additive)")
    p.add_argument("--decoder", choices=DECODERS, default="bahdanau", metavar="NAME",
                   help=f"decoder style: {', '.join(DECODERS)} (default: bahdanau)")
    p.add_argument("--encoder", choices=ENCODERS, default="rnn", metavar="NAME",
                   help=f"{', '.join(ENCODERS)}: the recurrent --cell, or Transformer layers (default: rnn)")
    for name, default, what in (("layers", 2, "Transformer encoder layers L"), ("heads", 4, "attention heads h"),
                                ("batch", 64, "batch size N"), ("src-len", 20, "source length S"),
                                ("tgt-len", 20, "target length T"), ("embed", 64, "embedding size"),
                                ("hidden", 128, "hidden size H"), ("vocab", 32, "vocabulary size V"),
                                ("steps", 30, "timed steps"), ("warmup", 3, "untimed warm-up steps")):
        p.add_argument(f"--{name}", type=positive_int, default=default, metavar="N", help=f"{what} (default: {default})")
    p.add_argument("--ff", type=positive_int, default=None, metavar="N",
                   help="Transformer feed-forward size F (default: 4 x --hidden)")
    p.add_argument("--attn-dim", type=positive_int, default=None, metavar="N",
                   help="attention size A (default: --hidden)")
    p.add_argument("--block", type=positive_int, default=5, metavar="N",
                   help="timed steps per turn when alternating with --vs-torch (default: 5)")
    p.add_argument("--pause", type=nonneg_float, default=0.25, metavar="SECONDS",
                   help="seconds to sleep before each turn, so idle BLAS/OpenMP threads park (default: 0.25)")
    p.add_argument("--peak-size", type=positive_int, default=2048, metavar="N",
                   help="side of the square float32 matmul that measures the peak (default: 2048)")
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy", metavar="NAME",
                   help="numpy, cupy (default: numpy)")
    p.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="BLAS threads for NumPy (any BLAS threadpoolctl supports) and torch alike "
                        "(default: the BLAS's current count)")
    p.add_argument("--workers", type=workers_count, default=1, metavar="N",
                   help="split minatt's batch over N processes (minatt.train.parallel), each on threads/N BLAS "
                        "threads; torch keeps --threads intra-op threads (default: 1, one process)")
    p.add_argument("--vs-torch", action="store_true", help="also time the PyTorch twin, alternating steps")
    p.add_argument("--memory", action="store_true",
                   help="measure peak memory per step (fresh processes, one process per library: --workers is ignored)")
    p.add_argument("--json", action="store_true", help="print one JSON line instead of the table")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``bench`` on an argparse subparsers object; dispatch with ``args.func(args)``."""
    parser = subparsers.add_parser(
        "bench", help="time training steps (optionally against PyTorch)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog="example: python -m minatt bench --cell lstm --score additive --vs-torch --threads 2",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the ``bench`` command; prints the table (or one JSON line) and returns 0.

    The thread counts it sets (the BLAS, torch) are restored afterwards.
    """
    previous = get_blas_threads()
    torch = _torch(args)
    torch_threads = None if torch is None else torch.get_num_threads()
    try:
        result = bench(args)
    finally:
        set_threads(previous)
        if torch is not None:
            torch.set_num_threads(torch_threads)
    print(json.dumps(result) if args.json else format_result(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m minatt.tools.bench ...``: the same as ``python -m minatt bench ...``."""
    return run_one_command(add_parser, "bench", argv)
