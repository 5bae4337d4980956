"""minatt.tools.checkpoint: checkpoint files: round trips, atomic writes, refusing pickles, and messages that
say what is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from minatt import atomic
from minatt.errors import CheckpointError, MinattError
from minatt.tools import checkpoint as ckpt


def _state(seed: int = 0):
    rng = np.random.default_rng(seed)
    params = {
        "enc.W": rng.standard_normal((3, 4)).astype(np.float32),
        "dec.b": rng.standard_normal(5).astype(np.float64),
        "emb": rng.standard_normal((6, 2)).astype(np.float32),
    }
    optim = {"t": np.asarray(7, dtype=np.int64), "lr": np.asarray(0.01), "m.enc.W": np.ones((3, 4), np.float32)}
    meta = {"step": 7, "data_rng": np.random.default_rng(1).bit_generator.state, "history": [1.5, 1.25]}
    return params, optim, meta


def test_round_trip_keeps_values_dtypes_and_meta(tmp_path):
    params, optim, meta = _state()
    path = tmp_path / "checkpoint.npz"
    ckpt.save_checkpoint(path, params, optim, meta)
    p2, o2, m2 = ckpt.load_checkpoint(path)
    assert set(p2) == set(params) and set(o2) == set(optim)
    for name, a in params.items():
        assert p2[name].dtype == a.dtype and np.array_equal(p2[name], a)
    for name, a in optim.items():
        assert o2[name].dtype == a.dtype and np.array_equal(o2[name], a)
    assert m2["step"] == 7 and m2["history"] == [1.5, 1.25]
    # The PCG64 state has 128-bit integers: JSON keeps them exactly, so the generator resumes exactly.
    g = np.random.default_rng(5)
    g.bit_generator.state = m2["data_rng"]
    assert np.array_equal(g.integers(0, 1 << 30, 8), np.random.default_rng(1).integers(0, 1 << 30, 8))
    # Plain arrays only: the meta is a 0-d unicode array, nothing is an object array.
    with np.load(path, allow_pickle=False) as npz:
        assert npz["meta"].dtype.kind == "U" and npz["meta"].shape == ()
        assert all(npz[k].dtype != object for k in npz.files)


def test_simulated_crash_mid_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    params, optim, meta = _state(0)
    ckpt.save_checkpoint(path, params, optim, meta)
    new_params, _, _ = _state(1)

    real_write = atomic.atomic_writer

    class Crash(RuntimeError):
        pass

    def crashing_writer(target):
        class Half:
            def __enter__(self):
                self.cm = real_write(target)
                self.f = self.cm.__enter__()
                return self

            def write(self, data):
                self.f.write(data[: len(data) // 2])
                raise Crash("power cut")

            def __exit__(self, *exc):
                return self.cm.__exit__(*exc)

        return Half()

    monkeypatch.setattr(atomic, "atomic_writer", crashing_writer)  # where every atomic write goes
    with pytest.raises(Crash):
        ckpt.save_checkpoint(path, new_params, optim, {**meta, "step": 8})
    monkeypatch.undo()
    loaded, _, m = ckpt.load_checkpoint(path)
    assert m["step"] == 7 and np.array_equal(loaded["enc.W"], params["enc.W"])
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]  # the temp file was cleaned up


def test_hard_kill_mid_write_keeps_previous_checkpoint(tmp_path):
    """A process killed (os._exit) half-way through writing leaves the old file loadable."""
    path = tmp_path / "checkpoint.npz"
    params, optim, meta = _state(0)
    ckpt.save_checkpoint(path, params, optim, meta)
    script = textwrap.dedent(f"""
        import os, numpy as np
        from minatt.tools import checkpoint as ckpt
        real = ckpt.atomic_write_bytes
        def dying(path, data):
            with ckpt.atomic_writer(path) as f:
                f.write(data[: len(data) // 2]); f.flush()
                os._exit(9)
        ckpt.atomic_write_bytes = dying
        ckpt.save_checkpoint({str(path)!r}, {{"enc.W": np.zeros((3, 4), np.float32)}}, {{}}, {{"step": 99}})
    """)
    proc = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    stray = [p.name for p in tmp_path.iterdir() if p.name != "checkpoint.npz"]
    assert len(stray) == 1 and stray[0].endswith(".tmp")  # the half-written temp file, never renamed
    loaded, _, m = ckpt.load_checkpoint(path)
    assert m["step"] == 7 and np.array_equal(loaded["enc.W"], params["enc.W"])


def test_truncated_checkpoint_is_reported(tmp_path):
    path = tmp_path / "checkpoint.npz"
    ckpt.save_checkpoint(path, *_state())
    data = path.read_bytes()
    for cut in (len(data) // 2, 100, 10):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or corrupted"):
            ckpt.load_checkpoint(path)


def test_corrupted_bytes_are_reported(tmp_path):
    path = tmp_path / "checkpoint.npz"
    params = {"W": np.arange(4000, dtype=np.float32)}
    ckpt.save_checkpoint(path, params, {}, {"step": 1})
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        ckpt.load_checkpoint(path)


def test_garbage_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="not an .npz archive"):
        ckpt.load_checkpoint(path)
    np.savez(path, W=np.zeros(3))  # an npz, but not minatt's
    with pytest.raises(CheckpointError, match="not a minatt checkpoint"):
        ckpt.load_checkpoint(path)
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))  # a bare .npy
    with pytest.raises(CheckpointError, match="not an .npz archive"):
        ckpt.load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.load_checkpoint(tmp_path / "nope.npz")


class _Planted:
    """Unpickling this object creates a marker file: the proof that pickled code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_object_array_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "checkpoint.npz"
    meta = np.array(json.dumps({"format": "minatt-checkpoint", "version": 1, "step": 0}))
    evil = np.empty(1, dtype=object)
    evil[0] = _Planted(str(marker))
    np.savez(path, **{"param/W": evil, "meta": meta})  # np.savez pickles object arrays
    with pytest.raises(CheckpointError, match="refusing to load object arrays") as info:
        ckpt.load_checkpoint(path)
    assert isinstance(info.value, MinattError) and "param/W" in str(info.value)
    assert not marker.exists()
    # The planted payload is real: loading the same file with pickles allowed does run it.
    with np.load(path, allow_pickle=True) as npz:
        npz["param/W"]
    assert marker.exists()


def test_check_arrays_names_every_difference():
    expected = {"W": ((3, 4), "float32"), "b": ((4,), "float32"), "E": ((5, 2), "float32")}
    found = {"W": np.zeros((3, 5), np.float32), "b": np.zeros(4, np.float64), "X": np.zeros(1, np.float32)}
    with pytest.raises(CheckpointError) as info:
        ckpt.check_arrays(found, expected, source="run/checkpoint.npz")
    msg = str(info.value)
    assert "missing E" in msg and "unexpected X" in msg
    assert "W has shape (3, 5), config expects (3, 4)" in msg
    assert "b has dtype float64, config expects float32" in msg
    assert "run/checkpoint.npz" in msg
    ckpt.check_arrays({"W": np.zeros((3, 4), np.float32)}, {"W": ((3, 4), "float32")})  # a match is silent


def test_run_directory_errors_say_what_to_do(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist: pass the directory"):
        ckpt.require_run_dir(tmp_path / "missing")
    with pytest.raises(CheckpointError, match=r"is not a minatt run \(no config.json or checkpoint.npz\)"):
        ckpt.require_run_dir(tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(CheckpointError, match="is a file, not a run directory"):
        ckpt.require_run_dir(tmp_path / "f")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match=r"no checkpoint.npz"):
        ckpt.require_run_dir(tmp_path)
    ckpt.save_checkpoint(tmp_path / "checkpoint.npz", *_state())
    assert ckpt.is_run_dir(tmp_path)
    assert ckpt.require_run_dir(tmp_path)["metrics"] == tmp_path / "metrics.json"


def test_json_files_are_atomic_and_damage_is_reported(tmp_path):
    path = tmp_path / "config.json"
    ckpt.atomic_write_json(path, {"a": 1})
    assert ckpt.read_json(path) == {"a": 1}
    path.write_text('{"a": ')
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        ckpt.read_json(path, "config")
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.read_json(tmp_path / "none.json", "config")
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_object_dtype_is_not_saved(tmp_path):
    with pytest.raises(CheckpointError, match="not a plain array dtype"):
        ckpt.save_checkpoint(tmp_path / "c.npz", {"W": np.array([{"a": 1}], dtype=object)})
    assert not Path(tmp_path / "c.npz").exists()
