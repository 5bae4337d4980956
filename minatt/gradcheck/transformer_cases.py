"""Gradient-check cases for the Transformer's ops: scaled dot-product and multi-head attention,
layer norm, the feed-forward block and the encoder layer.

Shapes are small and drawn from the rng. Key padding masks hold a fully padded row, a length-1
row and a full-length row. The ops are looked up on their modules at call time
(``sa_ops.scaled_dot_attention_backward``), so a test can swap in a broken backward and watch
the check fail; the encoder layer's case sees a bug planted in any op it is composed of.

The key bias bk is held fixed, not checked (the tests assert its gradient is ~0 instead): adding
one vector bk to every key adds the same q . bk to all of a query's scores, which the softmax
ignores, so d loss / d bk is exactly 0, and a centred difference of an exact zero measures
nothing but round-off. The layer-norm and encoder-layer cases have D >= 3: a layer norm over two
features maps every row to +-1 and passes no gradient back.

Near a kink or a sharp bend the finite difference, not the backward, is wrong, so the cases keep
away from both. A layer norm bends on the scale of its row's spread sigma (the 4th-order
difference with step h errs by about (h / sigma)^4), so the layer-norm and encoder-layer cases
redraw their inputs until every normalised row has sigma >= SIGMA_MIN. ReLU has a kink at 0,
so the cases place the inner bias b1 so that every pre-activation stays at least KINK_MARGIN
away from 0: far more than a perturbation of the check (a few 1e-3) can move it.
"""

from __future__ import annotations

from typing import Any

import numpy

from minatt.backend import asarray, randn, to_numpy
from minatt.gradcheck.checker import Case, project, register
from minatt.ops import encoder_layer as tr_ops
from minatt.ops import feedforward as ff_ops
from minatt.ops import layernorm as ln_ops
from minatt.ops import self_attention as sa_ops
from minatt.ops.masks import padding_mask

KINK_MARGIN = 0.05
SIGMA_MIN = 0.5


def _size(rng: numpy.random.Generator, low: int, high: int) -> int:
    return int(rng.integers(low, high + 1))


def _scaled_dot_case(rng: numpy.random.Generator, causal: bool) -> Case:
    N, T, S, K, Dv = 3, _size(rng, 1, 4), _size(rng, 2, 5), _size(rng, 1, 4), _size(rng, 1, 3)
    mask = padding_mask(rng, N, S, (0, 1, S))  # row 0 fully padded, row 1 length 1, row 2 full
    params = {"queries": randn(rng, (N, T, K), 1.5), "keys": randn(rng, (N, S, K), 1.5),
              "values": randn(rng, (N, S, Dv))}
    dout = randn(rng, (N, T, Dv))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        out, _, cache = sa_ops.scaled_dot_attention_forward(p["queries"], p["keys"], p["values"], mask, causal)
        grads = sa_ops.scaled_dot_attention_backward(dout, cache)
        return project(out, dout), dict(zip(("queries", "keys", "values"), grads, strict=True))

    return Case(fn, params)


@register("scaled_dot_attention")
def scaled_dot_attention_case(rng: numpy.random.Generator) -> Case:
    """scaled dot-product attention: queries (N, T, K), keys (N, S, K), values (N, S, Dv), padding mask."""
    return _scaled_dot_case(rng, causal=False)


@register("scaled_dot_attention_causal")
def scaled_dot_attention_causal_case(rng: numpy.random.Generator) -> Case:
    """scaled dot-product attention with a padding mask and the causal mask."""
    return _scaled_dot_case(rng, causal=True)


MHA_NAMES = ("xq", "xkv", "Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")


@register("multihead_attention")
def multihead_attention_case(rng: numpy.random.Generator) -> Case:
    """multi-head attention of xq (N, T, D) over xkv (N, S, D), h = 2 heads, padding mask."""
    N, T, S, heads = 3, _size(rng, 1, 3), _size(rng, 2, 4), 2
    D = heads * _size(rng, 1, 2)
    mask = padding_mask(rng, N, S, (0, 1, S))  # row 0 fully padded, row 1 length 1, row 2 full
    params = {"xq": randn(rng, (N, T, D)), "xkv": randn(rng, (N, S, D))}
    for name in MHA_NAMES[2:]:
        params[name] = randn(rng, (D, D) if name.startswith("W") else (D,), 0.7)
    dout = randn(rng, (N, T, D))
    bk = params.pop("bk")  # held fixed: its gradient is exactly 0 (see the module docstring)

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        args = {**p, "bk": bk}
        out, _, cache = sa_ops.multihead_attention_forward(*(args[k] for k in MHA_NAMES), heads, mask)
        grads = dict(zip(MHA_NAMES, sa_ops.multihead_attention_backward(dout, cache), strict=True))
        del grads["bk"]
        return project(out, dout), grads

    return Case(fn, params)


@register("layer_norm")
def layer_norm_case(rng: numpy.random.Generator) -> Case:
    """layer norm over the last axis of x (N, T, D), gain g and bias b (D,)."""
    N, T, D = _size(rng, 1, 3), _size(rng, 1, 4), _size(rng, 3, 6)
    x = randn(rng, (N, T, D), 2.0)
    while float(x.std(axis=-1).min()) < SIGMA_MIN:  # every row spread out (see the module docstring)
        x = randn(rng, (N, T, D), 2.0)
    params = {"x": x, "g": 1.0 + randn(rng, (D,), 0.5), "b": randn(rng, (D,))}
    dy = randn(rng, (N, T, D))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        y, cache = ln_ops.layer_norm_forward(p["x"], p["g"], p["b"])
        return project(y, dy), dict(zip(("x", "g", "b"), ln_ops.layer_norm_backward(dy, cache), strict=True))

    return Case(fn, params)


def clear_of_kink(rng: numpy.random.Generator, z0: Any, margin: float = KINK_MARGIN) -> Any:
    """A bias b1 (F,) with |z0[k, f] + b1[f]| >= margin for every row k of z0 (K, F), on the backend."""
    z0 = to_numpy(z0)
    b1 = numpy.empty(z0.shape[1])
    for f in range(z0.shape[1]):
        b1[f] = rng.normal(0.0, 0.5)
        while numpy.abs(z0[:, f] + b1[f]).min() < margin:
            b1[f] = rng.normal(0.0, 0.5)
    return asarray(b1, dtype=z0.dtype)


FFN_NAMES = ("x", "W1", "b1", "W2", "b2")


@register("feedforward")
def feedforward_case(rng: numpy.random.Generator) -> Case:
    """the feed-forward block relu(x W1 + b1) W2 + b2: x (N, T, D), F inner features, b1 clear of the kink."""
    N, T, D, F = _size(rng, 1, 3), _size(rng, 1, 3), _size(rng, 1, 4), _size(rng, 2, 6)
    params = {"x": randn(rng, (N, T, D)), "W1": randn(rng, (D, F), 0.7), "W2": randn(rng, (F, D), 0.7),
              "b2": randn(rng, (D,))}
    params["b1"] = clear_of_kink(rng, params["x"].reshape(-1, D) @ params["W1"])
    dout = randn(rng, (N, T, D))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        out, cache = ff_ops.feedforward_forward(*(p[k] for k in FFN_NAMES))
        return project(out, dout), dict(zip(FFN_NAMES, ff_ops.feedforward_backward(dout, cache), strict=True))

    return Case(fn, params)


def encoder_layer_params(rng: numpy.random.Generator, D: int, F: int, scale: float = 0.4) -> tr_ops.EncoderLayerParams:
    """Random layer parameters: weights and biases N(0, scale^2), layer-norm gains near 1."""
    arrays = {}
    for name in tr_ops.EncoderLayerParams._fields:
        shape = {"W1": (D, F), "b1": (F,), "W2": (F, D)}.get(name, (D, D) if name.startswith("W") else (D,))
        arrays[name] = (1.0 + randn(rng, shape, 0.3)) if name.endswith("_g") else randn(rng, shape, scale)
    return tr_ops.EncoderLayerParams(**arrays)


@register("encoder_layer")
def encoder_layer_case(rng: numpy.random.Generator) -> Case:
    """a post-norm encoder layer: x (N, S, D), h = 2 heads, F inner features, padding mask."""
    N, S, heads, F = 3, _size(rng, 2, 4), 2, _size(rng, 3, 6)
    D = heads * _size(rng, 2, 3)  # 4 or 6 (see the module docstring)
    mask = padding_mask(rng, N, S, (0, 1, S))  # row 0 fully padded, row 1 length 1, row 2 full
    while True:  # redraw until both layer norms' inputs are spread out (see the module docstring)
        x = randn(rng, (N, S, D))
        layer = encoder_layer_params(rng, D, F)
        _, _, cache = tr_ops.encoder_layer_forward(x, layer, heads, mask)
        layer = layer._replace(b1=clear_of_kink(rng, cache.ffn.inner.x2 @ layer.W1))
        _, _, cache = tr_ops.encoder_layer_forward(x, layer, heads, mask)
        if min(float(1.0 / ln.inv_sigma.max()) for ln in (cache.ln1, cache.ln2)) >= SIGMA_MIN:
            break
    params = {"x": x, **layer._asdict()}
    bk = params.pop("bk")  # held fixed: its gradient is exactly 0 (see the module docstring)
    dy = randn(rng, (N, S, D))

    def fn(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        fields = tr_ops.EncoderLayerParams(**{k: p[k] for k in tr_ops.EncoderLayerParams._fields if k != "bk"}, bk=bk)
        y, _, cache = tr_ops.encoder_layer_forward(p["x"], fields, heads, mask)
        dx, grads = tr_ops.encoder_layer_backward(dy, cache)
        grads = {"x": dx, **grads._asdict()}
        del grads["bk"]
        return project(y, dy), grads

    return Case(fn, params)


def clear_encoder_kinks(encoder: Any, src: Any, mask: Any, rng: numpy.random.Generator) -> None:
    """Set every layer's b1 of a :class:`minatt.model.transformer.TransformerEncoder` (in place, bottom
    layer first) so that no ReLU input on this batch is within KINK_MARGIN of the kink."""
    for index, layer in enumerate(encoder.layers):
        _, _, _, cache = encoder.forward(src, mask)
        layer.p("b1")[...] = clear_of_kink(rng, cache.layers[index].ffn.inner.x2 @ layer.p("W1"))
