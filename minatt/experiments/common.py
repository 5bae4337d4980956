"""What the experiments share: where they write, their colours, figures and result files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from minatt.checkpoint import atomic_write_json
from minatt.errors import ConfigError
from minatt.plot import save_figure

__all__ = ["COLORS", "FIGURES", "SMALL_OUT", "figure", "log", "make_out", "write_result"]

FIGURES = Path("lessons/figures")
SMALL_OUT = Path("runs/experiment-small")
COLORS = {"none": "tab:gray", "additive": "tab:blue", "general": "tab:orange", "dot": "tab:green",
          "additive+bi": "tab:purple", "concat": "tab:red"}


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
