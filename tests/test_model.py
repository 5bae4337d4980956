"""minatt.exercises.model: the whole-model exercises, wiring the encoder-decoder and overfitting a tiny set."""

from __future__ import annotations

from minatt.exercises import (
    check_exercise,
)
from tests.exercise_checks import flat, planted
from tests.exercise_solutions import SOLUTIONS, write


def test_the_model_exercise_names_the_context_path(tmp_path):
    """Forgetting that c (= final_h) also enters the decoder's input: only the encoder's gradients are wrong."""
    report = planted(tmp_path, "model_loss_and_grads",
                      "dfinal_h = dh0 + do[:, :, H:].sum(axis=1) + dx_dec[:, :, E:].sum(axis=1)",
                      "dfinal_h = dh0 + do[:, :, H:].sum(axis=1)", level=1)
    wrong = {g.name for g in report.grads if not g.passed}
    assert wrong == {"grads['enc.embed.W']", "grads['enc.fwd.Wx']", "grads['enc.fwd.Wh']", "grads['enc.fwd.b']"}
    assert "final_h is ALSO the context c read at every step" in flat(report)


def test_overfit_runs_on_the_learners_own_model(tmp_path):
    """A model whose gradients are all zero cannot fit: the report says whose model it ran."""
    write(tmp_path, "model_loss_and_grads", SOLUTIONS["model_loss_and_grads"].replace(
        "return loss, grads", "return loss, {k: 0 * g for k, g in grads.items()}"))
    report = check_exercise("overfit", write(tmp_path, "overfit", SOLUTIONS["overfit"]))
    assert report.grad("loss").status == "fail"
    assert "on your model (model_loss_and_grads.py): the loss went from" in report.grad("loss").detail


def test_overfit_falls_back_to_the_librarys_model(tmp_path):
    write(tmp_path, "model_loss_and_grads", "def loss_and_grads(params, batch):\n    raise NotImplementedError\n")
    report = check_exercise("overfit", write(tmp_path, "overfit", SOLUTIONS["overfit"]))
    assert report.passed, report.format()
    assert "the library's model (your model_loss_and_grads is not written yet)" in report.grad("loss").detail


def test_a_model_that_returns_no_dict_is_told_what_to_return(tmp_path):
    report = planted(tmp_path, "model_loss_and_grads", "return loss, grads", "return loss, list(grads.values())")
    assert report.status == "error"
    assert "returned grads as a list; it must be a dict keyed like params" in report.message
    missing = planted(tmp_path, "model_loss_and_grads", "return loss, grads",
                       "return loss, {k: g for k, g in grads.items() if k != 'dec.out.b'}")
    assert missing.grad("grads['dec.out.b']").status == "wrong_shape"
    assert "got None" in missing.grad("grads['dec.out.b']").detail
