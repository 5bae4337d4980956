"""minatt.experiments.experiment_command: ``python -m minatt experiment NAME``: one-line errors, where results go,
``--redraw``."""

from __future__ import annotations

import argparse

from minatt import experiments as experiment
from tests.experiment_files import PNG


def test_bad_seeds_are_one_line_and_exit_2(capsys):
    assert experiment.main(["lengths", "--small", "--seeds", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--seeds" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_full_runs_write_under_runs_not_over_the_committed_figures(tmp_path, monkeypatch):
    from minatt.experiments import experiment_command as command

    seen = []
    monkeypatch.setattr(command, "run_lengths", lambda cfg, out, cmd: seen.append(out) or {"seconds": 0})
    monkeypatch.chdir(tmp_path)
    assert experiment.main(["lengths"]) == 0
    assert experiment.main(["lengths", "--small"]) == 0
    assert experiment.main(["lengths", "--out", "lessons/figures"]) == 0
    assert [str(p) for p in seen] == ["runs/experiment", "runs/experiment-small", "lessons/figures"]


def test_unknown_variant_is_a_one_line_error(tmp_path, capsys):
    code = experiment.main(["lengths", "--small", "--out", str(tmp_path), "--variants", "none", "luong"])
    assert code == 2
    assert "unknown variant(s) luong" in capsys.readouterr().err


def test_add_parser_registers_the_subcommand():
    parser = argparse.ArgumentParser()
    experiment.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["experiment", "cost", "--small", "--repeats", "3"])
    assert args.func is experiment.run and args.name == "cost" and args.small and args.repeats == 3


def test_without_matplotlib_the_json_is_written_and_redraw_draws_it_later(tmp_path, monkeypatch, capsys):
    import sys
    from dataclasses import replace

    from minatt.experiments.pretrain import SMALL_PRETRAIN, run_pretrain

    for name in ("minatt.tools.plot", "matplotlib.backends.backend_agg", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)  # an import of any of them now fails
    cfg = replace(SMALL_PRETRAIN, pretrain_steps=5, steps=5, test_size=10, embed=8, hidden=8, workers=1)
    run_pretrain(cfg, tmp_path, "cmd", log=lambda line: None)
    assert (tmp_path / "10_pretrain.json").exists() and not (tmp_path / "10_pretrain.png").exists()
    monkeypatch.undo()
    assert experiment.main(["pretrain", "--redraw", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "10_pretrain.png").read_bytes()[:8] == PNG
    assert experiment.main(["lengths", "--redraw", "--out", str(tmp_path)]) == 2  # nothing there to draw
    assert "10_lengths.json does not exist" in capsys.readouterr().err
