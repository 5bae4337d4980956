"""minatt.tools.figures, the package, and one rule over every picture of the course: each heatmap has a
colour scale. (Each module has its own file: test_graphs, test_draw, test_figures_command, test_trained,
test_walk.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from minatt.experiments.alignment_figures import heatmap_figure
from minatt.tools.figures.walk import attention_walk_figure
from minatt.tools.plot import attention_figure

ROOT = Path(__file__).resolve().parents[1]


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


def test_the_package_names_its_command_and_graphs():
    from minatt.tools import figures
    from minatt.tools.figures import figures_command, graphs

    assert figures.make_figures is figures_command.make_figures and figures.GRAPHS is graphs.GRAPHS
    assert set(figures.GROUPS) == {"graphs", "trained"}

