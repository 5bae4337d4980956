"""The memory a training step needs, estimated before a run starts, against the memory that is free.

A step's memory grows with the batch and, through the attention caches, with the product of the
target and source lengths (for each of T decoder steps the additive score keeps an (N, S, A)
array), so a long ``--max-len`` can need gigabytes. :func:`step_bytes` measures one forward and
backward pass on a 2-row batch of the longest training sources with :mod:`tracemalloc` (NumPy
reports its arrays to it) and scales it to the batch; :func:`memory_warning` compares that with
:func:`available_bytes`. The final evaluation is split into chunks (see
:data:`minatt.train.evaluation.EVAL_CHUNK`), so it stays below a training step of the same lengths.
"""

from __future__ import annotations

import os
import tracemalloc
from typing import Any

from minatt.backend import current

__all__ = ["PROBE_ROWS", "available_bytes", "memory_warning", "step_bytes"]

PROBE_ROWS = 2


def step_bytes(trainer: Any) -> int:
    """Estimated peak bytes of one training step of ``trainer`` (NumPy), from a :data:`PROBE_ROWS`-row step."""
    cfg, task = trainer.config, trainer.task
    lengths = {} if not task.uses_lengths else {"min_len": task.max_len, "max_len": task.max_len}
    probe = task.batch(cfg.seed, PROBE_ROWS, **lengths)   # its own generator: the run's data stream is untouched
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        trainer.model.loss_and_grads(probe)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()
    return peak * cfg.batch // PROBE_ROWS


def available_bytes() -> int | None:
    """Memory the system can give without swapping (Linux MemAvailable; else free pages), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def memory_warning(trainer: Any) -> str | None:
    """One line when a step of ``trainer`` is estimated to need more memory than is free; else None (and on CuPy)."""
    if current() != "numpy":
        return None
    free = available_bytes()
    if free is None:
        return None
    need = step_bytes(trainer)
    if need <= free:
        return None
    cfg = trainer.config
    return (f"a training step needs about {need / 2**30:.1f} GiB (batch {cfg.batch}, sources up to "
            f"{trainer.task.longest_source} tokens), more than the {free / 2**30:.1f} GiB of memory free: "
            "expect swapping or a kill; a smaller --batch or --max-len needs less")
