"""The ops' contracts: one name per op, the same results with the checks off, and a one-line error for every mistake.

Every error test asserts the message (the op, the argument, what was expected, what was given),
not just the exception type.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from minatt import ops
from minatt.errors import MinattError, ShapeError
from minatt.ops import activations as act
from minatt.ops import (
    attention,
    embedding,
    encoder_layer,
    feedforward,
    gru,
    layernorm,
    linear,
    loss,
    lstm,
    scores,
    self_attention,
    softmax,
)
from minatt.validate import Contract, unchecked

N, T, S, D, H, A, V = 3, 4, 5, 6, 7, 8, 9
F = np.float64


def _r(rng, *shape, dtype=F):
    return rng.standard_normal(shape).astype(dtype)


def _mask(n, t):
    m = np.ones((n, t), dtype=bool)
    m[0, t - 1:] = False  # a shorter row
    m[-1, :] = False  # and a fully padded one
    return m


def forward_args(name: str, rng) -> tuple:
    """Valid arguments for every forward op."""
    def r(*shape):
        return _r(rng, *shape)

    table = {
        "sigmoid": (r(N, D),),
        "affine_forward": (r(N, T, D), r(D, H), r(H)),
        "embedding_forward": (rng.integers(0, V, (N, T)), r(V, D)),
        "softmax_forward": (r(N, S), _mask(N, S)),
        "cross_entropy_forward": (r(N, T, V), rng.integers(0, V, (N, T)), 0),
        "lstm_step_forward": (r(N, D), r(N, H), r(N, H), r(D, 4 * H), r(H, 4 * H), r(4 * H)),
        "lstm_forward": (r(N, T, D), r(N, H), r(N, H), r(D, 4 * H), r(H, 4 * H), r(4 * H), _mask(N, T)),
        "gru_step_forward": (r(N, D), r(N, H), r(D, 3 * H), r(H, 3 * H), r(3 * H), r(3 * H)),
        "gru_forward": (r(N, T, D), r(N, H), r(D, 3 * H), r(H, 3 * H), r(3 * H), r(3 * H), _mask(N, T)),
        "dot_score_forward": (r(N, H), r(N, S, H)),
        "scaled_dot_score_forward": (r(N, H), r(N, S, H)),
        "general_keys_forward": (r(N, S, D), r(H, D)),
        "general_score_forward": (r(N, H), r(N, S, D), r(H, D)),
        "additive_keys_forward": (r(N, S, D), r(D, A)),
        "additive_score_projected_forward": (r(N, H), r(N, S, A), r(H, A), r(A)),
        "additive_score_forward": (r(N, H), r(N, S, D), r(H, A), r(D, A), r(A)),
        "concat_keys_forward": (r(N, S, D), r(H + D, A)),
        "concat_score_projected_forward": (r(N, H), r(N, S, A), r(H + D, A), r(A)),
        "concat_score_forward": (r(N, H), r(N, S, D), r(H + D, A), r(A)),
        "attention_forward": (r(N, S), r(N, S, D), _mask(N, S)),
    }
    return table[name]


def backward_args(name: str, rng) -> tuple:
    """Valid arguments for every backward op (running its forward first)."""
    fwd = name.replace("_backward", "_forward")
    if name == "sigmoid_backward":
        s = act.sigmoid(_r(rng, N, D))
        return _r(rng, N, D), s
    if name == "tanh_backward":
        return _r(rng, N, D), np.tanh(_r(rng, N, D))
    out = getattr(ops, fwd)(*forward_args(fwd, rng))
    cache = out[-1]
    if name == "cross_entropy_backward":
        return cache, 1.0
    if name == "lstm_step_backward":
        return out[0], out[1], cache
    if name == "lstm_backward":
        hs, (hT, cT), _ = out
        return hs, hT, cT, cache
    if name == "gru_backward":
        return out[0], out[1], cache
    if name == "attention_backward":
        return out[0], out[1], cache
    return out[0], cache


FORWARD = ["sigmoid", "affine_forward", "embedding_forward", "softmax_forward", "cross_entropy_forward",
           "lstm_step_forward", "lstm_forward", "gru_step_forward", "gru_forward", "dot_score_forward",
           "scaled_dot_score_forward", "general_keys_forward", "general_score_forward", "additive_keys_forward",
           "additive_score_projected_forward", "additive_score_forward", "concat_keys_forward",
           "concat_score_projected_forward", "concat_score_forward", "attention_forward"]
BACKWARD = ["sigmoid_backward", "tanh_backward"] + [
    f.replace("_forward", "_backward") for f in FORWARD if f != "sigmoid"]
# The Transformer ops declare contracts too; their argument errors are tested in tests/test_self_attention.py.
TRANSFORMER = ["relu", "relu_backward"] + [f"{op}_{way}" for op in (
    "feedforward", "layer_norm", "scaled_dot_attention", "multihead_attention", "encoder_layer")
    for way in ("forward", "backward")]
NO_ARRAYS = ["sinusoidal_positions"]  # takes a length and a size, no arrays: nothing to check
MODULES = [act, linear, embedding, softmax, loss, lstm, gru, scores, attention, feedforward, layernorm,
           self_attention, encoder_layer]
def _defined_in(name: str):
    return next(getattr(m, name) for m in MODULES if hasattr(m, name))


def _equal(a, b) -> bool:
    if isinstance(a, tuple) and not hasattr(a, "_fields"):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if hasattr(a, "_fields"):  # a cache: compared elsewhere
        return type(a) is type(b)
    if a is None or isinstance(a, (float, int)):
        return a == b
    return np.array_equal(a, b)


def test_every_op_has_one_name_and_its_contract_on_it():
    for name in FORWARD + BACKWARD + TRANSFORMER:
        op = getattr(ops, name)
        assert op is _defined_in(name), f"minatt.ops.{name} is not the op of its module"
        assert isinstance(op.contract, Contract), name
        assert inspect.signature(op) == inspect.signature(op.__wrapped__), name
        assert "Contract (checked on calls from user code): " in op.__doc__, name
        assert name in ops.__all__
    assert {n for n in ops.__all__ if n[0].islower()} == set(FORWARD + BACKWARD + TRANSFORMER + NO_ARRAYS)
    # the submodules stay importable under their names (no re-export shadows them)
    from minatt.ops import scores as scores_module

    assert scores_module is scores


@pytest.mark.parametrize("name", FORWARD + BACKWARD)
def test_checked_calls_give_the_unchecked_results(name):
    make = forward_args if name in FORWARD else backward_args
    got = getattr(ops, name)(*make(name, np.random.default_rng(0)))
    args = make(name, np.random.default_rng(0))
    with unchecked():
        want = getattr(ops, name)(*args)
    assert _equal(got, want), name


def test_keyword_arguments_and_defaults_work():
    rng = np.random.default_rng(0)
    x = _r(rng, N, S)
    p, _ = ops.softmax_forward(x=x)
    assert np.allclose(p.sum(-1), 1.0)
    loss_value, _ = ops.cross_entropy_forward(_r(rng, N, V), targets=np.zeros(N, dtype=np.int64), ignore_index=None)
    assert loss_value > 0
    _fails(r"^affine_forward: b: expected shape \(M\) = \(7\)", ops.affine_forward, b=_r(rng, 6), W=_r(rng, D, H),
           x=_r(rng, N, D))
    with pytest.raises(TypeError):  # a call Python refuses is left to Python
        ops.affine_forward(_r(rng, N, D), _r(rng, D, H))


def _fails(message: str, fn, *args, **kwargs) -> str:
    with pytest.raises(ShapeError) as info:
        fn(*args, **kwargs)
    text = str(info.value)
    assert "\n" not in text and isinstance(info.value, MinattError) and isinstance(info.value, ValueError)
    assert re.search(message, text), f"{message!r} not in {text!r}"
    return text


def _lstm(rng, **changes):
    names = ["x", "h0", "c0", "Wx", "Wh", "b", "mask"]
    args = dict(zip(names, forward_args("lstm_forward", rng)))
    args.update(changes)
    return args


# -- rank and shape ----------------------------------------------------------------------------


def test_wrong_rank_names_the_argument_and_both_shapes(rng):
    _fails(r"^lstm_forward: x: expected a 3-d array of shape \(N, T, D\), got float64 array of shape \(3, 6\)$",
           ops.lstm_forward, **_lstm(rng, x=_r(rng, N, D)))
    _fails(r"^affine_forward: x: expected an array of at least 1 axes of shape \(\.\.\., D\), got float64 array of "
           r"shape \(\)$",
           ops.affine_forward, np.float64(1.0), _r(rng, D, H), _r(rng, H))
    _fails(r"^attention_forward: values: expected a 3-d array of shape \(N, S, Hv\), got float64 array of "
           r"shape \(3, 5\)$", ops.attention_forward, _r(rng, N, S), _r(rng, N, S))


def test_wrong_shape_says_which_letter_and_where_it_came_from(rng):
    _fails(r"^lstm_forward: h0: expected shape \(N, H\) = \(3, H\) \(N = 3 from x\), got \(2, 7\)$",
           ops.lstm_forward, **_lstm(rng, h0=_r(rng, 2, H)))
    _fails(r"^lstm_forward: c0: expected shape \(N, H\) = \(3, 7\) \(N = 3 from x, H = 7 from h0\), got \(3, 5\)$",
           ops.lstm_forward, **_lstm(rng, c0=_r(rng, N, 5)))
    _fails(r"^lstm_forward: Wx: expected shape \(D, 4H\) = \(6, 28\) \(D = 6 from x, H = 7 from h0\), got \(6, 24\)$",
           ops.lstm_forward, **_lstm(rng, Wx=_r(rng, D, 24)))
    _fails(r"^lstm_forward: b: expected shape \(4H\) = \(28\) \(H = 7 from h0\), got \(21,\)$",
           ops.lstm_forward, **_lstm(rng, b=_r(rng, 21)))
    _fails(r"^gru_step_forward: Wx: expected shape \(D, 3H\) = \(6, 24\) \(D = 6 from x, H = 8 from h_prev\), got \(6, 8\)$",
           ops.gru_step_forward, _r(rng, N, D), _r(rng, N, 8), _r(rng, D, 8), _r(rng, 8, 8), _r(rng, 8), _r(rng, 8))
    from minatt.specs import Signature

    _fails(r"^op: W: expected a size that is a multiple of 4 \(4H\) on that axis, got 10$",
           Signature("op").floats, "W", _r(rng, 2, 10), "D 4H")
    _fails(r"^affine_forward: b: expected shape \(M\) = \(7\) \(M = 7 from W\), got \(6,\)$",
           ops.affine_forward, _r(rng, N, D), _r(rng, D, H), _r(rng, D))
    _fails(r"^dot_score_forward: keys: expected shape \(N, S, H\) = \(3, 5, 7\) \(N = 3 from q, H = 7 from q\), "
           r"got \(3, 5, 8\)$", ops.dot_score_forward,
           _r(rng, N, H), _r(rng, N, S, H + 1))
    _fails(r"^concat_score_forward: Wa: expected shape \(Hq\+Hk, A\) = \(13, A\) \(Hq = 7 from q, Hk = 6 from keys\), "
           r"got \(7, 8\)$", ops.concat_score_forward, _r(rng, N, H), _r(rng, N, S, D), _r(rng, H, A), _r(rng, A))
    _fails(r"^cross_entropy_forward: targets: expected leading axes \(...\) = \(3, 4\) like logits, got shape \(4, 3\)$",
           ops.cross_entropy_forward, _r(rng, N, T, V), np.zeros((T, N), dtype=np.int64))


def test_not_an_array(rng):
    _fails(r"^affine_forward: x: expected an array of shape \(\.\.\., D\), got list$",
           ops.affine_forward, [[1.0, 2.0]], _r(rng, 2, H), _r(rng, H))
    _fails(r"^lstm_forward: h0: expected an array of shape \(N, H\), got NoneType$",
           ops.lstm_forward, **_lstm(rng, h0=None))


# -- dtypes and backends ----------------------------------------------------------------------


def test_mismatched_float_dtypes(rng):
    _fails(r"^lstm_forward: Wh: expected dtype float64 like x, got float32 \(cast it with \.astype",
           ops.lstm_forward, **_lstm(rng, Wh=_r(rng, H, 4 * H, dtype=np.float32)))
    _fails(r"^gru_forward: x: expected a floating-point array, got int64 array of shape \(3, 4, 6\)$",
           ops.gru_forward, np.ones((N, T, D), dtype=np.int64), *forward_args("gru_forward", rng)[1:])


class _DeviceLike(np.ndarray):
    """Looks like a CuPy array to minatt.backend.is_device_array (no GPU needed)."""


_DeviceLike.__module__ = "cupy._fake"


def test_numpy_and_cupy_arrays_are_not_mixed(rng):
    x = _r(rng, N, T, D).view(_DeviceLike)
    _fails(r"^lstm_forward: h0: is a NumPy array but x is a CuPy array: put every argument on one backend "
           r"\(minatt.asarray\(a\) moves an array to the current backend\)$", ops.lstm_forward, **_lstm(rng, x=x))
    W = _r(rng, V, D).view(_DeviceLike)
    _fails(r"^embedding_forward: ids: is a NumPy array but W is a CuPy array",
           ops.embedding_forward, np.zeros((N,), dtype=np.int64), W)


def test_numpy_array_in_a_cupy_op(backend):
    """On a real GPU: a host array handed to an op whose other arguments live on the device."""
    if backend.__name__ == "numpy":
        pytest.skip("needs CuPy and a GPU")
    q, keys = backend.ones((N, H)), np.ones((N, S, H))
    _fails(r"^dot_score_forward: keys: is a NumPy array but q is a CuPy array", ops.dot_score_forward, q, keys)
    ids = backend.asarray([0, V])
    _fails(r"^embedding_forward: ids: expected ids in \[0, V\) = \[0, 9\) \(V from W\), got ids from 0 to 9$",
           ops.embedding_forward, ids, backend.ones((V, D)))


# -- ids ----------------------------------------------------------------------------------------


def test_ids_outside_the_vocabulary(rng):
    W = _r(rng, V, D)
    _fails(r"^embedding_forward: ids: expected ids in \[0, V\) = \[0, 9\) \(V from W\), got ids from 0 to 9$",
           ops.embedding_forward, np.array([[0, 9]]), W)
    _fails(r"^embedding_forward: ids: expected ids in \[0, V\) = \[0, 9\) \(V from W\), got ids from -1 to 2$",
           ops.embedding_forward, np.array([-1, 2]), W)
    _fails(r"^embedding_forward: ids: expected an integer array of ids, got float64 array of shape \(2,\)$",
           ops.embedding_forward, np.array([1.0, 2.0]), W)
    logits = _r(rng, N, V)
    _fails(r"^cross_entropy_forward: targets: expected ids in \[0, V\) = \[0, 9\) \(or ignore_index -1\) "
           r"\(V from logits\), got ids from -2 to 0$",
           ops.cross_entropy_forward, logits, np.array([0, -1, -2]), ignore_index=-1)
    ops.cross_entropy_forward(logits, np.array([0, -1, 8]), ignore_index=-1)  # ignored ids may be outside
    _fails(r"^cross_entropy_forward: ignore_index: expected an integer id or None, got 0.5$",
           ops.cross_entropy_forward, logits, np.zeros(N, dtype=np.int64), ignore_index=0.5)


# -- masks --------------------------------------------------------------------------------------


def test_masks_of_the_wrong_shape_or_type(rng):
    _fails(r"^lstm_forward: mask: expected a bool mask \(True = real token, False = padding\), got int64 array",
           ops.lstm_forward, **_lstm(rng, mask=np.ones((N, T), dtype=np.int64)))
    _fails(r"^lstm_forward: mask: expected shape \(N, T\) = \(3, 4\) \(N = 3 from x, T = 4 from x\), got \(3, 5\)$",
           ops.lstm_forward, **_lstm(rng, mask=np.ones((N, T + 1), dtype=bool)))
    _fails(r"^attention_forward: mask: expected shape \(N, S\) = \(3, 5\) \(N = 3 from scores, S = 5 from scores\), "
           r"got \(5, 3\)$", ops.attention_forward, _r(rng, N, S), _r(rng, N, S, D), np.ones((S, N), dtype=bool))
    x = _r(rng, N, T, S)
    _fails(r"^softmax_forward: mask: expected leading axes \(...\) = \(3, 4\) like x, got shape \(4, 1\)$",
           ops.softmax_forward, x, np.ones((T, 1), dtype=bool))  # x's shape: np.broadcast_to makes one
    _fails(r"^softmax_forward: mask: expected shape \(\.\.\., S\) = \(\.\.\., 5\) \(S = 5 from x\), got \(3, 4, 4\)$",
           ops.softmax_forward, x, np.ones((N, T, T), dtype=bool))
    _fails(r"^gru_forward: mask: expected a bool mask", ops.gru_forward,
           *forward_args("gru_forward", rng)[:-1], np.ones((N, T)))


# -- empty batches and zero-length sequences ------------------------------------------------------


def test_empty_batches_and_zero_length_sequences(rng):
    _fails(r"^lstm_forward: x: an empty batch \(N = 0\): pass at least one sequence$",
           ops.lstm_forward, **_lstm(rng, x=_r(rng, 0, T, D)))
    _fails(r"^gru_forward: x: zero-length sequences \(T = 0\): every sequence needs at least one step$",
           ops.gru_forward, _r(rng, N, 0, D), *forward_args("gru_forward", rng)[1:-1])
    _fails(r"^attention_forward: scores: zero-length sources \(S = 0\): every source needs at least one position$",
           ops.attention_forward, _r(rng, N, 0), _r(rng, N, 0, D))
    _fails(r"^dot_score_forward: keys: zero-length sources \(S = 0\)", ops.dot_score_forward,
           _r(rng, N, H), _r(rng, N, 0, H))
    _fails(r"^softmax_forward: x: zero-length sources \(S = 0\)", ops.softmax_forward, _r(rng, N, 0))
    _fails(r"^affine_forward: x: has an empty leading axis \(shape \(0, 6\)\): pass at least one row$",
           ops.affine_forward, _r(rng, 0, D), _r(rng, D, H), _r(rng, H))
    _fails(r"^affine_forward: W: has size 0 on axis M: every size must be positive$",
           ops.affine_forward, _r(rng, N, D), _r(rng, D, 0), _r(rng, 0))
    _fails(r"^embedding_forward: ids: has an empty leading axis", ops.embedding_forward,
           np.zeros((0, 3), dtype=np.int64), _r(rng, V, D))


def test_the_transformer_ops_declare_contracts_too(rng):
    from minatt.ops.encoder_layer import encoder_layer_forward
    from minatt.ops.layernorm import layer_norm_forward
    from minatt.ops.self_attention import multihead_attention_forward

    _fails(r"^layer_norm_forward: b: expected shape \(D\) = \(6\) \(D = 6 from x\), got \(5,\)$",
           layer_norm_forward, _r(rng, N, T, D), _r(rng, D), _r(rng, 5))
    W, b = _r(rng, D, D), _r(rng, D)
    _fails(r"^multihead_attention_forward: Wv: expected shape \(D, D\) = \(6, 6\) \(D = 6 from xq\), got \(6, 3\)$",
           multihead_attention_forward, _r(rng, N, T, D), _r(rng, N, S, D), W, b, W, b, _r(rng, D, 3), b, W, b, 2)
    _fails(r"^encoder_layer_forward: p: expected the EncoderLayerParams, got tuple$",
           encoder_layer_forward, _r(rng, N, S, D), (b,) * 16, 2)


# -- backward passes ------------------------------------------------------------------------------


def test_backward_checks_the_cache_and_the_upstream_gradient(rng):
    hs, (hT, cT), cache = ops.lstm_forward(**_lstm(rng))
    _fails(r"^lstm_backward: cache: expected the LSTMCache returned by lstm_forward, got tuple$",
           ops.lstm_backward, hs, hT, cT, tuple(cache))
    _fails(r"^lstm_backward: dhs: expected shape \(N, T, H\) = \(3, 4, 7\) \(N = 3 from cache.x, T = 4 from cache.x, "
           r"H = 7 from cache.Wh\), got \(3, 3, 7\)$", ops.lstm_backward, hs[:, 1:], hT, cT, cache)
    _fails(r"^lstm_backward: dhT: expected dtype float64 like cache.x, got float32",
           ops.lstm_backward, hs, hT.astype(np.float32), None, cache)
    assert len(ops.lstm_backward(hs, None, None, cache)) == 6  # None = zero is allowed
    out, cache = ops.affine_forward(_r(rng, N, T, D), _r(rng, D, H), _r(rng, H))
    _fails(r"^affine_backward: dout: expected leading axes \(...\) = \(3, 4\) like cache.x_shape, got shape \(4, 3, 7\)$",
           ops.affine_backward, out.transpose(1, 0, 2), cache)
    _fails(r"^affine_backward: cache: expected the AffineCache returned by affine_forward, got SoftmaxCache$",
           ops.affine_backward, out, ops.softmax_forward(out)[1])
    _, cache = ops.embedding_forward(np.array([[1, 2]]), _r(rng, V, D))
    _fails(r"^embedding_backward: dout: expected leading axes \(...\) = \(1, 2\) like cache.ids",
           ops.embedding_backward, _r(rng, 2, D), cache)
    scores_, cache = ops.dot_score_forward(*forward_args("dot_score_forward", rng))
    _fails(r"^dot_score_backward: dscores: expected shape \(N, S\) = \(3, 5\) \(N = 3 from cache.keys, "
           r"S = 5 from cache.keys\), got \(3, 4\)$", ops.dot_score_backward, scores_[:, 1:], cache)
    _context, weights, cache = ops.attention_forward(*forward_args("attention_forward", rng))
    _fails(r"^attention_backward: dcontext: expected shape \(N, Hv\) = \(3, 6\)", ops.attention_backward,
           weights, None, cache)
    _, cache = ops.cross_entropy_forward(*forward_args("cross_entropy_forward", rng))
    _fails(r"^cross_entropy_backward: dloss: expected a finite Python number, got nan$",
           ops.cross_entropy_backward, cache, float("nan"))
    _fails(r"^tanh_backward: dt: expected leading axes \(...\) = \(3, 6\) like t, got shape \(6, 3\)$",
           ops.tanh_backward, _r(rng, D, N), np.tanh(_r(rng, N, D)))


@pytest.mark.parametrize("settings", [dict(), dict(cell="gru", score="concat", decoder="luong", bidirectional=True),
                                      dict(score="general", decoder="luong", input_feeding=False),
                                      dict(encoder="transformer", heads=2, score="dot")])
def test_the_model_runs_its_loops_with_the_checks_off(settings, monkeypatch):
    """loss, loss_and_grads, greedy and beam check their batch once; no op call inside them is checked."""
    from minatt import validate
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
    from minatt.tasks import make_task

    checked = []
    real = validate.Contract.check
    monkeypatch.setattr(validate.Contract, "check", lambda self, *a: (checked.append(self.op), real(self, *a))[1])
    task = make_task("reverse", min_len=2, max_len=4)
    model = Seq2Seq(Seq2SeqConfig(src_vocab=len(task.src_vocab), tgt_vocab=len(task.tgt_vocab), embed=4, hidden=6,
                                  **settings))
    batch = task.batch(np.random.default_rng(0), 3)
    model.loss_and_grads(batch)
    model.loss(batch)
    model.greedy(batch.src, batch.src_mask, max_len=3)
    model.beam(batch.src, batch.src_mask, max_len=3, k=2)
    assert checked == [] and validate.checking()
    model.encode(*model._device_source(batch.src, batch.src_mask))  # a user's own call into the model is checked
    assert "embedding_forward" in checked


# -- the model's boundary -------------------------------------------------------------------------


def _model_and_batch():
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
    from minatt.tasks import make_task

    task = make_task("reverse", min_len=2, max_len=4)
    model = Seq2Seq(Seq2SeqConfig(src_vocab=len(task.src_vocab), tgt_vocab=len(task.tgt_vocab), embed=4, hidden=6))
    return model, task.batch(np.random.default_rng(0), 3)


def test_model_refuses_empty_batches_and_zero_length_arrays():
    model, batch = _model_and_batch()
    with pytest.raises(ShapeError, match=r"^Seq2Seq: src: an empty batch \(N = 0\): pass at least one sequence$"):
        model.loss_and_grads(batch._replace(src=batch.src[:0], src_mask=batch.src_mask[:0]))
    with pytest.raises(ShapeError, match=r"^Seq2Seq: src: zero-length sources \(S = 0\): every source needs "
                                         r"at least one position$"):
        model.greedy(batch.src[:, :0], batch.src_mask[:, :0], max_len=3)


def test_model_refuses_a_source_row_with_no_real_token():
    model, batch = _model_and_batch()
    mask = batch.src_mask.copy()
    mask[1] = False
    with pytest.raises(ShapeError, match=r"^Seq2Seq: src_mask: row 1 has no real token \(a zero-length source\)"):
        model.greedy(batch.src, mask, max_len=3)


def test_a_mask_may_stay_on_the_host_but_not_go_to_the_device_alone(rng):
    """A host mask beside device arrays is accepted (the op copies it; a recurrence reads its padding
    flags there for free); a device mask beside host arrays is refused like any other argument."""
    from minatt.specs import Signature

    sig = Signature("softmax_forward")
    sig.floats("x", _r(rng, N, S).view(_DeviceLike), "N S")
    sig.mask("mask", np.ones((N, S), dtype=bool), "N S")  # no error
    host = Signature("softmax_forward")
    host.floats("x", _r(rng, N, S), "N S")
    with pytest.raises(ShapeError, match=r"^softmax_forward: mask: is a CuPy array but x is a NumPy array"):
        host.mask("mask", np.ones((N, S), dtype=bool).view(_DeviceLike), "N S")
