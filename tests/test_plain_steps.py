"""minatt.model.plain_steps: each one-function decoder step's backward passes the gradient check over
every input (the state, the keys, every weight), padded rows included, and a planted bug fails it."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.gradcheck import check_gradients, project
from minatt.model import plain_steps

N, S, E, H, K, A = 3, 4, 2, 3, 3, 2
MASK = np.arange(S)[None, :] < np.array([4, 1, 2])[:, None]  # (N, S): a length-1 row and a padded one


def _inputs(kind: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The step's differentiable inputs, in the forward's argument order (float64)."""
    shapes = {"y_emb": (N, E), "s_prev": (N, H), "c_prev": (N, H)}
    if kind == "bahdanau":
        shapes |= {"keys": (N, S, K), "Wq": (H, A), "Wk": (K, A), "v": (A,), "Wx": (E + K, 4 * H),
                   "Wh": (H, 4 * H), "b": (4 * H,)}
    else:
        shapes |= {"feed": (N, H), "keys": (N, S, K), "Wx": (E + H, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,),
                   "Wa": (H, K), "Wc": (K + H, H), "bc": (H,)}
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def _case(kind: str, seed: int = 0):
    """fn(params) -> (loss, grads) with loss = sum(o * do) + sum(s_next * ds) + sum(c_next * dc)."""
    rng = np.random.default_rng(seed)
    params = _inputs(kind, rng)
    names = list(params)
    forward = getattr(plain_steps, f"{kind}_step_forward")
    backward = getattr(plain_steps, f"{kind}_step_backward")
    o, s_next, c_next, _ = forward(*params.values(), mask=MASK)
    douts = tuple(rng.standard_normal(x.shape) for x in (o, s_next, c_next))
    # the gradients each backward returns, in the names of the forward's arguments
    returned = {"bahdanau": ["y_emb", "s_prev", "c_prev", "keys", "Wq", "Wk", "v", "Wx", "Wh", "b"],
                "luong": ["y_emb", "s_prev", "c_prev", "feed", "keys", "Wx", "Wh", "b", "Wa", "Wc", "bc"]}[kind]

    def fn(p):
        outs = forward(*(p[k] for k in names), mask=MASK)
        grads = backward(*douts, outs[3])
        return project(tuple(outs[:3]), douts), dict(zip(returned, grads, strict=True))

    return fn, params


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_the_step_backward_passes_the_gradient_check(kind):
    fn, params = _case(kind)
    failed = [r.describe() for r in check_gradients(fn, params) if not r.passed]
    assert not failed, failed


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_padded_keys_get_no_gradient(kind):
    fn, params = _case(kind, seed=1)
    _, grads = fn(params)
    assert np.abs(grads["keys"][~MASK]).max() == 0
    assert np.abs(grads["keys"][MASK]).min() > 0


SCORE_BACKWARD = {"bahdanau": "additive_score_backward", "luong": "general_score_backward"}


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_forgetting_that_the_state_was_the_query_fails_the_check(kind, monkeypatch):
    """A planted bug: the score's query gradient dq dropped. Bahdanau's query is s_prev, so only s_prev's
    check fails; Luong's is h_next, so everything before h_next fails and nothing after it."""
    real = getattr(plain_steps, SCORE_BACKWARD[kind])

    def without_dq(dscores, cache):
        dq, *rest = real(dscores, cache)
        return (0 * dq, *rest)

    monkeypatch.setattr(plain_steps, SCORE_BACKWARD[kind], without_dq)
    fn, params = _case(kind)
    failed = {r.name for r in check_gradients(fn, params) if not r.passed}
    before_h_next = {"y_emb", "s_prev", "c_prev", "feed", "Wx", "Wh", "b"}
    assert failed == ({"s_prev"} if kind == "bahdanau" else before_h_next)
