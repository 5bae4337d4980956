"""The FLOP count bench reports (minatt.tools.flops): each term equals a count made by hand."""

from __future__ import annotations

from minatt.model.seq2seq import Seq2SeqConfig
from minatt.tools.flops import flop_terms, step_flops


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

def test_flops_grow_with_each_size():
    cfg = Seq2SeqConfig(7, 7, embed=5, hidden=6)
    base = step_flops(cfg, 2, 3, 4)
    assert step_flops(cfg, 4, 3, 4) == 2 * base  # linear in the batch
    assert step_flops(cfg, 2, 4, 4) > base and step_flops(cfg, 2, 3, 5) > base
