"""minatt.gradcheck.model_cases: the whole-model checks (every cell x score x decoder x encoder) are
strict, on the fixed batch their docstring describes."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.gradcheck import model_cases
from tests.case_modules import assert_well_formed


def test_the_whole_model_check_is_strict(monkeypatch):
    """A model whose backward forgets one parameter's gradient fails the check, naming it."""
    from minatt.gradcheck.model_cases import Combo, check_model
    from minatt.model.seq2seq import Seq2Seq

    real = Seq2Seq.loss_and_grads

    def forgetful(self, batch, *args, **kwargs):
        loss, grads = real(self, batch, *args, **kwargs)
        return loss, {k: v for k, v in grads.items() if k != "dec.out.b"}

    monkeypatch.setattr(Seq2Seq, "loss_and_grads", forgetful)
    results = check_model(Combo("gru", "dot", "luong", False), n_samples=1)
    assert {(r.name, r.method) for r in results if not r.passed} == {("dec.out.b", "missing")}


def test_the_combinations_are_every_cell_score_decoder_and_direction_plus_three_transformers():
    rnn = [c for c in model_cases.COMBOS if c.encoder == "rnn"]
    assert len(rnn) == 2 * 6 * 2 * 2 == len(set(rnn))
    assert len(model_cases.COMBOS) == len(rnn) + 3
    names = [model_cases.combo_name(c) for c in model_cases.COMBOS]
    assert len(set(names)) == len(names)
    assert "lstm-additive-bahdanau-bi" in names and "gru-scaled_dot-luong-transformer" in names


def test_the_fixed_batch_has_the_lengths_and_tokens_the_docstring_promises():
    batch = model_cases.check_batch()
    assert batch.src_mask.sum(axis=1).tolist() == list(model_cases.SRC_LENGTHS)
    assert batch.tgt_mask.sum(axis=1).tolist() == list(model_cases.TGT_LENGTHS)
    assert (batch.src[batch.src_mask] >= 3).all() and (batch.src[~batch.src_mask] == 0).all()
    last = np.array(model_cases.TGT_LENGTHS) - 1
    assert batch.tgt_out[np.arange(3), last].tolist() == [2, 2, 2]  # EOS ends every target
    assert (batch.tgt_in[:, 0] == 1).all()  # BOS starts every decoder input
    words = batch.tgt_out[:, :-1][batch.tgt_in[:, 1:] != 0]
    assert (batch.tgt_in[:, 1:][batch.tgt_in[:, 1:] != 0] == words).all()  # tgt_in is tgt_out shifted right


@pytest.mark.parametrize("combo", [model_cases.COMBOS[0], model_cases.COMBOS[-1]], ids=model_cases.combo_name)
def test_a_model_case_is_float64_with_a_gradient_for_every_parameter(combo):
    assert_well_formed(model_cases.model_case(*combo[:4]))
