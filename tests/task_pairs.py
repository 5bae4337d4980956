"""Helpers shared by the task tests: decode a batch to pairs, check its layout, parse a generated date."""

from __future__ import annotations

import datetime

import numpy as np

from minatt.tasks import BOS, EOS, PAD, UNK

DIGIT_TASKS = ("copy", "reverse", "sort", "denoise")


def pairs_of(task, batch):
    """Decode a batch back to (src_tokens, tgt_tokens) pairs."""
    return [(task.src_vocab.decode(s), task.tgt_vocab.decode(t)) for s, t in zip(batch.src, batch.tgt_out)]


def check_layout(batch, src_lens, tgt_lens):
    """Padding, masks, BOS/EOS placement and the batch's own maxima."""
    src, src_mask, tgt_in, tgt_out, tgt_mask = batch
    n = len(src_lens)
    assert src.dtype == np.int64 and tgt_in.dtype == np.int64 and tgt_out.dtype == np.int64
    assert src_mask.dtype == bool and tgt_mask.dtype == bool
    assert src.shape == src_mask.shape == (n, max(src_lens))
    assert tgt_in.shape == tgt_out.shape == tgt_mask.shape == (n, max(tgt_lens) + 1)
    for i in range(n):
        s, t = src_lens[i], tgt_lens[i]
        assert src_mask[i].tolist() == [True] * s + [False] * (src.shape[1] - s)
        assert tgt_mask[i].tolist() == [True] * (t + 1) + [False] * (tgt_in.shape[1] - t - 1)
        assert tgt_in[i, 0] == BOS and tgt_out[i, t] == EOS
        assert (tgt_in[i, 1 : t + 1] == tgt_out[i, :t]).all()
    assert (src[~src_mask] == PAD).all() and (src[src_mask] > UNK).all()
    assert (tgt_in[~tgt_mask] == PAD).all() and (tgt_out[~tgt_mask] == PAD).all()
    assert (tgt_out[:, :-1][tgt_mask[:, 1:]] > UNK).all()  # every counted non-final position is a real token


STRPTIME = ("%d %b %Y", "%A, %B %d, %Y", "%m/%d/%Y", "%b %d, %Y", "%d.%m.%Y", "%d %B %Y", "%a %d %b %Y", "%B %d, %Y")


def read_date(text):
    """Independent parse of a generated date with strptime (C locale English names) -> (date, format)."""
    for fmt in STRPTIME:
        try:
            return datetime.datetime.strptime(text, fmt).date(), fmt
        except ValueError:
            continue
    raise AssertionError(f"unparseable date {text!r}")
