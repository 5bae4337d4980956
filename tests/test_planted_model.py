"""Planted bugs in the whole model's backward: the model check must fail and name the right gradients.

Each bug is a plausible mistake in one part of Seq2Seq's backward pass, planted by monkeypatching
the method or function that computes it (a wrapper around the real one, so the test survives
refactors of the code around it). The forward pass is untouched, so the numeric gradients are
the true ones; the assertions say which parameters must fail (the part's own and, where the
wrong gradient flows on, those upstream of it) and which must not (those the bug cannot reach).
"""

from __future__ import annotations

from minatt.backend import array_module
from minatt.gradcheck.model_cases import check_model
from minatt.model import decoders, nn, scorer, seq2seq


def failed(combo, **options) -> set[str]:
    """The parameters whose gradient fails the whole-model check of ``combo``."""
    results = check_model(combo, seed=0, n_samples=4, n_directions=2, options=options or None)
    return {r.name for r in results if not r.passed}


def passing_model_check(combo) -> None:
    assert not failed(combo), f"{combo} fails without a planted bug"


def prefixed(names: set[str], *prefixes: str) -> set[str]:
    return {n for n in names if n.startswith(prefixes)}


# --- the bridge: h0 = tanh(final_h Wb + bb) for a bidirectional encoder -----------------------


def test_bridge_without_the_tanh_derivative(monkeypatch):
    combo = ("lstm", "dot", "luong", True)
    passing_model_check(combo)
    monkeypatch.setattr(seq2seq, "tanh_backward", lambda dt, t: dt)  # dh0 passed through as if linear
    bad = failed(combo)
    assert {"bridge.h.W", "bridge.h.b", "enc.fwd.Wh", "enc.bwd.Wh"} <= bad
    assert bad <= prefixed(bad, "bridge.h.", "enc.")  # the decoder and the c bridge are upstream-free


# --- the bidirectional encoder: the backward RNN reads each row reversed within its length ------


def test_reversal_over_the_padded_length_instead_of_each_row(monkeypatch):
    """The classic padding bug, in the backward gather only: reverse all S positions, not len_n."""
    combo = ("gru", "additive", "bahdanau", True)
    passing_model_check(combo)
    real = nn.Encoder.forward

    def forward(self, src, mask):
        keys, final_h, final_c, cache = real(self, src, mask)
        if cache.rev is not None:
            xp = array_module(cache.rev)
            S = cache.rev.shape[1]
            cache = cache._replace(rev=xp.broadcast_to(S - 1 - xp.arange(S), cache.rev.shape))
        return keys, final_h, final_c, cache

    monkeypatch.setattr(nn.Encoder, "forward", forward)
    bad = failed(combo)
    assert {"enc.bwd.Wx", "enc.bwd.Wh", "enc.embed.W"} <= bad
    assert bad <= prefixed(bad, "enc.bwd.", "enc.embed.")  # the forward RNN and the decoder are untouched


# --- the scorer's key preparation (once per batch) ----------------------------------------------


def test_general_key_preparation_transposed(monkeypatch):
    """dkeys = dprepared @ Wa.T instead of dprepared @ Wa (Wa is square here: shapes cannot tell)."""
    combo = ("lstm", "general", "luong", False)
    passing_model_check(combo)
    real = scorer.Scorer.prepare_backward

    def prepare_backward(self, dprepared, cache, grads):
        real(self, dprepared, cache, grads)  # dWa as usual
        return dprepared @ self.p("Wa").T

    monkeypatch.setattr(scorer.Scorer, "prepare_backward", prepare_backward)
    bad = failed(combo)
    assert {"enc.fwd.Wx", "enc.fwd.Wh", "enc.embed.W"} <= bad
    assert bad <= prefixed(bad, "enc.")  # dWa and the whole decoder are right


def test_additive_key_preparation_drops_dkeys(monkeypatch):
    """The keys get no gradient through their projection keys @ Wk (only through the values)."""
    combo = ("gru", "additive", "luong", False)
    passing_model_check(combo)
    real = scorer.additive_keys_backward

    def additive_keys_backward(dkproj, cache):
        dkeys, dWk = real(dkproj, cache)
        return 0.0 * dkeys, dWk

    monkeypatch.setattr(scorer, "additive_keys_backward", additive_keys_backward)
    bad = failed(combo)
    assert {"enc.fwd.Wx", "enc.fwd.Wh"} <= bad
    assert bad <= prefixed(bad, "enc.")


# --- Luong's input feeding: h~_t is the output and the next step's input -------------------------


def test_input_feeding_gradient_dropped(monkeypatch):
    combo = ("gru", "dot", "luong", False)
    passing_model_check(combo)
    real = decoders.LuongDecoder.step_backward

    def step_backward(self, do, dstate, *rest):
        if dstate.feed is not None:
            dstate = dstate._replace(feed=0.0 * dstate.feed)  # d h~_t from step t + 1 forgotten
        return real(self, do, dstate, *rest)

    monkeypatch.setattr(decoders.LuongDecoder, "step_backward", step_backward)
    bad = failed(combo)
    assert {"dec.combine.W", "dec.combine.b", "dec.rnn.Wx", "dec.rnn.Wh", "enc.fwd.Wx"} <= bad
    assert not bad & {"dec.out.W", "dec.out.b"}  # the output layer sees only forward values
    assert not failed(combo, input_feeding=False)  # nothing is fed back: nothing to forget


# --- Bahdanau: the context c_t is the cell's input as well as part of the output -----------------


def test_bahdanau_context_gets_no_gradient_from_the_cell_input(monkeypatch):
    combo = ("lstm", "additive", "bahdanau", False)
    passing_model_check(combo)
    real = nn.RNN.step_backward  # a decoder step's backward (the encoder runs whole sequences)

    def step_backward(self, dh_next, dc_next, cache):
        dz, *rest = real(self, dh_next, dc_next, cache)
        return (0.0 * dz, *rest)  # dz: the gradient of the cell's input c_t

    monkeypatch.setattr(nn.RNN, "step_backward", step_backward)
    bad = failed(combo)
    assert {"dec.attn.Wq", "dec.attn.Wk", "dec.attn.v", "enc.fwd.Wx", "enc.fwd.Wh"} <= bad
    assert not bad & {"dec.out.W", "dec.out.b"}


# --- the output layer: logits = o W + b over every step ------------------------------------------


def _patch_out_layer(monkeypatch, bug):
    real = nn.Linear.backward

    def backward(self, dout, cache, grads):
        dx = real(self, dout, cache, grads)
        return bug(self, dout, dx, grads) if self.prefix == "dec.out" else dx

    monkeypatch.setattr(nn.Linear, "backward", backward)


def test_output_bias_averaged_over_steps(monkeypatch):
    """A reduction bug: db = mean over the T steps instead of the sum."""
    combo = ("gru", "general", "bahdanau", False)
    passing_model_check(combo)

    def bug(self, dout, dx, grads):
        grads[self.key("b")] = grads[self.key("b")] / dout.shape[0]
        return dx

    _patch_out_layer(monkeypatch, bug)
    assert failed(combo) == {"dec.out.b"}


def test_bahdanau_output_halves_swapped(monkeypatch):
    """o_t = [s_t; c_t]: handing back [dc; ds] (H = K here, so the shapes cannot tell)."""
    combo = ("lstm", "dot", "bahdanau", False)
    passing_model_check(combo)

    def bug(self, dout, dx, grads):
        H = dx.shape[-1] // 2
        return array_module(dx).concatenate([dx[..., H:], dx[..., :H]], axis=-1)

    _patch_out_layer(monkeypatch, bug)
    bad = failed(combo)
    assert {"dec.rnn.Wx", "dec.rnn.Wh", "dec.rnn.b", "dec.embed.W", "enc.fwd.Wx"} <= bad
    assert not bad & {"dec.out.W", "dec.out.b"}
