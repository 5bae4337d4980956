"""minatt.tasks.base: the held-out split (never a training key, about ten percent, the same distribution as
training apart from the keys), tiny spaces, the longest source."""

from __future__ import annotations

import datetime
import statistics

import numpy as np
import pytest

from minatt import tasks
from minatt.tasks import base as task_base
from minatt.tasks import (
    ceiling,
    format_date,
    make_task,
)
from tests.task_pairs import check_layout, pairs_of, read_date


@pytest.mark.parametrize("name", ["copy", "reverse", "sort", "denoise"])
def test_test_keys_never_drawn_in_training(name):
    # Short lengths: 6000 draws cover most of the ~1000 training sequences of length 1..3.
    task = make_task(name, min_len=1, max_len=3, seed=0)
    train = pairs_of(task, task.batch(None, 6000))
    test = pairs_of(task, task.test_set(300, seed=1))
    train_keys = {tuple(task.key_of(s, t)) for s, t in train}
    test_keys = {tuple(task.key_of(s, t)) for s, t in test}
    assert len(test_keys) > 40 and not train_keys & test_keys
    assert len(train_keys) > 800
    if name == "denoise":  # the key is the clean target; a noisy source can occur in both splits
        assert {tuple(t) for _, t in test} == test_keys
    else:
        assert {tuple(s) for s, _ in test} == test_keys
    assert all(task.split_of(s, t) == "test" for s, t in test)
    assert all(len(task.key_of(s, t)) >= 2 for s, t in test)  # length 1 is too small a space: all training


def test_test_fraction_is_about_ten_percent():
    task = make_task("copy")
    keys = [list(f"{i:03d}") for i in range(1000)]
    share = sum(task.split_of(k, k) == "test" for k in keys) / len(keys)
    assert 0.05 < share < 0.15


def test_longer_test_sets_for_length_generalisation():
    task = make_task("reverse", min_len=1, max_len=10, seed=0)
    b = task.test_set(100, min_len=11, max_len=15)
    pairs = pairs_of(task, b)
    assert {len(s) for s, _ in pairs} <= set(range(11, 16)) and b.src.shape[1] <= 15
    assert all(t == s[::-1] for s, t in pairs)
    check_layout(b, [len(s) for s, _ in pairs], [len(t) for _, t in pairs])
    wide = task.batch(None, 20, min_len=12, max_len=12)
    assert wide.src.shape == (20, 12)


def test_tiny_spaces_terminate(monkeypatch):
    task = make_task("copy", min_len=1, max_len=1)
    assert task.batch(None, 50).src.shape == (50, 1)  # length 1: always training
    with pytest.raises(ValueError, match="too few"):
        task.test_set(5)
    assert task.test_set(20, max_len=2).src.shape == (20, 2)  # skips length 1
    one = make_task("copy", symbols="a")
    assert one.split_min_len is None and one.batch(None, 3).src.shape[0] == 3
    with pytest.raises(ValueError, match="holds nothing out"):
        one.test_set(3)
    monkeypatch.setattr(task_base, "TEST_PERCENT", 0)
    monkeypatch.setattr(task_base, "MAX_TRIES", 50)
    with pytest.raises(RuntimeError, match="50 draws"):
        make_task("copy").test_set(1)


def test_longest_source_bounds_every_training_source():
    for name in ("copy", "reverse", "sort", "denoise"):
        task = make_task(name, min_len=2, max_len=7)
        assert task.longest_source == 7
        assert task.batch(np.random.default_rng(0), 64).src.shape[1] <= 7
    dates = make_task("dates")
    assert dates.longest_source == len("wednesday, september 30, 2049") == 29
    assert dates.batch(np.random.default_rng(0), 500).src.shape[1] <= 29


# -- the held-out set comes from the training distribution (issue 16) -------------------------
#
# Each feature the generator draws, as a category per example: a rejection rule that depended on
# anything but the key (the old denoise rule kept corrupted pairs out of the test set; redrawing
# the length on every rejection made lengths with more test keys commoner) shows up as a
# category whose train and test shares differ by more than sampling error.
#
# Two sources of error separate the shares under a correct rule. Sampling: n examples per
# split. And, for a feature of the key itself (is it sorted, its month), which keys the hash
# held out: at key length L the test split holds m_L = f * (keys of length L) keys (f =
# TEST_PERCENT / 100), a random-like sample, so its share q_L of a category is off by a variance
# q_L (1 - q_L) / (m_L (1 - f)) (the training keys are off the other way). The test is a
# two-proportion z-test with both variances, at a false-alarm rate FALSE_ALARM per task
# (Bonferroni over its categories); the seed is fixed, so it is deterministic.
SPLIT_SIZE = 4000       # examples drawn from each split per task


FALSE_ALARM = 1e-3      # chance that one task's comparisons fail although the splits agree


KEY_FEATURES = {"key sorted", "first symbol", "repeats a symbol", "month", "weekday", "text length"}


def date_format(text):
    """The index of the first DATE_FORMATS entry that writes ``text`` (May's formats coincide)."""
    date, _ = read_date(text)
    return next(k for k in range(len(tasks.DATE_FORMATS)) if format_date(date, k) == text)


def features(task, src, tgt):
    """Every feature the generator draws for one example, as {name: category}.

    Counts are capped so that every category is common enough for the normal approximation.
    """
    if task.name == "dates":
        date = datetime.date.fromisoformat("".join(tgt))
        return {"format": date_format("".join(src)), "month": date.month, "weekday": date.weekday(),
                "text length": len(src)}
    key = list(task.key_of(src, tgt))
    out = {"length": len(key), "key sorted": key == sorted(key), "first symbol": key[0],
           "repeats a symbol": len(set(key)) < len(key)}
    if task.name == "denoise":
        dropped, replaced = ceiling.lost(src, tgt)
        out.update({"uncorrupted": src == tgt, "dropped": min(dropped, 2), "replaced": min(replaced, 2),
                    "source length": len(src)})
    return out


def held_keys(task, length):
    """About how many keys of ``length`` tokens the test split holds (m_L above)."""
    space = task.days if task.name == "dates" else len(task.symbols) ** length
    return space * tasks.TEST_PERCENT / 100


def split_z_scores(task, n=SPLIT_SIZE, seed=0):
    """{(feature, category): z}: train share minus test share over its standard error.

    Training is drawn over the lengths the test set can hold (``split_min_len`` and up), since
    shorter keys are training keys by construction.
    """
    rng = np.random.default_rng(seed)
    lo = max(task.min_len, task.split_min_len or 0)
    rows = {split: [features(task, *task.sample(rng, min_len=lo, split=split)) for _ in range(n)]
            for split in ("train", "test")}
    lengths = [row.get("length", 0) for row in rows["train"] + rows["test"]]
    f = tasks.TEST_PERCENT / 100
    z = {}
    for name in rows["train"][0]:
        values = [row[name] for row in rows["train"] + rows["test"]]
        for category in set(values):
            a = sum(row[name] == category for row in rows["train"]) / n
            b = sum(row[name] == category for row in rows["test"]) / n
            pooled = (a + b) / 2
            variance = pooled * (1 - pooled) * 2 / n                     # sampling
            if name in KEY_FEATURES:                                     # which keys are held
                for length in set(lengths):
                    at = [v == category for v, ln in zip(values, lengths) if ln == length]
                    q, w = np.mean(at), len(at) / len(values)
                    variance += w**2 * q * (1 - q) / (held_keys(task, length) * (1 - f))
            z[name, category] = (a - b) / np.sqrt(variance) if variance > 0 else 0.0
    return z


def z_limit(comparisons, false_alarm=FALSE_ALARM):
    """The |z| above which a difference is flagged: two-sided, Bonferroni over ``comparisons``."""
    return statistics.NormalDist().inv_cdf(1 - false_alarm / comparisons / 2)


def split_failures(task, n=SPLIT_SIZE):
    """The categories whose train and test shares differ beyond error, with their z."""
    z = split_z_scores(task, n)
    limit = z_limit(len(z))
    return {key: round(float(v), 1) for key, v in z.items() if abs(v) > limit}


@pytest.mark.parametrize("name", tasks.TASKS)
def test_heldout_set_has_the_training_distribution(name):
    task = make_task(name, min_len=1, max_len=10, seed=0)
    assert split_failures(task) == {}


def old_sample(self, rng=None, min_len=None, max_len=None, split="train"):
    """The sampler before issue 16, planted back: a fresh length on every rejection, and a denoise
    pair kept only when its noisy source and its clean target both hash into the split."""
    rng = self.rng if rng is None else np.random.default_rng(rng)
    lo, hi = self._lengths(min_len, max_len, split)
    while True:
        length = int(rng.integers(lo, hi + 1)) if self.uses_lengths else 0
        src, tgt = self._complete(rng, self._draw_key(rng, length))
        keys = [src, tgt] if self.name == "denoise" else [self.key_of(src, tgt)]
        if {self.key_split(k) for k in keys} == {split}:
            return src, tgt


def test_the_old_split_rule_fails_the_property(monkeypatch):
    monkeypatch.setattr(tasks.Task, "sample", old_sample)
    failures = split_failures(make_task("denoise", min_len=1, max_len=10, seed=0), n=1500)
    assert {("uncorrupted", True), ("uncorrupted", False), ("dropped", 0), ("replaced", 0)} <= set(failures)
    assert failures["uncorrupted", True] < -20          # far more clean copies in the test set
    assert ("length", 2) in split_failures(make_task("sort", min_len=1, max_len=10, seed=0))
