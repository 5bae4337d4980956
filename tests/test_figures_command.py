"""minatt.tools.figures.figures_command: the figures command writes every picture, as PNG, never over the
committed ones by default."""

from __future__ import annotations

import pytest

from minatt.cli import main
from minatt.tools.figures import GRAPHS, make_figures
from minatt.tools.figures.figures_command import DEFAULT_OUT

PNG = b"\x89PNG\r\n\x1a\n"


def test_figures_command_draws_the_graphs(tmp_path, capsys):
    assert main(["figures", "--only", "graphs", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{stem}.png" for stem in GRAPHS)
    assert all(p.read_bytes().startswith(PNG) for p in tmp_path.iterdir())
    assert f"wrote {len(GRAPHS)} pictures" in capsys.readouterr().out


@pytest.mark.slow
def test_small_run_writes_every_picture(tmp_path):
    paths = make_figures(tmp_path, small=True, log=lambda line: None)
    names = {p.name for p in paths}
    assert names == {p.name for p in tmp_path.iterdir()}
    assert {"curves_reverse.png", "heatmap_reverse.png", "heatmap_sort.png", "heatmap_denoise.png",
            "scores_reverse.png", "snapshots_reverse.png"} | {f"{stem}.png" for stem in GRAPHS} == names
    assert all(p.read_bytes().startswith(PNG) and p.stat().st_size > 5000 for p in paths)


def test_default_output_is_not_the_committed_figures():
    assert "lessons" not in DEFAULT_OUT
