"""minatt.experiments.stats: intervals over seeds and examples, the minimum detectable effect, verdict wording."""

from __future__ import annotations

import numpy as np
import pytest


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
