"""Toy seq2seq tasks: vocabularies, padded batches with masks, and a held-out test split.

Host-side code: everything here is NumPy on the CPU; the model moves batches to the device.

Tasks (``make_task(name, ...)``):

    copy      3 1 4 1 5                    -> 3 1 4 1 5
    reverse   3 1 4 1 5                    -> 5 1 4 1 3
    sort      3 1 4 1 5                    -> 1 1 3 4 5
    dates     tuesday, november 24, 2026   -> 2026-11-24        (characters in, characters out)
    denoise   3 1 9 4 1 5  (noisy)         -> 3 1 4 1 5         (clean sequence back)

Drawing a batch (rows are padded to the batch's own longest sequence):

>>> task = make_task("reverse", min_len=2, max_len=5, seed=0)
>>> b = task.batch(None, 4)                  # None: the task's own seeded stream
>>> b.src.shape[0], b.src.dtype, b.src_mask.dtype
(4, dtype('int64'), dtype('bool'))
>>> src, tgt = task.src_vocab.decode(b.src[0]), task.tgt_vocab.decode(b.tgt_out[0])
>>> tgt == src[::-1]
True
>>> bool(b.tgt_in[0, 0] == BOS and b.tgt_out[0, len(tgt)] == EOS)
True

The held-out split. Every example has one *key*, the part of it drawn first: the source for
copy/reverse/sort, the date for dates, the clean sequence for denoise. A key is a test key when
a stable hash of it (``zlib.crc32`` of the task name and the tokens) falls in the lowest
``TEST_PERCENT`` of 100 buckets. A sampler draws the length, then keys of that length until one
falls in the wanted split, and only then draws the rest of the example (the date's format, the
corruption). So ``.batch`` (training only) and ``.test_set`` (test only) never share a key --
no source for the sequence tasks, no date in any format, no clean denoise target -- and
everything drawn after the key (lengths included) has the same distribution in both splits:
the held-out set differs from training only in which keys it holds. (A denoise *source* may
occur in both splits, each time from a different clean sequence.) The split does not depend on
the seed.

Tiny spaces: a key shorter than ``task.split_min_len`` tokens comes from a space too small to
hold anything out (fewer than ``MIN_SPLIT_SPACE`` sequences, e.g. the 10 one-digit sources), so
such keys always belong to training. ``.test_set`` therefore draws only lengths
``>= split_min_len`` and raises ``ValueError`` when the requested range has none. Every sampler
also gives up with ``RuntimeError`` after ``MAX_TRIES`` rejected draws, so none can loop forever.
"""

from __future__ import annotations

from minatt.tasks.base import MAX_TRIES, MIN_SPLIT_SPACE, TEST_PERCENT, Task
from minatt.tasks.batches import BOS, EOS, PAD, SPECIALS, UNK, Batch, Vocab, collate
from minatt.tasks.dates import DATE_FORMATS, MONTHS, WEEKDAYS, DatesTask, format_date
from minatt.tasks.sequences import DenoiseTask, SequenceTask

__all__ = [
    "BOS",
    "DATE_FORMATS",
    "EOS",
    "MAX_TRIES",
    "MIN_SPLIT_SPACE",
    "MONTHS",
    "PAD",
    "SPECIALS",
    "TASKS",
    "TEST_PERCENT",
    "UNK",
    "WEEKDAYS",
    "Batch",
    "DatesTask",
    "DenoiseTask",
    "SequenceTask",
    "Task",
    "Vocab",
    "collate",
    "format_date",
    "make_task",
]


TASKS = ("copy", "reverse", "sort", "dates", "denoise")


def make_task(name: str, min_len: int = 1, max_len: int = 10, seed: int | None = 0, **options) -> Task:
    """Build a task by name: copy, reverse, sort, dates or denoise.

    min_len, max_len: training lengths (sources for copy/reverse/sort, clean targets for denoise;
    ignored by dates). seed: the task's own stream (``task.rng``). Options: ``symbols=`` for
    copy/reverse/sort/denoise, ``p=`` and ``insert=`` for denoise, ``first_year=``/``last_year=`` for dates.
    """
    if name in ("copy", "reverse", "sort"):
        return SequenceTask(name, min_len, max_len, seed, **options)
    if name == "denoise":
        return DenoiseTask(min_len, max_len, seed, **options)
    if name == "dates":
        return DatesTask(min_len, max_len, seed, **options)
    raise ValueError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}")
