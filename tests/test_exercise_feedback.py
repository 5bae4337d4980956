"""Exercise feedback that points at the cause (issue 14, item 4): the gate whose columns are wrong,
padding named only where the input is padding, NaN and overflow explained, the decoding rule broken.

Each test plants one learner's mistake in a solution of tests/exercise_solutions.py.
"""

from __future__ import annotations

import numpy
import pytest

from minatt.backend import default_dtype, use
from minatt.exercises import EXERCISES, check_exercise, main
from tests.exercise_solutions import SOLUTIONS, write


def _flat(report) -> str:
    return " ".join(report.format().split())


@pytest.mark.parametrize("name", ["lstm_step", "lstm_cell"])
def test_a_wrong_gate_derivative_names_the_gate(name, tmp_path):
    """The sigmoid's derivative used for g: only the g columns are wrong, and the report says so."""
    source = SOLUTIONS[name].replace("dc_t * i * (1 - g ** 2)", "dc_t * i * g * (1 - g)")
    report = check_exercise(name, write(tmp_path, name, source))
    assert report.status == "fail"
    grad = "dWx" if name == "lstm_step" else "da"
    detail = report.grad(grad).detail
    assert detail.startswith(f"{grad} wrong in columns 2H:3H (gate g); the other gates (i, f, o) are right"), detail
    assert "1 - g ** 2" in detail
    if name == "lstm_step":
        assert "columns 2H:3H (gate g)" in report.grad("db").detail
        assert report.grad("dc").passed
    assert "check for a transpose" not in _flat(report)


def test_gates_in_the_wrong_order_are_named(tmp_path):
    source = SOLUTIONS["lstm_step"].replace("[da_i, da_f, da_g, da_o]", "[da_i, da_f, da_o, da_g]")
    report = check_exercise("lstm_step", write(tmp_path, "lstm_step", source))
    detail = report.grad("dWh").detail
    assert detail.startswith("dWh wrong in columns 2H:3H (gate g) and columns 3H:4H (gate o); the other gates "
                             "(i, f) are right: check that your gradient's blocks are in the order i, f, g, o")


def test_a_wrong_gru_gate_is_named(tmp_path):
    source = SOLUTIONS["gru_step"].replace("da_r = da_n * cache.cell.ah_n * r * (1 - r)",
                                           "da_r = da_n * cache.cell.ah_n * r")
    report = check_exercise("gru_step", write(tmp_path, "gru_step", source))
    assert report.grad("dWx").detail.startswith("dWx wrong in columns 0:H (gate r); the other gates (z, n) are right")


def test_no_padding_is_blamed_on_a_row_without_padding(tmp_path):
    """Dropping the softmax subtraction: the worst element is the one real position of a row, not padding."""
    source = SOLUTIONS["attention"].replace("w * (dw - (w * dw).sum(axis=1, keepdims=True))", "w * dw")
    report = check_exercise("attention", write(tmp_path, "attention", source))
    detail = report.grad("dscores").detail
    assert report.grad("dscores").status == "fail"
    assert "padded" not in detail and "the only real position of its row" in detail, detail


def test_padding_is_named_where_the_input_is_padding(tmp_path):
    source = SOLUTIONS["cross_entropy"].replace("d * cache.counted[:, None] *", "d *")
    report = check_exercise("cross_entropy", write(tmp_path, "cross_entropy", source))
    assert "a padded position: its gradient must be exactly 0" in report.grad("dlogits").detail


def test_an_unused_row_is_not_called_padding(tmp_path):
    source = SOLUTIONS["embedding"].replace("return dW", "return dW + (np.abs(dW).sum(axis=1, keepdims=True) == 0)")
    detail = check_exercise("embedding", write(tmp_path, "embedding", source)).grad("dW").detail
    assert "padded" not in detail and "does not depend on this element" in detail


def test_a_nan_from_a_fully_masked_row_is_explained(tmp_path):
    source = SOLUTIONS["masked_softmax"].replace("p = e / np.where(total > 0, total, 1.0)", "p = e / total")
    with numpy.errstate(invalid="ignore"):
        report = check_exercise("masked_softmax", write(tmp_path, "masked_softmax", source))
    assert "nan at p[0, 0]" in report.grad("p").detail
    assert "a row with no real position: it must be all zeros" in report.grad("p").detail


def test_an_overflow_is_explained(tmp_path):
    source = SOLUTIONS["masked_softmax"].replace("m = np.where(np.isfinite(m), m, 0.0)", "m = np.zeros_like(m)")
    with numpy.errstate(over="ignore", invalid="ignore"):
        report = check_exercise("masked_softmax", write(tmp_path, "masked_softmax", source))
    assert "exp overflows unless you subtract the row's maximum first" in report.grad("p").detail


def test_tokens_after_eos_must_be_pad(tmp_path):
    source = SOLUTIONS["greedy"].replace("y = np.where(done, pad, logits.argmax(axis=1))", "y = logits.argmax(axis=1)")
    detail = check_exercise("greedy", write(tmp_path, "greedy", source)).grad("tokens").detail
    assert "first differs at step" in detail and "expected 0 (PAD)" in detail and "after EOS every token is PAD" in detail


def test_a_search_that_never_stops_early_is_told(tmp_path):
    source = SOLUTIONS["greedy"].replace("if done.all():\n                    break", "pass")
    detail = check_exercise("greedy", write(tmp_path, "greedy", source)).grad("tokens").detail
    assert "you decoded 5 steps, expected 4: stop as soon as every sequence has produced EOS" in detail


def test_the_learners_own_cache_is_what_their_backward_gets(tmp_path):
    """lstm_cell: a cache of a different design (a dict, tanh(c) recomputed) passes too."""
    source = SOLUTIONS["lstm_cell"].replace("(i, f, g, o, c_prev, tc)", "{'gates': (i, f, g, o), 'c': c, 'c_prev': c_prev}")
    source = source.replace("i, f, g, o, c_prev, tc = cache",
                            "(i, f, g, o), c_prev = cache['gates'], cache['c_prev']\n            tc = np.tanh(cache['c'])")
    report = check_exercise("lstm_cell", write(tmp_path, "lstm_cell", source))
    assert report.passed, report.format()


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_the_step_exercises_compute_the_decoders_step(kind):
    """steps.bahdanau_step_forward / luong_step_forward give what the model's decoder step gives."""
    from minatt.exercises import steps
    from minatt.seq2seq import Seq2Seq, Seq2SeqConfig

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
    for a, b in zip(ours[:3], (o, new.h, new.c)):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_the_list_shows_each_expected_error_level(capsys):
    assert main(["--list"]) == 0
    listing = capsys.readouterr().out
    for spec in EXERCISES.values():
        assert f"expected: {spec.level}" in listing


def test_a_mistake_only_at_padding_is_told_so(tmp_path):
    """BPTT that adds dhs at padded steps: right without padding, and the report says so."""
    source = SOLUTIONS["lstm_bptt"].replace("dh_t = dh + np.where(r, dhs[:, t], 0.0)", "dh_t = dh + dhs[:, t]")
    report = check_exercise("lstm_bptt", write(tmp_path, "lstm_bptt", source))
    assert report.status == "fail"
    assert "right on every input set without padding: check what happens at the padded positions" in \
        report.grad("dh0").detail
    assert "ignore dhs[:, t]" in _flat(report)
