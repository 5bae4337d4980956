"""What the experiments share: where they write, colours, figures, result files, training, intervals."""

from __future__ import annotations

import math
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from minatt.checkpoint import atomic_write_json
from minatt.errors import ConfigError
from minatt.plot import save_figure

__all__ = ["COLORS", "FULL_OUT", "SMALL_OUT", "figure", "interval", "log", "make_out", "map_jobs", "train_model",
           "write_result"]

FULL_OUT = Path("runs/experiment")  # the full runs (the committed files: --out lessons/figures)
SMALL_OUT = Path("runs/experiment-small")
COLORS = {"none": "tab:gray", "additive": "tab:blue", "general": "tab:orange", "dot": "tab:green",
          "additive+bi": "tab:purple", "concat": "tab:red", "scaled_dot": "tab:olive",
          "additive+transformer": "tab:brown"}

# the 97.5% quantile of Student's t with 1..30 degrees of freedom (a 95% two-sided interval)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def log(line: str) -> None:
    """A progress line on stderr."""
    print(line, file=sys.stderr, flush=True)


def figure(width: float, height: float) -> Figure:
    """A new Agg figure of ``width`` x ``height`` inches (no pyplot state)."""
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def make_out(out: Path) -> None:
    """Create the --out directory (a :class:`ConfigError` if that is impossible)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create --out {out}: {exc.strerror or exc}") from None


def write_result(result: dict[str, Any], fig: Figure, out: str | Path, stem: str) -> None:
    """Write ``out/<stem>.json`` (every number) and ``out/<stem>.png``."""
    out = Path(out)
    make_out(out)
    atomic_write_json(out / f"{stem}.json", result)
    save_figure(fig, out / f"{stem}.png", dpi=110)


def interval(values: Sequence[float]) -> dict[str, float]:
    """Mean and 95% t-interval over independent runs (seeds): {"mean", "lo", "hi", "n"}.

    mean +- t(0.975, n - 1) * sd / sqrt(n); with one value the interval is that value (no spread known).
    """
    a = numpy.asarray(values, dtype=float)
    n, mean = len(a), float(a.mean())
    half = 0.0 if n < 2 else _T975[min(n - 1, len(_T975)) - 1] * float(a.std(ddof=1)) / math.sqrt(n)
    return {"mean": round(mean, 4), "lo": round(mean - half, 4), "hi": round(mean + half, 4), "n": n}


def train_model(config: Any, task: Any, model: Any = None) -> tuple[Any, list[float], float]:
    """Train ``model`` (default: a fresh one for ``config``) on ``task`` for ``config.steps`` steps.

    The loop of :class:`minatt.train.Trainer` without its files: Adam (or SGD), the warm-up and
    decay schedule, gradient clipping, batches from ``numpy.random.default_rng([seed, 1])``.
    ``task`` is any :class:`minatt.tasks.Task` whose vocabularies fit the model. Returns
    (model, losses, seconds). The backend and dtype must already be selected.
    """
    from minatt.optim import clip_grad_norm
    from minatt.train.config import build_model, build_optimizer, build_schedule

    model = build_model(config, task) if model is None else model
    optimizer, schedule = build_optimizer(config, model.params), build_schedule(config)
    rng = numpy.random.default_rng([config.seed, 1])
    losses, start = [], time.perf_counter()
    for step in range(config.steps):
        loss, grads = model.loss_and_grads(task.batch(rng, config.batch))
        clip_grad_norm(grads, config.clip if config.clip > 0 else None)
        optimizer.step(grads, lr=schedule(step))
        losses.append(float(loss))
    return model, losses, time.perf_counter() - start


def map_jobs(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int = 1,
             done: Callable[[Any], None] | None = None) -> list[Any]:
    """``[fn(job) for job in jobs]``, over ``workers`` forked processes when workers > 1 (same order).

    ``done(result)`` is called as each result arrives (in order), for progress lines.
    """
    done = done or (lambda result: None)
    if workers <= 1 or len(jobs) <= 1:
        return [_tell(done, fn(job)) for job in jobs]
    with multiprocessing.get_context("fork").Pool(min(workers, len(jobs))) as pool:
        return [_tell(done, r) for r in pool.imap(fn, jobs, chunksize=1)]


def _tell(done: Callable[[Any], None], result: Any) -> Any:
    done(result)
    return result
