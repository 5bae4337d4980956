"""``--workers auto``: the pick (minatt.train.parallel.auto_workers) and the flag's type, not timings."""

from __future__ import annotations

import argparse
import json

import pytest

from minatt.argtypes import workers_count
from minatt.tools import bench
from minatt.train import parallel
from minatt.train.parallel import auto_workers


@pytest.mark.parametrize(("batch", "cores", "expected"), [
    (256, 16, 8),     # issue 27's many-core measurement: 8 workers of 32 rows
    (64, 2, 2),       # the default batch on the 2-core machine
    (64, 16, 2),      # a small batch is not cut into shards too small to pay for a process
    (4096, 16, 16),   # a large batch: one worker per core, never more
    (31, 8, 1), (1, 1, 1),
])
def test_auto_workers_takes_cores_and_rows_per_worker(batch, cores, expected):
    assert auto_workers(batch, cores) == expected


def test_auto_workers_counts_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert auto_workers(10_000) == 3


def test_the_flag_takes_auto_or_a_positive_integer():
    assert workers_count("auto") == "auto" and workers_count(" AUTO ") == "auto"
    assert workers_count("3") == 3
    for bad in ("many", "2.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integer or 'auto'"):
            workers_count(bad)
    for bad in ("0", "-2"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be a positive integer"):
            workers_count(bad)


def test_bench_resolves_auto_from_its_batch(capsys, monkeypatch):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    tiny = ["--batch", "8", "--src-len", "3", "--tgt-len", "3", "--embed", "4", "--hidden", "4", "--vocab", "7",
            "--steps", "1", "--warmup", "1", "--peak-size", "8", "--pause", "0", "--json", "--threads", "1"]
    assert bench.run(parser.parse_args([*tiny, "--workers", "auto"])) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["workers"] == 1  # 8 rows: one process
