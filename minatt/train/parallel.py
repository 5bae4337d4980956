"""Data parallelism on the CPU: one training step's batch split over worker processes.

>>> from minatt.train.parallel import DataParallel
>>> with DataParallel(model, workers=2) as dp:             # doctest: +SKIP
...     loss, grads = dp.loss_and_grads(batch)              # the same numbers as model.loss_and_grads

**Why the split is exact.** The loss is the mean over the batch's n real target tokens. Cut
the batch's rows into shards, shard k holding n_k of those tokens, and let L_k be the mean
over shard k's own tokens (what the unchanged model computes on those rows). Then

    L = (1/n) sum_j l_j = sum_k (n_k / n) L_k        so        dL/dθ = sum_k (n_k / n) dL_k/dθ

Each shard runs the ordinary forward and hand-written backward on its own rows; the results
are weighted by token counts and added. Nothing about a row depends on another row, so the
only difference from the one-process step is the order of the floating-point additions
(about 1e-16 relative in float64; the tests check 1e-12). A plain average of the shard
gradients would be wrong whenever the shards hold different numbers of tokens.

**Why processes, not threads.** NumPy releases the GIL inside ufuncs and BLAS calls, but a
step makes thousands of small calls, and every one hands the GIL between threads. Measured
on the 2-core machine (small LSTM + additive, batch 64): one half-batch alone takes 24.5 ms,
two halves in two *threads* take 33.6 ms (no better than one process on 2 BLAS threads),
two halves in two *processes* take 24.5 ms each, side by side.

**How.** This process computes shard 0 and each of ``workers - 1`` child processes one more.
The children are started once (``spawn``: a fresh interpreter, safe next to BLAS and OpenMP
threads), each builds the same model from its config, and then reads its parameters from
one block of shared memory that this process refreshes before every step (a copy of the
parameters: 1.2 MB for the small benchmark model, about 0.04 ms). Each child writes its
gradients into its own shared block and sends back only its loss. A step sends each child
its rows (a few small integer arrays) through a pipe. The children ignore Ctrl-C, so the
parent's trainer decides what an interrupt does; they exit when this object is closed,
garbage-collected or when this process ends.

NumPy backend only: on a GPU a single process already has thousands of cores. A script that
creates a DataParallel (or calls ``train(..., workers=2)``) needs the usual
``if __name__ == "__main__":`` guard: a spawned child imports the script's main module again.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import traceback
import weakref
from typing import Any, NamedTuple

import numpy

from minatt.backend import is_device_array
from minatt.errors import ConfigError, MinattError, ShapeError
from minatt.tasks import Batch

__all__ = ["DataParallel", "auto_workers", "shard_rows"]

_TYPECODES = {"float32": "f", "float64": "d"}
_FIELDS = ("src", "src_mask", "tgt_in", "tgt_out", "tgt_mask")
_RELAYED = {"ShapeError": ShapeError, "ConfigError": ConfigError}


ROWS_PER_WORKER = 32  # --workers auto gives no worker fewer rows than this


def auto_workers(batch: int, cores: int | None = None) -> int:
    """``--workers auto``: one worker per core this process may use, but no shard under
    ROWS_PER_WORKER rows, and at least 1: ``min(cores, batch // 32)``.

    Why: each worker pays the step's fixed Python cost (a few thousand small calls) for its rows,
    so a shard must be large enough to be worth a process; and more processes than cores take
    turns. Measured (issue 27, 16-core host, N = 256, H = 512): 1 process 865 ms, 8 workers
    379 ms; this rule picks 8 there, and 2 for the default batch of 64 on 2 cores.
    """
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, batch // ROWS_PER_WORKER))


def shard_rows(n: int, shards: int) -> list[tuple[int, int]]:
    """Split rows 0..n-1 into at most ``shards`` contiguous (start, stop) ranges, sizes differing by <= 1.

    >>> shard_rows(5, 2)
    [(0, 3), (3, 5)]
    >>> shard_rows(1, 3)
    [(0, 1)]
    """
    sizes = [n // shards + (1 if k < n % shards else 0) for k in range(shards)]
    bounds, start = [], 0
    for size in sizes:
        if size:
            bounds.append((start, start + size))
        start += size
    return bounds


class _Slot(NamedTuple):
    name: str
    offset: int
    shape: tuple


class _Child:
    """One worker process, its pipe, its shared gradient block, and whether a reply is due."""

    def __init__(self, process: Any, conn: Any, grads: numpy.ndarray, index: int) -> None:
        self.process, self.conn, self.grads, self.index = process, conn, grads, index
        self.pending = False


def _shutdown(children: list[_Child]) -> None:
    """Ask every child to exit, wait briefly, then terminate any that did not."""
    for child in children:
        with contextlib.suppress(OSError, ValueError):  # a child that is already gone needs no message
            child.conn.send(None)
    for child in children:
        child.process.join(timeout=5)
        if child.process.is_alive():
            child.process.terminate()
            child.process.join(timeout=5)
        child.conn.close()


class DataParallel:
    """Compute ``model.loss_and_grads(batch)`` with the batch's rows split over ``workers`` processes.

    Args:
        model: a :class:`minatt.model.seq2seq.Seq2Seq` on the NumPy backend, float32 or float64. Its
            parameters may change between calls (an optimiser updates them in place): every
            call sends the current values.
        workers: how many shards a batch is cut into: this process plus ``workers - 1`` children.
            1 starts no process and simply calls the model (on either backend).
        threads: BLAS threads in each child (this process keeps its own setting). With as many
            workers as cores, 1 is right.
    Raises:
        ConfigError: workers not a positive integer; with workers > 1, a CuPy model or a dtype
            other than float32 and float64.
    """

    def __init__(self, model: Any, workers: int = 2, threads: int = 1) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be a positive integer, got {workers!r}")
        self.model, self.workers = model, workers
        self._children: list[_Child] = []
        self._closed = False
        if workers == 1:
            return
        first = next(iter(model.params.values()))
        if is_device_array(first):
            raise ConfigError("data-parallel workers run the NumPy backend; a CuPy model trains in one "
                              "process (use workers=1)")
        dtype = numpy.dtype(first.dtype)
        if dtype.name not in _TYPECODES:
            raise ConfigError(f"data-parallel workers support float32 and float64 models, got {dtype.name}")
        self.dtype = dtype
        self._layout: list[_Slot] = []
        total = 0
        for name, p in model.params.items():
            self._layout.append(_Slot(name, total, tuple(p.shape)))
            total += int(p.size)
        ctx = multiprocessing.get_context("spawn")
        code = _TYPECODES[dtype.name]
        shared_params = ctx.RawArray(code, total)
        self._params_flat = numpy.frombuffer(shared_params, dtype=dtype)
        self._finalizer = weakref.finalize(self, _shutdown, self._children)
        for index in range(1, workers):
            shared_grads = ctx.RawArray(code, total)
            conn, child_conn = ctx.Pipe()
            process = ctx.Process(
                target=_serve, name=f"minatt-worker-{index}", daemon=True,
                args=(child_conn, model.config.to_dict(), dtype.name, self._layout, shared_params, shared_grads,
                      threads))
            process.start()
            child_conn.close()
            self._children.append(_Child(process, conn, numpy.frombuffer(shared_grads, dtype=dtype), index))
        self._starting = True
        for child in self._children:  # wait until every child has built its model (or failed to)
            child.pending = True
            self._receive(child)
        self._starting = False

    # -- the step ---------------------------------------------------------------------------
    def loss_and_grads(self, batch: Any) -> tuple[float, dict[str, numpy.ndarray]]:
        """The loss and d loss / d params of ``batch``, as ``model.loss_and_grads`` gives them.

        Raises the model's own ShapeError for a bad batch (checked here, before any work is
        sent), and MinattError when a worker fails or has died (this object is then closed).
        """
        if self._closed:
            raise MinattError("this DataParallel is closed: create a new one to go on training")
        if not self._children:
            return self.model.loss_and_grads(batch)
        self.model.check_batch(batch)
        for child in self._children:  # a step interrupted by Ctrl-C may have left replies unread
            if child.pending:
                self._receive(child)
        host = {name: numpy.asarray(getattr(batch, name)) for name in _FIELDS}
        counts = [(lo, hi, int(host["tgt_mask"][lo:hi].sum())) for lo, hi in shard_rows(len(host["src"]), self.workers)]
        work = [(lo, hi, n) for lo, hi, n in counts if n > 0]  # a shard without real targets adds nothing
        if len(work) < 2:
            return self.model.loss_and_grads(batch)
        total = sum(n for _, _, n in work)
        for slot in self._layout:  # the children read the current parameters from here
            p = self.model.params[slot.name]
            self._params_flat[slot.offset: slot.offset + p.size] = p.reshape(-1)
        busy = list(zip(self._children, work[1:]))
        for child, (lo, hi, _) in busy:
            try:
                child.conn.send(tuple(host[name][lo:hi] for name in _FIELDS))
            except OSError:  # a broken pipe: the child is gone
                self._dead(child)
            child.pending = True
        lo, hi, n = work[0]
        loss, grads = self.model.loss_and_grads(Batch(*(host[name][lo:hi] for name in _FIELDS)))
        loss *= n / total
        for g in grads.values():
            g *= n / total
        for child, (_, _, n) in busy:
            child_loss = self._receive(child)
            loss += child_loss * (n / total)
            for slot in self._layout:
                g = grads[slot.name]
                part = child.grads[slot.offset: slot.offset + g.size].reshape(g.shape)
                g += part * g.dtype.type(n / total)
        return float(loss), grads

    def _receive(self, child: _Child) -> Any:
        """The reply a child owes; a failure or a dead child closes this object and raises."""
        try:
            reply = child.conn.recv()
        except (EOFError, OSError):
            self._dead(child)
        child.pending = False
        if reply[0] == "error":
            _, kind, message, remote = reply
            self.close()
            error = _RELAYED.get(kind, MinattError)
            exc = error(message if kind in _RELAYED else f"data-parallel worker {child.index} failed: {kind}: {message}")
            exc.remote_traceback = remote  # the child's traceback, for debugging
            raise exc
        return reply[1]

    def _dead(self, child: _Child) -> None:
        child.process.join(timeout=1)
        self.close()
        if getattr(self, "_starting", False):
            raise MinattError(
                f"data-parallel worker {child.index} could not start (exit code {child.process.exitcode}; its "
                "error is printed above): the worker imports the main script again, so a script that uses "
                "workers must be a file with an `if __name__ == \"__main__\":` guard; or use workers=1") from None
        raise MinattError(
            f"data-parallel worker {child.index} exited unexpectedly (exit code {child.process.exitcode}); "
            "this step was not taken: create a new DataParallel (or run with workers=1)") from None

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the worker processes (idempotent). Afterwards loss_and_grads raises."""
        if self._closed:
            return
        self._closed = True
        if self._children:
            self._finalizer()

    def __enter__(self) -> DataParallel:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._children)} child process(es)"
        return f"DataParallel(workers={self.workers}, {state})"


def _serve(conn: Any, config: dict, dtype: str, layout: list[_Slot], shared_params: Any, shared_grads: Any,
           threads: int) -> None:
    """A worker's life: build the model on the shared parameters, then answer steps until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from minatt.backend import default_dtype, use
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
    from minatt.tools.runtime import set_blas_threads, tune_malloc

    set_blas_threads(threads)
    tune_malloc()
    try:
        with use("numpy"), default_dtype(dtype):
            model = Seq2Seq(Seq2SeqConfig.from_dict(config))
        params = numpy.frombuffer(shared_params, dtype=dtype)
        grads = numpy.frombuffer(shared_grads, dtype=dtype)
        views = {}
        for name, offset, shape in layout:
            size = int(numpy.prod(shape))
            model.params[name] = params[offset: offset + size].reshape(shape)
            views[name] = grads[offset: offset + size].reshape(shape)
    except Exception as exc:
        conn.send(("error", type(exc).__name__, str(exc), traceback.format_exc()))
        return
    conn.send(("ready", 0.0))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message is None:
            return
        try:
            with use("numpy"), numpy.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss, g = model.loss_and_grads(Batch(*message))
            for name, view in views.items():
                view[...] = g[name]
            conn.send(("done", loss))
        except Exception as exc:
            conn.send(("error", type(exc).__name__, str(exc), traceback.format_exc()))
