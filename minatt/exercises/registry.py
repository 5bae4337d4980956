"""The registry of exercises: what each one asks for, the inputs it is checked on, a hint per gradient.

Most exercises are one of the library's backward functions with its body taken out
(:class:`~minatt.exercises.spec.Exercise` describes the kinds). The input sets each one is
checked on are in :mod:`minatt.exercises.trials`. Chapters 3 to 5 are in
:mod:`minatt.exercises.registry_basics`, chapters 6 to 11 here; :data:`EXERCISES` holds them in
chapter order (``exercise --list`` follows it). Adding an exercise is one entry and a stub in
``lessons/exercises/``.

Each hint is a pair (a pointer that does not give the answer away, the formula).
"""

from __future__ import annotations

from minatt.errors import ConfigError
from minatt.exercises import decode, model, trials
from minatt.exercises.registry_basics import (
    BASICS,
    LSTM_GATE_GROUPS,
    LSTM_GATE_HINTS,
    LSTM_GATES,
)
from minatt.exercises.spec import Exercise, Trial

__all__ = ["EXERCISES", "Exercise", "Trial", "get_exercise"]

STEPS = "minatt.exercises.decoder_steps"
REFS = "minatt.exercises.references"
KEYS_TWICE = ("keys are used twice, scored AND averaged into the context: their gradient is the sum of both",
              "dkeys = (attention_backward's dvalues) + (the score backward's dkeys); padded positions get 0")
LSTM_LAST = ("comes from the LSTM step's backward, run once every gradient of the state it made is in",
             "the LSTM step's backward given the WHOLE gradient at its new state")


ENCODER = (("without attention the encoder's outputs are unused: its LSTM gets gradient only at its final h "
           "and c, and final_h is ALSO the context c read at every step"),
           "lstm_backward(zeros, dh0_dec + dc_context, dc0_dec, the encoder's cache)")
DECODER = ("the decoder LSTM's outputs get the first H columns of the output layer's input gradient, at every step",
           "lstm_backward(do[..., :H], None, None, the decoder's cache)")
OUTPUT = ("the output layer is one affine map of o_t = [s_t; c] at every step",
          "affine_backward(dlogits, its cache), dlogits from cross_entropy_backward")


def _score_weight(name: str) -> tuple[str, str]:
    """The hint of a score weight's gradient in a decoder step."""
    return ((f"{name} is used only in the score: its gradient comes from the score's backward, given the gradient "
            f"of the scores from the WHOLE gradient at the context"),
            "dscores from attention_backward(dcontext, None, cache.attention), then the score's backward")


LATER = [
    Exercise(
        "bidirectional", 6, "the bidirectional encoder's backward (the reversal)", REFS, "bidirectional_forward",
        "bidirectional_backward", ("x", "Wx_f", "Wh_f", "b_f", "Wx_b", "Wh_b", "b_b"), trials.bidirectional,
        {
            "dx": (("x feeds both directions; the backward one read it reversed within each row's length, so its "
                   "gradient must be un-reversed the same way before the two are added"),
                   "dx = dx_f + dx_r[rows, rev]: the gather by cache.rev is its own inverse"),
            "dWx_f": ("the forward LSTM got the first H features of keys and final_h, final_c",
                      "lstm_backward(dkeys[:, :, :H], dfinal_h[:, :H], dfinal_c[:, :H], cache.fwd)"),
            "dWh_f": ("as dWx_f: the forward LSTM's backward", "from the same lstm_backward call as dWx_f"),
            "db_f": ("as dWx_f: the forward LSTM's backward", "from the same lstm_backward call as dWx_f"),
            "dWx_b": ("the backward LSTM saw the sequence reversed: reverse its part of dkeys before its backward",
                      "lstm_backward(dkeys[:, :, H:][rows, rev], dfinal_h[:, H:], dfinal_c[:, H:], cache.bwd)"),
            "dWh_b": ("as dWx_b: reverse the backward LSTM's dkeys first", "from the same call as dWx_b"),
            "db_b": ("as dWx_b: reverse the backward LSTM's dkeys first", "from the same call as dWx_b"),
        },
    ),
    Exercise(
        "cross_entropy", 6, "cross-entropy over time, ignoring padding", "minatt.ops.loss", "cross_entropy",
        "cross_entropy_backward", ("logits",), trials.cross_entropy,
        {
            "dlogits": ("the loss is a MEAN over the counted tokens only; an ignored token has no gradient at all",
                        ("dlogits = dloss * (p - onehot(target)) / n on counted tokens, n their number (not N * T); "
                        "0 where the target is ignore_index")),
        },
        forward_module=STEPS, call=lambda fn, douts, cache: fn(cache, float(douts[0])),
    ),
    Exercise(
        "model_loss_and_grads", 6, "the whole encoder-decoder's loss and gradients", "minatt.exercises.model",
        "model_loss", "loss_and_grads", model.PARAMS, model.model_trials,
        {
            "grads['enc.embed.W']": ("the source embedding gets the encoder LSTM's input gradient, scattered by id",
                                     "embedding_backward(dx_enc, its cache)"),
            "grads['enc.fwd.Wx']": ENCODER, "grads['enc.fwd.Wh']": ENCODER, "grads['enc.fwd.b']": ENCODER,
            "grads['dec.embed.W']": (("the target embedding gets the first E columns of the decoder LSTM's input "
                                     "gradient"), "embedding_backward(dx_dec[..., :E], its cache)"),
            "grads['dec.rnn.Wx']": DECODER, "grads['dec.rnn.Wh']": DECODER, "grads['dec.rnn.b']": DECODER,
            "grads['dec.out.W']": OUTPUT, "grads['dec.out.b']": OUTPUT,
            "loss": (("the mean cross-entropy over the real target tokens (tgt_mask), logits from [s_t; c] with "
                     "c = the encoder's final h"), ("loss = cross_entropy(logits, where(tgt_mask, tgt_out, 0), "
                     "ignore_index=0)")),
        },
        (("wire the backward in the reverse order of the forward: the loss, the output layer, the decoder LSTM, "
         "then the encoder; c is used at every step twice (in o_t and in the LSTM's input)"),
         "dfinal_h = (the decoder's dh0) + (the sum over t of both gradients of c)"),
        outputs=("loss",), level="the loss to about 1e-15; gradients below 1e-8", kind="model",
        call=model.call_model,
    ),
    Exercise(
        "additive_score", 7, "additive (Bahdanau) score backward", "minatt.ops.scores", "additive_score_forward",
        "additive_score_backward", ("q", "keys", "Wq", "Wk", "v"), trials.additive_score,
        {
            "dq": ("one query meets all S keys: its gradient sums over them",
                   "dq = (da summed over s) @ Wq^T, da = dscores[:, :, None] * v * (1 - t ** 2) (N, S, A)"),
            "dkeys": ("each key meets the query once, through Wk", "dkeys = da @ Wk^T (N, S, Hk)"),
            "dWq": ("Wq projects the query once per row", "dWq = q^T @ (da summed over s) (Hq, A)"),
            "dWk": ("Wk projects every key of every row",
                    "dWk = keys.reshape(-1, Hk)^T @ da.reshape(-1, A) (Hk, A)"),
            "dv": ("v weighs the tanh of every key's sum, for every row", "dv = sum over n, s of dscores[n, s] * t[n, s]"),
        },
        ("every gradient but dv goes through the tanh: check da first (cache.score.t is already the tanh)",
         "da = dscores[:, :, None] * v * (1 - t ** 2)"),
    ),
    Exercise(
        "general_score", 7, "general (bilinear) score backward", "minatt.ops.scores", "general_score_forward",
        "general_score_backward", ("q", "keys", "Wa"), trials.general_score,
        {
            "dq": ("one query meets all S projected keys kW = cache.score.keys: its gradient sums over them",
                   "dq[n] = sum over s of dscores[n, s] * kW[n, s]"),
            "dkeys": ("the keys reach the score through kW = keys @ Wa^T",
                      "dkeys = dkW @ Wa, dkW[n, s] = dscores[n, s] * q[n]"),
            "dWa": ("Wa projects every key of every row",
                    "dWa = dkW.reshape(-1, Hq)^T @ keys.reshape(-1, Hk) (Hq, Hk)"),
        },
    ),
    Exercise(
        "attention", 8, "attention (context) backward", "minatt.ops.attention", "attention_forward",
        "attention_backward", ("scores", "values"), trials.attention,
        {
            "dscores": (("the weights feed both outputs (context and weights); dweights may be None (zero); then "
                        "the softmax's backward"), ("dw = dweights + values @ dcontext (dw[n, s] = values[n, s] . "
                        "dcontext[n]), dscores = p * (dw - sum(p * dw))")),
            "dvalues": ("each value enters the context scaled by its weight; padded ones (weight 0) get exactly 0",
                        "dvalues[n, s] = weights[n, s] * dcontext[n]"),
        },
    ),
    Exercise(
        "bahdanau_step", 8, "Bahdanau decoder step backward", STEPS, "bahdanau_step_forward",
        "bahdanau_step_backward", ("y_emb", "s_prev", "c_prev", "keys", "Wq", "Wk", "v", "Wx", "Wh", "b"),
        trials.bahdanau_step,
        {
            "dy_emb": ("y_emb is part of the LSTM's input [y_emb; context]", "dy_emb = the LSTM step's dx[:, :E]"),
            "ds_prev": ("s_prev is used twice: as the LSTM's previous state AND as the attention query",
                        "ds_prev = (the LSTM step's dh_prev) + (the score's dq)"),
            "dc_prev": ("c_prev reaches the loss only through the LSTM step",
                        "dc_prev = the LSTM step's dc_prev, given ds + do[:, :H] at s"),
            "dkeys": KEYS_TWICE,
            "dWq": _score_weight("Wq"), "dWk": _score_weight("Wk"), "dv": _score_weight("v"),
            "dWx": ("Wx " + LSTM_LAST[0], LSTM_LAST[1] + ": ds + do[:, :H] (o = [s; context])"),
            "dWh": ("Wh " + LSTM_LAST[0], LSTM_LAST[1] + ": ds + do[:, :H]"),
            "db": ("b " + LSTM_LAST[0], LSTM_LAST[1] + ": ds + do[:, :H]"),
        },
        (("the context is used twice, in o = [s; context] and in the cell's input [y_emb; context]: do the cell "
         "first"), "dcontext = do[:, H:] + dx[:, E:], and the LSTM step needs ds + do[:, :H]"),
        gates=LSTM_GATES, gate_hints=LSTM_GATE_HINTS, gate_groups=LSTM_GATE_GROUPS,
    ),
    Exercise(
        "luong_step", 8, "Luong decoder step backward", STEPS, "luong_step_forward", "luong_step_backward",
        ("y_emb", "h_prev", "c_prev", "feed", "keys", "Wx", "Wh", "b", "Wa", "Wc", "bc"), trials.luong_step,
        {
            "dy_emb": ("y_emb is part of the LSTM's input [y_emb; feed]", "dy_emb = the LSTM step's dx[:, :E]"),
            "dh_prev": ("h_prev reaches the loss only through the LSTM step, whose new h has three uses",
                        "the LSTM step's dh_prev, given dh + dcat[:, K:] + dq"),
            "dc_prev": ("c_prev reaches the loss only through the LSTM step", "the LSTM step's dc_prev"),
            "dfeed": ("feed is the other part of the LSTM's input [y_emb; feed]", "dfeed = the LSTM step's dx[:, E:]"),
            "dkeys": KEYS_TWICE,
            "dWx": ("Wx " + LSTM_LAST[0] + ": h has three uses (the next state, the query, the combination)",
                    LSTM_LAST[1] + ": dh + dcat[:, K:] + dq"),
            "dWh": ("Wh " + LSTM_LAST[0], LSTM_LAST[1] + ": dh + dcat[:, K:] + dq"),
            "db": ("b " + LSTM_LAST[0], LSTM_LAST[1] + ": dh + dcat[:, K:] + dq"),
            "dWa": _score_weight("Wa"),
            "dWc": ("Wc combines [context; h] before the tanh", "dWc = [context; h]^T @ dpre, dpre = dht * (1 - ht ** 2)"),
            "dbc": ("bc is added before the tanh, for every row", "dbc = dpre summed over the batch"),
        },
        (("start at the output and go back through the tanh and the combination; the LSTM step comes last, once h "
         "has all three of its gradients"), "dpre = dht * (1 - ht ** 2), dcat = dpre @ Wc^T = [dcontext; dh part]"),
        gates=LSTM_GATES, gate_hints=LSTM_GATE_HINTS, gate_groups=LSTM_GATE_GROUPS,
    ),
    decode.GREEDY,
    decode.BEAM,
    Exercise(
        "overfit", 9, "overfit a tiny set with your own model", "minatt.exercises.model", "overfit", "overfit",
        (), model.overfit_trials,
        {
            "loss": (("each step: the loss and gradients, clipped, then one optimiser step that updates every "
                     "parameter in place; a loss that does not fall points at the model's gradients or the step"),
                     ("loss, grads = loss_and_grads(params, batch); clip_grad_norm(grads, 1.0); opt.step(grads) "
                     "with opt = Adam(params, lr=0.05) made once, before the loop")),
        },
        outputs=("loss",), level=f"the loss below {model.OVERFIT_LOSS} after {model.OVERFIT_STEPS} steps",
        kind="overfit",
    ),
    Exercise(
        "scaled_dot_attention", 11, "scaled dot-product attention backward", "minatt.ops.self_attention",
        "scaled_dot_attention_forward", "scaled_dot_attention_backward", ("queries", "keys", "values"),
        trials.scaled_dot_attention,
        {
            "dqueries": ("the queries reach the loss through the scaled scores: do not forget the scale",
                         "dqueries = dscores @ keys / sqrt(K), dscores the softmax backward of dout @ values^T"),
            "dkeys": ("the keys meet every query through the same scaled scores; padded keys get exactly 0",
                      "dkeys = dscores^T @ queries / sqrt(K), dscores swapped on its last two axes"),
            "dvalues": ("each value is averaged into every query's output by its weight",
                        "dvalues = weights^T @ dout, weights = cache.softmax.p swapped on its last two axes"),
        },
        ("everything but dvalues goes through the weights' gradient and the softmax's backward: check them first",
         "dweights = dout @ values^T, dscores = p * (dweights - sum(p * dweights)) over the last axis"),
        call=lambda fn, douts, cache: fn(douts[0], cache),  # the weights are returned for plots, not trained
    ),
    Exercise(
        "multihead_attention", 11, "multi-head attention backward (split and merge the heads)",
        "minatt.ops.self_attention", "multihead_attention_forward", "multihead_attention_backward",
        ("xq", "xkv", "Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"), trials.multihead_attention,
        {
            "dxq": (("xq reaches the loss only through q = xq @ Wq + bq, split into heads: merge the heads' "
                    "gradient back before q's affine backward"), "dxq = merge_heads(dq_heads) @ Wq^T"),
            "dxkv": ("xkv is used twice, for the keys AND for the values", "dxkv = dk @ Wk^T + dv @ Wv^T"),
            "dWq": ("Wq's gradient needs the queries' gradient in (N, T, D), heads merged",
                    "dWq = xq^T @ merge_heads(dq_heads), rows folded"),
            "dbq": ("bq is added to every row", "dbq = merge_heads(dq_heads) summed over every axis but the last"),
            "dWk": ("as dWq, for the keys", "dWk = xkv^T @ merge_heads(dk_heads)"),
            "dbk": (("bk adds the same number, q . bk, to every score of a query's row, and the softmax ignores "
                     "such a shift"), "dbk = merge_heads(dk_heads) summed over N and S, which is 0"),
            "dWv": ("as dWq, for the values", "dWv = xkv^T @ merge_heads(dv_heads)"),
            "dbv": ("as dbq, for the values", "dbv = merge_heads(dv_heads) summed over N and S"),
            "dWo": ("Wo mixes the merged heads", ("dWo = merge_heads(o_heads)^T @ dout, via affine_backward(dout, "
                    "cache.o)")),
            "dbo": ("bo is added to every output row", "dbo = dout summed over N and T"),
        },
        (("the output layer's backward gives the merged heads' gradient: split it into heads (the inverse of "
         "merging) before the attention's backward"), ("split: (N, T, D) -> (N, T, h, dk) -> (N, h, T, dk) -> "
         "(N*h, T, dk); merge is its inverse")),
        level="relative errors below 1e-8; dbk is exactly 0, so its check compares round-off (up to about 1e-7)",
        call=lambda fn, douts, cache: fn(douts[0], cache),
    ),
    Exercise(
        "layer_norm", 11, "layer norm backward", "minatt.ops.layernorm", "layer_norm_forward", "layer_norm_backward",
        ("x", "g", "b"), trials.layer_norm,
        {
            "dx": (("x reaches xhat directly, through the mean and through sigma: three terms, the means over the "
                   "last axis"), ("dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) * cache.inv_sigma, "
                   "dxhat = dy * g")),
            "dg": ("g scales xhat for every row", "dg = dy * xhat summed over every axis but the last (D,)"),
            "db": ("b is added to every row", "db = dy summed over every axis but the last (D,)"),
        },
    ),
]

EXERCISES: dict[str, Exercise] = {
    spec.name: spec for spec in sorted(BASICS + LATER, key=lambda spec: spec.chapter)  # stable: within a chapter,
}  # the order of its sections


def get_exercise(name: str) -> Exercise:
    """The exercise called ``name``; :class:`ConfigError` listing the valid names otherwise."""
    if name not in EXERCISES:
        raise ConfigError(f"no exercise named {name!r}: choose one of {', '.join(EXERCISES)}")
    return EXERCISES[name]
