"""The bench command: it runs and reports, its FLOP count is the hand count, the PyTorch twin is the same model.

No timing is asserted anywhere: only that the numbers exist and are consistent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import pytest

from minatt.backend import default_dtype
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.tasks import Batch
from minatt.tools import bench
from minatt.tools.flops import flop_terms, step_flops
from minatt.tools.torch_reference import build_twin, copy_weights, trainable_count

TINY = ["--batch", "2", "--src-len", "3", "--tgt-len", "4", "--embed", "5", "--hidden", "6", "--vocab", "7",
        "--steps", "2", "--warmup", "1", "--peak-size", "64",
        "--pause", "0"]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(argv)


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


def test_memory_is_measured_in_a_fresh_process(capsys):
    assert bench.run(parse([*TINY, "--json", "--memory"])) == 0
    mem = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["minatt"]["memory"]
    assert "error" not in mem, mem
    assert mem["rss_mib"] >= 0 and mem["traced_mib"] > 0


def test_the_cli_dispatches_to_bench(monkeypatch, capsys):
    from minatt import cli

    if "minatt.tools.bench" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "minatt.tools.bench"])
    args = cli.build_parser().parse_args(["bench", *TINY, "--json"])
    assert args.func(args) == 0
    assert "median_ms" in json.loads(capsys.readouterr().out.strip().splitlines()[-1])


# ------------------------------------------------------------------ the FLOP count


def test_flops_equal_a_hand_count():
    # N=2, S=3, T=4, E=5, H=K=A=6, V=7, G=4 (LSTM), additive, Bahdanau (decoder input E + K = 11):
    # encoder 2*3*(5+6)*24 = 1584; keys 2*3*6*6 = 216; decoder 2*4*(11+6)*24 = 3264;
    # query 2*4*6*6 = 288; scores 2*4*3*6 = 144; context 144; output 2*4*(6+6)*7 = 672 -> 6312 MACs
    cfg = Seq2SeqConfig(7, 7, embed=5, hidden=6, cell="lstm", score="additive", decoder="bahdanau")
    assert sum(flop_terms(cfg, 2, 3, 4).values()) == 6312
    assert step_flops(cfg, 2, 3, 4) == 6 * 6312
    # GRU (G=3), general, Luong with input feeding (decoder input E + H = 11):
    # encoder 2*3*11*18 = 1188; keys 2*3*6*6 = 216; decoder 2*4*17*18 = 2448; scores 144; context 144;
    # combine 2*4*12*6 = 576; output 2*4*6*7 = 336 -> 5052 MACs
    cfg = Seq2SeqConfig(7, 7, embed=5, hidden=6, cell="gru", score="general", decoder="luong")
    assert step_flops(cfg, 2, 3, 4) == 6 * 5052


def test_transformer_encoder_flops_equal_a_hand_count():
    # as the first case above, with one Transformer layer (D = 6, F = 8, 2 heads) in place of the LSTM encoder:
    # Wq, Wk, Wv, Wo 4*2*3*6*6 = 864; q.k and weights @ v 2*2*3*3*6 = 216; feed-forward 2*2*3*6*8 = 576
    cfg = Seq2SeqConfig(7, 7, embed=5, hidden=6, cell="lstm", score="additive", decoder="bahdanau",
                        encoder="transformer", layers=1, heads=2, ff=8)
    assert flop_terms(cfg, 2, 3, 4)["encoder"] == 864 + 216 + 576
    assert sum(flop_terms(cfg, 2, 3, 4).values()) == 6312 - 1584 + 1656
    assert step_flops(cfg.__class__(**{**cfg.to_dict(), "layers": 3}), 2, 3, 4) == 6 * (6312 - 1584 + 3 * 1656)


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


def test_flops_grow_with_each_size():
    cfg = Seq2SeqConfig(7, 7, embed=5, hidden=6)
    base = step_flops(cfg, 2, 3, 4)
    assert step_flops(cfg, 4, 3, 4) == 2 * base  # linear in the batch
    assert step_flops(cfg, 2, 4, 4) > base and step_flops(cfg, 2, 3, 5) > base


# ------------------------------------------------------------------ the PyTorch twin



def padded_batch(rng: np.random.Generator, N: int, S: int, T: int, V: int) -> Batch:
    src_len, tgt_len = rng.integers(1, S + 1, N), rng.integers(1, T + 1, N)
    src_len[0], tgt_len[0] = S, T
    sm, tm = np.arange(S) < src_len[:, None], np.arange(T) < tgt_len[:, None]
    ids = [rng.integers(4, V, shape) for shape in ((N, S), (N, T), (N, T))]
    return Batch(np.where(sm, ids[0], 0), sm, np.where(tm, ids[1], 0), np.where(tm, ids[2], 0), tm)


@pytest.mark.parametrize("cell, score, decoder, feeding", [
    ("lstm", "additive", "bahdanau", True),
    ("gru", "additive", "bahdanau", True),
    ("lstm", "general", "luong", True),
    ("gru", "dot", "luong", False),
    ("lstm", "scaled_dot", "bahdanau", True),
    ("lstm", "concat", "luong", True),
    ("gru", "none", "bahdanau", True),
])
def test_the_twin_is_the_same_model(cell, score, decoder, feeding):
    """Same weights (copied across), float64, padded batch: same parameter count, same loss, same gradients."""
    torch = pytest.importorskip("torch")
    with default_dtype("float64"):
        cfg = Seq2SeqConfig(11, 13, embed=4, hidden=6, cell=cell, score=score, decoder=decoder,
                            input_feeding=feeding, attn_dim=5)
        model = Seq2Seq(cfg, seed=3)
    twin = build_twin(cfg, dtype="float64")
    copy_weights(model, twin)
    assert trainable_count(twin) == model.num_params()
    batch = padded_batch(np.random.default_rng(0), 5, 7, 6, 11)
    loss, grads = model.loss_and_grads(batch)
    theirs = twin(*(torch.as_tensor(a) for a in batch))
    assert theirs.item() == pytest.approx(loss, rel=1e-12, abs=1e-12)
    theirs.backward()
    expected = twin_gradients(twin, cell)
    assert set(expected) == set(grads) == set(model.params)  # every gradient is compared
    for name, g in grads.items():
        np.testing.assert_allclose(g, expected[name], rtol=1e-9, atol=1e-12, err_msg=f"d{name}")


def twin_gradients(twin, cell: str) -> dict[str, np.ndarray]:
    """The twin's gradients under minatt's parameter names, oriented like minatt's arrays.

    Written out here rather than derived from copy_weights, so a mistake in either shows up.
    PyTorch keeps weights as (out, in), minatt as (in, out); the LSTM's one bias is bias_ih.
    """
    grads = {"enc.embed.W": twin.enc_embed.weight.grad, "dec.embed.W": twin.dec_embed.weight.grad,
             "dec.out.W": twin.out.weight.grad.T, "dec.out.b": twin.out.bias.grad}
    rnns = {"enc.fwd": (twin.enc_rnn.weight_ih_l0, twin.enc_rnn.weight_hh_l0, twin.enc_rnn.bias_ih_l0,
                        twin.enc_rnn.bias_hh_l0),
            "dec.rnn": (twin.dec_cell.weight_ih, twin.dec_cell.weight_hh, twin.dec_cell.bias_ih, twin.dec_cell.bias_hh)}
    for prefix, (w_ih, w_hh, b_ih, b_hh) in rnns.items():
        grads[f"{prefix}.Wx"], grads[f"{prefix}.Wh"] = w_ih.grad.T, w_hh.grad.T
        if cell == "lstm":
            grads[f"{prefix}.b"] = b_ih.grad
        else:
            grads[f"{prefix}.bx"], grads[f"{prefix}.bh"] = b_ih.grad, b_hh.grad
    for name in ("Wq", "Wk", "v", "Wa"):  # the score's weights, stored as minatt stores them
        if hasattr(twin, name):
            grads[f"dec.attn.{name}"] = getattr(twin, name).grad
    if hasattr(twin, "combine"):
        grads["dec.combine.W"], grads["dec.combine.b"] = twin.combine.weight.grad.T, twin.combine.bias.grad
    return {k: g.numpy() for k, g in grads.items()}


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


def test_largest_drop_counts_from_the_first_pass_of_0_9():
    from minatt.tools.bench.curve import largest_drop

    assert largest_drop([0.0, 0.5, 0.3, 0.95, 1.0, 0.85, 1.0]) == pytest.approx(0.15)   # 0.5 -> 0.3 is before 0.9
    assert largest_drop([0.2, 0.8]) == 0.0
    assert largest_drop([0.92, 1.0, 0.99, 0.49, 1.0]) == pytest.approx(0.51)   # issue 26's default run, roughly


def test_the_curve_script_measures_the_run_train_makes(capsys):
    from minatt.tools.bench.curve import main

    tiny = ["embed=8", "hidden=16", "batch=8", "min_len=2", "max_len=4", "steps=10", "eval_every=5", "test_size=16",
            "warmup=2", "lr=0.01", "target=null"]
    assert main(["--seeds", "0", "--every", "5", "--json", *(f"--set={s}" for s in tiny)]) == 0
    r = json.loads(capsys.readouterr().out.splitlines()[0])
    assert r["steps"] == [5, 10] and r["stopped"] == 10 and r["status"] == "done" and len(r["accuracy"]) == 2
