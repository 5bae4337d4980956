"""The whole model: gradients of every configuration, masking, decoding, seeding, dtypes, training, errors."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import minatt
from minatt.backend import default_dtype, to_numpy
from minatt.errors import ConfigError, ShapeError
from minatt.gradcheck.model_cases import COMBOS, check_model, combo_name
from minatt.model import decoders
from minatt.model.seq2seq import Decoded, Seq2Seq, Seq2SeqConfig
from minatt.optim import Adam
from minatt.tasks import Batch, collate, make_task

TOL = 1e-6


def failures(results):
    return [r for r in results if not r.passed]


# ------------------------------------------------------------------------------------------
# gradients


@pytest.mark.parametrize("combo", COMBOS, ids=combo_name)
def test_model_gradients(combo, backend):
    results = check_model(combo, seed=0)
    assert len({r.name for r in results}) >= 8
    worst = max(results, key=lambda r: r.max_rel_error)
    assert worst.max_rel_error <= TOL, worst.describe()


@pytest.mark.parametrize("combo", [("lstm", "general", "luong", False), ("gru", "concat", "luong", True),
                                   ("lstm", "none", "luong", True)], ids=combo_name)
def test_model_gradients_without_input_feeding(combo):
    results = check_model(combo, seed=1, options={"input_feeding": False})
    assert not failures(results), "\n".join(r.describe() for r in failures(results))


def failed_names(combo):
    return {r.name for r in failures(check_model(combo, seed=0, n_samples=4, n_directions=2))}


def test_planted_bug_in_the_attention_backward_is_caught(monkeypatch):
    real = decoders.attention_scores_backward

    def scaled(dcontext, dweights, cache):
        return real(dcontext, dweights, cache) * 1.001

    monkeypatch.setattr(decoders, "attention_scores_backward", scaled)
    failed = failed_names(("lstm", "additive", "bahdanau", False))
    assert {"dec.attn.Wq", "dec.attn.Wk", "dec.attn.v"} <= failed
    assert "dec.out.W" not in failed and "dec.out.b" not in failed


def test_dropping_the_attention_value_path_is_caught(monkeypatch):
    real = decoders.MemoryGrads.add

    def add(self, field, g):
        real(self, field, g * 0.0 if field == "keys" else g)

    monkeypatch.setattr(decoders.MemoryGrads, "add", add)
    failed = failed_names(("gru", "dot", "luong", True))
    assert {"enc.fwd.Wx", "enc.bwd.Wx", "enc.embed.W"} <= failed
    assert not any(name.startswith("dec.") for name in failed)


def test_dropping_the_fixed_context_of_the_baseline_is_caught(monkeypatch):
    real = decoders.MemoryGrads.add

    def add(self, field, g):
        real(self, field, g * 0.0 if field == "fixed" else g)

    monkeypatch.setattr(decoders.MemoryGrads, "add", add)
    failed = failed_names(("lstm", "none", "bahdanau", False))
    assert {"enc.fwd.Wx", "enc.fwd.Wh"} <= failed


def test_planted_bug_in_the_luong_combine_is_caught(monkeypatch):
    real = decoders.tanh_backward
    monkeypatch.setattr(decoders, "tanh_backward", lambda dt, t: real(dt, t) * 1.001)
    failed = failed_names(("lstm", "dot", "luong", False))
    assert {"dec.combine.W", "dec.combine.b", "dec.rnn.Wx"} <= failed
    assert "dec.out.W" not in failed


def test_grads_match_params():
    model, batch = tiny_model(), pairs_batch(PAIRS)
    loss, grads = model.loss_and_grads(batch)
    assert isinstance(loss, float) and list(grads) == list(model.params)
    for name, p in model.params.items():
        assert grads[name].shape == p.shape and grads[name].dtype == p.dtype, name


# ------------------------------------------------------------------------------------------
# helpers: a tiny model on the reverse task


TASK = make_task("reverse", min_len=1, max_len=6, seed=0)
PAIRS = [(list("31"), list("13")), (list("4159"), list("9514")), (list("2"), list("2")),
         (list("26535"), list("53562"))]


def tiny_model(seed=0, dtype="float64", **settings) -> Seq2Seq:
    V_src, V_tgt = len(TASK.src_vocab), len(TASK.tgt_vocab)
    config = Seq2SeqConfig(V_src, V_tgt, embed=8, hidden=8, attn_dim=6, **settings)
    with default_dtype(dtype):
        return Seq2Seq(config, seed=seed)


def pairs_batch(pairs) -> Batch:
    return collate(pairs, TASK.src_vocab, TASK.tgt_vocab)


SETTINGS = [{"cell": "lstm", "score": "additive", "decoder": "bahdanau"},
            {"cell": "gru", "score": "general", "decoder": "luong", "bidirectional": True},
            {"cell": "lstm", "score": "concat", "decoder": "luong", "bidirectional": True,
             "input_feeding": False},
            {"cell": "gru", "score": "none", "decoder": "bahdanau", "bidirectional": True}]
SETTING_IDS = ["lstm-additive-bahdanau", "gru-general-luong-bi", "lstm-concat-luong-bi-nofeed",
               "gru-none-bahdanau-bi"]


# ------------------------------------------------------------------------------------------
# gradients are the caller's: no array shared with a parameter, a cache or another gradient


@pytest.mark.parametrize("settings", SETTINGS, ids=SETTING_IDS)
def test_returned_gradients_are_independent_arrays(settings, backend):
    """Changing every returned gradient in place changes no parameter and no later step's gradient."""
    model, batch = tiny_model(**settings), pairs_batch(PAIRS)
    params_before = {name: to_numpy(p).copy() for name, p in model.params.items()}
    _, grads = model.loss_and_grads(batch)
    first = {name: to_numpy(g).copy() for name, g in grads.items()}
    for g in grads.values():
        g *= -3.0
        g += 1e3
    for name, p in model.params.items():
        np.testing.assert_array_equal(to_numpy(p), params_before[name], err_msg=name)
    _, again = model.loss_and_grads(batch)
    for name, g in again.items():
        np.testing.assert_array_equal(to_numpy(g), first[name], err_msg=name)
        assert all(g is not other for other_name, other in again.items() if other_name != name), name


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_zero_states_are_separate_arrays(cell):
    model = tiny_model(cell=cell, bidirectional=True)
    h0, c0 = model.encoder._zeros(2)
    assert h0 is not c0 and not np.shares_memory(h0, c0) if cell == "lstm" else c0 is None


# ------------------------------------------------------------------------------------------
# masking


@pytest.mark.parametrize("settings", SETTINGS, ids=SETTING_IDS)
def test_padding_does_not_change_a_sequence(settings, backend):
    """A short pair gives the same loss share, gradients and greedy output alone or beside longer ones."""
    model = tiny_model(**settings)
    short, longer = PAIRS[0], PAIRS[3]
    n_short, n_long = len(short[1]) + 1, len(longer[1]) + 1  # counted tokens (target + EOS)
    loss_a, grads_a = model.loss_and_grads(pairs_batch([short]))
    loss_b, grads_b = model.loss_and_grads(pairs_batch([longer]))
    together = pairs_batch([short, longer])
    loss_ab, grads_ab = model.loss_and_grads(together)
    assert float(loss_ab) * (n_short + n_long) == pytest.approx(float(loss_a) * n_short + float(loss_b) * n_long, rel=1e-12)
    for name in model.params:
        mixed = to_numpy(grads_a[name]) * n_short + to_numpy(grads_b[name]) * n_long
        total = to_numpy(grads_ab[name]) * (n_short + n_long)
        np.testing.assert_allclose(total, mixed, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    alone = model.greedy(pairs_batch([short]).src, pairs_batch([short]).src_mask, max_len=7)
    mixed = model.greedy(together.src, together.src_mask, max_len=7)
    L, S = alone.tokens.shape[1], alone.attention.shape[2]
    np.testing.assert_array_equal(mixed.tokens[0, :L], alone.tokens[0])
    assert (mixed.tokens[0, L:] == 0).all()
    np.testing.assert_allclose(mixed.attention[0, :L, :S], alone.attention[0], atol=1e-12)
    assert (mixed.attention[0, :, S:] == 0).all()


# ------------------------------------------------------------------------------------------
# decoding


def check_decoded(out: Decoded, batch: Batch, max_len: int, attends: bool) -> None:
    N, S = batch.src.shape
    assert isinstance(out.tokens, np.ndarray) and out.tokens.dtype == np.int64
    assert out.tokens.shape[0] == N and 1 <= out.tokens.shape[1] <= max_len
    assert isinstance(out.attention, np.ndarray) and out.attention.shape == (*out.tokens.shape, S)
    for n in range(N):
        row = list(out.tokens[n])
        end = row.index(2) + 1 if 2 in row else len(row)  # EOS included
        assert all(t == 0 for t in row[end:]), row  # PAD after EOS
        sums = out.attention[n].sum(axis=1)
        np.testing.assert_allclose(sums[:end], 1.0 if attends else 0.0, atol=1e-6)
        assert (out.attention[n, end:] == 0).all()
        assert (out.attention[n][:, ~batch.src_mask[n]] == 0).all()
    if out.tokens.shape[1] < max_len:
        assert (out.tokens == 2).any(axis=1).all()  # stopped early only because every row ended


@pytest.mark.parametrize("settings", SETTINGS, ids=SETTING_IDS)
def test_greedy_and_beam_outputs(settings, backend):
    model, batch = tiny_model(**settings), pairs_batch(PAIRS)
    attends = settings["score"] != "none"
    greedy = model.greedy(batch.src, batch.src_mask, max_len=6)
    check_decoded(greedy, batch, 6, attends)
    for k in (2, 3):
        check_decoded(model.beam(batch.src, batch.src_mask, max_len=6, k=k), batch, 6, attends)
    one = model.beam(batch.src, batch.src_mask, max_len=6, k=1)
    np.testing.assert_array_equal(one.tokens, greedy.tokens)
    np.testing.assert_allclose(one.attention, greedy.attention, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_with_k1_is_greedy_on_random_models(seed):
    model, batch = tiny_model(seed=seed, dtype="float32", cell="gru", score="dot"), pairs_batch(PAIRS)
    greedy = model.greedy(batch.src, batch.src_mask, max_len=8)
    one = model.beam(batch.src, batch.src_mask, max_len=8, k=1)
    np.testing.assert_array_equal(one.tokens, greedy.tokens)


def test_beam_finds_the_best_normalised_sequence():
    """With enough beams, beam search is exhaustive: compare with every sequence, scored by the loss.

    PAD and BOS are made (nearly) impossible outputs, so the candidates are the sequences over
    {EOS, a, b}: the normalised score of a sequence is minus its mean cross-entropy.
    """
    src_vocab = tgt_vocab = 5  # PAD, BOS, EOS, a=3, b=4
    with default_dtype("float64"):
        model = Seq2Seq(Seq2SeqConfig(src_vocab, tgt_vocab, embed=4, hidden=6), seed=3)
    model.params["dec.out.b"][:2] = -1e4
    src, mask = np.array([[3, 4, 4]]), np.ones((1, 3), bool)
    best, best_score = None, -math.inf
    for length in (1, 2, 3):
        for words in np.ndindex(*(2,) * length):
            for ends in (True, False):
                if not ends and length < 3:
                    continue
                seq = [3 + w for w in words[:-1]] + ([2] if ends else [3 + words[-1]])
                tgt_in = np.array([[1] + seq[:-1]])
                b = Batch(src, mask, tgt_in, np.array([seq]), np.ones((1, length), bool))
                score = -model.loss(b)
                if score > best_score:
                    best, best_score = seq, score
    found = model.beam(src, mask, max_len=3, k=7).tokens[0]
    assert list(found[:len(best)]) == best and (found[len(best):] == 0).all()


def _outputs_with_encoder(model: Seq2Seq, batch: Batch, keys_shift: float, final_shift: float):
    """The loss, greedy and beam tokens of ``model`` when its encoder outputs (keys) and its final
    state are shifted by the given amounts (random per element, seeded) after the encoder runs."""
    real, rng = model.encoder.forward, np.random.default_rng(0)

    def shifted(src, src_mask):
        keys, final_h, final_c, cache = real(src, src_mask)
        keys = keys + keys_shift * rng.standard_normal(keys.shape)
        final_h = final_h + final_shift * rng.standard_normal(final_h.shape)
        return keys, final_h, final_c, cache

    model.encoder.forward = shifted
    try:
        return (model.loss(batch), model.greedy(batch.src, batch.src_mask, 6).tokens,
                model.beam(batch.src, batch.src_mask, 6, k=3).tokens)
    finally:
        del model.encoder.forward


@pytest.mark.parametrize("settings", [{}, {"cell": "gru", "decoder": "luong", "bidirectional": True}])
def test_the_none_baseline_reads_its_final_state_and_never_its_keys(settings):
    """score 'none': other encoder outputs with the same final state leave every logit, so the loss and
    the decoded tokens, exactly as they were; another final state changes them. (An attention model
    given the same other keys does change: the shift is one attention would see.)"""
    batch = pairs_batch(PAIRS)
    model = tiny_model(score="none", **settings)
    loss, greedy, beam = _outputs_with_encoder(model, batch, 0.0, 0.0)
    other_keys = _outputs_with_encoder(model, batch, 1.0, 0.0)
    assert other_keys[0] == loss
    np.testing.assert_array_equal(other_keys[1], greedy)
    np.testing.assert_array_equal(other_keys[2], beam)
    assert _outputs_with_encoder(model, batch, 0.0, 1.0)[0] != loss
    attending = tiny_model(score="additive", **settings)
    assert _outputs_with_encoder(attending, batch, 1.0, 0.0)[0] != _outputs_with_encoder(attending, batch, 0.0, 0.0)[0]


def test_score_none_reports_zero_attention():
    model, batch = tiny_model(score="none"), pairs_batch(PAIRS)
    assert (model.greedy(batch.src, batch.src_mask, 5).attention == 0).all()


# ------------------------------------------------------------------------------------------
# parameters, seeds, dtypes


def test_same_seed_same_params(backend):
    a, b, c = tiny_model(seed=7, dtype="float32"), tiny_model(seed=7, dtype="float32"), tiny_model(seed=8)
    with minatt.use("numpy"):
        host = tiny_model(seed=7, dtype="float32")
    assert list(a.params) == list(host.params)
    for name in a.params:
        np.testing.assert_array_equal(to_numpy(a.params[name]), to_numpy(b.params[name]))
        # bit-identical across backends
        np.testing.assert_array_equal(to_numpy(a.params[name]), host.params[name])
    assert any(not np.array_equal(to_numpy(a.params[k]), to_numpy(c.params[k])) for k in a.params)


def test_param_names_and_shapes():
    model = Seq2Seq(Seq2SeqConfig(11, 13, embed=5, hidden=6, cell="gru", score="concat", decoder="luong",
                                  bidirectional=True, attn_dim=4))
    shapes = {k: tuple(v.shape) for k, v in model.params.items()}
    assert shapes == {
        "enc.embed.W": (11, 5),
        "enc.fwd.Wx": (5, 9), "enc.fwd.Wh": (3, 9), "enc.fwd.bx": (9,), "enc.fwd.bh": (9,),
        "enc.bwd.Wx": (5, 9), "enc.bwd.Wh": (3, 9), "enc.bwd.bx": (9,), "enc.bwd.bh": (9,),
        "bridge.h.W": (6, 6), "bridge.h.b": (6,), "dec.embed.W": (13, 5), "dec.rnn.Wx": (11, 18),
        "dec.rnn.Wh": (6, 18), "dec.rnn.bx": (18,), "dec.rnn.bh": (18,),
        "dec.attn.Wa": (12, 4), "dec.attn.v": (4,),
        "dec.combine.W": (12, 6), "dec.combine.b": (6,), "dec.out.W": (6, 13), "dec.out.b": (13,),
    }
    assert model.num_params() == sum(int(np.prod(s)) for s in shapes.values())


def test_float32_end_to_end(backend):
    model32, model64, batch = tiny_model(dtype="float32"), tiny_model(dtype="float64"), pairs_batch(PAIRS)
    loss32, grads32 = model32.loss_and_grads(batch)
    loss64, grads64 = model64.loss_and_grads(batch)
    assert math.isfinite(loss32) and float(loss32) == pytest.approx(float(loss64), rel=1e-5)
    for name, g in grads32.items():
        assert g.dtype == np.float32, name
        np.testing.assert_allclose(to_numpy(g), to_numpy(grads64[name]), rtol=1e-3, atol=1e-5, err_msg=name)
    assert model32.greedy(batch.src, batch.src_mask, 4).attention.dtype == np.float32


def test_params_are_read_at_every_call():
    """Optimisers update in place and checkpoints may replace arrays: the model sees both."""
    model, batch = tiny_model(), pairs_batch(PAIRS)
    before = model.loss(batch)
    model.params["dec.out.b"] = model.params["dec.out.b"] + 1.0  # a uniform shift leaves softmax unchanged
    assert model.loss(batch) == pytest.approx(before, rel=1e-12)
    model.params["dec.out.W"][...] = 0.0
    assert model.loss(batch) != pytest.approx(before)


# ------------------------------------------------------------------------------------------
# training


@pytest.mark.parametrize("decoder", ["bahdanau", "luong"])
def test_training_learns_to_reverse(decoder):
    task = make_task("reverse", min_len=2, max_len=5, seed=0)
    V = len(task.tgt_vocab)
    model = Seq2Seq(Seq2SeqConfig(len(task.src_vocab), V, embed=16, hidden=32, decoder=decoder), seed=0)
    opt, rng = Adam(model.params, lr=1e-2), np.random.default_rng(0)
    for _ in range(120):
        _loss, grads = model.loss_and_grads(task.batch(rng, 32))
        opt.step(grads)
    held_out = task.test_set(64, seed=1)
    assert model.loss(held_out) < 0.1 * math.log(V)
    out = model.greedy(held_out.src, held_out.src_mask, max_len=held_out.tgt_out.shape[1])
    L = min(out.tokens.shape[1], held_out.tgt_out.shape[1])
    right = (out.tokens[:, :L] == held_out.tgt_out[:, :L]) | ~held_out.tgt_mask[:, :L]
    assert right.all(axis=1).mean() > 0.8


# ------------------------------------------------------------------------------------------
# validation


def test_config_errors_name_the_valid_values():
    with pytest.raises(ConfigError, match=r"unknown cell 'rnn': choose one of lstm, gru"):
        Seq2SeqConfig(10, 10, cell="rnn")
    with pytest.raises(ConfigError, match=r"unknown score 'cosine': choose one of additive, bahdanau, dot, scaled_dot, "
                                          r"general, concat, none"):
        Seq2SeqConfig(10, 10, score="cosine")
    with pytest.raises(ConfigError, match=r"unknown decoder 'transformer': choose one of bahdanau, luong"):
        Seq2SeqConfig(10, 10, decoder="transformer")
    with pytest.raises(ConfigError, match=r"hidden must be a positive integer, got 0"):
        Seq2SeqConfig(10, 10, hidden=0)
    with pytest.raises(ConfigError, match=r"attn_dim must be a positive integer, got -3"):
        Seq2SeqConfig(10, 10, attn_dim=-3)
    with pytest.raises(ConfigError, match=r"hidden must be even when bidirectional"):
        Seq2SeqConfig(10, 10, hidden=7, bidirectional=True)
    with pytest.raises(ConfigError, match=r"unknown model setting\(s\) dropout"):
        Seq2SeqConfig.from_dict({"src_vocab": 5, "tgt_vocab": 5, "dropout": 0.1})
    with pytest.raises(ConfigError, match=r"Seq2Seq needs src_vocab and tgt_vocab"):
        Seq2Seq(Seq2SeqConfig(hidden=8))  # a TrainConfig's model, before the task sets its vocabulary sizes
    with pytest.raises(ConfigError, match=r"eos_id must be an integer in \[0, 2\)"):
        Seq2SeqConfig(2, 5)
    with pytest.raises(ConfigError, match=r"k must be a positive integer, got 0"):
        tiny_model().beam(np.array([[4]]), np.array([[True]]), max_len=3, k=0)


def test_config_round_trip_and_alias():
    config = Seq2SeqConfig(9, 8, score="bahdanau", decoder="luong", bidirectional=True, input_feeding=False)
    assert Seq2SeqConfig.from_dict(config.to_dict()) == config
    assert config.score_kind == "additive" and config.attention_size == config.hidden
    a = Seq2Seq(config, seed=1)
    b = Seq2Seq(dataclasses.replace(config, score="additive"), seed=1)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in b.params)


def _with(batch: Batch, **fields) -> Batch:
    return batch._replace(**fields)


BAD_BATCHES = [  # checked with the ops' contract machinery (minatt.specs), so the messages read like the ops'
    (lambda b: {"src": b.src[0]},
     r"^Seq2Seq: src: expected a 2-d array of shape \(N, S\), got int64 array of shape \(5,\)$"),
    (lambda b: {"src": b.src.astype(np.float32)},
     r"^Seq2Seq: src: expected an integer array of ids, got float32 array"),
    (lambda b: {"src": b.src + 20},
     r"^Seq2Seq: src: expected ids in \[0, Vs\) = \[0, 14\) \(Vs from config.src_vocab\), got ids from 20 to 33$"),
    (lambda b: {"src_mask": b.src_mask.astype(int)},
     r"^Seq2Seq: src_mask: expected a bool mask \(True = real token, False = padding\), got int64"),
    (lambda b: {"src_mask": b.src_mask[:, ::-1]},
     r"^Seq2Seq: src_mask: expected each row to be True on the real tokens then False"),
    (lambda b: {"tgt_in": b.tgt_in[:3]},
     r"^Seq2Seq: tgt_in: expected shape \(N, T\) = \(4, T\) \(N = 4 from src\), got \(3, 6\)$"),
    (lambda b: {"tgt_out": b.tgt_out[:, :-1]},
     r"^Seq2Seq: tgt_out: expected shape \(N, T\) = \(4, 6\) \(N = 4 from src, T = 6 from tgt_in\), got \(4, 5\)$"),
    (lambda b: {"tgt_out": -b.tgt_out},
     r"^Seq2Seq: tgt_out: expected ids in \[0, Vt\) = \[0, 14\) \(Vt from config.tgt_vocab\), got ids from -"),
    (lambda b: {"tgt_mask": b.tgt_mask[:, :2]},
     r"^Seq2Seq: tgt_mask: expected shape \(N, T\) = \(4, 6\) \(N = 4 from src, T = 6 from tgt_in\), got \(4, 2\)$"),
]


@pytest.mark.parametrize("fields, message", BAD_BATCHES)
def test_batch_validation(fields, message):
    model, batch = tiny_model(), pairs_batch(PAIRS)
    with pytest.raises(ShapeError, match=message):
        model.loss_and_grads(_with(batch, **fields(batch)))


def test_decoding_validation():
    model, batch = tiny_model(), pairs_batch(PAIRS)
    with pytest.raises(ShapeError, match=r"^Seq2Seq: src_mask: expected shape \(N, S\) = \(4, 5\) \(N = 4 from src, "
                                         r"S = 5 from src\), got \(4, 4\)$"):
        model.greedy(batch.src, batch.src_mask[:, 1:], max_len=3)
    with pytest.raises(ShapeError, match=r"batch: expected a minatt.tasks.Batch with fields src, src_mask"):
        model.loss((batch.src, batch.src_mask))
    with pytest.raises(ConfigError, match=r"max_len must be a positive integer, got 0"):
        model.greedy(batch.src, batch.src_mask, max_len=0)
