"""minatt.exercises, the package: the library's functions pass every exercise, stubs say "not implemented",
planted bugs are named. (Each module has its own file: test_check, test_load, test_feedback, test_registry, ...)

Learner solutions (tests/exercise_solutions.py) are written from scratch, using only what each
stub documents; the planted bugs are one-line edits of those solutions, so every bug is a mistake
a learner could make (a missing term, a flipped sign, a transposed weight, a wrong shape, a gate's
derivative, a forgotten mask).
"""

from __future__ import annotations

import inspect
import re

import numpy
import pytest

from minatt.backend import default_dtype, use
from minatt.exercises import (
    EXERCISES,
    check_exercise,
    load_module,
)
from tests.exercise_checks import ROOT, STUBS, library
from tests.exercise_solutions import BUGS, SOLUTIONS, write


def test_every_exercise_has_a_stub_and_a_solution_here():
    assert set(EXERCISES) == {"affine", "softmax", "lstm_step", "gru_step", "additive_score", "general_score",
                              "attention", "masked_softmax", "lstm_cell", "lstm_bptt", "embedding",
                              "cross_entropy", "bahdanau_step", "luong_step", "greedy", "beam",
                              "scaled_dot_attention", "layer_norm", "rnn_step", "rnn_sequence", "gru_bptt",
                              "multihead_attention", "model_loss_and_grads", "bidirectional", "adam",
                              "clip_grad_norm", "overfit"}
    assert len(EXERCISES) >= 26
    assert set(SOLUTIONS) == set(EXERCISES)
    assert {p.stem for p in STUBS.glob("*.py")} == set(EXERCISES)
    kinds = {spec.kind for spec in EXERCISES.values()}
    assert kinds == {"backward", "forward", "forward_backward", "decode", "model", "overfit"}


def test_the_list_is_in_chapter_order_and_each_chapter_names_its_exercises():
    chapters = [spec.chapter for spec in EXERCISES.values()]
    assert chapters == sorted(chapters)
    lessons = {int(p.name[:2]): p.read_text() for p in (ROOT / "lessons").glob("[01][0-9]-*.md")}
    for spec in EXERCISES.values():
        assert f"python -m minatt exercise {spec.name}" in lessons[spec.chapter], (spec.name, spec.chapter)


@pytest.mark.parametrize("name", EXERCISES)
def test_the_library_reference_passes(name):
    spec = EXERCISES[name]
    functions = {f: getattr(library(name), f) for f in spec.functions()}
    report = check_exercise(name, functions=functions)
    assert report.status == "pass", report.format()
    assert [g.name for g in report.grads] == list(spec.reported)
    exact_zero = {("multihead_attention", "dbk")}  # judged against the round-off of a difference (its level says so)
    assert all(g.max_rel_error is not None and g.max_rel_error < 1e-8 for g in report.grads
               if g.name != "tokens" and spec.kind != "overfit" and (name, g.name) not in exact_zero)
    assert report.exit_code == 0
    assert check_exercise(name, module=library(name)).passed  # a module works as well


@pytest.mark.parametrize("name", EXERCISES)
def test_a_learner_solution_from_the_documented_cache_passes(name, tmp_path):
    report = check_exercise(name, write(tmp_path, name, SOLUTIONS[name]))
    assert report.status == "pass", report.format()
    assert "well done" in report.format()


@pytest.mark.parametrize("name", EXERCISES)
def test_the_untouched_stub_is_not_implemented(name):
    path = STUBS / f"{name}.py"
    report = check_exercise(name, path)
    assert report.status == "not_implemented"
    assert {g.status for g in report.grads} == {"not_implemented"}
    assert report.exit_code == 1
    todo = " and ".join(EXERCISES[name].functions())
    assert f"not implemented yet: fill in {todo} in " in report.format()
    assert report.format().rstrip().endswith(f"{name}.py")


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("name, line, bug, grad, status", BUGS, ids=[f"{b[0]}-{b[3]}-{b[4]}-{i}" for i, b in
                                                                   enumerate(BUGS)])
def test_a_planted_bug_is_named(name, line, bug, grad, status, tmp_path):
    source = SOLUTIONS[name]
    assert line in source
    report = check_exercise(name, write(tmp_path, name, source.replace(line, bug)))
    assert report.status == "fail" and report.exit_code == 1
    flagged = {g.name: g.status for g in report.grads if not g.passed}
    assert flagged == {grad: status}, report.format()
    bad = report.grad(grad)
    pointer, formula = EXERCISES[name].hints[grad]
    text = " ".join(report.format().split())
    assert bad.hint == "" and pointer not in text and formula not in text  # the first report gives no answer
    assert "run again with --hint 1" in text
    told = check_exercise(name, write(tmp_path, name, source.replace(line, bug)), hint_level=2)
    if " wrong in columns " not in told.grad(grad).detail:  # else the gate line is the hint (tests/test_feedback.py)
        assert told.grad(grad).hint == f"{pointer}. {formula}"
        assert " ".join(told.grad(grad).hint.split()) in " ".join(told.format().split())
    assert ("WRONG SHAPE" if status == "wrong_shape" else "FAIL") in text
    if status == "fail" and EXERCISES[name].kind in ("decode", "overfit"):
        assert bad.detail
    elif status == "fail":
        assert bad.max_rel_error > 1e-7 and (f"worst at {grad}[" in bad.detail or "NaN" in bad.detail)
    else:
        assert bad.max_rel_error is None and "expected" in bad.detail and "got shape" in bad.detail


@pytest.mark.parametrize("name", EXERCISES)
def test_the_stub_documents_the_real_cache(name):
    """Every ``cache.a.b`` a stub names exists on the library's cache; signatures match the library's;
    the stub states the error a correct answer reaches."""
    spec = EXERCISES[name]
    text = (STUBS / f"{name}.py").read_text()
    assert f"python -m minatt exercise {name}" in text and f"chapter {spec.chapter}" in text
    assert 'raise NotImplementedError("' in text
    assert re.search(r"(relative errors should be below 1e-8|must equal the library.s exactly|to about 1e-15"
                     r"|below 0\.05)",
                     " ".join(text.split())), name
    module = load_module(STUBS / f"{name}.py")
    for function in spec.functions():
        ours = list(inspect.signature(getattr(module, function)).parameters)
        theirs = list(inspect.signature(getattr(library(name), function)).parameters)
        # The stubs use issue 25's names (dh_next); the library's ops take them on when the 'names' branch lands.
        assert [n.removesuffix("_next") for n in ours] == [n.removesuffix("_next") for n in theirs]
    if spec.kind != "backward":
        return  # the learner's own cache, or none
    with use("numpy"), default_dtype("float64"):
        trial = spec.trials(numpy.random.default_rng(0))[0]
        cache = spec.library_forward()(*trial.params.values(), **trial.kwargs)[-1]
    fields = set(re.findall(r"\bcache\.([A-Za-z_](?:[\w.]*\w)?)", text))
    assert fields
    for dotted in fields:
        obj = cache
        for part in dotted.split("."):
            if part == "shape" or part == "T":
                break
            assert hasattr(obj, part), f"{name}.py names cache.{dotted}, which the library's cache lacks"
            obj = getattr(obj, part)


def test_the_readme_lists_every_exercise():
    text = (STUBS / "README.md").read_text()
    for spec in EXERCISES.values():
        assert f"`{spec.name}`" in text and spec.function in text
    assert "python -m minatt exercise affine" in text
