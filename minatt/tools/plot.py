"""Pictures of a run: attention heatmaps and training curves, drawn with matplotlib's Agg canvas.

Figures are built as ``matplotlib.figure.Figure`` objects on an Agg canvas, never through
``pyplot``, so nothing here needs a display or touches global plotting state. Files are
written atomically (rendered to memory, then renamed into place), like every file in a run
directory.

>>> import numpy as np
>>> fig = attention_figure(np.eye(3), ["1", "2", "<eos>"], ["1", "2", "<eos>"])
>>> fig.axes[0].get_xlabel()
'source'
"""

from __future__ import annotations

import io
import math
import os
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from minatt.atomic import atomic_write_bytes

__all__ = ["attention_figure", "curves_figure", "save_attention", "save_curves", "save_figure", "smooth"]


# Attention heatmaps: CELL inches (45 px) per token, shrunk so that no axis exceeds MAX_AXIS inches
# (2000 px: the whole image stays under about 2400 x 2400 px whatever the length); tick labels at
# least LABEL_GAP inches apart, so a long axis shows every k-th token.
CELL, MAX_AXIS, LABEL_GAP = 0.45, 20.0, 0.15


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    return fig


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> None:
    """Render ``fig`` as PNG in memory and write it to ``path`` atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())


def _visible(token: str) -> str:
    """A label a reader can see: a space becomes the open-box symbol."""
    return token.replace(" ", "\u2423") if token.isspace() else token


def attention_figure(
    weights: Any,
    src_tokens: Sequence[str],
    out_tokens: Sequence[str],
    title: str | None = None,
) -> Figure:
    """A heatmap of attention weights: source tokens along x, output tokens along y.

    Args:
        weights: (L, S) host array; row t is the attention over the S source positions when
            output token t was produced (each row sums to 1, or is all zero without attention).
        src_tokens: the S source labels (x axis; a space is drawn as an open box).
        out_tokens: the L output labels (y axis, first output at the top).
        title: optional title.
    """
    w = numpy.asarray(weights, dtype=numpy.float64)
    if w.ndim != 2 or w.shape != (len(out_tokens), len(src_tokens)):
        raise ValueError(
            f"attention weights have shape {w.shape}, expected (outputs, sources) = "
            f"({len(out_tokens)}, {len(src_tokens)})"
        )
    src_tokens = [_visible(t) for t in src_tokens]
    out_tokens = [_visible(t) for t in out_tokens]
    S, L = len(src_tokens), len(out_tokens)
    cell_x, cell_y = min(CELL, MAX_AXIS / max(S, 1)), min(CELL, MAX_AXIS / max(L, 1))   # inches per token
    fig = _figure(max(3.0, cell_x * S + 1.6), max(2.5, cell_y * L + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    size = 10 if min(cell_x, cell_y) >= 0.25 else 7
    every_x, every_y = math.ceil(LABEL_GAP / cell_x), math.ceil(LABEL_GAP / cell_y)  # long axes: every k-th label
    ax.set_xticks(range(0, S, every_x), labels=src_tokens[::every_x], fontsize=size,
                  rotation=90 if any(len(t) > 2 for t in src_tokens) else 0)
    ax.set_yticks(range(0, L, every_y), labels=out_tokens[::every_y], fontsize=size)
    ax.set_xlabel("source" + (f" (a label every {every_x} tokens)" if every_x > 1 else ""))
    ax.set_ylabel("output" + (f" (a label every {every_y} tokens)" if every_y > 1 else ""))
    if title:
        ax.set_title(textwrap.shorten(title, width=int(12 * fig.get_figwidth()), placeholder=" ..."), fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03, label="attention weight")
    return fig


def save_attention(
    path: str | os.PathLike, weights: Any, src_tokens: Sequence[str], out_tokens: Sequence[str], title: str | None = None
) -> None:
    """Draw :func:`attention_figure` and save it to ``path`` (PNG, atomic)."""
    save_figure(attention_figure(weights, src_tokens, out_tokens, title), path)


def smooth(values: Sequence[float], window: int) -> numpy.ndarray:
    """Trailing moving average of ``values`` over ``window`` points (shorter at the start)."""
    v = numpy.asarray(values, dtype=numpy.float64)
    if v.size == 0 or window <= 1:
        return v
    c = numpy.cumsum(numpy.concatenate([[0.0], v]))
    idx = numpy.arange(1, v.size + 1)
    lo = numpy.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def curves_figure(metrics: dict) -> Figure:
    """Loss and held-out accuracy against step, plus accuracy per length when present.

    ``metrics`` is the dict written to ``metrics.json`` by :mod:`minatt.train`:
    ``loss = {"step": [...], "value": [...]}`` (training loss per step),
    ``eval = {"step": [...], "loss": [...], "token_accuracy": [...], "sequence_accuracy": [...]}``
    and optionally ``by_length = [{"length", "token_accuracy", "sequence_accuracy", "trained"}, ...]``.
    """
    by_length = metrics.get("by_length") or []
    panels = 3 if by_length else 2
    fig = _figure(4.2 * panels, 3.4)
    loss, ev = metrics.get("loss", {}), metrics.get("eval", {})

    ax = fig.add_subplot(1, panels, 1)
    steps, values = loss.get("step", []), loss.get("value", [])
    if steps:
        ax.plot(steps, values, color="tab:blue", alpha=0.25, linewidth=0.8)
        ax.plot(steps, smooth(values, max(1, len(values) // 50)), color="tab:blue", label="train (smoothed)")
    if ev.get("step") and ev.get("loss"):
        ax.plot(ev["step"], ev["loss"], "o-", color="tab:orange", markersize=3, label="held out")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy per token")
    ax.set_yscale("log" if values and min(values) > 0 else "linear")
    ax.set_title("loss")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)

    ax = fig.add_subplot(1, panels, 2)
    if ev.get("step"):
        ax.plot(ev["step"], ev.get("token_accuracy", []), "o-", markersize=3, label="token")
        ax.plot(ev["step"], ev.get("sequence_accuracy", []), "s-", markersize=3, label="sequence")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step")
    ax.set_ylabel("held-out accuracy")
    ax.set_title("accuracy")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower right")

    if by_length:
        ax = fig.add_subplot(1, panels, 3)
        lengths = [row["length"] for row in by_length]
        seq = [row["sequence_accuracy"] for row in by_length]
        colors = ["tab:green" if row.get("trained", True) else "tab:gray" for row in by_length]
        ax.bar(lengths, seq, color=colors)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("source length (gray: longer than training)")
        ax.set_ylabel("sequence accuracy")
        ax.set_title("accuracy by length")
    fig.tight_layout()
    return fig


def save_curves(path: str | os.PathLike, metrics: dict) -> None:
    """Draw :func:`curves_figure` and save it to ``path`` (PNG, atomic)."""
    save_figure(curves_figure(metrics), path)
