"""Every setting of a training run (:class:`TrainConfig`) and the builders that turn it into objects.

``TrainConfig`` is what ``config.json`` holds under ``"train"``; :func:`build_task`,
:func:`build_model`, :func:`build_optimizer` and :func:`build_schedule` make the task, the
model, the optimiser and the learning-rate schedule of a run from it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from minatt.backend import BACKENDS
from minatt.errors import ConfigError, MinattError
from minatt.model.seq2seq import CELLS, DECODERS, ENCODERS, SCORE_ALIASES, SCORES, Seq2Seq, Seq2SeqConfig
from minatt.tasks import TASKS, Task, make_task

__all__ = ["CELLS", "CONFIG_FORMAT", "DECODERS", "ENCODERS", "MODEL_SETTINGS", "OPTIMIZERS", "RESUMABLE", "SCORES",
           "SETTINGS", "TrainConfig", "build_model", "build_optimizer", "build_schedule", "build_task",
           "resume_changes"]

OPTIMIZERS = ("adam", "sgd")
DTYPES = ("float32", "float64")
CONFIG_FORMAT = "minatt-run"

# Settings that may change when a run is resumed; every other setting is fixed by config.json.
RESUMABLE = ("steps", "target", "patience", "eval_every", "test_size", "eval_size", "backend")
# The model's settings a user chooses; its vocabulary sizes and special ids come from the task.
MODEL_SETTINGS = tuple(f.name for f in fields(Seq2SeqConfig)
                       if f.name not in ("src_vocab", "tgt_vocab", "pad_id", "bos_id", "eos_id"))


@dataclass(init=False)
class TrainConfig:
    """Every setting of a training run: the task, the model (a :class:`Seq2SeqConfig`), the optimiser, the loop.

    A model setting is given by name like any other, ``TrainConfig(task="dates", hidden=32)``, and
    lives in ``model`` (``config.model.hidden``), whose vocabulary sizes :func:`build_model` takes
    from the task. ``config.json`` holds :meth:`to_dict` (every setting by name) under ``"train"``
    and the built model's config under ``"model"``, so a run directory says exactly how it was
    made. The defaults train ``reverse`` on lengths 3..10 to 99% held-out sequence accuracy in
    well under a minute on two CPU cores (NumPy).
    """

    task: str = "reverse"
    min_len: int = 3
    max_len: int = 10
    model: Seq2SeqConfig = field(default_factory=Seq2SeqConfig)
    # optimisation
    steps: int = 3000
    batch: int = 64
    lr: float = 0.002
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
    eval_size: int | None = None  # the final test's examples (and the per-length table's); None: test_size
    target: float | None = 0.99
    patience: int = 2

    def __init__(self, model: Seq2SeqConfig | None = None, **settings: Any) -> None:
        """Any setting by name; model settings go into ``model`` (which checks them, see :class:`Seq2SeqConfig`)."""
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise ConfigError(f"unknown training settings {', '.join(unknown)}; known: {', '.join(sorted(SETTINGS))}")
        for f in fields(self):
            if f.name != "model":
                setattr(self, f.name, settings.get(f.name, f.default))
        chosen = {k: v for k, v in settings.items() if k in MODEL_SETTINGS}
        self.model = dataclasses.replace(model or Seq2SeqConfig(), **chosen)

    def validate(self) -> TrainConfig:
        """Raise :class:`ConfigError` naming the first impossible setting (and the valid choices).

        (The model's settings were checked when ``model`` was made.)"""
        names = {"task": TASKS, "optimizer": OPTIMIZERS, "backend": BACKENDS, "dtype": DTYPES}
        for key, valid in names.items():
            value = getattr(self, key)
            if value not in valid:
                raise ConfigError(f"unknown {key} {value!r}: choose one of {', '.join(valid)}")
        for key in ("steps", "batch", "eval_every", "test_size", "patience"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{key} must be a positive integer, got {value!r}")
        if self.eval_size is not None and (not isinstance(self.eval_size, int) or isinstance(self.eval_size, bool)
                                           or self.eval_size <= 0):
            raise ConfigError(f"eval_size must be a positive integer, got {self.eval_size!r}")
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
        """Every setting by name, the model's among them (flat, as config.json and the command line have them)."""
        model = {name: getattr(self.model, name) for name in MODEL_SETTINGS}
        out: dict[str, Any] = {}
        for f in fields(self):
            out.update(model if f.name == "model" else {f.name: getattr(self, f.name)})
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        return cls(**d)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some settings (the model's too) changed."""
        own = {k: v for k, v in self.to_dict().items() if k not in MODEL_SETTINGS}
        return TrainConfig(self.model, **{**own, **changes})


# Every setting's name, in config.json's order.
SETTINGS = tuple(name for f in fields(TrainConfig) for name in (MODEL_SETTINGS if f.name == "model" else [f.name]))


def resume_changes(config: TrainConfig, given: dict[str, Any], name: Callable[[str], str] = str) -> dict[str, Any]:
    """The settings in ``given`` that differ from a resumed run's ``config``; refuse any not in :data:`RESUMABLE`.

    A value equal to the run's own (the original command line run again) is no change. A real
    change to a fixed setting raises :class:`ConfigError` naming the run's value and the given one;
    ``name`` spells a setting as the caller's user knows it (``"hidden"``, or ``"--hidden"``).
    """
    current = config.to_dict()

    def same(key: str, value: Any) -> bool:
        old = current[key]
        if key == "score":
            return SCORE_ALIASES.get(value, value) == SCORE_ALIASES.get(old, old)
        return value == old

    changes = {k: v for k, v in given.items() if not same(k, v)}
    fixed = [k for k in changes if k not in RESUMABLE]
    if len(fixed) == 1:
        k = fixed[0]
        why = f"run has {current[k]}, you gave {changes[k]}"
    else:
        why = "; ".join(f"{name(k)}: run has {current[k]}, you gave {changes[k]}" for k in fixed)
    if fixed:
        raise ConfigError(f"{', '.join(map(name, fixed))} cannot change when resuming ({why}); "
                          f"resuming may change only {', '.join(map(name, RESUMABLE))}")
    return changes


def build_task(config: TrainConfig) -> Task:
    """The task of a config (ValueError from the task becomes :class:`ConfigError`)."""
    try:
        return make_task(config.task, min_len=config.min_len, max_len=config.max_len, seed=config.seed)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def build_model(config: TrainConfig, task: Task) -> Any:
    """A freshly initialised :class:`minatt.model.seq2seq.Seq2Seq` on the current backend and dtype."""
    try:
        sizes = {"src_vocab": len(task.src_vocab), "tgt_vocab": len(task.tgt_vocab)}
        return Seq2Seq(dataclasses.replace(config.model, **sizes), seed=config.seed)
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

