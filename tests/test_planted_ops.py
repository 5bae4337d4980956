"""Planted bugs in the score and attention backwards: the checker must fail and name the right gradient.

Realistic mistakes (a transpose that square shapes hide, a sum over the wrong axis, gradient
leaking into padding), each planted by replacing the backward on its module with a wrong one;
the gradient cases look their ops up at call time, so they run the planted version.
"""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import array_module, default_dtype, randn
from minatt.gradcheck import build_case
from minatt.gradcheck.attention_cases import op_case
from minatt.ops import attention as attention_ops
from minatt.ops import scores as score_ops
from tests.planting import failures


def square_case(op: str, params: dict[str, tuple[int, ...]], seed: int = 0):
    """A gradient case for score op ``op`` on float64 params of the given shapes."""
    rng = np.random.default_rng(seed)
    with default_dtype("float64"):
        return op_case(score_ops, op, {k: randn(rng, shape, 0.7) for k, shape in params.items()}, rng)


# --- the dot score: scores[n, s] = keys[n, s] . q[n] -------------------------------------------------

DOT_BUGS = {
    # dq = dscores @ keys with keys' last two axes swapped (S == H here: the shapes cannot tell)
    "dq-transposed": (lambda d, c: (np.einsum("ns,nhs->nh", d, c.keys),
                                    d[:, :, None] * c.q[:, None, :]), {"q"}),
    # dkeys broadcast over the positions: every position gets the row total of dscores
    "dkeys-broadcast": (lambda d, c: (np.einsum("ns,nsh->nh", d, c.keys),
                                      d.sum(axis=1)[:, None, None] * c.q[:, None, :]), {"keys"}),
    # dkeys from the transposed keys' layout: q scattered across positions (S == H here)
    "dkeys-transposed": (lambda d, c: (np.einsum("ns,nsh->nh", d, c.keys),
                                       (d[:, :, None] * c.q[:, None, :]).transpose(0, 2, 1)), {"keys"}),
}


@pytest.mark.parametrize("bug", DOT_BUGS)
def test_planted_dot_score_bugs(monkeypatch, bug):
    case = square_case("dot_score", {"q": (3, 4), "keys": (3, 4, 4)})
    assert not failures(case)
    backward, expected = DOT_BUGS[bug]
    monkeypatch.setattr(score_ops, "dot_score_backward", backward)
    assert failures(case) == expected


# --- the additive score's key projection, once per batch: kproj = keys @ Wk --------------------------

KEYS_BUGS = {
    # dkeys = dkproj @ Wk instead of dkproj @ Wk.T (Hk == A here: the shapes cannot tell)
    "dkeys-transposed": (lambda d, c: (d @ c.Wk, np.einsum("nsh,nsa->ha", c.keys, d)), {"keys"}),
    # dWk from the first batch row only (the sum over N forgotten)
    "dWk-one-row": (lambda d, c: (d @ c.Wk.T, c.keys[0].T @ d[0]), {"Wk"}),
    # dWk = keys.T @ dkproj with the two factors swapped: (A, Hk) transposed into place
    "dWk-transposed": (lambda d, c: (d @ c.Wk.T, np.einsum("nsh,nsa->ha", c.keys, d).T), {"Wk"}),
}


@pytest.mark.parametrize("bug", KEYS_BUGS)
def test_planted_additive_keys_bugs(monkeypatch, bug):
    case = square_case("additive_keys", {"keys": (3, 4, 3), "Wk": (3, 3)})
    assert not failures(case)
    backward, expected = KEYS_BUGS[bug]
    monkeypatch.setattr(score_ops, "additive_keys_backward", backward)
    assert failures(case) == expected


# --- attention: a padded position must get exactly no gradient ---------------------------------------


def _leaky_into_values(real):
    """Padded rows' context gradient spread over all S positions, as if their weights were uniform."""

    def attention_backward(dcontext, dweights, cache):
        dscores, dvalues = real(dcontext, dweights, cache)
        xp = array_module(dvalues)
        empty = ~(cache.softmax.p > 0).any(axis=1)  # (N,) rows with no real position
        S = dvalues.shape[1]
        return dscores, dvalues + xp.where(empty[:, None, None], dcontext[:, None, :] / S, 0.0)

    return attention_backward


def _leaky_into_scores(real):
    """dscores at padded positions gets the raw upstream gradient instead of exactly 0."""

    def attention_backward(dcontext, dweights, cache):
        dscores, dvalues = real(dcontext, dweights, cache)
        xp = array_module(dscores)
        pad = cache.softmax.p == 0  # (N, S) padded (weights exactly 0 there)
        return dscores + xp.where(pad, dweights, 0.0), dvalues

    return attention_backward


@pytest.mark.parametrize("leak, expected", [(_leaky_into_values, {"values"}), (_leaky_into_scores, {"scores"})])
def test_planted_attention_padding_leaks(monkeypatch, leak, expected):
    case = build_case("attention", seed=0)  # its mask holds a fully padded, a length-1 and a full row
    assert not failures(case)
    monkeypatch.setattr(attention_ops, "attention_backward", leak(attention_ops.attention_backward))
    assert failures(case) == expected
