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


def _without_times(r):
    """A result with its wall-clock fields removed (they differ between any two runs)."""
    if isinstance(r, dict):
        return {k: _without_times(v) for k, v in r.items() if k not in ("seconds", "train_seconds", "command")}
    if isinstance(r, list):
        return [_without_times(v) for v in r]
    return r


def test_small_lengths_writes_png_and_json(tmp_path, capsys):
    args = ["lengths", "--small", "--out", str(tmp_path), "--seeds", "3", "4", "--variants", "none", "additive"]
    assert experiment.main(args) == 0
    assert "10_lengths.png" in capsys.readouterr().out
    r = _read(tmp_path, "10_lengths")
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
    v = _read(tmp_path, "10_lengths")["results"]["variants"]
    assert (v["additive+transformer"]["encoder"], v["scaled_dot/luong"]["decoder"]) == ("transformer", "luong")
    assert v["additive+transformer"]["params"] > v["additive"]["params"]


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
    whole, resumed = (_read(tmp_path / d, "10_lengths") for d in ("whole", "resumed"))
    assert _without_times(whole) == _without_times(resumed)
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


def test_bad_seeds_are_one_line_and_exit_2(capsys):
    assert experiment.main(["lengths", "--small", "--seeds", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--seeds" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_spread_pairs_by_seed_and_example_and_keeps_accuracies_in_0_1():
    from minatt.experiments.stats import curve, spread

    rng = np.random.default_rng(0)
    base = (rng.random((6, 3, 50)) < 0.5).astype(float)
    better = base.copy()
    better[:, :, :5] = 1 - base[:, :, :5] * 0  # the first 5 examples of every seed and group always right
    # paired: the same resampled seeds and examples on both sides, so a fixed per-example gain
    # gives an interval that hugs the gain instead of the spread of either side
    gain = float((better - base).mean())
    d = spread({"a": better, "b": base}, lambda m: m["a"].mean(axis=(1, 2)) - m["b"].mean(axis=(1, 2)))
    assert d["kind"] == "bootstrap" and d["n"] == 6 and d["mean"] == pytest.approx(gain, abs=1e-4)
    assert 0 < d["lo"] <= gain <= d["hi"] < 2 * gain
    # an accuracy near 1 stays inside [0, 1]; with 2 or 3 seeds the interval is min to max
    c = curve(np.ones((5, 2, 20)) - (rng.random((5, 2, 20)) < 0.02))
    assert all(0 <= lo <= m <= hi <= 1 for lo, m, hi in zip(c["lo"], c["mean"], c["hi"]))
    two = curve(np.array([[[1.0, 1.0, 0.0, 0.0]], [[1.0, 1.0, 1.0, 0.0]]]))
    assert two == {"mean": [0.625], "lo": [0.5], "hi": [0.75], "n": 2, "kind": "min-max"}
    # a ratio of sums: right positions over the oracle's
    assert curve(np.array([[[1.0, 2.0]]]), np.array([[[2.0, 2.0]]]))["mean"] == [0.75]


def test_the_realized_mde_uses_the_seed_sd_the_run_measured():
    from minatt.experiments.stats import spread, verdict_text

    a = np.array([[[1.0, 1.0]], [[1.0, 0.0]]])  # two seeds, one group, two examples: seed means 1 and 0.5
    d = spread({"a": a, "b": np.zeros_like(a)}, lambda m: m["a"].mean(axis=(1, 2)) - m["b"].mean(axis=(1, 2)))
    assert (d["lo"], d["mean"], d["hi"], d["kind"]) == (0.5, 0.75, 1.0, "min-max")
    assert d["seed_sd"] == round(np.std([1.0, 0.5], ddof=1), 4)
    v = verdict_text({"a-b": {"interval": d, "condition": "lo > 0", "passes": True}}, holds=True, fails=False)
    assert v["mde_realized"] == round(2.80 * d["seed_sd"] / np.sqrt(2), 4) and v["outcome"] == "holds"


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


def test_full_runs_write_under_runs_not_over_the_committed_figures(tmp_path, monkeypatch):
    from minatt.experiments import experiment_command as command

    seen = []
    monkeypatch.setattr(command, "run_lengths", lambda cfg, out, cmd: seen.append(out) or {"seconds": 0})
    monkeypatch.chdir(tmp_path)
    assert experiment.main(["lengths"]) == 0
    assert experiment.main(["lengths", "--small"]) == 0
    assert experiment.main(["lengths", "--out", "lessons/figures"]) == 0
    assert [str(p) for p in seen] == ["runs/experiment", "runs/experiment-small", "lessons/figures"]


def test_unknown_variant_is_a_one_line_error(tmp_path, capsys):
    code = experiment.main(["lengths", "--small", "--out", str(tmp_path), "--variants", "none", "luong"])
    assert code == 2
    assert "unknown variant(s) luong" in capsys.readouterr().err


def test_add_parser_registers_the_subcommand():
    parser = argparse.ArgumentParser()
    experiment.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["experiment", "cost", "--small", "--repeats", "3"])
    assert args.func is experiment.run and args.name == "cost" and args.small and args.repeats == 3


# -- the alignment, pretrain and cost-rerun additions (issue 12; redesigned in issue 23) --------------------

TINY_ALIGNMENT = dict(tasks=("copy", "reverse"), min_len=4, max_len=6, test_rates=(0.0, 0.4), per_rate=12,
                      scores=("additive", "dot"), decoders=("bahdanau", "luong"), seeds=(0, 1), steps=30, batch=8,
                      embed=8, hidden=8, workers=1)


def test_interval_is_the_t_interval_by_hand():
    r = experiment.interval([1.0, 2.0, 3.0])
    half = 4.303 * 1.0 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert r["n"] == 3 and r["mean"] == 2.0
    assert abs(r["lo"] - (2 - half)) < 1e-3 and abs(r["hi"] - (2 + half)) < 1e-3
    assert experiment.interval([0.5]) == {"mean": 0.5, "lo": 0.5, "hi": 0.5, "n": 1}


def test_denoise_insertion_keeps_the_true_alignment():
    from minatt.tasks import make_task

    task = make_task("denoise", min_len=8, max_len=8, p=0.0, insert=0.5)
    rng = np.random.default_rng(0)
    longer = 0
    for _ in range(50):
        clean = task.sample(rng)[1]
        noisy, where = task.corrupt(rng, clean)
        assert [noisy[s] for s in where] == clean  # nothing dropped or replaced: every token is where it says
        assert where == sorted(where) and len(set(where)) == len(where)
        longer += len(noisy) > len(clean)
    assert longer > 40  # insertions happen
    # drops: where says -1, replacements: a different symbol at the recorded position
    task = make_task("denoise", min_len=8, max_len=8, p=0.6, insert=0.3)
    for _ in range(50):
        clean = task.sample(rng)[1]
        noisy, where = task.corrupt(rng, clean)
        assert len(where) == len(clean) and all(-1 <= s < len(noisy) for s in where)
    with pytest.raises(ValueError, match="insert"):
        make_task("denoise", insert=1.0)


def test_the_ceiling_is_the_task_done_exactly_on_the_corrupted_source():
    from dataclasses import replace

    from minatt.experiments.alignment import SMALL_ALIGNMENT, ceilings, test_sets
    from minatt.tasks import make_task

    # copy of 1 2 3 with the 2 dropped: the oracle writes 1 3, right at position 0 only (of 4, EOS included)
    c = ceilings([list("123"), list("45")], [list("13"), list("45")])
    assert c["exact"].tolist() == [False, True] and c["hits"].tolist() == [1, 3]
    assert c["positions"].tolist() == [4, 3]
    cfg = replace(SMALL_ALIGNMENT, test_rates=(0.0, 0.4), per_rate=40)
    clean, noisy = test_sets("reverse", cfg)
    assert clean["ceiling"]["exact"].all()  # rate 0: nothing to lose
    assert 0 < noisy["ceiling"]["exact"].mean() < 0.5
    # the noise is the task's own digits: no symbol outside the vocabulary, and the same clean targets
    assert (noisy["batch"].tgt_out == clean["batch"].tgt_out).all()
    vocab = make_task("reverse").src_vocab
    assert {tok for row in noisy["batch"].src for tok in vocab.decode(row)} <= set("0123456789")
    assert all(w == sorted(w, reverse=True) for w in noisy["where"])  # reverse reads from the end
    # the ceiling's output, against which agreement is scored: the corrupted source reversed
    oracle = noisy["oracle"]
    assert all(vocab.decode(t) == vocab.decode(s)[::-1] for s, t in zip(oracle.src, oracle.tgt_out))
    assert (oracle.src == noisy["batch"].src).all()


def test_score_tokens_by_hand():
    from minatt.experiments.common import score_tokens
    from minatt.tasks import collate, make_task

    task = make_task("copy")
    batch = collate([(list("12"), list("12")), (list("345"), list("345"))], task.src_vocab, task.tgt_vocab)
    ids = {t: task.tgt_vocab.encode([t])[0] for t in "12345"}
    eos = int(batch.tgt_out[0, 2])
    tokens = np.array([[ids["1"], ids["2"], eos], [ids["3"], ids["5"], eos]])  # the second misses 4 and ends early
    r = score_tokens(tokens, batch)
    assert r["exact"].tolist() == [True, False] and r["hits"].tolist() == [3, 1] and r["positions"].tolist() == [3, 4]


def test_alignment_accuracy_by_hand():
    from minatt.experiments.alignment import alignment_accuracy

    attention = np.zeros((1, 3, 4))
    attention[0, [0, 1, 2], [0, 2, 2]] = 1.0  # output 0 looks at 0, output 1 at 2, output 2 at 2
    assert alignment_accuracy(attention, [[0, 1, 3]]) == 1 / 3
    assert alignment_accuracy(attention, [[0, 1, 3]], tolerance=1) == 1.0
    assert alignment_accuracy(attention, [[0, -1, 2]]) == 1.0  # a dropped token is not counted
    attention[0, 2] = 0.0  # the decoder stopped after two steps: the third is a miss, as is a fourth
    assert alignment_accuracy(attention, [[0, -1, 0, 3]]) == 1 / 3  # not a hit on position 0 either


def test_tiny_alignment_writes_json_figures_and_intervals(tmp_path):
    from dataclasses import replace

    from minatt.experiments.alignment import HYPOTHESIS, SMALL_ALIGNMENT, run_alignment

    r = run_alignment(replace(SMALL_ALIGNMENT, **TINY_ALIGNMENT), tmp_path, "cmd", log=lambda line: None)
    assert (tmp_path / "10_alignment_heatmaps.png").read_bytes()[:8] == PNG
    assert _read(tmp_path, "10_alignment")["design"]["hypothesis"] == HYPOTHESIS == r["design"]["hypothesis"]
    for name in ("copy", "reverse"):
        t = r["results"]["tasks"][name]
        assert set(t["variants"]) == {"additive/bahdanau", "dot/bahdanau", "additive/luong", "dot/luong"}
        assert set(t["comparisons"]) == set(t["agreement_comparisons"]) == {"additive-dot/bahdanau", "additive-dot/luong"}
        assert t["ceiling"][0] == {"rate": 0.0, "sequence": 1.0, "token": 1.0}
        for v in t["variants"].values():
            assert [run["seed"] for run in v["runs"]] == [0, 1] and v["params"] > 0
            for key in ("sequence_accuracy", "token_accuracy", "alignment_accuracy", "relative_token", "agreement"):
                x = v[key]
                assert x["n"] == 2 and x["kind"] == "min-max" and len(x["mean"]) == 2
                assert all(lo <= m <= hi for lo, m, hi in zip(x["lo"], x["mean"], x["hi"]))
            assert all(0 <= m <= 1 for k in ("token_accuracy", "alignment_accuracy", "agreement") for m in v[k]["mean"])
            # at rate 0 the ceiling's output is the clean target: agreement is token accuracy there
            assert v["agreement"]["mean"][0] == v["token_accuracy"]["mean"][0]
            ex = v["runs"][0]["example"]
            assert 1 <= len(ex["weights"]) <= len(ex["where"]) + 1  # the steps taken, up to EOS
    assert set(r["verdict"]["checks"]) == {f"{t}:additive-dot/{d}" for t in ("copy", "reverse")
                                           for d in ("bahdanau", "luong")}


def test_claim1_verdict_needs_every_comparison():
    from minatt.experiments.alignment import claim1_verdict

    def d(lo, hi):
        return {"mean": (lo + hi) / 2, "lo": lo, "hi": hi, "n": 5, "kind": "bootstrap"}

    def tasks(*intervals):
        return {"copy": {"comparisons": {f"additive-s{i}/bahdanau": x for i, x in enumerate(intervals)}}}

    assert claim1_verdict(tasks(d(0.01, 0.1), d(0.02, 0.2)))["outcome"] == "holds"
    assert claim1_verdict(tasks(d(0.01, 0.1), d(-0.02, 0.2)))["outcome"] == "criterion not met"
    assert claim1_verdict(tasks(d(-0.1, -0.01), d(-0.2, -0.02)))["outcome"] == "fails"
    none = claim1_verdict(tasks(d(-0.01, 0.03), d(-0.025, 0.02)))
    assert none["no_difference_larger_than"] == 0.03 and "no difference larger than 0.030" in none["text"]


def test_tiny_pretrain_is_compute_matched_and_paired(tmp_path):
    from dataclasses import replace

    from minatt.experiments.pretrain import SMALL_PRETRAIN, LabelledSet, run_pretrain
    from minatt.tasks import make_task

    cfg = replace(SMALL_PRETRAIN, sizes=(10, 20), pretrain_steps=20, steps=10, test_size=20, embed=8, hidden=8,
                  seeds=(0, 1, 2, 3), workers=1)
    r = run_pretrain(cfg, tmp_path, "cmd", log=lambda line: None)
    res = r["results"]
    assert _read(tmp_path, "10_pretrain")["results"]["sizes"] == [10, 20] and r["design"]["owner"] == "course"
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


def test_small_cost_has_ratio_intervals_over_reruns(tmp_path):
    assert experiment.main(["cost", "--small", "--out", str(tmp_path), "--repeats", "2", "--reruns", "3"]) == 0
    r = _read(tmp_path, "10_cost")
    assert all(len(row["rerun_medians"]) == 3 for row in r["ops"] + r["model"])
    assert {x["score"] for x in r["ratios"]["ops"]} == {"general", "additive", "concat"}
    assert all(x["over_dot"]["n"] == 3 and x["over_dot"]["lo"] <= x["over_dot"]["hi"]
               for x in r["ratios"]["ops"] + r["ratios"]["model"])


def test_full_runs_script_runs_every_claim_experiment_with_jobs_into_one_folder(tmp_path):
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    stub = tmp_path / "python"
    stub.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls"}\n')
    stub.chmod(0o755)
    env = {**os.environ, "PYTHON": str(stub)}
    subprocess.run(["bash", str(root / "minatt/experiments/full_runs.sh"), "OUT", "7"], check=True, env=env,
                   capture_output=True)
    calls = [c for c in (tmp_path / "calls").read_text().splitlines() if c.startswith("-m ")]  # not its checks
    assert sorted(calls) == sorted(f"-m minatt.experiments {name} --jobs 7 --out OUT"
                                   for name in ("alignment", "lengths", "pretrain"))
    # and each of those lines is one the experiment command accepts
    from minatt.experiments.experiment_command import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    for call in calls:
        args = parser.parse_args(["experiment", *call.split()[2:]])
        assert args.workers == 7 and args.out == "OUT" and not args.small


def test_without_matplotlib_the_json_is_written_and_redraw_draws_it_later(tmp_path, monkeypatch, capsys):
    import sys
    from dataclasses import replace

    from minatt.experiments.pretrain import SMALL_PRETRAIN, run_pretrain

    for name in ("minatt.tools.plot", "matplotlib.backends.backend_agg", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)  # an import of any of them now fails
    cfg = replace(SMALL_PRETRAIN, pretrain_steps=5, steps=5, test_size=10, embed=8, hidden=8, workers=1)
    run_pretrain(cfg, tmp_path, "cmd", log=lambda line: None)
    assert (tmp_path / "10_pretrain.json").exists() and not (tmp_path / "10_pretrain.png").exists()
    monkeypatch.undo()
    assert experiment.main(["pretrain", "--redraw", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "10_pretrain.png").read_bytes()[:8] == PNG
    assert experiment.main(["lengths", "--redraw", "--out", str(tmp_path)]) == 2  # nothing there to draw
    assert "10_lengths.json does not exist" in capsys.readouterr().err
