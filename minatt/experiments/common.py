"""What the experiments share: where they write, colours, figures, result files, training, intervals."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy

from minatt.errors import ConfigError
from minatt.tools.checkpoint import atomic_write_json

if TYPE_CHECKING:  # matplotlib is imported only to draw: without it an experiment still writes its JSON
    from matplotlib.figure import Figure

__all__ = ["COLORS", "FULL_OUT", "SMALL_OUT", "bits", "blas_limit", "figure", "interval", "log", "make_out",
           "save_png", "score_examples", "score_tokens", "train_model", "unbits", "write_design", "write_result"]

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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def blas_limit(threads: int) -> Any:
    """A context limiting NumPy's BLAS to ``threads`` (:func:`minatt.tools.runtime.blas_threads`); a no-op without
    threadpoolctl (then the environment's OPENBLAS_NUM_THREADS / OMP_NUM_THREADS decide)."""
    try:
        from minatt.tools.runtime import blas_threads
    except ImportError:
        return contextlib.nullcontext()
    return blas_threads(threads)


def save_png(draw: Figure | Callable[[], Figure], path: str | Path) -> bool:
    """Draw (if ``draw`` is a function) and save a figure at ``path``; False, said on stderr, without matplotlib."""
    try:
        from minatt.tools.plot import save_figure

        save_figure(draw() if callable(draw) else draw, Path(path), dpi=110)
    except ImportError as exc:
        log(f"not drawn: {path} ({exc}); the JSON is complete: draw it later with --redraw and the same --out")
        return False
    return True


def make_out(out: Path) -> None:
    """Create the --out directory (a :class:`ConfigError` if that is impossible)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create --out {out}: {exc.strerror or exc}") from None


def write_result(result: dict[str, Any], fig: Figure | Callable[[], Figure], out: str | Path, stem: str) -> None:
    """Write ``out/<stem>.json`` (every number) and ``out/<stem>.png`` (``fig``: a figure, or a function drawing it)."""
    out = Path(out)
    make_out(out)
    atomic_write_json(out / f"{stem}.json", result)
    save_png(fig, out / f"{stem}.png")


def write_design(out: str | Path, stem: str, head: dict[str, Any]) -> None:
    """Write ``out/<stem>.json`` with the design alone, before any run starts (results and verdict null)."""
    make_out(Path(out))
    atomic_write_json(Path(out) / f"{stem}.json", {**head, "results": None, "verdict": None})


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


def score_examples(model: Any, batch: Any, extra: int = 2) -> dict[str, numpy.ndarray]:
    """Greedy-decode ``batch`` once (up to ``extra`` tokens past its longest target) and score each example.

    Returns {"exact", "hits", "positions" (:func:`score_tokens` against the batch's targets);
    "tokens": (N, L) the decoded ids; "attention": (N, L, S) the decoder's weights, zero after it
    stopped (absent without attention)}. The same counts as :func:`minatt.train.evaluate`, per example.
    """
    decoded = model.greedy(batch.src, batch.src_mask, max_len=batch.tgt_out.shape[1] + extra)
    tokens = numpy.asarray(decoded.tokens)                        # (N, L)
    out = {**score_tokens(tokens, batch), "tokens": tokens}
    if getattr(decoded, "attention", None) is not None:
        out["attention"] = numpy.asarray(decoded.attention)
    return out


def score_tokens(tokens: numpy.ndarray, batch: Any) -> dict[str, numpy.ndarray]:
    """Decoded ``tokens`` (N, L) against ``batch``'s targets (N, T), position by position, EOS included.

    Returns {"exact": (N,) bool, every target position right; "hits": (N,) int, right target
    positions; "positions": (N,) int, target positions}.
    """
    T = batch.tgt_out.shape[1]
    if tokens.shape[1] < T:
        tokens = numpy.pad(tokens, ((0, 0), (0, T - tokens.shape[1])))   # (N, T) PAD after the end
    mask = numpy.asarray(batch.tgt_mask)
    hit = (tokens[:, :T] == numpy.asarray(batch.tgt_out)) & mask      # (N, T)
    return {"exact": (hit | ~mask).all(axis=1), "hits": hit.sum(axis=1), "positions": mask.sum(axis=1)}


def bits(flags: Any) -> str:
    """A boolean array as a string of 0s and 1s (compact in JSON)."""
    return "".join("1" if f else "0" for f in flags)


def unbits(text: str) -> numpy.ndarray:
    """The inverse of :func:`bits`: (len(text),) float array of 0.0 and 1.0."""
    return numpy.array([c == "1" for c in text], dtype=float)
