"""Sinusoidal positional encodings (minatt.ops.positions): every entry is its formula, for even and odd D,
and a float32 table is the float64 one rounded; a few entries checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minatt.backend import array_module, default_dtype, to_numpy
from minatt.ops.positions import sinusoidal_positions


@pytest.mark.parametrize("dim", [6, 7, 1])
def test_every_entry_is_its_formula(backend, dim):
    """PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(same): an odd D ends on a sine."""
    pe = sinusoidal_positions(9, dim, "float64")
    assert array_module(pe) is backend and pe.shape == (9, dim) and pe.dtype == np.float64
    expected = np.empty((9, dim))
    for t in range(9):
        for j in range(dim):
            angle = t / 10000.0 ** (2 * (j // 2) / dim)  # features 2i and 2i + 1 share the angle
            expected[t, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    np.testing.assert_allclose(to_numpy(pe), expected, rtol=0, atol=1e-12)


def test_float32_table_is_the_float64_table_rounded(backend):
    """The angles are computed in float64 whatever the dtype: far positions keep their precision
    (in float32 the angles up to t = 5000 are off by up to 1.2e-5, and so are their sines)."""
    pe32 = sinusoidal_positions(5000, 8, "float32")
    assert pe32.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(pe32), to_numpy(sinusoidal_positions(5000, 8, "float64")).astype(np.float32))


def test_sinusoidal_positions(backend):
    with default_dtype("float64"):
        pe = to_numpy(sinusoidal_positions(50, 7))
    assert pe.shape == (50, 7) and pe.dtype == np.float64
    np.testing.assert_array_equal(pe[0], [0, 1, 0, 1, 0, 1, 0])  # sin 0 and cos 0
    t, i = 13, 2
    assert pe[t, 2 * i] == pytest.approx(np.sin(t / 10000 ** (2 * i / 7)), abs=1e-15)
    assert pe[t, 2 * i + 1] == pytest.approx(np.cos(t / 10000 ** (2 * i / 7)), abs=1e-15)
    assert len({tuple(np.round(row, 12)) for row in pe}) == 50  # every position distinct
    assert sinusoidal_positions(3, 4).dtype == np.float32  # the default dtype
