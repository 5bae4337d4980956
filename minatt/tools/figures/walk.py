"""One attention step drawn left to right: the query, its scores, the weights, the context (chapter 1).

:func:`attention_walk_figure` takes the arrays of one decoder step of one sequence (host NumPy) and
draws four panels: the query vector, a bar per source token for the scores and for the weights,
and the keys with the context under them. Vectors are heatmaps on one colour scale, shown by a
colour bar.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy
from matplotlib.figure import Figure

from minatt.tools.plot import _figure

__all__ = ["attention_walk_figure"]


def attention_walk_figure(query: numpy.ndarray, scores: numpy.ndarray, weights: numpy.ndarray,
                          keys: numpy.ndarray, context: numpy.ndarray, tokens: Sequence[str],
                          title: str) -> Figure:
    """query (H,), scores (S,), weights (S,), keys (S, K), context (K,), tokens (S source tokens)."""
    S = len(tokens)
    fig = _figure(11.0, 3.6)
    grid = fig.add_gridspec(1, 5, width_ratios=[0.35, 2.0, 2.0, 4.0, 0.12], wspace=0.45)
    ax_q, ax_e, ax_a, ax_c, ax_bar = (fig.add_subplot(grid[0, i]) for i in range(5))
    scale = {"cmap": "RdBu", "vmin": -1.0, "vmax": 1.0, "aspect": "auto", "interpolation": "nearest"}
    ax_q.imshow(query[:, None], **scale)
    ax_q.set(xticks=[], ylabel="H units")
    ax_q.set_title("1. query q", fontsize=10)
    rows = numpy.arange(S)
    for ax, values, name in [(ax_e, scores, "2. scores e_s = score(q, k_s)"),
                             (ax_a, weights, "3. weights a = softmax(e)")]:
        ax.barh(rows, values, color="#4c72b0")
        ax.set_yticks(rows, list(tokens))
        ax.set_ylim(S - 0.5, -0.5)
        ax.axvline(0.0, color="#333333", linewidth=0.8)
        ax.set_title(name, fontsize=10)
    ax_a.set_xlim(0.0, 1.0)
    gap = numpy.full((1, keys.shape[1]), numpy.nan)  # a blank row between the keys and the context
    image = ax_c.imshow(numpy.vstack([keys, gap, context[None, :]]), **scale)
    ax_c.set_yticks([*rows, S + 1], [f"k: {t}" for t in tokens] + ["context c"])
    ax_c.set(xlabel="K units")
    ax_c.set_title("4. keys k_s, and the context c = Σ_s a_s k_s", fontsize=10)
    fig.colorbar(image, cax=ax_bar, label="vector entry")
    fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(left=0.05, right=0.95, bottom=0.16, top=0.8)
    return fig
