"""minatt.experiments.alignment: claim 1 (attention finds the alignment): corrupted test sets, the ceiling, alignment
accuracy by hand, a tiny run with intervals, the verdict."""

from __future__ import annotations

import numpy as np
import pytest

from tests.experiment_files import PNG, read_result

TINY_ALIGNMENT = dict(tasks=("copy", "reverse"), min_len=4, max_len=6, test_rates=(0.0, 0.4), per_rate=12,
                      scores=("additive", "dot"), decoders=("bahdanau", "luong"), seeds=(0, 1), steps=30, batch=8,
                      embed=8, hidden=8, workers=1)


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
    assert read_result(tmp_path, "10_alignment")["design"]["hypothesis"] == HYPOTHESIS == r["design"]["hypothesis"]
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
