"""The exercises: the library's backwards pass them, stubs say "not implemented", planted bugs are named.

Learner solutions are written here from scratch, using only the cache fields each stub
documents; the planted bugs are one-line edits of those solutions, so every bug is a mistake a
learner could make (a missing term, a flipped sign, a transposed weight, a wrong shape).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy
import pytest

from minatt.backend import default_dtype, use
from minatt.errors import ConfigError
from minatt.exercises import EXERCISES, add_parser, check_exercise, find_exercise_file, load_module, main, run

ROOT = Path(__file__).resolve().parent.parent
STUBS = ROOT / "lessons" / "exercises"

SOLUTIONS = {
    "affine": """
        def affine_backward(dout, cache):
            M = cache.W.shape[1]
            dout2 = dout.reshape(-1, M)
            dx = (dout2 @ cache.W.T).reshape(cache.x_shape)
            dW = cache.x2.T @ dout2
            db = dout2.sum(axis=0)
            return dx, dW, db
    """,
    "softmax": """
        def softmax_backward(dp, cache):
            p = cache.p
            return p * (dp - (p * dp).sum(axis=-1, keepdims=True))
    """,
    "lstm_step": """
        def lstm_step_backward(dh_next, dc_next, cache):
            i, f, g, o = cache.cell.i, cache.cell.f, cache.cell.g, cache.cell.o
            tc = cache.cell.tc
            dc_t = dc_next + dh_next * o * (1 - tc ** 2)
            da_i = dc_t * g * i * (1 - i)
            da_f = dc_t * cache.cell.c_prev * f * (1 - f)
            da_g = dc_t * i * (1 - g ** 2)
            da_o = dh_next * tc * o * (1 - o)
            da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
            dx = da @ cache.Wx.T
            dh = da @ cache.Wh.T
            dc = dc_t * f
            dWx = cache.x.T @ da
            dWh = cache.h_prev.T @ da
            db = da.sum(axis=0)
            return dx, dh, dc, dWx, dWh, db
    """,
    "gru_step": """
        def gru_step_backward(dh_next, cache):
            r, z, n = cache.cell.r, cache.cell.z, cache.cell.n
            da_z = dh_next * (cache.cell.h_prev - n) * z * (1 - z)
            da_n = dh_next * (1 - z) * (1 - n ** 2)
            da_r = da_n * cache.cell.ah_n * r * (1 - r)
            dax = np.concatenate([da_r, da_z, da_n], axis=1)
            dah = np.concatenate([da_r, da_z, da_n * r], axis=1)
            dx = dax @ cache.Wx.T
            dh = dh_next * z + dah @ cache.Wh.T
            dWx = cache.x.T @ dax
            dWh = cache.cell.h_prev.T @ dah
            dbx = dax.sum(axis=0)
            dbh = dah.sum(axis=0)
            return dx, dh, dWx, dWh, dbx, dbh
    """,
    "additive_score": """
        def additive_score_backward(dscores, cache):
            keys, Wk = cache.keys.keys, cache.keys.Wk
            q, Wq, v, t = cache.score.q, cache.score.Wq, cache.score.v, cache.score.t
            Hk, A = Wk.shape
            da = dscores[:, :, None] * v * (1 - t ** 2)
            dqproj = da.sum(axis=1)
            dq = dqproj @ Wq.T
            dkeys = da @ Wk.T
            dWq = q.T @ dqproj
            dWk = keys.reshape(-1, Hk).T @ da.reshape(-1, A)
            dv = (dscores[:, :, None] * t).sum(axis=(0, 1))
            return dq, dkeys, dWq, dWk, dv
    """,
    "general_score": """
        def general_score_backward(dscores, cache):
            keys, Wa = cache.keys.keys, cache.keys.Wa
            q, kW = cache.score.q, cache.score.keys
            Hq, Hk = Wa.shape
            dq = np.einsum("ns,nsh->nh", dscores, kW)
            dkW = dscores[:, :, None] * q[:, None, :]
            dkeys = dkW @ Wa
            dWa = dkW.reshape(-1, Hq).T @ keys.reshape(-1, Hk)
            return dq, dkeys, dWa
    """,
    "attention": """
        def attention_backward(dcontext, dweights, cache):
            w, values = cache.softmax.p, cache.values
            dw = np.einsum("nsh,nh->ns", values, dcontext)
            if dweights is not None:
                dw = dw + dweights
            dvalues = w[:, :, None] * dcontext[:, None, :]
            dscores = w * (dw - (w * dw).sum(axis=1, keepdims=True))
            return dscores, dvalues
    """,
}

# (exercise, line in the solution, its buggy version, the gradient that must be flagged, its status)
BUGS = [
    ("affine", "db = dout2.sum(axis=0)", "db = -dout2.sum(axis=0)", "db", "fail"),
    ("affine", "dW = cache.x2.T @ dout2", "dW = dout2.T @ cache.x2", "dW", "wrong_shape"),
    ("affine", "db = dout2.sum(axis=0)", "db = dout2.sum(axis=0, keepdims=True)", "db", "wrong_shape"),
    ("softmax", "p * (dp - (p * dp).sum(axis=-1, keepdims=True))", "p * dp", "dx", "fail"),
    ("softmax", "(p * dp).sum(axis=-1, keepdims=True)", "(p * dp).sum()", "dx", "fail"),
    ("lstm_step", "dc = dc_t * f", "dc = dc_t", "dc", "fail"),
    ("lstm_step", "dWh = cache.h_prev.T @ da", "dWh = 1.001 * (cache.h_prev.T @ da)", "dWh", "fail"),
    ("gru_step", "dbh = dah.sum(axis=0)", "dbh = dax.sum(axis=0)", "dbh", "fail"),
    ("gru_step", "dh = dh_next * z + dah @ cache.Wh.T", "dh = dah @ cache.Wh.T", "dh", "fail"),
    ("additive_score", "dv = (dscores", "dv = -(dscores", "dv", "fail"),
    ("additive_score", "dq = dqproj @ Wq.T", "dq = da[:, 0] @ Wq.T", "dq", "fail"),
    ("general_score", "dWa = dkW.reshape(-1, Hq).T @ keys.reshape(-1, Hk)",
     "dWa = keys.reshape(-1, Hk).T @ dkW.reshape(-1, Hq)", "dWa", "wrong_shape"),
    ("general_score", "dkeys = dkW @ Wa", "dkeys = dkW", "dkeys", "wrong_shape"),
    ("attention", "dw = dw + dweights", "dw = dw", "dscores", "fail"),
    ("attention", "dvalues = w[:, :, None]", "dvalues = -w[:, :, None]", "dvalues", "fail"),
]


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n\n" + textwrap.dedent(body).lstrip())
    return path


def library(name: str):
    """The library module holding exercise ``name``'s reference backward."""
    return importlib.import_module(EXERCISES[name].module)


def test_every_exercise_has_a_stub_and_a_solution_here():
    assert set(EXERCISES) == {"affine", "softmax", "lstm_step", "gru_step", "additive_score",
                              "general_score", "attention"}
    assert set(SOLUTIONS) == set(EXERCISES)
    assert {p.stem for p in STUBS.glob("*.py")} == set(EXERCISES)


@pytest.mark.parametrize("name", EXERCISES)
def test_the_library_reference_passes(name):
    spec = EXERCISES[name]
    report = check_exercise(name, functions={spec.function: spec.reference()})
    assert report.status == "pass", report.format()
    assert [g.name for g in report.grads] == list(spec.grads)
    assert all(g.max_rel_error is not None and g.max_rel_error < 1e-8 for g in report.grads)
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
    function = EXERCISES[name].function
    assert f"not implemented yet: fill in {function} in " in report.format()
    assert report.format().rstrip().endswith(f"{name}.py")


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
    assert bad.hint == EXERCISES[name].hints[grad]
    text = report.format()
    assert " ".join(bad.hint.split()) in " ".join(text.split())
    assert ("WRONG SHAPE" if status == "wrong_shape" else "FAIL") in text
    if status == "fail":
        assert bad.max_rel_error > 1e-7 and f"worst at {grad}[" in bad.detail
    else:
        assert bad.max_rel_error is None and "expected" in bad.detail and "got shape" in bad.detail


def test_a_sign_error_is_called_a_sign_error(tmp_path):
    source = SOLUTIONS["affine"].replace("db = dout2.sum(axis=0)", "db = -dout2.sum(axis=0)")
    report = check_exercise("affine", write(tmp_path, "affine", source))
    assert "sign is flipped" in report.grad("db").detail


def test_the_affine_transpose_hint(tmp_path):
    source = SOLUTIONS["affine"].replace("dW = cache.x2.T @ dout2", "dW = dout2.T @ cache.x2")
    text = check_exercise("affine", write(tmp_path, "affine", source)).format()
    text = " ".join(text.split())  # the hints are wrapped
    assert "dW should be x^T @ dout: shape (D, M)" in text and "check for a transpose" in text
    assert "got shape (3, 2), expected (2, 3) like W" in text


def test_a_bug_under_every_gradient_shows_the_common_hint(tmp_path):
    line = "dc_t = dc_next + dh_next * o * (1 - tc ** 2)"
    source = SOLUTIONS["lstm_step"].replace(line, "dc_t = dh_next * o * (1 - tc ** 2)")  # dropped dc_next
    report = check_exercise("lstm_step", write(tmp_path, "lstm_step", source))
    assert {g.status for g in report.grads} == {"fail"}
    assert "hint: every gradient goes through dc_t" in " ".join(report.format().split())


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
    assert "returned 2 values; it must return 3 arrays: dx, dW, db" in report.message


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
    with pytest.raises(ConfigError, match="no exercise named 'lstm'.*affine, softmax, lstm_step"):
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
    assert all(name in listing for name in EXERCISES) and "chapter 4" in listing
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
    """Every ``cache.a.b`` a stub names exists on the library's cache; signatures match the library's."""
    spec = EXERCISES[name]
    text = (STUBS / f"{name}.py").read_text()
    assert f"python -m minatt exercise {name}" in text and f"chapter {spec.chapter}" in text
    assert 'raise NotImplementedError("' in text
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
    module = load_module(STUBS / f"{name}.py")
    ours = list(inspect.signature(getattr(module, spec.function)).parameters)
    assert ours == list(inspect.signature(spec.reference()).parameters)


def test_the_readme_lists_every_exercise():
    text = (STUBS / "README.md").read_text()
    for spec in EXERCISES.values():
        assert f"`{spec.name}`" in text and spec.function in text
    assert "python -m minatt exercise affine" in text

