"""The package ``minatt`` itself: what ``import minatt`` promises (the backend switch and its helpers,
the version the build declares)."""

from __future__ import annotations

import configparser
from pathlib import Path

import numpy as np

import minatt
from minatt import backend

ROOT = Path(__file__).resolve().parents[1]


def test_every_exported_name_exists_and_is_the_backends():
    for name in minatt.__all__:
        assert hasattr(minatt, name), name
        if name != "__version__":
            assert getattr(minatt, name) is getattr(backend, name), name


def test_the_version_is_the_one_setup_cfg_builds():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert minatt.__version__ == cfg["metadata"]["version"]


def test_use_switches_the_backend_and_restores_it():
    before = minatt.current()
    with minatt.use("numpy"):
        assert minatt.current() == "numpy"
        x = minatt.asarray([1.0, 2.0])
        assert isinstance(x, np.ndarray)
        np.testing.assert_array_equal(minatt.to_numpy(x), [1.0, 2.0])
    assert minatt.current() == before
