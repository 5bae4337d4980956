"""minatt.experiments.lengths: claim 2 of chapter 10 (accuracy against source length), its variants and its verdict."""

from __future__ import annotations

import numpy as np

from minatt import experiments as experiment
from tests.experiment_files import read_result


def test_small_lengths_writes_png_and_json(tmp_path, capsys):
    args = ["lengths", "--small", "--out", str(tmp_path), "--seeds", "3", "4", "--variants", "none", "additive"]
    assert experiment.main(args) == 0
    assert "10_lengths.png" in capsys.readouterr().out
    r = read_result(tmp_path, "10_lengths")
    assert r["experiment"] == "lengths"
    assert r["command"].startswith("python -m minatt experiment lengths --small --seeds 3 4 --variants none additive")
    cfg, variants = r["config"], r["results"]["variants"]
    assert r["lengths"] == list(range(cfg["test_min_len"], cfg["test_max_len"] + 1))
    assert r["design"]["seeds"] == [3, 4] and r["design"]["rule"] and r["design"]["mde"]["value"] > 0
    assert set(variants) == set(cfg["variants"]) == {"none", "additive"}
    # the baseline really has no attention: the trained models differ by exactly the additive
    # score's weights, Wq (H, A), Wk (K, A) and v (A,), with A = K = H
    none, additive, H = variants["none"], variants["additive"], cfg["hidden"]
    assert (none["score"], additive["score"]) == ("none", "additive")
    assert additive["params"] - none["params"] == 2 * H * H + H
    # the small run already shows the effect: past the shortest lengths, attention copies more
    none_acc, additive_acc = (np.array(variants[v]["sequence_accuracy"]["mean"]) for v in ("none", "additive"))
    assert additive_acc[-3:].mean() > none_acc[-3:].mean() + 0.3
    for v in variants.values():
        assert [run["seed"] for run in v["runs"]] == [3, 4] and v["lr"] in cfg["lrs"]
        for key in ("sequence_accuracy", "token_accuracy"):
            s = {k: np.array(v[key][k]) for k in ("mean", "lo", "hi")}
            assert v[key]["kind"] == "min-max" and all(x.shape == (len(r["lengths"]),) for x in s.values())
            assert ((s["lo"] >= 0) & (s["lo"] <= s["mean"]) & (s["mean"] <= s["hi"]) & (s["hi"] <= 1)).all()
        # an exact match needs every token right: sequence accuracy never exceeds token accuracy
        assert (np.array(v["sequence_accuracy"]["mean"]) <= np.array(v["token_accuracy"]["mean"]) + 1e-9).all()
    assert (tmp_path / "10_lengths.runs").is_dir() and len(list((tmp_path / "10_lengths.runs").iterdir())) == 4
    # claim 5b in miniature: without attention, accuracy falls with length, and faster than with it
    bottleneck = r["verdict"]["claim_5b"]
    assert bottleneck["holds"] and bottleneck["slope_none"]["hi"] < 0
    assert bottleneck["slope_none_minus_additive"] == r["results"]["bottleneck"]["slope_none_minus_additive"]


def test_each_lengths_variant_trains_the_model_its_name_says():
    from minatt.experiments.lengths import VARIANTS, LengthsConfig, variant_config

    cfg = LengthsConfig(hidden=16, embed=8)
    built = {v: variant_config(cfg, v, seed=7, lr=0.02) for v in VARIANTS}
    assert {(c.model.score, c.model.encoder, c.model.bidirectional, c.model.decoder) for c in built.values()} == {
        ("none", "rnn", False, "bahdanau"), ("additive", "rnn", False, "bahdanau"),
        ("general", "rnn", False, "bahdanau"), ("dot", "rnn", False, "bahdanau"),
        ("scaled_dot", "rnn", False, "bahdanau"), ("additive", "rnn", True, "bahdanau"),
        ("additive", "rnn", False, "luong"), ("general", "rnn", False, "luong"), ("dot", "rnn", False, "luong"),
        ("scaled_dot", "rnn", False, "luong"), ("additive", "transformer", False, "bahdanau")}
    # everything else is the shared budget
    shared = {(c.steps, c.batch, c.lr, c.model.hidden, c.model.embed, c.seed, c.task) for c in built.values()}
    assert shared == {(cfg.steps, cfg.batch, 0.02, 16, 8, 7, "copy")}


def test_small_lengths_runs_the_transformer_and_luong_variants(tmp_path, capsys):
    args = ["lengths", "--small", "--out", str(tmp_path), "--seeds", "0", "--steps", "5",
            "--variants", "additive", "additive+transformer", "scaled_dot/luong"]
    assert experiment.main(args) == 0
    progress = capsys.readouterr().err
    assert progress.count("so far)") == 3  # one line as each run finishes
    v = read_result(tmp_path, "10_lengths")["results"]["variants"]
    assert (v["additive+transformer"]["encoder"], v["scaled_dot/luong"]["decoder"]) == ("transformer", "luong")
    assert v["additive+transformer"]["params"] > v["additive"]["params"]


def test_claim2_verdict_applies_the_stated_rule_literally():
    from minatt.experiments.lengths import claim2_verdict

    def gap(lo, hi):
        return {"mean": (lo + hi) / 2, "lo": lo, "hi": hi, "n": 5, "kind": "bootstrap"}

    below, straddles, above = gap(-0.1, -0.02), gap(-0.03, 0.02), gap(0.01, 0.05)
    holds = claim2_verdict({"dot-additive": below, "scaled_dot-additive": straddles})
    assert holds["outcome"] == "holds" and holds["no_difference_larger_than"] is None
    # scaled dot below 0 as well: the rule says the claim is then not met (the trouble is not the scale)
    assert claim2_verdict({"dot-additive": below, "scaled_dot-additive": below})["outcome"] == "criterion not met"
    assert claim2_verdict({"dot-additive": above, "scaled_dot-additive": straddles})["outcome"] == "fails"
    none = claim2_verdict({"dot-additive": straddles, "scaled_dot-additive": gap(-0.01, 0.04)})
    assert none["outcome"] == "criterion not met" and none["no_difference_larger_than"] == 0.04
    assert "no difference larger than 0.040 detected" in none["text"]
    # every decoder must meet it
    both = {"dot-additive": below, "scaled_dot-additive": straddles,
            "dot/luong-additive/luong": straddles, "scaled_dot/luong-additive/luong": straddles}
    assert claim2_verdict(both)["outcome"] == "criterion not met"
    assert claim2_verdict({"general-additive": below}) is None
