"""Run directories: where a new run goes, reading a run's config.json, loading a run at its checkpoint.

A run directory (its files are listed in :mod:`minatt.tools.checkpoint`) holds ``config.json``
(``{"format": "minatt-run", "train": ..., "model": ...}``), ``checkpoint.npz``,
``metrics.json``, ``curves.png`` and ``attention.png``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy

from minatt.backend import asarray, default_dtype
from minatt.errors import CheckpointError, ConfigError
from minatt.tasks import Task
from minatt.tools import checkpoint as ckpt
from minatt.train.config import CONFIG_FORMAT, TrainConfig, build_model, build_task

__all__ = ["LATEST", "default_run_dir", "link_latest", "load_params", "load_run", "read_run_config"]

LATEST = "latest"  # runs/latest: a symbolic link to the newest run train created under runs/


def default_run_dir(task: str, root: str | Path = "runs") -> Path:
    """``runs/<task>-<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3``, ... if that already exists)."""
    stem = Path(root) / f"{task}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    path, n = stem, 1
    while path.exists():
        n += 1
        path = Path(f"{stem}-{n}")
    return path


def link_latest(run_dir: str | Path) -> Path | None:
    """Point ``<parent>/latest`` at ``run_dir`` (a relative symbolic link, replaced atomically); its path.

    So ``python -m minatt predict runs/latest ...`` finds the newest run whatever its timestamp.
    Returns None, changing nothing, where symbolic links are not allowed (some Windows setups)
    or where ``latest`` is a real file or directory, not a link this function made.
    """
    run_dir = Path(run_dir)
    link = run_dir.parent / LATEST
    if link.exists() and not link.is_symlink():
        return None
    tmp = run_dir.parent / f".{LATEST}.{os.getpid()}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        return None
    return link


def load_params(model: Any, params: dict[str, numpy.ndarray], meta: dict, path: Path) -> None:
    """Copy checkpoint ``params`` into ``model.params`` in place, after checking them against the model."""
    _check_model_meta(meta, model.config.to_dict(), path)
    ckpt.check_arrays(params, ckpt.spec_of(model.params), "parameters", str(path))
    for name, value in params.items():
        model.params[name][...] = asarray(value)


def _check_model_meta(meta: dict, expected: dict, path: Path) -> None:
    """Raise :class:`CheckpointError` listing every model setting where the checkpoint and config.json differ."""
    saved = meta.get("model")
    if not isinstance(saved, dict):
        return
    diffs = [f"{k}: checkpoint {saved.get(k)!r}, config {expected.get(k)!r}"
             for k in sorted(set(saved) | set(expected)) if saved.get(k) != expected.get(k)]
    if diffs:
        raise CheckpointError(
            f"checkpoint {path} was written for a different model than config.json says ({'; '.join(diffs)})"
        )


def read_run_config(run_dir: str | Path) -> tuple[TrainConfig, dict[str, Any]]:
    """``(TrainConfig, model config dict)`` from a run directory's config.json (checked)."""
    paths = ckpt.require_run_dir(run_dir)
    doc = ckpt.read_json(paths["config"], "config")
    if not isinstance(doc, dict) or doc.get("format") != CONFIG_FORMAT or "train" not in doc:
        raise CheckpointError(f"{paths['config']} is not a minatt run config (no 'train' section)")
    try:
        config = TrainConfig.from_dict(doc["train"])
        config.validate()
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{paths['config']} has invalid settings: {exc}") from None
    return config, doc.get("model", {})



def load_run(run_dir: str | Path) -> tuple[TrainConfig, Task, Any, dict]:
    """``(config, task, model, meta)`` of a run at its checkpoint, the model on the current backend.

    The caller selects the backend first (``with minatt.use(...)``); the model's params are
    checked against config.json before they are loaded.
    """
    config, _ = read_run_config(run_dir)
    paths = ckpt.run_paths(run_dir)
    with default_dtype(config.dtype):
        task = build_task(config)
        model = build_model(config, task)
    params, _, meta = ckpt.load_checkpoint(paths["checkpoint"])
    load_params(model, params, meta, paths["checkpoint"])
    return config, task, model, meta

