"""Helpers shared by the experiments' tests: read a result and its PNG, drop the wall-clock fields."""

from __future__ import annotations

import json

PNG = b"\x89PNG\r\n\x1a\n"


def read_result(out, stem):
    assert (out / f"{stem}.png").read_bytes()[:8] == PNG
    return json.loads((out / f"{stem}.json").read_text())


def without_times(r):
    """A result with its wall-clock fields removed (they differ between any two runs)."""
    if isinstance(r, dict):
        return {k: without_times(v) for k, v in r.items() if k not in ("seconds", "train_seconds", "command")}
    if isinstance(r, list):
        return [without_times(v) for v in r]
    return r
