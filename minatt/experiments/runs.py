"""Finished runs kept on disk as they complete, so that an interrupted experiment resumes.

An experiment is a list of independent jobs (a variant, a seed, a learning rate...). Each
finished job is written at once, atomically, to ``<out>/10_<name>.runs/<job>.json`` together
with the settings it was made with. Running the same command on the same ``--out`` again loads
every stored job whose settings still match, says how many it kept, and runs only the rest; a
Ctrl-C loses at most the jobs in flight. The stored runs are plain JSON: delete the folder to
start afresh, and after changing the code (a change of code is not detected, only of settings).
"""

from __future__ import annotations

import functools
import multiprocessing
import re
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from minatt.errors import CheckpointError
from minatt.tools.checkpoint import atomic_write_json, read_json

__all__ = ["RunStore", "run_jobs"]


class RunStore:
    """The finished jobs of one experiment in ``<out>/10_<name>.runs/`` (one JSON file per job).

    ``settings``: everything that makes two runs of the same job the same run (the config without
    the lists of jobs and the number of processes). A stored job made with other settings is not kept.
    """

    def __init__(self, out: str | Path, name: str, settings: dict[str, Any]) -> None:
        self.dir = Path(out) / f"10_{name}.runs"
        self.settings = _plain(settings)

    def path(self, job: Sequence[Any]) -> Path:
        """Where ``job`` is stored: its parts joined by '_', with characters unsafe in a file name replaced."""
        return self.dir / (re.sub(r"[^A-Za-z0-9.+=-]", "-", "_".join(map(str, job))) + ".json")

    def load(self, job: Sequence[Any]) -> Any | None:
        """The stored result of ``job``, or None (not stored, unreadable, or made with other settings)."""
        try:
            stored = read_json(self.path(job), "stored run")
        except CheckpointError:
            return None
        if not isinstance(stored, dict) or stored.get("settings") != self.settings or stored.get("job") != _plain(job):
            return None
        return stored["result"]

    def save(self, job: Sequence[Any], result: Any) -> None:
        """Store ``result`` of ``job`` atomically (a Ctrl-C leaves the old file or the new one, never half)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.path(job), {"job": _plain(job), "settings": self.settings, "result": result})


def _plain(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists), so stored and new settings compare equal."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _quiet_child() -> None:
    """In a worker: leave Ctrl-C to the parent, which stops the pool (no traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _indexed(fn: Callable[[Any], Any], item: tuple[int, Any]) -> tuple[int, Any]:
    return item[0], fn(item[1])


def run_jobs(fn: Callable[[Any], Any], jobs: Sequence[Sequence[Any]], store: RunStore, workers: int = 1,
             done: Callable[[Any], None] | None = None, log: Callable[[str], None] = print) -> list[Any]:
    """``[fn(job) for job in jobs]`` (same order), reusing what ``store`` holds and storing each new result.

    Runs the missing jobs over ``workers`` forked processes when workers > 1, storing each result
    as soon as it arrives (in whatever order they finish). ``done(result)`` is called for each new
    result, for progress lines. On Ctrl-C: says how many jobs are stored and re-raises.
    """
    done = done or (lambda result: None)
    results: dict[int, Any] = {}
    for i, job in enumerate(jobs):
        kept = store.load(job)
        if kept is not None:
            results[i] = kept
    missing = [(i, job) for i, job in enumerate(jobs) if i not in results]
    if results:
        log(f"kept {len(results)} of {len(jobs)} finished runs from {store.dir}; running the other {len(missing)}")

    def arrived(i: int, result: Any) -> None:
        store.save(jobs[i], result)
        results[i] = result
        done(result)

    try:
        if workers <= 1 or len(missing) <= 1:
            for i, job in missing:
                arrived(i, fn(job))
        else:
            context = multiprocessing.get_context("fork")
            with context.Pool(min(workers, len(missing)), initializer=_quiet_child) as pool:
                for i, result in pool.imap_unordered(functools.partial(_indexed, fn), missing, chunksize=1):
                    arrived(i, result)
    except KeyboardInterrupt:
        log(f"interrupted: {len(results)} of {len(jobs)} runs are stored in {store.dir}; "
            "the same command resumes from them")
        raise
    return [results[i] for i in range(len(jobs))]
