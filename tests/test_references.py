"""minatt.exercises.references: the reference solutions built from the library's pieces agree with the library."""

from __future__ import annotations

import numpy

from minatt.backend import default_dtype, use


def test_the_bidirectional_reference_is_the_encoders(tmp_path):
    """references.bidirectional_forward / _backward compute what minatt.model.nn.Encoder does (its embedding aside)."""
    from minatt.exercises import references
    from minatt.model.nn import Encoder

    with use("numpy"), default_dtype("float64"):
        params: dict = {}
        encoder = Encoder(params, "enc", "lstm", 6, 3, 4, True, numpy.random.default_rng(0))
        src = numpy.array([[3, 4, 5], [5, 3, 0]])
        mask = src != 0
        keys, final_h, final_c, cache = encoder.forward(src, mask)
        emb = params["enc.embed.W"][src]
        w = [params[f"enc.{d}.{n}"] for d in ("fwd", "bwd") for n in ("Wx", "Wh", "b")]
        ours = references.bidirectional_forward(emb, *w, mask)
        for a, b in zip(ours[:3], (keys, final_h, final_c)):
            numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        rng = numpy.random.default_rng(1)
        douts = (rng.standard_normal(keys.shape), rng.standard_normal(final_h.shape), rng.standard_normal(final_c.shape))
        grads: dict = {}
        encoder.backward(*douts, cache, grads)
        dx, *dw = references.bidirectional_backward(*douts, ours[3])
    for d, (direction, n) in zip(dw, [(d, n) for d in ("fwd", "bwd") for n in ("Wx", "Wh", "b")]):
        numpy.testing.assert_allclose(d, grads[f"enc.{direction}.{n}"], rtol=1e-10, atol=1e-12)
    dW = numpy.zeros_like(params["enc.embed.W"])
    numpy.add.at(dW, src, dx)  # the encoder's embedding backward of our dx
    numpy.testing.assert_allclose(dW, grads["enc.embed.W"], rtol=1e-10, atol=1e-12)


def test_the_rnn_reference_is_the_library_step_in_a_loop():
    from minatt.exercises.references import rnn_backward, rnn_forward
    from minatt.ops.rnn import rnn_step_forward

    rng = numpy.random.default_rng(0)
    x, h0 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5))
    Wx, Wh, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 5)) * 0.5, rng.standard_normal(5)
    hs, cache = rnn_forward(x, h0, Wx, Wh, b)
    h = h0
    for t in range(3):
        h, _ = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        numpy.testing.assert_array_equal(hs[:, t], h)
    grads = rnn_backward(numpy.ones_like(hs), cache)
    assert [g.shape for g in grads] == [x.shape, h0.shape, Wx.shape, Wh.shape, b.shape]


def test_the_adam_reference_takes_the_optimisers_step_t():
    from minatt.exercises.references import adam_update

    p, g = numpy.array([1.0, -2.0]), numpy.array([0.5, 0.25])
    m, v = numpy.array([0.1, 0.0]), numpy.array([0.01, 0.02])
    p_next, m_next, v_next = adam_update(p, g, m, v, t=3, lr=0.1)
    numpy.testing.assert_allclose(m_next, 0.9 * m + 0.1 * g)
    numpy.testing.assert_allclose(v_next, 0.999 * v + 0.001 * g**2)
    step = 0.1 * (m_next / (1 - 0.9**3)) / (numpy.sqrt(v_next / (1 - 0.999**3)) + 1e-8)
    numpy.testing.assert_allclose(p_next, p - step)
    numpy.testing.assert_array_equal(p, [1.0, -2.0])  # the caller's array is left as it was
