"""minatt.experiments.runs: the runs of an experiment stored one by one, so an interrupted experiment resumes to the
same result; the design is written before the first run."""

from __future__ import annotations

import json

from minatt import experiments as experiment
from tests.experiment_files import read_result, without_times


def test_an_interrupted_experiment_resumes_to_the_same_json(tmp_path, monkeypatch, capsys):
    from minatt.experiments import lengths

    args = ["lengths", "--small", "--steps", "20", "--lrs", "0.01", "0.02", "--variants", "none", "additive",
            "--jobs", "1"]
    assert experiment.main([*args, "--out", str(tmp_path / "whole")]) == 0
    calls, train_one = [], lengths._train_one

    def interrupted(*a):  # the third run is interrupted by a Ctrl-C
        calls.append(a)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return train_one(*a)

    monkeypatch.setattr(lengths, "_train_one", interrupted)
    assert experiment.main([*args, "--out", str(tmp_path / "resumed")]) == 130
    assert "interrupted: 2 of 8 runs are stored" in capsys.readouterr().err
    monkeypatch.setattr(lengths, "_train_one", train_one)
    assert experiment.main([*args, "--out", str(tmp_path / "resumed")]) == 0
    assert "kept 2 of 8 finished runs" in capsys.readouterr().err
    whole, resumed = (read_result(tmp_path / d, "10_lengths") for d in ("whole", "resumed"))
    assert without_times(whole) == without_times(resumed)
    # the same command once more runs nothing; other settings do not reuse the stored runs
    assert experiment.main([*args, "--out", str(tmp_path / "resumed")]) == 0
    assert "kept 8 of 8 finished runs" in capsys.readouterr().err
    assert experiment.main([*args, "--steps", "21", "--out", str(tmp_path / "resumed")]) == 0
    assert "kept" not in capsys.readouterr().err


def test_the_design_is_in_the_json_before_the_first_run(tmp_path, monkeypatch):
    from minatt.experiments import lengths

    def first_run(*a):
        seen.append(json.loads((tmp_path / "10_lengths.json").read_text()))
        raise KeyboardInterrupt

    seen = []
    monkeypatch.setattr(lengths, "_train_one", first_run)
    assert experiment.main(["lengths", "--small", "--jobs", "1", "--out", str(tmp_path)]) == 130
    assert seen[0]["design"]["rule"] == lengths.RULE and seen[0]["results"] is None and seen[0]["verdict"] is None
