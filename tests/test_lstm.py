"""LSTM ops: gradient checks, planted bugs, mask semantics, step vs sequence, dtypes, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minatt.ops.lstm as lstm_ops
from minatt.backend import asarray, to_numpy
from minatt.gradcheck import check_gradients, format_table, run_case
from minatt.gradcheck.rnn_cases import lstm_case, lstm_step_case
from minatt.validate import unchecked
from tests.planting import build, edit, failures, mutated, scaled

NAMES = ("x", "h0", "c0", "Wx", "Wh", "b")


def arrays(seed, N, T, D, H, dtype=np.float64):
    """Host float arrays x, h0, c0, Wx, Wh, b, dhs, dhT, dcT."""
    rng = np.random.default_rng(seed)
    shapes = [(N, T, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,), (N, T, H), (N, H), (N, H)]
    return [(0.5 * rng.standard_normal(s)).astype(dtype) for s in shapes]


@unchecked()  # a fully padded row is run alone as a zero-step sequence, which a checked call refuses
def run(x, h0, c0, Wx, Wh, b, dhs, dhT, dcT, mask=None):
    """Forward and backward on the current backend; host results (hs, hT, cT), grads."""
    dev = [asarray(a) for a in (x, h0, c0, Wx, Wh, b, dhs, dhT, dcT)]
    hs, (hT, cT), cache = lstm_ops.lstm_forward(*dev[:6], None if mask is None else asarray(mask))
    grads = lstm_ops.lstm_backward(*dev[6:], cache)
    return [to_numpy(a) for a in (hs, hT, cT)], [to_numpy(g) for g in grads]


# ------------------------------------------------------------------ gradient checks


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", ["lstm_step", "lstm"])
def test_registered_cases_pass(backend, name, seed):
    results = run_case(name, seed)
    assert all(r.passed for r in results), format_table(results)


def test_general_mask_passes(backend):
    mask = np.array([[False, True, True, False], [True, False, True, True], [False] * 4, [False, False, False, True]])
    case = build(lstm_case, 5, N=4, T=4, mask=mask)
    results = check_gradients(case.fn, case.params)
    assert all(r.passed for r in results), format_table(results)


# ------------------------------------------------------------------ planted bugs
# Each bug is planted in the one cell backward (lstm_cell_backward) that the step, the sequence
# and the decoders share, or in the matrix products around it; the checker must name the gradients
# it breaks. A gate's lost derivative breaks da, hence everything computed from it (not dc).

STEP_DA = {"x", "h_prev", "Wx", "Wh", "b"}
SEQ_DA = {"x", "h0", "Wx", "Wh", "b"}


CELL = "lstm_cell_backward"
GATE_BUGS = {gate: edit(CELL, f"{d}_backward(d{gate}, {gate})", f"d{gate}")
             for gate, d in [("i", "sigmoid"), ("f", "sigmoid"), ("g", "tanh"), ("o", "sigmoid")]}
DROP_FORGET = edit(CELL, "dc_prev = dc_t * f", "dc_prev = dc_t * 0.0")
DROP_TANH_C = edit(CELL, "dc_next + tanh_backward(dh_next * o, tc)", "dc_next + dh_next * o")


@pytest.mark.parametrize("target, plant, kwargs, expected", [
    *(pytest.param(*GATE_BUGS[gate], {}, STEP_DA, id=f"{gate}-gate-derivative") for gate in "ifgo"),
    pytest.param(*DROP_FORGET, {}, {"c_prev"}, id="drop-forget-path"),
    pytest.param(*DROP_TANH_C, {}, {"h_prev", "c_prev"} | STEP_DA, id="drop-tanh(c)-derivative"),
    pytest.param("lstm_step_backward", lambda f: scaled(f, 4, 1.001), {}, {"Wh"}, id="scale-dWh"),
    pytest.param("lstm_step_input_backward", lambda f: mutated(f, "da @ cache.Wh.T", "da @ cache.Wx.T"),
                 {"D": 3, "H": 3}, {"h_prev"}, id="Wx-for-Wh"),
])
def test_planted_bugs_step(backend, reference_lines, monkeypatch, target, plant, kwargs, expected):
    monkeypatch.setattr(lstm_ops, target, plant(getattr(lstm_ops, target)))
    assert failures(build(lstm_step_case, 1, **kwargs)) == expected


@pytest.mark.parametrize("target, plant, kwargs, expected", [
    *(pytest.param(*GATE_BUGS[gate], {}, SEQ_DA, id=f"{gate}-gate-derivative") for gate in "ifgo"),
    pytest.param(*DROP_FORGET, {}, {"c0"}, id="drop-forget-path"),
    pytest.param("lstm_backward", lambda f: scaled(f, 4, 1.001), {}, {"Wh"}, id="scale-dWh"),
    pytest.param("lstm_backward", lambda f: mutated(f, "da @ Wh.T", "da @ Wx.T"), {"D": 3, "H": 3}, {"h0"},
                 id="Wx-for-Wh"),
    pytest.param("lstm_backward", lambda f: mutated(f, "xp.where(p, dh_t, dh_prev)", "dh_prev"), {}, {"h0"},
                 id="padding-stops-dh"),
    pytest.param("lstm_backward", lambda f: mutated(f, "xp.where(p, dc_next, dc_prev)", "dc_prev"), {}, {"c0"},
                 id="padding-stops-dc"),
    pytest.param("lstm_backward", lambda f: mutated(f, "xp.where(p, 0.0, da)", "da"), {}, {"x", "Wx", "Wh", "b"},
                 id="da-at-padding"),
    pytest.param("lstm_backward", lambda f: mutated(f, "xp.where(pad, 0.0, dhs)", "dhs"), {}, {"h0"},
                 id="dhs-at-padding"),
])
def test_planted_bugs_sequence(backend, reference_lines, monkeypatch, target, plant, kwargs, expected):
    monkeypatch.setattr(lstm_ops, target, plant(getattr(lstm_ops, target)))
    found = failures(build(lstm_case, 2, N=4, T=3, **kwargs))
    assert expected <= found, found
    if expected in ({"Wh"}, {"x", "Wx", "Wh", "b"}):
        assert found == expected


# ------------------------------------------------------------------ masks


def test_padding_carries_state_and_zeroes_output(backend):
    N, T, D, H = 4, 5, 3, 4
    mask = np.array([[1, 1, 0, 1, 0], [0, 0, 1, 1, 1], [0] * 5, [1] * 5], dtype=bool)  # holes, left padding
    x, h0, c0, Wx, Wh, b, dhs, dhT, dcT = arrays(0, N, T, D, H)
    (hs, hT, cT), grads = run(x, h0, c0, Wx, Wh, b, dhs, dhT, dcT, mask)
    assert np.all(hs[~mask] == 0)
    for n in range(N):
        real = mask[n]
        ((hs_n, hT_n, cT_n), g_n) = run(x[n:n + 1, real], h0[n:n + 1], c0[n:n + 1], Wx, Wh, b,
                                        dhs[n:n + 1, real], dhT[n:n + 1], dcT[n:n + 1])
        np.testing.assert_allclose(hs[n, real], hs_n[0], atol=1e-12)
        np.testing.assert_allclose(hT[n], hT_n[0], atol=1e-12)
        np.testing.assert_allclose(cT[n], cT_n[0], atol=1e-12)
        np.testing.assert_allclose(grads[0][n, real], g_n[0][0], atol=1e-12)  # dx
        np.testing.assert_allclose(grads[1][n], g_n[1][0], atol=1e-12)  # dh0
        np.testing.assert_allclose(grads[2][n], g_n[2][0], atol=1e-12)  # dc0
    assert np.all(grads[0][~mask] == 0)
    np.testing.assert_array_equal(hT[2], h0[2])  # the fully padded row keeps its state...
    np.testing.assert_array_equal(grads[1][2], dhT[2])  # ...and passes the gradient straight through
    np.testing.assert_array_equal(grads[2][2], dcT[2])


def test_outputs_do_not_change_when_batched_with_longer_sequences(backend):
    N, T, D, H = 3, 6, 3, 5
    x, h0, c0, Wx, Wh, b, dhs, dhT, dcT = arrays(1, N, T, D, H)
    mask = np.arange(T) < np.array([2, 6, 4])[:, None]
    big = x.copy()
    big[~mask] = 1e3  # whatever sits at padding does not matter
    (hs, hT, cT), grads = run(big, h0, c0, Wx, Wh, b, dhs, dhT, dcT, mask)
    (hs1, hT1, cT1), grads1 = run(x[:1, :2], h0[:1], c0[:1], Wx, Wh, b, dhs[:1, :2], dhT[:1], dcT[:1])
    np.testing.assert_allclose(hs[0, :2], hs1[0], atol=1e-12)
    np.testing.assert_allclose(hT[0], hT1[0], atol=1e-12)
    np.testing.assert_allclose(cT[0], cT1[0], atol=1e-12)
    np.testing.assert_allclose(grads[0][0, :2], grads1[0][0], atol=1e-12)
    np.testing.assert_allclose(grads[1][0], grads1[1][0], atol=1e-12)
    (_, _, _), clean = run(np.where(mask[..., None], x, 0.0), h0, c0, Wx, Wh, b, dhs, dhT, dcT, mask)
    for g, g_clean in zip(grads[1:], clean[1:]):
        np.testing.assert_allclose(g, g_clean, atol=1e-12)


# ------------------------------------------------------------------ step vs sequence, dtypes


def test_step_matches_sequence(backend):
    N, T, D, H = 3, 4, 2, 3
    x, h0, c0, Wx, Wh, b, dhs, dhT, dcT = (asarray(a) for a in arrays(2, N, T, D, H))
    hs, (_, cT), cache = lstm_ops.lstm_forward(x, h0, c0, Wx, Wh, b)
    seq_grads = lstm_ops.lstm_backward(dhs, dhT, dcT, cache)
    h, c, caches = h0, c0, []
    for t in range(T):
        h, c, step = lstm_ops.lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        np.testing.assert_allclose(to_numpy(h), to_numpy(hs[:, t]), atol=1e-13)
        caches.append(step)
    np.testing.assert_allclose(to_numpy(c), to_numpy(cT), atol=1e-13)
    dh, dc, dx = dhT, dcT, [None] * T
    dWx, dWh, db = 0, 0, 0
    for t in reversed(range(T)):
        dx[t], dh, dc, gWx, gWh, gb = lstm_ops.lstm_step_backward(dh + dhs[:, t], dc, caches[t])
        dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
    step_grads = (np.stack([to_numpy(d) for d in dx], axis=1), dh, dc, dWx, dWh, db)
    for a, b_ in zip(seq_grads, step_grads):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b_), atol=1e-12)


def test_step_accepts_none_gradients(backend):
    x, h, c, Wx, Wh, b = (asarray(a) for a in arrays(3, 2, 1, 3, 2)[:6])
    _, _, cache = lstm_ops.lstm_step_forward(x[:, 0], h, c, Wx, Wh, b)
    dc_only = lstm_ops.lstm_step_backward(None, asarray(np.ones((2, 2))), cache)
    both = lstm_ops.lstm_step_backward(asarray(np.zeros((2, 2))), asarray(np.ones((2, 2))), cache)
    for a, b_ in zip(dc_only, both):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b_))


def test_float32_stays_float32_and_matches_float64(backend):
    host = arrays(4, 3, 4, 3, 5)
    mask = np.arange(4) < np.array([4, 0, 2])[:, None]
    outs64, grads64 = run(*host, mask)
    dev = [asarray(a.astype(np.float32)) for a in host]
    hs, (hT, cT), cache = lstm_ops.lstm_forward(*dev[:6], asarray(mask))
    grads = lstm_ops.lstm_backward(*dev[6:], cache)
    for a, a64 in zip((hs, hT, cT, *grads), (*outs64, *grads64)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(to_numpy(a), a64, rtol=1e-4, atol=1e-5)
    h, c, step = lstm_ops.lstm_step_forward(dev[0][:, 0], dev[1], dev[2], *dev[3:6])
    assert h.dtype == c.dtype == np.float32
    assert all(g.dtype == np.float32 for g in lstm_ops.lstm_step_backward(dev[7], dev[8], step))


# ------------------------------------------------------------------ PyTorch


def _torch_lstm(torch, Wx, Wh, b):
    D, H = Wx.shape[0], Wh.shape[0]
    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
        lstm.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b))
        lstm.bias_hh_l0.zero_()
    return lstm


@pytest.mark.parametrize("padded", [False, True])
def test_matches_torch(padded):
    torch = pytest.importorskip("torch")
    N, T, D, H = 4, 5, 3, 6
    x, h0, c0, Wx, Wh, b, dhs, dhT, dcT = arrays(5, N, T, D, H)
    lengths = np.array([5, 1, 3, 4]) if padded else np.full(N, T)
    mask = np.arange(T) < lengths[:, None]
    (hs, hT, cT), grads = run(x, h0, c0, Wx, Wh, b, dhs, dhT, dcT, mask if padded else None)
    lstm = _torch_lstm(torch, Wx, Wh, b)
    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0[None], c0[None]))
    packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.from_numpy(lengths), batch_first=True,
                                                     enforce_sorted=False)
    out, (hn, cn) = lstm(packed, (h0t, c0t))
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
    loss = (out * torch.from_numpy(dhs)).sum() + (hn[0] * torch.from_numpy(dhT)).sum() + (cn[0] * torch.from_numpy(dcT)).sum()
    loss.backward()
    for ours, theirs in [(hs, out), (hT, hn[0]), (cT, cn[0])]:
        np.testing.assert_allclose(ours, theirs.detach().numpy(), atol=1e-10)
    expected = [xt.grad, h0t.grad[0], c0t.grad[0], lstm.weight_ih_l0.grad.T, lstm.weight_hh_l0.grad.T,
                lstm.bias_ih_l0.grad]
    for name, ours, theirs in zip(NAMES, grads, expected):
        np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-10, err_msg=f"d{name}")


# ------------------------------------------------------------------ property


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(N=st.integers(1, 4), T=st.integers(1, 5), D=st.integers(1, 4), H=st.integers(1, 4),
       seed=st.integers(0, 2**16), mask_seed=st.integers(0, 2**16))
def test_property_any_shape_and_mask(backend, N, T, D, H, seed, mask_seed):
    mask = np.random.default_rng(mask_seed).random((N, T)) < 0.7
    case = build(lstm_case, seed, N=N, T=T, D=D, H=H, mask=mask)
    results = check_gradients(case.fn, case.params, max_full=0, n_samples=3, n_directions=1)
    assert all(r.passed for r in results), format_table(results)
    x, h0, c0, Wx, Wh, b = (case.params[k] for k in NAMES)
    hs, (hT, cT), _ = lstm_ops.lstm_forward(x, h0, c0, Wx, Wh, b, asarray(mask))
    assert hs.shape == (N, T, H) and hT.shape == cT.shape == (N, H)
    assert np.all(to_numpy(hs)[~mask] == 0)
    np.testing.assert_array_equal(to_numpy(hT)[~mask.any(axis=1)], to_numpy(h0)[~mask.any(axis=1)])


# ------------------------------------------------------------------ the cell alone (lstm_cell_*)


@pytest.mark.parametrize("seed", range(4))
def test_cell_case_passes(backend, seed):
    results = run_case("lstm_cell", seed)
    assert all(r.passed for r in results), format_table(results)


@pytest.mark.parametrize("target, plant, expected", [
    *(pytest.param(*GATE_BUGS[gate], {"a"}, id=f"{gate}-gate-derivative") for gate in "ifgo"),
    pytest.param(*DROP_FORGET, {"c_prev"}, id="drop-forget-path"),
    pytest.param("lstm_cell_backward", lambda f: scaled(f, 1, 1.001), {"c_prev"}, id="scale-dc_prev"),
    pytest.param("lstm_cell_forward", lambda f: mutated(f, "o = sigmoid(a_o)", "o = sigmoid(a_g)"),
                 {"a"}, id="o-gate-from-g-columns"),
])
def test_planted_bugs_cell(backend, reference_lines, monkeypatch, target, plant, expected):
    from minatt.gradcheck.rnn_cases import lstm_cell_case

    monkeypatch.setattr(lstm_ops, target, plant(getattr(lstm_ops, target)))
    assert failures(build(lstm_cell_case, 1)) == expected
