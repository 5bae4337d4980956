"""What a training step launches on a GPU, counted on the CPU stand-in for CuPy (tests/strict_cupy.py).

A small step on a GPU costs about its number of launches times ~10-30 us, whatever the sizes
(issue 27, BENCHMARKS.md), so the count is the number to keep down. No timing here: the stand-in
counts every call that CuPy would launch (a kernel, a cuBLAS call, a copy), on the per-equation
reference path, and on the fused path, where each kernel (built from its CUDA source with g++ by
tests/fused_harness.py, as tests/test_fused_cells.py runs it) counts as one launch and replaces a whole
group of the reference's.

Run as a script for the tables in BENCHMARKS.md: ``python -m tests.test_launches`` (needs g++ for the
fused rows).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import minatt
from minatt import backend
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.ops.fused import Kernel
from minatt.optim import Adam, clip_grad_norm
from minatt.tasks import Batch
from tests import strict_cupy
from tests.conftest import GPU

pytestmark = pytest.mark.skipif(GPU, reason="counts the CPU stand-in's calls; on a GPU the backend is real CuPy")

# Launches per time step on the reference path (LSTM, additive score, Bahdanau, bidirectional encoder),
# measured when written (3rd edition): the encoder 53 -> 48 once unpadded steps skip their masking,
# the decoder 83. A change that adds launches to a step fails here; one that removes some lowers these.
ENCODER_STEP = 48
DECODER_STEP = 83
FUSED_ENCODER_STEP = 9  # the same, through the kernels
FUSED_DECODER_STEP = 28


def _batch(S: int, T: int, src_lengths: tuple[int, ...] = (), N: int = 4, V: int = 12) -> Batch:
    """A host batch of N rows; sources full length S unless src_lengths gives the first rows' lengths."""
    rng = np.random.default_rng(0)
    lengths = np.full(N, S)
    lengths[:len(src_lengths)] = src_lengths
    src_mask = np.arange(S)[None, :] < lengths[:, None]
    src = np.where(src_mask, rng.integers(4, V, (N, S)), 0)
    return Batch(src, src_mask, rng.integers(4, V, (N, T)), rng.integers(4, V, (N, T)), np.ones((N, T), bool))


def step_launches(S: int, T: int, cell: str = "lstm", src_lengths: tuple[int, ...] = (), kernels=None,
                  **config) -> dict:
    """The launches of one training step (loss and gradients, clipping, Adam) after a first one, by name.
    With ``kernels`` (a Kernel.__call__ for the stand-in's arrays, tests/fused_harness.py) the step takes
    the fused path, each kernel one launch."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(strict_cupy.installed())
        stack.enter_context(minatt.use("cupy"))
        if kernels is not None:
            stack.enter_context(_fused(kernels))
        model = Seq2Seq(Seq2SeqConfig(12, 12, embed=8, hidden=8, cell=cell, **config), seed=0)
        opt = Adam(model.params, lr=1e-3)
        batch = _batch(S, T, src_lengths)

        def step() -> None:
            loss, grads = model.loss_and_grads(batch)
            clip_grad_norm(grads, 5.0)
            opt.step(grads)

        step()  # Adam's moments are made on the first step
        with strict_cupy.launching() as seen:
            step()
    return dict(seen)


@contextlib.contextmanager
def _fused(kernels):
    """Inside minatt.use("cupy") on the stand-in: fusable says yes, and each kernel call is one launch."""
    def launch(self, *args):
        strict_cupy.LAUNCHES[f"kernel {self.name}"] += 1
        return kernels(self, *args)

    saved = (backend._fused_type, Kernel.__call__)
    backend._fused_type, Kernel.__call__ = strict_cupy.ndarray, launch
    try:
        yield
    finally:
        backend._fused_type, Kernel.__call__ = saved


def total(counts: dict) -> int:
    return sum(counts.values())


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_an_unpadded_source_masks_no_encoder_step(cell):
    """The source mask stays on the host, where its padding flags are free: with no padded row the
    recurrences run no ``where``, so the count does not grow with the source's length."""
    assert step_launches(10, 3, cell)["where"] == step_launches(5, 3, cell)["where"]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_only_the_padded_steps_are_masked(cell):
    """One row shorter by 1, 2, 3 steps: each padded step adds the same few ``where``s, and an
    unpadded batch has none of them."""
    full, *short = (step_launches(6, 3, cell, src_lengths=(n,))["where"] for n in (6, 5, 4, 3))
    assert full < short[0]
    assert short[1] - short[0] == short[2] - short[1] > 0


def test_launches_per_time_step_stay_where_they_were():
    base = total(step_launches(4, 4))
    assert (total(step_launches(8, 4)) - base) / 4 <= ENCODER_STEP
    assert (total(step_launches(4, 8)) - base) / 4 <= DECODER_STEP


def test_fused_launches_per_time_step_stay_where_they_were(cpu_kernels):
    base = total(step_launches(4, 4, kernels=cpu_kernels))
    assert (total(step_launches(8, 4, kernels=cpu_kernels)) - base) / 4 <= FUSED_ENCODER_STEP
    assert (total(step_launches(4, 8, kernels=cpu_kernels)) - base) / 4 <= FUSED_DECODER_STEP


def test_the_fused_path_launches_each_kernel_and_fewer_calls(cpu_kernels):
    """The fused count is real: every kernel runs, and the step makes under a third of the reference's calls."""
    fused = step_launches(6, 6, kernels=cpu_kernels)
    assert {name for name in fused if name.startswith("kernel ")} >= {"kernel lstm_cell_forward",
                                                                      "kernel lstm_cell_backward", "kernel adam_update"}
    assert 3 * total(fused) < total(step_launches(6, 6))


def main() -> None:  # pragma: no cover
    """Print launches per step and per time step for the four cell x decoder pairs, on the reference path
    and (where g++ is installed) on the fused path."""
    import shutil
    import tempfile
    from pathlib import Path

    from tests.fused_harness import cpu_launcher

    paths = {"reference": None}
    if shutil.which("g++"):
        paths["fused"] = cpu_launcher(Path(tempfile.mkdtemp()))
    print("path       cell  decoder   S=T=20  per encoder step  per decoder step")
    for path, kernels in paths.items():
        for cell in ("lstm", "gru"):
            for decoder in ("bahdanau", "luong"):
                base = total(step_launches(10, 10, cell, decoder=decoder, kernels=kernels))
                enc = (total(step_launches(20, 10, cell, decoder=decoder, kernels=kernels)) - base) / 10
                dec = (total(step_launches(10, 20, cell, decoder=decoder, kernels=kernels)) - base) / 10
                print(f"{path:10s} {cell:5s} {decoder:9s} {base + 10 * (enc + dec):6.0f}  {enc:16.1f}  {dec:16.1f}")


if __name__ == "__main__":  # pragma: no cover
    main()
