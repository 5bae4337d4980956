"""Helpers shared by the tests of the Transformer's ops (test_self_attention, test_layernorm, test_feedforward,
test_encoder_layer): a registered case passes, a planted bug fails the gradients it should, PyTorch twins."""

from __future__ import annotations

import numpy as np
import pytest

from minatt.gradcheck import build_case, check_gradients, run_case

TORCH_TOL = {"rtol": 1e-9, "atol": 1e-12}


def lengths_mask(lengths, S):
    return np.arange(S)[None, :] < np.asarray(lengths)[:, None]  # (N, S) True = real


def as_torch(torch, a):
    """A float64 leaf tensor of ``a`` that collects its gradient."""
    return torch.tensor(np.asarray(a), requires_grad=True)


def copy_attention(torch, module, Wq, bq, Wk, bk, Wv, bv, Wo, bo):
    """Our x @ W weights into PyTorch's (out, in) layout, with q, k, v packed in in_proj_weight."""
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.from_numpy(np.concatenate([Wq.T, Wk.T, Wv.T])))  # (3D, D)
        module.in_proj_bias.copy_(torch.from_numpy(np.concatenate([bq, bk, bv])))  # (3D,)
        module.out_proj.weight.copy_(torch.from_numpy(Wo.T))
        module.out_proj.bias.copy_(torch.from_numpy(bo))


def attention_weights(torch, module):
    D = module.embed_dim
    w, b = module.in_proj_weight.grad.numpy(), module.in_proj_bias.grad.numpy()
    return (w[:D].T, b[:D], w[D:2 * D].T, b[D:2 * D], w[2 * D:].T, b[2 * D:],
            module.out_proj.weight.grad.numpy().T, module.out_proj.bias.grad.numpy())


def assert_case_passes(name, seed):
    """The registered gradient case ``name`` passes the checker, every gradient of it."""
    results = run_case(name, seed)
    assert results and all(r.passed for r in results), "\n".join(r.describe() for r in results)


def assert_bug_caught(monkeypatch, name, module, attr, make_bug, expected):
    """With ``module.attr`` replaced by ``make_bug(module.attr)``, case ``name`` fails exactly the gradients
    ``expected``, and the report names each one."""
    monkeypatch.setattr(module, attr, make_bug(getattr(module, attr)))
    case = build_case(name, seed=1)
    failed = [r for r in check_gradients(case.fn, case.params) if not r.passed]
    assert {r.name for r in failed} == expected
    report = "\n".join(r.describe() for r in failed)  # what assert_gradients raises with
    assert all(f"d{grad}[" in report or f"d{grad} (random direction)" in report for grad in expected)


def op_tests(cases, bugs):
    """The two tests every Transformer op's file runs, parametrized by its own cases and planted bugs:
    ``test_gradients, test_planted_bugs_are_caught = op_tests(CASES, BUGS)``.

    bugs: (case, module, attribute, replacement factory, gradients that must fail)."""

    @pytest.mark.parametrize("seed", range(2))
    @pytest.mark.parametrize("name", cases)
    def test_gradients(backend, name, seed):
        assert_case_passes(name, seed)

    @pytest.mark.parametrize("name, module, attr, make_bug, expected", bugs,
                             ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(bugs)])
    def test_planted_bugs_are_caught(monkeypatch, name, module, attr, make_bug, expected):
        assert_bug_caught(monkeypatch, name, module, attr, make_bug, expected)

    return test_gradients, test_planted_bugs_are_caught

