"""Layer norm over the last axis (D features), with a learned gain g and bias b.

Every row x (D,) is shifted to mean 0 and scaled to variance 1, then rescaled per feature:

    mu    = mean(x)                          (..., 1)
    var   = mean((x - mu)^2)                 (..., 1) the biased variance, as PyTorch
    sigma = sqrt(var + eps)                  (..., 1)
    xhat  = (x - mu) / sigma                 (..., D)
    y     = g * xhat + b                     (..., D)

Backward. g and b act per feature, so their gradients sum over every row:

    dg = sum over rows of dy * xhat          (D,)
    db = sum over rows of dy                 (D,)
    dxhat = dy * g                           (..., D)

x reaches xhat three ways: directly, through mu and through sigma. With
d mu / dx_j = 1/D and d sigma / dx_j = (x_j - mu) / (D sigma) = xhat_j / D,

    dx_j = dxhat_j / sigma - sum_i dxhat_i / (D sigma) - sum_i dxhat_i (x_i - mu) / sigma^2 * xhat_j / D

and since (x_i - mu) / sigma = xhat_i, the compact form (means over the D features):

    dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sigma

So dx is dxhat with its component along the all-ones vector and along xhat removed (the two
directions the normalisation forgets), divided by sigma.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.validate import Cache, contract

Array = Any

EPS = 1e-5  # PyTorch's nn.LayerNorm default


class LayerNormCache(NamedTuple):
    """What layer_norm_backward needs: the normalised input, 1 / sigma, and the gain."""

    xhat: Array  # (..., D)
    inv_sigma: Array  # (..., 1)
    g: Array  # (D,)


@contract(x="... D", g="D", b="D", eps="number")
def layer_norm_forward(x: Array, g: Array, b: Array, eps: float = EPS) -> tuple[Array, LayerNormCache]:
    """Layer norm over the last axis. D features, any leading axes.

    Args:
        x: (..., D) float.
        g: (D,) gain; b: (D,) bias.
        eps: added to the variance before the square root.

    Returns:
        y (..., D), cache.

    Math:
        xhat = (x - mean(x)) / sqrt(var(x) + eps);  y = g * xhat + b
    """
    xp = array_module(x)
    mu = x.mean(axis=-1, keepdims=True)  # (..., 1)
    centred = x - mu  # (..., D)
    var = (centred * centred).mean(axis=-1, keepdims=True)  # (..., 1)
    inv_sigma = 1.0 / xp.sqrt(var + eps)  # (..., 1)
    xhat = centred * inv_sigma  # (..., D)
    y = g * xhat + b  # (..., D)
    return y, LayerNormCache(xhat, inv_sigma, g)


@contract(cache=Cache(LayerNormCache, xhat="... D"), dy="... D")
def layer_norm_backward(dy: Array, cache: LayerNormCache) -> tuple[Array, Array, Array]:
    """Backward of layer_norm_forward. dy (..., D).

    Returns dx (..., D), dg (D,), db (D,).

    Math:
        dxhat = dy * g;  dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sigma
        dg = sum(dy * xhat);  db = sum(dy)           (sums over every leading axis)
    """
    xhat = cache.xhat
    D = xhat.shape[-1]
    dg = (dy * xhat).reshape(-1, D).sum(axis=0)  # (D,)
    db = dy.reshape(-1, D).sum(axis=0)  # (D,)
    dxhat = dy * cache.g  # (..., D)
    dx = (dxhat - dxhat.mean(axis=-1, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)) * cache.inv_sigma  # (..., D)
    return dx, dg, db
