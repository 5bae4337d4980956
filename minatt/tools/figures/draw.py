"""Boxes and arrows on a matplotlib canvas: the small helper the computational graphs are drawn with.

A graph is a list of :class:`Node` (a labelled box at a hand-chosen position) and a list of
edges ``(source key, target key)`` or ``(source key, target key, label)``. :func:`graph_figure`
draws it and colours every node by its kind; a node with two or more outgoing edges is found
from the edges (not marked by hand) and coloured as "used twice": in backward, the gradients
arriving from each of its uses are summed. A "split" node's uses take separate parts of it
(column blocks, or the two outputs of a cell), so its gradients are joined instead and it is
never coloured so.

>>> fig = graph_figure([Node("x", "x", 0, 0, "input"), Node("y", "y = 2x", 2, 0)], [("x", "y")], "tiny")
>>> [t.get_text() for t in fig.axes[0].texts][:2]
['x', 'y = 2x']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from minatt.tools.plot import _figure

__all__ = ["COLOURS", "Node", "graph_figure", "used_twice"]

#: Fill colour of each kind of node, and its legend entry.
COLOURS = {
    "input": ("#cfe3f7", "input (from outside the graph)"),
    "param": ("#d9d9d9", "parameter"),
    "value": ("#ffffff", "computed value, used once"),
    "twice": ("#f6a04d", "used two or more times: its gradients are summed in backward"),
    "split": ("#fff2b3", "its uses take separate parts: their gradients are joined, not summed"),
    "output": ("#e3f1d4", "leaves the graph"),
}


class Node(NamedTuple):
    """A box: ``key`` names it in edges, ``label`` is drawn in it at (x, y) (data units, y up)."""

    key: str
    label: str
    x: float
    y: float
    kind: str = "value"  # "input", "param", "value", "split" or "output"


def used_twice(nodes: Sequence[Node], edges: Sequence[tuple]) -> set[str]:
    """The keys of the nodes with two or more outgoing edges (a "split" node's uses take separate parts)."""
    fan_out = Counter(edge[0] for edge in edges)
    return {n.key for n in nodes if fan_out[n.key] >= 2 and n.kind not in ("split", "output")}


def graph_figure(nodes: Sequence[Node], edges: Sequence[tuple], title: str,
                 size: tuple[float, float] | None = None, note: str | None = None) -> Figure:
    """Draw the graph: boxes coloured by kind (and "used twice" from the edges), arrows, a legend.

    ``size`` is the figure size in inches (default: from the span of the positions);
    ``note`` is an optional line under the title.
    """
    by_key = {n.key: n for n in nodes}
    unknown = sorted({k for e in edges for k in e[:2]} - set(by_key))
    if unknown:
        raise ValueError(f"edges name unknown nodes: {', '.join(unknown)}")
    twice = used_twice(nodes, edges)
    xs, ys = [n.x for n in nodes], [n.y for n in nodes]
    width, height = size or (1.1 * (max(xs) - min(xs)) + 2.5, 0.9 * (max(ys) - min(ys)) + 2.2)
    fig = _figure(width, height)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    boxes = {}
    for n in nodes:
        kind = "twice" if n.key in twice else n.kind
        style = "round,pad=0.35" if kind in ("value", "twice", "split") else "square,pad=0.35"
        boxes[n.key] = ax.text(n.x, n.y, n.label, ha="center", va="center", fontsize=9, zorder=3,
                               bbox=dict(boxstyle=style, facecolor=COLOURS[kind][0], edgecolor="#333333",
                                         linestyle="--" if kind == "output" else "-"))
    for edge in edges:
        src, dst = by_key[edge[0]], by_key[edge[1]]
        ax.annotate("", xy=(dst.x, dst.y), xytext=(src.x, src.y), zorder=4,
                    arrowprops=dict(arrowstyle="-|>", color="#444444", shrinkA=1, shrinkB=1, mutation_scale=12,
                                    patchA=boxes[src.key].get_bbox_patch(),
                                    patchB=boxes[dst.key].get_bbox_patch(),
                                    connectionstyle="arc3,rad=0.0"))
        if len(edge) > 2:
            ax.text((src.x + dst.x) / 2, (src.y + dst.y) / 2, edge[2], fontsize=7, color="#7a3b00",
                    ha="center", va="center", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none", alpha=0.85))
    kinds = [k for k in COLOURS if k == "twice" and twice or k != "twice" and
             any(n.kind == k and n.key not in twice for n in nodes)]
    handles = [Patch(facecolor=COLOURS[k][0], edgecolor="#333333", label=COLOURS[k][1]) for k in kinds]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(3, len(handles)),
              fontsize=8, frameon=False)
    ax.set_title(title if note is None else f"{title}\n{note}", fontsize=10)
    return fig
