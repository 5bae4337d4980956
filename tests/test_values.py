"""minatt.exercises.values: a learner's outputs against the library's: a forward off by a factor, wrong only at
padding, tokens after EOS that are not PAD."""

from __future__ import annotations

from tests.exercise_checks import planted


def test_an_output_off_by_a_factor_is_named(tmp_path):
    """Outputs get the same rules: Adam's first moment without its (1 - beta1)."""
    report = planted(tmp_path, "adam", "m_next = beta1 * m + (1 - beta1) * g", "m_next = beta1 * m + g")
    assert report.grad("p_next").passed is False and report.grad("v_next").passed
    text = " ".join(report.format().split())
    assert "transpose" not in text and "padded" not in text
    first = planted(tmp_path, "adam", "return p_next, m_next, v_next", "return p_next, 2 * m_next, v_next")
    assert first.grad("m_next").detail.startswith("yours is 2 times the right output everywhere")


def test_an_output_wrong_only_at_padding_is_named(tmp_path):
    report = planted(tmp_path, "masked_softmax", "return p, SoftmaxCache(p)",
                      "p = p + (p == 0)\n            return p, SoftmaxCache(p)")
    detail = report.grad("p").detail
    assert detail.startswith("wrong only at padded positions, whose value must be exactly 0"), detail


def test_tokens_after_eos_must_be_pad(tmp_path):
    report = planted(tmp_path, "greedy", "y = np.where(done, pad, logits.argmax(axis=1))", "y = logits.argmax(axis=1)")
    detail = report.grad("tokens").detail
    assert "first differs at step" in detail and "expected 0 (PAD)" in detail and "after EOS every token is PAD" in detail
