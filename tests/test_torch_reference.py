"""The PyTorch twin (minatt.tools.torch_reference) is the same model: same parameter count, loss and gradients."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import default_dtype
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.tasks import Batch
from minatt.tools.torch_reference import build_twin, copy_weights, trainable_count


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

