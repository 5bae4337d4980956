"""Start a training run, or continue one: :func:`train` and :func:`resume` build a :class:`Trainer` and run it.

Both select the run's backend, default dtype and BLAS threads for the duration (see
:func:`minatt.tools.runtime.blas_threads`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from minatt.backend import default_dtype, use
from minatt.tools.runtime import blas_threads
from minatt.train.config import TrainConfig
from minatt.train.loop import Trainer, TrainResult
from minatt.train.rundir import default_run_dir, read_run_config

__all__ = ["resume", "train"]


def train(
    config: TrainConfig,
    run_dir: str | Path | None = None,
    progress: str = "none",
    until: int | None = None,
    log: Callable[[str], None] | None = None,
    on_step: Callable[[Trainer], None] | None = None,
    threads: int | None = 1,
    workers: int = 1,
) -> TrainResult:
    """Train a new run described by ``config`` into ``run_dir`` (default: :func:`default_run_dir`).

    Selects ``config.backend``, ``config.dtype`` and ``threads`` BLAS threads (see :func:`blas_threads`)
    for the duration. See :meth:`Trainer.run` (``workers`` too).
    """
    config.validate()
    run_dir = default_run_dir(config.task) if run_dir is None else Path(run_dir)
    with use(config.backend), default_dtype(config.dtype), blas_threads(threads):
        trainer = Trainer.create(config, run_dir)
        return trainer.run(progress=progress, until=until, log=log, on_step=on_step, workers=workers)


def resume(
    run_dir: str | Path,
    progress: str = "none",
    until: int | None = None,
    log: Callable[[str], None] | None = None,
    on_step: Callable[[Trainer], None] | None = None,
    threads: int | None = 1,
    workers: int = 1,
    **overrides: Any,
) -> TrainResult:
    """Continue the run in ``run_dir`` from its checkpoint (``overrides``: see :data:`RESUMABLE`)."""
    config, _ = read_run_config(run_dir)
    backend = overrides.get("backend", config.backend)
    with use(backend), default_dtype(config.dtype), blas_threads(threads):
        trainer = Trainer.open(run_dir, **overrides)
        return trainer.run(progress=progress, until=until, log=log, on_step=on_step, workers=workers)
