"""minatt.experiments, the package: its names (the cost experiment's loaded on first use), and the script of
full runs. Each experiment's module has its own file (test_alignment, test_lengths, test_cost, test_pretrain,
test_universal, with test_common, test_runs, test_stats, test_experiment_command, test_alignment_figures);
chapter 10's prose against the committed results is tests/test_chapter10.py."""

from __future__ import annotations

import argparse

import pytest

import minatt.experiments as experiments


def test_full_runs_script_runs_every_claim_experiment_with_jobs_into_one_folder(tmp_path):
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    stub = tmp_path / "python"
    stub.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls"}\n')
    stub.chmod(0o755)
    env = {**os.environ, "PYTHON": str(stub)}
    subprocess.run(["bash", str(root / "minatt/experiments/full_runs.sh"), "OUT", "7"], check=True, env=env,
                   capture_output=True)
    calls = [c for c in (tmp_path / "calls").read_text().splitlines() if c.startswith("-m ")]  # not its checks
    assert sorted(calls) == sorted(f"-m minatt.experiments {name} --jobs 7 --out OUT"
                                   for name in ("alignment", "lengths", "pretrain"))
    # and each of those lines is one the experiment command accepts
    from minatt.experiments.experiment_command import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    for call in calls:
        args = parser.parse_args(["experiment", *call.split()[2:]])
        assert args.workers == 7 and args.out == "OUT" and not args.small


def test_the_cost_names_load_on_first_use_and_an_unknown_name_is_refused():
    from minatt.experiments import cost

    assert experiments.score_cost is cost.score_cost and experiments.SMALL_COST is cost.SMALL_COST
    assert set(experiments.__all__) >= {"score_cost", "run_alignment", "run_lengths", "run_pretrain", "main"}
    with pytest.raises(AttributeError, match="no attribute 'colour'"):
        experiments.colour  # noqa: B018

