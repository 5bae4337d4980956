"""Where the lessons' figures go (minatt.tools.lesson_figures): never into the repository unless asked."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from minatt.errors import ConfigError
from minatt.tools import lesson_figures
from minatt.tools.lesson_figures import COMMITTED, figure_dir, save_lesson_figure


def test_by_default_figures_go_to_a_scratch_folder(monkeypatch):
    monkeypatch.delenv("MINATT_WRITE_FIGURES", raising=False)
    monkeypatch.delenv("MINATT_FIGURES_DIR", raising=False)
    assert figure_dir() == Path(tempfile.gettempdir()) / "minatt-figures"


def test_the_environment_picks_a_folder_and_only_write_figures_1_picks_the_committed_one(monkeypatch, tmp_path):
    monkeypatch.setenv("MINATT_FIGURES_DIR", str(tmp_path / "figs"))
    monkeypatch.setenv("MINATT_WRITE_FIGURES", "0")
    assert figure_dir() == tmp_path / "figs" and (tmp_path / "figs").is_dir()
    monkeypatch.setenv("MINATT_WRITE_FIGURES", "1")
    assert figure_dir() == COMMITTED == Path(__file__).resolve().parents[1] / "lessons" / "figures"


def test_write_figures_without_a_checkout_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("MINATT_WRITE_FIGURES", "1")
    monkeypatch.setattr(lesson_figures, "COMMITTED", tmp_path / "absent")
    with pytest.raises(ConfigError, match="needs a checkout with .*absent"):
        figure_dir()


def test_a_saved_figure_is_a_png_without_the_software_field(monkeypatch, tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    monkeypatch.delenv("MINATT_WRITE_FIGURES", raising=False)
    monkeypatch.setenv("MINATT_FIGURES_DIR", str(tmp_path))
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    path = save_lesson_figure(fig, "line.png", dpi=20)
    plt.close(fig)
    data = path.read_bytes()
    assert path == tmp_path / "line.png" and data.startswith(b"\x89PNG") and b"Software" not in data
