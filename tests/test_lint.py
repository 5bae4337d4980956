"""ruff over the package, the tests and the lessons' helpers, with the project's rule set.

The rules live here (the top level holds no ruff configuration file): pyflakes, pycodestyle,
bugbear, pyupgrade, isort and simplify, lines up to 130 characters.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = [
    "--isolated", "--select", "E,F,W,B,UP,I,SIM", "--ignore", "B905,SIM108,SIM117",
    "--line-length", "130", "--target-version", "py310",
]


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' brings it)")
    proc = subprocess.run(
        [ruff, "check", *RULES, "--output-format", "concise", "minatt", "tests", "lessons"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
