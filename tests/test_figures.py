"""The course's pictures: the figures command writes every file, the graphs mark the right nodes, and
every heatmap has a colour scale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minatt.cli import main
from minatt.experiments.alignment_figures import heatmap_figure
from minatt.tools.figures import GRAPHS, make_figures
from minatt.tools.figures.draw import Node, graph_figure, used_twice
from minatt.tools.figures.figures_command import DEFAULT_OUT
from minatt.tools.figures.walk import attention_walk_figure
from minatt.tools.plot import attention_figure

ROOT = Path(__file__).resolve().parents[1]

PNG = b"\x89PNG\r\n\x1a\n"

# The values each graph's backward sums two or more gradients for, as the code does it:
# lstm_cell_backward: dc_t = dc + ...; lstm_backward: dh = dh + dhs[:, t] and dWx etc. summed over steps;
# BahdanauDecoder.step_backward: ds_prev + dq, do[:, H:] + dz, ds_next + do[:, :H];
# LuongDecoder.step_backward: dh_next + dcat[:, K:] + dq, do + dfeed_next; keys and P: MemoryGrads.
SUMMED = {
    "graph_encoder_decoder": {"h1", "h2", "h3", "h4", "s0", "s1", "s2"},  # each h_s: every step's c_t, and h_{s+1}
    "graph_lstm_step": {"c", "h"},
    "graph_bptt": {"W", "h1", "h2", "h3"},
    "graph_bahdanau_step": {"s_prev", "ctx", "s", "keys", "P"},
    "graph_luong_step": {"h", "ht", "keys", "P"},
}


@pytest.mark.parametrize("stem", sorted(GRAPHS))
def test_graph_marks_exactly_the_values_whose_gradients_are_summed(stem):
    nodes, edges, _, _ = GRAPHS[stem]()
    assert used_twice(nodes, edges) == SUMMED[stem]


def test_split_node_is_not_marked_and_unknown_edges_are_refused():
    nodes = [Node("a", "a", 0, 0, "split"), Node("b", "b", 1, 0), Node("c", "c", 1, 1)]
    assert used_twice(nodes, [("a", "b"), ("a", "c")]) == set()
    assert used_twice([*nodes[1:], Node("d", "d", 2, 0)], [("b", "c"), ("b", "d")]) == {"b"}
    with pytest.raises(ValueError, match="unknown nodes: z"):
        graph_figure(nodes, [("a", "z")], "bad")


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


def _images_without_a_colour_scale(fig) -> list:
    """The heatmaps of ``fig`` whose colours no colour bar explains (one bar may serve several
    heatmaps drawn with the same colour map and range)."""
    images = [image for ax in fig.axes for image in ax.images]
    explained = {(im.get_cmap().name, im.norm.vmin, im.norm.vmax) for im in images if im.colorbar is not None}
    return [im for im in images if (im.get_cmap().name, im.norm.vmin, im.norm.vmax) not in explained]


def test_every_heatmap_has_a_colour_scale():
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(4), size=3)  # (T, S) = (3, 4)
    figures = {
        "attention_figure": attention_figure(weights, list("abcd"), list("xyz")),
        "attention_walk_figure": attention_walk_figure(
            rng.uniform(-1, 1, 6), rng.normal(size=4), weights[0], rng.uniform(-1, 1, (4, 5)),
            weights[0] @ rng.uniform(-1, 1, (4, 5)), list("abcd"), "walk"),
    }
    alignment = json.loads((ROOT / "lessons" / "figures" / "10_alignment.json").read_text())
    figures["alignment heatmap_figure"] = heatmap_figure(alignment)  # chapter 10's, from its committed run
    for name, fig in figures.items():
        assert [ax.images for ax in fig.axes if ax.images], name  # it does draw heatmaps
        assert _images_without_a_colour_scale(fig) == [], name
