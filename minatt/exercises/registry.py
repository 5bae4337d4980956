"""The registry of exercises: what each one asks for, the inputs it is checked on, a hint per gradient.

Most exercises are one of the library's backward functions with its body taken out
(:class:`~minatt.exercises.spec.Exercise` describes the kinds). The input sets each one is
checked on are in :mod:`minatt.exercises.trials`. Adding an exercise is one entry in
:data:`EXERCISES` and a stub in ``lessons/exercises/``.
"""

from __future__ import annotations

from minatt.errors import ConfigError
from minatt.exercises import decode, trials
from minatt.exercises.spec import Exercise, Trial

__all__ = ["EXERCISES", "Exercise", "Trial", "get_exercise"]

STEPS = "minatt.exercises.steps"
LSTM_GATES = {"Wx": "ifgo", "Wh": "ifgo", "b": "ifgo"}
LSTM_GATE_HINTS = {
    "i": "da_i = dc_t * g * i * (1 - i): the input gate scales g",
    "f": "da_f = dc_t * c_prev * f * (1 - f): the forget gate scales the previous cell",
    "g": "g = tanh(a_g), so da_g = dc_t * i * (1 - g ** 2), not the sigmoid's g * (1 - g)",
    "o": "da_o = dh * tc * o * (1 - o), with tc = tanh(c) (not c)",
}
GRU_GATE_HINTS = {
    "r": "da_r = da_n * ah_n * r * (1 - r): r scales ah_n = h_prev @ Wh_n + bh_n",
    "z": "da_z = dh_next * (h_prev - n) * z * (1 - z)",
    "n": "da_n = dh_next * (1 - z) * (1 - n ** 2); in the h path it is scaled by r",
}


EXERCISES: dict[str, Exercise] = {
    spec.name: spec
    for spec in [
        Exercise(
            "affine", 3, "affine backward", "minatt.ops.linear", "affine_forward", "affine_backward",
            ("x", "W", "b"), trials.affine,
            {
                "dx": "dx should be dout @ W^T reshaped to x's shape (cache.x_shape): (..., D); check for a transpose",
                "dW": "dW should be x^T @ dout: shape (D, M), with the leading axes folded into the rows "
                      "(cache.x2 is (R, D), dout.reshape(-1, M) is (R, M)); check for a transpose",
                "db": "db is dout summed over every axis but the last: shape (M,), not (1, M)",
            },
        ),
        Exercise(
            "softmax", 3, "softmax backward with a mask", "minatt.ops.softmax", "softmax_forward",
            "softmax_backward", ("x",), trials.softmax,
            {
                "dx": "dx = p * (dp - sum(p * dp)), the sum over the last axis only with keepdims=True so it "
                      "broadcasts; masked positions have p = 0 and must get exactly 0",
            },
        ),
        Exercise(
            "lstm_step", 4, "LSTM step backward", "minatt.ops.lstm", "lstm_step_forward", "lstm_step_backward",
            ("x", "h", "c", "Wx", "Wh", "b"), trials.lstm_step,
            {
                "dx": "dx should be da @ Wx^T: shape (N, D), da (N, 4H) being the pre-activation gradients "
                      "[da_i, da_f, da_g, da_o] side by side",
                "dh": "dh should be da @ Wh^T: shape (N, H); check for a transpose",
                "dc": "dc should be dc_t * f, where dc_t = dc_next + dh_next * o * (1 - tc^2) is the whole "
                      "gradient at the new cell state (both paths)",
                "dWx": "dWx should be x^T @ da: shape (D, 4H), gate columns in the order i, f, g, o",
                "dWh": "dWh should be h_prev^T @ da: shape (H, 4H), gate columns in the order i, f, g, o",
                "db": "db should be da summed over the batch: shape (4H,)",
            },
            "every gradient goes through dc_t and da: check dc_t = dc_next + dh_next * o * (1 - tc^2) "
            "(both paths), then the gate derivatives s * (1 - s) for i, f, o and 1 - g^2 for g; the gates are "
            "cache.cell.i, .f, .g, .o, and da's columns follow Wx's order i, f, g, o",
            gates=LSTM_GATES, gate_hints=LSTM_GATE_HINTS,
        ),
        Exercise(
            "gru_step", 5, "GRU step backward", "minatt.ops.gru", "gru_step_forward", "gru_step_backward",
            ("x", "h", "Wx", "Wh", "bx", "bh"), trials.gru_step,
            {
                "dx": "dx should be [da_r, da_z, da_n] @ Wx^T: shape (N, D), where "
                      "da_n = dh_next * (1 - z) * (1 - n^2) is the gradient of the whole tanh argument",
                "dh": "dh has a direct path dh_next * z plus [da_r, da_z, r * da_n] @ Wh^T: "
                      "h reaches n only through r * ah_n",
                "dWx": "dWx should be x^T @ [da_r, da_z, da_n]: shape (D, 3H), columns r, z, n",
                "dWh": "dWh should be h_prev^T @ [da_r, da_z, r * da_n]: shape (H, 3H); its n block is "
                       "scaled by r",
                "dbx": "dbx should be [da_r, da_z, da_n] summed over the batch: shape (3H,)",
                "dbh": "dbh should be [da_r, da_z, r * da_n] summed over the batch: shape (3H,); unlike "
                       "dbx, its n block is scaled by r",
            },
            "every gradient goes through the gate gradients: da_z = dh_next * (h_prev - n) * z * (1 - z), "
            "da_n = dh_next * (1 - z) * (1 - n^2), da_r = da_n * ah_n * r * (1 - r)",
            gates={"Wx": "rzn", "Wh": "rzn", "bx": "rzn", "bh": "rzn"}, gate_hints=GRU_GATE_HINTS,
        ),
        Exercise(
            "additive_score", 7, "additive (Bahdanau) score backward", "minatt.ops.scores",
            "additive_score_forward", "additive_score_backward", ("q", "keys", "Wq", "Wk", "v"),
            trials.additive_score,
            {
                "dq": "dq should be (da summed over s) @ Wq^T: shape (N, Hq), with "
                      "da = dscores[:, :, None] * v * (1 - t^2) (N, S, A); one query meets all S keys",
                "dkeys": "dkeys should be da @ Wk^T: shape (N, S, Hk); check for a transpose",
                "dWq": "dWq should be q^T @ (da summed over s): shape (Hq, A)",
                "dWk": "dWk should be keys^T @ da with batch and source folded together: "
                       "keys.reshape(-1, Hk).T @ da.reshape(-1, A), shape (Hk, A)",
                "dv": "dv should be the sum over n and s of dscores[n, s] * t[n, s]: shape (A,)",
            },
            "da = dscores[:, :, None] * v * (1 - t^2) feeds every gradient but dv: check it first "
            "(cache.score.t is already tanh'd)",
        ),
        Exercise(
            "general_score", 7, "general (bilinear) score backward", "minatt.ops.scores",
            "general_score_forward", "general_score_backward", ("q", "keys", "Wa"), trials.general_score,
            {
                "dq": "dq[n] should be the sum over s of dscores[n, s] * kW[n, s]: shape (N, Hq); "
                      "kW = keys @ Wa^T is cache.score.keys",
                "dkeys": "dkeys should be dkW @ Wa: shape (N, S, Hk), where dkW[n, s] = dscores[n, s] * q[n] "
                         "(N, S, Hq) is the gradient of kW",
                "dWa": "dWa should be dkW^T @ keys with batch and source folded together: "
                       "dkW.reshape(-1, Hq).T @ keys.reshape(-1, Hk), shape (Hq, Hk); check for a transpose",
            },
        ),
        Exercise(
            "attention", 8, "attention (context) backward", "minatt.ops.attention", "attention_forward",
            "attention_backward", ("scores", "values"), trials.attention,
            {
                "dscores": "dscores is the softmax backward of dw = dweights + values @ dcontext "
                           "(dw[n, s] = values[n, s] . dcontext[n]): the weights feed both outputs, "
                           "and dweights may be None (zero)",
                "dvalues": "dvalues[n, s] should be weights[n, s] * dcontext[n]: shape (N, S, Hv); "
                           "padded positions (weight 0) get exactly 0",
            },
        ),
        Exercise(
            "masked_softmax", 3, "masked softmax forward", "minatt.ops.softmax", "softmax_forward",
            "softmax_forward", ("x",), trials.masked_softmax,
            {
                "p": "p = exp(x - m) / sum(exp(x - m)) over the real positions of the last axis, with m the "
                     "row's maximum over its real positions; exactly 0 at masked positions, and a row with no "
                     "real position is all zeros (never NaN: do not divide 0 by 0)",
            },
            outputs=("p",), level="p equal to the library's to 1e-12 (relative error)", kind="forward",
        ),
        Exercise(
            "lstm_cell", 4, "LSTM cell forward and backward, your own cache", "minatt.ops.lstm",
            "lstm_cell_forward", "lstm_cell_backward", ("a", "c_prev"), trials.lstm_cell,
            {
                "h": "h = o * tanh(c), with i, f, o = sigmoid of the column blocks [0:H], [H:2H], [3H:4H] of a "
                     "and g = tanh of [2H:3H]",
                "c": "c = f * c_prev + i * g",
                "da": "da (N, 4H) = the four gate gradients side by side in the order i, f, g, o; every one "
                      "needs dc_t = dc + dh * o * (1 - tanh(c)^2), so keep what it needs in your cache",
                "dc_prev": "dc_prev should be dc_t * f, dc_t being the whole gradient at c (both paths)",
            },
            "your backward gets only your own cache: keep in it every value the derivatives need (the gates "
            "after their nonlinearities, c_prev, tanh(c))",
            outputs=("h", "c"), level="h and c equal to the library's to 1e-12; gradients' relative errors below 1e-8",
            kind="forward_backward", gates={"a": "ifgo"}, gate_hints=LSTM_GATE_HINTS,
        ),
        Exercise(
            "lstm_bptt", 4, "LSTM backward through time, masked", "minatt.ops.lstm", "lstm_sequence",
            "lstm_backward", ("x", "h0", "c0", "Wx", "Wh", "b"), trials.lstm_bptt,
            {
                "dx": "dx[:, t] = da_t @ Wx^T: shape (N, T, D), exactly 0 at padded steps; walk t from T-1 down "
                      "to 0 adding dhs[:, t] to the dh carried from step t+1",
                "dh0": "dh0 is the dh left after step 0; at a padded step dh passes through unchanged "
                       "(the state was carried through), and dhs is ignored there (the output was a constant 0)",
                "dc0": "dc0 is the dc left after step 0; a padded step passes dc through unchanged",
                "dWx": "dWx sums x_t^T @ da_t over every step (padded steps have da_t = 0)",
                "dWh": "dWh sums h_prev_t^T @ da_t over every step, h_prev_t = cache.h_prev[:, t]",
                "db": "db sums da_t over the batch and every step",
            },
            "at each step t (from T-1 down), dh = dh_carried + dhs[:, t] and dc_carried go into the cell's "
            "backward (lstm_cell_backward(dh, dc, cache.cells[t]) -> da, dc_prev); rows padded at t keep "
            "dh and dc, get da = 0, and ignore dhs[:, t] (the output there is the constant 0)",
            forward_module=STEPS, gates=LSTM_GATES, gate_hints=LSTM_GATE_HINTS,
        ),
        Exercise(
            "embedding", 3, "embedding backward (scatter-add)", "minatt.ops.embedding", "embedding",
            "embedding_backward", ("W",), trials.embedding,
            {
                "dW": "dW (V, D) starts at zero and row ids[k] gets += dout[k] for every position k: a repeated "
                      "id ADDS its rows (dW[ids] += dout keeps only one of them; use np.add.at), and an id "
                      "that never occurs keeps a zero row",
            },
            forward_module=STEPS,
        ),
        Exercise(
            "cross_entropy", 6, "cross-entropy over time, ignoring padding", "minatt.ops.loss", "cross_entropy",
            "cross_entropy_backward", ("logits",), trials.cross_entropy,
            {
                "dlogits": "dlogits = dloss * (p - onehot(target)) / n on counted tokens, n the number of "
                           "counted tokens (not N * T); rows whose target is ignore_index are exactly 0",
            },
            forward_module=STEPS, call=lambda fn, douts, cache: fn(cache, float(douts[0])),
        ),
        Exercise(
            "bahdanau_step", 8, "Bahdanau decoder step backward", STEPS, "bahdanau_step_forward",
            "bahdanau_step_backward", ("y_emb", "s_prev", "c_prev", "keys", "Wq", "Wk", "v", "Wx", "Wh", "b"),
            trials.bahdanau_step,
            {
                "dy_emb": "dy_emb is the first E columns of the LSTM step's dx (its input was [y_emb; context])",
                "ds_prev": "s_prev is used twice: as the LSTM's previous state AND as the attention query, so "
                           "ds_prev = (the LSTM step's dh) + (the score's dq)",
                "dc_prev": "dc_prev is the LSTM step's dc, given ds + do[:, :H] at s",
                "dkeys": "keys are used twice: scored AND averaged into the context, so dkeys = (attention's "
                         "dvalues) + (the score's dkeys); padded positions get 0",
                "dWq": "dWq comes from the additive score's backward, given dscores from attention_backward of "
                       "the WHOLE dcontext",
                "dWk": "dWk comes from the additive score's backward (dscores from the whole dcontext)",
                "dv": "dv comes from the additive score's backward (dscores from the whole dcontext)",
                "dWx": "dWx comes from the LSTM step's backward, given ds + do[:, :H] (o = [s; context])",
                "dWh": "dWh comes from the LSTM step's backward, given ds + do[:, :H]",
                "db": "db comes from the LSTM step's backward, given ds + do[:, :H]",
            },
            "the context is used twice, in o = [s; context] and in the cell's input [y_emb; context]: "
            "dcontext = do[:, H:] + dx[:, E:], and the LSTM step needs ds + do[:, :H]; do the cell first",
            gates=LSTM_GATES, gate_hints=LSTM_GATE_HINTS,
        ),
        Exercise(
            "luong_step", 8, "Luong decoder step backward", STEPS, "luong_step_forward", "luong_step_backward",
            ("y_emb", "h_prev", "c_prev", "feed", "keys", "Wx", "Wh", "b", "Wa", "Wc", "bc"), trials.luong_step,
            {
                "dy_emb": "dy_emb is the first E columns of the LSTM step's dx (its input was [y_emb; feed])",
                "dh_prev": "dh_prev is the LSTM step's dh, given the WHOLE gradient at h: dh + the combination's "
                           "part + the score's dq",
                "dc_prev": "dc_prev is the LSTM step's dc, given the whole gradient at h",
                "dfeed": "dfeed is the last H columns of the LSTM step's dx",
                "dkeys": "keys are used twice: scored AND averaged into the context, so dkeys = (attention's "
                         "dvalues) + (the score's dkeys); padded positions get 0",
                "dWx": "dWx comes from the LSTM step's backward, run LAST: h has three uses (the next state, "
                       "the query, the combination) and their gradients must all be in first",
                "dWh": "dWh comes from the LSTM step's backward, given dh + dcat[:, K:] + dq",
                "db": "db comes from the LSTM step's backward, given dh + dcat[:, K:] + dq",
                "dWa": "dWa comes from the general score's backward, given dscores = the attention backward of "
                       "dcat[:, :K] (the context's part of [context; h])",
                "dWc": "dWc = [context; h]^T @ dpre with dpre = dht * (1 - ht^2) (ht = tanh(pre))",
                "dbc": "dbc = dpre summed over the batch, dpre = dht * (1 - ht^2)",
            },
            "start at the output: dpre = dht * (1 - ht^2), then the combination's backward gives "
            "dcat = [dcontext; dh part]; the LSTM step comes last, once h has all three of its gradients",
            gates=LSTM_GATES, gate_hints=LSTM_GATE_HINTS,
        ),
        decode.GREEDY,
        decode.BEAM,
        Exercise(
            "scaled_dot_attention", 11, "scaled dot-product attention backward", "minatt.ops.self_attention",
            "scaled_dot_attention_forward", "scaled_dot_attention_backward", ("queries", "keys", "values"),
            trials.scaled_dot_attention,
            {
                "dqueries": "dqueries should be dscores @ keys / sqrt(K): shape (N, T, K), where dscores is the "
                            "softmax backward of dweights = dout @ values^T (N, T, S); do not forget the scale",
                "dkeys": "dkeys should be dscores^T @ queries / sqrt(K): shape (N, S, K), dscores swapped on "
                         "its last two axes (dscores.swapaxes(-1, -2)); padded keys get exactly 0",
                "dvalues": "dvalues should be weights^T @ dout: shape (N, S, Dv), with weights = "
                           "cache.softmax.p (N, T, S) swapped on its last two axes; padded keys get exactly 0",
            },
            "dweights = dout @ values^T, then the softmax backward dscores = p * (dweights - sum(p * dweights)) "
            "over the last axis (p = cache.softmax.p), feed every gradient but dvalues: check them first",
            call=lambda fn, douts, cache: fn(douts[0], cache),  # the weights are returned for plots, not trained
        ),
        Exercise(
            "layer_norm", 11, "layer norm backward", "minatt.ops.layernorm", "layer_norm_forward",
            "layer_norm_backward", ("x", "g", "b"), trials.layer_norm,
            {
                "dx": "dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sigma with dxhat = dy * g and "
                      "the means over the last axis (keepdims=True); 1 / sigma is cache.inv_sigma. x reaches "
                      "xhat directly, through the mean and through sigma: three terms",
                "dg": "dg should be dy * xhat summed over every axis but the last: shape (D,)",
                "db": "db should be dy summed over every axis but the last: shape (D,)",
            },
        ),
    ]
}


def get_exercise(name: str) -> Exercise:
    """The exercise called ``name``; :class:`ConfigError` listing the valid names otherwise."""
    if name not in EXERCISES:
        raise ConfigError(f"no exercise named {name!r}: choose one of {', '.join(EXERCISES)}")
    return EXERCISES[name]
