"""Pure math: forward/backward pairs over ``xp``, one concept per file.

Every op is defined once, in its submodule, with its shape contract declared on it
(:func:`minatt.validate.contract`), and re-exported here under the same name:
``minatt.ops.lstm_forward is minatt.ops.lstm.lstm_forward``.

A call from your code (lessons, exercises, experiments) checks every argument first: rank and
shape (dimension letters bound across the arguments: x (N, T, D) and h0 (N, H) must agree on
N), dtype (floating point, all the same), backend (no NumPy array among CuPy ones), integer
ids (inside the vocabulary), masks (bool, the right shape), and it refuses empty batches
(N = 0) and zero-length sequences (T = 0, S = 0). A mistake raises
:class:`minatt.errors.ShapeError` with one line naming the op, the argument, the expected and
the actual value. The model (:mod:`minatt.model.seq2seq`) computes its loss, gradients and decodings
inside :func:`minatt.validate.unchecked`, so in its time loops an op skips the checks; the
model validates its own inputs once, at its boundary.

>>> import numpy as np
>>> from minatt.ops import affine_forward
>>> affine_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5))
Traceback (most recent call last):
    ...
minatt.errors.ShapeError: affine_forward: W: expected shape (D, M) = (3, M) (D = 3 from x), got (4, 5)
"""

from __future__ import annotations

from minatt.ops.activations import sigmoid, sigmoid_backward, tanh_backward
from minatt.ops.attention import AttentionCache, attention_backward, attention_forward
from minatt.ops.embedding import EmbeddingCache, embedding_backward, embedding_forward
from minatt.ops.encoder_layer import EncoderLayerCache, EncoderLayerParams, encoder_layer_backward, encoder_layer_forward
from minatt.ops.feedforward import FeedForwardCache, feedforward_backward, feedforward_forward, relu, relu_backward
from minatt.ops.gru import GRUCache, GRUStepCache, gru_backward, gru_forward, gru_step_backward, gru_step_forward
from minatt.ops.layernorm import LayerNormCache, layer_norm_backward, layer_norm_forward
from minatt.ops.linear import AffineCache, affine_backward, affine_forward
from minatt.ops.loss import CrossEntropyCache, cross_entropy_backward, cross_entropy_forward
from minatt.ops.lstm import LSTMCache, LSTMStepCache, lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from minatt.ops.positions import sinusoidal_positions
from minatt.ops.scores import (
    AdditiveCache,
    ConcatCache,
    ConcatKeysCache,
    ConcatProjectedCache,
    DotCache,
    GeneralCache,
    KeysCache,
    ProjectedCache,
    ScaledDotCache,
    additive_keys_backward,
    additive_keys_forward,
    additive_score_backward,
    additive_score_forward,
    additive_score_projected_backward,
    additive_score_projected_forward,
    concat_keys_backward,
    concat_keys_forward,
    concat_score_backward,
    concat_score_forward,
    concat_score_projected_backward,
    concat_score_projected_forward,
    dot_score_backward,
    dot_score_forward,
    general_keys_backward,
    general_keys_forward,
    general_score_backward,
    general_score_forward,
    scaled_dot_score_backward,
    scaled_dot_score_forward,
)
from minatt.ops.self_attention import (
    DotAttentionCache,
    MultiHeadCache,
    multihead_attention_backward,
    multihead_attention_forward,
    scaled_dot_attention_backward,
    scaled_dot_attention_forward,
)
from minatt.ops.softmax import SoftmaxCache, softmax_backward, softmax_forward

__all__ = [
    "AdditiveCache",
    "AffineCache",
    "AttentionCache",
    "ConcatCache",
    "ConcatKeysCache",
    "ConcatProjectedCache",
    "CrossEntropyCache",
    "DotAttentionCache",
    "DotCache",
    "EmbeddingCache",
    "EncoderLayerCache",
    "EncoderLayerParams",
    "FeedForwardCache",
    "GRUCache",
    "GRUStepCache",
    "GeneralCache",
    "KeysCache",
    "LSTMCache",
    "LSTMStepCache",
    "LayerNormCache",
    "MultiHeadCache",
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
    "encoder_layer_backward",
    "encoder_layer_forward",
    "feedforward_backward",
    "feedforward_forward",
    "general_keys_backward",
    "general_keys_forward",
    "general_score_backward",
    "general_score_forward",
    "gru_backward",
    "gru_forward",
    "gru_step_backward",
    "gru_step_forward",
    "layer_norm_backward",
    "layer_norm_forward",
    "lstm_backward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "multihead_attention_backward",
    "multihead_attention_forward",
    "relu",
    "relu_backward",
    "scaled_dot_attention_backward",
    "scaled_dot_attention_forward",
    "scaled_dot_score_backward",
    "scaled_dot_score_forward",
    "sigmoid",
    "sigmoid_backward",
    "sinusoidal_positions",
    "softmax_backward",
    "softmax_forward",
    "tanh_backward",
]
