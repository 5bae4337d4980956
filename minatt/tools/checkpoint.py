"""Checkpoint files and run directories: atomic writes, safe loads, checks that say what differs.

A checkpoint is one ``.npz`` file of plain arrays. Model parameters are stored under
``param/<name>``, optimiser state under ``optim/<key>``, and everything JSON-able (the step,
the data generator's state, the loss history) as one JSON document in a 0-d unicode array
under ``meta``. Nothing is pickled, and loading uses ``numpy.load(allow_pickle=False)``, so
opening a checkpoint can never run code: a file holding object arrays is refused.

Every file is written atomically (:mod:`minatt.atomic`): the bytes go to a temporary file in
the same directory, which is flushed, synced and then renamed over the target. A crash
mid-write leaves the previous file untouched (and at worst a stray ``*.tmp`` file).

A run directory (written by :mod:`minatt.train`) holds::

    config.json       the whole training and model configuration
    checkpoint.npz    parameters, optimiser state, step, data RNG state, history
    metrics.json      steps, seconds, loss history, held-out accuracy (overall and per length)
    curves.png        loss and accuracy against step
    attention.png     the attention of one held-out example
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy

from minatt.atomic import atomic_write_bytes, atomic_writer
from minatt.errors import CheckpointError

__all__ = [
    "CHECKPOINT_FILE",
    "CONFIG_FILE",
    "METRICS_FILE",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_writer",
    "check_arrays",
    "dumps",
    "is_run_dir",
    "load_checkpoint",
    "read_json",
    "require_run_dir",
    "run_paths",
    "save_checkpoint",
    "spec_of",
]

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.npz"
METRICS_FILE = "metrics.json"
FORMAT = "minatt-checkpoint"
VERSION = 1


# dtype kinds a checkpoint may hold: bool, signed/unsigned int, float, unicode.
_ALLOWED_KINDS = "biufU"


# ---------------------------------------------------------------------------------------
# JSON files (written atomically, minatt.atomic)


def dumps(obj: Any, indent: int = 2, _level: int = 0) -> str:
    """JSON with one key per line, but lists of scalars and short flat records on ONE line each."""
    pad, inner = " " * (indent * _level), " " * (indent * (_level + 1))
    if isinstance(obj, dict) and obj:
        flat = json.dumps(obj)
        if _level > 0 and len(flat) <= 100 and not any(isinstance(v, (dict, list, tuple)) for v in obj.values()):
            return flat  # a short record (one row of a table) stays on one line
        items = [f"{inner}{json.dumps(str(k))}: {dumps(v, indent, _level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in obj):
        items = [inner + dumps(v, indent, _level + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=True)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as JSON (see :func:`dumps`) to ``path`` atomically."""
    atomic_write_bytes(path, (dumps(obj) + "\n").encode("utf-8"))


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """Read a JSON file, turning a missing or unreadable file into a :class:`CheckpointError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckpointError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{what} {path} is truncated or corrupted (invalid JSON at line {exc.lineno}): "
            "restore it or start a new run"
        ) from None


# ---------------------------------------------------------------------------------------
# Checkpoint files


def _host(a: Any) -> numpy.ndarray:
    """A host NumPy array for a NumPy or CuPy array (or scalar), without importing CuPy."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return numpy.asarray(a)


def save_checkpoint(
    path: str | os.PathLike,
    params: dict[str, Any],
    optim: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Write parameters, optimiser state and JSON metadata to ``path`` (an ``.npz``) atomically.

    Args:
        path: the checkpoint file.
        params: name -> array (NumPy or CuPy; moved to the host).
        optim: the optimiser's flat ``state_dict()`` (arrays and 0-d scalars).
        meta: anything JSON-able (step, RNG state, history); stored as a 0-d unicode array.
    """
    arrays: dict[str, numpy.ndarray] = {}
    for prefix, group in (("param/", params), ("optim/", optim or {})):
        for name, value in group.items():
            a = _host(value)
            if a.dtype.kind not in _ALLOWED_KINDS:
                raise CheckpointError(f"cannot save {prefix}{name}: dtype {a.dtype} is not a plain array dtype")
            arrays[prefix + name] = a
    document = {"format": FORMAT, "version": VERSION, **(meta or {})}
    arrays["meta"] = numpy.array(json.dumps(document))
    buffer = io.BytesIO()
    numpy.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


# What a damaged zip or .npy member raises while being read.
_DAMAGED = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, RuntimeError)


def _corrupted(path: Path, exc: BaseException) -> CheckpointError:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return CheckpointError(
        f"checkpoint {path} is truncated or corrupted ({detail}): restore it from a backup or train a new run"
    )


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, numpy.ndarray], dict[str, numpy.ndarray], dict]:
    """Read a checkpoint written by :func:`save_checkpoint`: ``(params, optim, meta)`` on the host.

    Never unpickles: object arrays are refused. A missing file, a file that is not a zip of
    ``.npy`` arrays, a truncated file or a missing ``meta`` entry raise :class:`CheckpointError`.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    params: dict[str, numpy.ndarray] = {}
    optim: dict[str, numpy.ndarray] = {}
    meta_array = None
    try:
        npz = numpy.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickled" in str(exc):
            raise CheckpointError(
                f"checkpoint {path} is not an .npz archive of plain arrays (reading it would need unpickling, "
                "which minatt refuses): it is truncated, corrupted or not a minatt checkpoint"
            ) from None
        raise _corrupted(path, exc) from None
    except _DAMAGED as exc:
        raise _corrupted(path, exc) from None
    if not isinstance(npz, numpy.lib.npyio.NpzFile):
        raise CheckpointError(f"checkpoint {path} holds a single .npy array, not an .npz archive: not a minatt checkpoint")
    with npz:
        for key in npz.files:
            try:
                a = npz[key]
            except ValueError as exc:
                if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                    raise CheckpointError(
                        f"refusing to load object arrays from {path} (entry {key!r}): a minatt checkpoint "
                        "holds plain arrays only, and unpickling could run arbitrary code"
                    ) from None
                raise _corrupted(path, exc) from None
            except _DAMAGED as exc:
                raise _corrupted(path, exc) from None
            if a.dtype.kind not in _ALLOWED_KINDS:
                raise CheckpointError(f"refusing to load {path}: entry {key!r} has dtype {a.dtype}")
            if key == "meta":
                meta_array = a
            elif key.startswith("param/"):
                params[key[len("param/"):]] = a
            elif key.startswith("optim/"):
                optim[key[len("optim/"):]] = a
            else:
                raise CheckpointError(f"{path} is not a minatt checkpoint: unexpected entry {key!r}")
    if meta_array is None or meta_array.dtype.kind != "U" or meta_array.shape != ():
        raise CheckpointError(f"{path} is not a minatt checkpoint (no 'meta' entry): was it written by minatt?")
    try:
        meta = json.loads(str(meta_array))
    except json.JSONDecodeError as exc:
        raise _corrupted(path, exc) from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} is not a minatt checkpoint (its meta is a JSON {type(meta).__name__}, not an object)")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a minatt checkpoint (meta format {meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {meta.get('version')}, this minatt reads version {VERSION}"
        )
    return params, optim, meta


Spec = dict[str, tuple[tuple[int, ...], str]]


def spec_of(arrays: dict[str, Any]) -> Spec:
    """name -> (shape, dtype name) for a dict of arrays (NumPy or CuPy)."""
    return {name: (tuple(int(n) for n in a.shape), str(a.dtype)) for name, a in arrays.items()}


def check_arrays(found: dict[str, Any], expected: Spec, what: str = "parameters", source: str = "") -> None:
    """Raise :class:`CheckpointError` listing every name, shape or dtype that differs from ``expected``.

    ``expected`` is usually ``spec_of(model.params)`` for a model built from the run's config,
    so the message says where the checkpoint and its config disagree.
    """
    have = spec_of(found)
    problems = []
    missing = sorted(set(expected) - set(have))
    extra = sorted(set(have) - set(expected))
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        problems.append("unexpected " + ", ".join(extra))
    for name in sorted(set(expected) & set(have)):
        (want_shape, want_dtype), (got_shape, got_dtype) = expected[name], have[name]
        if want_shape != got_shape:
            problems.append(f"{name} has shape {got_shape}, config expects {want_shape}")
        if want_dtype != got_dtype:
            problems.append(f"{name} has dtype {got_dtype}, config expects {want_dtype}")
    if problems:
        where = f" in {source}" if source else ""
        raise CheckpointError(
            f"the {what}{where} do not match the config: " + "; ".join(problems)
            + " (was config.json edited, or the checkpoint copied from another run?)"
        )


# ---------------------------------------------------------------------------------------
# Run directories


def run_paths(run_dir: str | os.PathLike) -> dict[str, Path]:
    """The files of a run directory by role: config, checkpoint, metrics, curves, attention."""
    root = Path(run_dir)
    return {
        "config": root / CONFIG_FILE,
        "checkpoint": root / CHECKPOINT_FILE,
        "metrics": root / METRICS_FILE,
        "curves": root / "curves.png",
        "attention": root / "attention.png",
    }


def is_run_dir(run_dir: str | os.PathLike) -> bool:
    """True if ``run_dir`` holds a config and a checkpoint."""
    paths = run_paths(run_dir)
    return paths["config"].is_file() and paths["checkpoint"].is_file()


def require_run_dir(run_dir: str | os.PathLike) -> dict[str, Path]:
    """The paths of an existing run, or a :class:`CheckpointError` saying what is wrong and what to do."""
    root = Path(run_dir)
    if not root.exists():
        raise CheckpointError(
            f"run directory {root} does not exist: pass the directory that `python -m minatt train` wrote "
            "(see its --out)"
        )
    if not root.is_dir():
        raise CheckpointError(f"{root} is a file, not a run directory: pass the directory that holds config.json")
    paths = run_paths(root)
    if paths["config"].is_file() and not paths["checkpoint"].is_file():
        raise CheckpointError(
            f"{root} has a config.json but no checkpoint.npz (removed, or the run was stopped before its first "
            "checkpoint): train a new run with another --out"
        )
    missing = [p.name for role, p in paths.items() if role in ("config", "checkpoint") and not p.is_file()]
    runs = sorted(p for p in root.iterdir() if is_run_dir(p)) if missing else []
    if runs:  # `predict runs 3 1 4`: the folder of runs, not one of them
        example = root / "latest" if root.joinpath("latest") in runs else runs[-1]
        raise CheckpointError(f"{root} holds runs, not a run: pass one of them, e.g. {example}")
    if missing:
        fix = (f"train one with `python -m minatt train --out {root}`" if not any(root.iterdir())
               else "pass the directory that `python -m minatt train` wrote (runs/latest is the newest)")
        raise CheckpointError(f"{root} is not a minatt run (no {' or '.join(missing)}): {fix}")
    return paths

