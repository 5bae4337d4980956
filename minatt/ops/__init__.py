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
import math
import numbers
from collections.abc import Callable
from typing import Any

from minatt.ops import activations as _act
from minatt.ops import attention as _att
from minatt.ops import embedding as _emb
from minatt.ops import gru as _gru
from minatt.ops import linear as _lin
from minatt.ops import loss as _loss
from minatt.ops import lstm as _lstm
from minatt.ops import scores as _sc
from minatt.ops import softmax as _sm
from minatt.ops.attention import AttentionCache
from minatt.ops.embedding import EmbeddingCache
from minatt.ops.gru import GRUCache, GRUStepCache
from minatt.ops.linear import AffineCache
from minatt.ops.loss import CrossEntropyCache
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
from minatt.validate import Signature

NOTE = ("Checked entry point (minatt.ops): the arguments' shapes, dtypes, backend, ids and masks are "
        "checked first (minatt.validate); the unchecked op is {module}.{name}.")


def _checked(fn: Callable, check: Callable) -> Callable:
    """``fn`` behind ``check`` (called with the same arguments); same name, signature and docstring."""

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
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


def _affine_forward(x, W, b):
    s = Signature("affine_forward")
    s.floats("x", x, "... D")
    s.floats("W", W, "D M")
    s.floats("b", b, "M")


def _affine_backward(dout, cache):
    s = Signature("affine_backward")
    s.cache("cache", cache, AffineCache, "affine_forward")
    s.floats("cache.W", cache.W, "D M")
    s.dims["..."], s.source["..."] = tuple(cache.x_shape[:-1]), "the forward's x"
    s.floats("dout", dout, "... M")


def _embedding_forward(ids, W):
    s = Signature("embedding_forward")
    s.floats("W", W, "V D")
    s.ints("ids", ids, "...", vocab="V")


def _embedding_backward(dout, cache):
    s = Signature("embedding_backward")
    s.cache("cache", cache, EmbeddingCache, "embedding_forward")
    s.dims["..."], s.source["..."] = tuple(cache.ids.shape), "the forward's ids"
    s.floats("dout", dout, "... D")


def _softmax_forward(x, mask=None):
    s = Signature("softmax_forward")
    s.floats("x", x, "... S")
    s.mask("mask", mask, "... S", broadcast=True)


def _softmax_backward(dp, cache):
    s = Signature("softmax_backward")
    s.cache("cache", cache, SoftmaxCache, "softmax_forward")
    s.floats("cache.p", cache.p, "... S")
    s.floats("dp", dp, "... S")


def _cross_entropy_forward(logits, targets, ignore_index=None):
    s = Signature("cross_entropy_forward")
    if ignore_index is not None and (not isinstance(ignore_index, numbers.Integral)
                                     or isinstance(ignore_index, bool)):
        s.fail("ignore_index", f"expected an integer id or None, got {ignore_index!r}")
    s.floats("logits", logits, "... V")
    s.ints("targets", targets, "...", vocab="V", ignore=ignore_index)


def _cross_entropy_backward(cache, dloss=1.0):
    s = Signature("cross_entropy_backward")
    s.cache("cache", cache, CrossEntropyCache, "cross_entropy_forward")
    if not isinstance(dloss, numbers.Real) or isinstance(dloss, bool) or not math.isfinite(dloss):
        s.fail("dloss", f"expected a finite Python number (d objective / d loss), got {dloss!r}")


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
    s.cache("cache", cache, LSTMStepCache, "lstm_step_forward")
    s.floats("cache.cell.c_prev", cache.cell.c_prev, "N H")
    s.maybe_floats("dh_next", dh_next, "N H")
    s.maybe_floats("dc_next", dc_next, "N H")


def _lstm_forward(x, h0, c0, Wx, Wh, b, mask=None):
    s = Signature("lstm_forward")
    s.floats("x", x, "N T D")
    s.floats("h0", h0, "N H")
    s.floats("c0", c0, "N H")
    s.floats("Wx", Wx, "D 4H")
    s.floats("Wh", Wh, "H 4H")
    s.floats("b", b, "4H")
    s.mask("mask", mask, "N T")


def _lstm_backward(dhs, dhT, dcT, cache):
    s = Signature("lstm_backward")
    s.cache("cache", cache, LSTMCache, "lstm_forward")
    s.floats("cache.x", cache.x, "N T D")
    s.floats("cache.Wh", cache.Wh, "H 4H")
    s.floats("dhs", dhs, "N T H")
    s.maybe_floats("dhT", dhT, "N H")
    s.maybe_floats("dcT", dcT, "N H")


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
    s.cache("cache", cache, GRUStepCache, "gru_step_forward")
    s.floats("cache.cell.h_prev", cache.cell.h_prev, "N H")
    s.floats("dh_next", dh_next, "N H")


def _gru_forward(x, h0, Wx, Wh, bx, bh, mask=None):
    s = Signature("gru_forward")
    s.floats("x", x, "N T D")
    s.floats("h0", h0, "N H")
    s.floats("Wx", Wx, "D 3H")
    s.floats("Wh", Wh, "H 3H")
    s.floats("bx", bx, "3H")
    s.floats("bh", bh, "3H")
    s.mask("mask", mask, "N T")


def _gru_backward(dhs, dhT, cache):
    s = Signature("gru_backward")
    s.cache("cache", cache, GRUCache, "gru_forward")
    s.floats("cache.x", cache.x, "N T D")
    s.floats("cache.Wh", cache.Wh, "H 3H")
    s.floats("dhs", dhs, "N T H")
    s.maybe_floats("dhT", dhT, "N H")


def _dot_score_forward(q, keys):
    s = Signature("dot_score_forward")
    s.floats("q", q, "N H")
    s.floats("keys", keys, "N S H")


def _scores_backward(op: str, dscores: Any, cache: Any, kind: type, keys: Any) -> None:
    s = Signature(op)
    s.cache("cache", cache, kind, op.replace("backward", "forward"))
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
    s.cache("cache", cache, KeysCache, "additive_keys_forward")
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
    s.mask("mask", mask, "N S")


def _attention_backward(dcontext, dweights, cache):
    s = Signature("attention_backward")
    s.cache("cache", cache, AttentionCache, "attention_forward")
    s.floats("cache.values", cache.values, "N S Hv")
    s.floats("dcontext", dcontext, "N Hv")
    s.maybe_floats("dweights", dweights, "N S")


# ---------------------------------------------------------------------------------------
# The checked ops (names as in the submodules).

sigmoid = _checked(_act.sigmoid, _sigmoid)
sigmoid_backward = _checked(_act.sigmoid_backward, _sigmoid_backward)
tanh_backward = _checked(_act.tanh_backward, _tanh_backward)
affine_forward = _checked(_lin.affine_forward, _affine_forward)
affine_backward = _checked(_lin.affine_backward, _affine_backward)
embedding_forward = _checked(_emb.embedding_forward, _embedding_forward)
embedding_backward = _checked(_emb.embedding_backward, _embedding_backward)
softmax_forward = _checked(_sm.softmax_forward, _softmax_forward)
softmax_backward = _checked(_sm.softmax_backward, _softmax_backward)
cross_entropy_forward = _checked(_loss.cross_entropy_forward, _cross_entropy_forward)
cross_entropy_backward = _checked(_loss.cross_entropy_backward, _cross_entropy_backward)
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
