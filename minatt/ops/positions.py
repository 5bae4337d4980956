"""Sinusoidal positional encodings (Vaswani et al. 2017). L positions, D model size.

Attention treats its keys as a set: permute the positions of xkv and the output does not
change. A Transformer therefore adds to every embedding a vector that says where it stands:

    PE[t, 2i]     = sin(t / 10000^(2i / D))
    PE[t, 2i + 1] = cos(t / 10000^(2i / D))          t = 0 .. L-1, i = 0 .. ceil(D/2)-1

Each pair of features is a clock at its own frequency, from one turn per 2 pi steps down to
one per 10000 * 2 pi, so every position up to a very long length gets a distinct vector, and
PE[t + k] is a fixed rotation of PE[t] (for every pair, the same for all t). The encodings are
not learned: they have no gradient.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import get_default_dtype, get_xp

Array = Any

BASE = 10000.0


def sinusoidal_positions(length: int, dim: int, dtype: Any = None) -> Array:
    """The (L, D) table PE above, on the current backend in ``dtype`` (default: the default dtype).

    An odd D keeps the sine of its last pair and drops the cosine.
    """
    xp = get_xp()
    t = xp.arange(length, dtype=xp.float64)[:, None]  # (L, 1)
    two_i = xp.arange(0, dim, 2, dtype=xp.float64)  # (ceil(D/2),) the even feature indices 2i
    angle = t / BASE ** (two_i / dim)  # (L, ceil(D/2))
    pe = xp.zeros((length, dim), dtype=xp.float64)  # (L, D)
    pe[:, 0::2] = xp.sin(angle)
    pe[:, 1::2] = xp.cos(angle[:, : dim // 2])
    return pe.astype(dtype or get_default_dtype())
