"""Reliability: runs that survive SIGKILL and Ctrl-C, determinism, and property-based checks of the ops.

* A real training process is killed (SIGKILL) mid-run: the run directory still loads, and
  resuming it gives bit-for-bit the weights of an uninterrupted run.
* A real Ctrl-C (SIGINT) saves, exits 130, and the run resumes.
* Same seed, same backend: the same weights, bit for bit (NumPy).
* Hypothesis draws shapes, lengths and masks: the checked ops' gradients pass the finite-difference
  check, padding never leaks into the results, and a wrong size is always named.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minatt import cli, ops
from minatt.backend import default_dtype
from minatt.errors import ShapeError
from minatt.gradcheck import assert_gradients, project
from minatt.tools import checkpoint as ckpt
from minatt.train import TrainConfig, blas_threads, load_run, train

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
TINY = ["--embed", "8", "--hidden", "16", "--batch", "8", "--min-len", "2", "--max-len", "4", "--test-size", "16",
        "--warmup", "2", "--decay-to", "1", "--lr", "0.01", "--target", "none", "--seed", "3"]
PROPERTY = settings(max_examples=8, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with blas_threads(1):
        yield


def _state(run_dir):
    return ckpt.load_checkpoint(Path(run_dir) / "checkpoint.npz")


def _start(run_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "minatt", "train", *TINY, "--steps", "100000", "--out", str(run_dir), "--quiet", *extra],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for_step(proc: subprocess.Popen, step: int, timeout: float = 90) -> None:
    """Read the log until the evaluation line of ``step`` (a checkpoint is on disk by then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise AssertionError(f"training exited early: {proc.stderr.read()}")
        if line.startswith(f"step {step}/"):
            return
    raise AssertionError(f"no step {step} within {timeout} s")


def test_sigkill_mid_run_leaves_a_run_that_loads_and_resumes_exactly(tmp_path):
    """Checkpoints every step, so the kill often lands mid-write: the previous file must survive it."""
    d = tmp_path / "killed"
    proc = _start(d, "--eval-every", "1")
    try:
        _wait_for_step(proc, 6)
        time.sleep(0.013)  # somewhere inside a later step, evaluation or checkpoint write
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    config, _, _model, meta = load_run(d)  # loads, and matches its config
    step = meta["step"]
    assert step >= 6 and config.steps == 100000
    stray = [p.name for p in d.iterdir() if p.name.endswith(".tmp")]
    assert all(p.startswith(".") for p in stray)  # at most a hidden temp file from the killed write

    assert cli.main(["train", "--resume", str(d), "--steps", str(step + 4), "--quiet"]) == 0
    assert _state(d)[2]["step"] == step + 4
    straight = tmp_path / "straight"
    assert cli.main(["train", *TINY, "--eval-every", "1", "--steps", str(step + 4), "--out", str(straight),
                     "--quiet"]) == 0
    (p1, o1, m1), (p2, o2, m2) = _state(straight), _state(d)
    assert all(np.array_equal(p1[k], p2[k]) for k in p1), "resume after SIGKILL is not exact"
    assert all(np.array_equal(o1[k], o2[k]) for k in o1)
    assert m1["loss_history"] == m2["loss_history"]


def test_sigint_saves_exits_130_and_resumes(tmp_path, capsys):
    d = tmp_path / "run"
    proc = _start(d, "--eval-every", "5")
    try:
        _wait_for_step(proc, 5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "minatt: interrupted; checkpoint at step" in err and f"resume with: python -m minatt train --resume {d}" in err
    step = _state(d)[2]["step"]
    assert step >= 5
    assert cli.main(["train", "--resume", str(d), "--steps", str(step + 3), "--quiet"]) == 0
    assert f"resuming {d} at step {step}" in capsys.readouterr().out
    assert _state(d)[2]["step"] == step + 3


def test_same_seed_same_weights_bit_for_bit(tmp_path):
    cfg = TrainConfig(embed=8, hidden=16, batch=8, min_len=2, max_len=4, steps=6, eval_every=3, test_size=16,
                      warmup=2, target=None, seed=11)
    train(cfg, tmp_path / "a")
    train(cfg, tmp_path / "b")
    train(cfg.replace(seed=12), tmp_path / "c")
    (pa, oa, ma), (pb, ob, mb), (pc, _, _) = _state(tmp_path / "a"), _state(tmp_path / "b"), _state(tmp_path / "c")
    assert all(np.array_equal(pa[k], pb[k]) for k in pa) and all(np.array_equal(oa[k], ob[k]) for k in oa)
    assert ma["loss_history"] == mb["loss_history"] and ma["data_rng"] == mb["data_rng"]
    assert not all(np.array_equal(pa[k], pc[k]) for k in pa)


# ---------------------------------------------------------------------------------------------
# Property-based: shapes, lengths and masks drawn by hypothesis.

sizes = st.integers(1, 3)


@st.composite
def sequences(draw, max_t: int = 4):
    """(N, T, D, H, lengths): lengths in [0, T] per row, so a row may be fully padded."""
    n, t, d, h = draw(sizes), draw(st.integers(1, max_t)), draw(sizes), draw(sizes)
    lengths = draw(st.lists(st.integers(0, t), min_size=n, max_size=n))
    return n, t, d, h, np.asarray(lengths)


def _prefix_mask(lengths, t):
    return np.arange(t)[None, :] < lengths[:, None]  # (N, T) True on each row's first lengths[i] steps


def _params(rng, **shapes):
    return {k: rng.standard_normal(s) * 0.5 for k, s in shapes.items()}


@PROPERTY
@given(sequences(), st.sampled_from(["lstm", "gru"]), st.integers(0, 2**16))
def test_rnn_gradients_pass_for_any_shape_and_mask(seq, cell, seed):
    n, t, d, h, lengths = seq
    rng = np.random.default_rng(seed)
    mask = _prefix_mask(lengths, t)
    k = 4 if cell == "lstm" else 3
    shapes = {"x": (n, t, d), "h0": (n, h), "Wx": (d, k * h), "Wh": (h, k * h)}
    shapes.update({"c0": (n, h), "b": (k * h,)} if cell == "lstm" else {"bx": (k * h,), "bh": (k * h,)})
    params = _params(rng, **shapes)
    dhs, dhT, dcT = rng.standard_normal((n, t, h)), rng.standard_normal((n, h)), rng.standard_normal((n, h))

    def fn(p):
        if cell == "lstm":
            hs, (hT, cT), cache = ops.lstm_forward(p["x"], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"], mask)
            grads = ops.lstm_backward(dhs, dhT, dcT, cache)
            return project((hs, hT, cT), (dhs, dhT, dcT)), dict(zip(["x", "h0", "c0", "Wx", "Wh", "b"], grads))
        hs, hT, cache = ops.gru_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["bx"], p["bh"], mask)
        grads = ops.gru_backward(dhs, dhT, cache)
        return project((hs, hT), (dhs, dhT)), dict(zip(["x", "h0", "Wx", "Wh", "bx", "bh"], grads))

    with default_dtype("float64"):
        assert_gradients(fn, params, n_directions=1, op=f"{cell}[{n}x{t}x{d}x{h}, lengths {lengths.tolist()}]")


@PROPERTY
@given(sequences(), st.sampled_from(["lstm", "gru"]), st.integers(0, 2**16))
def test_rnn_padding_never_leaks(seq, cell, seed):
    """Padded steps: zero output, carried state, no effect of their inputs, zero input gradient."""
    n, t, d, h, lengths = seq
    rng = np.random.default_rng(seed)
    mask = _prefix_mask(lengths, t)
    k = 4 if cell == "lstm" else 3
    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, h))
    Wx, Wh, b = rng.standard_normal((d, k * h)), rng.standard_normal((h, k * h)), rng.standard_normal(k * h)
    noisy = x + np.where(mask[..., None], 0.0, rng.standard_normal(x.shape) * 100)  # garbage at the padding

    def run(inputs):
        if cell == "lstm":
            hs, (hT, _cT), cache = ops.lstm_forward(inputs, h0, h0 * 0.5, Wx, Wh, b, mask)
            return hs, hT, ops.lstm_backward(np.ones_like(hs), None, None, cache)[0]
        hs, hT, cache = ops.gru_forward(inputs, h0, Wx, Wh, b, b, mask)
        return hs, hT, ops.gru_backward(np.ones_like(hs), None, cache)[0]

    hs, hT, dx = run(x)
    hs2, hT2, _ = run(noisy)
    assert np.array_equal(hs, hs2) and np.array_equal(hT, hT2)
    assert not hs[~mask].any() and not dx[~mask].any()
    empty = lengths == 0
    assert np.array_equal(hT[empty], h0[empty])  # a fully padded row keeps its initial state


@st.composite
def attention_inputs(draw):
    n, s, hv = draw(sizes), draw(st.integers(1, 5)), draw(sizes)
    bits = draw(st.lists(st.booleans(), min_size=n * s, max_size=n * s))
    return n, s, hv, np.asarray(bits, dtype=bool).reshape(n, s)  # any pattern, fully masked rows included


@PROPERTY
@given(attention_inputs(), st.sampled_from(["dot", "general", "additive", "concat"]), st.integers(0, 2**16))
def test_attention_gradients_pass_for_any_mask(inputs, score, seed):
    n, s, hv, mask = inputs
    rng = np.random.default_rng(seed)
    hq, a = 2, 3
    shapes = {"q": (n, hv if score == "dot" else hq), "keys": (n, s, hv)}
    shapes.update({"general": {"Wa": (hq, hv)}, "additive": {"Wq": (hq, a), "Wk": (hv, a), "v": (a,)},
                   "concat": {"Wa": (hq + hv, a), "v": (a,)}, "dot": {}}[score])
    params = _params(rng, **shapes)
    dcontext, dweights = rng.standard_normal((n, hv)), rng.standard_normal((n, s))
    extra = [k for k in shapes if k not in ("q", "keys")]

    def fn(p):
        scores, score_cache = getattr(ops, f"{score}_score_forward")(p["q"], p["keys"], *[p[k] for k in extra])
        context, weights, cache = ops.attention_forward(scores, p["keys"], mask)
        dscores, dvalues = ops.attention_backward(dcontext, dweights, cache)
        grads = getattr(ops, f"{score}_score_backward")(dscores, score_cache)
        out = dict(zip(["q", "keys", *extra], grads))
        out["keys"] = out["keys"] + dvalues
        return project((context, weights), (dcontext, dweights)), out

    with default_dtype("float64"):
        assert_gradients(fn, params, n_directions=1, op=f"{score}-attention[{n}x{s}x{hv}]")


@PROPERTY
@given(attention_inputs(), st.integers(0, 2**16))
def test_attention_masking_invariants(inputs, seed):
    n, s, hv, mask = inputs
    rng = np.random.default_rng(seed)
    scores, values = rng.standard_normal((n, s)), rng.standard_normal((n, s, hv))
    context, weights, _ = ops.attention_forward(scores, values, mask)
    assert np.isfinite(weights).all() and np.isfinite(context).all()
    assert not weights[~mask].any()
    real = mask.any(axis=1)
    assert np.allclose(weights[real].sum(axis=1), 1.0) and not weights[~real].any() and not context[~real].any()
    junk = np.where(mask, 0.0, rng.standard_normal((n, s)) * 1e3)  # huge scores and values at the padding
    context2, weights2, _ = ops.attention_forward(scores + junk, values + junk[..., None], mask)
    assert np.array_equal(weights, weights2) and np.allclose(context, context2, rtol=0, atol=1e-12)


@PROPERTY
@given(st.integers(1, 4), st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**16))
def test_cross_entropy_ignores_ignored_tokens(n, t, v, seed):
    rng = np.random.default_rng(seed)
    logits, targets = rng.standard_normal((n, t, v)), rng.integers(0, v, (n, t))
    ignored = targets == 0
    value, cache = ops.cross_entropy_forward(logits, targets, ignore_index=0)
    value2, _ = ops.cross_entropy_forward(logits + ignored[..., None] * rng.standard_normal(logits.shape) * 50,
                                          targets, ignore_index=0)
    assert value == pytest.approx(value2, rel=1e-12, abs=1e-12)
    assert not ops.cross_entropy_backward(cache)[ignored].any()


@PROPERTY
@given(sequences(), st.sampled_from(["x", "h0", "c0", "Wx", "Wh", "b", "mask"]), st.integers(1, 2))
def test_a_wrong_size_is_always_named(seq, victim, extra):
    """Grow one axis of one argument: the checked op names exactly that argument."""
    n, t, d, h, lengths = seq
    args = {"x": np.zeros((n, t, d)), "h0": np.zeros((n, h)), "c0": np.zeros((n, h)), "Wx": np.zeros((d, 4 * h)),
            "Wh": np.zeros((h, 4 * h)), "b": np.zeros(4 * h), "mask": _prefix_mask(lengths, t)}
    ops.lstm_forward(**args)  # valid as drawn
    a = args[victim]
    axis = a.ndim - 1
    grown = np.zeros(a.shape[:axis] + (a.shape[axis] + extra,), dtype=a.dtype)
    with pytest.raises(ShapeError) as info:
        ops.lstm_forward(**{**args, victim: grown})
    named = str(info.value).split(":")[1].strip()
    # Growing x's D (or h0's H) re-binds the letter, so the next argument that uses it is the one named.
    first_user = {"x": "Wx", "h0": "c0"}
    assert named in (victim, first_user.get(victim)), str(info.value)


@settings(max_examples=4, deadline=None, derandomize=True)
@given(st.integers(0, 2**16))
def test_model_loss_ignores_what_is_under_the_padding(seed):
    """Whatever ids sit under False mask entries, the model's loss and gradients do not change."""
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
    from minatt.tasks import make_task

    rng = np.random.default_rng(seed)
    task = make_task("reverse", min_len=1, max_len=5, seed=seed)
    batch = task.batch(rng, 4)
    with default_dtype("float64"):
        model = Seq2Seq(Seq2SeqConfig(src_vocab=len(task.src_vocab), tgt_vocab=len(task.tgt_vocab), embed=4,
                                      hidden=6), seed=seed)
        v_src, v_tgt = len(task.src_vocab), len(task.tgt_vocab)
        scrambled = batch._replace(
            src=np.where(batch.src_mask, batch.src, rng.integers(0, v_src, batch.src.shape)),
            tgt_in=np.where(batch.tgt_mask, batch.tgt_in, rng.integers(0, v_tgt, batch.tgt_in.shape)),
            tgt_out=np.where(batch.tgt_mask, batch.tgt_out, rng.integers(0, v_tgt, batch.tgt_out.shape)),
        )
        loss1, g1 = model.loss_and_grads(batch)
        loss2, g2 = model.loss_and_grads(scrambled)
    assert loss1 == pytest.approx(loss2, rel=1e-12)
    assert all(np.allclose(g1[k], g2[k], rtol=1e-10, atol=1e-12) for k in g1)
