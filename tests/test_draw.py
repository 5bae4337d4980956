"""minatt.tools.figures.draw: a value used twice is marked, a split node is not, an unknown edge is refused."""

from __future__ import annotations

import pytest

from minatt.tools.figures.draw import Node, graph_figure, used_twice


def test_split_node_is_not_marked_and_unknown_edges_are_refused():
    nodes = [Node("a", "a", 0, 0, "split"), Node("b", "b", 1, 0), Node("c", "c", 1, 1)]
    assert used_twice(nodes, [("a", "b"), ("a", "c")]) == set()
    assert used_twice([*nodes[1:], Node("d", "d", 2, 0)], [("b", "c"), ("b", "d")]) == {"b"}
    with pytest.raises(ValueError, match="unknown nodes: z"):
        graph_figure(nodes, [("a", "z")], "bad")
