"""minatt.cli end to end: the commands it dispatches (predict, gradcheck, bench), Ctrl-C, and every error as
one line (the train command's own behaviour: tests/test_train_command.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from minatt import cli
from minatt.tools import checkpoint as ckpt
from minatt.train import blas_threads
from tests.tiny_runs import TINY_ARGS as TINY
from tests.tiny_runs import checkpoint_step as _step
from tests.tiny_runs import cli_error as _error

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with blas_threads(1):
        yield


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One tiny trained run shared by the read-only tests."""
    d = tmp_path_factory.mktemp("cli") / "run"
    with blas_threads(1):
        assert cli.main(["train", *TINY, "--steps", "6", "--out", str(d), "--quiet"]) == 0
    return d


def test_train_writes_a_run_that_loads(run_dir):
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "attention.png", "checkpoint.npz", "config.json", "curves.png", "metrics.json"]
    assert _step(run_dir) == 6


DIGITS = set("0123456789")


def _printed_tokens(capsys) -> list[str]:
    """The one line predict printed, as tokens: every one a digit of the task's vocabulary."""
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    tokens = lines[0].split()
    assert set(tokens) <= DIGITS, tokens
    return tokens


@pytest.fixture(scope="module")
def endless_run(run_dir, tmp_path_factory):
    """run_dir with the special tokens' output biases at -1e4: the decoder never ends a sequence
    early, nor emits PAD, BOS or UNK, so what it prints does not depend on how training went."""
    import shutil

    from minatt.tasks import SPECIALS

    d = tmp_path_factory.mktemp("cli") / "endless"
    shutil.copytree(run_dir, d)
    with np.load(d / "checkpoint.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["param/dec.out.b"][: len(SPECIALS)] = -1e4
    np.savez(d / "checkpoint.npz", **arrays)
    return d


def test_predict_prints_a_sequence_and_plots(run_dir, tmp_path, capsys):
    from minatt.train import load_run, predict

    assert cli.main(["predict", str(run_dir), "3", "1", "4"]) == 0
    printed = _printed_tokens(capsys)
    with blas_threads(1):
        _, task, model, _ = load_run(run_dir)
        assert printed == predict(task, model, "3 1 4").text.split()  # what the library decodes
    png = tmp_path / "att.png"
    assert cli.main(["predict", str(run_dir), "3 1 4 1", "--beam", "3", "--plot", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    captured = capsys.readouterr()
    assert "attention heatmap saved" in captured.err
    assert set(captured.out.split()) <= DIGITS and len(captured.out.splitlines()) == 1


@pytest.mark.parametrize("beam", [[], ["--beam", "3"]], ids=["greedy", "beam"])
def test_predict_prints_every_token_when_the_model_cannot_stop(endless_run, capsys, beam):
    """With EOS impossible the decoder runs to its length limit, 2 S + 10: 16 tokens for S = 3."""
    assert cli.main(["predict", str(endless_run), "3", "1", "4", *beam]) == 0
    assert len(_printed_tokens(capsys)) == 2 * 3 + 10


def test_train_links_runs_latest_and_predict_refuses_two_run_directories(run_dir, tmp_path, capsys, monkeypatch):
    """`predict runs/reverse-* 3 1 4` after two runs names the mistake; runs/latest is the newest run."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", *TINY, "--steps", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    latest = Path("runs/latest")
    assert latest.is_symlink() and ckpt.is_run_dir(latest)
    assert f"run files in {latest.resolve().relative_to(tmp_path)} (also runs/latest, the newest run)" in out
    assert cli.main(["predict", "runs/latest", "3", "1", "4"]) == 0
    capsys.readouterr()
    other = Path("runs/reverse-other")
    other.symlink_to(run_dir, target_is_directory=True)
    runs = sorted(str(p) for p in Path("runs").glob("reverse-*"))
    msg = _error(["predict", *runs, "3", "1", "4"], capsys)
    assert msg == f"minatt: error: 2 run directories given ({', '.join(runs)}): pass one, e.g. runs/latest (the newest run)"


def test_output_into_a_closed_pipe_exits_quietly(tmp_path):
    """`python -m minatt gradcheck --list | head -1`: the reader leaves; no 'Broken pipe' error, status 141."""
    read, write = os.pipe()
    os.close(read)  # every write to the pipe now fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "minatt", "gradcheck", "--list"], stdout=write,
                              stderr=subprocess.PIPE, text=True, env=ENV, timeout=120, check=False)
    finally:
        os.close(write)
    assert proc.stderr == "" and proc.returncode == 128 + signal.SIGPIPE


def test_predict_points_from_a_folder_of_runs_to_one_and_refuses_a_missing_plot_folder(run_dir, tmp_path, capsys):
    msg = _error(["predict", str(run_dir.parent), "1", "2", "3"], capsys)
    assert msg == f"minatt: error: {run_dir.parent} holds runs, not a run: pass one of them, e.g. {run_dir}"
    plot = tmp_path / "nonexistent" / "dir" / "x.png"
    msg = _error(["predict", str(run_dir), "1", "2", "3", "--plot", str(plot)], capsys)
    assert f"--plot {plot}: the directory {plot.parent} does not exist" in msg
    assert not plot.parent.parent.exists()


def test_predict_warns_on_a_source_unlike_any_training_source(run_dir, capsys):
    assert cli.main(["predict", str(run_dir), "3", "1", "4"]) == 0   # trained on lengths 2..4
    assert capsys.readouterr().err == ""
    assert cli.main(["predict", str(run_dir), "3"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() and captured.err == (
        "minatt: warning: the input is outside the training distribution: it has 1 token, fewer than any "
        "training source (2..4); the answer may be wrong\n")
    from minatt.tasks import make_task

    dates = make_task("dates")
    assert dates.unfamiliar(dates.parse("tuesday, november 24, 2026")) is None
    assert dates.unfamiliar(dates.parse("24.11.2026")) is None
    assert "written in none of the task's 8 formats" in dates.unfamiliar(dates.parse("2026-11-24"))
    assert "written in none" in dates.unfamiliar(dates.parse("monday, november 24, 2026"))  # a wrong weekday
    assert dates.unfamiliar(dates.parse("24 nov 2100")) == "2100-11-24 is outside the years trained on (1950..2049)"


def test_gradcheck_subset_passes(capsys):
    assert cli.main(["gradcheck", "--op", "affine", "--op", "softmax"]) == 0
    out = capsys.readouterr().out
    assert "affine" in out and "softmax" in out and "FAIL" not in out and "all" in out and "passed" in out
    assert out.splitlines()[0].split() == ["op", "input", "method", "max", "rel", "error", "verdict"]


def test_gradcheck_model_filters(capsys):
    argv = ["gradcheck", "--op", "affine", "--model", "--cell", "gru", "--score", "bahdanau", "--decoder", "luong",
            "--bidirectional", "yes", "--no-input-feeding", "--verbose"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    ops = {line.split()[0] for line in out.splitlines()[2:-1]}
    assert ops == {"affine", "model[gru-additive-luong-bi]"}  # 'bahdanau' is the additive score's alias
    assert "(2 cases, seed 0, numpy)" in out
    assert cli.main(["gradcheck", "--model-only", "--cell", "lstm", "--score", "dot", "--bidirectional", "no",
                     "--verbose"]) == 0
    ops = {line.split()[0] for line in capsys.readouterr().out.splitlines()[2:-1]}
    assert ops == {"model[lstm-dot-bahdanau-uni]", "model[lstm-dot-luong-uni]"}


def test_gradcheck_model_prints_one_line_per_configuration(capsys):
    argv = ["gradcheck", "--op", "affine", "--model", "--cell", "lstm", "--score", "dot", "--bidirectional", "no"]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    table = lines.index(next(line for line in lines if line.startswith("model configuration")))
    assert [line.split()[0] for line in lines[table + 2:-1]] == ["model[lstm-dot-bahdanau-uni]",
                                                                  "model[lstm-dot-luong-uni]"]
    assert all(line.split()[-1] == "ok" and int(line.split()[1]) > 10 for line in lines[table + 2:-1])
    assert all(line.split()[0] in ("op", "affine") or set(line) <= {"-", " "} for line in lines[:table])


def test_gradcheck_failure_exits_1(monkeypatch, capsys):
    from minatt import gradcheck

    def broken(rng):
        x = np.ones(3)
        return gradcheck.Case(lambda p: (float((p["x"] ** 2).sum()), {"x": 3 * p["x"]}), {"x": x})

    monkeypatch.setitem(gradcheck.REGISTRY, "zz_broken", broken)
    assert cli.main(["gradcheck", "--op", "zz_broken"]) == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and "gradient checks FAILED" in captured.err


def test_gradcheck_list(capsys):
    assert cli.main(["gradcheck", "--list"]) == 0
    assert "affine" in capsys.readouterr().out.split()


def test_help_shows_commands_and_defaults(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in ("train", "predict", "gradcheck"))
    assert cli.main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for text in ("(default: reverse)", "(default: 64)", "(default: adam)", "(default: 0.99)", "--resume RUN_DIR",
                 "--no-input-feeding", "--bidirectional", "--attn-dim"):
        assert text in out, text


def test_adding_a_command_is_one_line(monkeypatch, capsys):
    module = types.ModuleType("minatt_fake_command")

    def add_parser(subparsers):
        p = subparsers.add_parser("hello", help="say hello")
        p.add_argument("--name", default="world")
        p.set_defaults(func=lambda args: print(f"hello {args.name}") or 0)
        return p

    module.add_parser = add_parser
    monkeypatch.setitem(sys.modules, "minatt_fake_command", module)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["minatt_fake_command"])
    assert cli.main(["hello", "--name", "minatt"]) == 0
    assert capsys.readouterr().out == "hello minatt\n"


@pytest.mark.parametrize("argv, message", [
    (["train", "--task", "rev"], "unknown task 'rev': choose one of copy, reverse, sort, dates, denoise"),
    (["train", "--cell", "rnn"], "unknown cell 'rnn': choose one of lstm, gru"),
    (["train", "--score", "bilinear"], "choose one of additive, bahdanau, dot, scaled_dot, general, concat, none"),
    (["train", "--decoder", "x"], "unknown decoder 'x': choose one of bahdanau, luong"),
    (["train", "--optimizer", "rmsprop"], "unknown optimizer 'rmsprop': choose one of adam, sgd"),
    (["train", "--backend", "jax"], "unknown backend 'jax': choose one of numpy, cupy"),
    (["train", "--hidden", "0"], "argument --hidden: must be a positive integer, got 0"),
    (["train", "--batch", "-3"], "argument --batch: must be a positive integer, got -3"),
    (["train", "--steps", "x"], "argument --steps: expected a positive integer, got 'x'"),
    (["train", "--min-len", "5", "--max-len", "3"], "--min-len 5 is greater than --max-len 3"),
    (["train", "--embed", "0"], "argument --embed: must be a positive integer, got 0"),
    (["train", "--attn-dim", "-4"], "argument --attn-dim: must be a positive integer, got -4"),
    (["train", "--steps", "0"], "argument --steps: must be a positive integer, got 0"),
    (["train", "--min-len", "0"], "argument --min-len: must be a positive integer, got 0"),
    (["train", "--max-len", "1", "--min-len", "1"],
     "--max-len 1 leaves no held-out sequences to evaluate on: use --max-len >= 2"),
    (["train", "--eval-every", "0"], "argument --eval-every: must be a positive integer, got 0"),
    (["train", "--test-size", "-1"], "argument --test-size: must be a positive integer, got -1"),
    (["train", "--patience", "0"], "argument --patience: must be a positive integer, got 0"),
    (["train", "--threads", "0"], "argument --threads: must be a positive integer, got 0"),
    (["train", "--workers", "0"], "argument --workers: must be a positive integer, got 0"),
    (["train", "--warmup", "-1"], "argument --warmup: must be an integer >= 0, got -1"),
    (["train", "--clip", "-1"], "argument --clip: must be a number >= 0, got -1"),
    (["train", "--decay-to", "2"], "argument --decay-to: must be a number in [0, 1], got 2"),
    (["predict", "nowhere", "1", "--backend", "tpu"], "unknown backend 'tpu': choose one of numpy, cupy"),
    (["train", "--target", "2"], "argument --target: must be in (0, 1] or 'none', got 2"),
    (["train", "--lr", "0"], "argument --lr: must be a positive number, got 0"),
    (["train", "--optimizer", "sgd", "--momentum", "1.5"], "argument --momentum: must be a number in [0, 1), got 1.5"),
    (["train", "--bidirectional", "--hidden", "15"], "hidden must be even when bidirectional"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "choose a command: train, predict, gradcheck"),
    (["fly"], "invalid choice: 'fly'"),
    (["gradcheck", "--op", "nope"], "no gradient case named 'nope'; known: "),
    (["predict"], "the following arguments are required: RUN_DIR, TOKEN"),
])
def test_errors_are_one_line_with_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be created, not even the default runs/ directory
    assert message in _error(argv, capsys)
    assert not (tmp_path / "runs").exists()


def test_run_directory_errors(run_dir, tmp_path, capsys):
    missing = str(tmp_path / "missing")
    assert f"run directory {missing} does not exist" in _error(["train", "--resume", missing], capsys)
    assert "is not a minatt run (no config.json or checkpoint.npz)" in _error(["train", "--resume", str(tmp_path)],
                                                                              capsys)
    assert "does not exist" in _error(["predict", missing, "1"], capsys)
    msg = _error(["train", "--resume", str(run_dir), "--hidden", "32", "--lr", "0.1"], capsys)
    assert "--hidden, --lr cannot change when resuming (--hidden: run has 16, you gave 32; --lr: run has 0.01" in msg
    msg = _error(["train", "--resume", str(run_dir), "--out", str(tmp_path / "x")], capsys)
    assert "--out cannot be combined with --resume" in msg
    msg = _error(["train", "--out", str(run_dir)], capsys)
    assert f"{run_dir} already holds a run: continue it with --resume {run_dir}" in msg
    msg = _error(["train", "--resume", str(run_dir)], capsys)
    assert "already trained 6 of --steps 6: pass a larger --steps" in msg


def test_predict_errors(run_dir, capsys):
    msg = _error(["predict", str(run_dir), "3", "x"], capsys)
    assert "unknown token 'x' at position 1 for task 'reverse'; valid tokens: 0 1 2 3 4 5 6 7 8 9" in msg
    msg = _error(["predict", str(run_dir), "3", "<eos>"], capsys)  # special tokens are not input
    assert "unknown token '<eos>' at position 1" in msg
    # the run trained on lengths 2..4: 4 x 4 = 16 tokens is the most predict accepts
    assert cli.main(["predict", str(run_dir), *["1"] * 16]) == 0
    _printed_tokens(capsys)
    msg = _error(["predict", str(run_dir), *["1"] * 17], capsys)
    assert ("the input has 17 tokens, more than this run's limit of 16 (4 x the longest training source, 4): "
            "shorten it, or train a run with a larger --max-len") in msg
    assert "argument --beam: must be a positive integer, got 0" in _error(["predict", str(run_dir), "1", "--beam", "0"],
                                                                           capsys)


def test_predict_run_directory_errors(run_dir, tmp_path, capsys):
    assert "is not a minatt run (no config.json or checkpoint.npz)" in _error(["predict", str(tmp_path), "1"],
                                                                              capsys)
    (tmp_path / "file").write_text("x")
    assert "is a file, not a run directory" in _error(["predict", str(tmp_path / "file"), "1"], capsys)


def test_damaged_run_files_are_one_line(run_dir, tmp_path, capsys):
    import json
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    text = (bad / "config.json").read_text()
    (bad / "config.json").write_text(text[: len(text) // 2])
    msg = _error(["predict", str(bad), "1"], capsys)
    assert f"config {bad / 'config.json'} is truncated or corrupted (invalid JSON at line" in msg
    doc = json.loads(text)
    doc["train"]["cell"] = "rnn"
    (bad / "config.json").write_text(json.dumps(doc))
    msg = _error(["train", "--resume", str(bad), "--steps", "9"], capsys)
    assert "has invalid settings: unknown cell 'rnn': choose one of lstm, gru" in msg
    doc["train"]["cell"], doc["train"]["hidden"] = "lstm", 32
    (bad / "config.json").write_text(json.dumps(doc))
    msg = _error(["predict", str(bad), "1"], capsys)
    assert "was written for a different model than config.json says (hidden: checkpoint 16, config 32)" in msg


def test_pickled_checkpoint_is_refused_by_the_cli(run_dir, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    evil = np.empty(1, dtype=object)
    evil[0] = {"payload": 1}
    with np.load(bad / "checkpoint.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez(bad / "checkpoint.npz", **{**arrays, "param/enc.embed.W": evil})
    msg = _error(["predict", str(bad), "1"], capsys)
    assert "refusing to load object arrays" in msg and "param/enc.embed.W" in msg


def test_refused_checkpoint_is_one_line(run_dir, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    data = (broken / "checkpoint.npz").read_bytes()
    (broken / "checkpoint.npz").write_bytes(data[: len(data) // 2])
    assert "truncated or corrupted" in _error(["predict", str(broken), "1", "2"], capsys)


def test_cupy_without_gpu_is_a_backend_error(tmp_path, capsys):
    from tests.conftest import GPU

    if GPU:
        pytest.skip("a GPU is present: --backend cupy works here")
    msg = _error(["train", *TINY, "--steps", "2", "--backend", "cupy", "--out", str(tmp_path / "r")], capsys)
    assert "cupy" in msg.lower() and "use --backend numpy" in msg
    assert not (tmp_path / "r").exists()


def test_cupy_without_gpu_or_without_cupy_for_predict(run_dir, capsys, monkeypatch):
    from minatt import backend

    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setitem(sys.modules, "cupy", None)  # as if CuPy were not installed
    msg = _error(["predict", str(run_dir), "1", "--backend", "cupy"], capsys)
    assert msg == ("minatt: error: backend 'cupy' needs CuPy, which is not installed: pip install 'minatt[gpu]' "
                   "(CuPy for CUDA 12), or use --backend numpy")
    monkeypatch.delitem(sys.modules, "cupy")
    cupy = pytest.importorskip("cupy")

    def no_driver():
        raise cupy.cuda.runtime.CUDARuntimeError(35)  # cudaErrorInsufficientDriver

    monkeypatch.setattr(cupy.cuda.runtime, "getDeviceCount", no_driver)
    msg = _error(["predict", str(run_dir), "1", "--backend", "cupy"], capsys)
    assert "CuPy is installed but no usable CUDA device or driver was found (" in msg
    assert "check `nvidia-smi`, or use --backend numpy" in msg


def test_ctrl_c_saves_and_exits_130(tmp_path):
    d = tmp_path / "r"
    proc = subprocess.Popen(
        [sys.executable, "-m", "minatt", "train", *TINY, "--steps", "100000", "--out", str(d), "--quiet"],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait for the first evaluation line
            line = proc.stdout.readline()
            if line.startswith("step 10/"):
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and f"resume with: python -m minatt train --resume {d}" in err
    assert "Traceback" not in err
    assert _step(d) >= 10


def test_ctrl_c_from_a_terminal_with_workers(tmp_path):
    """A terminal's Ctrl-C reaches the whole process group, the worker processes too: they
    ignore it, the trainer saves, and everything exits."""
    d = tmp_path / "r"
    proc = subprocess.Popen(
        [sys.executable, "-m", "minatt", "train", *TINY, "--steps", "100000", "--out", str(d), "--quiet",
         "--workers", "2"],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.stdout.readline().startswith("step 10/"):
                break
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume with" in err
    assert _step(d) >= 10


def test_python_dash_m_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "minatt", "train", "--hidden", "0"], cwd=tmp_path, env=ENV,
                          check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("minatt: error: argument --hidden: must be a positive integer, got 0 "
                                   "(see: minatt train --help)")


def test_bench_with_more_workers_than_cores_warns_and_runs(capsys, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    tiny = ["--batch", "4", "--src-len", "3", "--tgt-len", "3", "--embed", "4", "--hidden", "4", "--vocab", "8",
            "--steps", "1", "--warmup", "1"]
    assert cli.main(["bench", *tiny, "--workers", "2", "--json"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == ["minatt: warning: --workers 2 is more than the 1 CPU cores here: the processes will take "
                        "turns on them, so each step will be slower than with --workers 1"]


def test_predict_on_a_folder_of_other_files_does_not_suggest_training_into_it(tmp_path, capsys):
    (tmp_path / "chapter.md").write_text("# a lesson")
    msg = _error(["predict", str(tmp_path), "1"], capsys)
    assert "is not a minatt run" in msg and "--out" not in msg and "runs/latest" in msg


def test_predict_says_why_an_answer_is_empty(tmp_path, capsys):
    """An untrained run (step 0) whose model ends every answer at once: the empty line gets a reason."""
    d = tmp_path / "untrained"
    assert cli.main(["train", *TINY, "--steps", "1", "--out", str(d), "--quiet"]) == 0
    capsys.readouterr()
    params, optim, meta = ckpt.load_checkpoint(d / "checkpoint.npz")
    params["dec.out.b"][2] += 100.0   # EOS (id 2) first, whatever the input
    ckpt.save_checkpoint(d / "checkpoint.npz", params, optim, {**meta, "step": 0})
    assert cli.main(["predict", str(d), "3", "1", "4"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "\n"
    assert captured.err.strip() == (f"minatt: warning: the answer is empty: {d} is untrained (its checkpoint is at "
                                    f"step 0); train it with: python -m minatt train --resume {d}")


