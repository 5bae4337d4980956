"""GRU ops: gradient checks, planted bugs, mask semantics, step vs sequence, dtypes, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minatt.ops.gru as gru_ops
from minatt.backend import asarray, to_numpy
from minatt.gradcheck import check_gradients, format_table, run_case
from minatt.gradcheck.rnn_cases import gru_case, gru_step_case
from minatt.validate import unchecked
from tests.planting import build, edit, failures, mutated, scaled

NAMES = ("x", "h0", "Wx", "Wh", "bx", "bh")
ALL_STEP = {"x", "h_prev", "Wx", "Wh", "bx", "bh"}


def arrays(seed, N, T, D, H, dtype=np.float64):
    """Host float arrays x, h0, Wx, Wh, bx, bh, dhs, dhT."""
    rng = np.random.default_rng(seed)
    shapes = [(N, T, D), (N, H), (D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,), (N, T, H), (N, H)]
    return [(0.5 * rng.standard_normal(s)).astype(dtype) for s in shapes]


@unchecked()  # a fully padded row is run alone as a zero-step sequence, which a checked call refuses
def run(x, h0, Wx, Wh, bx, bh, dhs, dhT, mask=None):
    """Forward and backward on the current backend; host results (hs, hT), grads."""
    dev = [asarray(a) for a in (x, h0, Wx, Wh, bx, bh, dhs, dhT)]
    hs, hT, cache = gru_ops.gru_forward(*dev[:6], None if mask is None else asarray(mask))
    grads = gru_ops.gru_backward(*dev[6:], cache)
    return [to_numpy(hs), to_numpy(hT)], [to_numpy(g) for g in grads]


# ------------------------------------------------------------------ gradient checks


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", ["gru_step", "gru"])
def test_registered_cases_pass(backend, name, seed):
    results = run_case(name, seed)
    assert all(r.passed for r in results), format_table(results)


def test_general_mask_passes(backend):
    mask = np.array([[False, True, True, False], [True, False, True, True], [False] * 4, [False, False, False, True]])
    case = build(gru_case, 5, N=4, T=4, mask=mask)
    results = check_gradients(case.fn, case.params)
    assert all(r.passed for r in results), format_table(results)


# ------------------------------------------------------------------ planted bugs

# Each bug is planted in the one cell backward (gru_cell_backward) that the step, the sequence
# and the decoders share, or in the matrix products around it; the checker must name the gradients
# it breaks.


CELL = "gru_cell_backward"
GATE_BUGS = {gate: edit(CELL, f"{d}_backward(d{gate}, {gate})", f"d{gate}")
             for gate, d in [("r", "sigmoid"), ("z", "sigmoid"), ("n", "tanh")]}
SIGN_Z = edit(CELL, "dz = dh_next * (h_prev - n)", "dz = dh_next * (n - h_prev)")
DROP_AH_N = edit(CELL, "da_nh = da_nx * r", "da_nh = da_nx * 0.0")
DROP_R = edit(CELL, "dr = da_nx * ah_n", "dr = da_nx * 0.0")
DROP_DIRECT = edit(CELL, "return dax, dah, dh_next * z", "return dax, dah, dh_next * 0.0")
SEQ_ALL = {"x", "h0", "Wx", "Wh", "bx", "bh"}


@pytest.mark.parametrize("target, plant, kwargs, expected", [
    *(pytest.param(*GATE_BUGS[gate], {}, ALL_STEP, id=f"{gate}-gate-derivative") for gate in "rzn"),
    pytest.param(*SIGN_Z, {}, ALL_STEP, id="sign-of-z-gate"),
    pytest.param(*DROP_AH_N, {}, {"h_prev", "Wh", "bh"}, id="drop-r*ah_n-towards-ah_n"),
    pytest.param(*DROP_R, {}, ALL_STEP, id="drop-r*ah_n-towards-r"),
    pytest.param(*DROP_DIRECT, {}, {"h_prev"}, id="drop-z*h-path"),
    pytest.param("gru_step_backward", lambda f: scaled(f, 3, 1.001), {}, {"Wh"}, id="scale-dWh"),
    pytest.param("gru_step_input_backward", lambda f: mutated(f, "dah @ cache.Wh.T", "dah @ cache.Wx.T"),
                 {"D": 3, "H": 3}, {"h_prev"}, id="Wx-for-Wh"),
])
def test_planted_bugs_step(backend, reference_lines, monkeypatch, target, plant, kwargs, expected):
    monkeypatch.setattr(gru_ops, target, plant(getattr(gru_ops, target)))
    assert failures(build(gru_step_case, 1, **kwargs)) == expected


@pytest.mark.parametrize("target, plant, kwargs, expected", [
    *(pytest.param(*GATE_BUGS[gate], {}, SEQ_ALL, id=f"{gate}-gate-derivative") for gate in "rzn"),
    pytest.param(*SIGN_Z, {}, SEQ_ALL, id="sign-of-z-gate"),
    pytest.param(*DROP_AH_N, {}, {"h0", "Wh", "bh"}, id="drop-r*ah_n-towards-ah_n"),
    pytest.param("gru_backward", lambda f: scaled(f, 3, 1.001), {}, {"Wh"}, id="scale-dWh"),
    pytest.param("gru_backward", lambda f: mutated(f, "dah @ Wh.T", "dah @ Wx.T"), {"D": 3, "H": 3}, {"h0"},
                 id="Wx-for-Wh"),
    pytest.param("gru_backward", lambda f: mutated(f, "xp.where(p, dh_t, dh_direct)", "dh_direct"), {}, {"h0"},
                 id="padding-stops-dh"),
    pytest.param("gru_backward", lambda f: mutated(f, "xp.where(p, 0.0, dax)", "dax"), {}, {"x", "Wx", "bx"},
                 id="padded-dx"),
    pytest.param("gru_backward", lambda f: mutated(f, "xp.where(pad, 0.0, dhs)", "dhs"), {}, {"h0"},
                 id="dhs-at-padding"),
])
def test_planted_bugs_sequence(backend, reference_lines, monkeypatch, target, plant, kwargs, expected):
    monkeypatch.setattr(gru_ops, target, plant(getattr(gru_ops, target)))
    found = failures(build(gru_case, 2, N=4, T=3, **kwargs))
    assert expected <= found, found
    if expected in ({"Wh"}, {"x", "Wx", "bx"}):
        assert found == expected


# ------------------------------------------------------------------ masks


def test_padding_carries_state_and_zeroes_output(backend):
    N, T, D, H = 4, 5, 3, 4
    mask = np.array([[1, 1, 0, 1, 0], [0, 0, 1, 1, 1], [0] * 5, [1] * 5], dtype=bool)  # holes, left padding
    x, h0, Wx, Wh, bx, bh, dhs, dhT = arrays(0, N, T, D, H)
    (hs, hT), grads = run(x, h0, Wx, Wh, bx, bh, dhs, dhT, mask)
    assert np.all(hs[~mask] == 0)
    for n in range(N):
        real = mask[n]
        (hs_n, hT_n), g_n = run(x[n:n + 1, real], h0[n:n + 1], Wx, Wh, bx, bh, dhs[n:n + 1, real], dhT[n:n + 1])
        np.testing.assert_allclose(hs[n, real], hs_n[0], atol=1e-12)
        np.testing.assert_allclose(hT[n], hT_n[0], atol=1e-12)
        np.testing.assert_allclose(grads[0][n, real], g_n[0][0], atol=1e-12)  # dx
        np.testing.assert_allclose(grads[1][n], g_n[1][0], atol=1e-12)  # dh0
    assert np.all(grads[0][~mask] == 0)
    np.testing.assert_array_equal(hT[2], h0[2])  # the fully padded row keeps its state...
    np.testing.assert_array_equal(grads[1][2], dhT[2])  # ...and passes the gradient straight through


def test_outputs_do_not_change_when_batched_with_longer_sequences(backend):
    N, T, D, H = 3, 6, 3, 5
    x, h0, Wx, Wh, bx, bh, dhs, dhT = arrays(1, N, T, D, H)
    mask = np.arange(T) < np.array([2, 6, 4])[:, None]
    big = x.copy()
    big[~mask] = 1e3  # whatever sits at padding does not matter
    (hs, hT), grads = run(big, h0, Wx, Wh, bx, bh, dhs, dhT, mask)
    (hs1, hT1), grads1 = run(x[:1, :2], h0[:1], Wx, Wh, bx, bh, dhs[:1, :2], dhT[:1])
    np.testing.assert_allclose(hs[0, :2], hs1[0], atol=1e-12)
    np.testing.assert_allclose(hT[0], hT1[0], atol=1e-12)
    np.testing.assert_allclose(grads[0][0, :2], grads1[0][0], atol=1e-12)
    np.testing.assert_allclose(grads[1][0], grads1[1][0], atol=1e-12)
    _, clean = run(np.where(mask[..., None], x, 0.0), h0, Wx, Wh, bx, bh, dhs, dhT, mask)
    for g, g_clean in zip(grads[1:], clean[1:]):
        np.testing.assert_allclose(g, g_clean, atol=1e-12)


# ------------------------------------------------------------------ step vs sequence, dtypes


def test_step_matches_sequence(backend):
    N, T, D, H = 3, 4, 2, 3
    x, h0, Wx, Wh, bx, bh, dhs, dhT = (asarray(a) for a in arrays(2, N, T, D, H))
    hs, _, cache = gru_ops.gru_forward(x, h0, Wx, Wh, bx, bh)
    seq_grads = gru_ops.gru_backward(dhs, dhT, cache)
    h, caches = h0, []
    for t in range(T):
        h, step = gru_ops.gru_step_forward(x[:, t], h, Wx, Wh, bx, bh)
        np.testing.assert_allclose(to_numpy(h), to_numpy(hs[:, t]), atol=1e-13)
        caches.append(step)
    dh, dx, total = dhT, [None] * T, [0, 0, 0, 0]
    for t in reversed(range(T)):
        dx[t], dh, *params = gru_ops.gru_step_backward(dh + dhs[:, t], caches[t])
        total = [a + g for a, g in zip(total, params)]
    step_grads = (np.stack([to_numpy(d) for d in dx], axis=1), dh, *total)
    for a, b_ in zip(seq_grads, step_grads):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b_), atol=1e-12)


def test_backward_accepts_none_dhT(backend):
    x, h0, Wx, Wh, bx, bh, dhs, _ = (asarray(a) for a in arrays(3, 2, 3, 2, 2))
    _, _, cache = gru_ops.gru_forward(x, h0, Wx, Wh, bx, bh)
    for a, b_ in zip(gru_ops.gru_backward(dhs, None, cache), gru_ops.gru_backward(dhs, 0 * h0, cache)):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b_))


def test_float32_stays_float32_and_matches_float64(backend):
    host = arrays(4, 3, 4, 3, 5)
    mask = np.arange(4) < np.array([4, 0, 2])[:, None]
    outs64, grads64 = run(*host, mask)
    dev = [asarray(a.astype(np.float32)) for a in host]
    hs, hT, cache = gru_ops.gru_forward(*dev[:6], asarray(mask))
    grads = gru_ops.gru_backward(*dev[6:], cache)
    for a, a64 in zip((hs, hT, *grads), (*outs64, *grads64)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(to_numpy(a), a64, rtol=1e-4, atol=1e-5)
    h, step = gru_ops.gru_step_forward(dev[0][:, 0], dev[1], *dev[2:6])
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in gru_ops.gru_step_backward(dev[7], step))


# ------------------------------------------------------------------ PyTorch


@pytest.mark.parametrize("padded", [False, True])
def test_matches_torch(padded):
    torch = pytest.importorskip("torch")
    N, T, D, H = 4, 5, 3, 6
    x, h0, Wx, Wh, bx, bh, dhs, dhT = arrays(5, N, T, D, H)
    lengths = np.array([5, 1, 3, 4]) if padded else np.full(N, T)
    mask = np.arange(T) < lengths[:, None]
    (hs, hT), grads = run(x, h0, Wx, Wh, bx, bh, dhs, dhT, mask if padded else None)
    gru = torch.nn.GRU(D, H, batch_first=True).double()
    with torch.no_grad():
        for p, value in [(gru.weight_ih_l0, Wx.T), (gru.weight_hh_l0, Wh.T), (gru.bias_ih_l0, bx), (gru.bias_hh_l0, bh)]:
            p.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.from_numpy(lengths), batch_first=True,
                                                     enforce_sorted=False)
    out, hn = gru(packed, h0t)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
    ((out * torch.from_numpy(dhs)).sum() + (hn[0] * torch.from_numpy(dhT)).sum()).backward()
    np.testing.assert_allclose(hs, out.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(hT, hn[0].detach().numpy(), atol=1e-10)
    expected = [xt.grad, h0t.grad[0], gru.weight_ih_l0.grad.T, gru.weight_hh_l0.grad.T, gru.bias_ih_l0.grad,
                gru.bias_hh_l0.grad]
    for name, ours, theirs in zip(NAMES, grads, expected):
        np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-10, err_msg=f"d{name}")


# ------------------------------------------------------------------ property


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(N=st.integers(1, 4), T=st.integers(1, 5), D=st.integers(1, 4), H=st.integers(1, 4),
       seed=st.integers(0, 2**16), mask_seed=st.integers(0, 2**16))
def test_property_any_shape_and_mask(backend, N, T, D, H, seed, mask_seed):
    mask = np.random.default_rng(mask_seed).random((N, T)) < 0.7
    case = build(gru_case, seed, N=N, T=T, D=D, H=H, mask=mask)
    results = check_gradients(case.fn, case.params, max_full=0, n_samples=3, n_directions=1)
    assert all(r.passed for r in results), format_table(results)
    hs, hT, _ = gru_ops.gru_forward(*(case.params[k] for k in NAMES), asarray(mask))
    assert hs.shape == (N, T, H) and hT.shape == (N, H)
    assert np.all(to_numpy(hs)[~mask] == 0)
    empty = ~mask.any(axis=1)
    np.testing.assert_array_equal(to_numpy(hT)[empty], to_numpy(case.params["h0"])[empty])


# ------------------------------------------------------------------ the cell alone (gru_cell_*)


@pytest.mark.parametrize("seed", range(4))
def test_cell_case_passes(backend, seed):
    results = run_case("gru_cell", seed)
    assert all(r.passed for r in results), format_table(results)


@pytest.mark.parametrize("target, plant, expected", [
    *(pytest.param(*GATE_BUGS[gate], {"ax", "ah"}, id=f"{gate}-gate-derivative") for gate in "rzn"),
    pytest.param(*SIGN_Z, {"ax", "ah"}, id="sign-of-z-gate"),
    pytest.param(*DROP_AH_N, {"ah"}, id="drop-r*ah_n-towards-ah_n"),
    pytest.param(*DROP_R, {"ax", "ah"}, id="drop-r*ah_n-towards-r"),
    pytest.param(*DROP_DIRECT, {"h_prev"}, id="drop-z*h-path"),
    pytest.param("gru_cell_backward", lambda f: mutated(f, "[da_r, da_z, da_nh]", "[da_r, da_z * 0.0, da_nh]"),
                 {"ah"}, id="dah-lacks-da_z"),
])
def test_planted_bugs_cell(backend, reference_lines, monkeypatch, target, plant, expected):
    from minatt.gradcheck.rnn_cases import gru_cell_case

    monkeypatch.setattr(gru_ops, target, plant(getattr(gru_ops, target)))
    assert failures(build(gru_cell_case, 1)) == expected


# ------------------------------------------------------------------ what the cache keeps (chapter 5)


def cached_numbers(cache, leave_out) -> int:
    """Numbers held by the arrays a cache reaches, each buffer once (a view counts as its base),
    leaving out the arrays in ``leave_out`` (the input x and the weights)."""
    skip, seen, total, stack = {id(a) for a in leave_out}, set(), 0, [cache]
    while stack:
        obj = stack.pop()
        if isinstance(obj, (tuple, list)):
            stack.extend(obj)
        elif hasattr(obj, "nbytes") and obj.ndim:
            base = obj
            while getattr(base, "base", None) is not None:
                base = base.base
            if id(obj) not in skip and id(base) not in seen:
                seen.add(id(base))
                total += base.size
    return total


def test_the_gru_caches_5H_numbers_a_step_and_the_lstm_7H():
    """Chapter 5's memory claim, measured: r, z, n, ah_n and h_prev (each previous state once)
    against the LSTM's i, f, g, o, tc, c_prev and h_prev."""
    from minatt.ops.lstm import lstm_forward

    N, T, D, H = 4, 6, 3, 5
    x, h0, c0, dhs = (np.random.default_rng(0).standard_normal(s) for s in [(N, T, D), (N, H), (N, H), (N, T, H)])
    rng = np.random.default_rng(1)
    gWx, gWh, gb = rng.standard_normal((D, 3 * H)), rng.standard_normal((H, 3 * H)), rng.standard_normal(3 * H)
    _, _, gru_cache = gru_ops.gru_forward(x, h0, gWx, gWh, gb, gb)
    lWx, lWh, lb = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    _, _, lstm_cache = lstm_forward(x, h0, c0, lWx, lWh, lb)
    assert cached_numbers(gru_cache, [x, gWx, gWh]) == 5 * H * N * T
    assert cached_numbers(lstm_cache, [x, lWx, lWh]) == 7 * H * N * T
