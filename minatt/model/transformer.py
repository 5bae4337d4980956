"""The Transformer encoder as parameter holders over minatt.ops.encoder_layer (the nn level).

Dimensions: N batch, S source steps, D model size (= the key size K = ``hidden``), h heads,
F feed-forward size, L layers, V vocabulary.

    x0     = embed(src) + PE[:S]                (N, S, D) embeddings plus sinusoidal positions
    x_l    = EncoderLayer_l(x_{l-1}, mask)      (N, S, D) l = 1 .. L, post-norm, no dropout
    keys   = x_L                                (N, S, D)
    pooled = sum_s mask * x_L / count           (N, D) the mean over each row's real positions

The pooled vector plays the part of an RNN encoder's final state (the decoder's start, through
the model's bridge, and score 'none''s fixed context); there is no cell state (final_c = None).

Backward: the pooled mean hands dpooled / count to every real position, added to dkeys; then
the layers in reverse, then the embeddings (the positions are constants).

Initialisation, drawn on the host from the model's generator in the default dtype (as
PyTorch's TransformerEncoderLayer, except that Wq, Wk, Wv are drawn like every other matrix):

    Wq, Wk, Wv, Wo, W1     ~ U(-1/sqrt(D), 1/sqrt(D))      W2, b2 ~ U(-1/sqrt(F), 1/sqrt(F))
    bq, bk, bv, bo = 0     b1 ~ U(-1/sqrt(D), 1/sqrt(D))    layer-norm gains 1, biases 0
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module, get_default_dtype, get_xp, uniform
from minatt.model.nn import Embedding, Grads, Module, Params, Rng, accumulate
from minatt.ops.encoder_layer import EncoderLayerParams, encoder_layer_backward, encoder_layer_forward
from minatt.ops.positions import sinusoidal_positions

Array = Any

__all__ = ["EncoderLayer", "TransformerEncoder"]


class EncoderLayer(Module):
    """One post-norm encoder layer: ``prefix.Wq`` ... ``prefix.ln2_b`` (the fields of EncoderLayerParams)."""

    def __init__(self, params: Params, prefix: str, dim: int, heads: int, ff: int, rng: Rng) -> None:
        super().__init__(params, prefix)
        if dim % heads:
            raise ValueError(f"{heads} heads do not divide the model size {dim}")
        self.heads = heads
        xp, dtype = get_xp(), get_default_dtype()
        shapes = {"W1": (dim, ff), "b1": (ff,), "W2": (ff, dim), "b2": (dim,)}
        for name in EncoderLayerParams._fields:
            shape = shapes.get(name, (dim, dim) if name.startswith("W") else (dim,))
            fan_in = ff if name in ("W2", "b2") else dim
            if name.startswith("W") or name in ("b1", "b2"):
                self.add(name, uniform(rng, shape, 1.0 / fan_in**0.5))
            elif name.endswith("_g"):
                self.add(name, xp.ones(shape, dtype=dtype))
            else:
                self.add(name, xp.zeros(shape, dtype=dtype))

    def arrays(self) -> EncoderLayerParams:
        """The layer's current arrays, as the op takes them."""
        return EncoderLayerParams(*(self.p(name) for name in EncoderLayerParams._fields))

    def forward(self, x: Array, mask: Array) -> tuple[Array, Array, Any]:
        """x (N, S, D), mask (N, S) -> y (N, S, D), attention weights (N, h, S, S), cache."""
        return encoder_layer_forward(x, self.arrays(), self.heads, mask)

    def backward(self, dy: Array, cache: Any, grads: Grads) -> Array:
        """dy (N, S, D) -> dx (N, S, D); adds the layer's gradients into grads."""
        dx, dparams = encoder_layer_backward(dy, cache)
        for name, g in zip(EncoderLayerParams._fields, dparams, strict=True):
            accumulate(grads, self.key(name), g)
        return dx


class TransformerEncoderCache(NamedTuple):
    embed: Any  # the embedding cache
    layers: list  # one EncoderLayerCache per layer, bottom first
    weights: list  # (N, h, S, S) attention weights per layer, for plots
    real: Array  # (N, S, 1) the mask as a float
    count: Array  # (N, 1) real positions per row (at least 1)


class TransformerEncoder(Module):
    """Embedding + positions + L encoder layers, with the Encoder's interface (see the module docstring).

    Parameters: ``prefix.embed.W`` (V, D) and ``prefix.layer{l}.*`` for l = 0 .. L-1.
    """

    def __init__(self, params: Params, prefix: str, vocab: int, dim: int, layers: int, heads: int, ff: int,
                 rng: Rng) -> None:
        super().__init__(params, prefix)
        self.dim = dim
        self.embed = Embedding(params, f"{prefix}.embed", vocab, dim, rng)
        self.layers = [EncoderLayer(params, f"{prefix}.layer{i}", dim, heads, ff, rng) for i in range(layers)]

    def forward(self, src: Array, mask: Array) -> tuple[Array, Array, None, TransformerEncoderCache]:
        """src (N, S) int, mask (N, S) bool -> keys (N, S, D), pooled (N, D), None, cache."""
        emb, ecache = self.embed.forward(src)  # (N, S, D)
        x = emb + sinusoidal_positions(src.shape[1], self.dim, emb.dtype)  # (N, S, D)
        caches, weights = [], []
        for layer in self.layers:
            x, w, cache = layer.forward(x, mask)  # (N, S, D), (N, h, S, S)
            caches.append(cache)
            weights.append(w)
        xp = array_module(x)
        real = mask[:, :, None].astype(x.dtype)  # (N, S, 1)
        count = xp.maximum(real.sum(axis=1), 1.0)  # (N, 1)
        pooled = (x * real).sum(axis=1) / count  # (N, D)
        return x, pooled, None, TransformerEncoderCache(ecache, caches, weights, real, count)

    def backward(self, dkeys: Array, dpooled: Array, dfinal_c: Array | None, cache: TransformerEncoderCache,
                 grads: Grads) -> None:
        """dkeys (N, S, D), dpooled (N, D) (dfinal_c is unused: there is no cell state): adds every
        encoder gradient."""
        dx = dkeys + cache.real * (dpooled / cache.count)[:, None, :]  # (N, S, D)
        for layer, layer_cache in zip(reversed(self.layers), reversed(cache.layers), strict=True):
            dx = layer.backward(dx, layer_cache, grads)  # (N, S, D)
        self.embed.backward(dx, cache.embed, grads)
