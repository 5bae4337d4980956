"""minatt.model.decoders: the one-function steps against the library's restructured loop, and direct tests.

Chapter 8 teaches a decoder step as one forward and one backward function
(:func:`minatt.model.plain_steps.bahdanau_step_forward`, ...). The model runs the same step restructured
for speed (projections before the loop, weight gradients after it, the keys' gradients summed in
MemoryGrads). Here a plain teacher-forced loop of the one-function steps must give the model's
logits and every gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import default_dtype, use
from minatt.model.plain_steps import (
    bahdanau_step_backward,
    bahdanau_step_forward,
    luong_step_backward,
    luong_step_forward,
)
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.ops.lstm import lstm_step_forward

WEIGHTS = {  # the step functions' weight arguments, in order, as model parameters
    "bahdanau": ("dec.attn.Wq", "dec.attn.Wk", "dec.attn.v", "dec.rnn.Wx", "dec.rnn.Wh", "dec.rnn.b"),
    "luong": ("dec.rnn.Wx", "dec.rnn.Wh", "dec.rnn.b", "dec.attn.Wa", "dec.combine.W", "dec.combine.b"),
}
SCORE = {"bahdanau": "additive", "luong": "general"}


def _setup(kind: str):
    """A tiny float64 model, its memory for a padded batch, teacher-forced inputs and dlogits."""
    model = Seq2Seq(Seq2SeqConfig(src_vocab=7, tgt_vocab=8, embed=3, hidden=4, score=SCORE[kind], decoder=kind),
                    seed=0)
    rng = np.random.default_rng(1)
    mask = np.arange(4)[None, :] < np.array([4, 1, 2])[:, None]  # (N, S) = (3, 4): padded rows
    src = np.where(mask, rng.integers(3, 7, size=mask.shape), 0)
    mem, h0, c0, enc_cache = model.encode(src, mask)
    tgt_in = rng.integers(1, 8, size=(3, 5))  # (N, T)
    dlogits = rng.standard_normal((5, 3, 8))  # (T, N, V)
    return model, mem, h0, c0, enc_cache, tgt_in, dlogits


def _plain_loop(model, kind, mem, h0, c0, tgt_in, dlogits):
    """The decoder as a loop of the one-function steps: logits and every gradient, summed by hand."""
    p = model.params
    weights = [p[name] for name in WEIGHTS[kind]]
    emb = p["dec.embed.W"][tgt_in.T]  # (T, N, E)
    T = emb.shape[0]
    h, c, feed = h0, c0, np.zeros_like(h0)
    outs, caches = [], []
    for t in range(T):
        if kind == "bahdanau":
            o, h, c, cache = bahdanau_step_forward(emb[t], h, c, mem.keys, *weights, mask=mem.mask)
        else:
            o, h, c, cache = luong_step_forward(emb[t], h, c, feed, mem.keys, *weights, mask=mem.mask)
            feed = o  # input feeding: h~_t is the next step's input
        outs.append(o)
        caches.append(cache)
    logits = np.stack(outs) @ p["dec.out.W"] + p["dec.out.b"]  # (T, N, V)
    douts = dlogits @ p["dec.out.W"].T  # (T, N, out_dim)
    grads = {name: np.zeros_like(p[name]) for name in (*WEIGHTS[kind], "dec.embed.W")}
    dkeys = np.zeros_like(mem.keys)
    dh, dc, dfeed = np.zeros_like(h0), np.zeros_like(c0), np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        if kind == "bahdanau":
            dy_emb, dh, dc, dkeys_t, *dweights = bahdanau_step_backward(douts[t], dh, dc, caches[t])
        else:
            dy_emb, dh, dc, dfeed, dkeys_t, *dweights = luong_step_backward(douts[t] + dfeed, dh, dc, caches[t])
        dkeys += dkeys_t
        for name, g in zip(WEIGHTS[kind], dweights, strict=True):
            grads[name] += g
        np.add.at(grads["dec.embed.W"], tgt_in[:, t], dy_emb)
    return logits, grads, dkeys, dh, dc


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_the_one_function_steps_give_the_library_decoders_gradients(kind):
    with use("numpy"), default_dtype("float64"):
        model, mem, h0, c0, enc_cache, tgt_in, dlogits = _setup(kind)
        decoder = model.decoder
        logits, cache = decoder.forward(tgt_in, mem, h0, c0)
        grads: dict = {}
        mg, dh0, dc0 = decoder.backward(dlogits, cache, grads)
        dkeys = mg.keys + decoder.scorer.prepare_backward(mg.prepared, enc_cache.prepare, grads)
        plain_logits, plain_grads, plain_dkeys, plain_dh0, plain_dc0 = _plain_loop(
            model, kind, mem, h0, c0, tgt_in, dlogits)
    np.testing.assert_allclose(logits, plain_logits, rtol=1e-12, atol=1e-12)
    for name, g in plain_grads.items():
        np.testing.assert_allclose(grads[name], g, rtol=1e-10, atol=1e-12, err_msg=name)
    for name, ours, plain in [("keys", dkeys, plain_dkeys), ("h0", dh0, plain_dh0), ("c0", dc0, plain_dc0)]:
        np.testing.assert_allclose(ours, plain, rtol=1e-10, atol=1e-12, err_msg=name)
    assert np.abs(plain_dkeys[~mem.mask]).max() == 0  # padded keys learn nothing


def test_the_bahdanau_context_is_part_of_the_cells_input():
    """s_next is the LSTM step on [y_emb; context], the context being the attention's weights @ keys."""
    with use("numpy"), default_dtype("float64"):
        model, mem, h0, c0, _, _, _ = _setup("bahdanau")
        decoder, p = model.decoder, model.params
        y_emb = np.random.default_rng(2).standard_normal((3, 3))
        state, o, weights, _ = decoder.step(decoder.rnn.project(y_emb)[0], decoder.initial_state(h0, c0), mem)
        context = np.einsum("ns,nsk->nk", weights, mem.keys)  # (N, K)
        x = np.concatenate([y_emb, context], axis=1)
        s_next, c_next, _ = lstm_step_forward(x, h0, c0, p["dec.rnn.Wx"], p["dec.rnn.Wh"], p["dec.rnn.b"])
    assert np.abs(context).min() > 1e-3  # a context that would be missed if dropped
    np.testing.assert_allclose(state.hidden, s_next, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(state.cell_state, c_next, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(o, np.concatenate([s_next, context], axis=1), rtol=1e-12, atol=1e-12)
