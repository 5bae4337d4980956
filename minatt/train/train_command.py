"""The ``train`` and ``predict`` commands of ``python -m minatt`` (registered by :mod:`minatt.cli`).

``add_parser(subparsers)`` adds both; their handlers turn the flags into a
:class:`~minatt.train.config.TrainConfig` (a settings error names the flag, ``--max-len``,
not the field), run the :class:`~minatt.train.loop.Trainer`, and print what
:mod:`minatt.train.report` says.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from minatt.argtypes import (
    NO_TARGET,
    Formatter,
    choice,
    fraction,
    fraction_below_one,
    nonempty,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
    target_value,
    warn_if_more_than_cores,
    workers_count,
)
from minatt.backend import BACKENDS, default_dtype, use
from minatt.errors import ConfigError
from minatt.tasks import TASKS
from minatt.tools.runtime import blas_threads
from minatt.train.config import CELLS, DECODERS, ENCODERS, OPTIMIZERS, SCORES, SETTINGS, TrainConfig, build_task, resume_changes
from minatt.train.loop import Trainer
from minatt.train.memory_warning import memory_warning
from minatt.train.parallel import auto_workers
from minatt.train.prediction import empty_answer, predict
from minatt.train.report import print_start, print_summary
from minatt.train.rundir import (
    LATEST,
    default_run_dir,
    link_latest,
    load_run,
    read_run_config,
)

__all__ = ["add_parser", "add_predict_parser", "add_train_parser", "run_predict", "run_train"]


def add_parser(subparsers: Any) -> None:
    """Register ``train`` and ``predict`` on an argparse subparsers object."""
    add_train_parser(subparsers)
    add_predict_parser(subparsers)


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``train``: train a model on a toy task and write a run directory."""
    d = argparse.Namespace(**TrainConfig().to_dict())  # every default by name, the model's among them
    p = subparsers.add_parser(
        "train",
        help="train a seq2seq model with attention on a toy task",
        description=(
            "Train an encoder-decoder with attention on a toy task and write a run directory:\n"
            "config.json, checkpoint.npz, metrics.json, curves.png, attention.png.\n\n"
            f"With no arguments: the '{d.task}' task, lengths {d.min_len}..{d.max_len}, on NumPy. Training stops once\n"
            f"--patience ({d.patience}) evaluations in a row (one every --eval-every = {d.eval_every} steps) have a\n"
            f"held-out sequence accuracy >= --target ({d.target}), or after --steps ({d.steps}).\n"
            "--target none trains all --steps.\n\n"
            "examples:\n"
            "  python -m minatt train\n"
            "  python -m minatt train --task dates --cell gru --score general --decoder luong\n"
            "  python -m minatt train --resume runs/reverse-20250101-120000 --steps 5000"
        ),
        formatter_class=Formatter,
    )
    g = p.add_argument_group("task")
    g.add_argument("--task", type=choice(TASKS, "task"), metavar="NAME",
                   help=f"{', '.join(TASKS)} (default: {d.task})")
    g.add_argument("--min-len", type=positive_int, metavar="N",
                   help=f"shortest training sequence (default: {d.min_len}; ignored by dates)")
    g.add_argument("--max-len", type=positive_int, metavar="N",
                   help=f"longest training sequence (default: {d.max_len}; ignored by dates)")
    g = p.add_argument_group("model")
    g.add_argument("--cell", type=choice(CELLS, "cell"), metavar="NAME",
                   help=f"recurrent cell: {', '.join(CELLS)} (default: {d.cell})")
    g.add_argument("--score", type=choice(SCORES, "score"), metavar="NAME",
                   help=f"attention score: {', '.join(SCORES)} (default: {d.score})")
    g.add_argument("--decoder", type=choice(DECODERS, "decoder"), metavar="NAME",
                   help=f"decoder style: {', '.join(DECODERS)} (default: {d.decoder})")
    g.add_argument("--encoder", type=choice(ENCODERS, "encoder"), metavar="NAME",
                   help=f"{', '.join(ENCODERS)}: the recurrent --cell, or Transformer layers (default: {d.encoder})")
    g.add_argument("--layers", type=positive_int, metavar="N",
                   help=f"with --encoder transformer: encoder layers (default: {d.layers})")
    g.add_argument("--heads", type=positive_int, metavar="N",
                   help=f"with --encoder transformer: attention heads, dividing --hidden (default: {d.heads})")
    g.add_argument("--ff", type=positive_int, metavar="N",
                   help="with --encoder transformer: feed-forward size (default: 4 * --hidden)")
    g.add_argument("--bidirectional", action="store_true", default=None,
                   help="bidirectional encoder (default: off)")
    g.add_argument("--no-input-feeding", dest="input_feeding", action="store_false", default=None,
                   help="Luong decoder without input feeding (default: input feeding on)")
    g.add_argument("--embed", type=positive_int, metavar="N", help=f"embedding size (default: {d.embed})")
    g.add_argument("--hidden", type=positive_int, metavar="N", help=f"hidden size (default: {d.hidden})")
    g.add_argument("--attn-dim", type=positive_int, metavar="N",
                   help="attention size for additive/concat scores (default: --hidden)")
    g = p.add_argument_group("optimisation")
    g.add_argument("--steps", type=positive_int, metavar="N",
                   help=f"the most updates to train (default: {d.steps})")
    g.add_argument("--batch", type=positive_int, metavar="N", help=f"batch size (default: {d.batch})")
    g.add_argument("--lr", type=positive_float, metavar="LR", help=f"peak learning rate (default: {d.lr})")
    g.add_argument("--optimizer", type=choice(OPTIMIZERS, "optimizer"), metavar="NAME",
                   help=f"{', '.join(OPTIMIZERS)} (default: {d.optimizer})")
    g.add_argument("--momentum", type=fraction_below_one, metavar="M",
                   help=f"SGD momentum in [0, 1) (default: {d.momentum})")
    g.add_argument("--clip", type=nonneg_float, metavar="NORM",
                   help=f"clip the global gradient norm to NORM; 0 = off (default: {d.clip})")
    g.add_argument("--warmup", type=nonneg_int, metavar="N",
                   help=f"linear learning-rate warm-up steps (default: {d.warmup})")
    g.add_argument("--decay-to", type=fraction, metavar="F",
                   help=f"cosine-decay the learning rate to F * lr at --steps; 1 = no decay (default: {d.decay_to})")
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=nonneg_int, metavar="N", help=f"seeds the weights and the data (default: {d.seed})")
    g.add_argument("--backend", type=choice(BACKENDS, "backend"), metavar="NAME",
                   help=f"{', '.join(BACKENDS)} (default: {d.backend})")
    g.add_argument("--eval-every", type=positive_int, metavar="N",
                   help=f"evaluate, checkpoint and check --target every N steps (default: {d.eval_every})")
    g.add_argument("--test-size", type=positive_int, metavar="N",
                   help=f"held-out examples per evaluation (default: {d.test_size})")
    g.add_argument("--eval-size", type=positive_int, metavar="N",
                   help="examples in the final held-out test, and as many again spread over the lengths of the "
                        "per-length table (at most 16 lengths); smaller is faster (default: --test-size)")
    g.add_argument("--target", type=target_value, metavar="ACC",
                   help=f"stop once held-out sequence accuracy >= ACC; 'none' = never; on denoise, by default, "
                        f"{d.target} of the best any model can expect (default: {d.target})")
    g.add_argument("--patience", type=positive_int, metavar="N",
                   help=f"stop when N evaluations in a row reach --target (default: {d.patience})")
    g.add_argument("--out", type=nonempty, metavar="RUN_DIR", help="run directory to create (default: runs/<task>-<timestamp>)")
    g.add_argument("--resume", type=nonempty, metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its checkpoint (the original command line is accepted; "
                        "it may change only --steps, --target, "
                        "--patience, --eval-every, --test-size, --eval-size, --backend)")
    g.add_argument("--threads", type=positive_int, default=1, metavar="N",
                   help="BLAS threads for NumPy (default: 1, the fastest for these small matrices, and safe "
                        "on busy cores)")
    g.add_argument("--workers", type=workers_count, default=1, metavar="N",
                   help="split every batch over N processes, one per core (NumPy only; the same gradients "
                        "up to float rounding; 'auto': min(cores, batch / 32); default: 1)")
    g.add_argument("--quiet", action="store_true",
                   help="plain log lines instead of a progress bar (the default when stderr is not a terminal)")
    p.set_defaults(func=run_train)
    return p


_RUN_FLAGS = ("out", "resume", "quiet", "threads", "workers", "func", "command")


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings given on the command line (argparse leaves the others None)."""
    return {k: v for k, v in vars(args).items() if k not in _RUN_FLAGS and v is not None}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _in_flags(message: str) -> str:
    """A settings error as a command-line user reads it: ``decay_to must ...`` -> ``--decay-to must ...``,
    ``max_len=1`` -> ``--max-len 1``. The library's messages name the TrainConfig fields."""
    names = "|".join(sorted(SETTINGS, key=len, reverse=True))
    message = re.sub(rf"\b({names})=", lambda m: _flag(m.group(1)) + " ", message)
    return re.sub(rf"\b({names}) (?=must |<= |>= )", lambda m: _flag(m.group(1)) + " ", message)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``train``: validate, build, train, report; 130 after a Ctrl-C."""
    try:
        return _run_train(args)
    except ConfigError as exc:
        raise ConfigError(_in_flags(str(exc))) from None


def _run_train(args: argparse.Namespace) -> int:
    given = _given(args)
    if given.get("target") == NO_TARGET:
        given["target"] = None
    if args.resume:
        if args.out:
            raise ConfigError("--out cannot be combined with --resume: a resumed run stays in its directory")
        config, _ = read_run_config(args.resume)
        given = resume_changes(config, given, name=_flag)
        backend, dtype = given.get("backend", config.backend), config.dtype
    else:
        config = TrainConfig(**given)
        if config.task != "dates" and config.min_len > config.max_len:
            raise ConfigError(f"--min-len {config.min_len} is greater than --max-len {config.max_len}")
        config.validate()
        if "target" not in given and config.target is not None:   # denoise: a share of what any model can reach
            task = build_task(config)
            reachable = task.reachable_target(config.target, task.test_set(config.test_size, seed=config.seed + 1))
            if reachable != config.target:
                print(f"minatt: no model can expect more than {reachable / config.target:.3f} held-out sequence "
                      f"accuracy on {config.task}: --target is {config.target} of that, {reachable}")
                config = config.replace(target=reachable)
        backend, dtype = config.backend, config.dtype
    if args.workers == "auto":  # gpu helper: one worker per core, at least 32 rows each (NumPy only)
        args.workers = auto_workers(config.batch) if backend == "numpy" else 1
    warn_if_more_than_cores("--workers", args.workers)
    progress = "log" if args.quiet or not sys.stderr.isatty() else "bar"  # no bar in logs and pipes
    with use(backend), default_dtype(dtype), blas_threads(args.threads):
        if args.resume:
            trainer = Trainer.open(args.resume, **given)
            verb = f"resuming {trainer.run_dir} at step {trainer.step}"
        else:
            run_dir = Path(args.out) if args.out else default_run_dir(config.task)
            if args.out and run_dir.is_dir() and any(run_dir.iterdir()) and not (run_dir / "config.json").exists():
                raise ConfigError(f"--out {run_dir} already holds other files and is not a run: "
                                  "give a new or empty folder")
            trainer = Trainer.create(config, run_dir)
            if not args.out:
                link_latest(run_dir)
            verb = f"training into {trainer.run_dir}"
        print_start(trainer, verb)
        too_much = memory_warning(trainer)
        if too_much:
            print(f"minatt: warning: {too_much}", file=sys.stderr)
        result = trainer.run(progress=progress, workers=args.workers)
    if result.interrupted:
        print(
            f"minatt: interrupted; checkpoint at step {result.step} is in {result.run_dir / 'checkpoint.npz'}; "
            f"resume with: python -m minatt train --resume {result.run_dir}",
            file=sys.stderr,
        )
        return 130
    print_summary(trainer, result)
    return 0


def add_predict_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``predict``: decode one input with a trained run."""
    p = subparsers.add_parser(
        "predict",
        help="decode one input with a trained run",
        description=(
            "Decode one source sequence with the model in RUN_DIR and print the output. Sources longer\n"
            "than 4 x the run's longest training source are refused (minatt.train.LENGTH_FACTOR).\n\n"
            "examples:\n"
            "  python -m minatt predict runs/reverse-20250101-120000 3 1 4 1 5\n"
            "  python -m minatt predict runs/dates-20250101-120000 \"tuesday, november 24, 2026\" --plot att.png"
        ),
        formatter_class=Formatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by `python -m minatt train`")
    p.add_argument("tokens", nargs="+", metavar="TOKEN",
                   help="the source: tokens separated by spaces, or one quoted string (dates)")
    p.add_argument("--beam", type=positive_int, metavar="K", default=1,
                   help="beam search with K beams; 1 = greedy (default: 1)")
    p.add_argument("--plot", type=nonempty, metavar="FILE.png", help="save the attention heatmap to FILE.png")
    p.add_argument("--backend", type=choice(BACKENDS, "backend"), metavar="NAME",
                   help="numpy or cupy (default: the run's backend)")
    p.set_defaults(func=run_predict)
    return p


def _one_run_dir(args: argparse.Namespace) -> None:
    """Refuse ``predict runs/reverse-* 3 1 4`` when the pattern matched several runs (they precede the tokens)."""
    dirs = [args.run_dir]
    for token in args.tokens:
        if not Path(token).is_dir():
            break
        dirs.append(token)
    if len(dirs) > 1:
        newest = Path(dirs[0]).parent / LATEST
        hint = f", e.g. {newest} (the newest run)" if newest.is_dir() else ""
        raise ConfigError(f"{len(dirs)} run directories given ({', '.join(dirs)}): pass one{hint}")


def run_predict(args: argparse.Namespace) -> int:
    """Handler of ``predict``: load the run, decode, print, optionally plot the attention."""
    _one_run_dir(args)
    config, _ = read_run_config(args.run_dir)
    if args.plot:
        plot = Path(args.plot)
        if plot.suffix.lower() != ".png":
            raise ConfigError(f"--plot {plot}: the heatmap is a PNG, so the file name must end in .png")
        if plot.is_dir():
            raise ConfigError(f"--plot {plot} is a directory: give a file name ending in .png")
        if not plot.parent.is_dir():
            raise ConfigError(f"--plot {plot}: the directory {plot.parent} does not exist: create it first, "
                              "or give a path in an existing directory")
    with use(args.backend or config.backend), default_dtype(config.dtype), blas_threads(1):
        config, task, model, meta = load_run(args.run_dir)
        pred = predict(task, model, " ".join(args.tokens), beam=args.beam)
    print(pred.text)
    if not pred.text:
        print(f"minatt: warning: {empty_answer(args.run_dir, meta.get('step'))}", file=sys.stderr)
    if pred.unfamiliar:
        print(f"minatt: warning: the input is outside the training distribution: {pred.unfamiliar}; "
              "the answer may be wrong", file=sys.stderr)
    if args.plot:
        from minatt.tools.plot import save_attention

        title = pred.title() if config.model.score != "none" else "no attention (score='none')"
        try:
            save_attention(args.plot, pred.attention, pred.src_tokens, pred.out_tokens, title=title)
        except OSError as exc:
            raise ConfigError(f"cannot write --plot {args.plot}: {exc.strerror or exc}") from None
        print(f"minatt: attention heatmap saved to {args.plot}", file=sys.stderr)
    return 0
