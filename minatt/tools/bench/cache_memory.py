"""Memory of one training step: peak resident growth in a fresh process, and the bytes kept for backward.

:func:`measure_memory` runs :func:`memory_child` in a new Python process (so earlier steps and
the other library leave no trace in the peak) and reads its one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from minatt.tools.bench.timed_steps import MinattTrainer, make_batch, make_config, set_threads
from minatt.tools.runtime import tune_malloc

__all__ = ["cache_bytes", "measure_memory", "memory_child"]


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def memory_child(spec: dict) -> dict:
    """In a fresh process: peak RSS growth (MiB) over the first training step of one side."""
    args = argparse.Namespace(**spec["args"])
    tune_malloc()
    set_threads(args.threads)
    from minatt.backend import use

    batch = make_batch(args.batch, args.src_len, args.tgt_len, args.vocab)
    out: dict[str, Any] = {}
    if spec["side"] == "minatt":
        with use(args.backend):
            trainer = MinattTrainer(make_config(args), batch)
            base = _status_kib("VmRSS")
            trainer.step()
            out["rss_mib"] = (_status_kib("VmHWM") - base) / 1024
            import tracemalloc

            tracemalloc.start()
            trainer.step()
            out["traced_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            out["cache_mib"] = cache_bytes(trainer.model, batch) / 2**20
    else:
        from minatt.tools.torch_reference import TorchTrainer, build_twin, import_torch

        torch = import_torch()
        set_threads(args.threads, torch)
        device = "cuda" if args.backend == "cupy" and torch.cuda.is_available() else "cpu"
        trainer = TorchTrainer(build_twin(make_config(args), device=device), batch, device=device)
        base = _status_kib("VmRSS")
        trainer.step()
        out["rss_mib"] = (_status_kib("VmHWM") - base) / 1024
    return out


def cache_bytes(model: Any, batch: Any) -> int:
    """Bytes of the arrays a minatt forward keeps for its backward (parameters excluded).

    Walks the loss cache (NamedTuples, lists, dicts, and helper objects)
    and counts each underlying buffer once, views included in their base.
    """
    from minatt.model.nn import Module

    params = {id(_base(p)) for p in model.params.values()}
    seen: set[int] = set()
    total = 0
    stack = [model._forward(batch)[1]]
    while stack:
        obj = stack.pop()
        if hasattr(obj, "nbytes") and hasattr(obj, "dtype") and hasattr(obj, "shape"):
            base = _base(obj)
            if id(base) not in seen and id(base) not in params:
                seen.add(id(base))
                total += int(base.nbytes)
        elif isinstance(obj, (tuple, list)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif hasattr(obj, "__dict__") and not isinstance(obj, Module) and id(obj) not in seen:
            seen.add(id(obj))
            stack.extend(v for k, v in vars(obj).items() if k != "xp")
    return total


def _base(a: Any) -> Any:
    while getattr(a, "base", None) is not None:
        a = a.base
    return a


def measure_memory(args: argparse.Namespace, side: str) -> dict:
    """Run :func:`memory_child` for ``side`` ('minatt' or 'torch') in a fresh Python process."""
    spec = {"side": side, "args": {k: v for k, v in vars(args).items() if k != "func"}}
    code = ("import json, sys; from minatt.tools.bench.cache_memory import memory_child; "
            "print(json.dumps(memory_child(json.loads(sys.argv[1]))))")
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])
