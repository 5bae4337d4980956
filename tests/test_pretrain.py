"""minatt.experiments.pretrain: the pretraining comparison, compute-matched and paired by seed."""

from __future__ import annotations

import numpy as np
import pytest

from tests.experiment_files import read_result


def test_tiny_pretrain_is_compute_matched_and_paired(tmp_path):
    from dataclasses import replace

    from minatt.experiments.pretrain import SMALL_PRETRAIN, LabelledSet, run_pretrain
    from minatt.tasks import make_task

    cfg = replace(SMALL_PRETRAIN, sizes=(10, 20), pretrain_steps=20, steps=10, test_size=20, embed=8, hidden=8,
                  seeds=(0, 1, 2, 3), workers=1)
    r = run_pretrain(cfg, tmp_path, "cmd", log=lambda line: None)
    res = r["results"]
    assert read_result(tmp_path, "10_pretrain")["results"]["sizes"] == [10, 20] and r["design"]["owner"] == "course"
    rows = [x for run in res["runs"] for x in run["rows"]]
    assert len(rows) == 4 * 2 * 2  # seeds x sizes x (pretrained, scratch)
    # compute-matched: scratch trains as many steps as pretraining and fine-tuning together
    assert {(x["start"], x["steps"]) for x in rows} == {("pretrained", 10), ("scratch", 30)}
    for i in range(2):
        d = res["difference"][i]
        assert d["kind"] == "bootstrap" and d["n"] == 4
        assert d["mean"] == pytest.approx(res["pretrained"][i]["mean"] - res["scratch"][i]["mean"], abs=1e-3)
        assert np.mean(res["per_seed_difference"][i]) == pytest.approx(d["mean"], abs=1e-3)
    assert 0 < res["denoise"]["sequence_ceiling"] < 1 and "claim_5a" in r["verdict"]
    task = make_task("reverse", 3, 6, seed=0)
    small, large = LabelledSet(task, 10, seed=1), LabelledSet(task, 20, seed=1)
    assert large.pairs[:10] == small.pairs  # the larger labelled sets contain the smaller ones
    assert all(task.split_of(s, t) == "train" for s, t in large.pairs)
