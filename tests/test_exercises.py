"""The exercises: the library's functions pass them, stubs say "not implemented", planted bugs are named.

Learner solutions (tests/exercise_solutions.py) are written from scratch, using only what each
stub documents; the planted bugs are one-line edits of those solutions, so every bug is a mistake
a learner could make (a missing term, a flipped sign, a transposed weight, a wrong shape, a gate's
derivative, a forgotten mask).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from minatt.backend import default_dtype, use
from minatt.errors import ConfigError
from minatt.exercises import (
    EXERCISES,
    add_parser,
    check_exercise,
    find_exercise_file,
    load_module,
    main,
    run,
)
from tests.exercise_solutions import BUGS, SOLUTIONS, write

ROOT = Path(__file__).resolve().parent.parent
STUBS = ROOT / "lessons" / "exercises"

def library(name: str):
    """The library module holding exercise ``name``'s reference."""
    return importlib.import_module(EXERCISES[name].module)


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
    if " wrong in columns " not in told.grad(grad).detail:  # else the gate line is the hint (test_exercise_feedback)
        assert told.grad(grad).hint == f"{pointer}. {formula}"
        assert " ".join(told.grad(grad).hint.split()) in " ".join(told.format().split())
    assert ("WRONG SHAPE" if status == "wrong_shape" else "FAIL") in text
    if status == "fail" and EXERCISES[name].kind in ("decode", "overfit"):
        assert bad.detail
    elif status == "fail":
        assert bad.max_rel_error > 1e-7 and (f"worst at {grad}[" in bad.detail or "NaN" in bad.detail)
    else:
        assert bad.max_rel_error is None and "expected" in bad.detail and "got shape" in bad.detail


def test_a_sign_error_is_called_a_sign_error(tmp_path):
    source = SOLUTIONS["affine"].replace("db = dout2.sum(axis=0)", "db = -dout2.sum(axis=0)")
    report = check_exercise("affine", write(tmp_path, "affine", source))
    assert "sign is flipped" in report.grad("db").detail


def test_the_affine_transpose_hint(tmp_path):
    source = SOLUTIONS["affine"].replace("dW = cache.x2.T @ dout2", "dW = dout2.T @ cache.x2")
    text = check_exercise("affine", write(tmp_path, "affine", source), hint_level=2).format()
    text = " ".join(text.split())  # the hints are wrapped
    assert "dW = x2^T @ dout2" in text
    assert "got shape (3, 2), expected (2, 3) like W: a transpose" in text


def test_a_bug_under_every_gradient_shows_the_common_hint(tmp_path):
    line = "dc_t = dc_next + dh_next * o * (1 - tc ** 2)"
    source = SOLUTIONS["lstm_step"].replace(line, "dc_t = dh_next * o * (1 - tc ** 2)")  # dropped dc_next
    path = write(tmp_path, "lstm_step", source)
    report = check_exercise("lstm_step", path)
    assert {g.status for g in report.grads} == {"fail"}
    assert "every gradient fails: look first at what they all go through" in " ".join(report.format().split())
    told = " ".join(check_exercise("lstm_step", path, hint_level=1).format().split())
    assert "every gradient fails: every gradient goes through dc_t and da" in told


def test_a_nonzero_gradient_at_padding_is_explained(tmp_path):
    source = SOLUTIONS["attention"].replace("dvalues = w[:, :, None]", "dvalues = (w + 0.1)[:, :, None]")
    report = check_exercise("attention", write(tmp_path, "attention", source))
    assert report.grad("dvalues").status == "fail" and report.grad("dscores").passed
    assert "padded position" in report.grad("dvalues").detail


def test_an_exception_in_the_learners_code_shows_their_line(tmp_path):
    line = "dw = dw + dweights"
    source = SOLUTIONS["attention"].replace(f"if dweights is not None:\n                {line}", line)
    path = write(tmp_path, "attention", source)
    report = check_exercise("attention", path)
    assert report.status == "error" and report.exit_code == 1
    text = report.format()
    assert "your attention_backward raised TypeError" in text
    lineno = path.read_text().splitlines().index("    " + line) + 1
    assert f'{path}", line {lineno}, in attention_backward' in text
    assert text.rstrip().endswith(line)
    assert "minatt/exercises/" not in text  # their code, not ours


def test_a_syntax_error_is_reported_with_its_line(tmp_path):
    path = tmp_path / "affine.py"
    path.write_text("def affine_backward(dout, cache):\n    return dout +\n")
    report = check_exercise("affine", path)
    assert report.status == "error"
    assert f"syntax error in {path}, line 2" in report.message
    assert "return dout +" in report.message


def test_an_error_while_loading_is_reported(tmp_path):
    path = tmp_path / "affine.py"
    path.write_text("import numpy as np\n\nSCALE = np.nope\n")
    report = check_exercise("affine", path)
    assert report.status == "error"
    assert "AttributeError" in report.message and "line 3" in report.message


def test_a_missing_function_is_reported(tmp_path):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("def affine_backward", "def affine_back"))
    report = check_exercise("affine", path)
    assert report.status == "error"
    assert "defines no function affine_backward(dout, cache)" in report.message


def test_the_wrong_number_of_gradients_is_reported(tmp_path):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("return dx, dW, db", "return dx, dW"))
    report = check_exercise("affine", path)
    assert report.status == "error"
    assert "returned 2 values; it must return 3 values: dx, dW, db" in report.message


def test_none_and_junk_are_wrong_shapes(tmp_path):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("return dx, dW, db", "return dx, None, 'db'"))
    report = check_exercise("affine", path)
    assert report.grad("dx").passed
    assert report.grad("dW").status == report.grad("db").status == "wrong_shape"
    assert "got None" in report.grad("dW").detail and "not an array" in report.grad("db").detail


def test_the_learner_may_write_into_the_cache_and_dout(tmp_path):
    pad = "\n" + " " * 12
    source = SOLUTIONS["affine"].replace("return dx, dW, db", f"cache.W[...] = 0.0{pad}dout[...] = 0.0{pad}return dx, dW, db")
    assert check_exercise("affine", write(tmp_path, "affine", source)).passed


def test_an_unknown_name_lists_the_exercises():
    with pytest.raises(ConfigError, match="no exercise named 'lstm'.*affine, embedding, softmax"):
        check_exercise("lstm")


def test_the_default_file_is_looked_up_in_the_cwd_then_beside_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_exercise_file("affine") == STUBS / "affine.py"  # no lessons/ here: the repository's
    (tmp_path / "lessons" / "exercises").mkdir(parents=True)
    write(tmp_path / "lessons" / "exercises", "affine", SOLUTIONS["affine"])
    report = check_exercise("affine")
    assert report.passed and report.path == str(Path("lessons") / "exercises" / "affine.py")


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        check_exercise("affine", tmp_path / "nope.py")


def test_the_cli_via_add_parser(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="minatt")
    add_parser(parser.add_subparsers(dest="command"))
    good = write(tmp_path, "affine", SOLUTIONS["affine"])
    args = parser.parse_args(["exercise", "affine", "--file", str(good)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"dW\s+PASS\s+max rel error", out)
    assert run(parser.parse_args(["exercise", "affine", "--file", str(STUBS / "affine.py")])) == 1
    assert "not implemented yet: fill in affine_backward" in capsys.readouterr().out
    assert run(parser.parse_args(["exercise", "--list"])) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in EXERCISES) and "chapter  4" in listing
    with pytest.raises(ConfigError, match="name an exercise"):
        run(parser.parse_args(["exercise"]))


def test_main_exit_codes(tmp_path, capsys):
    assert main(["general_score", "--file", str(write(tmp_path, "general_score", SOLUTIONS["general_score"]))]) == 0
    assert main(["nope"]) == 2
    assert "minatt: error: no exercise named 'nope'" in capsys.readouterr().err


def test_python_dash_m_minatt_exercise(tmp_path):
    good = write(tmp_path, "softmax", SOLUTIONS["softmax"])
    done = subprocess.run([sys.executable, "-m", "minatt", "exercise", "softmax", "--file", str(good)],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout
    done = subprocess.run([sys.executable, "-m", "minatt", "exercise", "softmax"],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and "not implemented yet" in done.stdout


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
