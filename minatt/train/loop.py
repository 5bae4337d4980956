"""The training loop: :class:`Trainer` owns one run, and :meth:`Trainer.fit` is its loop.

One run, step by step (``step`` counts finished updates, from 0), as :meth:`Trainer.fit` writes it:

    batch  = batches.draw()                            a fresh random batch (host NumPy)
    loss, grads = model.loss_and_grads(batch)           hand-written backward pass
    norm   = clip_grad_norm(grads, clip)                global norm before clipping
    optimizer.step(grads, lr=schedule(step))            Adam or SGD, in place
    every LOG_EVERY steps: read the losses on the host; a NaN/inf loss or norm raises TrainingDiverged
    every eval_every steps: held-out accuracy, checkpoint, stop once accuracy >= target

The loss and the norm may be device scalars: the loop keeps them and reads them only at the
next log point (one transfer for the losses, one for the norms), so a step never waits for the
device, and a NaN stops the run at most ``LOG_EVERY`` steps after it appears, before anything
is saved.

Around the loop, :meth:`Trainer.run` (:mod:`minatt.train.crash_safety`): a Ctrl-C (SIGINT) stops it
after the current step, saves a checkpoint and returns with ``status == "interrupted"``; a second
Ctrl-C stops at once, and the state is saved only if it is one a straight run passes through. The package docstring
(:mod:`minatt.train`) describes stopping, resuming and the BLAS threads; :mod:`minatt.train.start`
has :func:`~minatt.train.start.train` and :func:`~minatt.train.start.resume`, which build a Trainer.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy

from minatt.backend import array_module, to_numpy
from minatt.errors import CheckpointError, ConfigError, TrainingDiverged
from minatt.optim import clip_grad_norm
from minatt.tasks import Batch, Task, collate
from minatt.tools import checkpoint as ckpt
from minatt.train.config import (
    CONFIG_FORMAT,
    TrainConfig,
    build_model,
    build_optimizer,
    build_schedule,
    build_task,
    resume_changes,
)
from minatt.train.crash_safety import TrainResult, run_safely
from minatt.train.evaluation import evaluate, final_metrics
from minatt.train.interrupt import SigintFlag
from minatt.train.prediction import attention_title, decode
from minatt.train.report import Reporter
from minatt.train.rundir import load_params, read_run_config

__all__ = ["LOG_EVERY", "Batches", "TrainResult", "Trainer"]

LOG_EVERY = 10  # steps between reads of the losses on the host (and at every evaluation)


class Batches:
    """The training batches: a seeded stream of fresh random batches, counted (``drawn``).

    :meth:`give_back` returns the last batch drawn to the stream, so a step stopped before its
    update is redrawn, the same, when the run resumes.
    """

    def __init__(self, task: Task, size: int, seed: int) -> None:
        self.task, self.size = task, size
        self.rng = numpy.random.default_rng([seed, 1])
        self.drawn = 0
        self._before = self.rng.bit_generator.state

    def draw(self) -> Batch:
        """The next batch."""
        self._before = self.rng.bit_generator.state
        self.drawn += 1
        return self.task.batch(self.rng, self.size)

    def give_back(self) -> None:
        """Undo the last :meth:`draw`."""
        self.rng.bit_generator.state = self._before
        self.drawn -= 1


class Trainer:
    """Owns one run: its config, task, model, optimiser, batches, history and files.

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
        self.gradients: Any = self.model  # what computes loss_and_grads: the model, or its --workers processes
        self.optimizer = build_optimizer(config, self.model.params)
        self.schedule = build_schedule(config)
        self.batches = Batches(self.task, config.batch, config.seed)
        self.step = 0
        self.seconds = 0.0
        self.unread: list[tuple[Any, Any]] = []  # (loss, norm) of the steps since the losses were last read
        self.loss_history: list[float] = []
        self.eval_history: dict[str, list] = {"step": [], "loss": [], "token_accuracy": [], "sequence_accuracy": []}
        self.checkpoint_step: int | None = None
        try:
            self.eval_set = self.task.test_set(config.test_size, seed=config.seed + 1)
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(f"cannot draw a held-out set for {config.task}: {exc}") from None
        self._clock = time.perf_counter()  # seconds are counted from here (reset when a run starts)

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
        self.tick()
        meta = {
            "step": self.step,
            "seconds": self.seconds,
            "data_rng": self.batches.rng.bit_generator.state,
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
            self.batches.rng.bit_generator.state = meta["data_rng"]
            self.loss_history = [float(v) for v in meta.get("loss_history", [])]
            self.eval_history = {k: list(v) for k, v in meta["eval_history"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path} has incomplete training state ({exc!r}): train a new run") from None
        self.batches.drawn = self.checkpoint_step = self.step

    # -- the loop ---------------------------------------------------------------------------
    def run(self, progress: str = "bar", until: int | None = None, log: Callable[[str], None] | None = None,
            on_step: Callable[[Trainer], None] | None = None, workers: int = 1) -> TrainResult:
        """Train until ``steps`` (or ``until``, for tests), the target, or a Ctrl-C; then write the run files.

        :meth:`fit` inside what keeps every way of stopping safe (:func:`minatt.train.crash_safety.run_safely`).

        Args:
            progress: "bar" (a tqdm bar on stderr), "log" (plain lines at each evaluation) or "none".
            until: stop (as if interrupted, but with status "paused") after this step.
            log: where "log" lines go (default: print to stdout).
            on_step: called after every step (a hook for tests).
            workers: split every batch over this many processes (:class:`minatt.train.parallel.DataParallel`,
                NumPy only). The gradients equal the one-process ones up to float rounding, so a
                run is reproducible for a fixed worker count. A script that passes workers > 1
                needs an ``if __name__ == "__main__":`` guard (the workers are spawned).
        Raises:
            TrainingDiverged: the loss or gradient norm became NaN/inf; checkpoint.npz keeps the last
                good state and metrics.json says where it stopped.
        """
        return run_safely(self, progress, until, log, on_step, workers)

    def fit(self, end: int, report: Reporter, stop: SigintFlag,
            on_step: Callable[[Trainer], None] | None = None) -> str:
        """The loop of the module docstring, from ``self.step`` to ``end``; returns how it ended."""
        cfg = self.config
        while self.step < end and not stop.requested:
            batch = self.batches.draw()
            loss, grads = self.gradients.loss_and_grads(batch)
            norm = clip_grad_norm(grads, cfg.clip or None)
            self.optimizer.step(grads, lr=self.schedule(self.step))
            self.step += 1
            self.unread.append((loss, norm))  # device scalars stay there until the next read
            evaluating = self.step % cfg.eval_every == 0 or self.step == cfg.steps
            if evaluating or self.step % LOG_EVERY == 0 or self.step == end:
                report.losses(self.read_losses())  # raises TrainingDiverged on a NaN/inf since the last read
            if evaluating:
                scores = self.evaluate()
                self.save_checkpoint()
                report.evaluated(self.step, scores)  # (a log line says a checkpoint is on disk)
                if self.target_reached():
                    return "target reached"
            if on_step is not None:
                on_step(self)
        return "done" if self.step >= cfg.steps else "interrupted" if stop.requested else "paused"

    def read_losses(self) -> list[float]:
        """The losses of the steps not yet read, brought to the host and added to ``loss_history``.

        One transfer brings all the losses, one all the norms. Raises :class:`TrainingDiverged`
        naming the first of those steps whose loss or gradient norm is NaN/inf; the history then
        ends at the step before it.
        """
        if not self.unread:
            return []
        losses, norms = (_on_host([pair[i] for pair in self.unread]) for i in (0, 1))
        first = self.step - len(self.unread) + 1  # the step of losses[0]
        self.unread = []
        finite = numpy.isfinite(losses) & numpy.isfinite(norms)
        if not finite.all():
            bad = int(numpy.argmin(finite))
            self.loss_history += losses[:bad].tolist()
            self.step = first + bad - 1
            self._diverged(float(losses[bad]), float(norms[bad]))
        self.loss_history += losses.tolist()
        return losses.tolist()

    def restart_clock(self) -> None:
        """Count ``seconds`` from now (a run starts)."""
        self._clock = time.perf_counter()

    def tick(self) -> None:
        """Add the wall time since the last tick to ``seconds``."""
        now = time.perf_counter()
        self.seconds += now - self._clock
        self._clock = now

    def target_reached(self) -> bool:
        """True when the last ``patience`` evaluations all reached the target sequence accuracy."""
        target, k = self.config.target, self.config.patience
        recent = self.eval_history["sequence_accuracy"][-k:]
        return target is not None and len(recent) == k and min(recent) >= target

    def evaluate(self) -> dict[str, float]:
        """Score the evaluation set now, and add the scores to ``eval_history``."""
        scores = evaluate(self.model, self.eval_set)
        scores["step"] = self.step
        for key, values in self.eval_history.items():
            values.append(scores[key])
        return scores

    def _diverged(self, loss: float, norm: float) -> None:
        self.tick()
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
        from minatt.tools.plot import save_attention, save_curves

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


def _on_host(values: list[Any]) -> numpy.ndarray:
    """Scalars (Python floats, or 0-d arrays on any backend) as one float64 host array: one transfer for all."""
    xp = array_module(*values)
    return numpy.asarray(to_numpy(xp.stack([xp.asarray(v) for v in values])), dtype=numpy.float64)
