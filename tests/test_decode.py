"""minatt.exercises.decode: the greedy and beam search exercises over a decoder given as a step function."""

from __future__ import annotations

import numpy
import pytest

from minatt.backend import default_dtype, use
from tests.exercise_checks import planted


def test_a_search_that_never_stops_early_is_told(tmp_path):
    report = planted(tmp_path, "greedy", "if done.all():\n                    break", "pass")
    assert "you decoded 5 steps, expected 4: stop as soon as every sequence has produced EOS" in \
        report.grad("tokens").detail


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_the_step_exercises_compute_the_decoders_step(kind):
    """steps.bahdanau_step_forward / luong_step_forward give what the model's decoder step gives."""
    from minatt.exercises import decoder_steps as steps
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig

    with use("numpy"), default_dtype("float64"):
        score = "additive" if kind == "bahdanau" else "general"
        model = Seq2Seq(Seq2SeqConfig(src_vocab=6, tgt_vocab=7, embed=3, hidden=4, score=score, decoder=kind))
        rng = numpy.random.default_rng(0)
        mask = numpy.array([[True, True, True], [True, False, False]])
        mem, h0, c0, _ = model.encode(rng.integers(3, 6, size=(2, 3)), mask)
        dec, p = model.decoder, model.params
        y_emb = rng.standard_normal((2, 3))
        state = dec.initial_state(h0, c0)._replace(feed=rng.standard_normal((2, 4)) if kind == "luong" else None)
        new, o, _, _ = dec.step(dec.rnn.project(y_emb)[0], state, mem)
        rnn = (p["dec.rnn.Wx"], p["dec.rnn.Wh"], p["dec.rnn.b"])
        if kind == "bahdanau":
            ours = steps.bahdanau_step_forward(y_emb, h0, c0, mem.keys, p["dec.attn.Wq"], p["dec.attn.Wk"],
                                               p["dec.attn.v"], *rnn, mask=mask)
        else:
            ours = steps.luong_step_forward(y_emb, h0, c0, state.feed, mem.keys, *rnn, p["dec.attn.Wa"],
                                            p["dec.combine.W"], p["dec.combine.b"], mask=mask)
    for a, b in zip(ours[:3], (o, new.hidden, new.cell_state)):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
