"""minatt.tools.bench.timed_steps: the fixed batch the bench times, the alternating timer, the matmul peak."""

from __future__ import annotations

import numpy as np

from minatt.tools.bench.timed_steps import make_batch, matmul_peak, time_steps


def test_the_batch_is_full_length_and_holds_no_special_token():
    batch = make_batch(5, 7, 3, 12, seed=1)
    assert batch.src.shape == batch.src_mask.shape == (5, 7) and batch.tgt_in.shape == (5, 3)
    assert batch.src_mask.all() and batch.tgt_mask.all()
    assert batch.src.min() >= 4 and batch.tgt_out.min() >= 4 and batch.src.max() < 12
    assert np.array_equal(make_batch(5, 7, 3, 12, seed=1).src, batch.src)


def test_time_steps_alternates_the_libraries_in_blocks_after_their_warmups():
    calls = []
    steps = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = time_steps(steps, {"a": lambda: None, "b": lambda: None}, n=4, warmup=1, block=2, pause=0.0)
    assert sorted(times) == ["a", "b"] and all(len(t) == 4 and min(t) >= 0 for t in times.values())
    timed = calls[2:]  # one warm-up step each first
    assert sorted(calls[:2]) == ["a", "b"]
    assert timed == ["a", "a", "b", "b", "a", "a", "b", "b"]


def test_the_matmul_peak_is_a_rate_in_gflops():
    assert matmul_peak(size=64, repeats=2) > 0.01
