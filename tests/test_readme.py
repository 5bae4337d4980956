"""The README's commands work when pasted in order into a fresh directory.

The commands are read from README.md itself: every ```bash block after a ``<!-- ci:tour -->``
marker, each ``python -m minatt ...`` command in it (``pip install`` steps are skipped: the
test runs the installed checkout). A trailing comment ``# -> OUTPUT`` is checked against what
the command prints, and ``exit 1`` in the comment is the status the command must end with
(the exercise stub, unfilled); every other command must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- ci:tour -->"


class TourCommand(NamedTuple):
    argv: list[str]          # after "python -m minatt"
    expect_output: str | None
    expect_status: int
    line: str


def tour_commands(readme: str) -> list[TourCommand]:
    """The ``python -m minatt`` commands of every fenced block after a :data:`MARKER`, in order."""
    commands = []
    for block in readme.split(MARKER)[1:]:
        body = re.match(r"\s*```bash\n(.*?)```", block, re.DOTALL)
        assert body, f"{MARKER} must be followed by a ```bash block"
        for line in body.group(1).splitlines():
            code, _, comment = line.partition("#")
            for part in code.split("&&"):
                words = shlex.split(part)
                if words[:3] != ["python", "-m", "minatt"]:
                    continue
                arrow = re.match(r"\s*->\s*(.*?)(?:\s{2,}|\(|$)", comment)
                status = 1 if re.search(r"\bexit 1\b", comment) else 0
                commands.append(TourCommand(words[3:], arrow.group(1).strip() if arrow else None, status, line))
    return commands


def test_the_tour_is_found():
    commands = tour_commands((ROOT / "README.md").read_text())
    assert [c.argv[0] for c in commands[:3]] == ["train", "train", "predict"]   # the two commands, then the tour
    assert len(commands) >= 10


@pytest.mark.slow
def test_readme_commands_run_in_order_in_a_fresh_directory(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    timings = []
    for command in tour_commands((ROOT / "README.md").read_text()):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "minatt", *command.argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        timings.append(f"{time.perf_counter() - start:6.1f} s  {command.line.strip()}")
        context = f"{command.line}\nstdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}"
        assert proc.returncode == command.expect_status, context
        assert "Traceback" not in proc.stderr, context
        if command.expect_output is not None:
            assert proc.stdout.splitlines()[0] == command.expect_output, context
    print("\n".join(timings))


def test_the_tour_bench_line_runs_without_pytorch(monkeypatch, capsys):
    """After the tour's plain `pip install -e .` there is no PyTorch: its bench line still runs, and says how to compare."""
    from minatt import cli

    bench = [c for c in tour_commands((ROOT / "README.md").read_text()) if c.argv[0] == "bench"]
    assert bench and "--vs-torch" in bench[0].argv
    monkeypatch.setitem(sys.modules, "torch", None)   # `import torch` raises ImportError
    assert cli.main([*bench[0].argv, "--peak-size", "256"]) == 0   # (a smaller peak matmul: the same code path)
    err = capsys.readouterr().err
    assert "PyTorch is not installed" in err and "pip install 'minatt[torch]'" in err
