"""minatt.ops.fused_cells: the LSTM and GRU cells' kernels (forward and backward) agree with the per-equation
reference (minatt.ops.lstm, minatt.ops.gru), in float32 and float64, on the CPU build and on a GPU."""

from __future__ import annotations

import numpy as np
import pytest

import minatt.ops.fused_cells as fused_cells
from minatt.ops.gru import gru_cell_backward, gru_cell_forward
from minatt.ops.lstm import lstm_cell_backward, lstm_cell_forward
from tests.fused_harness import DTYPES, assert_agree, draw, reference


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_lstm_cell(device_xp, dtype):
    xp, rng = device_xp, np.random.default_rng(1)
    a, c_prev, dh, dc = (draw(xp, rng, s, dtype) for s in ((5, 12), (5, 3), (5, 3), (5, 3)))
    got, want = fused_cells.lstm_cell_forward(a, c_prev), reference(lstm_cell_forward, a, c_prev)
    assert_agree(got[:2] + tuple(got[2]), want[:2] + tuple(want[2]), dtype)
    for dc_next in (dc, None):
        assert_agree(fused_cells.lstm_cell_backward(dh, dc_next, got[2]),
                     reference(lstm_cell_backward, dh, dc_next, want[2]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_gru_cell(device_xp, dtype):
    xp, rng = device_xp, np.random.default_rng(2)
    ax, ah, h_prev, dh = (draw(xp, rng, s, dtype) for s in ((4, 9), (4, 9), (4, 3), (4, 3)))
    got, want = fused_cells.gru_cell_forward(ax, ah, h_prev), reference(gru_cell_forward, ax, ah, h_prev)
    assert_agree((got[0], *got[1]), (want[0], *want[1]), dtype)
    assert_agree(fused_cells.gru_cell_backward(dh, got[1]), reference(gru_cell_backward, dh, want[1]), dtype)
