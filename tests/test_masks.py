"""minatt.ops.masks: the three mask helpers, on both backends."""

from __future__ import annotations

import numpy as np

from minatt.backend import array_module, asarray, is_device_array, to_numpy
from minatt.ops.masks import allowed_keys, padded_steps, padding_mask


def test_padded_steps_marks_padding_and_flags_the_steps_that_have_some(backend):
    mask = asarray(np.array([[True, True, False], [True, False, False]]))
    pad, flags = padded_steps(mask)
    assert to_numpy(pad)[:, :, 0].tolist() == [[False, False, True], [False, True, True]]
    assert padded_steps(None) == (None, ())
    if is_device_array(mask):  # reading the flags would wait for the GPU: every step counts as padded
        assert flags == (True, True, True)
        return
    assert flags == (False, True, True)
    assert padded_steps(asarray(np.ones((2, 3), dtype=bool))) == (None, (False, False, False))


def test_allowed_keys_combines_padding_and_causality(backend):
    mask = asarray(np.array([[True, True, False], [True, True, True]]))  # (N, S) = (2, 3)
    xp = array_module(mask)
    assert to_numpy(allowed_keys(mask, 2, 3, False, xp)).shape == (2, 1, 3)
    both = to_numpy(allowed_keys(mask, 3, 3, True, xp))  # (N, T, S)
    assert both[0].tolist() == [[True, False, False], [True, True, False], [True, True, False]]
    assert both[1].tolist() == np.tril(np.ones((3, 3), dtype=bool)).tolist()
    assert allowed_keys(None, 2, 3, False, xp) is None


def test_padding_mask_is_right_padded_with_the_special_lengths_first(backend, rng):
    mask = to_numpy(padding_mask(rng, 6, 4, (0, 1, 4)))
    lengths = mask.sum(axis=1)
    assert lengths[:3].tolist() == [0, 1, 4]
    assert all(mask[n, :lengths[n]].all() and not mask[n, lengths[n]:].any() for n in range(6))
    shuffled = to_numpy(padding_mask(rng, 6, 4, (0, 1, 4), shuffle=True)).sum(axis=1)
    assert {0, 1, 4} <= set(shuffled.tolist())


def test_a_host_mask_gives_its_flags_and_crosses_to_the_device_once(backend):
    """padded_steps(host mask, like=x): the flags read on the host, the pad where x is."""
    x = asarray(np.zeros((2, 3, 1)))
    pad, flags = padded_steps(np.array([[True, True, False], [True, True, True]]), like=x)
    assert flags == (False, False, True)
    assert is_device_array(pad) == is_device_array(x)
    assert to_numpy(pad)[:, :, 0].tolist() == [[False, False, True], [False, False, False]]
    assert padded_steps(np.ones((2, 3), dtype=bool), like=x) == (None, (False, False, False))
