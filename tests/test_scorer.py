"""The model's Scorer (minatt.model.scorer): the two halves of each score op, wired as the decoder uses them.

prepare once + score per step must equal the one-call op of minatt/ops/scores.py (tested in
tests/test_scores.py), gradients summed over the steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import asarray, default_dtype, to_numpy
from minatt.model.scorer import Scorer
from minatt.ops import scores as score_ops


@pytest.mark.parametrize("kind", ["dot", "scaled_dot", "general", "additive", "concat"])
def test_scorer_halves_give_the_one_call_scores_and_gradients(backend, kind):
    """prepare once + score per step (the model) equals the one-call op, gradients summed over steps."""
    rng = np.random.default_rng(3)
    N, S, H, A, T = 3, 4, 5, 6, 3
    with default_dtype("float64"):
        params = {}
        scorer = Scorer(params, "attn", kind, H, H, A, rng)
    keys = asarray(rng.standard_normal((N, S, H)))
    queries = [asarray(rng.standard_normal((N, H))) for _ in range(T)]
    dscores = [asarray(rng.standard_normal((N, S))) for _ in range(T)]
    names = {"dot": [], "scaled_dot": [], "general": ["Wa"], "additive": ["Wq", "Wk", "v"], "concat": ["Wa", "v"]}[kind]
    weights = [params[f"attn.{name}"] for name in names]  # in the one-call op's argument order
    forward = getattr(score_ops, f"{kind}_score_forward")
    backward = getattr(score_ops, f"{kind}_score_backward")

    grads, dprepared = {}, 0.0
    prepared, prepare_cache = scorer.prepare(keys)
    for q, d in zip(queries, dscores, strict=True):
        scores, cache = scorer.score(q, prepared)
        want_scores, want_cache = forward(q, keys, *weights)
        np.testing.assert_allclose(to_numpy(scores), to_numpy(want_scores), rtol=1e-12)
        dq, dprep = scorer.score_backward(d, cache, grads)
        np.testing.assert_allclose(to_numpy(dq), to_numpy(backward(d, want_cache)[0]), rtol=1e-12)
        dprepared = dprepared + dprep
    dkeys = scorer.prepare_backward(dprepared, prepare_cache, grads)

    want = [backward(d, forward(q, keys, *weights)[1]) for q, d in zip(queries, dscores, strict=True)]
    np.testing.assert_allclose(to_numpy(dkeys), to_numpy(sum(w[1] for w in want)), rtol=1e-10, atol=1e-12)
    for i, name in enumerate(names):
        np.testing.assert_allclose(to_numpy(grads[f"attn.{name}"]), to_numpy(sum(w[2 + i] for w in want)),
                                   rtol=1e-10, atol=1e-12, err_msg=name)
    assert set(grads) == {f"attn.{n}" for n in names}


def test_the_model_offers_every_score_of_the_scorer():
    from minatt.model.scorer import SCORES as SCORER_KINDS
    from minatt.model.seq2seq import SCORE_ALIASES
    from minatt.model.seq2seq import SCORES as MODEL_SCORES

    assert set(MODEL_SCORES) == {*SCORER_KINDS, *SCORE_ALIASES, "none"}
