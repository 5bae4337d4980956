"""minatt.experiments.common: the t interval by hand, and scoring decoded tokens."""

from __future__ import annotations

import numpy as np

from minatt import experiments as experiment


def test_interval_is_the_t_interval_by_hand():
    r = experiment.interval([1.0, 2.0, 3.0])
    half = 4.303 * 1.0 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert r["n"] == 3 and r["mean"] == 2.0
    assert abs(r["lo"] - (2 - half)) < 1e-3 and abs(r["hi"] - (2 + half)) < 1e-3
    assert experiment.interval([0.5]) == {"mean": 0.5, "lo": 0.5, "hi": 0.5, "n": 1}


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
