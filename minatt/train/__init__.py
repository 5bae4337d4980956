"""The trainer: the loop, evaluation, early stopping, checkpoints and the run directory.

>>> from minatt.train import TrainConfig, train
>>> result = train(TrainConfig(task="reverse"), "runs/reverse-demo")   # doctest: +SKIP
>>> result.status, result.step                                        # doctest: +SKIP
('target reached', 300)

One concern per module:

    config       TrainConfig (every setting of a run) and the builders of task, model, optimiser, schedule
    loop         Trainer: fit() (the loop on one screen) and run() around it (checkpoints, Ctrl-C)
    start        train() a new run, resume() one
    interrupt    SigintFlag: a first Ctrl-C stops the loop after the current step
    memory       the memory a training step needs (estimated), against what is free
    evaluation   evaluate() one held-out batch; final_metrics() at the end of a run
    rundir       default_run_dir(), read_run_config(), load_run() at its checkpoint
    prediction   predict() one source with a trained model (Prediction: tokens, attention, text)
    report       the progress bar or log lines, the start-up line and the end-of-run summary
    command      the ``train`` and ``predict`` commands of ``python -m minatt``

Stopping: training ends at ``steps`` updates, or earlier once ``patience`` evaluations in a row
(default 2, i.e. the accuracy has held for ``eval_every`` more steps) have a held-out *sequence*
accuracy (greedy decoding, exact match including EOS) of at least ``target`` (``target=None``
turns early stopping off). The evaluation set is held out from training
(:meth:`minatt.tasks.Task.test_set`); the final numbers in ``metrics.json`` come from a
*different* held-out set, so the stopping rule does not flatter them, plus one set per source
length, including lengths longer than any seen in training.

Resuming is exact: the checkpoint holds the parameters, the optimiser's moments and step
count, the step, and the state of the data generator; evaluation never touches that generator.
So on NumPy, N steps straight and N/2 steps + resume + N/2 steps give bit-identical weights.
The learning-rate schedule is a function of the step and of ``steps`` (its decay ends there);
resuming with a larger ``steps`` stretches the remaining decay.

:func:`train` and :func:`resume` run NumPy's BLAS on one thread (``threads=1``, see
:func:`blas_threads`): these matrices are small, and a two-thread BLAS sharing its cores with
another busy process was measured 25x slower (127 s instead of 4.8 s for 200 steps).
"""

from minatt.tools.runtime import blas_threads
from minatt.train.config import (
    CELLS,
    DECODERS,
    OPTIMIZERS,
    RESUMABLE,
    SCORES,
    TrainConfig,
    build_model,
    build_optimizer,
    build_schedule,
    build_task,
)
from minatt.train.evaluation import evaluate, final_metrics
from minatt.train.loop import LOG_EVERY, Trainer, TrainResult
from minatt.train.prediction import LENGTH_FACTOR, Prediction, predict, source_limit
from minatt.train.rundir import default_run_dir, load_run, read_run_config
from minatt.train.start import resume, train

__all__ = [
    "CELLS",
    "DECODERS",
    "LENGTH_FACTOR",
    "LOG_EVERY",
    "OPTIMIZERS",
    "RESUMABLE",
    "SCORES",
    "Prediction",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "blas_threads",
    "build_model",
    "build_optimizer",
    "build_schedule",
    "build_task",
    "default_run_dir",
    "evaluate",
    "final_metrics",
    "load_run",
    "predict",
    "read_run_config",
    "resume",
    "source_limit",
    "train",
]
