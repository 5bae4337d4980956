"""The training loop: :class:`Trainer` owns one run, :func:`train` starts one, :func:`resume` continues one.

One run, step by step (``step`` counts finished updates, from 0):

    batch  = task.batch(data_rng, batch)               a fresh random batch (host NumPy)
    loss, grads = model.loss_and_grads(batch)           hand-written backward pass
    norm   = clip_grad_norm(grads, clip)                global norm before clipping
    if loss or norm is NaN/inf:  raise TrainingDiverged  (the last checkpoint is left intact)
    optimizer.step(grads, lr=schedule(step))            Adam or SGD, in place
    every eval_every steps: held-out accuracy, checkpoint, stop once accuracy >= target

A Ctrl-C (SIGINT) stops the loop after the current step, saves a checkpoint and returns with
``status == "interrupted"``; a second Ctrl-C stops at once. The package docstring
(:mod:`minatt.train`) describes stopping, resuming and the BLAS threads.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy

from minatt import checkpoint as ckpt
from minatt.backend import default_dtype, use
from minatt.errors import CheckpointError, ConfigError, TrainingDiverged
from minatt.parallel import DataParallel
from minatt.runtime import blas_threads
from minatt.tasks import collate
from minatt.train.config import (
    CONFIG_FORMAT,
    TrainConfig,
    build_model,
    build_optimizer,
    build_schedule,
    build_task,
    resume_changes,
)
from minatt.train.evaluation import evaluate, final_metrics
from minatt.train.interrupt import SigintFlag
from minatt.train.prediction import attention_title, decode
from minatt.train.report import Reporter
from minatt.train.rundir import default_run_dir, load_params, read_run_config

__all__ = ["TrainResult", "Trainer", "resume", "train"]


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


class Trainer:
    """Owns one run: its config, task, model, optimiser, data generator, history and files.

    Build it with :meth:`create` (a new run directory) or :meth:`open` (resume one), then
    :meth:`run`. The backend and default dtype must already be selected when it is built
    (:func:`train` and :func:`resume` do that).
    """

    def __init__(self, config: TrainConfig, run_dir: str | Path) -> None:
        self.config = config.validate()
        self.run_dir = Path(run_dir)
        self.paths = ckpt.run_paths(self.run_dir)
        self.task = build_task(config)
        self.model = build_model(config, self.task)
        self.optimizer = build_optimizer(config, self.model.params)
        self.schedule = build_schedule(config)
        self.data_rng = numpy.random.default_rng([config.seed, 1])
        self.step = 0
        self.seconds = 0.0
        self.loss_history: list[float] = []
        self.eval_history: dict[str, list] = {"step": [], "loss": [], "token_accuracy": [], "sequence_accuracy": []}
        self.checkpoint_step: int | None = None
        self.gradients = DataParallel(self.model, workers=1)  # the model's own loss_and_grads; run() may split it
        try:
            self.eval_set = self.task.test_set(config.test_size, seed=config.seed + 1)
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(f"cannot draw a held-out set for {config.task}: {exc}") from None

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def create(cls, config: TrainConfig, run_dir: str | Path) -> Trainer:
        """A new run in ``run_dir`` (must not already hold a run): writes config.json and a step-0 checkpoint."""
        run_dir = Path(run_dir)
        if ckpt.is_run_dir(run_dir) or ckpt.run_paths(run_dir)["config"].exists():
            raise ConfigError(
                f"{run_dir} already holds a run: continue it with --resume {run_dir}, or choose another --out"
            )
        if run_dir.exists() and not run_dir.is_dir():
            raise ConfigError(f"--out {run_dir} is a file, not a directory")
        trainer = cls(config, run_dir)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create run directory {run_dir}: {exc.strerror or exc}") from None
        ckpt.atomic_write_json(trainer.paths["config"], trainer.config_document())
        trainer.save_checkpoint()
        return trainer

    @classmethod
    def open(cls, run_dir: str | Path, **overrides: Any) -> Trainer:
        """Reopen the run in ``run_dir`` at its checkpoint; ``overrides`` may change only :data:`RESUMABLE` settings
        (a fixed setting given with the run's own value is accepted: see :func:`resume_changes`)."""
        config, _ = read_run_config(run_dir)
        overrides = resume_changes(config, overrides)  # (settings equal to the run's own are no change)
        config = config.replace(**overrides)
        trainer = cls(config, run_dir)
        trainer.load_checkpoint()
        if overrides:
            ckpt.atomic_write_json(trainer.paths["config"], trainer.config_document())
        return trainer

    def config_document(self) -> dict[str, Any]:
        """What config.json holds: the training config and the model config."""
        return {"format": CONFIG_FORMAT, "version": 1, "train": self.config.to_dict(),
                "model": self.model.config.to_dict()}

    # -- checkpoints ------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        """Write the complete state (atomically) to checkpoint.npz."""
        self._tick()
        meta = {
            "step": self.step,
            "seconds": self.seconds,
            "data_rng": self.data_rng.bit_generator.state,
            "loss_history": self.loss_history,
            "eval_history": self.eval_history,
            "model": self.model.config.to_dict(),
        }
        ckpt.save_checkpoint(self.paths["checkpoint"], self.model.params, self.optimizer.state_dict(), meta)
        self.checkpoint_step = self.step

    def load_checkpoint(self) -> None:
        """Restore the state from checkpoint.npz, checking it against the config."""
        path = self.paths["checkpoint"]
        params, optim, meta = ckpt.load_checkpoint(path)
        load_params(self.model, params, meta, path)  # (on an error below, the half-loaded trainer is discarded)
        ckpt.check_arrays(optim, ckpt.spec_of(self.optimizer.state_dict()), "optimizer state", str(path))
        self.optimizer.load_state_dict(optim)
        try:
            self.step = int(meta["step"])
            self.seconds = float(meta.get("seconds", 0.0))
            self.data_rng.bit_generator.state = meta["data_rng"]
            self.loss_history = [float(v) for v in meta.get("loss_history", [])]
            self.eval_history = {k: list(v) for k, v in meta["eval_history"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path} has incomplete training state ({exc!r}): train a new run") from None
        self.checkpoint_step = self.step

    # -- the loop ---------------------------------------------------------------------------
    def run(
        self,
        progress: str = "bar",
        until: int | None = None,
        log: Callable[[str], None] | None = None,
        on_step: Callable[[Trainer], None] | None = None,
        workers: int = 1,
    ) -> TrainResult:
        """Train until ``steps`` (or ``until``, for tests), the target, or a Ctrl-C; then write the run files.

        Args:
            progress: "bar" (a tqdm bar on stderr), "log" (plain lines at each evaluation) or "none".
            until: stop (as if interrupted, but with status "paused") after this step.
            log: where "log" lines go (default: print to stdout).
            on_step: called after every step (a hook for tests).
            workers: split every batch over this many processes (:class:`minatt.parallel.DataParallel`,
                NumPy only). The gradients equal the one-process ones up to float rounding, so a
                run is reproducible for a fixed worker count. A script that passes workers > 1
                needs an ``if __name__ == "__main__":`` guard (the workers are spawned).
        Raises:
            TrainingDiverged: the loss or gradient norm became NaN/inf; checkpoint.npz keeps the last
                good state and metrics.json says where it stopped.
        """
        cfg = self.config
        ended = self._unfinished()
        if ended is not None and (self.step >= cfg.steps or ended == "target reached"):
            return self._finish(ended, Reporter(progress, cfg.steps, self.step, log))  # redo what a Ctrl-C cut
        if self.step >= cfg.steps:
            raise ConfigError(
                f"{self.run_dir} has already trained {self.step} of steps={cfg.steps}: pass a larger --steps to go on"
            )
        end = cfg.steps if until is None else min(until, cfg.steps)
        report = Reporter(progress, cfg.steps, self.step, log)
        status, self._phase = "done", "idle"
        self._clock = time.perf_counter()
        if workers > 1:
            self.gradients = DataParallel(self.model, workers)
        stop = SigintFlag()
        stop.install()
        try:
            while self.step < end:
                if stop.requested:
                    status = "interrupted"
                    break
                loss = self.train_step(report)
                report.step(loss)
                if self.step % cfg.eval_every == 0 or self.step == cfg.steps:
                    scores = self._evaluate()
                    self.save_checkpoint()
                    report.evaluated(self.step, scores)
                    if self._target_reached():
                        status = "target reached"
                        break
                if on_step is not None:
                    on_step(self)
            else:
                if self.step < cfg.steps:
                    status = "paused"
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            stop.restore()
            report.close()
            self.gradients.close()  # stops the worker processes, if any
            self.gradients = DataParallel(self.model, workers=1)
            self._tick()
        if status in ("interrupted", "paused"):
            if self._phase == "computing":  # stopped before the update: un-draw the batch, then save
                self.data_rng.bit_generator.state = self._rng_before
                self._phase = "idle"
            if self._phase == "idle":  # (mid-update the state is half new: keep the last checkpoint)
                self.save_checkpoint()
            metrics = self.metrics(status)
            ckpt.atomic_write_json(self.paths["metrics"], metrics)
            return TrainResult(status, self.checkpoint_step or 0, self.run_dir, self.seconds, metrics)
        if self.checkpoint_step != self.step:
            self.save_checkpoint()
        return self._finish(status, report)

    def _finish(self, status: str, report: Reporter) -> TrainResult:
        """:meth:`finish`; a Ctrl-C during it leaves a metrics.json that says so, and ``--resume`` redoes it."""
        try:
            metrics = self.finish(status, report.evaluation)
        except KeyboardInterrupt:
            report.close()
            metrics = {**self.metrics("interrupted"), "final_evaluation": "interrupted", "ended": status}
            ckpt.atomic_write_json(self.paths["metrics"], metrics)
            return TrainResult("interrupted", self.step, self.run_dir, self.seconds, metrics)
        report.close()
        return TrainResult(status, self.step, self.run_dir, self.seconds, metrics)

    def _unfinished(self) -> str | None:
        """How the run ended, when it ended but its final evaluation never completed (Ctrl-C, kill); else None."""
        try:
            doc = ckpt.read_json(self.paths["metrics"], "metrics")
        except CheckpointError:
            doc = None
        if isinstance(doc, dict) and doc.get("final_evaluation") == "interrupted":
            return str(doc.get("ended", "done"))
        if self.step >= self.config.steps and not (isinstance(doc, dict) and "test" in doc):
            return "done"
        return None

    def train_step(self, report: Any = None) -> float:
        """One update on a fresh batch; returns its loss. Raises :class:`TrainingDiverged` on NaN/inf."""
        from minatt.optim import clip_grad_norm

        cfg = self.config
        self._phase, self._rng_before = "computing", self.data_rng.bit_generator.state
        batch = self.task.batch(self.data_rng, cfg.batch)
        with numpy.errstate(over="ignore", invalid="ignore", divide="ignore"):  # non-finite values are caught below
            loss, grads = self.gradients.loss_and_grads(batch)  # over --workers processes, or this one
            norm = clip_grad_norm(grads, cfg.clip if cfg.clip > 0 else None)
        if not (math.isfinite(loss) and math.isfinite(norm)):
            if report is not None:
                report.close()
            self._diverged(loss, norm)
        self._phase = "updating"  # params, optimiser state and step change together below
        self.optimizer.step(grads, lr=self.schedule(self.step))
        self.step += 1
        self.loss_history.append(float(loss))
        self._phase = "idle"
        return float(loss)

    def _tick(self) -> None:
        """Add the wall time since the last tick to ``seconds``."""
        now = time.perf_counter()
        self.seconds += now - getattr(self, "_clock", now)
        self._clock = now

    def _target_reached(self) -> bool:
        """True when the last ``patience`` evaluations all reached the target sequence accuracy."""
        target, k = self.config.target, self.config.patience
        recent = self.eval_history["sequence_accuracy"][-k:]
        return target is not None and len(recent) == k and min(recent) >= target

    def _evaluate(self) -> dict[str, float]:
        scores = evaluate(self.model, self.eval_set)
        scores["step"] = self.step
        for key, values in self.eval_history.items():
            values.append(scores[key])
        return scores

    def _diverged(self, loss: float, norm: float) -> None:
        self._tick()
        step = self.step + 1
        metrics = self.metrics(f"diverged at step {step}")
        ckpt.atomic_write_json(self.paths["metrics"], metrics)
        what = "loss" if not math.isfinite(loss) else "gradient norm"
        raise TrainingDiverged(
            f"training diverged at step {step}: the {what} is {loss if what == 'loss' else norm} "
            f"(loss {loss}, gradient norm {norm}); the last good checkpoint {self.paths['checkpoint']} "
            f"(step {self.checkpoint_step}) is kept intact; start a new run with a smaller --lr "
            f"(now {self.config.lr}) or a --clip (now {self.config.clip})"
        )

    # -- the run files ----------------------------------------------------------------------
    def metrics(self, status: str) -> dict[str, Any]:
        """The metrics document (history so far); :meth:`finish` adds the final test numbers."""
        steps = len(self.loss_history)
        return {
            "status": status,
            "steps": self.step,
            "seconds": round(self.seconds, 3),
            "steps_per_second": round(self.step / self.seconds, 3) if self.seconds > 0 else None,
            "loss": {"step": list(range(self.step - steps + 1, self.step + 1)), "value": self.loss_history},
            "eval": self.eval_history,
        }

    def finish(self, status: str, progress: Callable[[int], Callable[[int], None]] | None = None) -> dict[str, Any]:
        """Final held-out test, per-length accuracy, metrics.json, curves.png, attention.png.

        ``progress``: see :func:`final_metrics`. ``evaluation_seconds`` in metrics.json is the wall
        time of the final evaluation (``seconds`` is the training's).
        """
        from minatt.plot import save_attention, save_curves

        cfg = self.config
        metrics = self.metrics(status)
        start = time.perf_counter()
        test = self.task.test_set(cfg.eval_size or cfg.test_size, seed=cfg.seed + 2)
        metrics.update(final_metrics(self.model, self.task, cfg, test, progress, train_seconds=self.seconds,
                                     notice=lambda line: print(f"minatt: note: {line}", file=sys.stderr)))
        metrics["evaluation_seconds"] = round(time.perf_counter() - start, 3)
        ckpt.atomic_write_json(self.paths["metrics"], metrics)
        save_curves(self.paths["curves"], metrics)
        example = collate([(self.task.src_vocab.decode(test.src[0]), [])], self.task.src_vocab, self.task.tgt_vocab)
        pred = decode(self.model, self.task, example.src, example.src_mask, beam=None)
        save_attention(self.paths["attention"], pred.attention, pred.src_tokens, pred.out_tokens,
                       title=attention_title(cfg, pred))
        return metrics



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
