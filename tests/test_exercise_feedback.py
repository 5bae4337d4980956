"""Exercise feedback that points at the cause without giving the answer (issues 14 and 24).

Each rule of :mod:`minatt.exercises.feedback` gets a test that plants the mistake it describes in
a solution of tests/exercise_solutions.py and checks that its message, and no wrong one, fires.
The tiers: the first report names the gradient and the kind of mistake, ``--hint`` a pointer,
``--hint 2`` the formula.
"""

from __future__ import annotations

import re

import numpy
import pytest

from minatt.backend import default_dtype, use
from minatt.exercises import EXERCISES, check_exercise, main
from minatt.exercises.registry_basics import GRU_GATE_GROUPS, GRU_GATE_HINTS
from minatt.exercises.spec import VALUE_TOL
from tests.exercise_solutions import SOLUTIONS, write

KINDS = ("the sign is flipped", "times the right gradient", "transpose", "yours is 0 everywhere",
         "wrong only at padded positions", "does not depend on the element", "elements: a term is wrong",
         "wrong everywhere")


def _flat(report) -> str:
    return " ".join(report.format().split())


def _planted(tmp_path, name, old, new, level=0):
    source = SOLUTIONS[name]
    assert source.count(old) == 1, old
    return check_exercise(name, write(tmp_path, name, source.replace(old, new)), hint_level=level)


def _kinds(detail: str) -> set[str]:
    """Which kind-of-mistake phrases a detail line has."""
    return {k for k in KINDS if k in detail}


# ---------------------------------------------------------------------------------------
# The kind of mistake


def test_a_constant_factor_is_named_and_is_no_transpose(tmp_path):
    """A 1.0001 scale on dh_prev: a factor, not 'check for a transpose'."""
    report = _planted(tmp_path, "lstm_step", "dh_prev = da @ cache.Wh.T", "dh_prev = 1.0001 * (da @ cache.Wh.T)",
                      level=2)
    detail = report.grad("dh_prev").detail
    assert "yours is 1.0001 times the right gradient everywhere" in detail
    assert _kinds(detail) == {"times the right gradient"}
    assert "transpose" not in _flat(report) and "order" not in _flat(report)
    assert {g.name for g in report.grads if not g.passed} == {"dh_prev"}


def test_a_flipped_sign_is_named(tmp_path):
    detail = _planted(tmp_path, "affine", "db = dout2.sum(axis=0)", "db = -dout2.sum(axis=0)").grad("db").detail
    assert _kinds(detail) == {"the sign is flipped"}


def test_a_square_transpose_is_named(tmp_path):
    """dWh (H, H) transposed has the right shape: the numbers say it is the transpose."""
    detail = _planted(tmp_path, "rnn_step", "dWh = h_prev.T @ da", "dWh = da.T @ h_prev").grad("dWh").detail
    assert _kinds(detail) == {"transpose"}


def test_a_reversed_shape_is_called_a_transpose_and_a_wrong_shape_otherwise(tmp_path):
    report = _planted(tmp_path, "affine", "dW = cache.x2.T @ dout2", "dW = dout2.T @ cache.x2")
    assert "got shape (3, 2), expected (2, 3) like W: a transpose" in report.grad("dW").detail
    report = _planted(tmp_path, "affine", "db = dout2.sum(axis=0)", "db = dout2.sum(axis=0, keepdims=True)")
    assert "transpose" not in report.grad("db").detail and "got shape (1, 3)" in report.grad("db").detail


def test_an_all_zero_gradient_is_a_missing_path(tmp_path):
    detail = _planted(tmp_path, "affine", "db = dout2.sum(axis=0)", "db = 0 * dout2.sum(axis=0)").grad("db").detail
    assert _kinds(detail) == {"yours is 0 everywhere"}


def test_a_partly_wrong_gradient_says_how_much(tmp_path):
    """dW[ids] += dout keeps one of a repeated id's rows: the rows of ids seen once are right."""
    report = _planted(tmp_path, "embedding", "np.add.at(dW, cache.ids.reshape(-1), dout.reshape(-1, D))",
                      "dW[cache.ids.reshape(-1)] += dout.reshape(-1, D)")
    detail = report.grad("dW").detail
    assert re.search(r"wrong in \d+ of \d+ elements: a term is wrong or missing for part of it", detail), detail
    assert _kinds(detail) == {"elements: a term is wrong"}


def test_wrong_only_at_padding_is_named(tmp_path):
    detail = _planted(tmp_path, "cross_entropy", "d * cache.counted[:, None] *", "d *").grad("dlogits").detail
    assert "wrong only at padded positions" in detail
    assert "a padded position: its gradient must be exactly 0" in detail


def test_an_unused_row_is_not_called_padding(tmp_path):
    detail = _planted(tmp_path, "embedding", "return dW",
                      "return dW + (np.abs(dW).sum(axis=1, keepdims=True) == 0)").grad("dW").detail
    assert "padded" not in detail and "does not depend on th" in detail


def test_no_padding_is_blamed_on_a_row_without_padding(tmp_path):
    """Dropping the softmax subtraction: the worst element is the one real position of a row, not padding."""
    report = _planted(tmp_path, "attention", "w * (dw - (w * dw).sum(axis=1, keepdims=True))", "w * dw")
    detail = report.grad("dscores").detail
    assert report.grad("dscores").status == "fail"
    assert "padded" not in detail and "the only real position of its row" in detail, detail


def test_a_mistake_only_at_padding_is_told_so(tmp_path):
    """BPTT that adds dhs at padded steps: right without padding, and the report says so."""
    report = _planted(tmp_path, "lstm_bptt", "dh_t = dh + np.where(r, dhs[:, t], 0.0)", "dh_t = dh + dhs[:, t]",
                      level=1)
    assert "right on every input set without padding: check what happens at the padded positions" in \
        report.grad("dh0").detail
    assert "ignores dhs there" in _flat(report)


def test_an_output_off_by_a_factor_is_named(tmp_path):
    """Outputs get the same rules: Adam's first moment without its (1 - beta1)."""
    report = _planted(tmp_path, "adam", "m_next = beta1 * m + (1 - beta1) * g", "m_next = beta1 * m + g")
    assert report.grad("p_next").passed is False and report.grad("v_next").passed
    text = " ".join(report.format().split())
    assert "transpose" not in text and "padded" not in text
    first = _planted(tmp_path, "adam", "return p_next, m_next, v_next", "return p_next, 2 * m_next, v_next")
    assert first.grad("m_next").detail.startswith("yours is 2 times the right output everywhere")


def test_an_output_wrong_only_at_padding_is_named(tmp_path):
    report = _planted(tmp_path, "masked_softmax", "return p, SoftmaxCache(p)",
                      "p = p + (p == 0)\n            return p, SoftmaxCache(p)")
    detail = report.grad("p").detail
    assert detail.startswith("wrong only at padded positions, whose value must be exactly 0"), detail


# ---------------------------------------------------------------------------------------
# Gates


@pytest.mark.parametrize("name", ["lstm_step", "lstm_cell"])
def test_a_wrong_gate_derivative_names_the_gate(name, tmp_path):
    """The sigmoid's derivative used for g: only the g columns are wrong, and the report says so."""
    report = _planted(tmp_path, name, "dc_t * i * (1 - g ** 2)", "dc_t * i * g * (1 - g)", level=1)
    grad = "dWx" if name == "lstm_step" else "da"
    detail = report.grad(grad).detail
    assert detail.startswith(f"{grad} wrong in columns 2H:3H (gate g); the other gates (i, f, o) are right: "
                             f"g is a tanh, not a sigmoid"), detail
    assert "(1 - g ** 2)" not in detail  # the formula waits for --hint 2
    assert "order" not in _flat(report) and "transpose" not in _flat(report)
    if name == "lstm_step":
        assert report.grad("db").detail.startswith("db wrong in columns 2H:3H (gate g)")
        assert report.grad("dc_prev").passed
    formula = _planted(tmp_path, name, "dc_t * i * (1 - g ** 2)", "dc_t * i * g * (1 - g)", level=2)
    assert "da_g = dc_t * i * (1 - g ** 2)" in formula.grad(grad).detail


def test_the_second_block_is_columns_h_to_2h(tmp_path):
    report = _planted(tmp_path, "lstm_step", "da_f = dc_t * cache.cell.c_prev * f * (1 - f)",
                      "da_f = dc_t * cache.cell.c_prev * f")
    assert report.grad("dWx").detail.startswith("dWx wrong in columns H:2H (gate f)")
    assert "1H" not in _flat(report)


def test_gates_in_the_wrong_order_are_named(tmp_path):
    """Swapping g's and o's blocks: the order advice fires, because swapping them back makes it match."""
    report = _planted(tmp_path, "lstm_step", "[da_i, da_f, da_g, da_o]", "[da_i, da_f, da_o, da_g]")
    assert report.grad("dWh").detail.startswith(
        "dWh wrong in columns 2H:3H (gate g) and columns 3H:4H (gate o); the other gates (i, f) are right: your "
        "blocks are in the order i, f, o, g; put them in the order i, f, g, o")


def test_a_dropped_path_into_dc_t_is_not_called_gate_order(tmp_path):
    """dc_t without the h_next path: i, f, g are wrong, o is right; no gradient's line speaks of order."""
    line = "dc_t = dc_next + dh_next * o * (1 - tc ** 2)"
    report = _planted(tmp_path, "lstm_step", line, "dc_t = dc_next", level=1)
    text = _flat(report)
    assert "order" not in text
    for grad in ("dWx", "dWh", "db"):
        detail = report.grad(grad).detail
        assert detail.startswith(f"{grad} wrong in columns 0:H (gate i) and columns H:2H (gate f) and columns "
                                 f"2H:3H (gate g); the other gates (o) are right: i, f and g act through the "
                                 f"cell state and o does not: what they share is dc_t"), detail
    # dx and dh_prev are da @ W^T: they point at the gate line. dc_prev = dc_t * f is not: it keeps its own.
    assert report.grad("dx").hint.startswith("dx is computed from the gate pre-activation gradient")
    assert report.grad("dh_prev").hint.startswith("dh_prev is computed from the gate pre-activation gradient")
    assert report.grad("dc_prev").hint == "c_prev reaches the loss only through c_next = f * c_prev + i * g"
    assert "same pre-activation gradient" not in text


def test_a_wrong_gru_gate_is_named_with_the_codes_names(tmp_path):
    report = _planted(tmp_path, "gru_step", "da_r = da_nx * cache.cell.ah_n * r * (1 - r)",
                      "da_r = da_nx * cache.cell.ah_n * r", level=2)
    detail = report.grad("dWx").detail
    assert detail.startswith("dWx wrong in columns 0:H (gate r); the other gates (z, n) are right: r multiplies")
    assert "da_r = da_nx * ah_n * r * (1 - r)" in detail


def test_a_wrong_gru_n_points_at_n_first(tmp_path):
    """n's derivative wrong: r's gradient, computed from n's, is wrong too; the report says to fix n."""
    report = _planted(tmp_path, "gru_step", "da_nx = dh_next * (1 - z) * (1 - n ** 2)",
                      "da_nx = dh_next * (1 - z) * (1 - n)", level=1)
    detail = report.grad("dWx").detail
    assert "(gate r) and columns 2H:3H (gate n)" in detail and "check n first" in detail
    assert "order" not in _flat(report)


def test_every_hint_is_a_pointer_and_a_formula():
    for spec in EXERCISES.values():
        hints = [*spec.hints.values(), *spec.gate_hints.values(), *spec.gate_groups.values()]
        hints += [spec.common_hint] if spec.common_hint else []
        for hint in hints:
            assert isinstance(hint, tuple) and len(hint) == 2 and all(isinstance(t, str) and t for t in hint), \
                (spec.name, hint)
        assert set(spec.hints) == set(spec.reported), spec.name


def test_the_gru_hints_use_the_codes_names():
    """The code says da_nx and da_nh; no hint says a bare da_n."""
    texts = [t for h in [*GRU_GATE_HINTS.values(), *GRU_GATE_GROUPS.values()] for t in h]
    for name in ("gru_step", "gru_bptt"):
        spec = EXERCISES[name]
        texts += [t for h in [*spec.hints.values(), spec.common_hint] for t in h]
    assert any("da_nx" in t for t in texts) and any("da_nh" in t for t in texts)
    assert not [t for t in texts if re.search(r"\bda_n\b", t)]


# ---------------------------------------------------------------------------------------
# Tiers, the command line, the stated error levels


def test_the_tiers(tmp_path):
    """Level 0 names the mistake only; 1 adds the pointer; 2 the formula too."""
    pointer, formula = EXERCISES["affine"].hints["dW"]
    texts = [_flat(_planted(tmp_path, "affine", "dW = cache.x2.T @ dout2", "dW = 2 * cache.x2.T @ dout2",
                            level=level)) for level in (0, 1, 2)]
    assert all("yours is 2 times the right gradient everywhere" in t for t in texts)
    assert pointer not in texts[0] and formula not in texts[0] and "run again with --hint 1" in texts[0]
    assert pointer in texts[1] and formula not in texts[1] and "run again with --hint 2" in texts[1]
    assert pointer in texts[2] and " ".join(formula.split()) in texts[2] and "run again" not in texts[2]


@pytest.mark.parametrize("argv, level", [(["--hint"], 1), (["--hint", "--hint"], 2), (["--hint", "2"], 2),
                                         ([], 0), (["--hint", "5"], 2)])
def test_hint_on_the_command_line(argv, level, tmp_path, capsys):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("dW = cache.x2.T @ dout2", "dW = 2 * dout2[:2]"))
    assert main(["affine", "--file", str(path), *argv]) == 1
    out = " ".join(capsys.readouterr().out.split())
    pointer, formula = EXERCISES["affine"].hints["dW"]
    assert (pointer in out) == (level >= 1) and (formula in out) == (level >= 2)


def test_hint_before_the_name(tmp_path, capsys):
    path = write(tmp_path, "affine", SOLUTIONS["affine"].replace("dW = cache.x2.T @ dout2", "dW = 2 * dout2[:2]"))
    assert main(["--hint", "affine", "--file", str(path)]) == 1
    assert EXERCISES["affine"].hints["dW"][0] in " ".join(capsys.readouterr().out.split())


def test_the_list_states_each_level_and_what_passes(capsys):
    assert main(["--list"]) == 0
    listing = " ".join(capsys.readouterr().out.split())
    for spec in EXERCISES.values():
        assert f"expected: {spec.level}" in listing
    assert f"p equal to the library's to about 1e-15 (relative error) (passes p below {VALUE_TOL:.0e})" in listing


def test_the_stated_levels_agree_with_the_readme_and_the_stubs():
    """'about 1e-15' for a correct forward, 'below 1e-10' to pass, everywhere they are stated."""
    from tests.test_exercises import STUBS

    readme = (STUBS / "README.md").read_text()
    assert "| forward | `masked_softmax`, `adam`, `clip_grad_norm` | equal to the library's to about 1e-15 | " \
           "below 1e-10 |" in readme
    assert VALUE_TOL == 1e-10
    for spec in EXERCISES.values():
        if spec.kind in ("forward", "forward_backward"):
            assert "about 1e-15" in spec.level, spec.name
            assert "about 1e-15" in (STUBS / f"{spec.name}.py").read_text() and "1e-10" in \
                (STUBS / f"{spec.name}.py").read_text(), spec.name
        assert "1e-12" not in spec.level


# ---------------------------------------------------------------------------------------
# Outputs, searches, the whole model


def test_a_nan_from_a_fully_masked_row_is_explained(tmp_path):
    with numpy.errstate(invalid="ignore"):
        report = _planted(tmp_path, "masked_softmax", "p = e / np.where(total > 0, total, 1.0)", "p = e / total")
    assert "nan at p[0, 0]" in report.grad("p").detail
    assert "a row with no real position: it must be all zeros" in report.grad("p").detail


def test_an_overflow_is_explained(tmp_path):
    with numpy.errstate(over="ignore", invalid="ignore"):
        report = _planted(tmp_path, "masked_softmax", "m = np.where(np.isfinite(m), m, 0.0)", "m = np.zeros_like(m)")
    assert "exp overflows unless you subtract the row's maximum first" in report.grad("p").detail


def test_tokens_after_eos_must_be_pad(tmp_path):
    report = _planted(tmp_path, "greedy", "y = np.where(done, pad, logits.argmax(axis=1))", "y = logits.argmax(axis=1)")
    detail = report.grad("tokens").detail
    assert "first differs at step" in detail and "expected 0 (PAD)" in detail and "after EOS every token is PAD" in detail


def test_a_search_that_never_stops_early_is_told(tmp_path):
    report = _planted(tmp_path, "greedy", "if done.all():\n                    break", "pass")
    assert "you decoded 5 steps, expected 4: stop as soon as every sequence has produced EOS" in \
        report.grad("tokens").detail


def test_the_learners_own_cache_is_what_their_backward_gets(tmp_path):
    """lstm_cell: a cache of a different design (a dict, tanh(c_next) recomputed) passes too."""
    source = SOLUTIONS["lstm_cell"].replace("(i, f, g, o, c_prev, tc)", "{'gates': (i, f, g, o), 'c': c_next, "
                                                                       "'c_prev': c_prev}")
    source = source.replace("i, f, g, o, c_prev, tc = cache",
                            "(i, f, g, o), c_prev = cache['gates'], cache['c_prev']\n            tc = np.tanh(cache['c'])")
    report = check_exercise("lstm_cell", write(tmp_path, "lstm_cell", source))
    assert report.passed, report.format()


def test_the_model_exercise_names_the_context_path(tmp_path):
    """Forgetting that c (= final_h) also enters the decoder's input: only the encoder's gradients are wrong."""
    report = _planted(tmp_path, "model_loss_and_grads",
                      "dfinal_h = dh0 + do[:, :, H:].sum(axis=1) + dx_dec[:, :, E:].sum(axis=1)",
                      "dfinal_h = dh0 + do[:, :, H:].sum(axis=1)", level=1)
    wrong = {g.name for g in report.grads if not g.passed}
    assert wrong == {"grads['enc.embed.W']", "grads['enc.fwd.Wx']", "grads['enc.fwd.Wh']", "grads['enc.fwd.b']"}
    assert "final_h is ALSO the context c read at every step" in _flat(report)


def test_overfit_runs_on_the_learners_own_model(tmp_path):
    """A model whose gradients are all zero cannot fit: the report says whose model it ran."""
    write(tmp_path, "model_loss_and_grads", SOLUTIONS["model_loss_and_grads"].replace(
        "return loss, grads", "return loss, {k: 0 * g for k, g in grads.items()}"))
    report = check_exercise("overfit", write(tmp_path, "overfit", SOLUTIONS["overfit"]))
    assert report.grad("loss").status == "fail"
    assert "on your model (model_loss_and_grads.py): the loss went from" in report.grad("loss").detail


def test_overfit_falls_back_to_the_librarys_model(tmp_path):
    write(tmp_path, "model_loss_and_grads", "def loss_and_grads(params, batch):\n    raise NotImplementedError\n")
    report = check_exercise("overfit", write(tmp_path, "overfit", SOLUTIONS["overfit"]))
    assert report.passed, report.format()
    assert "the library's model (your model_loss_and_grads is not written yet)" in report.grad("loss").detail


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_the_step_exercises_compute_the_decoders_step(kind):
    """steps.bahdanau_step_forward / luong_step_forward give what the model's decoder step gives."""
    from minatt.exercises import decoder_steps as steps
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig

    with use("numpy"), default_dtype("float64"):
        score = "additive" if kind == "bahdanau" else "general"
        model = Seq2Seq(Seq2SeqConfig(src_vocab=6, tgt_vocab=7, embed=3, hidden=4, score=score, decoder=kind))
        rng = numpy.random.default_rng(0)
        mask = numpy.array([[True, True, True], [True, False, False]])
        mem, h0, c0, _ = model.encode(rng.integers(3, 6, size=(2, 3)), mask)
        dec, p = model.decoder, model.params
        y_emb = rng.standard_normal((2, 3))
        state = dec.initial_state(h0, c0)._replace(feed=rng.standard_normal((2, 4)) if kind == "luong" else None)
        new, o, _, _ = dec.step(dec.rnn.project(y_emb)[0], state, mem)
        rnn = (p["dec.rnn.Wx"], p["dec.rnn.Wh"], p["dec.rnn.b"])
        if kind == "bahdanau":
            ours = steps.bahdanau_step_forward(y_emb, h0, c0, mem.keys, p["dec.attn.Wq"], p["dec.attn.Wk"],
                                               p["dec.attn.v"], *rnn, mask=mask)
        else:
            ours = steps.luong_step_forward(y_emb, h0, c0, state.feed, mem.keys, *rnn, p["dec.attn.Wa"],
                                            p["dec.combine.W"], p["dec.combine.b"], mask=mask)
    for a, b in zip(ours[:3], (o, new.hidden, new.cell_state)):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_the_bidirectional_reference_is_the_encoders(tmp_path):
    """references.bidirectional_forward / _backward compute what minatt.model.nn.Encoder does (its embedding aside)."""
    from minatt.exercises import references
    from minatt.model.nn import Encoder

    with use("numpy"), default_dtype("float64"):
        params: dict = {}
        encoder = Encoder(params, "enc", "lstm", 6, 3, 4, True, numpy.random.default_rng(0))
        src = numpy.array([[3, 4, 5], [5, 3, 0]])
        mask = src != 0
        keys, final_h, final_c, cache = encoder.forward(src, mask)
        emb = params["enc.embed.W"][src]
        w = [params[f"enc.{d}.{n}"] for d in ("fwd", "bwd") for n in ("Wx", "Wh", "b")]
        ours = references.bidirectional_forward(emb, *w, mask)
        for a, b in zip(ours[:3], (keys, final_h, final_c)):
            numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        rng = numpy.random.default_rng(1)
        douts = (rng.standard_normal(keys.shape), rng.standard_normal(final_h.shape), rng.standard_normal(final_c.shape))
        grads: dict = {}
        encoder.backward(*douts, cache, grads)
        dx, *dw = references.bidirectional_backward(*douts, ours[3])
    for d, (direction, n) in zip(dw, [(d, n) for d in ("fwd", "bwd") for n in ("Wx", "Wh", "b")]):
        numpy.testing.assert_allclose(d, grads[f"enc.{direction}.{n}"], rtol=1e-10, atol=1e-12)
    dW = numpy.zeros_like(params["enc.embed.W"])
    numpy.add.at(dW, src, dx)  # the encoder's embedding backward of our dx
    numpy.testing.assert_allclose(dW, grads["enc.embed.W"], rtol=1e-10, atol=1e-12)


def test_a_model_that_returns_no_dict_is_told_what_to_return(tmp_path):
    report = _planted(tmp_path, "model_loss_and_grads", "return loss, grads", "return loss, list(grads.values())")
    assert report.status == "error"
    assert "returned grads as a list; it must be a dict keyed like params" in report.message
    missing = _planted(tmp_path, "model_loss_and_grads", "return loss, grads",
                       "return loss, {k: g for k, g in grads.items() if k != 'dec.out.b'}")
    assert missing.grad("grads['dec.out.b']").status == "wrong_shape"
    assert "got None" in missing.grad("grads['dec.out.b']").detail
