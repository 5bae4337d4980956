"""The command line: ``python -m minatt train | predict | gradcheck | ...``.

Each subcommand is a function ``add_parser(subparsers)`` that adds its parser and sets
``func=handler`` (``handler(args) -> exit status``). Adding a command is one line in
:data:`COMMANDS` (for a function here) or :data:`COMMAND_MODULES` (for a module elsewhere that
exposes ``add_parser``).

Errors a user can cause -- a bad flag, an unknown name, a missing run, a refused checkpoint,
a missing GPU -- print one line ``minatt: error: ...`` on stderr and exit with status 2,
without a traceback. A Ctrl-C during training saves a checkpoint and exits with status 130.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from minatt.errors import ConfigError, MinattError

__all__ = ["COMMANDS", "COMMAND_MODULES", "MinattParser", "UsageError", "build_parser", "main"]


class UsageError(MinattError):
    """A command line argparse refused (unknown flag, bad value, missing argument)."""


class MinattParser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: {self.prog} --help)")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks; the help strings state their own defaults."""


# ---------------------------------------------------------------------------------------
# Argument types: checked while parsing, before anything is built.


def positive_int(text: str) -> int:
    """An integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def nonneg_int(text: str) -> int:
    """An integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def nonneg_float(text: str) -> float:
    """A finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


NO_TARGET = "none"


def target_value(text: str) -> float | str:
    """A target accuracy in (0, 1], or :data:`NO_TARGET` for ``none``/``off`` (train all --steps)."""
    if text.strip().lower() in ("none", "off"):
        return NO_TARGET
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1] or 'none', got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1] or 'none', got {text}")
    return value


def _choice(valid: Sequence[str], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        key = text.strip().lower()
        if key not in valid:
            raise argparse.ArgumentTypeError(f"unknown {what} {text!r}: choose one of {', '.join(valid)}")
        return key

    parse.__name__ = what
    return parse


# ---------------------------------------------------------------------------------------
# train


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``train``: train a model on a toy task and write a run directory."""
    from minatt.backend import BACKENDS
    from minatt.tasks import TASKS
    from minatt.train import CELLS, DECODERS, OPTIMIZERS, SCORES, TrainConfig

    d = TrainConfig()
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
        formatter_class=_Formatter,
    )
    g = p.add_argument_group("task")
    g.add_argument("--task", type=_choice(TASKS, "task"), metavar="NAME",
                   help=f"{', '.join(TASKS)} (default: {d.task})")
    g.add_argument("--min-len", type=positive_int, metavar="N",
                   help=f"shortest training sequence (default: {d.min_len}; ignored by dates)")
    g.add_argument("--max-len", type=positive_int, metavar="N",
                   help=f"longest training sequence (default: {d.max_len}; ignored by dates)")
    g = p.add_argument_group("model")
    g.add_argument("--cell", type=_choice(CELLS, "cell"), metavar="NAME",
                   help=f"recurrent cell: {', '.join(CELLS)} (default: {d.cell})")
    g.add_argument("--score", type=_choice(SCORES, "score"), metavar="NAME",
                   help=f"attention score: {', '.join(SCORES)} (default: {d.score})")
    g.add_argument("--decoder", type=_choice(DECODERS, "decoder"), metavar="NAME",
                   help=f"decoder style: {', '.join(DECODERS)} (default: {d.decoder})")
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
    g.add_argument("--optimizer", type=_choice(OPTIMIZERS, "optimizer"), metavar="NAME",
                   help=f"{', '.join(OPTIMIZERS)} (default: {d.optimizer})")
    g.add_argument("--momentum", type=nonneg_float, metavar="M",
                   help=f"SGD momentum in [0, 1) (default: {d.momentum})")
    g.add_argument("--clip", type=nonneg_float, metavar="NORM",
                   help=f"clip the global gradient norm to NORM; 0 = off (default: {d.clip})")
    g.add_argument("--warmup", type=nonneg_int, metavar="N",
                   help=f"linear learning-rate warm-up steps (default: {d.warmup})")
    g.add_argument("--decay-to", type=nonneg_float, metavar="F",
                   help=f"cosine-decay the learning rate to F * lr at --steps; 1 = no decay (default: {d.decay_to})")
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=int, metavar="N", help=f"seeds the weights and the data (default: {d.seed})")
    g.add_argument("--backend", type=_choice(BACKENDS, "backend"), metavar="NAME",
                   help=f"{', '.join(BACKENDS)} (default: {d.backend})")
    g.add_argument("--eval-every", type=positive_int, metavar="N",
                   help=f"evaluate, checkpoint and check --target every N steps (default: {d.eval_every})")
    g.add_argument("--test-size", type=positive_int, metavar="N",
                   help=f"held-out examples per evaluation (default: {d.test_size})")
    g.add_argument("--target", type=target_value, metavar="ACC",
                   help=f"stop once held-out sequence accuracy >= ACC; 'none' = never (default: {d.target})")
    g.add_argument("--patience", type=positive_int, metavar="N",
                   help=f"stop when N evaluations in a row reach --target (default: {d.patience})")
    g.add_argument("--out", metavar="RUN_DIR", help="run directory to create (default: runs/<task>-<timestamp>)")
    g.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its checkpoint (may change only --steps, --target, "
                        "--patience, --eval-every, --test-size, --backend)")
    g.add_argument("--threads", type=positive_int, default=1, metavar="N",
                   help="BLAS threads for NumPy (default: 1, the fastest for these small matrices, and safe "
                        "on busy cores)")
    g.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="split every batch over N processes, one per core (NumPy only; the same gradients "
                        "up to float rounding; default: 1)")
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
    from minatt.train import TrainConfig

    names = "|".join(sorted((f.name for f in dataclasses.fields(TrainConfig)), key=len, reverse=True))
    message = re.sub(rf"\b({names})=", lambda m: _flag(m.group(1)) + " ", message)
    return re.sub(rf"\b({names}) (?=must |<= |>= )", lambda m: _flag(m.group(1)) + " ", message)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``train``: validate, build, train, report; 130 after a Ctrl-C."""
    try:
        return _run_train(args)
    except ConfigError as exc:
        raise ConfigError(_in_flags(str(exc))) from None


def _run_train(args: argparse.Namespace) -> int:
    from minatt.backend import default_dtype, use
    from minatt.train import RESUMABLE, TrainConfig, Trainer, blas_threads, default_run_dir

    given = _given(args)
    if given.get("target") == NO_TARGET:
        given["target"] = None
    if args.resume:
        if args.out:
            raise ConfigError("--out cannot be combined with --resume: a resumed run stays in its directory")
        fixed = [_flag(k) for k in given if k not in RESUMABLE]
        if fixed:
            raise ConfigError(
                f"{', '.join(fixed)} cannot change when resuming (the run's config.json fixes it); "
                f"resuming may change only {', '.join(_flag(k) for k in RESUMABLE)}"
            )
        from minatt.train import read_run_config

        config, _ = read_run_config(args.resume)
        backend, dtype = given.get("backend", config.backend), config.dtype
    else:
        config = TrainConfig(**given)
        if config.task != "dates" and config.min_len > config.max_len:
            raise ConfigError(f"--min-len {config.min_len} is greater than --max-len {config.max_len}")
        config.validate()
        backend, dtype = config.backend, config.dtype
    progress = "log" if args.quiet or not sys.stderr.isatty() else "bar"  # no bar in logs and pipes
    with use(backend), default_dtype(dtype), blas_threads(args.threads):
        if args.resume:
            trainer = Trainer.open(args.resume, **given)
            verb = f"resuming {trainer.run_dir} at step {trainer.step}"
        else:
            run_dir = Path(args.out) if args.out else default_run_dir(config.task)
            trainer = Trainer.create(config, run_dir)
            verb = f"training into {trainer.run_dir}"
        _print_header(trainer, verb)
        result = trainer.run(progress=progress, workers=args.workers)
    if result.interrupted:
        print(
            f"minatt: interrupted; checkpoint at step {result.step} is in {result.run_dir / 'checkpoint.npz'}; "
            f"resume with: python -m minatt train --resume {result.run_dir}",
            file=sys.stderr,
        )
        return 130
    _print_summary(trainer, result)
    return 0


def _print_header(trainer: Any, verb: str) -> None:
    cfg = trainer.config
    n_params = sum(int(p.size) for p in trainer.model.params.values())
    lengths = "" if cfg.task == "dates" else f", lengths {cfg.min_len}..{cfg.max_len}"
    attention = "no attention" if cfg.score == "none" else f"{cfg.score} attention"
    print(
        f"minatt: {verb}: task {cfg.task}{lengths}; {cfg.cell}{' (bidirectional)' if cfg.bidirectional else ''} "
        f"{cfg.decoder} decoder, {attention}; {n_params:,} parameters; {cfg.optimizer} lr {cfg.lr}, "
        f"batch {cfg.batch}, up to {cfg.steps} steps on {cfg.backend}",
        flush=True,
    )


def _print_summary(trainer: Any, result: Any) -> None:
    m, cfg = result.metrics, trainer.config
    test = m.get("test", {})
    reached = {"target reached": f"reached the target {cfg.target}", "done": "finished all steps"}[result.status]
    reached += f" at step {result.step} in {result.seconds:.1f} s"
    if result.status == "done" and cfg.target is not None:
        reached += f" without reaching the target {cfg.target}"
    print(
        f"minatt: {reached}; held-out test: sequence accuracy "
        f"{test.get('sequence_accuracy', float('nan')):.4f}, token accuracy {test.get('token_accuracy', float('nan')):.4f} "
        f"({test.get('n', 0)} examples)"
    )
    longer = [r for r in m.get("by_length", []) if not r["trained"]]
    if longer:
        acc = ", ".join(f"{r['length']}: {r['sequence_accuracy']:.2f}" for r in longer)
        print(f"minatt: sequence accuracy on lengths longer than training: {acc}")
    print(f"minatt: run files in {result.run_dir}; try: python -m minatt predict {result.run_dir} {_example(trainer)}")


def _example(trainer: Any) -> str:
    task = trainer.task
    if task.name == "dates":
        return '"november 24, 2026"'
    return " ".join(task.src_vocab.symbols[i % len(task.src_vocab.symbols)] for i in (3, 1, 4, 1, 5))


# ---------------------------------------------------------------------------------------
# predict


def add_predict_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``predict``: decode one input with a trained run."""
    from minatt.backend import BACKENDS

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
        formatter_class=_Formatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by `python -m minatt train`")
    p.add_argument("tokens", nargs="+", metavar="TOKEN",
                   help="the source: tokens separated by spaces, or one quoted string (dates)")
    p.add_argument("--beam", type=positive_int, metavar="K", default=1,
                   help="beam search with K beams; 1 = greedy (default: 1)")
    p.add_argument("--plot", metavar="FILE.png", help="save the attention heatmap to FILE.png")
    p.add_argument("--backend", type=_choice(BACKENDS, "backend"), metavar="NAME",
                   help="numpy or cupy (default: the run's backend)")
    p.set_defaults(func=run_predict)
    return p


def run_predict(args: argparse.Namespace) -> int:
    """Handler of ``predict``: load the run, decode, print, optionally plot the attention."""
    from minatt.backend import default_dtype, use
    from minatt.train import blas_threads, load_run, predict, read_run_config

    config, _ = read_run_config(args.run_dir)
    if args.plot:
        plot = Path(args.plot)
        if plot.suffix.lower() != ".png":
            raise ConfigError(f"--plot {plot}: the heatmap is a PNG, so the file name must end in .png")
        if plot.is_dir():
            raise ConfigError(f"--plot {plot} is a directory: give a file name ending in .png")
    with use(args.backend or config.backend), default_dtype(config.dtype), blas_threads(1):
        config, task, model, _ = load_run(args.run_dir)
        pred = predict(task, model, " ".join(args.tokens), beam=args.beam)
    print(pred.text)
    if args.plot:
        from minatt.plot import save_attention

        title = pred.title() if config.score != "none" else "no attention (score='none')"
        try:
            save_attention(args.plot, pred.attention, pred.src_tokens, pred.out_tokens, title=title)
        except OSError as exc:
            raise ConfigError(f"cannot write --plot {args.plot}: {exc.strerror or exc}") from None
        print(f"minatt: attention heatmap saved to {args.plot}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------
# gradcheck


def add_gradcheck_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``gradcheck``: check every hand-written backward pass against finite differences."""
    from minatt.backend import BACKENDS
    from minatt.train import CELLS, DECODERS, SCORES

    p = subparsers.add_parser(
        "gradcheck",
        help="check every backward pass against finite differences",
        description=(
            "Run every registered op gradient check (float64, centred differences) and print a table;\n"
            "exit status 1 if any check fails. --model also checks whole models (every combination\n"
            "of cell, score, decoder, ...; narrowed by --cell/--score/--decoder/--bidirectional).\n\n"
            "examples:\n"
            "  python -m minatt gradcheck\n"
            "  python -m minatt gradcheck --op affine --op lstm\n"
            "  python -m minatt gradcheck --model --cell gru --score dot"
        ),
        formatter_class=_Formatter,
    )
    p.add_argument("--op", action="append", metavar="NAME",
                   help="check only this registered case (repeatable; default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the registered cases and exit")
    p.add_argument("--model", action="store_true", help="also check whole models (minatt.checks.model)")
    p.add_argument("--model-only", action="store_true", help="check whole models only, no op cases")
    p.add_argument("--cell", type=_choice(CELLS, "cell"), metavar="NAME", help=f"with --model: only {'/'.join(CELLS)}")
    p.add_argument("--score", type=_choice(SCORES, "score"), metavar="NAME", help="with --model: only this score")
    p.add_argument("--decoder", type=_choice(DECODERS, "decoder"), metavar="NAME",
                   help="with --model: only this decoder")
    p.add_argument("--bidirectional", choices=("yes", "no"), help="with --model: only (uni|bi)directional encoders")
    p.add_argument("--no-input-feeding", action="store_true",
                   help="with --model: Luong decoders without input feeding")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the random inputs (default: 0)")
    p.add_argument("--backend", type=_choice(BACKENDS, "backend"), metavar="NAME", default="numpy",
                   help=f"{', '.join(BACKENDS)} (default: numpy)")
    p.set_defaults(func=run_gradcheck)
    return p


def run_gradcheck(args: argparse.Namespace) -> int:
    """Handler of ``gradcheck``: 0 if every check passes, 1 otherwise."""
    from minatt.backend import use
    from minatt.gradcheck import format_table, registry, run_case
    from minatt.train import blas_threads

    if not (args.model or args.model_only or args.list):
        filters = [flag for flag, value in (("--cell", args.cell), ("--score", args.score), ("--decoder", args.decoder),
                                            ("--bidirectional", args.bidirectional),
                                            ("--no-input-feeding", args.no_input_feeding or None))
                   if value is not None]
        if filters:
            verb = "narrows" if len(filters) == 1 else "narrow"
            raise ConfigError(f"{', '.join(filters)} {verb} the whole-model checks: add --model (or --model-only)")
    with use(args.backend), blas_threads(1):
        cases = registry()
        if args.list:
            print("\n".join(cases))
            return 0
        names: list[str] = []
        if not args.model_only:
            names = list(cases)
            if args.op:
                unknown = [n for n in args.op if n not in cases]
                if unknown:
                    raise ConfigError(
                        f"no gradient case named {', '.join(map(repr, unknown))}; known: {', '.join(cases)}"
                    )
                names = [n for n in cases if n in args.op]
        results = []
        for name in names:
            results.extend(run_case(name, seed=args.seed))
        if args.model or args.model_only:
            results.extend(_model_results(args))
    if not results:
        raise ConfigError("nothing to check: the filters match no case")
    print(format_table(results))
    failed = [r for r in results if not r.passed]
    checked = len({r.op for r in results})
    if failed:
        print(f"minatt: {len(failed)} of {len(results)} gradient checks FAILED (in {len({r.op for r in failed})} "
              f"of {checked} cases)", file=sys.stderr)
        return 1
    cases_word = "case" if checked == 1 else "cases"
    print(f"minatt: all {len(results)} gradient checks passed ({checked} {cases_word}, seed {args.seed}, "
          f"{args.backend})")
    return 0


def _model_results(args: argparse.Namespace) -> list[Any]:
    """Gradient checks of whole models over minatt.checks.model.COMBOS, filtered by the flags."""
    from minatt.checks import model as model_checks
    from minatt.seq2seq import SCORE_ALIASES

    wanted = {"cell": args.cell, "score": SCORE_ALIASES.get(args.score, args.score), "decoder": args.decoder,
              "bidirectional": None if args.bidirectional is None else args.bidirectional == "yes"}
    keys = ("cell", "score", "decoder", "bidirectional")  # the order of a COMBOS tuple
    chosen = [c for c in model_checks.COMBOS
              if all(wanted[k] is None or v == wanted[k] for k, v in zip(keys, c))]
    if not chosen:
        given = ", ".join(f"{k}={v}" for k, v in wanted.items() if v is not None)
        raise ConfigError(f"no model combination has {given}")
    options = {"input_feeding": False} if args.no_input_feeding else None
    results = []
    for combo in chosen:
        results.extend(model_checks.check_model(combo, seed=args.seed, options=options))
    return results


# ---------------------------------------------------------------------------------------
# The parser and main


#: Subcommands defined here, in the order ``--help`` lists them.
COMMANDS: list[Callable[[Any], argparse.ArgumentParser]] = [add_train_parser, add_predict_parser, add_gradcheck_parser]

#: Modules elsewhere that each expose ``add_parser(subparsers)``: add one line to add a command.
COMMAND_MODULES: list[str] = ["minatt.exercise", "minatt.bench", "minatt.experiment"]


def build_parser() -> MinattParser:
    """The ``minatt`` parser with every subcommand."""
    parser = MinattParser(
        prog="minatt",
        description="Attention-based seq2seq from scratch in NumPy/CuPy: every backward written by hand and checked.",
        epilog="Run `python -m minatt COMMAND --help` for a command's options.",
    )
    from minatt import __version__

    parser.add_argument("--version", action="version", version=f"minatt {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=MinattParser)
    for add in COMMANDS:
        add(subparsers)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_parser(subparsers)
    parser.command_names = list(subparsers.choices)
    return parser


_TRAINING_COMMANDS = ("train", "experiment")  # (bench calls it itself: its memory runs are fresh processes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a check failed, 2 an error, 130 Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        try:
            args, extras = parser.parse_known_args(argv)
        except SystemExit as exc:  # --help and --version exit through argparse
            return int(exc.code or 0)
        if extras:  # name the subcommand's --help, not the top-level one
            prog = f"minatt {args.command}" if args.command else "minatt"
            raise UsageError(f"unrecognized arguments: {' '.join(extras)} (see: {prog} --help)")
        if args.command is None:
            raise UsageError(f"choose a command: {', '.join(parser.command_names)} (see: minatt --help)")
        if args.command in _TRAINING_COMMANDS:
            from minatt.runtime import tune_malloc

            tune_malloc()  # keep the step's freed memory for the next step (see minatt.runtime)
        return int(args.func(args) or 0)
    except MinattError as exc:
        message = " ".join(str(exc).split())
        print(f"minatt: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # the disk, not minatt: full, read-only, permissions
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"minatt: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minatt: interrupted", file=sys.stderr)
        return 130
