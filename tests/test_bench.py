"""minatt.tools.bench, the package: ``python -m minatt bench`` reaches it through the CLI, and it exports the
command and the timing it is built from (each module has its own file: test_bench_command, test_timed_steps,
test_cache_memory, test_curve, test_gpu_phases)."""

from __future__ import annotations

import json

from minatt.tools import bench
from tests.bench_args import TINY


def test_the_cli_dispatches_to_bench(monkeypatch, capsys):
    from minatt import cli

    if "minatt.tools.bench" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "minatt.tools.bench"])
    args = cli.build_parser().parse_args(["bench", *TINY, "--json"])
    assert args.func(args) == 0
    assert "median_ms" in json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_the_package_exports_the_command_and_its_timing():
    from minatt.tools.bench import bench_command, timed_steps

    assert bench.run is bench_command.run and bench.time_steps is timed_steps.time_steps
    assert sorted(bench.__all__) == sorted(name for name in bench.__all__ if callable(getattr(bench, name)))

