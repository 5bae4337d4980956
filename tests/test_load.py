"""minatt.exercises.load: finding a learner's file, loading it as a fresh module, and reporting its errors as
theirs (the exception at their line, a syntax error, a missing function, a missing file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from minatt.errors import ConfigError
from minatt.exercises import (
    check_exercise,
    find_exercise_file,
)
from tests.exercise_checks import STUBS
from tests.exercise_solutions import SOLUTIONS, write


def test_an_exception_in_the_learners_code_shows_their_line(tmp_path):
    line = "dw = dw + dweights"
    source = SOLUTIONS["attention"].replace(f"if dweights is not None:\n                {line}", line)
    path = write(tmp_path, "attention", source)
    report = check_exercise("attention", path)
    assert report.status == "error" and report.exit_code == 1
    text = report.format()
    assert "your attention_backward raised TypeError" in text
    lineno = path.read_text().splitlines().index("    " + line) + 1
    assert f'{path}", line {lineno}, in attention_backward' in text
    assert text.rstrip().endswith(line)
    assert "minatt/exercises/" not in text  # their code, not ours


def test_a_syntax_error_is_reported_with_its_line(tmp_path):
    path = tmp_path / "affine.py"
    path.write_text("def affine_backward(dout, cache):\n    return dout +\n")
    report = check_exercise("affine", path)
    assert report.status == "error"
    assert f"syntax error in {path}, line 2" in report.message
    assert "return dout +" in report.message


def test_an_error_while_loading_is_reported(tmp_path):
    path = tmp_path / "affine.py"
    path.write_text("import numpy as np\n\nSCALE = np.nope\n")
    report = check_exercise("affine", path)
    assert report.status == "error"
    assert "AttributeError" in report.message and "line 3" in report.message


def test_a_missing_function_is_reported(tmp_path):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("def affine_backward", "def affine_back"))
    report = check_exercise("affine", path)
    assert report.status == "error"
    assert "defines no function affine_backward(dout, cache)" in report.message


def test_the_default_file_is_looked_up_in_the_cwd_then_beside_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_exercise_file("affine") == STUBS / "affine.py"  # no lessons/ here: the repository's
    (tmp_path / "lessons" / "exercises").mkdir(parents=True)
    write(tmp_path / "lessons" / "exercises", "affine", SOLUTIONS["affine"])
    report = check_exercise("affine")
    assert report.passed and report.path == str(Path("lessons") / "exercises" / "affine.py")


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        check_exercise("affine", tmp_path / "nope.py")
