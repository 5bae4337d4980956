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
    """Each decoder step keeps its activations, so a longer target keeps more. Every kept activation has a
    row per example, so twice the batch keeps exactly twice the bytes: nothing of fixed size, such as the
    weights the caches point at, is counted."""
    model = Seq2Seq(Seq2SeqConfig(9, 9, embed=4, hidden=6), seed=0)
    short, long = (cache_bytes(model, make_batch(3, 5, T, 9)) for T in (4, 8))
    assert 0 < short < long
    assert cache_bytes(model, make_batch(6, 5, 4, 9)) == 2 * short
