"""minatt.train.train_command: the train command (and --resume) as a user runs it: progress, warnings,
refusals as one line, and what it prints at the end."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from minatt import cli
from minatt.tools import checkpoint as ckpt
from minatt.train import train_command
from tests.tiny_runs import TINY_ARGS as TINY
from tests.tiny_runs import checkpoint_step as _step
from tests.tiny_runs import cli_error as _error

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def test_train_quiet_prints_log_lines(tmp_path, capsys):
    assert cli.main(["train", *TINY, "--steps", "10", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "training into" in out and "step 5/10  loss" in out and "steps/s" in out
    start = out.splitlines()[0]
    assert start.startswith("minatt: training into") and start.endswith(" on 1 thread")  # --threads 1, the default
    assert "; BLAS " in start
    assert "finished all steps at step 10" in out and "python -m minatt predict" in out


def test_train_shows_a_progress_bar_on_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(["train", *TINY, "--steps", "10", "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert "10/10" in err and "step/s" in err and "loss=" in err and "acc=" in err
    assert "final evaluation: 100%" in err   # the per-length evaluation has its own bar, with the time left


def test_train_logs_plain_lines_when_stderr_is_not_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert cli.main(["train", *TINY, "--steps", "10", "--eval-every", "5", "--out", str(tmp_path / "r")]) == 0
    captured = capsys.readouterr()
    assert "step 10/10  loss" in captured.out and "\r" not in captured.out + captured.err


def test_resume_continues_and_matches_a_straight_run(tmp_path, capsys):
    flat = ["--decay-to", "1"]  # warm-up then constant: the schedule does not depend on --steps
    straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
    assert cli.main(["train", *TINY, *flat, "--steps", "12", "--out", straight, "--quiet"]) == 0
    assert cli.main(["train", *TINY, *flat, "--steps", "6", "--out", split, "--quiet"]) == 0
    assert cli.main(["train", "--resume", split, "--steps", "12", "--quiet"]) == 0
    assert f"resuming {split} at step 6" in capsys.readouterr().out
    p1, o1, _ = ckpt.load_checkpoint(Path(straight) / "checkpoint.npz")
    p2, o2, m2 = ckpt.load_checkpoint(Path(split) / "checkpoint.npz")
    assert m2["step"] == 12
    assert all(np.array_equal(p1[k], p2[k]) for k in p1) and all(np.array_equal(o1[k], o2[k]) for k in o1)


def test_more_workers_than_cores_warns_and_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert cli.main(["train", *TINY, "--steps", "2", "--workers", "2", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == ["minatt: warning: --workers 2 is more than the 1 CPU cores here: the processes will take "
                        "turns on them, so each step will be slower than with --workers 1"]


def test_train_warns_when_a_step_needs_more_memory_than_is_free(tmp_path, capsys, monkeypatch):
    from minatt.train import memory_warning as memory

    assert cli.main(["train", *TINY, "--steps", "2", "--out", str(tmp_path / "a"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err
    assert "finished all steps at step 2 in " in captured.out
    monkeypatch.setattr(memory, "available_bytes", lambda: 1000)
    assert cli.main(["train", *TINY, "--steps", "2", "--out", str(tmp_path / "b"), "--quiet"]) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warning) == 1 and re.fullmatch(
        r"minatt: warning: a training step needs about \d+\.\d GiB \(batch 8, sources up to 4 tokens\), more than "
        r"the 0\.0 GiB of memory free: expect swapping or a kill; a smaller --batch or --max-len needs less",
        warning[0])


def test_resume_accepts_the_original_command_and_names_real_changes(tmp_path, capsys):
    """Re-running the original command with --resume and a larger --steps works; a real change names both values."""
    d = str(tmp_path / "r")
    command = ["train", *TINY, "--task", "reverse", "--cell", "lstm", "--score", "bahdanau", "--decoder", "bahdanau"]
    assert cli.main([*command, "--steps", "5", "--out", d, "--quiet"]) == 0
    assert cli.main([*command, "--steps", "10", "--resume", d, "--quiet"]) == 0
    assert _step(d) == 10
    msg = _error(["train", "--resume", d, "--steps", "15", "--hidden", "16", "--embed", "12"], capsys)
    assert msg == ("minatt: error: --embed cannot change when resuming (run has 8, you gave 12); "
                   "resuming may change only --steps, --target, --patience, --eval-every, --test-size, --eval-size, "
                   "--backend")


def test_divergence_is_one_line_and_keeps_the_checkpoint(tmp_path, capsys):
    d = tmp_path / "r"
    argv = ["train", *TINY, "--steps", "200", "--optimizer", "sgd", "--momentum", "0", "--lr", "1e30", "--clip", "0",
            "--warmup", "0", "--out", str(d), "--quiet"]
    msg = _error(argv, capsys)
    assert "training diverged at step" in msg and f"the last good checkpoint {d / 'checkpoint.npz'}" in msg
    assert _step(d) % 5 == 0


def test_out_into_a_folder_of_other_files_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    msg = _error(["train", *TINY, "--steps", "1", "--out", str(tmp_path)], capsys)
    assert msg == f"minatt: error: --out {tmp_path} already holds other files and is not a run: give a new or empty folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_one_step_is_singular(tmp_path, capsys):
    assert cli.main(["train", *TINY, "--steps", "1", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    assert "up to 1 step on numpy" in capsys.readouterr().out


def test_durations_keep_a_decimal_under_ten_seconds():
    from minatt.argtypes import seconds

    assert [seconds(s) for s in (0.04, 1.6, 9.94, 9.96, 42.4)] == ["0.0 s", "1.6 s", "9.9 s", "10 s", "42 s"]


def test_denoise_stops_at_a_share_of_its_ceiling(tmp_path, capsys):
    """No model can expect more than the uncorrupted share on denoise: the default target is 0.99 of that."""
    import json

    argv = [a for a in TINY if a not in ("--target", "none")]
    assert cli.main(["train", *argv, "--task", "denoise", "--steps", "1", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    match = re.fullmatch(r"minatt: no model can expect more than (0\.\d+) held-out sequence accuracy on denoise: "
                         r"--target is 0\.99 of that, (0\.\d+)", first)
    assert match and float(match.group(2)) == round(0.99 * float(match.group(1)), 3) < 0.9, first
    target = json.loads((tmp_path / "r" / "config.json").read_text())["train"]["target"]
    assert target == float(match.group(2))
    assert cli.main(["train", *argv, "--task", "denoise", "--steps", "1", "--target", "0.5",
                     "--out", str(tmp_path / "given"), "--quiet"]) == 0   # a target given is kept
    assert json.loads((tmp_path / "given" / "config.json").read_text())["train"]["target"] == 0.5


def test_settings_errors_name_the_flags_a_user_typed():
    """The library's messages name TrainConfig fields; the command says them as flags."""
    assert train_command._in_flags("decay_to must be in (0, 1]") == "--decay-to must be in (0, 1]"
    assert train_command._in_flags("min_len=5 > max_len=3") == "--min-len 5 > --max-len 3"
    assert train_command._in_flags("a max_len of 3") == "a max_len of 3"  # a word in a sentence stays


def test_only_given_settings_reach_the_config():
    args = train_command.add_train_parser(argparse.ArgumentParser().add_subparsers()).parse_args(
        ["--steps", "7", "--out", "somewhere", "--quiet"])
    assert train_command._given(args) == {"steps": 7}
