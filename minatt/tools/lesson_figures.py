"""Where the lessons' figures go: a scratch directory, unless the committed ones are regenerated.

Running a chapter (as a test, or as a learner's notebook) never rewrites a file of the
repository. A chapter saves its figures with :func:`save_lesson_figure`, which writes to

- ``lessons/figures/``, the committed copies the Markdown shows, only when the environment
  says ``MINATT_WRITE_FIGURES=1`` (the explicit command that regenerates them);
- otherwise ``$MINATT_FIGURES_DIR`` when set (the lesson tests point it at a temporary
  directory), or else ``minatt-figures`` in the system's temporary directory.

Regenerate the committed figures of every chapter, or of one::

    MINATT_WRITE_FIGURES=1 python -m pytest -q lessons
    MINATT_WRITE_FIGURES=1 python -m pytest -q lessons/04-lstm-bptt.md
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from minatt.errors import ConfigError

__all__ = ["COMMITTED", "figure_dir", "save_lesson_figure"]

COMMITTED = Path(__file__).resolve().parents[2] / "lessons" / "figures"


def figure_dir() -> Path:
    """The directory a chapter's figures go to now (created if needed); see the module docstring."""
    if os.environ.get("MINATT_WRITE_FIGURES") == "1":
        if not COMMITTED.is_dir():
            raise ConfigError(f"MINATT_WRITE_FIGURES=1 needs a checkout with {COMMITTED}; this one has none")
        return COMMITTED
    out = Path(os.environ.get("MINATT_FIGURES_DIR") or Path(tempfile.gettempdir()) / "minatt-figures")
    out.mkdir(parents=True, exist_ok=True)
    return out


def save_lesson_figure(fig: Any, name: str, dpi: int = 80, **savefig_kwargs: Any) -> Path:
    """Save a matplotlib figure as ``name`` in :func:`figure_dir`; return its path.

    The PNG carries no "Software" field, so regenerating a figure with another matplotlib
    version changes the file only if the picture changes.
    """
    path = figure_dir() / name
    fig.savefig(path, dpi=dpi, metadata={"Software": None}, **savefig_kwargs)
    return path
