"""The denoise ceiling (minatt.tasks.ceiling) against brute force: every clean sequence of a tiny
alphabet, every way the generator could have corrupted it, summed by hand.

(The denoise task's reports built on these functions are tested in tests/test_sequences.py.)
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minatt.tasks import ceiling


def noisy_given_clean(noisy: tuple, clean: tuple, V: int, p: float) -> float:
    """P(noisy | clean): each clean token kept (1 - p), replaced by one of the V - 1 others (p_r) or dropped
    (p_d); if every token was dropped, the source is the first one."""
    everything_dropped = ceiling.rates(V, p)[0] ** len(clean) if clean and noisy == clean[:1] else 0.0
    return emitted_by(noisy, clean, V, p) + everything_dropped


def emitted_by(noisy: tuple, clean: tuple, V: int, p: float) -> float:
    """P(the clean tokens, each kept, replaced or dropped, leave exactly ``noisy``)."""
    p_drop, p_replace = ceiling.rates(V, p)
    if not clean:
        return float(not noisy)
    head, rest = clean[0], clean[1:]
    total = p_drop * emitted_by(noisy, rest, V, p)
    if noisy:
        emitted = (1 - p) if noisy[0] == head else p_replace / (V - 1)
        total += emitted * emitted_by(noisy[1:], rest, V, p)
    return total


def brute_posterior(noisy: tuple, V: int, p: float, lo: int, hi: int) -> np.ndarray:
    """(hi + 1, V + 1): sum over lengths and clean sequences of P(clean | length) P(noisy | clean) [target[t] = x]."""
    out = np.zeros((hi + 1, V + 1))
    for length in range(lo, hi + 1):
        for clean in itertools.product(range(V), repeat=length):
            w = noisy_given_clean(noisy, clean, V, p) / V**length
            for t, x in enumerate(clean):
                out[t, x] += w
            out[length, V] += w
    return out


@pytest.mark.parametrize("noisy", [(0,), (1, 0), (2, 2, 1), (0, 1, 2)])
@pytest.mark.parametrize("lo", [1, 2])
def test_position_posterior_is_the_brute_force_sum(noisy, lo):
    expected = brute_posterior(noisy, 3, 0.3, lo, 4)
    np.testing.assert_allclose(ceiling.position_posterior(list(noisy), 3, 0.3, lo, 4), expected, rtol=1e-12, atol=1e-15)


def test_best_output_expects_the_most_right_positions_of_any_output():
    """Every output of symbols then EOS (or none), scored by its expected right positions: the best one is best_output."""
    V, p, lo, hi, noisy = 2, 0.4, 1, 3, (1, 0)
    P = brute_posterior(noisy, V, p, lo, hi)
    def worth(out):
        return sum(P[t, x] for t, x in enumerate(out))
    outputs = [(*s, V) for k in range(hi + 1) for s in itertools.product(range(V), repeat=k)]
    outputs += list(itertools.product(range(V), repeat=hi + 1))   # no EOS in range
    best = max(worth(o) for o in outputs)
    assert worth(ceiling.best_output(list(noisy), V, p, lo, hi)) == pytest.approx(best, rel=1e-12)


def test_lost_counts_drops_and_the_fewest_replacements():
    assert ceiling.lost([1, 2], [1, 2]) == (0, 0)
    assert ceiling.lost([1], [1, 2]) == (1, 0)
    assert ceiling.lost([3], [1, 2]) == (1, 1)
    assert ceiling.lost([2, 1], [1, 2]) == (0, 2)
    assert ceiling.lost([1, 3], [1, 2, 3]) == (1, 0)   # the middle token dropped, not two replaced
    with pytest.raises(ValueError, match="never longer"):
        ceiling.lost([1, 2, 3], [1, 2])


def test_rates_split_p_and_one_symbol_only_drops():
    assert ceiling.rates(10, 0.2) == pytest.approx((0.1, 0.1))
    assert ceiling.rates(1, 0.2) == (0.2, 0.0)


def test_copy_is_best_exactly_when_copying_wins_by_brute_force_on_small_cases():
    """Where copy_is_best says so, the most probable clean sequence of every source is the source itself."""
    V, lo, hi = 3, 1, 3
    for p in (0.1, 0.3):
        assert ceiling.copy_is_best(V, p, hi)
        for m in range(lo, hi + 1):
            for noisy in itertools.product(range(V), repeat=m):
                scores = {clean: noisy_given_clean(noisy, clean, V, p) / V**len(clean)
                          for L in range(lo, hi + 1) for clean in itertools.product(range(V), repeat=L)}
                assert max(scores, key=scores.get) == noisy
    assert not ceiling.copy_is_best(10, 0.9, 30)
