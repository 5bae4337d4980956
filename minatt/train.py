"""The trainer: the loop, evaluation, early stopping, checkpoints and the run directory.

>>> from minatt.train import TrainConfig, train
>>> result = train(TrainConfig(task="reverse"), "runs/reverse-demo")   # doctest: +SKIP
>>> result.status, result.step                                        # doctest: +SKIP
('target reached', 300)

One run, step by step (``step`` counts finished updates, from 0):

    batch  = task.batch(data_rng, batch)               a fresh random batch (host NumPy)
    loss, grads = model.loss_and_grads(batch)           hand-written backward pass
    norm   = clip_grad_norm(grads, clip)                global norm before clipping
    if loss or norm is NaN/inf:  raise TrainingDiverged  (the last checkpoint is left intact)
    optimizer.step(grads, lr=schedule(step))            Adam or SGD, in place
    every eval_every steps: held-out accuracy, checkpoint, stop once accuracy >= target

Stopping: training ends at ``steps`` updates, or earlier once ``patience`` evaluations in a row
(default 2, i.e. the accuracy has held for ``eval_every`` more steps) have a held-out *sequence*
accuracy (greedy decoding, exact match including EOS) of at least ``target`` (``target=None``
turns early stopping off). The evaluation set is held out from training
(:meth:`minatt.tasks.Task.test_set`); the final numbers in ``metrics.json`` come from a
*different* held-out set, so the stopping rule does not flatter them, plus one set per source
length, including lengths longer than any seen in training.

Resuming is exact: the checkpoint holds the parameters, the optimiser's moments and step
count, the step, and the state of the data generator; evaluation never touches that generator.
So on NumPy, N steps straight and N/2 steps + resume + N/2 steps give bit-identical weights.
The learning-rate schedule is a function of the step and of ``steps`` (its decay ends there);
resuming with a larger ``steps`` stretches the remaining decay.

A Ctrl-C (SIGINT) stops the loop after the current step, saves a checkpoint and returns with
``status == "interrupted"``; a second Ctrl-C stops at once.

:func:`train` and :func:`resume` run NumPy's BLAS on one thread (``threads=1``, see
:func:`blas_threads`): these matrices are small, and a two-thread BLAS sharing its cores with
another busy process was measured 25x slower (127 s instead of 4.8 s for 200 steps).
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy

from minatt import checkpoint as ckpt
from minatt.backend import BACKENDS, asarray, default_dtype, to_numpy, use
from minatt.errors import CheckpointError, ConfigError, MinattError, TrainingDiverged
from minatt.parallel import DataParallel
from minatt.runtime import blas_threads
from minatt.seq2seq import CELLS, DECODERS, SCORES, Seq2Seq, Seq2SeqConfig
from minatt.tasks import TASKS, Batch, Task, collate, make_task

__all__ = [
    "CELLS",
    "DECODERS",
    "OPTIMIZERS",
    "RESUMABLE",
    "SCORES",
    "Prediction",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "blas_threads",
    "default_run_dir",
    "evaluate",
    "load_run",
    "predict",
    "resume",
    "source_limit",
    "train",
]

OPTIMIZERS = ("adam", "sgd")
DTYPES = ("float32", "float64")
LONGER = 5  # the per-length evaluation goes this many lengths beyond the training range
# predict refuses a source longer than LENGTH_FACTOR times the longest training source: far past
# what the run was trained on, an RNN's attention gives no meaningful answer (and decoding slows).
LENGTH_FACTOR = 4
CONFIG_FORMAT = "minatt-run"

MODEL_FIELDS = ("cell", "score", "decoder", "bidirectional", "input_feeding", "embed", "hidden", "attn_dim")
# Settings that may change when a run is resumed; every other setting is fixed by config.json.
RESUMABLE = ("steps", "target", "patience", "eval_every", "test_size", "backend")


@dataclass
class TrainConfig:
    """Every setting of a training run: the task, the model, the optimiser, the loop.

    Written to ``config.json`` (``{"train": to_dict(), "model": Seq2SeqConfig.to_dict()}``) so a run
    directory says exactly how it was made. The defaults train ``reverse`` on lengths 3..10 to
    99% held-out sequence accuracy in well under a minute on two CPU cores (NumPy).
    """

    task: str = "reverse"
    min_len: int = 3
    max_len: int = 10
    # model
    cell: str = "lstm"
    score: str = "additive"
    decoder: str = "bahdanau"
    bidirectional: bool = False
    input_feeding: bool = True
    embed: int = 32
    hidden: int = 64
    attn_dim: int | None = None
    # optimisation
    steps: int = 3000
    batch: int = 64
    lr: float = 0.005
    optimizer: str = "adam"
    momentum: float = 0.9
    clip: float = 5.0
    warmup: int = 100
    decay_to: float = 0.1
    # loop
    seed: int = 0
    backend: str = "numpy"
    dtype: str = "float32"
    eval_every: int = 100
    test_size: int = 500
    target: float | None = 0.99
    patience: int = 2

    def validate(self) -> TrainConfig:
        """Raise :class:`ConfigError` naming the first impossible setting (and the valid choices)."""
        names = {"task": TASKS, "cell": CELLS, "score": SCORES, "decoder": DECODERS,
                 "optimizer": OPTIMIZERS, "backend": BACKENDS, "dtype": DTYPES}
        for key, valid in names.items():
            value = getattr(self, key)
            if value not in valid:
                raise ConfigError(f"unknown {key} {value!r}: choose one of {', '.join(valid)}")
        for key in ("embed", "hidden", "steps", "batch", "eval_every", "test_size", "patience"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{key} must be a positive integer, got {value!r}")
        if self.attn_dim is not None and (not isinstance(self.attn_dim, int) or self.attn_dim <= 0):
            raise ConfigError(f"attn_dim must be a positive integer, got {self.attn_dim!r}")
        if self.task != "dates":
            if not isinstance(self.min_len, int) or self.min_len < 1:
                raise ConfigError(f"min_len must be a positive integer, got {self.min_len!r}")
            if not isinstance(self.max_len, int) or self.max_len < self.min_len:
                raise ConfigError(f"need min_len <= max_len, got min_len={self.min_len}, max_len={self.max_len}")
            if self.max_len < 2:
                raise ConfigError(
                    f"max_len={self.max_len} leaves no held-out sequences to evaluate on: use max_len >= 2"
                )
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr must be a positive number, got {self.lr!r}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not (self.clip >= 0 and math.isfinite(self.clip)):
            raise ConfigError(f"clip must be >= 0 (0 turns clipping off), got {self.clip!r}")
        if not (isinstance(self.warmup, int) and self.warmup >= 0):
            raise ConfigError(f"warmup must be an integer >= 0, got {self.warmup!r}")
        if not 0.0 <= self.decay_to <= 1.0:
            raise ConfigError(f"decay_to must be in [0, 1] (1 = no decay), got {self.decay_to!r}")
        if self.target is not None and not 0.0 < self.target <= 1.0:
            raise ConfigError(f"target must be in (0, 1] or None (no early stopping), got {self.target!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown training settings {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**d)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed."""
        return TrainConfig.from_dict({**self.to_dict(), **changes})


def model_config(config: TrainConfig, task: Task) -> Any:
    """The :class:`minatt.seq2seq.Seq2SeqConfig` for a training config and its task."""
    return Seq2SeqConfig(
        src_vocab=len(task.src_vocab), tgt_vocab=len(task.tgt_vocab), embed=config.embed, hidden=config.hidden,
        cell=config.cell, score=config.score, decoder=config.decoder, bidirectional=config.bidirectional,
        input_feeding=config.input_feeding, attn_dim=config.attn_dim,
    )


def build_task(config: TrainConfig) -> Task:
    """The task of a config (ValueError from the task becomes :class:`ConfigError`)."""
    try:
        return make_task(config.task, min_len=config.min_len, max_len=config.max_len, seed=config.seed)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def build_model(config: TrainConfig, task: Task) -> Any:
    """A freshly initialised :class:`minatt.seq2seq.Seq2Seq` on the current backend and dtype."""
    try:
        return Seq2Seq(model_config(config, task), seed=config.seed)
    except MinattError:
        raise
    except ValueError as exc:  # an impossible combination the model refuses
        raise ConfigError(str(exc)) from None


def build_optimizer(config: TrainConfig, params: dict[str, Any]) -> Any:
    """Adam or SGD (with momentum) over ``params``."""
    from minatt.optim import SGD, Adam

    if config.optimizer == "adam":
        return Adam(params, lr=config.lr)
    return SGD(params, lr=config.lr, momentum=config.momentum)


def build_schedule(config: TrainConfig) -> Callable[[int], float]:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``decay_to * lr`` at ``steps``."""
    from minatt.optim import constant, warmup_decay

    if config.warmup == 0 and config.decay_to == 1.0:
        return constant(config.lr)
    warm = min(config.warmup, config.steps)
    return warmup_decay(config.lr, warm, config.steps, final_fraction=config.decay_to)


def default_run_dir(task: str, root: str | Path = "runs") -> Path:
    """``runs/<task>-<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3``, ... if that already exists)."""
    stem = Path(root) / f"{task}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    path, n = stem, 1
    while path.exists():
        n += 1
        path = Path(f"{stem}-{n}")
    return path


# ---------------------------------------------------------------------------------------
# Evaluation


def evaluate(model: Any, batch: Batch, extra: int = 2) -> dict[str, float]:
    """Greedy-decode ``batch`` and score it against its targets.

    Returns ``token_accuracy`` (share of target positions, EOS included, predicted right),
    ``sequence_accuracy`` (share of rows predicted exactly, up to and including EOS), ``loss``
    (teacher-forced cross-entropy per token) and ``n`` (rows).
    """
    N, T = batch.tgt_out.shape
    decoded = model.greedy(batch.src, batch.src_mask, max_len=T + extra)
    pred = numpy.asarray(decoded.tokens)                         # (N, L)
    if pred.shape[1] < T:
        pred = numpy.pad(pred, ((0, 0), (0, T - pred.shape[1])))  # (N, T) PAD after the end
    pred = pred[:, :T]                                           # (N, T)
    hit = (pred == batch.tgt_out) & batch.tgt_mask               # (N, T)
    exact = (hit | ~batch.tgt_mask).all(axis=1)                  # (N,)
    return {
        "token_accuracy": float(hit.sum() / batch.tgt_mask.sum()),
        "sequence_accuracy": float(exact.mean()),
        "loss": float(model.loss(batch)),
        "n": int(N),
    }


def _length_sets(config: TrainConfig, task: Task) -> list[tuple[int, Batch]]:
    """One held-out set per source length, from the shortest holdable one to max_len + LONGER."""
    if not task.uses_lengths or task.split_min_len is None:
        return []
    lo = max(config.min_len, task.split_min_len)
    per = max(50, config.test_size // 5)
    out = []
    for length in range(lo, config.max_len + LONGER + 1):
        try:
            out.append((length, task.test_set(per, min_len=length, max_len=length, seed=config.seed + 7919 + length)))
        except (ValueError, RuntimeError):
            continue
    return out


# ---------------------------------------------------------------------------------------
# The trainer


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


class _SigintFlag:
    """While installed, SIGINT sets ``requested`` (checked between steps); a second SIGINT raises KeyboardInterrupt.

    Installed only in the main thread (the only one Python delivers signals to).
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def install(self) -> None:
        """Take over SIGINT."""
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True

    def restore(self) -> None:
        """Give SIGINT back to its previous handler."""
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


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
        """Reopen the run in ``run_dir`` at its checkpoint; ``overrides`` may change only :data:`RESUMABLE` settings."""
        config, _ = read_run_config(run_dir)
        bad = sorted(k for k in overrides if k not in RESUMABLE)
        if bad:
            raise ConfigError(
                f"cannot change {', '.join(bad)} when resuming (config.json fixes it); "
                f"resuming may change only {', '.join(RESUMABLE)}"
            )
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
        _load_params(self.model, params, meta, path)  # (on an error below, the half-loaded trainer is discarded)
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
        if self.step >= cfg.steps:
            raise ConfigError(
                f"{self.run_dir} has already trained {self.step} of steps={cfg.steps}: pass a larger --steps to go on"
            )
        end = cfg.steps if until is None else min(until, cfg.steps)
        report = _Reporter(progress, cfg.steps, self.step, log)
        status, self._phase = "done", "idle"
        self._clock = time.perf_counter()
        if workers > 1:
            self.gradients = DataParallel(self.model, workers)
        stop = _SigintFlag()
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
        metrics = self.finish(status)
        return TrainResult(status, self.step, self.run_dir, self.seconds, metrics)

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

    def finish(self, status: str) -> dict[str, Any]:
        """Final held-out test, per-length accuracy, metrics.json, curves.png, attention.png."""
        from minatt.plot import save_attention, save_curves

        cfg = self.config
        metrics = self.metrics(status)
        test = self.task.test_set(cfg.test_size, seed=cfg.seed + 2)
        metrics["test"] = evaluate(self.model, test)
        metrics["by_length"] = [
            {"length": length, "trained": cfg.min_len <= length <= cfg.max_len,
             **evaluate(self.model, batch)}
            for length, batch in _length_sets(cfg, self.task)
        ]
        ckpt.atomic_write_json(self.paths["metrics"], metrics)
        save_curves(self.paths["curves"], metrics)
        example = collate([(self.task.src_vocab.decode(test.src[0]), [])], self.task.src_vocab, self.task.tgt_vocab)
        pred = _decode(self.model, self.task, example.src, example.src_mask, beam=None)
        save_attention(self.paths["attention"], pred.attention, pred.src_tokens, pred.out_tokens,
                       title=_attention_title(cfg, pred))
        return metrics


class _Reporter:
    """Progress: a tqdm bar (loss, held-out accuracy, steps/s), plain log lines, or nothing."""

    def __init__(self, progress: str, total: int, initial: int, log: Callable[[str], None] | None) -> None:
        if progress not in ("bar", "log", "none"):
            raise ValueError(f"progress must be 'bar', 'log' or 'none', not {progress!r}")
        self.progress, self.total = progress, total
        self.log = log or (lambda line: print(line, flush=True))
        self.smoothed: float | None = None
        self.acc = "-"
        self.bar: Any = None
        self._mark = (time.perf_counter(), initial)
        if progress == "bar":
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="step", file=sys.stderr, dynamic_ncols=True,
                            smoothing=0.1, mininterval=0.25)

    def step(self, loss: float) -> None:
        """After each step: update the running loss (and the bar)."""
        self.smoothed = loss if self.smoothed is None else 0.95 * self.smoothed + 0.05 * loss
        if self.bar is not None:
            self.bar.update(1)
            if self.bar.n % 10 == 0:
                self.bar.set_postfix(loss=f"{self.smoothed:.4f}", acc=self.acc, refresh=False)

    def evaluated(self, step: int, scores: dict[str, float]) -> None:
        """After each evaluation: show the held-out accuracy."""
        self.acc = f"{scores['sequence_accuracy']:.3f}"
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{self.smoothed:.4f}", acc=self.acc)
        elif self.progress == "log":
            now = time.perf_counter()
            rate = (step - self._mark[1]) / max(now - self._mark[0], 1e-9)
            self._mark = (now, step)
            self.log(f"step {step}/{self.total}  loss {self.smoothed:.4f}  held-out token acc "
                     f"{scores['token_accuracy']:.4f}  seq acc {scores['sequence_accuracy']:.4f}  {rate:.1f} steps/s")

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _load_params(model: Any, params: dict[str, numpy.ndarray], meta: dict, path: Path) -> None:
    """Copy checkpoint ``params`` into ``model.params`` in place, after checking them against the model."""
    _check_model_meta(meta, model.config.to_dict(), path)
    ckpt.check_arrays(params, ckpt.spec_of(model.params), "parameters", str(path))
    for name, value in params.items():
        model.params[name][...] = asarray(value)


def _check_model_meta(meta: dict, expected: dict, path: Path) -> None:
    """Raise :class:`CheckpointError` listing every model setting where the checkpoint and config.json differ."""
    saved = meta.get("model")
    if not isinstance(saved, dict):
        return
    diffs = [f"{k}: checkpoint {saved.get(k)!r}, config {expected.get(k)!r}"
             for k in sorted(set(saved) | set(expected)) if saved.get(k) != expected.get(k)]
    if diffs:
        raise CheckpointError(
            f"checkpoint {path} was written for a different model than config.json says ({'; '.join(diffs)})"
        )


def read_run_config(run_dir: str | Path) -> tuple[TrainConfig, dict[str, Any]]:
    """``(TrainConfig, model config dict)`` from a run directory's config.json (checked)."""
    paths = ckpt.require_run_dir(run_dir)
    doc = ckpt.read_json(paths["config"], "config")
    if not isinstance(doc, dict) or doc.get("format") != CONFIG_FORMAT or "train" not in doc:
        raise CheckpointError(f"{paths['config']} is not a minatt run config (no 'train' section)")
    try:
        config = TrainConfig.from_dict(doc["train"])
        config.validate()
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{paths['config']} has invalid settings: {exc}") from None
    return config, doc.get("model", {})


# ---------------------------------------------------------------------------------------
# Entry points


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


class Prediction(NamedTuple):
    """A decoded sequence: the source and output tokens (EOS included) and their attention (L, S).

    ``text`` is the output as a user would write it (characters joined for dates, else spaced);
    ``source`` is the input the same way.
    """

    src_tokens: list[str]
    out_tokens: list[str]
    attention: numpy.ndarray
    text: str
    source: str

    def title(self) -> str:
        """``"source -> output"``, for a plot."""
        return f"{self.source} -> {self.text}"


def load_run(run_dir: str | Path) -> tuple[TrainConfig, Task, Any, dict]:
    """``(config, task, model, meta)`` of a run at its checkpoint, the model on the current backend.

    The caller selects the backend first (``with minatt.use(...)``); the model's params are
    checked against config.json before they are loaded.
    """
    config, _ = read_run_config(run_dir)
    paths = ckpt.run_paths(run_dir)
    with default_dtype(config.dtype):
        task = build_task(config)
        model = build_model(config, task)
    params, _, meta = ckpt.load_checkpoint(paths["checkpoint"])
    _load_params(model, params, meta, paths["checkpoint"])
    return config, task, model, meta


def _decode(model: Any, task: Task, src: numpy.ndarray, src_mask: numpy.ndarray, beam: int | None) -> Prediction:
    S = src.shape[1]
    max_len = 2 * S + 10
    if beam is not None and beam > 1:
        decoded = model.beam(src, src_mask, max_len, beam)
    else:
        decoded = model.greedy(src, src_mask, max_len)
    ids = numpy.asarray(decoded.tokens)[0]
    words = task.tgt_vocab.decode(ids)
    n_out = len(words) + 1 if len(words) < len(ids) else len(words)   # + EOS when it was produced
    out_tokens = [*words, "<eos>"][:n_out]
    src_tokens = [task.src_vocab.tokens[int(i)] for i in src[0][src_mask[0]]]
    attention = numpy.asarray(to_numpy(decoded.attention))[0][:n_out, : len(src_tokens)]   # (L, S)
    sep = "" if task.name == "dates" else " "
    return Prediction(src_tokens, out_tokens, attention, sep.join(words), sep.join(src_tokens))


def source_limit(task: Task) -> int:
    """The longest source :func:`predict` accepts: ``LENGTH_FACTOR`` times the task's longest training source."""
    return LENGTH_FACTOR * task.longest_source


def predict(task: Task, model: Any, text: str | list[str], beam: int | None = None) -> Prediction:
    """Decode one source given as text or tokens (``"3 1 4"``, or a date string for ``dates``).

    Unknown tokens, and a source longer than :func:`source_limit`, raise :class:`ConfigError`
    (naming the valid tokens, or the limit); ``beam`` > 1 uses beam search.
    """
    try:
        tokens = task.parse(text)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    limit = source_limit(task)
    if len(tokens) > limit:
        unit = "characters" if task.name == "dates" else "tokens"
        raise ConfigError(
            f"the input has {len(tokens)} {unit}, more than this run's limit of {limit} ({LENGTH_FACTOR} x the "
            f"longest training source, {task.longest_source}): shorten it, or train a run with a larger --max-len"
        )
    batch = collate([(tokens, [])], task.src_vocab, task.tgt_vocab)
    return _decode(model, task, batch.src, batch.src_mask, beam)


def _attention_title(config: TrainConfig, pred: Prediction) -> str:
    if config.score == "none":
        return "no attention (score='none'): all weights are zero"
    return f"{config.task}: {pred.title()}"

