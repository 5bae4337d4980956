"""What a run tells its user: progress while it trains, a start-up line, and a summary at the end.

:class:`Reporter` shows the progress (a tqdm bar, plain log lines at each evaluation, or
nothing); :func:`print_start` and :func:`print_summary` are the lines ``python -m minatt train``
prints before and after the loop.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from minatt.argtypes import steps_text
from minatt.tools.runtime import describe_blas

__all__ = ["EVAL_LOG_EVERY", "Reporter", "print_start", "print_summary"]

EVAL_LOG_EVERY = 30.0  # seconds between the log lines of a long final evaluation


class Reporter:
    """Progress: a tqdm bar (loss, held-out accuracy, steps/s), plain log lines, or nothing."""

    def __init__(self, progress: str, total: int, initial: int, log: Callable[[str], None] | None) -> None:
        if progress not in ("bar", "log", "none"):
            raise ValueError(f"progress must be 'bar', 'log' or 'none', not {progress!r}")
        self.progress, self.total = progress, total
        self.log = log or (lambda line: print(line, flush=True))
        self.smoothed: float | None = None
        self.acc = "-"
        self.bar: Any = None
        self._mark = (time.perf_counter(), initial)
        if progress == "bar":
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="step", file=sys.stderr, dynamic_ncols=True,
                            smoothing=0.1, mininterval=0.25)

    def losses(self, values: list[float]) -> None:
        """When the loop reads the losses (every few steps): update the running loss and the bar."""
        if not values:
            return
        for loss in values:
            self.smoothed = loss if self.smoothed is None else 0.95 * self.smoothed + 0.05 * loss
        if self.bar is not None:
            self.bar.update(len(values))
            self.bar.set_postfix(loss=f"{self.smoothed:.4f}", acc=self.acc, refresh=False)

    def evaluated(self, step: int, scores: dict[str, float]) -> None:
        """After each evaluation: show the held-out accuracy."""
        self.acc = f"{scores['sequence_accuracy']:.3f}"
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{self.smoothed:.4f}", acc=self.acc)
        elif self.progress == "log":
            now = time.perf_counter()
            rate = (step - self._mark[1]) / max(now - self._mark[0], 1e-9)
            self._mark = (now, step)
            self.log(f"step {step}/{self.total}  loss {self.smoothed:.4f}  held-out token acc "
                     f"{scores['token_accuracy']:.4f}  seq acc {scores['sequence_accuracy']:.4f}  {rate:.1f} steps/s")

    def evaluation(self, total: int) -> Callable[[int], None]:
        """Progress of the final evaluation (``total``: its cost, see :func:`~minatt.train.evaluation.evaluation_cost`).

        Returns the callback each evaluated chunk reports its cost to: a second bar with the time
        left, or (``log``) a line with the share done and the time left every :data:`EVAL_LOG_EVERY` seconds.
        """
        self.close()
        start = last = time.perf_counter()
        done = 0
        if self.progress == "bar":
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="final evaluation", file=sys.stderr, dynamic_ncols=True,
                            mininterval=0.25, bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")

        def advance(cost: int) -> None:
            nonlocal done, last
            done += cost
            if self.bar is not None:
                self.bar.update(cost)
                return
            now = time.perf_counter()
            if self.progress == "log" and now - last >= EVAL_LOG_EVERY and done < total:
                last = now
                left = (now - start) * (total - done) / done
                self.log(f"final evaluation {100 * done / total:.0f}% done in {now - start:.0f} s, "
                         f"about {left:.0f} s left")

        return advance

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def print_start(trainer: Any, verb: str) -> None:
    """The start-up line: what trains (task, model, size, optimiser), where, and on which BLAS with how many threads."""
    cfg, model = trainer.config, trainer.config.model
    n_params = sum(int(p.size) for p in trainer.model.params.values())
    lengths = "" if cfg.task == "dates" else f", lengths {cfg.min_len}..{cfg.max_len}"
    attention = "no attention" if model.score == "none" else f"{model.score} attention"
    encoder = f"{model.cell}{' (bidirectional)' if model.bidirectional else ''}"
    if model.encoder == "transformer":
        layers = f"{model.layers} layer{'' if model.layers == 1 else 's'}"
        encoder = f"transformer encoder ({layers}, {model.heads} heads, ff {model.ff_size}), {model.cell}"
    print(
        f"minatt: {verb}: task {cfg.task}{lengths}; {encoder} "
        f"{model.decoder} decoder, {attention}; {n_params:,} parameters; {cfg.optimizer} lr {cfg.lr}, "
        f"batch {cfg.batch}, up to {steps_text(cfg.steps)} on {cfg.backend}; {describe_blas()}",
        flush=True,
    )


def print_summary(trainer: Any, result: Any) -> None:
    """The end-of-run lines: how the run ended, the held-out test numbers (with denoise's ceilings),
    lengths beyond training, what next."""
    m, cfg = result.metrics, trainer.config
    test = m.get("test", {})
    reached = {"target reached": f"reached the target {cfg.target}", "done": "finished all steps"}[result.status]
    evaluating = m.get("evaluation_seconds", 0.0)
    reached += f" at step {result.step} in {result.seconds + evaluating:.1f} s"
    if evaluating >= 0.05 * (result.seconds + evaluating):
        reached += f" ({result.seconds:.1f} s training, {evaluating:.1f} s final evaluation)"
    if result.status == "done" and cfg.target is not None:
        reached += f" without reaching the target {cfg.target}"
    print(
        f"minatt: {reached}; held-out test: sequence accuracy "
        f"{test.get('sequence_accuracy', float('nan')):.4f}, token accuracy {test.get('token_accuracy', float('nan')):.4f} "
        f"({test.get('n', 0)} examples)"
    )
    if "sequence_ceiling" in test:
        print(f"minatt: {test['uncorrupted']:.1%} of the held-out sources are uncorrupted; the best any model can "
              f"expect on them: sequence accuracy {test['sequence_ceiling']:.4f}, token accuracy "
              f"{test['token_ceiling']:.4f}")
    longer = [r for r in m.get("by_length", []) if not r["trained"]]
    if longer:
        acc = ", ".join(f"{r['length']}: {r['sequence_accuracy']:.2f}" for r in longer)
        print(f"minatt: sequence accuracy on lengths longer than training: {acc}")
    latest = result.run_dir.parent / "latest"
    newest = latest.is_symlink() and latest != result.run_dir and latest.resolve() == result.run_dir.resolve()
    also = f" (also {latest}, the newest run)" if newest else ""
    print(f"minatt: run files in {result.run_dir}{also}; try: python -m minatt predict {result.run_dir} "
          f"{_example(trainer)}")


def _example(trainer: Any) -> str:
    """A source to try with `predict`."""
    task = trainer.task
    if task.name == "dates":
        return '"november 24, 2026"'
    return " ".join(task.src_vocab.symbols[i % len(task.src_vocab.symbols)] for i in (3, 1, 4, 1, 5))
