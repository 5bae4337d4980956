"""Data parallelism: the split step gives the one-process loss and gradients, and fails cleanly."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from minatt.backend import default_dtype
from minatt.errors import ConfigError, MinattError, ShapeError
from minatt.gradcheck.model_cases import COMBOS, combo_name
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.optim import Adam
from minatt.tasks import Batch
from minatt.train.parallel import DataParallel, shard_rows


def padded_batch(n: int, seed: int, vocab: int = 11, s_max: int = 7, t_max: int = 6) -> Batch:
    """A right-padded batch whose rows have different source and target lengths (so the
    shards hold different numbers of real target tokens)."""
    rng = np.random.default_rng(seed)
    src_len = rng.integers(1, s_max + 1, n)
    tgt_len = rng.integers(1, t_max + 1, n)
    src_mask = np.arange(s_max)[None, :] < src_len[:, None]
    tgt_mask = np.arange(t_max)[None, :] < tgt_len[:, None]
    src = np.where(src_mask, rng.integers(3, vocab, (n, s_max)), 0)
    tgt_in = np.where(tgt_mask, rng.integers(3, vocab, (n, t_max)), 0)
    tgt_out = np.where(tgt_mask, rng.integers(3, vocab, (n, t_max)), 0)
    return Batch(src, src_mask, tgt_in, tgt_out, tgt_mask)


def float64_model(**options) -> Seq2Seq:
    config = Seq2SeqConfig(11, 11, embed=6, hidden=8, **options)
    with default_dtype("float64"):
        return Seq2Seq(config, seed=3)


def assert_same(a, b, rtol=1e-12):
    (loss_a, grads_a), (loss_b, grads_b) = a, b
    assert loss_b == pytest.approx(loss_a, rel=rtol)
    assert list(grads_a) == list(grads_b)
    for name in grads_a:
        scale = max(float(np.abs(grads_a[name]).max()), 1e-300)
        assert float(np.abs(grads_a[name] - grads_b[name]).max()) <= rtol * scale, name


@pytest.fixture(scope="module")
def lstm_pair():
    model = float64_model(cell="lstm", score="additive", decoder="bahdanau")
    with DataParallel(model, workers=3) as dp:
        yield model, dp


def test_shard_rows():
    assert shard_rows(5, 2) == [(0, 3), (3, 5)]
    assert shard_rows(6, 3) == [(0, 2), (2, 4), (4, 6)]
    assert shard_rows(2, 4) == [(0, 1), (1, 2)]
    for n in range(1, 12):
        for k in range(1, 6):
            rows = shard_rows(n, k)
            assert rows[0][0] == 0 and rows[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(rows, rows[1:]))
            sizes = [hi - lo for lo, hi in rows]
            assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1 and len(rows) == min(n, k)


def test_split_step_equals_the_one_process_step(lstm_pair):
    model, dp = lstm_pair
    for seed in range(3):
        batch = padded_batch(7, seed)
        assert_same(model.loss_and_grads(batch), dp.loss_and_grads(batch))


def test_the_token_weighting_is_what_makes_it_exact(lstm_pair):
    """A plain mean of the shard gradients is NOT the batch gradient when the shards hold
    different numbers of tokens, so the test above would catch a missing weight."""
    model, _ = lstm_pair
    batch = padded_batch(7, 0)
    counts = [int(batch.tgt_mask[lo:hi].sum()) for lo, hi in shard_rows(7, 3)]
    assert len(set(counts)) > 1
    parts = [model.loss_and_grads(Batch(*(a[lo:hi] for a in batch))) for lo, hi in shard_rows(7, 3)]
    _, full = model.loss_and_grads(batch)
    plain = {name: sum(g[name] for _, g in parts) / len(parts) for name in full}
    worst = max(float(np.abs(plain[n] - full[n]).max() / np.abs(full[n]).max()) for n in full)
    assert worst > 1e-3


def test_workers_see_every_parameter_update(lstm_pair):
    model, dp = lstm_pair
    batch = padded_batch(6, 4)
    opt = Adam(model.params, lr=0.05)
    for _ in range(3):
        loss, grads = dp.loss_and_grads(batch)
        opt.step(grads)
    assert_same(model.loss_and_grads(batch), dp.loss_and_grads(batch))


def test_fewer_rows_than_workers_and_rows_without_targets(lstm_pair):
    model, dp = lstm_pair
    one = padded_batch(1, 5)
    assert_same(model.loss_and_grads(one), dp.loss_and_grads(one))
    batch = padded_batch(6, 6)
    tgt_mask = batch.tgt_mask.copy()
    tgt_mask[4:] = False  # the last shard has no real target token: it must add nothing
    batch = batch._replace(tgt_mask=tgt_mask, tgt_out=np.where(tgt_mask, batch.tgt_out, 0))
    assert_same(model.loss_and_grads(batch), dp.loss_and_grads(batch))


def test_a_bad_batch_raises_the_models_own_error(lstm_pair):
    model, dp = lstm_pair
    batch = padded_batch(6, 7)
    bad = batch._replace(tgt_out=np.where(batch.tgt_mask, 99, 0))
    with pytest.raises(ShapeError) as one:
        model.loss_and_grads(bad)
    with pytest.raises(ShapeError) as split:
        dp.loss_and_grads(bad)
    assert str(split.value) == str(one.value)
    assert_same(model.loss_and_grads(batch), dp.loss_and_grads(batch))  # and the workers are still fine


@pytest.mark.parametrize("options", [dict(cell="gru", score="general", decoder="luong"),
                                     dict(cell="lstm", score="dot", decoder="luong", bidirectional=True),
                                     dict(cell="gru", score="concat", decoder="bahdanau", bidirectional=True),
                                     dict(cell="lstm", score="none", decoder="luong", input_feeding=False)])
def test_other_models(options):
    model = float64_model(**options)
    batch = padded_batch(5, 8)
    with DataParallel(model, workers=2) as dp:
        assert_same(model.loss_and_grads(batch), dp.loss_and_grads(batch))


def test_float32_agrees_to_rounding():
    model = Seq2Seq(Seq2SeqConfig(11, 11, embed=6, hidden=8), seed=1)
    batch = padded_batch(8, 9)
    with DataParallel(model, workers=2) as dp:
        (loss, grads), (split_loss, split_grads) = model.loss_and_grads(batch), dp.loss_and_grads(batch)
    assert split_loss == pytest.approx(loss, rel=1e-6)
    # float32 rounding, measured against the largest gradient entry (a tiny gradient such as
    # dWq's at initialisation is mostly cancellation, and its own relative error means little)
    scale = max(float(np.abs(g).max()) for g in grads.values())
    assert max(float(np.abs(grads[k] - split_grads[k]).max()) for k in grads) <= 1e-6 * scale


def test_one_worker_starts_no_process():
    model = float64_model()
    dp = DataParallel(model, workers=1)
    batch = padded_batch(4, 1)
    assert_same(model.loss_and_grads(batch), dp.loss_and_grads(batch), rtol=0)
    assert "0 child" in repr(dp)


def test_workers_need_a_numpy_model_one_worker_does_not(monkeypatch):
    import minatt.train.parallel

    model = float64_model()
    monkeypatch.setattr(minatt.train.parallel, "is_device_array", lambda a: True)  # as if the model lived on a GPU
    DataParallel(model, workers=1).close()  # one worker is the model itself, on any backend
    with pytest.raises(ConfigError, match="data-parallel workers run the NumPy backend"):
        DataParallel(model, workers=2)


def test_a_dead_worker_is_reported_and_closes_the_object():
    model = float64_model()
    dp = DataParallel(model, workers=2)
    child = dp._children[0].process
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=10)
    with pytest.raises(MinattError, match=r"^data-parallel worker 1 exited unexpectedly"):
        dp.loss_and_grads(padded_batch(4, 2))
    with pytest.raises(MinattError, match="closed"):
        dp.loss_and_grads(padded_batch(4, 2))
    dp.close()  # idempotent


def test_close_stops_the_workers():
    dp = DataParallel(float64_model(), workers=3)
    processes = [c.process for c in dp._children]
    assert all(p.is_alive() for p in processes)
    dp.close()
    assert not any(p.is_alive() for p in processes)
    assert "closed" in repr(dp)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_bad_worker_counts(workers):
    with pytest.raises(ConfigError, match="workers must be a positive integer"):
        DataParallel(float64_model(), workers=workers)


def test_unsupported_dtype():
    model = float64_model()
    for name in model.params:  # (minatt itself never makes float16 models; a user might convert one)
        model.params[name] = model.params[name].astype(np.float16)
    with pytest.raises(ConfigError, match="float32 and float64"):
        DataParallel(model, workers=2)


@pytest.mark.parametrize("combo", COMBOS, ids=combo_name)
def test_every_model_returns_gradients_it_can_scale_in_place(combo):
    """DataParallel scales the parent's gradient arrays in place, so no two of them may share
    memory (scaling one would scale the other twice) and none may be a parameter."""
    cell, score, decoder, bidirectional, encoder = combo
    model = float64_model(cell=cell, score=score, decoder=decoder, bidirectional=bidirectional, encoder=encoder)
    _, grads = model.loss_and_grads(padded_batch(4, 0))
    arrays = list(grads.values()) + list(model.params.values())
    for i, g in enumerate(grads.values()):
        assert g.flags.writeable
        assert not any(np.shares_memory(g, other) for other in arrays[i + 1:]), list(grads)[i]


def test_a_script_without_the_main_guard_gets_a_clear_error(tmp_path):
    """spawn imports the main script again in the child: without the guard the child tries to
    start workers of its own, fails, and the parent says what to do."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = tmp_path / "no_guard.py"
    script.write_text(
        "from minatt.train.parallel import DataParallel\n"
        "from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig\n"
        "DataParallel(Seq2Seq(Seq2SeqConfig(11, 11, embed=6, hidden=8)), workers=2)\n")
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode != 0
    assert "MinattError: data-parallel worker 1 could not start" in done.stderr
    assert '`if __name__ == "__main__":` guard' in done.stderr
