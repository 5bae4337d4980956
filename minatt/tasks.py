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

import datetime
import zlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from minatt import ceiling
from minatt.backend import host_rng

__all__ = [
    "BOS",
    "DATE_FORMATS",
    "EOS",
    "MAX_TRIES",
    "MIN_SPLIT_SPACE",
    "PAD",
    "SPECIALS",
    "TASKS",
    "TEST_PERCENT",
    "UNK",
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

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
TEST_PERCENT = 10          # share of keys (in percent) held out for testing
MIN_SPLIT_SPACE = 100      # lengths with fewer possible keys than this are all training
MAX_TRIES = 10_000         # rejected draws per example before a sampler gives up
DIGITS = tuple("0123456789")

Pair = tuple[list[str], list[str]]
RngLike = np.random.Generator | int | None


class Vocab:
    """Token <-> id map; ids 0..3 are always PAD, BOS, EOS, UNK, then ``tokens`` in order.

    ``Vocab(["a", "b"]).tokens == ['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'b']``. Special
    names and repeats in the input are skipped, so ``Vocab(v.tokens) == v``.
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens: list[str] = list(SPECIALS)
        for tok in tokens:
            if not isinstance(tok, str) or not tok:
                raise ValueError(f"vocabulary tokens must be non-empty strings, got {tok!r}")
            if tok not in self.tokens:
                self.tokens.append(tok)
        self.index: dict[str, int] = {tok: i for i, tok in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, tok: object) -> bool:
        return tok in self.index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and other.tokens == self.tokens

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, compared by value

    def __repr__(self) -> str:
        return f"Vocab({self.tokens[len(SPECIALS):]!r})"

    @property
    def symbols(self) -> list[str]:
        """The non-special tokens, in id order (ids 4, 5, ...)."""
        return self.tokens[len(SPECIALS):]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens``; a token not in the vocabulary becomes UNK (``parse`` rejects those first)."""
        return [self.index.get(tok, UNK) for tok in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` (any int iterable or 1-D array): stops at EOS, skips PAD and BOS."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"id {i} is outside this vocabulary of {len(self.tokens)} tokens")
            out.append(self.tokens[i])
        return out


class Batch(NamedTuple):
    """A padded batch of host NumPy arrays; S and T are this batch's own longest lengths.

    src      (N, S) int64  source ids, PAD (0) after each row's end
    src_mask (N, S) bool   True on real source tokens
    tgt_in   (N, T) int64  BOS + target  (decoder input, teacher forcing)
    tgt_out  (N, T) int64  target + EOS  (what the decoder must predict)
    tgt_mask (N, T) bool   True on the len(target) + 1 counted positions

    Wherever a mask is False the ids are PAD.
    """

    src: np.ndarray
    src_mask: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    tgt_mask: np.ndarray


def collate(pairs: Sequence[tuple[Sequence[str], Sequence[str]]], src_vocab: Vocab, tgt_vocab: Vocab) -> Batch:
    """Encode and pad ``(src_tokens, tgt_tokens)`` pairs into a Batch (see Batch for shapes).

    S = longest source, T = longest target + 1. An empty target is allowed (predict has none:
    tgt_in = [BOS], tgt_out = [EOS]); an empty source is not.
    """
    if len(pairs) == 0:
        raise ValueError("collate needs at least one (source, target) pair")
    srcs = [src_vocab.encode(s) for s, _ in pairs]
    tgts = [tgt_vocab.encode(t) for _, t in pairs]
    for i, s in enumerate(srcs):
        if not s:
            raise ValueError(f"source sequence {i} is empty")
    n = len(pairs)
    src_len = np.array([len(s) for s in srcs], dtype=np.int64)        # (N,)
    tgt_len = np.array([len(t) + 1 for t in tgts], dtype=np.int64)    # (N,) target + EOS
    src = np.full((n, int(src_len.max())), PAD, dtype=np.int64)
    tgt_in = np.full((n, int(tgt_len.max())), PAD, dtype=np.int64)
    tgt_out = np.full_like(tgt_in, PAD)
    for i, (s, t) in enumerate(zip(srcs, tgts)):
        src[i, : len(s)] = s
        tgt_in[i, : len(t) + 1] = [BOS, *t]
        tgt_out[i, : len(t) + 1] = [*t, EOS]
    src_mask = np.arange(src.shape[1]) < src_len[:, None]             # (N, S)
    tgt_mask = np.arange(tgt_in.shape[1]) < tgt_len[:, None]          # (N, T)
    return Batch(src, src_mask, tgt_in, tgt_out, tgt_mask)


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


class SequenceTask(Task):
    """copy / reverse / sort over ``symbols`` (default the digits '0'..'9').

    The source is ``length`` symbols drawn uniformly; the target is the source (copy), reversed
    (reverse) or sorted by the symbols' order in ``symbols`` (sort). One Vocab serves both sides.
    """

    def __init__(self, name: str, min_len: int = 1, max_len: int = 10, seed: int | None = 0,
                 symbols: Iterable[str] = DIGITS) -> None:
        if name not in ("copy", "reverse", "sort"):
            raise ValueError(f"SequenceTask name must be copy, reverse or sort, not {name!r}")
        self.name = name
        self.symbols = _symbols(symbols)
        self._rank = {s: i for i, s in enumerate(self.symbols)}
        vocab = Vocab(self.symbols)
        super().__init__(vocab, vocab, min_len, max_len, seed, _split_min_len(len(self.symbols)))

    def _draw_key(self, rng: np.random.Generator, length: int) -> list[str]:
        return [self.symbols[i] for i in rng.integers(0, len(self.symbols), size=length)]

    def key_of(self, src: Sequence[str], tgt: Sequence[str]) -> Sequence[str]:
        return src

    def _complete(self, rng: np.random.Generator, key: list[str]) -> Pair:
        src = key
        if self.name == "reverse":
            return src, src[::-1]
        if self.name == "sort":
            return src, sorted(src, key=self._rank.__getitem__)
        return src, list(src)

    def unfamiliar(self, tokens: Sequence[str]) -> str | None:
        """A source shorter or longer than the training sources, said so; None inside min_len..max_len."""
        n, lo, hi = len(tokens), self.min_len, self.max_len
        if n < lo:
            return f"it has {n} token{'s' * (n != 1)}, fewer than any training source ({lo}..{hi})"
        if n > hi:
            return f"it has {n} tokens, more than any training source ({lo}..{hi})"
        return None


class DenoiseTask(SequenceTask):
    """denoise: recover a clean random sequence from a corrupted copy.

    target = ``length`` uniform symbols; source = the target with each token, independently with
    probability ``p``, dropped (half the time) or replaced by a different symbol (the other half;
    dropped if there is only one symbol). If every token was dropped, the first one is kept.
    The split's key is the clean sequence alone: it is decided before the corruption is drawn,
    so the corruption has the same distribution in both splits and no clean sequence is shared.
    """

    def __init__(self, min_len: int = 1, max_len: int = 10, seed: int | None = 0,
                 symbols: Iterable[str] = DIGITS, p: float = 0.15) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"denoise needs 0 <= p < 1, got p={p}")
        super().__init__("copy", min_len, max_len, seed, symbols)
        self.name, self.p = "denoise", float(p)

    def key_of(self, src: Sequence[str], tgt: Sequence[str]) -> Sequence[str]:
        return tgt

    def _complete(self, rng: np.random.Generator, key: list[str]) -> Pair:
        clean, length = key, len(key)
        hit = rng.random(length) < self.p
        drop = rng.random(length) < 0.5
        shift = rng.integers(1, max(len(self.symbols), 2), size=length)   # never 0: a *different* symbol
        noisy = []
        for i, tok in enumerate(clean):
            if not hit[i]:
                noisy.append(tok)
            elif not drop[i] and len(self.symbols) > 1:
                noisy.append(self.symbols[(self._rank[tok] + int(shift[i])) % len(self.symbols)])
        return (noisy or clean[:1]), clean

    def heldout_report(self, examples: Batch | Sequence[Pair], min_len: int | None = None,
                       max_len: int | None = None) -> dict[str, float]:
        """How much of a held-out denoise set can be denoised at all (JSON-ready numbers).

        ``examples``: a Batch or ``(noisy, clean)`` pairs; ``min_len``, ``max_len``: the clean
        lengths they were drawn from (default the task's). Returns

        uncorrupted       the share of sources equal to their target
        sequence_ceiling  the best ``sequence_accuracy`` (exact match) any model can expect here
        token_ceiling     the ``token_accuracy`` (right target positions, EOS included) of the
                          outputs with the most right positions to expect
        n                 the number of examples

        Why they are below 1: a dropped or replaced symbol is a fresh uniform draw the source
        keeps no trace of, so even a model that knows the generator exactly must guess it
        (:mod:`minatt.ceiling` computes what that model outputs). Sequence: when
        :func:`~minatt.ceiling.copy_is_best` holds (it does for the defaults), the best decoder
        copies, and is right exactly on the uncorrupted examples; a source shorter than
        ``min_len`` lost at least d = min_len - len(noisy) symbols and counts V^-d, a bound.
        Otherwise every example counts V^-d (V-1)^-r (:func:`~minatt.ceiling.lost`), the best
        a model told where the corruption was could expect. Token: each example's
        :func:`~minatt.ceiling.best_output`, scored like ``token_accuracy``. Both hold in
        expectation: on a finite set a lucky guess of a lost symbol can put a model a hair above.
        """
        if isinstance(examples, Batch):
            examples = [(self.src_vocab.decode(s), self.tgt_vocab.decode(t))
                        for s, t in zip(examples.src, examples.tgt_out)]
        if not examples:
            raise ValueError("heldout_report needs at least one example")
        lo = self.min_len if min_len is None else min_len
        hi = self.max_len if max_len is None else max_len
        V, copy_is_best = len(self.symbols), ceiling.copy_is_best(len(self.symbols), self.p, hi)
        sequence, hits, positions = 0.0, 0, 0
        for noisy, clean in examples:
            if not lo <= len(clean) <= hi:
                raise ValueError(f"a clean target of length {len(clean)} is outside min_len..max_len = {lo}..{hi}")
            d, r = ceiling.lost(noisy, clean)
            if not copy_is_best:
                sequence += float(V) ** -d * float(max(V - 1, 1)) ** -r
            elif len(noisy) < lo:
                sequence += float(V) ** -(lo - len(noisy))
            else:
                sequence += float(d == r == 0)
            guess = ceiling.best_output([self._rank[tok] for tok in noisy], V, self.p, lo, hi)
            truth = [self._rank[tok] for tok in clean] + [V]                      # V stands for EOS
            hits += sum(t < len(guess) and guess[t] == x for t, x in enumerate(truth))
            positions += len(truth)
        n = len(examples)
        uncorrupted = sum(list(noisy) == list(clean) for noisy, clean in examples)
        return {"uncorrupted": uncorrupted / n, "sequence_ceiling": sequence / n,
                "token_ceiling": hits / positions, "n": n}

    def unfamiliar(self, tokens: Sequence[str]) -> str | None:
        """A noisy source may be short (tokens dropped), never longer than max_len."""
        if len(tokens) > self.max_len:
            return f"it has {len(tokens)} tokens, more than any training source (up to {self.max_len})"
        return None


MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday()
DATE_FORMATS = (
    lambda d, m, w: f"{d.day} {m[:3]} {d.year}",                       # 24 nov 2026
    lambda d, m, w: f"{w}, {m} {d.day}, {d.year}",                     # tuesday, november 24, 2026
    lambda d, m, w: f"{d.month:02d}/{d.day:02d}/{d.year}",             # 11/24/2026
    lambda d, m, w: f"{m[:3]} {d.day}, {d.year}",                      # nov 24, 2026
    lambda d, m, w: f"{d.day:02d}.{d.month:02d}.{d.year}",             # 24.11.2026
    lambda d, m, w: f"{d.day} {m} {d.year}",                           # 24 november 2026
    lambda d, m, w: f"{w[:3]} {d.day} {m[:3]} {d.year}",               # tue 24 nov 2026
    lambda d, m, w: f"{m} {d.day}, {d.year}",                          # november 24, 2026
)


def format_date(date: datetime.date, fmt: int) -> str:
    """``date`` written in human format ``fmt`` (an index into DATE_FORMATS), lowercase English."""
    return DATE_FORMATS[fmt](date, MONTHS[date.month - 1], WEEKDAYS[date.weekday()])


class DatesTask(Task):
    """dates: a human-written date, character by character -> its ISO form "YYYY-MM-DD".

    Dates are uniform over [first_year-01-01, last_year-12-31] (default 1950..2049), written in
    one of the DATE_FORMATS chosen uniformly; weekday names come from ``date.weekday()``.
    The split key is the date itself, so a held-out date never appears in training in any
    format. ``min_len``/``max_len`` do not apply and are ignored everywhere.
    """

    name = "dates"
    uses_lengths = False

    def __init__(self, min_len: int = 1, max_len: int = 10, seed: int | None = 0, first_year: int = 1950,
                 last_year: int = 2049) -> None:
        if not 1 <= first_year <= last_year <= 9999:
            raise ValueError(f"need 1 <= first_year <= last_year <= 9999, got {first_year}, {last_year}")
        self.first = datetime.date(first_year, 1, 1).toordinal()
        self.days = datetime.date(last_year, 12, 31).toordinal() - self.first + 1
        chars = set("0123456789 ,./-") | set("".join(MONTHS + WEEKDAYS))
        super().__init__(Vocab(sorted(chars)), Vocab("0123456789-"), min_len, max_len, seed, 0)

    @property
    def longest_source(self) -> int:
        """The longest date string any format can write (the longest month and weekday names, day 30)."""
        last = datetime.date.fromordinal(self.first + self.days - 1)
        day = datetime.date(last.year, 9, 30)
        month, weekday = max(MONTHS, key=len), max(WEEKDAYS, key=len)
        return max(len(fmt(day, month, weekday)) for fmt in DATE_FORMATS)

    def key_of(self, src: Sequence[str], tgt: Sequence[str]) -> Sequence[str]:
        return tgt

    def _draw_key(self, rng: np.random.Generator, length: int) -> list[str]:
        return list(datetime.date.fromordinal(self.first + int(rng.integers(0, self.days))).isoformat())

    def _complete(self, rng: np.random.Generator, key: list[str]) -> Pair:
        date = datetime.date.fromisoformat("".join(key))
        return list(format_date(date, int(rng.integers(0, len(DATE_FORMATS))))), key

    def parse(self, text: str | Sequence[str]) -> list[str]:
        """A raw date string (or a list of characters) -> lowercase characters, spaces collapsed."""
        if not isinstance(text, str):
            text = "".join(str(t) for t in text)
        return self._check(list(" ".join(text.lower().split())))

    def unfamiliar(self, tokens: Sequence[str]) -> str | None:
        """A string no DATE_FORMATS entry writes, or a date outside the training years; None otherwise.

        Every date the numbers and month names of the text could mean is written in every format
        and compared with the text, so a wrong weekday or a zero-padded day counts as unfamiliar.
        """
        text = "".join(tokens)
        numbers = [int(n) for n in "".join(c if c.isdigit() else " " for c in text).split()]
        months = {i + 1 for i, m in enumerate(MONTHS) if m[:3] in text} | {n for n in numbers if 1 <= n <= 12}
        for year, month, day in ((y, m, d) for y in numbers for m in months for d in numbers):
            try:
                date = datetime.date(year, month, day)
            except ValueError:
                continue
            if any(format_date(date, f) == text for f in range(len(DATE_FORMATS))):
                if 0 <= date.toordinal() - self.first < self.days:
                    return None
                last = datetime.date.fromordinal(self.first + self.days - 1)
                return f"{date} is outside the years trained on ({datetime.date.fromordinal(self.first).year}..{last.year})"
        example = format_date(datetime.date(2026, 11, 24), 1)
        return f"{text!r} is written in none of the task's {len(DATE_FORMATS)} formats (such as {example!r})"


TASKS = ("copy", "reverse", "sort", "dates", "denoise")


def make_task(name: str, min_len: int = 1, max_len: int = 10, seed: int | None = 0, **options) -> Task:
    """Build a task by name: copy, reverse, sort, dates or denoise.

    min_len, max_len: training lengths (sources for copy/reverse/sort, clean targets for denoise;
    ignored by dates). seed: the task's own stream (``task.rng``). Options: ``symbols=`` for
    copy/reverse/sort/denoise, ``p=`` for denoise, ``first_year=``/``last_year=`` for dates.
    """
    if name in ("copy", "reverse", "sort"):
        return SequenceTask(name, min_len, max_len, seed, **options)
    if name == "denoise":
        return DenoiseTask(min_len, max_len, seed, **options)
    if name == "dates":
        return DatesTask(min_len, max_len, seed, **options)
    raise ValueError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}")
