"""minatt.exercises.decoder_steps: the adapters that give the checker the library's ops as forward(*inputs) ->
(*outputs, cache), and the decoder steps shared with the model."""

from __future__ import annotations

import numpy as np

import minatt.exercises.decoder_steps as decoder_steps
from minatt.model import plain_steps
from minatt.ops.embedding import embedding_forward
from minatt.ops.loss import cross_entropy_forward
from minatt.ops.lstm import lstm_forward


def test_the_adapters_return_the_library_ops_outputs_flat():
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    Wx, Wh, b = rng.standard_normal((4, 20)), rng.standard_normal((5, 20)), rng.standard_normal(20)
    mask = np.array([[True, True, True], [True, False, False]])
    hs, hT, cT, _ = decoder_steps.lstm_sequence(x, h0, c0, Wx, Wh, b, mask)
    want_hs, (want_hT, want_cT), _ = lstm_forward(x, h0, c0, Wx, Wh, b, mask)
    for got, want in ((hs, want_hs), (hT, want_hT), (cT, want_cT)):
        np.testing.assert_array_equal(got, want)
    W, ids = rng.standard_normal((7, 3)), np.array([[1, 6], [0, 2]])
    np.testing.assert_array_equal(decoder_steps.embedding(W, ids)[0], embedding_forward(ids, W)[0])
    logits, targets = rng.standard_normal((2, 3, 5)), np.array([[1, 0, 4], [2, 2, 0]])
    loss, _ = decoder_steps.cross_entropy(logits, targets, 0)
    assert loss.shape == () and loss.dtype == logits.dtype
    assert float(loss) == cross_entropy_forward(logits, targets, 0)[0]


def test_the_decoder_steps_are_the_models_own():
    assert decoder_steps.bahdanau_step_forward is plain_steps.bahdanau_step_forward
    assert decoder_steps.luong_step_backward is plain_steps.luong_step_backward
