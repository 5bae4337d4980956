"""The Transformer's ops: gradient checks, planted bugs, masks, and PyTorch cross-checks in float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from minatt.backend import asarray, default_dtype, to_numpy
from minatt.gradcheck import build_case, check_gradients, run_case
from minatt.ops import encoder_layer as tr_ops
from minatt.ops import feedforward as ff_ops
from minatt.ops import layernorm as ln_ops
from minatt.ops import self_attention as sa_ops
from minatt.ops.encoder_layer import encoder_layer_backward, encoder_layer_forward
from minatt.ops.layernorm import layer_norm_backward, layer_norm_forward
from minatt.ops.positions import sinusoidal_positions
from minatt.ops.self_attention import (
    merge_heads,
    multihead_attention_backward,
    multihead_attention_forward,
    scaled_dot_attention_backward,
    scaled_dot_attention_forward,
    split_heads,
)
from tests.planting import mutated, scaled

CASES = ["scaled_dot_attention", "scaled_dot_attention_causal", "multihead_attention", "layer_norm",
         "feedforward", "encoder_layer"]
TORCH_TOL = {"rtol": 1e-9, "atol": 1e-12}


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("name", CASES)
def test_gradients(backend, name, seed):
    results = run_case(name, seed)
    assert results and all(r.passed for r in results), "\n".join(r.describe() for r in results)


# --- planted bugs: the checker fails and names the right gradients ---------------------------------


def _softmax_without_sum_term(dp, cache):
    return cache.p * dp  # softmax backward without "- sum(p * dp)"


def _relu_passes_everything(dr, r):
    return dr + 0.0 * r


BUGS = [  # (case, module, attribute, replacement factory, gradients that must fail)
    ("scaled_dot_attention", sa_ops, "softmax_backward", lambda f: _softmax_without_sum_term, {"queries", "keys"}),
    ("scaled_dot_attention", sa_ops, "scaled_dot_attention_backward",
     lambda f: mutated(f, "dkeys = xp.matmul(dscores.swapaxes(-1, -2), cache.queries) * cache.scale",
                       "dkeys = xp.matmul(dscores.swapaxes(-1, -2), cache.queries)"), {"keys"}),
    ("scaled_dot_attention", sa_ops, "scaled_dot_attention_backward", lambda f: scaled(f, 2, 1.001), {"values"}),
    ("scaled_dot_attention_causal", sa_ops, "scaled_dot_attention_backward", lambda f: scaled(f, 0, -1.0), {"queries"}),
    ("multihead_attention", sa_ops, "multihead_attention_backward",
     lambda f: mutated(f, "dxk + dxv", "dxv"), {"xkv"}),
    ("multihead_attention", sa_ops, "multihead_attention_backward",
     lambda f: mutated(f, "merge_heads(dqh, h)", "dqh.reshape(cache.q.x_shape)"), {"xq", "Wq", "bq"}),
    ("multihead_attention", sa_ops, "multihead_attention_backward", lambda f: scaled(f, 8, 1.001), {"Wo"}),
    ("layer_norm", ln_ops, "layer_norm_backward",
     lambda f: mutated(f, "- xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)", ""), {"x"}),
    ("layer_norm", ln_ops, "layer_norm_backward", lambda f: mutated(f, "dxhat = dy * cache.g", "dxhat = dy"), {"x"}),
    ("layer_norm", ln_ops, "layer_norm_backward", lambda f: scaled(f, 1, 1.001), {"g"}),
    ("feedforward", ff_ops, "relu_backward", lambda f: _relu_passes_everything, {"x", "W1", "b1"}),
    ("feedforward", ff_ops, "feedforward_backward", lambda f: scaled(f, 4, -1.0), {"b2"}),
    ("encoder_layer", tr_ops, "encoder_layer_backward", lambda f: mutated(f, "dy1 = dz2 + dffn_in", "dy1 = dffn_in"),
     {"x", "Wq", "bq", "Wk", "Wv", "bv", "Wo", "bo", "ln1_g", "ln1_b"}),
    ("encoder_layer", tr_ops, "encoder_layer_backward", lambda f: mutated(f, "dx = dz1 + dxq + dxkv", "dx = dxq + dxkv"),
     {"x"}),
    ("encoder_layer", tr_ops, "layer_norm_backward", lambda f: scaled(f, 2, 1.001), {"ln1_b", "ln2_b"}),
]


@pytest.mark.parametrize("name, module, attr, make_bug, expected", BUGS,
                         ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(BUGS)])
def test_planted_bugs_are_caught(monkeypatch, name, module, attr, make_bug, expected):
    monkeypatch.setattr(module, attr, make_bug(getattr(module, attr)))
    case = build_case(name, seed=1)
    failed = [r for r in check_gradients(case.fn, case.params) if not r.passed]
    assert {r.name for r in failed} == expected
    report = "\n".join(r.describe() for r in failed)  # what assert_gradients raises with
    assert all(f"d{grad}[" in report or f"d{grad} (random direction)" in report for grad in expected)


def test_key_bias_gradient_is_zero(rng):
    """The gradient cases leave bk out (see minatt.gradcheck.transformer_cases): its gradient is 0 up to round-off."""
    xq, xkv, D = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 4, 6)), 6
    weights = [rng.standard_normal((D, D)) if i % 2 == 0 else rng.standard_normal(D) for i in range(8)]
    out, _, cache = multihead_attention_forward(xq, xkv, *weights, 2, _lengths_mask([4, 2], 4))
    grads = multihead_attention_backward(rng.standard_normal(out.shape), cache)
    dWk, dbk = grads[4], grads[5]
    assert np.abs(dWk).max() > 0.1 and np.abs(dbk).max() < 1e-12 * np.abs(dWk).max()


# --- masks: padding, causality, fully masked rows ---------------------------------------------------


def test_fully_masked_rows_give_zeros_not_nan(backend, rng):
    q, k, v = (asarray(rng.standard_normal(s)) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 2)))
    mask = asarray(np.array([[False] * 5, [True, True, False, False, False]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, weights, cache = scaled_dot_attention_forward(q, k, v, mask, causal=True)
        dq, dk, dv = scaled_dot_attention_backward(asarray(rng.standard_normal((2, 3, 2))), cache)
    assert not np.isnan(to_numpy(out)).any()
    np.testing.assert_array_equal(to_numpy(out[0]), 0.0)
    np.testing.assert_array_equal(to_numpy(dq[0]), 0.0)
    w = to_numpy(weights[1])  # row 1: two real keys, causal: query 0 sees key 0 only
    np.testing.assert_allclose(w.sum(-1), 1.0)
    np.testing.assert_array_equal(w[0, 1:], 0.0)
    np.testing.assert_array_equal(w[:, 2:], 0.0)
    np.testing.assert_array_equal(to_numpy(dk[1, 2:]), 0.0)  # padded keys get no gradient
    np.testing.assert_array_equal(to_numpy(dv[1, 2:]), 0.0)


def test_causal_output_ignores_later_keys(rng):
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 2))
    out, _, _ = scaled_dot_attention_forward(q, k, v, causal=True)
    k2, v2 = k.copy(), v.copy()
    k2[:, 2:], v2[:, 2:] = 7.0, -7.0  # change keys and values from step 2 on
    out2, _, _ = scaled_dot_attention_forward(q, k2, v2, causal=True)
    np.testing.assert_array_equal(out[:, :2], out2[:, :2])
    assert not np.allclose(out[:, 2:], out2[:, 2:])


def test_heads_split_and_merge(rng):
    x = rng.standard_normal((2, 3, 6))
    heads = split_heads(x, 3)  # (N*h, L, dk)
    assert heads.shape == (6, 3, 2)
    np.testing.assert_array_equal(heads[1 * 3 + 2], x[1, :, 4:6])  # row n*h + i holds head i of row n
    np.testing.assert_array_equal(merge_heads(heads, 3), x)


def test_heads_must_divide_the_model_size(rng):
    x, W, b = rng.standard_normal((1, 2, 6)), rng.standard_normal((6, 6)), np.zeros(6)
    with pytest.raises(ValueError, match="4 heads do not divide the model size D = 6"):
        multihead_attention_forward(x, x, W, b, W, b, W, b, W, b, heads=4)


def test_float32_stays_float32(backend, rng):
    with default_dtype("float32"):
        from minatt.gradcheck.transformer_cases import encoder_layer_params

        layer = encoder_layer_params(rng, 4, 8)
    x = asarray(rng.standard_normal((2, 3, 4)), dtype="float32")
    y, weights, cache = encoder_layer_forward(x, layer, 2, asarray(np.array([[1, 1, 0], [1, 1, 1]], dtype=bool)))
    dx, grads = encoder_layer_backward(y, cache)
    assert y.dtype == weights.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_sinusoidal_positions(backend):
    with default_dtype("float64"):
        pe = to_numpy(sinusoidal_positions(50, 7))
    assert pe.shape == (50, 7) and pe.dtype == np.float64
    np.testing.assert_array_equal(pe[0], [0, 1, 0, 1, 0, 1, 0])  # sin 0 and cos 0
    t, i = 13, 2
    assert pe[t, 2 * i] == pytest.approx(np.sin(t / 10000 ** (2 * i / 7)), abs=1e-15)
    assert pe[t, 2 * i + 1] == pytest.approx(np.cos(t / 10000 ** (2 * i / 7)), abs=1e-15)
    assert len({tuple(np.round(row, 12)) for row in pe}) == 50  # every position distinct
    assert sinusoidal_positions(3, 4).dtype == np.float32  # the default dtype


# --- PyTorch, float64 ------------------------------------------------------------------------------


def _lengths_mask(lengths, S):
    return np.arange(S)[None, :] < np.asarray(lengths)[:, None]  # (N, S) True = real


def _t(torch, a):
    return torch.tensor(np.asarray(a), requires_grad=True)


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_matches_torch(rng, causal):
    torch = pytest.importorskip("torch")
    N, T, S, K, Dv = 3, 4, 5, 3, 2
    q, k, v = rng.standard_normal((N, T, K)), rng.standard_normal((N, S, K)), rng.standard_normal((N, S, Dv))
    mask = _lengths_mask([5, 1, 3], S)  # no fully masked row: PyTorch gives NaN there
    dout = rng.standard_normal((N, T, Dv))
    out, weights, cache = scaled_dot_attention_forward(q, k, v, mask, causal)
    grads = scaled_dot_attention_backward(dout, cache)
    allowed = torch.from_numpy(mask[:, None, :] & (np.tril(np.ones((T, S), dtype=bool)) if causal else True))
    tq, tk, tv = _t(torch, q), _t(torch, k), _t(torch, v)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=allowed)
    (tout * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), **TORCH_TOL)
    for mine, theirs in zip(grads, (tq, tk, tv)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), **TORCH_TOL)


def test_scaled_dot_matches_torch_is_causal(rng):
    torch = pytest.importorskip("torch")
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    out, _, _ = scaled_dot_attention_forward(q, k, v, causal=True)
    tout = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), is_causal=True)
    np.testing.assert_allclose(out, tout.numpy(), **TORCH_TOL)


def _copy_attention(torch, module, Wq, bq, Wk, bk, Wv, bv, Wo, bo):
    """Our x @ W weights into PyTorch's (out, in) layout, with q, k, v packed in in_proj_weight."""
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.from_numpy(np.concatenate([Wq.T, Wk.T, Wv.T])))  # (3D, D)
        module.in_proj_bias.copy_(torch.from_numpy(np.concatenate([bq, bk, bv])))  # (3D,)
        module.out_proj.weight.copy_(torch.from_numpy(Wo.T))
        module.out_proj.bias.copy_(torch.from_numpy(bo))


def _attention_weights(torch, module):
    D = module.embed_dim
    w, b = module.in_proj_weight.grad.numpy(), module.in_proj_bias.grad.numpy()
    return (w[:D].T, b[:D], w[D:2 * D].T, b[D:2 * D], w[2 * D:].T, b[2 * D:],
            module.out_proj.weight.grad.numpy().T, module.out_proj.bias.grad.numpy())


@pytest.mark.parametrize("padded", [False, True])
def test_multihead_matches_torch(rng, padded):
    torch = pytest.importorskip("torch")
    N, T, S, D, h = 3, 4, 5, 6, 3
    xq, xkv = rng.standard_normal((N, T, D)), rng.standard_normal((N, S, D))
    weights = [rng.standard_normal((D, D)) * 0.5 if i % 2 == 0 else rng.standard_normal(D) for i in range(8)]
    mask = _lengths_mask([5, 1, 3], S) if padded else None
    dout = rng.standard_normal((N, T, D))
    out, attn, cache = multihead_attention_forward(xq, xkv, *weights, h, mask)
    grads = multihead_attention_backward(dout, cache)

    mha = torch.nn.MultiheadAttention(D, h, batch_first=True, dtype=torch.float64)
    _copy_attention(torch, mha, *weights)
    tq, tkv = _t(torch, xq), _t(torch, xkv)
    tout, tattn = mha(tq, tkv, tkv, key_padding_mask=None if mask is None else torch.from_numpy(~mask),
                      average_attn_weights=False)
    (tout * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), **TORCH_TOL)
    np.testing.assert_allclose(attn, tattn.detach().numpy(), **TORCH_TOL)  # (N, h, T, S) per head
    theirs = (tq.grad.numpy(), tkv.grad.numpy(), *_attention_weights(torch, mha))
    for name, mine, their in zip(("xq", "xkv", "Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"), grads, theirs):
        np.testing.assert_allclose(mine, their, err_msg=name, **TORCH_TOL)


def test_layer_norm_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, g, b, dy = rng.standard_normal((2, 3, 5)) * 3, rng.standard_normal(5), rng.standard_normal(5), \
        rng.standard_normal((2, 3, 5))
    y, cache = layer_norm_forward(x, g, b)
    dx, dg, db = layer_norm_backward(dy, cache)
    ln = torch.nn.LayerNorm(5, dtype=torch.float64)
    with torch.no_grad():
        ln.weight.copy_(torch.from_numpy(g))
        ln.bias.copy_(torch.from_numpy(b))
    tx = _t(torch, x)
    ty = ln(tx)
    (ty * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), **TORCH_TOL)
    for mine, theirs in ((dx, tx.grad), (dg, ln.weight.grad), (db, ln.bias.grad)):
        np.testing.assert_allclose(mine, theirs.numpy(), **TORCH_TOL)


def test_encoder_layer_matches_torch(rng):
    torch = pytest.importorskip("torch")
    N, S, D, h, F = 3, 5, 8, 2, 16
    from minatt.gradcheck.transformer_cases import encoder_layer_params

    with default_dtype("float64"):
        layer = encoder_layer_params(rng, D, F, scale=0.5)
    x = rng.standard_normal((N, S, D))
    mask = _lengths_mask([5, 2, 4], S)
    dy = rng.standard_normal((N, S, D)) * mask[:, :, None]  # only the real rows' outputs count
    y, _, cache = encoder_layer_forward(x, layer, h, mask)
    dx, grads = encoder_layer_backward(dy, cache)

    torch_layer = torch.nn.TransformerEncoderLayer(D, h, F, dropout=0.0, batch_first=True, dtype=torch.float64)
    _copy_attention(torch, torch_layer.self_attn, *layer[:8])
    pairs = [(torch_layer.norm1.weight, layer.ln1_g), (torch_layer.norm1.bias, layer.ln1_b),
             (torch_layer.linear1.weight, layer.W1.T), (torch_layer.linear1.bias, layer.b1),
             (torch_layer.linear2.weight, layer.W2.T), (torch_layer.linear2.bias, layer.b2),
             (torch_layer.norm2.weight, layer.ln2_g), (torch_layer.norm2.bias, layer.ln2_b)]
    with torch.no_grad():
        for theirs, mine in pairs:
            theirs.copy_(torch.from_numpy(np.ascontiguousarray(mine)))
    tx = _t(torch, x)
    ty = torch_layer(tx, src_key_padding_mask=torch.from_numpy(~mask))
    (ty * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(y[mask], ty.detach().numpy()[mask], **TORCH_TOL)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TORCH_TOL)
    theirs = dict(zip(("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"), _attention_weights(torch, torch_layer.self_attn)))
    theirs.update(ln1_g=torch_layer.norm1.weight.grad, ln1_b=torch_layer.norm1.bias.grad,
                  W1=torch_layer.linear1.weight.grad.T, b1=torch_layer.linear1.bias.grad,
                  W2=torch_layer.linear2.weight.grad.T, b2=torch_layer.linear2.bias.grad,
                  ln2_g=torch_layer.norm2.weight.grad, ln2_b=torch_layer.norm2.bias.grad)
    for name, mine in grads._asdict().items():
        np.testing.assert_allclose(mine, np.asarray(theirs[name]), err_msg=name, **TORCH_TOL)


# --- the model: Seq2SeqConfig(encoder="transformer") -----------------------------------------------

TINY_RUN = {"embed": 8, "hidden": 16, "batch": 8, "min_len": 2, "max_len": 4, "eval_every": 4, "test_size": 16,
            "warmup": 2, "lr": 0.01, "target": None, "encoder": "transformer", "layers": 1, "heads": 2, "ff": 16}


def test_config_checks_the_transformer_settings():
    from minatt.errors import ConfigError
    from minatt.model.seq2seq import Seq2SeqConfig

    with pytest.raises(ConfigError, match="heads must divide hidden .* got heads=3, hidden=16"):
        Seq2SeqConfig(9, 9, hidden=16, encoder="transformer", heads=3)
    with pytest.raises(ConfigError, match="bidirectional applies to the rnn encoder"):
        Seq2SeqConfig(9, 9, encoder="transformer", bidirectional=True)
    with pytest.raises(ConfigError, match="unknown encoder 'cnn': choose one of rnn, transformer"):
        Seq2SeqConfig(9, 9, encoder="cnn")
    old = Seq2SeqConfig.from_dict({"src_vocab": 9, "tgt_vocab": 9, "hidden": 6})  # a checkpoint from before
    assert old.encoder == "rnn" and Seq2SeqConfig(9, 9, hidden=6, encoder="transformer", heads=2).ff_size == 24


def test_padding_never_reaches_the_loss():
    """The padded positions' own outputs are never used: any ids there give the same loss and gradients."""
    from minatt.gradcheck.model_cases import check_batch
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig

    with default_dtype("float64"):
        model = Seq2Seq(Seq2SeqConfig(7, 6, embed=3, hidden=4, encoder="transformer", heads=2), seed=0)
    batch = check_batch(0)
    other = batch._replace(src=np.where(batch.src_mask, batch.src, 5))  # a real id at every padded position
    (loss, grads), (loss2, grads2) = model.loss_and_grads(batch), model.loss_and_grads(other)
    assert loss == loss2
    for name in grads:
        if name != "enc.embed.W":  # rows 0 and 5 of the embedding are looked up at different places
            np.testing.assert_array_equal(grads[name], grads2[name], err_msg=name)


def test_trains_resumes_exactly_and_decodes(tmp_path):
    from minatt.train import TrainConfig, load_run, predict, resume, train

    cfg = TrainConfig(**TINY_RUN, steps=8)
    train(cfg, tmp_path / "straight")
    assert train(cfg, tmp_path / "split", until=4).status == "paused"
    assert resume(tmp_path / "split").step == 8
    (_, _, a, _), (config, task, b, _) = load_run(tmp_path / "straight"), load_run(tmp_path / "split")
    assert config == cfg and any(name.startswith("enc.layer0.") for name in b.params)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name], err_msg=name)
    pred = predict(task, b, "3 1 4", beam=3)
    assert pred.src_tokens == ["3", "1", "4"] and pred.attention.shape == (len(pred.out_tokens), 3)


def test_cli_flags(tmp_path, capsys):
    import json

    from minatt import cli

    flags = ["--hidden", "16", "--embed", "8", "--min-len", "2", "--max-len", "4", "--batch", "8", "--test-size", "8",
             "--eval-every", "2", "--steps", "2", "--target", "none", "--quiet", "--encoder", "transformer"]
    assert cli.main(["train", *flags, "--layers", "1", "--heads", "2", "--ff", "8", "--out", str(tmp_path / "r")]) == 0
    assert "transformer encoder (1 layer, 2 heads, ff 8), lstm bahdanau decoder" in capsys.readouterr().out
    model = json.loads((tmp_path / "r" / "config.json").read_text())["model"]
    assert (model["encoder"], model["layers"], model["heads"], model["ff"]) == ("transformer", 1, 2, 8)
    assert cli.main(["train", *flags, "--heads", "3", "--out", str(tmp_path / "bad")]) != 0
    assert "got --heads 3, --hidden 16" in capsys.readouterr().err
