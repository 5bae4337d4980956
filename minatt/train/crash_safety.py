"""What wraps the training loop: Ctrl-C, the checkpoints a stop leaves, and a final evaluation cut short.

:meth:`minatt.train.loop.Trainer.fit` is the loop, on one screen; :func:`run_safely` (what
:meth:`~minatt.train.loop.Trainer.run` calls) runs it so that no way of stopping loses work:

- a first Ctrl-C (SIGINT) asks the loop to stop after its current step; the state is saved and the
  run returns with status "interrupted";
- a second Ctrl-C stops at once, anywhere in a step; the state is saved only if it is one a straight
  run passes through (the optimizer took exactly ``step`` updates), else the last checkpoint stays;
- a batch drawn for a step that never ran is given back, so ``--resume`` draws it again;
- a Ctrl-C during the final evaluation leaves a metrics.json that says so, and ``--resume`` redoes it;
- ``until`` (for tests) stops like a Ctrl-C, with status "paused".

``trainer`` below is a :class:`minatt.train.loop.Trainer` (not imported here: the loop imports this).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy

from minatt.errors import CheckpointError, ConfigError
from minatt.tools import checkpoint as ckpt
from minatt.train.interrupt import SigintFlag
from minatt.train.parallel import DataParallel
from minatt.train.report import Reporter

__all__ = ["TrainResult", "run_safely"]


@dataclass
class TrainResult:
    """How a run ended: ``status`` is "target reached", "done" (all steps), "interrupted" (Ctrl-C)
    or "paused" (``until`` reached); ``step`` is the step of the checkpoint on disk."""

    status: str
    step: int
    run_dir: Path
    seconds: float
    metrics: dict = field(repr=False, default_factory=dict)

    @property
    def interrupted(self) -> bool:
        """True if a Ctrl-C stopped the run (a checkpoint was saved when it was safe to)."""
        return self.status == "interrupted"


def run_safely(trainer: Any, progress: str = "bar", until: int | None = None,
               log: Callable[[str], None] | None = None, on_step: Callable[[Any], None] | None = None,
               workers: int = 1) -> TrainResult:
    """:meth:`minatt.train.loop.Trainer.run`: the loop inside everything that keeps a stop safe."""
    cfg = trainer.config
    ended = _unfinished(trainer)
    if ended is not None and (trainer.step >= cfg.steps or ended == "target reached"):
        return _finish(trainer, ended, Reporter(progress, cfg.steps, trainer.step, log))  # redo what a Ctrl-C cut
    if trainer.step >= cfg.steps:
        raise ConfigError(
            f"{trainer.run_dir} has already trained {trainer.step} of steps={cfg.steps}: pass a larger --steps to go on"
        )
    end = cfg.steps if until is None else min(until, cfg.steps)
    report = Reporter(progress, cfg.steps, trainer.step, log)
    trainer.restart_clock()
    try:  # (non-finite values are caught by read_losses, so NumPy need not warn of them)
        with _split(trainer, workers), SigintFlag() as stop, numpy.errstate(all="ignore"):
            status = trainer.fit(end, report, stop, on_step)
    except KeyboardInterrupt:  # a second Ctrl-C, anywhere in a step
        status = "interrupted"
    finally:
        report.close()
        trainer.tick()
    if status in ("interrupted", "paused"):
        return _stop(trainer, status)
    return _finish(trainer, status, report)


@contextlib.contextmanager
def _split(trainer: Any, workers: int) -> Iterator[None]:
    """With ``workers`` > 1, compute the gradients over that many processes while the block runs."""
    if workers == 1:
        yield
        return
    with DataParallel(trainer.model, workers) as parallel:
        trainer.gradients = parallel
        try:
            yield
        finally:
            trainer.gradients = trainer.model


def _stop(trainer: Any, status: str) -> TrainResult:
    """After a Ctrl-C or ``until``: save the state if a straight run passes through it; write metrics.json."""
    trainer.read_losses()
    if trainer.optimizer.t == trainer.step:  # (else an update was cut halfway: keep the last checkpoint)
        if trainer.batches.drawn > trainer.step:  # a batch drawn for a step never taken: give it back
            trainer.batches.give_back()
        trainer.save_checkpoint()
    metrics = trainer.metrics(status)
    ckpt.atomic_write_json(trainer.paths["metrics"], metrics)
    return TrainResult(status, trainer.checkpoint_step or 0, trainer.run_dir, trainer.seconds, metrics)


def _finish(trainer: Any, status: str, report: Reporter) -> TrainResult:
    """``trainer.finish``; a Ctrl-C during it leaves a metrics.json that says so, and ``--resume`` redoes it."""
    try:
        metrics = trainer.finish(status, report.evaluation)
    except KeyboardInterrupt:
        report.close()
        metrics = {**trainer.metrics("interrupted"), "final_evaluation": "interrupted", "ended": status}
        ckpt.atomic_write_json(trainer.paths["metrics"], metrics)
        return TrainResult("interrupted", trainer.step, trainer.run_dir, trainer.seconds, metrics)
    report.close()
    return TrainResult(status, trainer.step, trainer.run_dir, trainer.seconds, metrics)


def _unfinished(trainer: Any) -> str | None:
    """How the run ended, when it ended but its final evaluation never completed (Ctrl-C, kill); else None."""
    try:
        doc = ckpt.read_json(trainer.paths["metrics"], "metrics")
    except CheckpointError:
        doc = None
    if isinstance(doc, dict) and doc.get("final_evaluation") == "interrupted":
        return str(doc.get("ended", "done"))
    if trainer.step >= trainer.config.steps and not (isinstance(doc, dict) and "test" in doc):
        return "done"
    return None
