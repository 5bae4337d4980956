"""The exercises of chapters 3 to 5: the layers, the optimiser's step, the tanh RNN, the LSTM, the GRU.

Each hint is a pair (a pointer that does not give the answer away, the formula): ``--hint`` shows
the first, ``--hint --hint`` both. The names follow the library's convention: a state is
``_prev`` or ``_next``, a gradient is ``d`` + the input's name.
"""

from __future__ import annotations

from minatt.exercises import trials
from minatt.exercises.references import clip_outputs
from minatt.exercises.spec import Exercise

__all__ = ["BASICS", "GRU_GATE_GROUPS", "GRU_GATE_HINTS", "LSTM_GATES", "LSTM_GATE_GROUPS", "LSTM_GATE_HINTS"]

STEPS = "minatt.exercises.decoder_steps"
REFS = "minatt.exercises.references"
LSTM_GATES = {"Wx": "ifgo", "Wh": "ifgo", "b": "ifgo"}
LSTM_GATE_HINTS = {
    "i": ("i scales g in c_next = f * c_prev + i * g, and it is a sigmoid", "da_i = dc_t * g * i * (1 - i)"),
    "f": ("f scales c_prev, and it is a sigmoid", "da_f = dc_t * c_prev * f * (1 - f)"),
    "g": ("g is a tanh, not a sigmoid: its derivative is written with g itself", "da_g = dc_t * i * (1 - g ** 2)"),
    "o": ("o scales tanh(c_next), not c_next, and it is a sigmoid", "da_o = dh_next * tc * o * (1 - o)"),
}
LSTM_GATE_GROUPS = {
    "ifg": (("i, f and g act through the cell state and o does not: what they share is dc_t, the whole "
            "gradient at c_next, which has two paths"), "dc_t = dc_next + dh_next * o * (1 - tc ** 2)"),
}
GRU_GATE_HINTS = {
    "r": ("r multiplies ah_n inside n's tanh, and it is a sigmoid", "da_r = da_nx * ah_n * r * (1 - r)"),
    "z": ("z mixes n and h_prev in h_next = (1 - z) * n + z * h_prev, and it is a sigmoid",
          "da_z = dh_next * (h_prev - n) * z * (1 - z)"),
    "n": ("n is a tanh weighted by (1 - z); on the h side (Wh, bh) its gradient is also scaled by r",
          "da_nx = dh_next * (1 - z) * (1 - n ** 2) on the x side, da_nh = da_nx * r on the h side"),
}
GRU_GATE_GROUPS = {
    "rn": ("r sits inside n's tanh, so r's gradient goes through n's: check n first", GRU_GATE_HINTS["n"][1]),
}
GRU_GATES = {"Wx": "rzn", "Wh": "rzn", "bx": "rzn", "bh": "rzn"}


def _shared(formula: str) -> tuple[str, str]:
    """The pointer of a weight's gradient."""
    return "a weight is shared by every row of the batch: its gradient sums over them", formula


LSTM_STEP_HINTS = {
    "dx": ("x reaches the loss only through the pre-activations a = x @ Wx + ...", ("dx = da @ Wx^T, da (N, 4H) = "
           "[da_i, da_f, da_g, da_o] side by side")),
    "dh_prev": ("h_prev reaches the loss only through a, like x, but through Wh", "dh_prev = da @ Wh^T"),
    "dc_prev": ("c_prev reaches the loss only through c_next = f * c_prev + i * g",
                "dc_prev = dc_t * f, dc_t = dc_next + dh_next * o * (1 - tc ** 2) the whole gradient at c_next"),
    "dWx": ("Wx multiplies x for every row: one matrix product of x and da, columns in the order i, f, g, o",
            "dWx = x^T @ da (D, 4H)"),
    "dWh": ("Wh multiplies h_prev for every row: one matrix product of h_prev and da", "dWh = h_prev^T @ da (H, 4H)"),
    "db": ("b is added to every row of a", "db = da summed over the batch (4H,)"),
}
LSTM_COMMON = (("every gradient goes through dc_t and da: check dc_t (both of its paths) first, then each gate's "
               "derivative (cache.cell.i, .f, .g, .o hold the gates)"),
               "dc_t = dc_next + dh_next * o * (1 - tc ** 2); sigmoid' = s * (1 - s), tanh' = 1 - g ** 2")

BASICS = [
    Exercise(
        "affine", 3, "affine backward", "minatt.ops.linear", "affine_forward", "affine_backward",
        ("x", "W", "b"), trials.affine,
        {
            "dx": ("x meets W in one matrix product; its gradient has x's shape (..., D)",
                   "dx = dout @ W^T, reshaped to cache.x_shape"),
            "dW": ("W's gradient collects x and dout over every row, the leading axes folded into rows",
                   "dW = x2^T @ dout2: x2 = cache.x2 (R, D), dout2 = dout.reshape(-1, M)"),
            "db": ("b is added to every row", "db = dout summed over every axis but the last: (M,), not (1, M)"),
        },
    ),
    Exercise(
        "embedding", 3, "embedding backward (scatter-add)", "minatt.ops.embedding", "embedding", "embedding_backward",
        ("W",), trials.embedding,
        {
            "dW": (("a row of W is read once per occurrence of its id: a repeated id gets the sum of all its "
                   "gradients, an unused id a zero row"),
                   ("dW = zeros (V, D), then np.add.at(dW, ids.reshape(-1), dout.reshape(-1, D)); dW[ids] += dout "
                   "keeps only one of a repeated id's rows")),
        },
        forward_module=STEPS,
    ),
    Exercise(
        "softmax", 3, "softmax backward with a mask", "minatt.ops.softmax", "softmax_forward", "softmax_backward",
        ("x",), trials.softmax,
        {
            "dx": ("every p of a row depends on every x of that row (they share the sum), and only that row",
                   ("dx = p * (dp - sum(p * dp)), the sum over the last axis with keepdims=True; masked positions "
                   "have p = 0 and get exactly 0")),
        },
    ),
    Exercise(
        "masked_softmax", 3, "masked softmax forward", "minatt.ops.softmax", "softmax_forward", "softmax_forward",
        ("x",), trials.masked_softmax,
        {
            "p": (("the real positions of a row share one normaliser; masked ones get exactly 0, and a row with "
                  "no real position is all zeros (never 0 / 0)"),
                  "p = exp(x - m) / sum(exp(x - m)) over the row's real positions, m their maximum"),
        },
        outputs=("p",), level="p equal to the library's to about 1e-15 (relative error)", kind="forward",
    ),
    Exercise(
        "adam", 3, "one Adam step", REFS, "adam_update", "adam_update", ("p", "g", "m", "v"), trials.adam,
        {
            "p_next": ("the step uses both moments after their bias correction, which depends on t (from 1)",
                       ("p_next = p - lr * m_hat / (sqrt(v_hat) + eps), m_hat = m_next / (1 - beta1 ** t), "
                       "v_hat = v_next / (1 - beta2 ** t)")),
            "m_next": ("m is a running mean of the gradient", "m_next = beta1 * m + (1 - beta1) * g"),
            "v_next": ("v is a running mean of the squared gradient", "v_next = beta2 * v + (1 - beta2) * g ** 2"),
        },
        outputs=("p_next", "m_next", "v_next"), level="p_next, m_next, v_next equal to minatt.optim.Adam's to about 1e-15",
        kind="forward", returns_cache=False,
    ),
    Exercise(
        "clip_grad_norm", 3, "global-norm gradient clipping", "minatt.optim", "clip_forward", "clip_grad_norm",
        ("grads",), trials.clip_grad_norm,
        {
            "norm": ("one norm over ALL the gradients together, measured before clipping",
                     "norm = sqrt(sum over every array of sum(g * g))"),
            "grads": (("every gradient is scaled IN PLACE by the same factor, and only when the norm exceeds "
                      "max_norm (None: only measure)"), "g *= max_norm / norm when norm > max_norm"),
        },
        outputs=("norm", "grads"), level="norm and grads equal to minatt.optim.clip_grad_norm's to about 1e-15",
        kind="forward", returns_cache=False, forward_module=REFS, wrap=clip_outputs,
    ),
    Exercise(
        "rnn_step", 4, "tanh RNN step, forward and backward", "minatt.ops.rnn", "rnn_step_forward",
        "rnn_step_backward", ("x", "h_prev", "Wx", "Wh", "b"), trials.rnn_step,
        {
            "h_next": ("one affine map of x and one of h_prev, added, then the tanh",
                       "h_next = tanh(x @ Wx + h_prev @ Wh + b)"),
            "dx": ("everything goes through the tanh first; write its derivative with the output you cached",
                   "da = dh_next * (1 - h_next ** 2), dx = da @ Wx^T"),
            "dh_prev": ("h_prev reaches the loss through the tanh and Wh", "dh_prev = da @ Wh^T"),
            "dWx": _shared("dWx = x^T @ da"), "dWh": _shared("dWh = h_prev^T @ da"),
            "db": ("b is added to every row", "db = da summed over the batch"),
        },
        outputs=("h_next",), level="h_next equal to the library's to about 1e-15; gradients below 1e-8",
        kind="forward_backward",
    ),
    Exercise(
        "rnn_sequence", 4, "tanh RNN over a sequence, forward and backward", REFS, "rnn_forward", "rnn_backward",
        ("x", "h0", "Wx", "Wh", "b"), trials.rnn_sequence,
        {
            "hs": ("run the step T times, each from the state the previous step made; stack the states on axis 1",
                   "hs[:, t] = tanh(x[:, t] @ Wx + hs[:, t-1] @ Wh + b), hs[:, -1] standing for h0"),
            "dx": ("walk t from T - 1 down to 0: the gradient at h_t is dhs[:, t] PLUS what step t + 1 sent back",
                   "dx[:, t] = da_t @ Wx^T, da_t = (dhs[:, t] + dh_next) * (1 - h_t ** 2)"),
            "dh0": ("dh0 is what step 0 sends back", "dh0 = da_0 @ Wh^T"),
            "dWx": ("the weights are shared by every step: add each step's gradient",
                    "dWx = sum over t of x[:, t]^T @ da_t"),
            "dWh": ("the weights are shared by every step: add each step's gradient",
                    "dWh = sum over t of h_prev_t^T @ da_t, h_prev_0 = h0"),
            "db": ("b is added at every step to every row", "db = sum over t of da_t summed over the batch"),
        },
        ("check the gradient at each h_t first: the output's dhs[:, t] plus the one carried back from step t + 1",
         "da_t = (dhs[:, t] + dh_next) * (1 - h_t ** 2), dh_next = da_{t+1} @ Wh^T"),
        outputs=("hs",), level="hs equal to the library's to about 1e-15; gradients below 1e-8",
        kind="forward_backward",
    ),
    Exercise(
        "lstm_step", 4, "LSTM step backward", "minatt.ops.lstm", "lstm_step_forward", "lstm_step_backward",
        ("x", "h_prev", "c_prev", "Wx", "Wh", "b"), trials.lstm_step, LSTM_STEP_HINTS, LSTM_COMMON,
        gates=LSTM_GATES, gate_hints=LSTM_GATE_HINTS, gate_groups=LSTM_GATE_GROUPS, through_gates=("dx", "dh_prev"),
    ),
    Exercise(
        "lstm_cell", 4, "LSTM cell forward and backward, your own cache", "minatt.ops.lstm", "lstm_cell_forward",
        "lstm_cell_backward", ("a", "c_prev"), trials.lstm_cell,
        {
            "h_next": ("the four column blocks of a are i, f, g, o; only g is a tanh",
                       "h_next = o * tanh(c_next), i, f, o = sigmoid of a[:, 0:H], [H:2H], [3H:4H], g = tanh(a[:, 2H:3H])"),
            "c_next": ("the cell adds the kept old cell and the gated candidate", "c_next = f * c_prev + i * g"),
            "da": (("the four gate gradients side by side in the order i, f, g, o; all but o's need the whole "
                   "gradient at c_next, so keep what it needs in your cache"),
                   "dc_t = dc_next + dh_next * o * (1 - tanh(c_next) ** 2)"),
            "dc_prev": ("c_prev reaches the loss only through c_next", "dc_prev = dc_t * f"),
        },
        ("your backward gets only your own cache: keep in it every value the derivatives need",
         "the gates after their nonlinearities, c_prev and tanh(c_next)"),
        outputs=("h_next", "c_next"), level="h_next, c_next equal to the library's to about 1e-15; gradients below 1e-8",
        kind="forward_backward", gates={"a": "ifgo"}, gate_hints=LSTM_GATE_HINTS, gate_groups=LSTM_GATE_GROUPS,
    ),
    Exercise(
        "lstm_bptt", 4, "LSTM backward through time, masked", "minatt.ops.lstm", "lstm_sequence", "lstm_backward",
        ("x", "h0", "c0", "Wx", "Wh", "b"), trials.lstm_bptt,
        {
            "dx": ("walk t from T - 1 down to 0; a padded step has no input gradient",
                   "dx[:, t] = da_t @ Wx^T, exactly 0 at padded steps"),
            "dh0": (("dh0 is the dh left after step 0; a padded step passes dh through and ignores dhs there "
                    "(its output was the constant 0)"), "dh_t = dh_carried + dhs[:, t] at real steps"),
            "dc0": ("dc0 is the dc left after step 0; a padded step passes dc through unchanged",
                    "dc_carried = dc_prev from lstm_cell_backward at real steps"),
            "dWx": ("Wx is shared by every step: add each step's gradient", "dWx = sum over t of x_t^T @ da_t"),
            "dWh": ("Wh is shared by every step: add each step's gradient",
                    "dWh = sum over t of h_prev_t^T @ da_t, h_prev_t = cache.h_prev[:, t]"),
            "db": ("b is added at every step to every row", "db = sum of da_t over the batch and every step"),
        },
        (("at each step (from T - 1 down) the cell's backward needs the whole dh and dc; rows padded at t keep "
         "them and get no da"), ("dh_t = dh_carried + dhs[:, t]; da, dc_prev = lstm_cell_backward(dh_t, dc_carried, "
         "cache.cells[t])")),
        forward_module=STEPS, gates=LSTM_GATES, gate_hints=LSTM_GATE_HINTS, gate_groups=LSTM_GATE_GROUPS,
        through_gates=("dx",),
    ),
    Exercise(
        "gru_step", 5, "GRU step backward", "minatt.ops.gru", "gru_step_forward", "gru_step_backward",
        ("x", "h_prev", "Wx", "Wh", "bx", "bh"), trials.gru_step,
        {
            "dx": ("x reaches the loss through the three gates' x-side pre-activations ax = x @ Wx + bx",
                   "dx = [da_r, da_z, da_nx] @ Wx^T"),
            "dh_prev": ("h_prev reaches h_next twice: directly through z * h_prev, and through the gates via Wh",
                        "dh_prev = dh_next * z + [da_r, da_z, da_nh] @ Wh^T, da_nh = da_nx * r"),
            "dWx": ("Wx's gradient pairs x with the x-side gate gradients, columns r, z, n",
                    "dWx = x^T @ [da_r, da_z, da_nx]"),
            "dWh": ("Wh's gradient pairs h_prev with the h-side gate gradients, whose n block differs from the x side",
                    "dWh = h_prev^T @ [da_r, da_z, da_nh], da_nh = da_nx * r"),
            "dbx": ("bx is added to ax for every row", "dbx = [da_r, da_z, da_nx] summed over the batch"),
            "dbh": ("bh is added to ah, whose n block is scaled by r before the tanh",
                    "dbh = [da_r, da_z, da_nh] summed over the batch"),
        },
        ("every gradient goes through the three gate gradients: check them first (cache.cell.r, .z, .n, .ah_n)",
         ("da_z = dh_next * (h_prev - n) * z * (1 - z), da_nx = dh_next * (1 - z) * (1 - n ** 2), "
         "da_r = da_nx * ah_n * r * (1 - r)")),
        gates=GRU_GATES, gate_hints=GRU_GATE_HINTS, gate_groups=GRU_GATE_GROUPS, through_gates=("dx",),
    ),
    Exercise(
        "gru_bptt", 5, "GRU backward through time, masked", "minatt.ops.gru", "gru_forward", "gru_backward",
        ("x", "h0", "Wx", "Wh", "bx", "bh"), trials.gru_bptt,
        {
            "dx": ("walk t from T - 1 down to 0; a padded step has no input gradient",
                   "dx[:, t] = dax_t @ Wx^T, exactly 0 at padded steps"),
            "dh0": ("dh0 is the dh left after step 0; a padded step passes dh through and ignores dhs there",
                    "dh_t = dh_carried + dhs[:, t]; dh_carried = dh_t * z + dah_t @ Wh^T at real steps"),
            "dWx": ("Wx is shared by every step: add each step's gradient", "dWx = sum over t of x_t^T @ dax_t"),
            "dWh": ("Wh is shared by every step: add each step's gradient",
                    "dWh = sum over t of h_prev_t^T @ dah_t, h_prev_t = cache.cells[t].h_prev"),
            "dbx": ("bx is added at every step to every row", "dbx = sum of dax_t over the batch and every step"),
            "dbh": ("bh is added at every step to every row", "dbh = sum of dah_t over the batch and every step"),
        },
        (("at each step (from T - 1 down) the cell's backward needs the whole dh; rows padded at t keep it and "
         "get no dax, dah"), "dax, dah, dh_direct = gru_cell_backward(dh_t, cache.cells[t])"),
        gates=GRU_GATES, gate_hints=GRU_GATE_HINTS, gate_groups=GRU_GATE_GROUPS, through_gates=("dx",),
    ),
]
