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
    # the small run already shows the effect: past the shortest lengths, attention copies more
    none_acc, additive_acc = (np.array(r["variants"][v]["sequence_accuracy"]["mean"]) for v in ("none", "additive"))
    assert additive_acc[-3:].mean() > none_acc[-3:].mean() + 0.3
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


def test_each_lengths_variant_trains_the_model_its_name_says():
    from minatt.experiments.lengths import VARIANTS, LengthsConfig, variant_config

    cfg = LengthsConfig(hidden=16, embed=8)
    built = {v: variant_config(cfg, v, seed=7) for v in VARIANTS}
    assert {(c.model.score, c.model.encoder, c.model.bidirectional, c.model.decoder) for c in built.values()} == {
        ("none", "rnn", False, "bahdanau"), ("additive", "rnn", False, "bahdanau"),
        ("general", "rnn", False, "bahdanau"), ("dot", "rnn", False, "bahdanau"),
        ("scaled_dot", "rnn", False, "bahdanau"), ("additive", "rnn", True, "bahdanau"),
        ("additive", "rnn", False, "luong"), ("general", "rnn", False, "luong"), ("dot", "rnn", False, "luong"),
        ("scaled_dot", "rnn", False, "luong"), ("additive", "transformer", False, "bahdanau")}
    # everything else is the shared budget
    shared = {(c.steps, c.batch, c.lr, c.model.hidden, c.model.embed, c.seed, c.task) for c in built.values()}
    assert shared == {(cfg.steps, cfg.batch, cfg.lr, 16, 8, 7, "copy")}


def test_small_lengths_runs_the_transformer_and_luong_variants(tmp_path, capsys):
    args = ["lengths", "--small", "--out", str(tmp_path), "--seeds", "0", "--steps", "5",
            "--variants", "additive", "additive+transformer", "scaled_dot/luong"]
    assert experiment.main(args) == 0
    progress = capsys.readouterr().err
    assert progress.count("so far)") == 3  # one line as each run finishes
    v = _read(tmp_path, "10_lengths")["variants"]
    assert (v["additive+transformer"]["encoder"], v["scaled_dot/luong"]["decoder"]) == ("transformer", "luong")
    assert v["additive+transformer"]["params"] > v["additive"]["params"]


def test_paired_gap_pairs_by_seed_and_averages_over_the_lengths():
    from minatt.experiments.lengths import paired_gap

    def runs(rows):
        return {"runs": [{"seed": s, "sequence_accuracy": r} for s, r in rows.items()]}

    # seed 2 of b is listed first: pairing must follow the seed, not the order
    result = {"lengths": [5, 6, 7],
              "variants": {"a": runs({1: [1.0, 0.5, 0.2], 2: [1.0, 0.7, 0.4], 3: [1.0, 0.9, 0.9]}),
                           "b": runs({2: [1.0, 0.6, 0.1], 1: [1.0, 0.4, 0.4], 3: [0.0, 0.0, 0.0]})}}
    gap = paired_gap(result, "a", "b", [6, 7])
    # seed 1: ((0.5-0.4) + (0.2-0.4)) / 2 = -0.05; seed 2: (0.1 + 0.3) / 2 = 0.2; seed 3: 0.9
    assert gap["n"] == 3 and gap["mean"] == pytest.approx((-0.05 + 0.2 + 0.9) / 3, abs=1e-4)
    assert gap == experiment.interval([-0.05, 0.2, 0.9])


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
    from minatt.experiments import command

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


# -- the alignment, pretrain and cost-rerun additions (issue 12) --------------------------------------------

TINY_ALIGNMENT = dict(min_len=4, max_len=6, test_rates=(0.0, 0.3), per_rate=12, scores=("additive", "dot"),
                      decoders=("bahdanau", "luong"), seeds=(0, 1), steps=30, batch=8, embed=8, hidden=8, workers=1)


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


def test_noisy_reverse_records_where_each_output_comes_from():
    from minatt.experiments.alignment import NoisyReverseTask

    task = NoisyReverseTask(min_len=6, max_len=6, seed=0, insert=0.5)
    src, tgt = task.sample(None)
    assert [t for t in src if t not in task.noise] == tgt[::-1]
    assert task.key_of(src, tgt) == tgt[::-1] and task.split_of(src, tgt) == "train"
    noisy, where = task.corrupt(np.random.default_rng(1), list("123456"))
    assert [noisy[s] for s in where] == list("123456")
    assert set(noisy) - set("123456") <= set(task.noise)


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
    assert _read(tmp_path, "10_alignment")["hypothesis"] == HYPOTHESIS == r["hypothesis"]
    for name in ("denoise", "reverse+noise"):
        t = r["tasks"][name]
        assert set(t["variants"]) == {"additive/bahdanau", "dot/bahdanau", "additive/luong", "dot/luong"}
        assert set(t["additive_drop_minus_other_drop"]) == {"additive-dot/bahdanau", "additive-dot/luong"}
        for v in t["variants"].values():
            assert [run["seed"] for run in v["runs"]] == [0, 1] and v["params"] > 0
            for key in ("sequence_accuracy", "token_accuracy", "alignment_accuracy", "alignment_within_1"):
                assert len(v[key]) == 2
                for x in v[key]:
                    assert x["n"] == 2 and x["lo"] <= x["mean"] <= x["hi"] and 0 <= x["mean"] <= 1
            ex = v["runs"][0]["example"]
            assert 1 <= len(ex["weights"]) <= len(ex["where"]) + 1  # the steps taken, up to EOS


def test_tiny_pretrain_compares_on_the_same_labelled_sets(tmp_path):
    from dataclasses import replace

    from minatt.experiments.pretrain import SMALL_PRETRAIN, LabelledSet, run_pretrain
    from minatt.tasks import make_task

    cfg = replace(SMALL_PRETRAIN, sizes=(10, 20), pretrain_steps=20, steps=10, test_size=20, embed=8, hidden=8,
                  workers=1)
    r = run_pretrain(cfg, tmp_path, "cmd", log=lambda line: None)
    assert _read(tmp_path, "10_pretrain")["sizes"] == [10, 20]
    assert len(r["runs"]) == 2 * 2 * 2  # seeds x sizes x (pretrained, scratch)
    for key in ("sequence_accuracy", "token_accuracy"):
        assert [x["n"] for x in r[key]["pretrained-scratch"]] == [2, 2]
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
