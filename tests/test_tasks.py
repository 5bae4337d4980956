"""Tasks: correct targets, padding and masks, seeding, a held-out split that never leaks, parsing."""

from __future__ import annotations

import collections
import datetime
import itertools
import json
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minatt import tasks
from minatt.tasks import BOS, EOS, PAD, UNK, Vocab, ceiling, collate, format_date, make_task
from minatt.tasks import base as task_base

DIGIT_TASKS = ("copy", "reverse", "sort", "denoise")


def pairs_of(task, batch):
    """Decode a batch back to (src_tokens, tgt_tokens) pairs."""
    return [(task.src_vocab.decode(s), task.tgt_vocab.decode(t)) for s, t in zip(batch.src, batch.tgt_out)]


def check_layout(batch, src_lens, tgt_lens):
    """Padding, masks, BOS/EOS placement and the batch's own maxima."""
    src, src_mask, tgt_in, tgt_out, tgt_mask = batch
    n = len(src_lens)
    assert src.dtype == np.int64 and tgt_in.dtype == np.int64 and tgt_out.dtype == np.int64
    assert src_mask.dtype == bool and tgt_mask.dtype == bool
    assert src.shape == src_mask.shape == (n, max(src_lens))
    assert tgt_in.shape == tgt_out.shape == tgt_mask.shape == (n, max(tgt_lens) + 1)
    for i in range(n):
        s, t = src_lens[i], tgt_lens[i]
        assert src_mask[i].tolist() == [True] * s + [False] * (src.shape[1] - s)
        assert tgt_mask[i].tolist() == [True] * (t + 1) + [False] * (tgt_in.shape[1] - t - 1)
        assert tgt_in[i, 0] == BOS and tgt_out[i, t] == EOS
        assert (tgt_in[i, 1 : t + 1] == tgt_out[i, :t]).all()
    assert (src[~src_mask] == PAD).all() and (src[src_mask] > UNK).all()
    assert (tgt_in[~tgt_mask] == PAD).all() and (tgt_out[~tgt_mask] == PAD).all()
    assert (tgt_out[:, :-1][tgt_mask[:, 1:]] > UNK).all()  # every counted non-final position is a real token


# -- Vocab and collate -----------------------------------------------------------------------


def test_vocab_specials_encode_decode():
    v = Vocab(["a", "b", "a", "<eos>"])
    assert v.tokens == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b"] and len(v) == 6
    assert v.index["a"] == 4 and v.symbols == ["a", "b"]
    assert v.encode(["b", "a", "zz"]) == [5, 4, UNK]
    assert v.decode([BOS, 4, 5, PAD, 4, EOS, 5, 5]) == ["a", "b", "a"]
    assert v.decode(np.array([4, 3])) == ["a", "<unk>"]
    assert Vocab(v.tokens) == v and Vocab(["b", "a"]) != v
    with pytest.raises(ValueError, match="outside"):
        v.decode([99])


def test_collate_layout_and_empty_target():
    src_v = tgt_v = Vocab("0123456789")
    pairs = [(list("12"), list("345")), (list("6789"), [])]
    b = collate(pairs, src_v, tgt_v)
    check_layout(b, [2, 4], [3, 0])
    assert b.tgt_in[1].tolist() == [BOS, 0, 0, 0] and b.tgt_out[1].tolist() == [EOS, 0, 0, 0]
    with pytest.raises(ValueError, match="empty"):
        collate([([], ["1"])], src_v, tgt_v)
    with pytest.raises(ValueError):
        collate([], src_v, tgt_v)


seqs = st.lists(st.sampled_from(list("0123456789")), min_size=1, max_size=8)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(seqs, st.lists(st.sampled_from(list("abc")), max_size=8)), min_size=1, max_size=6))
def test_collate_property(pairs):
    src_v, tgt_v = Vocab("0123456789"), Vocab("abc")
    b = collate(pairs, src_v, tgt_v)
    check_layout(b, [len(s) for s, _ in pairs], [len(t) for _, t in pairs])
    for (s, t), row_s, row_t in zip(pairs, b.src, b.tgt_out):
        assert src_v.decode(row_s) == s and tgt_v.decode(row_t) == t


# -- every task's content --------------------------------------------------------------------


@pytest.mark.parametrize("name", [*DIGIT_TASKS, "dates"])
def test_batches_are_well_formed(name):
    task = make_task(name, min_len=2, max_len=7, seed=3)
    b = task.batch(None, 64)
    pairs = pairs_of(task, b)
    check_layout(b, [len(s) for s, _ in pairs], [len(t) for _, t in pairs])
    assert all(task.split_of(s, t) == "train" for s, t in pairs)


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


STRPTIME = ("%d %b %Y", "%A, %B %d, %Y", "%m/%d/%Y", "%b %d, %Y", "%d.%m.%Y", "%d %B %Y", "%a %d %b %Y", "%B %d, %Y")


def read_date(text):
    """Independent parse of a generated date with strptime (C locale English names) -> (date, format)."""
    for fmt in STRPTIME:
        try:
            return datetime.datetime.strptime(text, fmt).date(), fmt
        except ValueError:
            continue
    raise AssertionError(f"unparseable date {text!r}")


def test_dates_map_to_the_right_iso_date_and_weekday():
    task = make_task("dates", seed=0)
    pairs = pairs_of(task, task.batch(None, 400))
    formats, weekdays = set(), 0
    for src, tgt in pairs:
        text = "".join(src)
        date, fmt = read_date(text)
        formats.add(fmt)
        assert "".join(tgt) == date.isoformat() and 1950 <= date.year <= 2049
        name = date.strftime("%A").lower()  # strptime ignores weekdays: check them here
        for word in text.replace(",", " ").split():
            if word in tasks.WEEKDAYS or word in {w[:3] for w in tasks.WEEKDAYS}:
                assert word in (name, name[:3]), text
                weekdays += 1
    assert formats == set(STRPTIME) and weekdays > 50
    d = datetime.date(2026, 11, 24)
    written = {format_date(d, k) for k in range(len(tasks.DATE_FORMATS))}
    assert {"24 nov 2026", "tuesday, november 24, 2026", "11/24/2026", "nov 24, 2026", "24.11.2026",
            "tue 24 nov 2026"} <= written
    assert format_date(datetime.date(2000, 1, 1), 1) == "saturday, january 1, 2000"


# -- seeding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*DIGIT_TASKS, "dates"])
def test_same_seed_same_batches(name):
    a, b, c = make_task(name, seed=7), make_task(name, seed=7), make_task(name, seed=8)
    for _ in range(3):
        ba, bb, bc = a.batch(None, 16), b.batch(None, 16), c.batch(None, 16)
        assert all(np.array_equal(x, y) for x, y in zip(ba, bb))
    assert not all(np.array_equal(x, y) for x, y in zip(ba, bc))
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert all(np.array_equal(x, y) for x, y in zip(a.batch(g1, 8), c.batch(g2, 8)))
    assert all(np.array_equal(x, y) for x, y in zip(a.batch(11, 8), a.batch(11, 8)))
    t1, t2 = a.test_set(20, seed=4), c.test_set(20, seed=4)   # the split ignores the task's seed
    assert all(np.array_equal(x, y) for x, y in zip(t1, t2))


# -- the held-out split ------------------------------------------------------------------------


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


def test_dates_hold_out_whole_dates():
    task = make_task("dates", seed=0, first_year=2000, last_year=2001)  # 731 dates
    train = pairs_of(task, task.batch(None, 3000))
    test = pairs_of(task, task.test_set(200, seed=2))
    train_dates, test_dates = {tuple(t) for _, t in train}, {tuple(t) for _, t in test}
    assert len(test_dates) > 30 and len(train_dates) > 550 and not train_dates & test_dates
    assert not {tuple(s) for s, _ in train} & {tuple(s) for s, _ in test}


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


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown task"):
        make_task("translate")
    with pytest.raises(ValueError, match="min_len"):
        make_task("copy", min_len=5, max_len=3)
    with pytest.raises(ValueError, match="min_len"):
        make_task("copy").batch(None, 2, min_len=0)
    with pytest.raises(TypeError):
        make_task("copy", colour="red")


# -- parsing user input ------------------------------------------------------------------------


def test_parse_digits():
    task = make_task("reverse")
    assert task.parse("3 1 4 1 5") == ["3", "1", "4", "1", "5"]
    assert task.parse(["3", "1", 4]) == ["3", "1", "4"]
    assert task.parse("  314 ") == ["3", "1", "4"]
    with pytest.raises(ValueError, match=r"unknown token 'x' at position 2.*valid tokens: 0 1 2 3 4 5 6 7 8 9"):
        task.parse("3 1 x")
    with pytest.raises(ValueError, match="empty"):
        task.parse("   ")


def test_parse_dates():
    task = make_task("dates")
    assert task.parse("  Tuesday,  November 24, 2026 ") == list("tuesday, november 24, 2026")
    assert task.parse(list("11/24/2026")) == list("11/24/2026")
    with pytest.raises(ValueError, match=r"unknown token 'q'.*valid tokens:"):
        task.parse("q1 2026")
    src, _ = task.sample(np.random.default_rng(0))
    assert task.parse("".join(src)) == src


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


def test_default_denoise_splits_are_equally_corrupted():
    # The check, on the trainer's default lengths: 3,000 pairs of each split.
    task = make_task("denoise", min_len=3, max_len=10, seed=0)
    rng = np.random.default_rng(0)
    share = {split: np.mean([s == t for s, t in (task.sample(rng, split=split) for _ in range(3000))])
             for split in ("train", "test")}
    assert abs(share["train"] - share["test"]) < 0.03, share


# -- denoise: what a model could reach on the held-out set ------------------------------------


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
