"""The chapter-10 experiments: the small versions run end to end and write sane numbers.

No timed assertions: times are only checked to be positive. What is exact is checked exactly:
the bytes the score caches keep must equal the formulas in minatt/ops/scores.py.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from minatt import experiments as experiment
from minatt.errors import ConfigError
from minatt.experiments import cache_bytes, score_cost

PNG = b"\x89PNG\r\n\x1a\n"


def _read(out, stem):
    assert (out / f"{stem}.png").read_bytes()[:8] == PNG
    return json.loads((out / f"{stem}.json").read_text())


def test_small_lengths_writes_png_and_json(tmp_path, capsys):
    assert experiment.main(["lengths", "--small", "--out", str(tmp_path), "--seeds", "3", "4"]) == 0
    assert "10_lengths.png" in capsys.readouterr().out
    r = _read(tmp_path, "10_lengths")
    assert r["experiment"] == "lengths"
    assert r["command"].startswith("python -m minatt experiment lengths --small --seeds 3 4")
    cfg = r["config"]
    assert r["lengths"] == list(range(cfg["test_min_len"], cfg["test_max_len"] + 1))
    assert set(r["variants"]) == set(cfg["variants"]) == {"none", "additive"}
    # the baseline really has no attention: the trained models differ by exactly the additive
    # score's weights, Wq (H, A), Wk (K, A) and v (A,), with A = K = H
    none, additive, H = r["variants"]["none"], r["variants"]["additive"], cfg["hidden"]
    assert (none["score"], additive["score"]) == ("none", "additive")
    assert additive["params"] - none["params"] == 2 * H * H + H
    for v in r["variants"].values():
        assert [run["seed"] for run in v["runs"]] == [3, 4]
        assert v["params"] > 0
        for run in v["runs"]:
            assert run["train_seconds"] >= 0 and np.isfinite(run["final_loss"])
        for key in ("sequence_accuracy", "token_accuracy"):
            s = {k: np.array(x) for k, x in v[key].items()}
            assert all(x.shape == (len(r["lengths"]),) for x in s.values())
            assert ((s["min"] >= 0) & (s["min"] <= s["mean"] + 1e-9) & (s["mean"] <= s["max"] + 1e-9)).all()
            assert (s["max"] <= 1).all()
        # an exact match needs every token right: sequence accuracy never exceeds token accuracy
        assert (np.array(v["sequence_accuracy"]["mean"]) <= np.array(v["token_accuracy"]["mean"]) + 1e-9).all()


def test_small_cost_writes_png_and_json_and_caches_match_the_formulas(tmp_path):
    assert experiment.main(["cost", "--small", "--out", str(tmp_path), "--repeats", "2"]) == 0
    r = _read(tmp_path, "10_cost")
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


def test_unknown_variant_is_a_one_line_error(tmp_path, capsys):
    code = experiment.main(["lengths", "--small", "--out", str(tmp_path), "--variants", "none", "luong"])
    assert code == 2
    assert "unknown variant(s) luong" in capsys.readouterr().err


def test_add_parser_registers_the_subcommand():
    parser = argparse.ArgumentParser()
    experiment.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["experiment", "cost", "--small", "--repeats", "3"])
    assert args.func is experiment.run and args.name == "cost" and args.small and args.repeats == 3
