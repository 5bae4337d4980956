"""minatt.experiments.alignment_figures: the alignment experiment's two figures, drawn from chapter 10's committed
result: a panel per (metric, task) with the ceiling, and the attention maps with the true positions marked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from minatt.experiments.alignment_figures import ROWS, alignment_figure, heatmap_figure

RESULT = json.loads((Path(__file__).resolve().parents[1] / "lessons" / "figures" / "10_alignment.json").read_text())


def test_one_panel_per_metric_and_task_with_the_ceiling_first():
    fig = alignment_figure(RESULT)
    tasks = list(RESULT["results"]["tasks"])
    assert len(fig.axes) == len(ROWS) * len(tasks)
    first = fig.axes[0]  # token accuracy of the first task: its ceiling is the task done exactly
    ceiling = [c["token"] for c in RESULT["results"]["tasks"][tasks[0]]["ceiling"]]
    np.testing.assert_allclose(first.lines[0].get_ydata(), ceiling)
    assert first.get_title() == f"{tasks[0]}: token accuracy"


def test_the_heatmaps_show_the_first_seeds_weights_and_mark_the_true_positions():
    fig = heatmap_figure(RESULT)
    cfg, tasks = RESULT["config"], RESULT["results"]["tasks"]
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == len(tasks) * len(cfg["decoders"]) * len(cfg["scores"])
    examples = [tasks[name]["variants"][f"{cfg['scores'][0]}/{decoder}"]["runs"][0]["example"]
                for name in tasks for decoder in cfg["decoders"]]  # the first column, row by row
    index = next(i for i, ex in enumerate(examples) if ex["where"] != list(range(len(ex["where"]))))  # not the identity
    example = examples[index]
    panel = panels[index * len(cfg["scores"])]
    np.testing.assert_allclose(panel.images[0].get_array(), example["weights"])
    marked = panel.collections[0].get_offsets()
    true = [(s, j) for j, s in enumerate(example["where"]) if s >= 0]
    assert len(true) < len(example["where"]) or true != [(j, j) for j in range(len(true))]
    np.testing.assert_array_equal(np.asarray(marked), np.asarray(true, dtype=float).reshape(-1, 2))
