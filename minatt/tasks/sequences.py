"""The digit-sequence tasks: copy, reverse, sort, and denoise (a clean sequence back from a corrupted copy)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from minatt.tasks import ceiling
from minatt.tasks.base import DIGITS, Pair, Task, _split_min_len, _symbols
from minatt.tasks.batches import Batch, Vocab


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
    dropped if there is only one symbol); and, with probability ``insert`` (default 0: none), a
    uniform symbol is inserted before it. If every token was dropped, the first one is kept.
    :meth:`corrupt` also says where each clean token went (the true alignment).
    The split's key is the clean sequence alone: it is decided before the corruption is drawn,
    so the corruption has the same distribution in both splits and no clean sequence is shared.
    """

    def __init__(self, min_len: int = 1, max_len: int = 10, seed: int | None = 0,
                 symbols: Iterable[str] = DIGITS, p: float = 0.15, insert: float = 0.0) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"denoise needs 0 <= p < 1, got p={p}")
        if not 0.0 <= insert < 1.0:
            raise ValueError(f"denoise needs 0 <= insert < 1, got insert={insert}")
        super().__init__("copy", min_len, max_len, seed, symbols)
        self.name, self.p, self.insert = "denoise", float(p), float(insert)

    def key_of(self, src: Sequence[str], tgt: Sequence[str]) -> Sequence[str]:
        return tgt

    def _complete(self, rng: np.random.Generator, key: list[str]) -> Pair:
        return self.corrupt(rng, key)[0], key

    def corrupt(self, rng: np.random.Generator, clean: list[str]) -> tuple[list[str], list[int]]:
        """(noisy source, where): ``where[j]`` is the source position of clean token j, -1 if dropped.

        A replaced token keeps its position in ``where``: that is where the model should look.
        """
        length = len(clean)
        hit = rng.random(length) < self.p
        drop = rng.random(length) < 0.5
        shift = rng.integers(1, max(len(self.symbols), 2), size=length)   # never 0: a *different* symbol
        # drawn only when asked for, so insert=0 leaves the random stream (and every old example) as it was
        inserted = rng.random(length) < self.insert if self.insert else [False] * length
        extra = rng.integers(0, len(self.symbols), size=length) if self.insert else None
        noisy: list[str] = []
        where = []
        for i, tok in enumerate(clean):
            if inserted[i]:
                noisy.append(self.symbols[int(extra[i])])
            if not hit[i]:
                where.append(len(noisy))
                noisy.append(tok)
            elif not drop[i] and len(self.symbols) > 1:
                where.append(len(noisy))
                noisy.append(self.symbols[(self._rank[tok] + int(shift[i])) % len(self.symbols)])
            else:
                where.append(-1)
        if not noisy:
            noisy, where = clean[:1], [0] + [-1] * (length - 1)
        return noisy, where

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
        (:mod:`minatt.tasks.ceiling` computes what that model outputs). Sequence: when
        :func:`~minatt.tasks.ceiling.copy_is_best` holds (it does for the defaults), the best decoder
        copies, and is right exactly on the uncorrupted examples; a source shorter than
        ``min_len`` lost at least d = min_len - len(noisy) symbols and counts V^-d, a bound.
        Otherwise every example counts V^-d (V-1)^-r (:func:`~minatt.tasks.ceiling.lost`), the best
        a model told where the corruption was could expect. Token: each example's
        :func:`~minatt.tasks.ceiling.best_output`, scored like ``token_accuracy``. Both hold in
        expectation: on a finite set a lucky guess of a lost symbol can put a model a hair above.
        An empty dict when ``insert`` > 0: these ceilings count drops and replacements only.
        """
        if self.insert:
            return {}
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
