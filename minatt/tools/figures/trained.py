"""The pictures that need trained models: curves, heatmaps, the scores side by side, snapshots.

Every model is small (chapter 9's settings: hidden 32, lengths 3..8) and trained here with :class:`minatt.train.Trainer`
in a temporary directory, on NumPy with one BLAS thread, so the whole set takes about a minute
on two cores and is the same on every run (fixed seeds). ``small=True`` trains a few steps of a
tiny model instead: the same code path in seconds, for the tests (the pictures then show noise).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy
from matplotlib.figure import Figure

from minatt.backend import default_dtype, use
from minatt.tools.plot import _figure, _visible, attention_figure, curves_figure
from minatt.tools.runtime import blas_threads
from minatt.train import Prediction, TrainConfig, Trainer, final_metrics, predict

__all__ = ["INPUTS", "SCORE_PANELS", "SNAPSHOT_STEPS", "heatmaps_figure", "trained_figures"]

#: the source each task's heatmap decodes
INPUTS = {"reverse": "3 1 4 1 5 9 2 6", "sort": "7 2 9 4 1 8 3", "denoise": "3 1 4 5 9 2 2 6"}
#: the training steps at which the reverse model's attention is photographed
SNAPSHOT_STEPS = (0, 50, 100, 200, 400)
#: the scores drawn side by side, each trained on reverse with the same seed and settings
SCORE_PANELS = ("additive", "dot", "scaled_dot", "general", "concat")


class Run(NamedTuple):
    """A trained model and what the figures need from its training."""

    trainer: Trainer
    metrics: dict
    snapshots: dict  # step -> Prediction of the task's INPUTS


def _config(task: str, small: bool, **changes) -> TrainConfig:
    """The settings of every figure's model; ``small`` shrinks them to seconds."""
    if small:
        base = TrainConfig(task=task, min_len=3, max_len=8, embed=4, hidden=8, batch=8, steps=4,
                           eval_every=2, test_size=20, target=None)
    else:
        base = TrainConfig(task=task, min_len=3, max_len=8, embed=16, hidden=32, batch=32, steps=400,
                           lr=0.01, warmup=20, eval_every=50, test_size=200, target=None)  # chapter 9's, to the end
    return base.replace(**changes)


class FigureTrainer(Trainer):
    """A Trainer whose run ends without writing curves.png and attention.png (the figures draw
    their own); the held-out accuracy per source length is measured only when ``by_length``."""

    by_length = False

    def finish(self, status: str, progress: Any = None) -> dict:
        metrics = self.metrics(status)
        if self.by_length:
            test = self.task.test_set(self.config.test_size, seed=self.config.seed + 2)
            metrics.update(final_metrics(self.model, self.task, self.config, test, progress))
        return metrics


def train_model(config: TrainConfig, snapshot_at: tuple[int, ...] = (), by_length: bool = False) -> Run:
    """Train ``config`` in a temporary directory, decoding INPUTS[task] at each step of ``snapshot_at``."""
    text = INPUTS[config.task]
    snapshots: dict[int, Prediction] = {}

    def photograph(trainer: Trainer) -> None:
        if trainer.step in snapshot_at:
            snapshots[trainer.step] = predict(trainer.task, trainer.model, text)

    with tempfile.TemporaryDirectory() as scratch, use("numpy"), default_dtype("float32"), blas_threads(1):
        trainer = FigureTrainer.create(config, Path(scratch) / config.task)
        trainer.by_length = by_length
        photograph(trainer)
        result = trainer.run(progress="none", on_step=photograph)
    return Run(trainer, result.metrics, snapshots)


def heatmaps_figure(panels: list[tuple[Prediction, str]], title: str) -> Figure:
    """Attention heatmaps side by side, one per (prediction, panel title), on one colour scale."""
    fig = _figure(2.9 * len(panels) + 0.8, 3.6)
    fig.set_layout_engine("constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (pred, name) in zip(axes, panels):
        image = ax.imshow(numpy.asarray(pred.attention), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto",
                          interpolation="nearest")
        ax.set_xticks(range(len(pred.src_tokens)), labels=[_visible(t) for t in pred.src_tokens], fontsize=7)
        ax.set_yticks(range(len(pred.out_tokens)), labels=[_visible(t) for t in pred.out_tokens], fontsize=7)
        ax.set_xlabel("source", fontsize=8)
        ax.set_title(f"{name}\n-> {pred.text}", fontsize=9)
    axes[0].set_ylabel("output", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.colorbar(image, ax=list(axes), fraction=0.02, pad=0.02, label="attention weight")
    return fig


def _heatmap(run: Run) -> Figure:
    pred = predict(run.trainer.task, run.trainer.model, INPUTS[run.trainer.config.task])
    cfg = run.trainer.config
    return attention_figure(pred.attention, pred.src_tokens, pred.out_tokens,
                            title=f"{cfg.task} after {run.trainer.step} steps ({cfg.model.score}): {pred.title()}")


def trained_figures(small: bool = False, log: Callable[[str], None] = print) -> dict[str, Figure]:
    """Train the models and draw every picture that needs one: file stem -> figure."""
    steps = (0, 1, 2, 4) if small else SNAPSHOT_STEPS
    log("training reverse (additive), photographing its attention at steps " + ", ".join(map(str, steps)))
    reverse = train_model(_config("reverse", small, steps=max(steps)), snapshot_at=steps, by_length=True)
    figures = {
        "curves_reverse": curves_figure(reverse.metrics),
        "heatmap_reverse": _heatmap(reverse),
        "snapshots_reverse": heatmaps_figure([(reverse.snapshots[s], f"step {s}") for s in steps],
                                             "reverse: the attention of one input as training goes on"),
    }
    for task in ("sort", "denoise"):
        log(f"training {task}")
        figures[f"heatmap_{task}"] = _heatmap(train_model(_config(task, small, steps=4 if small else 800)))
    panels = [(reverse.snapshots[max(steps)], "additive")]
    for score in SCORE_PANELS[1:]:
        log(f"training reverse with score {score}")
        run = train_model(_config("reverse", small, score=score, steps=max(steps)))
        panels.append((predict(run.trainer.task, run.trainer.model, INPUTS["reverse"]), score))
    figures["scores_reverse"] = heatmaps_figure(
        panels, f"reverse, the five scores, each after {max(steps)} steps from the same seed")
    return figures
