"""The Task base class: seeded sampling, the held-out split by key, batches, parsing input.

See :mod:`minatt.tasks` for how the split works. Host-side NumPy.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np

from minatt.backend import host_rng
from minatt.tasks.batches import SPECIALS, Batch, Vocab, collate

TEST_PERCENT = 10          # share of keys (in percent) held out for testing
MIN_SPLIT_SPACE = 100      # lengths with fewer possible keys than this are all training
MAX_TRIES = 10_000         # rejected draws per example before a sampler gives up
DIGITS = tuple("0123456789")

Pair = tuple[list[str], list[str]]
RngLike = np.random.Generator | int | None


class Task:
    """A source -> target task: seeded sampling, a held-out split, batches, input parsing.

    Attributes: ``name``, ``src_vocab``, ``tgt_vocab``, ``min_len``, ``max_len`` (the training
    lengths), ``seed``, ``rng`` (the task's own generator, used when a method gets ``rng=None``),
    ``split_min_len`` (keys shorter than this are always training; ``None``: nothing is held out).
    Subclasses implement ``_draw_key(rng, length) -> key``, ``_complete(rng, key) -> (src, tgt)``
    (everything drawn after the split is decided) and ``key_of(src, tgt) -> key``.
    """

    name = "task"
    uses_lengths = True

    def __init__(self, src_vocab: Vocab, tgt_vocab: Vocab, min_len: int, max_len: int, seed: int | None,
                 split_min_len: int | None) -> None:
        if self.uses_lengths and not 1 <= min_len <= max_len:
            raise ValueError(f"need 1 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}")
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.min_len, self.max_len, self.seed = min_len, max_len, seed
        self.split_min_len = split_min_len
        self.rng = host_rng(seed)

    def __repr__(self) -> str:
        return f"make_task({self.name!r}, min_len={self.min_len}, max_len={self.max_len}, seed={self.seed})"

    @property
    def longest_source(self) -> int:
        """The most source tokens a training example can have (``max_len``; longer for dates' formats)."""
        return self.max_len

    # -- subclass hooks -------------------------------------------------------------------
    def _draw_key(self, rng: np.random.Generator, length: int) -> list[str]:
        """The part of an example the split is decided on, ``length`` tokens long."""
        raise NotImplementedError

    def _complete(self, rng: np.random.Generator, key: list[str]) -> Pair:
        """The whole ``(src, tgt)`` example around ``key``: whatever else it draws, it draws here."""
        raise NotImplementedError

    def key_of(self, src: Sequence[str], tgt: Sequence[str]) -> Sequence[str]:
        """The key of an example (what ``_draw_key`` drew for it)."""
        raise NotImplementedError

    # -- the split ------------------------------------------------------------------------
    def key_split(self, key: Sequence[str]) -> str:
        """``"test"`` when ``key`` hashes into the lowest TEST_PERCENT of 100 buckets, else ``"train"``."""
        if self.split_min_len is None or len(key) < self.split_min_len:
            return "train"
        text = self.name + "\x1e" + "\x1f".join(key)
        return "test" if zlib.crc32(text.encode("utf-8")) % 100 < TEST_PERCENT else "train"

    def split_of(self, src: Sequence[str], tgt: Sequence[str]) -> str:
        """``"train"`` or ``"test"``: the split of one example, decided by its key alone."""
        return self.key_split(self.key_of(src, tgt))

    # -- sampling -------------------------------------------------------------------------
    def _lengths(self, min_len: int | None, max_len: int | None, split: str) -> tuple[int, int]:
        lo = self.min_len if min_len is None else min_len
        hi = self.max_len if max_len is None else max_len
        if not self.uses_lengths:
            return lo, hi
        if not 1 <= lo <= hi:
            raise ValueError(f"need 1 <= min_len <= max_len, got min_len={lo}, max_len={hi}")
        if split == "test":
            if self.split_min_len is None:
                raise ValueError(f"task {self.name!r} holds nothing out: its space of sequences is too small")
            if hi < self.split_min_len:
                raise ValueError(
                    f"no held-out examples of length {lo}..{hi}: sequences shorter than {self.split_min_len} "
                    f"are too few (< {MIN_SPLIT_SPACE}) to hold any out, so they all belong to training"
                )
            lo = max(lo, self.split_min_len)
        return lo, hi

    def sample(self, rng: RngLike = None, min_len: int | None = None, max_len: int | None = None,
               split: str = "train") -> Pair:
        """One ``(src_tokens, tgt_tokens)`` pair from ``split`` ("train" or "test").

        The length is uniform in [min_len, max_len] (default: the task's); for "test", lengths
        below ``split_min_len`` are skipped. Keys of that length are drawn until one is in
        ``split`` (rejection), then the example is completed around it. Redrawing only the key
        keeps the length uniform, and completing only an accepted key keeps everything else
        out of the split decision, so neither can differ between the splits.
        Raises RuntimeError after MAX_TRIES rejections.
        """
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        rng = self.rng if rng is None else host_rng(rng)
        lo, hi = self._lengths(min_len, max_len, split)
        length = int(rng.integers(lo, hi + 1)) if self.uses_lengths else 0
        for _ in range(MAX_TRIES):
            key = self._draw_key(rng, length)
            if self.key_split(key) == split:
                return self._complete(rng, key)
        raise RuntimeError(
            f"{self!r}: no {split} example of length {length} found in {MAX_TRIES} draws; "
            "that length holds (almost) none -- choose other lengths"
        )

    def batch(self, rng: RngLike, n: int, min_len: int | None = None, max_len: int | None = None) -> Batch:
        """A Batch of ``n`` training examples (never a test example).

        ``rng``: a numpy Generator (advanced), an int seed (a fresh generator: same batch every
        call), or None (the task's own stream: ``make_task(..., seed=s)`` then repeated calls
        give the same sequence of batches for the same s).
        """
        rng = self.rng if rng is None else host_rng(rng)
        pairs = [self.sample(rng, min_len, max_len, "train") for _ in range(n)]
        return collate(pairs, self.src_vocab, self.tgt_vocab)

    def test_set(self, n: int, min_len: int | None = None, max_len: int | None = None, seed: int = 0) -> Batch:
        """``n`` held-out examples, drawn independently (repeats possible in small spaces).

        Lengths may exceed the training range (``test_set(200, min_len=11, max_len=15)``) to
        test length generalisation. The same ``seed`` gives the same test set.
        """
        rng = host_rng(seed)
        pairs = [self.sample(rng, min_len, max_len, "test") for _ in range(n)]
        return collate(pairs, self.src_vocab, self.tgt_vocab)

    def heldout_report(self, examples: Batch | Sequence[Pair], min_len: int | None = None,
                       max_len: int | None = None) -> dict[str, float]:
        """Task-specific numbers on a held-out set for metrics.json; none for a noise-free task."""
        return {}

    def reachable_target(self, wanted: float, heldout: Batch) -> float:
        """The held-out sequence accuracy to stop at when ``wanted`` is asked for: ``wanted`` itself,
        or for a task no model can master (denoise: :meth:`heldout_report` has a ``sequence_ceiling``)
        ``wanted`` times the ceiling on ``heldout``, to 3 decimals."""
        ceiling = self.heldout_report(heldout).get("sequence_ceiling")
        return wanted if ceiling is None else round(wanted * ceiling, 3)

    def parse(self, text: str | Sequence[str]) -> list[str]:
        """User input -> source tokens: "3 1 4" or ["3", "1", "4"] -> ['3', '1', '4'].

        A string is split on whitespace; a single unknown word whose characters are all
        one-character symbols is split into characters ("314"). Raises ValueError on empty
        input or an unknown token (naming it and listing the valid ones).
        """
        if isinstance(text, str):
            tokens = text.split()
            single = all(len(s) == 1 for s in self.src_vocab.symbols)
            if len(tokens) == 1 and tokens[0] not in self.src_vocab and single:
                tokens = list(tokens[0])
        else:
            tokens = [str(t) for t in text]
        return self._check(tokens)

    def _check(self, tokens: list[str]) -> list[str]:
        if not tokens:
            raise ValueError("empty input: give at least one token")
        symbols = self.src_vocab.symbols
        for i, tok in enumerate(tokens):
            if tok not in symbols:
                raise ValueError(
                    f"unknown token {tok!r} at position {i} for task {self.name!r}; "
                    f"valid tokens: {' '.join(repr(s) if s.isspace() else s for s in symbols)}"
                )
        return tokens

    def unfamiliar(self, tokens: Sequence[str]) -> str | None:
        """How source ``tokens`` differ from every source the task trains on (for a warning), or None."""
        return None


def _split_min_len(n_symbols: int) -> int | None:
    """Smallest L with n_symbols ** L >= MIN_SPLIT_SPACE (None when no length ever gets there)."""
    if n_symbols < 2:
        return None
    length = 1
    while n_symbols**length < MIN_SPLIT_SPACE:
        length += 1
    return length


def _symbols(symbols: Iterable[str]) -> list[str]:
    out = [str(s) for s in symbols]
    if not out:
        raise ValueError("symbols must not be empty")
    for s in out:
        if not s or any(ch.isspace() for ch in s) or s in SPECIALS:
            raise ValueError(f"bad symbol {s!r}: symbols are non-empty, without whitespace, not {SPECIALS}")
    if len(set(out)) != len(out):
        raise ValueError(f"symbols repeat: {out}")
    return out
