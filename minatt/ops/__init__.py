"""Pure math: forward/backward pairs over ``xp``, one concept per file.

Two ways in, the same math:

* ``from minatt.ops import lstm_forward`` -- the CHECKED op. Before running it checks every
  argument's rank, shape (dimension letters bound across the arguments: x (N, T, D) and
  h0 (N, H) must agree on N), dtype (floating point, all the same), backend (no NumPy array
  among CuPy ones), integer ids (inside the vocabulary), masks (bool, the right shape), and
  refuses empty batches (N = 0) and zero-length sequences (T = 0, S = 0). A mistake raises
  :class:`minatt.errors.ShapeError` with one line naming the argument, the expected and the
  actual value. Use these when calling ops yourself (lessons, exercises, experiments).
* ``from minatt.ops.lstm import lstm_forward`` -- the UNCHECKED op in its submodule (also
  ``minatt.ops.lstm_forward.__wrapped__``). The model (:mod:`minatt.nn`, :mod:`minatt.seq2seq`)
  calls these inside its time loops, where the arguments are already known to be right, so the
  checks cost nothing there; the model validates its own inputs once, at its boundary.

The checks read only shapes, dtypes and array types (see :mod:`minatt.validate`), a few
microseconds per call; the one exception is the id range of ``embedding_forward`` and
``cross_entropy_forward``, a min/max over the ids (on a GPU, a wait for the device).
A checked op has the same signature, return value and docstring as the one it wraps.

>>> import numpy as np
>>> from minatt.ops import affine_forward
>>> affine_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5))
Traceback (most recent call last):
    ...
minatt.errors.ShapeError: affine_forward: W: expected shape (D, M) = (3, M) (D = 3 from x), got (4, 5)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from minatt.ops import activations as _act
from minatt.ops import attention as _att
from minatt.ops import gru as _gru
from minatt.ops import lstm as _lstm
from minatt.ops import scores as _sc
from minatt.ops import softmax as _sm
from minatt.ops.attention import AttentionCache
from minatt.ops.embedding import EmbeddingCache, embedding_backward, embedding_forward
from minatt.ops.gru import GRUCache, GRUStepCache
from minatt.ops.linear import AffineCache, affine_backward, affine_forward
from minatt.ops.loss import CrossEntropyCache, cross_entropy_backward, cross_entropy_forward
from minatt.ops.lstm import LSTMCache, LSTMStepCache
from minatt.ops.scores import (
    AdditiveCache,
    ConcatCache,
    ConcatKeysCache,
    ConcatProjectedCache,
    DotCache,
    GeneralCache,
    GeneralKeysCache,
    KeysCache,
    ProjectedCache,
    ScaledDotCache,
)
from minatt.ops.softmax import SoftmaxCache
from minatt.validate import Cache, Signature, checking, parse_spec

NOTE = ("Checked entry point (minatt.ops): the arguments' shapes, dtypes, backend, ids and masks are "
        "checked first (minatt.validate); the unchecked op is {module}.{name}.")


def _checked(fn: Callable, check: Callable) -> Callable:
    """``fn`` behind ``check`` (called with the same arguments); same name, signature and docstring."""

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        if checking():
            check(*args, **kwargs)
        return fn(*args, **kwargs)

    note = NOTE.format(module=fn.__module__, name=fn.__name__)
    op.__doc__ = f"{(fn.__doc__ or '').rstrip()}\n\n    {note}\n"
    op.__module__ = __name__
    return op


# ---------------------------------------------------------------------------------------
# The checks, one per op, with the op's own signature. Letters: N batch, T/S steps, D input,
# H hidden, A attention, V vocabulary, M output features, Hq/Hk/Hv query/key/value sizes.


def _sigmoid(x):
    Signature("sigmoid").floats("x", x, "...")


def _sigmoid_backward(ds, s):
    sig = Signature("sigmoid_backward")
    sig.floats("s", s, "...")
    sig.floats("ds", ds, "...")


def _tanh_backward(dt, t):
    sig = Signature("tanh_backward")
    sig.floats("t", t, "...")
    sig.floats("dt", dt, "...")






def _softmax_forward(x, mask=None):
    s = Signature("softmax_forward")
    s.floats("x", x, "... S")
    s.check("mask", mask, parse_spec("... S bool broadcastable?"), {})


def _softmax_backward(dp, cache):
    s = Signature("softmax_backward")
    s.cache("cache", cache, Cache(SoftmaxCache))
    s.floats("cache.p", cache.p, "... S")
    s.floats("dp", dp, "... S")




def _lstm_step_forward(x, h, c, Wx, Wh, b):
    s = Signature("lstm_step_forward")
    s.floats("x", x, "N D")
    s.floats("h", h, "N H")
    s.floats("c", c, "N H")
    s.floats("Wx", Wx, "D 4H")
    s.floats("Wh", Wh, "H 4H")
    s.floats("b", b, "4H")


def _lstm_step_backward(dh_next, dc_next, cache):
    s = Signature("lstm_step_backward")
    s.cache("cache", cache, Cache(LSTMStepCache))
    s.floats("cache.c_prev", cache.c_prev, "N H")
    s.check("dh_next", dh_next, parse_spec("N H?"), {})
    s.check("dc_next", dc_next, parse_spec("N H?"), {})


def _lstm_forward(x, h0, c0, Wx, Wh, b, mask=None):
    s = Signature("lstm_forward")
    s.floats("x", x, "N T D")
    s.floats("h0", h0, "N H")
    s.floats("c0", c0, "N H")
    s.floats("Wx", Wx, "D 4H")
    s.floats("Wh", Wh, "H 4H")
    s.floats("b", b, "4H")
    s.check("mask", mask, parse_spec("N T bool?"), {})


def _lstm_backward(dhs, dhT, dcT, cache):
    s = Signature("lstm_backward")
    s.cache("cache", cache, Cache(LSTMCache))
    s.floats("cache.x", cache.x, "N T D")
    s.floats("cache.c0", cache.c0, "N H")
    s.floats("dhs", dhs, "N T H")
    s.check("dhT", dhT, parse_spec("N H?"), {})
    s.check("dcT", dcT, parse_spec("N H?"), {})


def _gru_step_forward(x, h, Wx, Wh, bx, bh):
    s = Signature("gru_step_forward")
    s.floats("x", x, "N D")
    s.floats("h", h, "N H")
    s.floats("Wx", Wx, "D 3H")
    s.floats("Wh", Wh, "H 3H")
    s.floats("bx", bx, "3H")
    s.floats("bh", bh, "3H")


def _gru_step_backward(dh_next, cache):
    s = Signature("gru_step_backward")
    s.cache("cache", cache, Cache(GRUStepCache))
    s.floats("cache.h_prev", cache.h_prev, "N H")
    s.floats("dh_next", dh_next, "N H")


def _gru_forward(x, h0, Wx, Wh, bx, bh, mask=None):
    s = Signature("gru_forward")
    s.floats("x", x, "N T D")
    s.floats("h0", h0, "N H")
    s.floats("Wx", Wx, "D 3H")
    s.floats("Wh", Wh, "H 3H")
    s.floats("bx", bx, "3H")
    s.floats("bh", bh, "3H")
    s.check("mask", mask, parse_spec("N T bool?"), {})


def _gru_backward(dhs, dhT, cache):
    s = Signature("gru_backward")
    s.cache("cache", cache, Cache(GRUCache))
    s.floats("cache.x", cache.x, "N T D")
    s.floats("cache.Wh", cache.Wh, "H 3H")
    s.floats("dhs", dhs, "N T H")
    s.check("dhT", dhT, parse_spec("N H?"), {})


def _dot_score_forward(q, keys):
    s = Signature("dot_score_forward")
    s.floats("q", q, "N H")
    s.floats("keys", keys, "N S H")


def _scores_backward(op: str, dscores: Any, cache: Any, kind: type, keys: Any) -> None:
    s = Signature(op)
    s.cache("cache", cache, Cache(kind))
    s.floats("cache (its keys)", keys, "N S K")  # binds N, S, the dtype and the backend
    s.floats("dscores", dscores, "N S")


def _dot_score_backward(dscores, cache):
    _scores_backward("dot_score_backward", dscores, cache, DotCache, getattr(cache, "keys", None))


def _general_score_forward(q, keys, Wa):
    s = Signature("general_score_forward")
    s.floats("q", q, "N Hq")
    s.floats("keys", keys, "N S Hk")
    s.floats("Wa", Wa, "Hq Hk")


def _general_score_backward(dscores, cache):
    keys = getattr(getattr(cache, "score", None), "keys", None)
    _scores_backward("general_score_backward", dscores, cache, GeneralCache, keys)


def _scaled_dot_score_forward(q, keys):
    s = Signature("scaled_dot_score_forward")
    s.floats("q", q, "N H")
    s.floats("keys", keys, "N S H")


def _scaled_dot_score_backward(dscores, cache):
    keys = getattr(getattr(cache, "dot", None), "keys", None)
    _scores_backward("scaled_dot_score_backward", dscores, cache, ScaledDotCache, keys)


def _general_keys_forward(keys, Wa):
    s = Signature("general_keys_forward")
    s.floats("keys", keys, "N S Hk")
    s.floats("Wa", Wa, "Hq Hk")


def _general_keys_backward(dkW, cache):
    s = Signature("general_keys_backward")
    s.cache("cache", cache, GeneralKeysCache, "general_keys_forward")
    s.floats("cache.keys", cache.keys, "N S Hk")
    s.floats("cache.Wa", cache.Wa, "Hq Hk")
    s.floats("dkW", dkW, "N S Hq")


def _concat_keys_forward(keys, Wa):
    s = Signature("concat_keys_forward")
    s.floats("keys", keys, "N S Hk")
    s.floats("Wa", Wa, "Hq+Hk A")


def _concat_keys_backward(dkproj, cache):
    s = Signature("concat_keys_backward")
    s.cache("cache", cache, ConcatKeysCache, "concat_keys_forward")
    s.floats("cache.additive.keys", cache.additive.keys, "N S Hk")
    s.floats("cache.additive.Wk", cache.additive.Wk, "Hk A")
    s.floats("dkproj", dkproj, "N S A")


def _concat_score_projected_forward(q, kproj, Wa, v):
    s = Signature("concat_score_projected_forward")
    s.floats("q", q, "N Hq")
    s.floats("kproj", kproj, "N S A")
    s.floats("Wa", Wa, "Hq+Hk A")
    s.floats("v", v, "A")


def _concat_score_projected_backward(dscores, cache):
    t = getattr(getattr(cache, "additive", None), "t", None)
    _scores_backward("concat_score_projected_backward", dscores, cache, ConcatProjectedCache, t)


def _additive_keys_forward(keys, Wk):
    s = Signature("additive_keys_forward")
    s.floats("keys", keys, "N S Hk")
    s.floats("Wk", Wk, "Hk A")


def _additive_keys_backward(dkproj, cache):
    s = Signature("additive_keys_backward")
    s.cache("cache", cache, Cache(KeysCache))
    s.floats("cache.keys", cache.keys, "N S Hk")
    s.floats("cache.Wk", cache.Wk, "Hk A")
    s.floats("dkproj", dkproj, "N S A")


def _additive_score_projected_forward(q, kproj, Wq, v):
    s = Signature("additive_score_projected_forward")
    s.floats("q", q, "N Hq")
    s.floats("kproj", kproj, "N S A")
    s.floats("Wq", Wq, "Hq A")
    s.floats("v", v, "A")


def _additive_score_projected_backward(dscores, cache):
    _scores_backward("additive_score_projected_backward", dscores, cache, ProjectedCache,
                     getattr(cache, "t", None))


def _additive_score_forward(q, keys, Wq, Wk, v):
    s = Signature("additive_score_forward")
    s.floats("q", q, "N Hq")
    s.floats("keys", keys, "N S Hk")
    s.floats("Wq", Wq, "Hq A")
    s.floats("Wk", Wk, "Hk A")
    s.floats("v", v, "A")


def _additive_score_backward(dscores, cache):
    t = getattr(getattr(cache, "score", None), "t", None)
    _scores_backward("additive_score_backward", dscores, cache, AdditiveCache, t)


def _concat_score_forward(q, keys, Wa, v):
    s = Signature("concat_score_forward")
    s.floats("q", q, "N Hq")
    s.floats("keys", keys, "N S Hk")
    s.floats("Wa", Wa, "Hq+Hk A")
    s.floats("v", v, "A")


def _concat_score_backward(dscores, cache):
    t = getattr(getattr(getattr(cache, "score", None), "additive", None), "t", None)
    _scores_backward("concat_score_backward", dscores, cache, ConcatCache, t)


def _attention_forward(scores, values, mask=None):
    s = Signature("attention_forward")
    s.floats("scores", scores, "N S")
    s.floats("values", values, "N S Hv")
    s.check("mask", mask, parse_spec("N S bool?"), {})


def _attention_backward(dcontext, dweights, cache):
    s = Signature("attention_backward")
    s.cache("cache", cache, Cache(AttentionCache))
    s.floats("cache.values", cache.values, "N S Hv")
    s.floats("dcontext", dcontext, "N Hv")
    s.check("dweights", dweights, parse_spec("N S?"), {})


# ---------------------------------------------------------------------------------------
# The checked ops (names as in the submodules).

sigmoid = _checked(_act.sigmoid, _sigmoid)
sigmoid_backward = _checked(_act.sigmoid_backward, _sigmoid_backward)
tanh_backward = _checked(_act.tanh_backward, _tanh_backward)
softmax_forward = _checked(_sm.softmax_forward, _softmax_forward)
softmax_backward = _checked(_sm.softmax_backward, _softmax_backward)
lstm_step_forward = _checked(_lstm.lstm_step_forward, _lstm_step_forward)
lstm_step_backward = _checked(_lstm.lstm_step_backward, _lstm_step_backward)
lstm_forward = _checked(_lstm.lstm_forward, _lstm_forward)
lstm_backward = _checked(_lstm.lstm_backward, _lstm_backward)
gru_step_forward = _checked(_gru.gru_step_forward, _gru_step_forward)
gru_step_backward = _checked(_gru.gru_step_backward, _gru_step_backward)
gru_forward = _checked(_gru.gru_forward, _gru_forward)
gru_backward = _checked(_gru.gru_backward, _gru_backward)
dot_score_forward = _checked(_sc.dot_score_forward, _dot_score_forward)
dot_score_backward = _checked(_sc.dot_score_backward, _dot_score_backward)
scaled_dot_score_forward = _checked(_sc.scaled_dot_score_forward, _scaled_dot_score_forward)
scaled_dot_score_backward = _checked(_sc.scaled_dot_score_backward, _scaled_dot_score_backward)
general_keys_forward = _checked(_sc.general_keys_forward, _general_keys_forward)
general_keys_backward = _checked(_sc.general_keys_backward, _general_keys_backward)
general_score_forward = _checked(_sc.general_score_forward, _general_score_forward)
general_score_backward = _checked(_sc.general_score_backward, _general_score_backward)
additive_keys_forward = _checked(_sc.additive_keys_forward, _additive_keys_forward)
additive_keys_backward = _checked(_sc.additive_keys_backward, _additive_keys_backward)
additive_score_projected_forward = _checked(_sc.additive_score_projected_forward, _additive_score_projected_forward)
additive_score_projected_backward = _checked(_sc.additive_score_projected_backward,
                                             _additive_score_projected_backward)
additive_score_forward = _checked(_sc.additive_score_forward, _additive_score_forward)
additive_score_backward = _checked(_sc.additive_score_backward, _additive_score_backward)
concat_keys_forward = _checked(_sc.concat_keys_forward, _concat_keys_forward)
concat_keys_backward = _checked(_sc.concat_keys_backward, _concat_keys_backward)
concat_score_projected_forward = _checked(_sc.concat_score_projected_forward, _concat_score_projected_forward)
concat_score_projected_backward = _checked(_sc.concat_score_projected_backward, _concat_score_projected_backward)
concat_score_forward = _checked(_sc.concat_score_forward, _concat_score_forward)
concat_score_backward = _checked(_sc.concat_score_backward, _concat_score_backward)
attention_forward = _checked(_att.attention_forward, _attention_forward)
attention_backward = _checked(_att.attention_backward, _attention_backward)

__all__ = [
    "AdditiveCache",
    "AffineCache",
    "AttentionCache",
    "ConcatCache",
    "ConcatKeysCache",
    "ConcatProjectedCache",
    "CrossEntropyCache",
    "DotCache",
    "EmbeddingCache",
    "GRUCache",
    "GRUStepCache",
    "GeneralCache",
    "GeneralKeysCache",
    "KeysCache",
    "LSTMCache",
    "LSTMStepCache",
    "ProjectedCache",
    "ScaledDotCache",
    "SoftmaxCache",
    "additive_keys_backward",
    "additive_keys_forward",
    "additive_score_backward",
    "additive_score_forward",
    "additive_score_projected_backward",
    "additive_score_projected_forward",
    "affine_backward",
    "affine_forward",
    "attention_backward",
    "attention_forward",
    "concat_keys_backward",
    "concat_keys_forward",
    "concat_score_backward",
    "concat_score_forward",
    "concat_score_projected_backward",
    "concat_score_projected_forward",
    "cross_entropy_backward",
    "cross_entropy_forward",
    "dot_score_backward",
    "dot_score_forward",
    "embedding_backward",
    "embedding_forward",
    "general_keys_backward",
    "general_keys_forward",
    "general_score_backward",
    "general_score_forward",
    "gru_backward",
    "gru_forward",
    "gru_step_backward",
    "gru_step_forward",
    "lstm_backward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "scaled_dot_score_backward",
    "scaled_dot_score_forward",
    "sigmoid",
    "sigmoid_backward",
    "softmax_backward",
    "softmax_forward",
    "tanh_backward",
]
