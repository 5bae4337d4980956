"""minatt.tasks.sequences: the digit tasks' targets (copy, reverse, sort, denoise), parsing digits, and the
denoise task's held-out ceiling."""

from __future__ import annotations

import collections
import itertools
import json

import numpy as np
import pytest

from minatt.tasks import (
    ceiling,
    make_task,
)
from tests.task_pairs import pairs_of


@pytest.mark.parametrize("name", ["copy", "reverse", "sort"])
def test_sequence_targets(name):
    task = make_task(name, min_len=3, max_len=9, seed=0)
    pairs = pairs_of(task, task.batch(None, 200))
    lengths = {len(s) for s, _ in pairs}
    assert lengths == set(range(3, 10))  # uniform over the whole range
    for s, t in pairs:
        assert set(s) <= set("0123456789")
        expected = {"copy": s, "reverse": s[::-1], "sort": sorted(s, key=int)}[name]
        assert t == expected
    if name == "sort":
        assert any(s != t for s, t in pairs)  # it does sort


def test_sort_uses_the_symbols_order_and_custom_symbols():
    task = make_task("sort", min_len=4, max_len=6, seed=1, symbols="zyx")
    for s, t in pairs_of(task, task.batch(None, 50)):
        assert sorted(s, key="zyx".index) == t and set(s) <= set("zyx")
    assert task.src_vocab.symbols == ["z", "y", "x"] and task.split_min_len == 5  # 3^5 = 243 >= 100
    with pytest.raises(ValueError, match="repeat"):
        make_task("copy", symbols="aa")
    with pytest.raises(ValueError, match="bad symbol"):
        make_task("copy", symbols=["a b"])


def test_denoise_corrupts_a_clean_target():
    task = make_task("denoise", min_len=5, max_len=10, seed=0, p=0.3)
    pairs = pairs_of(task, task.batch(None, 300))
    changed = 0
    for noisy, clean in pairs:
        assert 5 <= len(clean) <= 10 and 1 <= len(noisy) <= len(clean)
        changed += noisy != clean
    assert 0.5 * len(pairs) < changed < len(pairs)  # p = 0.3 over >= 5 tokens: most change, not all
    assert any(len(n) < len(c) for n, c in pairs)   # drops
    assert any(len(n) == len(c) and n != c for n, c in pairs)  # replacements
    clean_task = make_task("denoise", min_len=5, max_len=10, seed=0, p=0.0)
    assert all(n == c for n, c in pairs_of(clean_task, clean_task.batch(None, 50)))
    with pytest.raises(ValueError):
        make_task("denoise", p=1.0)


def test_parse_digits():
    task = make_task("reverse")
    assert task.parse("3 1 4 1 5") == ["3", "1", "4", "1", "5"]
    assert task.parse(["3", "1", 4]) == ["3", "1", "4"]
    assert task.parse("  314 ") == ["3", "1", "4"]
    with pytest.raises(ValueError, match=r"unknown token 'x' at position 2.*valid tokens: 0 1 2 3 4 5 6 7 8 9"):
        task.parse("3 1 x")
    with pytest.raises(ValueError, match="empty"):
        task.parse("   ")


def test_default_denoise_splits_are_equally_corrupted():
    # The check, on the trainer's default lengths: 3,000 pairs of each split.
    task = make_task("denoise", min_len=3, max_len=10, seed=0)
    rng = np.random.default_rng(0)
    share = {split: np.mean([s == t for s, t in (task.sample(rng, split=split) for _ in range(3000))])
             for split in ("train", "test")}
    assert abs(share["train"] - share["test"]) < 0.03, share


def exact_joint(task, lo, hi):
    """{(noisy, clean): probability} under the generator, by enumerating every clean sequence of
    length lo..hi and every corruption of it (tiny tasks only): independent of heldout_report."""
    V, p = len(task.symbols), task.p
    joint = collections.defaultdict(float)
    for length in range(lo, hi + 1):
        for clean in itertools.product(task.symbols, repeat=length):
            options = [[(tok, 1 - p), (None, p / 2)] + [(o, p / 2 / (V - 1)) for o in task.symbols if o != tok]
                       for tok in clean]
            for choice in itertools.product(*options):
                noisy = tuple(tok for tok, _ in choice if tok is not None) or clean[:1]
                joint[noisy, clean] += np.prod([q for _, q in choice]) / (hi - lo + 1) / V**length
    return joint


@pytest.mark.parametrize("lo", [1, 2])
def test_denoise_ceilings_are_the_best_any_model_can_do(lo):
    # Two symbols, clean lengths lo..3, p = 0.3: every (noisy, clean) pair with its probability.
    task = make_task("denoise", min_len=lo, max_len=3, symbols="ab", p=0.3)
    joint = exact_joint(task, lo, 3)
    assert abs(sum(joint.values()) - 1) < 1e-12
    posterior = collections.defaultdict(dict)            # noisy -> {clean: P(noisy, clean)}
    for (noisy, clean), q in joint.items():
        posterior[noisy][clean] = q
    # The best expected exact-match accuracy: for each source, its most probable clean sequence.
    best_sequence = sum(max(c.values()) for c in posterior.values())
    # The best expected right positions: for each source, the best of every output a decoder can
    # write (symbols then EOS, or four symbols and no EOS), target positions scored like evaluate.
    outputs = [(*y, "<eos>") for k in range(4) for y in itertools.product("ab", repeat=k)]
    outputs += list(itertools.product("ab", repeat=4))
    best_hits = 0.0
    for noisy, cleans in posterior.items():
        def expected_hits(y, cleans=cleans):
            return sum(q * sum(t < len(y) and y[t] == x for t, x in enumerate([*clean, "<eos>"]))
                       for clean, q in cleans.items())
        best_hits += max(expected_hits(y) for y in outputs)
        tokens = np.zeros((4, 3))                        # P(target[t] = x, noisy): x = a, b, EOS
        for clean, q in cleans.items():
            for t, x in enumerate([*map("ab".index, clean), 2]):
                tokens[t, x] += q
        computed = ceiling.position_posterior([*map("ab".index, noisy)], 2, 0.3, lo, 3) / (3 - lo + 1)
        np.testing.assert_allclose(computed, tokens, atol=1e-15)
    positions = sum(q * (len(clean) + 1) for (_, clean), q in joint.items())
    # heldout_report's numbers, averaged over the same distribution.
    expected = collections.defaultdict(float)
    for (noisy, clean), q in joint.items():
        one = task.heldout_report([(list(noisy), list(clean))])
        expected["uncorrupted"] += q * one["uncorrupted"]
        expected["sequence_ceiling"] += q * one["sequence_ceiling"]
        expected["hits"] += q * one["token_ceiling"] * (len(clean) + 1)
    assert ceiling.copy_is_best(2, 0.3, 3)
    if lo == 1:   # copying is the best decoder: the ceiling is exactly the uncorrupted share
        assert abs(best_sequence - expected["sequence_ceiling"]) < 1e-12
        assert abs(expected["sequence_ceiling"] - expected["uncorrupted"]) < 1e-12
    else:         # sources shorter than lo lost symbols: a bound above what any decoder reaches
        assert best_sequence <= expected["sequence_ceiling"] + 1e-12
        assert expected["sequence_ceiling"] - best_sequence < 0.05
    # The token ceiling: the best output's right positions, exactly.
    assert abs(best_hits / positions - expected["hits"] / positions) < 1e-12


def test_denoise_heldout_report_by_hand():
    task = make_task("denoise")                                      # 10 symbols, p = 0.15, lengths 1..10
    pairs = [(list("12"), list("12")), (list("1"), list("12")), (list("13"), list("12"))]
    report = task.heldout_report(pairs)
    # The best outputs copy: "1 2 <eos>" (right 3 of 3), "1 <eos>" (1 of 3: the lost 2 shifts the
    # EOS), "1 3 <eos>" (2 of 3: the replaced 2).
    assert report == pytest.approx({"uncorrupted": 1 / 3, "sequence_ceiling": 1 / 3, "token_ceiling": 6 / 9, "n": 3})
    assert ceiling.best_output([1], 10, 0.15, 1, 10) == [1, 10]              # 10: EOS
    assert ceiling.position_posterior([1], 10, 0.15, 1, 10)[:3].argmax(axis=1).tolist() == [1, 10, 10]
    assert json.loads(json.dumps(report)) == report and all(type(v) in (float, int) for v in report.values())
    assert task.heldout_report(pairs, min_len=2)["sequence_ceiling"] == pytest.approx((1 + 0.1) / 3)  # 1 lost of 2
    assert ceiling.lost("1", "12") == (1, 0) and ceiling.lost("12", "2122") == (2, 0)
    assert ceiling.lost("9", "12") == (1, 1) and ceiling.lost("21", "12") == (0, 2)
    with pytest.raises(ValueError, match="longer"):
        task.heldout_report([(list("123"), list("12"))])
    with pytest.raises(ValueError, match="outside"):
        task.heldout_report(pairs, min_len=3)
    # Too noisy for copying to be provably best: every example counts V^-d (V-1)^-r, a bound.
    noisy = make_task("denoise", max_len=30, p=0.9)
    assert not ceiling.copy_is_best(10, 0.9, 30)
    assert noisy.heldout_report(pairs)["sequence_ceiling"] == pytest.approx((1 + 0.1 + 1 / 9) / 3)
    assert make_task("copy").heldout_report(pairs) == {}


def test_denoise_heldout_report_on_a_batch():
    task = make_task("denoise", min_len=3, max_len=10)
    test = task.test_set(400, seed=0)
    report = task.heldout_report(test)
    pairs = pairs_of(task, test)
    assert report["n"] == 400 and report["uncorrupted"] == np.mean([s == t for s, t in pairs])
    assert report["uncorrupted"] <= report["sequence_ceiling"] < report["uncorrupted"] + 0.02
    assert 0.3 < report["uncorrupted"] < 0.6 and 0.7 < report["token_ceiling"] < 0.9


def test_reachable_target_is_a_share_of_the_ceiling_only_where_there_is_one():
    from minatt.tasks import make_task

    reverse = make_task("reverse", min_len=3, max_len=10)
    assert reverse.reachable_target(0.99, reverse.test_set(50, seed=1)) == 0.99
    denoise = make_task("denoise", min_len=3, max_len=10)
    heldout = denoise.test_set(200, seed=1)
    ceiling = denoise.heldout_report(heldout)["sequence_ceiling"]
    assert 0.2 < ceiling < 0.6 and denoise.reachable_target(0.99, heldout) == round(0.99 * ceiling, 3)
