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
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from minatt.argtypes import Formatter, MinattParser, UsageError, choice, nonempty, nonneg_int, run_command_line
from minatt.errors import ConfigError

__all__ = ["COMMANDS", "COMMAND_MODULES", "MinattParser", "UsageError", "build_parser", "main"]


def add_train_commands(subparsers: Any) -> None:
    """``train`` and ``predict``: defined beside the trainer, in :mod:`minatt.train.train_command`."""
    from minatt.train.train_command import add_parser

    add_parser(subparsers)


# ---------------------------------------------------------------------------------------
# gradcheck


def add_gradcheck_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``gradcheck``: check every hand-written backward pass against finite differences."""
    from minatt.backend import BACKENDS
    from minatt.model.seq2seq import CELLS, DECODERS, SCORES

    p = subparsers.add_parser(
        "gradcheck",
        help="check every backward pass against finite differences",
        description=(
            "Run every registered op gradient check (float64, centred differences) and print a table;\n"
            "exit status 1 if any check fails. --model also checks whole models (every combination\n"
            "of cell, score, decoder, ...; narrowed by --cell/--score/--decoder/--bidirectional), one line\n"
            "per model configuration (--verbose: every check, as for the ops).\n\n"
            "examples:\n"
            "  python -m minatt gradcheck\n"
            "  python -m minatt gradcheck --op affine --op lstm\n"
            "  python -m minatt gradcheck --model --cell gru --score dot"
        ),
        formatter_class=Formatter,
    )
    p.add_argument("--op", action="append", type=nonempty, metavar="NAME",
                   help="check only this registered case (repeatable; default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the registered cases and exit")
    p.add_argument("--model", action="store_true", help="also check whole models (minatt.gradcheck.model_cases)")
    p.add_argument("--model-only", action="store_true", help="check whole models only, no op cases")
    p.add_argument("--cell", type=choice(CELLS, "cell"), metavar="NAME", help=f"with --model: only {'/'.join(CELLS)}")
    p.add_argument("--score", type=choice(SCORES, "score"), metavar="NAME", help="with --model: only this score")
    p.add_argument("--decoder", type=choice(DECODERS, "decoder"), metavar="NAME",
                   help="with --model: only this decoder")
    p.add_argument("--bidirectional", choices=("yes", "no"), help="with --model: only (uni|bi)directional encoders")
    p.add_argument("--no-input-feeding", action="store_true",
                   help="with --model: Luong decoders without input feeding")
    p.add_argument("--verbose", action="store_true",
                   help="with --model: every check of every model (default: one line per model configuration)")
    p.add_argument("--seed", type=nonneg_int, default=0, metavar="N", help="seed of the random inputs (default: 0)")
    p.add_argument("--backend", type=choice(BACKENDS, "backend"), metavar="NAME", default="numpy",
                   help=f"{', '.join(BACKENDS)} (default: numpy)")
    p.set_defaults(func=run_gradcheck)
    return p


def run_gradcheck(args: argparse.Namespace) -> int:
    """Handler of ``gradcheck``: 0 if every check passes, 1 otherwise."""
    from minatt.backend import use
    from minatt.gradcheck import format_table, registry, run_case
    from minatt.tools.runtime import blas_threads

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
        results, models = [], []
        for name in names:
            results.extend(run_case(name, seed=args.seed))
        if args.model or args.model_only:
            models = _model_results(args)
    if args.verbose:
        results, models = results + models, []
    if not results and not models:
        raise ConfigError("nothing to check: the filters match no case")
    if results:
        print(format_table(results))
    if models:
        print(_model_summary(models))
    results += models
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


def _model_summary(results: list[Any]) -> str:
    """One line per model configuration: its number of checks, worst relative error and verdict;
    then the table of any failed checks (``gradcheck --model --verbose`` shows them all)."""
    by_model: dict[str, list[Any]] = {}
    for r in results:
        by_model.setdefault(r.op, []).append(r)
    rows = [("model configuration", "checks", "worst rel error", "verdict")]
    for op, checks in by_model.items():
        failed = sum(not r.passed for r in checks)
        rows.append((op, str(len(checks)), f"{max(r.max_rel_error for r in checks):.2e}",
                     f"FAIL ({failed} checks)" if failed else "ok"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed_checks = [r for r in results if not r.passed]
    if failed_checks:
        from minatt.gradcheck import format_table

        lines += ["", "failed checks:", format_table(failed_checks)]
    return "\n".join(lines)


def _model_results(args: argparse.Namespace) -> list[Any]:
    """Gradient checks of whole models over minatt.gradcheck.model_cases.COMBOS, filtered by the flags."""
    from minatt.gradcheck import model_cases as model_checks
    from minatt.model.seq2seq import SCORE_ALIASES

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
COMMANDS: list[Callable[[Any], Any]] = [add_train_commands, add_gradcheck_parser]

#: Modules elsewhere that each expose ``add_parser(subparsers)``: add one line to add a command.
COMMAND_MODULES: list[str] = ["minatt.exercises", "minatt.tools.bench", "minatt.experiments", "minatt.tools.figures",
                             "minatt.tools.lessons_html"]


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a check failed, 2 an error, 130 Ctrl-C)."""
    return run_command_line(build_parser, sys.argv[1:] if argv is None else argv)
