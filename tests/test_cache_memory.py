"""minatt.tools.bench.cache_memory: a step's peak memory in a fresh process, and the bytes its forward keeps
for the backward."""

from __future__ import annotations

import json

from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.tools import bench
from minatt.tools.bench.cache_memory import cache_bytes
from minatt.tools.bench.timed_steps import make_batch
from tests.bench_args import TINY, parse


def test_memory_is_measured_in_a_fresh_process(capsys):
    assert bench.run(parse([*TINY, "--json", "--memory"])) == 0
    mem = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["minatt"]["memory"]
    assert "error" not in mem, mem
    assert mem["rss_mib"] >= 0 and mem["traced_mib"] > 0


def test_the_bytes_kept_for_backward_grow_with_the_target_length_and_exclude_the_parameters():
    """Each decoder step keeps its activations, so a longer target keeps more. The kept activations have a
    row per example, so the bytes are a line in the batch size N whose intercept is a few scalars (the loss's
    token count): the weights the caches point at (thousands of bytes here) are not counted."""
    model = Seq2Seq(Seq2SeqConfig(9, 9, embed=4, hidden=6), seed=0)
    short, long = (cache_bytes(model, make_batch(3, 5, T, 9)) for T in (4, 8))
    assert 0 < short < long
    by_n = [cache_bytes(model, make_batch(N, 5, 4, 9)) for N in (3, 6, 9)]
    assert by_n[0] == short and by_n[2] - by_n[1] == by_n[1] - by_n[0]  # a line in N
    intercept = 2 * by_n[0] - by_n[1]
    assert 0 <= intercept <= 64 < sum(p.nbytes for p in model.params.values())
