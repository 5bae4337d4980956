"""The two training steps the bench times, and how it times them.

:class:`MinattTrainer` is one minatt training step on a fixed batch (the PyTorch twin's is
:class:`minatt.tools.torch_reference.TorchTrainer`); :func:`time_steps` alternates the libraries in
blocks; :func:`matmul_peak` measures the machine's float32 matrix-product rate;
:func:`set_threads` gives NumPy's BLAS (any build threadpoolctl supports) and torch the same thread count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy

from minatt.tools.runtime import get_blas_threads

__all__ = ["MinattTrainer", "make_batch", "make_config", "matmul_peak", "set_threads", "time_steps"]


def make_config(args: Any) -> Any:
    """The Seq2SeqConfig of the bench's flags (``--cell``, ``--hidden``, ...)."""
    from minatt.model.seq2seq import Seq2SeqConfig

    return Seq2SeqConfig(args.vocab, args.vocab, embed=args.embed, hidden=args.hidden, cell=args.cell,
                         score=args.score, decoder=args.decoder, attn_dim=args.attn_dim, encoder=args.encoder,
                         layers=args.layers, heads=args.heads, ff=args.ff)


def make_batch(N: int, S: int, T: int, V: int, seed: int = 0) -> Any:
    """A host Batch of full-length random sequences (ids 4..V-1: no PAD/BOS/EOS/UNK)."""
    from minatt.tasks import Batch

    rng = numpy.random.default_rng(seed)
    lo = 4 if V > 4 else 0
    src = rng.integers(lo, V, (N, S))
    tgt_in, tgt_out = rng.integers(lo, V, (N, T)), rng.integers(lo, V, (N, T))
    return Batch(src, numpy.ones((N, S), bool), tgt_in, tgt_out, numpy.ones((N, T), bool))


class MinattTrainer:
    """One minatt training step on a fixed batch (as :mod:`minatt.train` does per batch).

    With ``workers > 1`` the gradient comes from :class:`minatt.train.parallel.DataParallel` (the
    batch's rows split over that many processes, each on ``threads`` BLAS threads); call
    :meth:`close` to stop them.
    """

    def __init__(self, config: Any, batch: Any, lr: float = 1e-3, clip: float = 5.0, seed: int = 0,
                 workers: int = 1, threads: int = 1) -> None:
        from minatt.model.seq2seq import Seq2Seq
        from minatt.optim import Adam
        from minatt.train.parallel import DataParallel

        self.model = Seq2Seq(config, seed=seed)
        self.opt = Adam(self.model.params, lr=lr)
        self.batch, self.clip = batch, clip
        self.parallel = DataParallel(self.model, workers, threads=threads)  # workers=1: the model itself

    def step(self) -> float:
        from minatt.optim import clip_grad_norm

        loss, grads = self.parallel.loss_and_grads(self.batch)
        clip_grad_norm(grads, self.clip)  # returns a host float: this synchronises the device
        self.opt.step(grads)
        return loss

    def synchronize(self) -> None:
        from minatt.backend import synchronize

        synchronize()

    def close(self) -> None:
        self.parallel.close()


def time_steps(steps: dict[str, Callable[[], Any]], syncs: dict[str, Callable[[], None]], n: int,
               warmup: int, block: int = 5, pause: float = 0.25) -> dict[str, list[float]]:
    """Time ``n`` steps of each library, alternating in blocks; returns name -> list of seconds.

    Each library runs ``warmup`` untimed steps, then the libraries take turns: ``block`` timed
    steps of one, then ``block`` of the next, until each has ``n``. Before every turn the
    process sleeps ``pause`` seconds. That pause matters on a small machine. After a call,
    OpenBLAS's worker threads spin for a while (up to ~0.1 s) before they sleep, and so do
    PyTorch's OpenMP threads. With steps alternating one by one, the idle library's spinning
    threads took the cores from the other: on 2 cores and 2 threads, PyTorch measured 81 ms per
    step alternating against 40 ms alone. The pause lets them park first.
    """
    for name, fn in steps.items():
        for _ in range(warmup):
            fn()
        syncs[name]()
    times: dict[str, list[float]] = {name: [] for name in steps}
    while any(len(ts) < n for ts in times.values()):
        for name, fn in steps.items():
            time.sleep(pause)
            for _ in range(min(block, n - len(times[name]))):
                syncs[name]()
                t0 = time.perf_counter()
                fn()
                syncs[name]()
                times[name].append(time.perf_counter() - t0)
    return times


def matmul_peak(xp: Any = numpy, size: int = 2048, repeats: int = 5) -> float:
    """The float32 matrix-product rate in GFLOP/s: the best of ``repeats`` (size x size) products."""
    rng = numpy.random.default_rng(0)
    a = xp.asarray(rng.standard_normal((size, size), dtype=numpy.float32))
    b = xp.asarray(rng.standard_normal((size, size), dtype=numpy.float32))
    out = xp.empty((size, size), dtype=xp.float32)
    from minatt.backend import synchronize as sync
    xp.matmul(a, b, out=out)
    sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        xp.matmul(a, b, out=out)
        sync()
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best / 1e9


def set_threads(n: int | None, torch: Any = None) -> int | None:
    """Set every BLAS (and torch, if given) to ``n`` threads (None: the BLAS's current count); returns it."""
    from minatt.tools.runtime import set_blas_threads

    if n is None:
        n = get_blas_threads()
    else:
        set_blas_threads(n)
    if torch is not None and n is not None:
        torch.set_num_threads(int(n))
    return n
