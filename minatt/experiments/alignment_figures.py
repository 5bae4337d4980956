"""The alignment experiment's figures: accuracy against corruption rate (with the ceiling), and attention maps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy

from minatt.experiments.common import COLORS, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["alignment_figure", "heatmap_figure"]

ROWS = {"token_accuracy": "token accuracy", "relative_token": "token accuracy / ceiling",
        "agreement": "agreement with the ceiling's output", "sequence_accuracy": "sequence accuracy",
        "alignment_accuracy": "alignment accuracy"}


def alignment_figure(result: dict[str, Any]) -> Figure:
    """Each metric against the test corruption rate, one column per task; the ceiling drawn in black.

    Raw accuracies get the ceiling of their condition (what the task done exactly on the corrupted
    source scores); relative accuracy, agreement and alignment accuracy have ceiling 1.
    """
    cfg, tasks = result["config"], result["results"]["tasks"]
    rates, names = cfg["test_rates"], list(tasks)
    fig = figure(5.4 * len(names), 3.1 * len(ROWS))
    styles = {"bahdanau": "-", "luong": "--"}
    for col, name in enumerate(names):
        ceiling = {"token_accuracy": [c["token"] for c in tasks[name]["ceiling"]],
                   "sequence_accuracy": [c["sequence"] for c in tasks[name]["ceiling"]]}
        for row, (key, label) in enumerate(ROWS.items()):
            ax = fig.add_subplot(len(ROWS), len(names), row * len(names) + col + 1)
            ax.plot(rates, ceiling.get(key, [1.0] * len(rates)), "k-", linewidth=2.2, alpha=0.6,
                    label="ceiling (a perfect model)", zorder=1)
            variants = tasks[name]["variants"]
            for k, (v, r) in enumerate(variants.items()):
                s = r[key]
                offset = (k - len(variants) / 2) * 0.003
                ax.errorbar([x + offset for x in rates], s["mean"],
                            yerr=[numpy.subtract(s["mean"], s["lo"]), numpy.subtract(s["hi"], s["mean"])],
                            fmt="o" + styles[r["decoder"]], color=COLORS.get(r["score"]), markersize=3, capsize=2,
                            linewidth=1.2, label=f"{v} ({r['params'] / 1000:.1f}k)")
            ax.set_ylim(-0.02, 1.05)
            ax.set_xlabel("corruption rate of the test sources")
            ax.set_ylabel(label)
            ax.set_title(f"{name}: {label}", fontsize=10)
            ax.grid(alpha=0.3)
            if row == 0 and col == 0:
                ax.legend(fontsize=7, loc="lower left")
    kind = next(iter(next(iter(tasks.values()))["variants"].values()))["token_accuracy"]["kind"]
    bars = "95% bootstrap interval over seeds and test sequences" if kind == "bootstrap" else "min to max over seeds"
    fig.suptitle(f"trained on clean sources of {cfg['min_len']}..{cfg['max_len']} digits, {cfg['steps']} steps, "
                 f"hidden {cfg['hidden']};\ntested on corrupted ones ({cfg['per_rate']} per rate); mean of "
                 f"{len(cfg['seeds'])} seeds, bars = {bars}", fontsize=9)
    fig.tight_layout()
    return fig


def heatmap_figure(result: dict[str, Any]) -> Figure:
    """One corrupted held-out input per task, the attention of every variant (first seed) side by side.

    One row per (task, decoder), one column per score. Red squares mark the source position the
    task done exactly on this (corrupted) source reads for each output token.
    """
    cfg, tasks = result["config"], result["results"]["tasks"]
    rows = [(name, d) for name in tasks for d in cfg["decoders"]]
    fig = figure(2.7 * len(cfg["scores"]), 2.6 * len(rows))
    for row, (name, d) in enumerate(rows):
        for col, score in enumerate(cfg["scores"]):
            ex = tasks[name]["variants"][f"{score}/{d}"]["runs"][0]["example"]
            ax = fig.add_subplot(len(rows), len(cfg["scores"]), row * len(cfg["scores"]) + col + 1)
            image = ax.imshow(numpy.array(ex["weights"]), cmap="Greys", vmin=0, vmax=1, aspect="auto")
            true = [(j, s) for j, s in enumerate(ex["where"]) if s >= 0]
            ax.scatter([s for _, s in true], [j for j, _ in true], s=30, facecolors="none", edgecolors="red",
                       marker="s", linewidths=0.8)
            ax.set_title(f"{name}: {score}/{d}", fontsize=8)
            ax.set_xlabel("source position", fontsize=7)
            ax.set_ylabel("output step", fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"attention on one held-out source at rate {max(cfg['test_rates'])} (first seed); "
                 "red squares: the position the task done exactly on this source reads", fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.93, 1))
    bar = fig.add_axes((0.945, 0.3, 0.012, 0.4))  # one scale for every panel: all share vmin 0, vmax 1
    fig.colorbar(image, cax=bar, label="attention weight")
    return fig
