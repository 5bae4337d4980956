"""The affine map out = x W + b over the last axis, for any number of leading axes.

Every leading axis (batch, time, ...) is folded into one row axis R (rows), so the whole map is one
matmul forward and one matmul per weight backward:

    x2  = x.reshape(R, D)                     R = product of the leading dims
    out = x2 @ W + b                          (R, M), then reshaped to (..., M)

    dx2 = dout2 @ W.T                         (R, D)
    dW  = x2.T @ dout2                        (D, M)
    db  = dout2.sum(axis=0)                   (M,)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.validate import Cache, contract

Array = Any


class AffineCache(NamedTuple):
    """What affine_backward needs: the flattened input, the weight and the input's shape."""

    x2: Array  # (R, D) the input with its leading axes folded into R
    W: Array  # (D, M)
    x_shape: tuple  # (..., D) the input's original shape, to unfold dx


@contract(x="... D", W="D M", b="M")
def affine_forward(x: Array, W: Array, b: Array) -> tuple[Array, AffineCache]:
    """D input features, M output features, R = product of x's leading dims.

    Args:
        x: (..., D) inputs, any number of leading axes (none included).
        W: (D, M) weight.
        b: (M,) bias.

    Returns:
        out: (..., M) = x @ W + b, same leading axes and dtype as x.
        cache: :class:`AffineCache` for :func:`affine_backward`.

    Math (code names): x2 = x.reshape(R, D); out2 = x2 @ W + b; out = out2.reshape(..., M).
    """
    D, M = W.shape
    lead = x.shape[:-1]
    x2 = x.reshape(-1, D)  # (R, D)
    out2 = x2 @ W + b  # (R, M)
    out = out2.reshape(*lead, M)  # (..., M)
    return out, AffineCache(x2, W, tuple(x.shape))


@contract(cache=Cache(AffineCache, W="D M", x_shape="... D shape"), dout="... M")
def affine_backward(dout: Array, cache: AffineCache) -> tuple[Array, Array, Array]:
    """D input features, M output features, R = product of the leading dims.

    Args:
        dout: (..., M) upstream gradient d loss / d out.
        cache: from :func:`affine_forward`.

    Returns:
        dx: (..., D) like x.
        dW: (D, M) like W.
        db: (M,) like b.

    Math (code names): dout2 = dout.reshape(R, M); dx2 = dout2 @ W.T; dW = x2.T @ dout2;
    db = dout2.sum(0); dx = dx2.reshape(x_shape).
    """
    M = cache.W.shape[1]
    dout2 = dout.reshape(-1, M)  # (R, M)
    dx2 = dout2 @ cache.W.T  # (R, D)
    dx = dx2.reshape(cache.x_shape)  # (..., D)
    dW = cache.x2.T @ dout2  # (D, M)
    db = dout2.sum(axis=0)  # (M,)
    return dx, dW, db
