"""Atomic writes (minatt.atomic): the file appears whole, or the previous one stays, with no temporary left."""

from __future__ import annotations

import os
import stat

import pytest

from minatt.atomic import atomic_write_bytes, atomic_writer


def test_a_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "deep" / "er" / "run.json"   # missing folders are made
    atomic_write_bytes(path, b"first")
    atomic_write_bytes(path, b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(path.parent) == ["run.json"]


def test_a_crash_mid_write_keeps_the_previous_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "ckpt.npz"
    atomic_write_bytes(path, b"good")
    with pytest.raises(KeyboardInterrupt), atomic_writer(path) as f:
        f.write(b"half of the new")
        assert path.read_bytes() == b"good"   # nothing is visible before the block ends
        raise KeyboardInterrupt
    assert path.read_bytes() == b"good"
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_a_new_file_gets_the_usual_permissions_not_mkstemps_private_ones(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    path = tmp_path / "figure.png"
    atomic_write_bytes(path, b"png")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
