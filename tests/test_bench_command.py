"""minatt.tools.bench.bench_command: the bench command runs and reports: its JSON line, its table, workers,
threads, the Transformer encoder, the PyTorch comparison. No timing is asserted: only that the numbers exist and
are consistent (its FLOP count: tests/test_flops.py; the PyTorch twin: tests/test_torch_reference.py)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.tools import bench
from tests.bench_args import TINY, parse


def test_json_line_has_the_median_and_consistent_rates(capsys):
    assert bench.run(parse([*TINY, "--json", "--threads", "1"])) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["median_ms"] > 0 and out["median_ms"] == out["minatt"]["median_ms"]
    assert out["gflop_per_step"] == pytest.approx(37872 / 1e9)
    assert out["minatt"]["gflops"] == pytest.approx(out["gflop_per_step"] / (out["median_ms"] / 1e3))
    assert out["minatt"]["peak_share"] == pytest.approx(out["minatt"]["gflops"] / out["peak_gflops"])
    assert out["threads"] == 1 and out["params"] > 0


def test_the_table_is_printed(capsys):
    assert bench.run(parse([*TINY, "--cell", "gru", "--score", "general", "--decoder", "luong"])) == 0
    text = capsys.readouterr().out
    assert "gru + general (luong)" in text and "GFLOP/s" in text and "% of peak" in text


def test_workers_split_the_minatt_step(capsys):
    assert bench.run(parse([*TINY, "--json", "--threads", "2", "--workers", "2", "--batch", "4"])) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["workers"] == 2 and out["worker_threads"] == 1 and out["threads"] == 2
    assert out["median_ms"] > 0
    assert bench.run(parse([*TINY, "--threads", "2", "--workers", "2"])) == 0
    assert "minatt: 2 worker processes x 1 BLAS thread(s)" in capsys.readouterr().out


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: a BLAS caps its threads at 1")
def test_threads_set_the_blas_that_the_output_names(capsys):
    counts = {}
    for n in (1, 2):
        assert bench.run(parse([*TINY, "--json", "--threads", str(n)])) == 0
        out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert out["threads"] == n and out["blas"], out
        counts[n] = {b["threads"] for b in out["blas"]}
    assert counts == {1: {1}, 2: {2}}
    assert bench.run(parse([*TINY, "--threads", "1"])) == 0
    table = capsys.readouterr().out.splitlines()
    assert "numpy, BLAS " in table[1] and " on 1 thread;" in table[1], table[1]


def test_bench_times_the_transformer_encoder(capsys):
    args = [*TINY, "--json", "--threads", "1", "--encoder", "transformer", "--layers", "1", "--heads", "2", "--ff", "8"]
    assert bench.run(parse(args)) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["config"]["encoder"] == "transformer" and out["median_ms"] > 0
    assert out["gflop_per_step"] == pytest.approx(6 * (6312 - 1584 + 1656) / 1e9)
    rnn = Seq2Seq(Seq2SeqConfig(7, 7, embed=5, hidden=6)).num_params()
    assert out["params"] != rnn  # the model built is not the recurrent one
    assert bench.run(parse([*TINY, "--encoder", "transformer", "--heads", "2"])) == 0
    assert "transformer (2 layers, 2 heads) + additive (bahdanau)" in capsys.readouterr().out


def test_vs_torch_refuses_the_transformer_encoder_in_one_line(capsys):
    pytest.importorskip("torch")
    code = bench.main([*TINY, "--vs-torch", "--encoder", "transformer", "--heads", "2"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1
    assert "recurrent encoders only" in err and "--vs-torch" in err


def test_vs_torch_reports_both_and_the_ratio(capsys):
    pytest.importorskip("torch")
    assert bench.run(parse([*TINY, "--json", "--vs-torch", "--threads", "1"])) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["torch_params"] == out["params"]
    assert out["ratio"] == pytest.approx(out["minatt"]["median_ms"] / out["torch"]["median_ms"])
    assert out["torch"]["gflops"] > 0 and out["torch_device"] == "cpu"


def test_vs_torch_without_pytorch_times_minatt_and_says_how_to_compare(monkeypatch, capsys):
    """The README's tour line `bench --vs-torch` after a plain `pip install -e .` (no PyTorch)."""
    from minatt import cli

    monkeypatch.setitem(sys.modules, "torch", None)   # `import torch` raises ImportError
    assert cli.main(["bench", *TINY, "--vs-torch"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "minatt: note: PyTorch is not installed, so this times minatt alone; for the comparison: "
        "pip install 'minatt[torch]'"]
    assert "minatt  median" in captured.out and "torch" not in captured.out.replace("vs-torch", "")
