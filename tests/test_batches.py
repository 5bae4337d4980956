"""minatt.tasks.batches: the vocabulary's specials, and collate's padding, masks, BOS and EOS."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minatt.tasks import (
    BOS,
    EOS,
    PAD,
    UNK,
    Vocab,
    collate,
)
from tests.task_pairs import check_layout


def test_vocab_specials_encode_decode():
    v = Vocab(["a", "b", "a", "<eos>"])
    assert v.tokens == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b"] and len(v) == 6
    assert v.index["a"] == 4 and v.symbols == ["a", "b"]
    assert v.encode(["b", "a", "zz"]) == [5, 4, UNK]
    assert v.decode([BOS, 4, 5, PAD, 4, EOS, 5, 5]) == ["a", "b", "a"]
    assert v.decode(np.array([4, 3])) == ["a", "<unk>"]
    assert Vocab(v.tokens) == v and Vocab(["b", "a"]) != v
    with pytest.raises(ValueError, match="outside"):
        v.decode([99])


def test_collate_layout_and_empty_target():
    src_v = tgt_v = Vocab("0123456789")
    pairs = [(list("12"), list("345")), (list("6789"), [])]
    b = collate(pairs, src_v, tgt_v)
    check_layout(b, [2, 4], [3, 0])
    assert b.tgt_in[1].tolist() == [BOS, 0, 0, 0] and b.tgt_out[1].tolist() == [EOS, 0, 0, 0]
    with pytest.raises(ValueError, match="empty"):
        collate([([], ["1"])], src_v, tgt_v)
    with pytest.raises(ValueError):
        collate([], src_v, tgt_v)


seqs = st.lists(st.sampled_from(list("0123456789")), min_size=1, max_size=8)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(seqs, st.lists(st.sampled_from(list("abc")), max_size=8)), min_size=1, max_size=6))
def test_collate_property(pairs):
    src_v, tgt_v = Vocab("0123456789"), Vocab("abc")
    b = collate(pairs, src_v, tgt_v)
    check_layout(b, [len(s) for s, _ in pairs], [len(t) for _, t in pairs])
    for (s, t), row_s, row_t in zip(pairs, b.src, b.tgt_out):
        assert src_v.decode(row_s) == s and tgt_v.decode(row_t) == t
