"""minatt.tools.bench.curve: the held-out accuracy curve of train's run, and its largest drop after 0.9."""

from __future__ import annotations

import json

import pytest


def test_largest_drop_counts_from_the_first_pass_of_0_9():
    from minatt.tools.bench.curve import largest_drop

    assert largest_drop([0.0, 0.5, 0.3, 0.95, 1.0, 0.85, 1.0]) == pytest.approx(0.15)   # 0.5 -> 0.3 is before 0.9
    assert largest_drop([0.2, 0.8]) == 0.0
    assert largest_drop([0.92, 1.0, 0.99, 0.49, 1.0]) == pytest.approx(0.51)   # issue 26's default run, roughly


def test_the_curve_script_measures_the_run_train_makes(capsys):
    from minatt.tools.bench.curve import main

    tiny = ["embed=8", "hidden=16", "batch=8", "min_len=2", "max_len=4", "steps=10", "eval_every=5", "test_size=16",
            "warmup=2", "lr=0.01", "target=null"]
    assert main(["--seeds", "0", "--every", "5", "--json", *(f"--set={s}" for s in tiny)]) == 0
    r = json.loads(capsys.readouterr().out.splitlines()[0])
    assert r["steps"] == [5, 10] and r["stopped"] == 10 and r["status"] == "done" and len(r["accuracy"]) == 2
