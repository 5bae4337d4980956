"""Vocabularies and padded batches: tokens to ids, and (source, target) pairs to arrays with masks.

Host-side NumPy. Ids 0..3 are the special tokens PAD, BOS, EOS, UNK in every vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["BOS", "EOS", "PAD", "SPECIALS", "UNK", "Batch", "Vocab", "collate"]

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


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
