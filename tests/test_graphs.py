"""minatt.tools.figures.graphs: each computational graph marks exactly the values whose gradients the code's
backward sums."""

from __future__ import annotations

import pytest

from minatt.tools.figures import GRAPHS
from minatt.tools.figures.draw import used_twice

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
