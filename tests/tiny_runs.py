"""Tiny training runs for the trainer's tests: a config that trains in a fraction of a second."""

from __future__ import annotations

from minatt.tools import checkpoint as ckpt
from minatt.train.config import TrainConfig

TINY = {"embed": 8, "hidden": 16, "batch": 8, "min_len": 2, "max_len": 4, "eval_every": 5,
        "test_size": 16, "warmup": 2, "lr": 0.01, "target": None}


def tiny(**changes) -> TrainConfig:
    """A config that trains in a fraction of a second (10 steps unless ``steps`` says otherwise)."""
    return TrainConfig(**{**TINY, "steps": 10, **changes})


def arrays(run_dir):
    """(params, optimizer state, meta) of the run's checkpoint."""
    return ckpt.load_checkpoint(ckpt.run_paths(run_dir)["checkpoint"])


# The same tiny run as command-line flags (for the commands' tests).
TINY_ARGS = ["--embed", "8", "--hidden", "16", "--batch", "8", "--min-len", "2", "--max-len", "4", "--eval-every", "5",
             "--test-size", "16", "--warmup", "2", "--lr", "0.01", "--target", "none"]


def checkpoint_step(run_dir) -> int:
    """The step of the run's checkpoint."""
    return ckpt.load_checkpoint(ckpt.run_paths(run_dir)["checkpoint"])[2]["step"]


def cli_error(argv, capsys) -> str:
    """Run the command line, which must refuse ``argv`` with exit 2 and one ``minatt: error:`` line; return it."""
    from minatt import cli

    rc = cli.main(argv)
    captured = capsys.readouterr()
    assert rc == 2, (argv, captured)
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minatt: error: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]
