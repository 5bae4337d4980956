"""Masks, in one place: True marks a real position (a token, a step, a key), False padding.

Dimensions: N batch, T steps (or queries), S keys, L any length.

- :func:`padded_steps`: what the recurrent sequences (LSTM, GRU) need from their (N, T) mask.
- :func:`allowed_keys`: the keys each query of scaled dot-product attention may see.
- :func:`padding_mask`: a right-padded mask with chosen row lengths, for the gradient checks.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import array_module, asarray, is_device_array

__all__ = ["allowed_keys", "padded_steps", "padding_mask"]

Array = Any


def padded_steps(mask: Array | None, like: Array | None = None) -> tuple[Array | None, tuple[bool, ...]]:
    """mask (N, T) bool (True = real) or None -> pad (N, T, 1) bool (True at padding) or None,
    and the host flags (T,): has step t a padded row? (None and no flags when nothing is padded.)

    A mask on the host gives its flags for free, and steps without padding skip the masking. Its
    pad crosses to ``like``'s device once, after they are read: the model passes its batch's host
    mask here (issue 27: no host round trip inside a step). A mask already on the device is not read
    back (that would make the host wait for the GPU): every step counts as padded."""
    if mask is None:
        return None, ()
    xp = array_module(mask)
    pad = ~xp.asarray(mask, dtype=bool)  # (N, T)
    if is_device_array(pad):
        return pad[:, :, None], (True,) * pad.shape[1]
    flags = tuple(bool(p) for p in pad.any(axis=0).tolist())
    if not any(flags):
        return None, flags
    pad = pad if like is None else array_module(like).asarray(pad)  # one copy to like's device
    return pad[:, :, None], flags  # (N, T, 1)


def allowed_keys(mask: Array | None, T: int, S: int, causal: bool, xp: Any) -> Array | None:
    """The bool mask of keys each query may attend to, broadcastable to (N, T, S), or None for all.

    mask: (N, S) bool key padding mask (True = real key) or None; causal: query t sees keys s <= t.
    """
    allowed = None if mask is None else xp.asarray(mask, dtype=bool)[:, None, :]  # (N, 1, S)
    if causal:
        below = xp.arange(S)[None, :] <= xp.arange(T)[:, None]  # (T, S): True where s <= t
        allowed = below if allowed is None else allowed & below  # (N, T, S)
    return allowed


def padding_mask(rng: Any, N: int, L: int, special: tuple[int, ...], shuffle: bool = False) -> Array:
    """A right-padded (N, L) bool mask on the current backend, for the gradient checks' padding paths.

    Row lengths are drawn from 0..L; the first rows get the lengths in ``special`` instead (say
    0, 1 and L: a fully padded row, a length-1 row and a full one); ``shuffle`` then permutes
    the rows. ``rng`` is a host ``numpy.random.Generator``.
    """
    lengths = rng.integers(0, L + 1, size=N)
    lengths[:len(special)] = special[:N]
    if shuffle:
        lengths = rng.permutation(lengths)
    lengths = asarray(lengths, dtype="int64")  # (N,) on the current backend
    xp = array_module(lengths)
    return xp.arange(L)[None, :] < lengths[:, None]  # (N, L)
