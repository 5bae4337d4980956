"""minatt.experiments.cost: claim 3 (what each score costs): FLOPs, the bytes the caches keep (exactly the formulas in
minatt/ops/scores.py), timed reruns with ratio intervals, and the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minatt import experiments as experiment
from minatt.errors import ConfigError
from minatt.experiments import cache_bytes, score_cost
from tests.experiment_files import read_result


def test_small_cost_writes_png_and_json_and_caches_match_the_formulas(tmp_path):
    assert experiment.main(["cost", "--small", "--out", str(tmp_path), "--repeats", "2"]) == 0
    r = read_result(tmp_path, "10_cost")
    cfg = r["config"]
    assert len(r["ops"]) == len(cfg["sizes"]) * len(cfg["sources"]) * len(cfg["scores"])
    assert len(r["model"]) == len(cfg["sources"]) * len(cfg["model_scores"])
    for row in r["ops"] + r["model"]:
        t = row["seconds"]
        assert 0 < t["min"] <= t["q1"] <= t["median"] <= t["q3"]
    for row in r["ops"]:
        assert row["cache_bytes"] == row["formula_cache_bytes"], row
        assert row["formula_forward_macs"] > 0
    assert all(row["peak_bytes"] > 0 for row in r["model"])


def test_score_cost_orders_as_the_docstrings_say():
    N, S, T, H = 8, 30, 20, 16
    macs = {k: score_cost(k, N, S, T, H, H, H)[0] for k in ("dot", "general", "additive", "concat")}
    floats = {k: score_cost(k, N, S, T, H, H, H)[1] for k in macs}
    assert macs["dot"] < macs["general"] < macs["additive"] < macs["concat"]
    assert floats["dot"] == 0 and floats["additive"] == floats["concat"] == T * N * S * H
    assert score_cost("concat", N, S, 1, H, H, H) == score_cost("additive", N, S, 1, H, H, H)
    with pytest.raises(ConfigError):
        score_cost("bilinear", N, S, T, H, H, H)


def test_cache_bytes_counts_each_buffer_once_and_skips_inputs():
    x = np.zeros((4, 5), dtype=np.float32)
    new = np.ones((3, 2), dtype=np.float32)
    cache = ({"a": x[1:], "b": new}, [new[:1], x], (new.T,))
    assert cache_bytes(cache) == x.nbytes + new.nbytes
    assert cache_bytes(cache, inputs=[x]) == new.nbytes
    assert cache_bytes(cache, inputs=[x, new]) == 0


def test_small_cost_has_ratio_intervals_over_reruns(tmp_path):
    assert experiment.main(["cost", "--small", "--out", str(tmp_path), "--repeats", "2", "--reruns", "3"]) == 0
    r = read_result(tmp_path, "10_cost")
    assert all(len(row["rerun_medians"]) == 3 for row in r["ops"] + r["model"])
    assert {x["score"] for x in r["ratios"]["ops"]} == {"general", "additive", "concat"}
    assert all(x["over_dot"]["n"] == 3 and x["over_dot"]["lo"] <= x["over_dot"]["hi"]
               for x in r["ratios"]["ops"] + r["ratios"]["model"])


def test_cost_verdict_follows_its_rule():
    from minatt.experiments.cost import cost_verdict

    cost = json.loads((Path(__file__).resolve().parents[1] / "lessons" / "figures" / "10_cost.json").read_text())
    assert cost["verdict"] == cost_verdict(cost)
    for x in cost["ratios"]["ops"]:
        if x["score"] == "additive":
            for base in ("dot", "general"):
                x[f"over_{base}"] = {**x[f"over_{base}"], "lo": 1.5}
    assert cost_verdict(cost)["outcome"] == "holds"
    row = next(x for x in cost["ratios"]["ops"] if x["score"] == "additive")
    row["over_general"] = {"mean": 1.2, "lo": 0.9, "hi": 1.5, "n": 5}  # one cell's ratio not separated from 1
    assert cost_verdict(cost)["outcome"] == "criterion not met"
    row["over_general"]["lo"] = 1.01
    dot = next(r for r in cost["ops"] if r["score"] == "dot")
    dot["cache_bytes"] = 10**12  # dot keeping more than additive
    assert cost_verdict(cost)["outcome"] == "criterion not met"
