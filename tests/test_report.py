"""minatt.train.report: the running loss and the log lines a run prints."""

from __future__ import annotations

import re

import pytest

from minatt.train.report import Reporter


def test_the_log_line_shows_the_running_loss_of_every_step_read():
    lines = []
    report = Reporter("log", total=100, initial=0, log=lines.append)
    report.losses([])  # nothing read yet: nothing changes
    assert report.smoothed is None
    bar = Reporter("bar", total=100, initial=0, log=None)
    bar.losses([])  # (the bar has no loss to show yet)
    bar.close()
    report.losses([2.0, 1.0])
    report.losses([0.0])
    smoothed = 0.95 * (0.95 * 2.0 + 0.05 * 1.0) + 0.05 * 0.0  # starts at the first loss, then 5% per step
    assert report.smoothed == pytest.approx(smoothed)
    report.evaluated(3, {"token_accuracy": 0.5, "sequence_accuracy": 0.25})
    assert len(lines) == 1 and re.fullmatch(
        rf"step 3/100  loss {smoothed:.4f}  held-out token acc 0\.5000  seq acc 0\.2500  [\d.]+ steps/s", lines[0])


def test_no_progress_prints_nothing_and_a_wrong_kind_is_refused(capsys):
    report = Reporter("none", total=10, initial=0, log=None)
    report.losses([1.0])
    report.evaluated(1, {"token_accuracy": 1.0, "sequence_accuracy": 1.0})
    report.close()
    assert capsys.readouterr() == ("", "")
    with pytest.raises(ValueError, match="progress must be 'bar', 'log' or 'none', not 'loud'"):
        Reporter("loud", total=10, initial=0, log=None)
