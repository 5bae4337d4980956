"""minatt.model.nn: the parameter holders (names, initialisation, gradient filing), the source reversal, the
encoder's two directions, and a decoder's step-by-step RNN against the whole-sequence one."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import default_dtype, host_rng
from minatt.model.nn import RNN, Embedding, Encoder, Linear, Module, accumulate, reverse_index

MASK = np.array([[True, True, True, True], [True, True, False, False], [True, False, False, False]])


def test_accumulate_copies_the_first_gradient():
    first, grads = np.ones(3), {}
    accumulate(grads, "w", first)
    accumulate(grads, "w", np.ones(3))
    np.testing.assert_array_equal(first, np.ones(3))  # the op's array is left alone
    np.testing.assert_array_equal(grads["w"], np.full(3, 2.0))


def test_parameters_live_in_the_shared_dict_under_dotted_names():
    params = {}
    layer = Linear(params, "dec.out", 4, 3, host_rng(0))
    assert sorted(params) == ["dec.out.W", "dec.out.b"] and params["dec.out.W"].shape == (4, 3)
    with pytest.raises(ValueError, match="parameter 'dec.out.W' is created twice"):
        Module(params, "dec.out").add("W", np.zeros(1))
    params["dec.out.W"] = np.zeros((4, 3), np.float32)  # a checkpoint replacing the array: the holder sees it
    params["dec.out.b"][...] = 2.0  # an optimiser updating in place: seen too
    out, _ = layer.forward(np.ones((2, 4), np.float32))
    np.testing.assert_array_equal(out, np.full((2, 3), 2.0))


def test_initialisation_follows_pytorch_and_the_seed():
    params = {}
    rng = host_rng(5)
    Linear(params, "lin", 100, 50, rng)
    RNN(params, "rnn", "gru", 7, 25, rng)
    Embedding(params, "emb", 400, 50, rng)
    assert np.abs(params["lin.W"]).max() <= 0.1 and np.abs(params["lin.W"]).max() > 0.09  # U(+-1/sqrt(100))
    assert all(np.abs(params[f"rnn.{n}"]).max() <= 0.2 for n in ("Wx", "Wh", "bx", "bh"))  # U(+-1/sqrt(25))
    assert abs(params["emb.W"].std() - 1.0) < 0.05  # N(0, 1)
    again = {}
    rng = host_rng(5)
    Linear(again, "lin", 100, 50, rng)
    assert np.array_equal(again["lin.W"], params["lin.W"])


def test_reverse_index_reverses_each_row_within_its_length_and_is_its_own_inverse():
    rev = reverse_index(MASK)
    np.testing.assert_array_equal(rev, [[3, 2, 1, 0], [1, 0, 2, 3], [0, 1, 2, 3]])
    rows = np.arange(3)[:, None]
    x = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(x[rows, rev][rows, rev], x)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_bidirectional_encoder_reads_each_row_both_ways_within_its_length(cell):
    """keys[n, s] = [fwd_s; bwd_s]: the backward half at s is the backward RNN's output after reading
    the row from its last real token down to s, the same as encoding that row alone, unpadded."""
    params = {}
    with default_dtype("float64"):
        encoder = Encoder(params, "enc", cell, 9, 5, 8, True, host_rng(1))
    src = np.array([[3, 4, 5, 6], [7, 8, 0, 0], [4, 0, 0, 0]])
    keys, final_h, final_c, _ = encoder.forward(src, MASK)
    for n, length in enumerate(MASK.sum(axis=1)):
        alone, h_alone, c_alone, _ = encoder.forward(src[n:n + 1, :length], MASK[n:n + 1, :length])
        np.testing.assert_allclose(keys[n, :length], alone[0], atol=1e-12)
        np.testing.assert_allclose(final_h[n], h_alone[0], atol=1e-12)
        reversed_row = src[n, :length][::-1][None]
        emb, _ = encoder.embed.forward(reversed_row)
        bwd, bwd_final, _, _ = encoder.bwd.forward(emb, *encoder._zeros(1), np.ones((1, length), bool))
        np.testing.assert_allclose(keys[n, :length, 4:], bwd[0][::-1], atol=1e-12)
        np.testing.assert_allclose(final_h[n, 4:], bwd_final[0], atol=1e-12)  # after the row's first token
    assert (final_c is None) == (cell == "gru")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_decoders_steps_equal_the_whole_sequence_forward_and_backward(cell):
    """project + step per step + step_backward + finish (the decoder's structure: inputs known before the
    loop projected once, weight gradients after it) give the outputs and every gradient of RNN.forward
    and RNN.backward on the same inputs x_t = [y_t; z_t]."""
    E, Z, H, N, T = 3, 2, 4, 2, 5
    params = {}
    with default_dtype("float64"):
        rnn = RNN(params, "dec.rnn", cell, E + Z, H, host_rng(2), known=E)
    rng = np.random.default_rng(3)
    y, z, dhs = rng.normal(size=(T, N, E)), rng.normal(size=(T, N, Z)), rng.normal(size=(T, N, H))
    h0, c0 = rng.normal(size=(N, H)), (rng.normal(size=(N, H)) if cell == "lstm" else None)

    whole = {}
    hs, _, _, cache = rnn.forward(np.concatenate([y, z], axis=2).transpose(1, 0, 2), h0, c0)
    dx, dh0, dc0 = rnn.backward(dhs.transpose(1, 0, 2), None, None, cache, whole)

    steps = {}
    ay, project_cache = rnn.project(y)  # (T, N, GH)
    h_prev, c_prev, caches = h0, c0, []
    for t in range(T):
        h_prev, c_prev, step_cache = rnn.step(ay[t], z[t], h_prev, c_prev)  # step t's next state is t + 1's previous
        np.testing.assert_allclose(h_prev, hs[:, t], atol=1e-12)
        caches.append(step_cache)
    dh_next, dc_next = np.zeros((N, H)), (np.zeros((N, H)) if cell == "lstm" else None)
    dz, dgates = [None] * T, [None] * T
    for t in reversed(range(T)):
        dz[t], dh_next, dc_next, dgates[t] = rnn.step_backward(dh_next + dhs[t], dc_next, caches[t])
    dy = rnn.finish(caches, dgates, project_cache, steps)
    assert sorted(steps) == sorted(whole)
    for name in whole:
        np.testing.assert_allclose(steps[name], whole[name], atol=1e-12, err_msg=name)
    np.testing.assert_allclose(np.concatenate([dy, np.stack(dz)], axis=2), dx.transpose(1, 0, 2), atol=1e-12)
    np.testing.assert_allclose(dh_next, dh0, atol=1e-12)  # after step 0's backward: the initial state's gradient
    if cell == "lstm":
        np.testing.assert_allclose(dc_next, dc0, atol=1e-12)
