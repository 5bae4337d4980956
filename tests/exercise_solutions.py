"""Reference solutions of every exercise, written from scratch as a learner would, and planted bugs.

Each solution uses only what its stub documents (the cache's fields, the pieces' backwards it
names); none calls the library function the exercise rebuilds. The planted bugs are one-line
edits of these solutions, each a mistake a learner could make.
"""

from __future__ import annotations

import textwrap
from pathlib import Path


def write(tmp_path: Path, name: str, body: str) -> Path:
    """A learner's file ``tmp_path/name.py``: numpy imported as np, then the solution's body."""
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n\n" + textwrap.dedent(body).lstrip())
    return path


SOLUTIONS = {
    "affine": """
        def affine_backward(dout, cache):
            M = cache.W.shape[1]
            dout2 = dout.reshape(-1, M)
            dx = (dout2 @ cache.W.T).reshape(cache.x_shape)
            dW = cache.x2.T @ dout2
            db = dout2.sum(axis=0)
            return dx, dW, db
    """,
    "softmax": """
        def softmax_backward(dp, cache):
            p = cache.p
            return p * (dp - (p * dp).sum(axis=-1, keepdims=True))
    """,
    "lstm_step": """
        def lstm_step_backward(dh_next, dc_next, cache):
            i, f, g, o = cache.cell.i, cache.cell.f, cache.cell.g, cache.cell.o
            tc = cache.cell.tc
            dc_t = dc_next + dh_next * o * (1 - tc ** 2)
            da_i = dc_t * g * i * (1 - i)
            da_f = dc_t * cache.cell.c_prev * f * (1 - f)
            da_g = dc_t * i * (1 - g ** 2)
            da_o = dh_next * tc * o * (1 - o)
            da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
            dx = da @ cache.Wx.T
            dh_prev = da @ cache.Wh.T
            dc_prev = dc_t * f
            dWx = cache.x.T @ da
            dWh = cache.h_prev.T @ da
            db = da.sum(axis=0)
            return dx, dh_prev, dc_prev, dWx, dWh, db
    """,
    "gru_step": """
        def gru_step_backward(dh_next, cache):
            r, z, n = cache.cell.r, cache.cell.z, cache.cell.n
            da_z = dh_next * (cache.cell.h_prev - n) * z * (1 - z)
            da_nx = dh_next * (1 - z) * (1 - n ** 2)
            da_nh = da_nx * r
            da_r = da_nx * cache.cell.ah_n * r * (1 - r)
            dax = np.concatenate([da_r, da_z, da_nx], axis=1)
            dah = np.concatenate([da_r, da_z, da_nh], axis=1)
            dx = dax @ cache.Wx.T
            dh_prev = dh_next * z + dah @ cache.Wh.T
            dWx = cache.x.T @ dax
            dWh = cache.cell.h_prev.T @ dah
            dbx = dax.sum(axis=0)
            dbh = dah.sum(axis=0)
            return dx, dh_prev, dWx, dWh, dbx, dbh
    """,
    "additive_score": """
        def additive_score_backward(dscores, cache):
            keys, Wk = cache.keys.keys, cache.keys.Wk
            q, Wq, v, t = cache.score.q, cache.score.Wq, cache.score.v, cache.score.t
            Hk, A = Wk.shape
            da = dscores[:, :, None] * v * (1 - t ** 2)
            dqproj = da.sum(axis=1)
            dq = dqproj @ Wq.T
            dkeys = da @ Wk.T
            dWq = q.T @ dqproj
            dWk = keys.reshape(-1, Hk).T @ da.reshape(-1, A)
            dv = (dscores[:, :, None] * t).sum(axis=(0, 1))
            return dq, dkeys, dWq, dWk, dv
    """,
    "general_score": """
        def general_score_backward(dscores, cache):
            keys, Wa = cache.keys.keys, cache.keys.Wk.T
            q, kW = cache.score.q, cache.score.keys
            Hq, Hk = Wa.shape
            dq = np.einsum("ns,nsh->nh", dscores, kW)
            dkW = dscores[:, :, None] * q[:, None, :]
            dkeys = dkW @ Wa
            dWa = dkW.reshape(-1, Hq).T @ keys.reshape(-1, Hk)
            return dq, dkeys, dWa
    """,
    "attention": """
        def attention_backward(dcontext, dweights, cache):
            w, values = cache.softmax.p, cache.values
            dw = np.einsum("nsh,nh->ns", values, dcontext)
            if dweights is not None:
                dw = dw + dweights
            dvalues = w[:, :, None] * dcontext[:, None, :]
            dscores = w * (dw - (w * dw).sum(axis=1, keepdims=True))
            return dscores, dvalues
    """,
    "masked_softmax": """
        from minatt.ops.softmax import SoftmaxCache

        def softmax_forward(x, mask=None):
            real = np.ones(x.shape, dtype=bool) if mask is None else np.broadcast_to(mask, x.shape)
            m = np.max(np.where(real, x, -np.inf), axis=-1, keepdims=True)
            m = np.where(np.isfinite(m), m, 0.0)
            e = np.where(real, np.exp(np.where(real, x - m, 0.0)), 0.0)
            total = e.sum(axis=-1, keepdims=True)
            p = e / np.where(total > 0, total, 1.0)
            return p, SoftmaxCache(p)
    """,
    "lstm_cell": """
        def sigmoid(z):
            return 1.0 / (1.0 + np.exp(-z))

        def lstm_cell_forward(a, c_prev):
            H = c_prev.shape[1]
            i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
            g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
            c_next = f * c_prev + i * g
            tc = np.tanh(c_next)
            return o * tc, c_next, (i, f, g, o, c_prev, tc)

        def lstm_cell_backward(dh_next, dc_next, cache):
            i, f, g, o, c_prev, tc = cache
            dc_t = dc_next + dh_next * o * (1 - tc ** 2)
            da_i = dc_t * g * i * (1 - i)
            da_f = dc_t * c_prev * f * (1 - f)
            da_g = dc_t * i * (1 - g ** 2)
            da_o = dh_next * tc * o * (1 - o)
            return np.concatenate([da_i, da_f, da_g, da_o], axis=1), dc_t * f
    """,
    "lstm_bptt": """
        from minatt.ops.lstm import lstm_cell_backward

        def lstm_backward(dhs, dhT, dcT, cache):
            x, Wx, Wh = cache.x, cache.Wx, cache.Wh
            N, T, D = x.shape
            H = Wh.shape[0]
            dh = np.zeros((N, H)) if dhT is None else dhT
            dc = np.zeros((N, H)) if dcT is None else dcT
            real = np.ones((N, T, 1), dtype=bool) if cache.pad is None else ~cache.pad
            dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
            for t in reversed(range(T)):
                r = real[:, t]
                dh_t = dh + np.where(r, dhs[:, t], 0.0)
                da, dc_prev = lstm_cell_backward(dh_t, dc, cache.cells[t])
                da = np.where(r, da, 0.0)
                dx[:, t] = da @ Wx.T
                dWx += x[:, t].T @ da
                dWh += cache.h_prev[:, t].T @ da
                db += da.sum(axis=0)
                dh = np.where(r, da @ Wh.T, dh_t)
                dc = np.where(r, dc_prev, dc)
            return dx, dh, dc, dWx, dWh, db
    """,
    "embedding": """
        def embedding_backward(dout, cache):
            D = dout.shape[-1]
            dW = np.zeros((cache.vocab_size, D))
            np.add.at(dW, cache.ids.reshape(-1), dout.reshape(-1, D))
            return dW
    """,
    "cross_entropy": """
        def cross_entropy_backward(cache, dloss=1.0):
            K = cache.p.shape[0]
            d = cache.p.copy()
            d[np.arange(K), cache.safe_targets] -= 1.0
            d = d * cache.counted[:, None] * (dloss / max(cache.n_counted, 1))
            return d.reshape(cache.logits_shape)
    """,
    "bahdanau_step": """
        from minatt.ops.attention import attention_backward
        from minatt.ops.lstm import lstm_step_backward
        from minatt.ops.scores import additive_score_backward

        def bahdanau_step_backward(do, ds_next, dc_next, cache):
            H, K = ds_next.shape[1], cache.attention.values.shape[2]
            dx, ds_prev, dc_prev, dWx, dWh, db = lstm_step_backward(ds_next + do[:, :H], dc_next, cache.lstm)
            E = dx.shape[1] - K
            dcontext = do[:, H:] + dx[:, E:]
            dscores, dvalues = attention_backward(dcontext, None, cache.attention)
            dq, dkeys, dWq, dWk, dv = additive_score_backward(dscores, cache.score)
            return dx[:, :E], ds_prev + dq, dc_prev, dkeys + dvalues, dWq, dWk, dv, dWx, dWh, db
    """,
    "luong_step": """
        from minatt.ops.attention import attention_backward
        from minatt.ops.linear import affine_backward
        from minatt.ops.lstm import lstm_step_backward
        from minatt.ops.scores import general_score_backward

        def luong_step_backward(dht, dh_next, dc_next, cache):
            dpre = dht * (1 - cache.ht ** 2)
            dcat, dWc, dbc = affine_backward(dpre, cache.combine)
            H = dh_next.shape[1]
            K = dcat.shape[1] - H
            dscores, dvalues = attention_backward(dcat[:, :K], None, cache.attention)
            dq, dkeys, dWa = general_score_backward(dscores, cache.score)
            dx, dh_prev, dc_prev, dWx, dWh, db = lstm_step_backward(dh_next + dcat[:, K:] + dq, dc_next, cache.lstm)
            E = dx.shape[1] - H
            return dx[:, :E], dh_prev, dc_prev, dx[:, E:], dkeys + dvalues, dWx, dWh, db, dWa, dWc, dbc
    """,
    "greedy": """
        def greedy_search(step, state, n, max_len, bos, eos, pad):
            y = np.full(n, bos)
            done = np.zeros(n, dtype=bool)
            tokens, attention = [], []
            for _ in range(max_len):
                state, logits, w = step(y, state)
                y = np.where(done, pad, logits.argmax(axis=1))
                tokens.append(y)
                attention.append(np.where(done[:, None], 0.0, w))
                done = done | (y == eos)
                if done.all():
                    break
            return np.stack(tokens, axis=1), np.stack(attention, axis=1)
    """,
    "beam": """
        def beam_search(step, state, n, max_len, k, bos, eos, pad):
            y = np.full(n * k, bos)
            score = np.full((n, k), -np.inf)
            score[:, 0] = 0.0
            length = np.zeros((n, k), dtype=int)
            finished = np.zeros((n, k), dtype=bool)
            history = []
            for _ in range(max_len):
                state, logits, w = step(y, state)
                V, S = logits.shape[1], w.shape[1]
                top = logits.max(axis=1, keepdims=True)
                logp = (logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))).reshape(n, k, V)
                kept = np.zeros((n, k, 5))  # token, parent, score, length, finished
                att = np.zeros((n, k, S))
                for s in range(n):
                    proposals = []
                    for j in range(k):
                        if finished[s, j]:
                            proposals.append((score[s, j] / length[s, j], j, pad, score[s, j], length[s, j]))
                            continue
                        for v in range(V):
                            total = score[s, j] + logp[s, j, v]
                            proposals.append((total / (length[s, j] + 1), j, v, total, length[s, j] + 1))
                    proposals.sort(key=lambda p: -p[0])
                    for slot, (_, j, v, total, L) in enumerate(proposals[:k]):
                        kept[s, slot] = (v, j, total, L, finished[s, j] or v == eos)
                        att[s, slot] = 0.0 if finished[s, j] else w[s * k + j]
                token, parent = kept[:, :, 0].astype(int), kept[:, :, 1].astype(int)
                score, length, finished = kept[:, :, 2], kept[:, :, 3].astype(int), kept[:, :, 4].astype(bool)
                rows = (np.arange(n)[:, None] * k + parent).reshape(-1)
                state = type(state)(*(None if a is None else a[rows] for a in state))
                history.append((token, parent, att))
                y = token.reshape(-1)
                if finished.all():
                    break
            best = np.argmax(score / length, axis=1)
            tokens, attention = [], []
            for token, parent, att in reversed(history):
                tokens.append(token[np.arange(n), best])
                attention.append(att[np.arange(n), best])
                best = parent[np.arange(n), best]
            return np.stack(tokens[::-1], axis=1), np.stack(attention[::-1], axis=1)
    """,
}


# (exercise, line in the solution, its buggy version, the gradient that must be flagged, its status)
BUGS = [
    ("affine", "db = dout2.sum(axis=0)", "db = -dout2.sum(axis=0)", "db", "fail"),
    ("affine", "dW = cache.x2.T @ dout2", "dW = dout2.T @ cache.x2", "dW", "wrong_shape"),
    ("affine", "db = dout2.sum(axis=0)", "db = dout2.sum(axis=0, keepdims=True)", "db", "wrong_shape"),
    ("softmax", "p * (dp - (p * dp).sum(axis=-1, keepdims=True))", "p * dp", "dx", "fail"),
    ("softmax", "(p * dp).sum(axis=-1, keepdims=True)", "(p * dp).sum()", "dx", "fail"),
    ("lstm_step", "dc_prev = dc_t * f", "dc_prev = dc_t", "dc_prev", "fail"),
    ("lstm_step", "dWh = cache.h_prev.T @ da", "dWh = 1.001 * (cache.h_prev.T @ da)", "dWh", "fail"),
    ("gru_step", "dbh = dah.sum(axis=0)", "dbh = dax.sum(axis=0)", "dbh", "fail"),
    ("gru_step", "dh_prev = dh_next * z + dah @ cache.Wh.T", "dh_prev = dah @ cache.Wh.T", "dh_prev", "fail"),
    ("additive_score", "dv = (dscores", "dv = -(dscores", "dv", "fail"),
    ("additive_score", "dq = dqproj @ Wq.T", "dq = da[:, 0] @ Wq.T", "dq", "fail"),
    ("general_score", "dWa = dkW.reshape(-1, Hq).T @ keys.reshape(-1, Hk)",
     "dWa = keys.reshape(-1, Hk).T @ dkW.reshape(-1, Hq)", "dWa", "wrong_shape"),
    ("general_score", "dkeys = dkW @ Wa", "dkeys = dkW", "dkeys", "wrong_shape"),
    ("attention", "dw = dw + dweights", "dw = dw", "dscores", "fail"),
    ("attention", "dvalues = w[:, :, None]", "dvalues = -w[:, :, None]", "dvalues", "fail"),
    ("lstm_bptt", "db += da.sum(axis=0)", "db += da[0]", "db", "fail"),
    ("embedding", "np.add.at(dW, cache.ids.reshape(-1), dout.reshape(-1, D))",
     "dW[cache.ids.reshape(-1)] += dout.reshape(-1, D)", "dW", "fail"),
    ("cross_entropy", "max(cache.n_counted, 1)", "K", "dlogits", "fail"),
    ("bahdanau_step", "ds_prev + dq, dc_prev", "ds_prev, dc_prev", "ds_prev", "fail"),
    ("bahdanau_step", "dkeys + dvalues, dWq", "dkeys, dWq", "dkeys", "fail"),
    ("luong_step", "dkeys + dvalues, dWx", "dvalues, dWx", "dkeys", "fail"),
    ("luong_step", "dx[:, E:], dkeys", "dx[:, :H], dkeys", "dfeed", "fail"),
    ("masked_softmax", "p = e / np.where(total > 0, total, 1.0)", "p = e / total", "p", "fail"),
    ("lstm_cell", "return o * tc, c_next, (i, f, g, o, c_prev, tc)",
     "return o * c_next, c_next, (i, f, g, o, c_prev, tc)", "h_next", "fail"),
    ("lstm_cell", "dc_t * f", "dc_t", "dc_prev", "fail"),
    ("greedy", "y = np.where(done, pad, logits.argmax(axis=1))", "y = logits.argmax(axis=1)", "tokens", "fail"),
    ("greedy", "np.where(done[:, None], 0.0, w)", "w", "attention", "fail"),
    ("beam", "total / (length[s, j] + 1)", "total", "tokens", "fail"),
]

# Chapter 11 (the Transformer): written from the stubs' equations, without the library's helpers.
SOLUTIONS["scaled_dot_attention"] = """
    def scaled_dot_attention_backward(dout, cache):
        w = cache.softmax.p
        dvalues = np.einsum("nts,ntv->nsv", w, dout)
        dw = np.einsum("ntv,nsv->nts", dout, cache.values)
        dscores = w * (dw - (w * dw).sum(axis=2, keepdims=True))
        dqueries = np.einsum("nts,nsk->ntk", dscores, cache.keys) * cache.scale
        dkeys = np.einsum("nts,ntk->nsk", dscores, cache.queries) * cache.scale
        return dqueries, dkeys, dvalues
"""
SOLUTIONS["layer_norm"] = """
    def layer_norm_backward(dy, cache):
        xhat, g = cache.xhat, cache.g
        D = xhat.shape[-1]
        rows = tuple(range(dy.ndim - 1))
        dg = (dy * xhat).sum(axis=rows)
        db = dy.sum(axis=rows)
        dxhat = dy * g
        direct = dxhat * cache.inv_sigma
        via_mu = -dxhat.sum(axis=-1, keepdims=True) * cache.inv_sigma / D
        via_sigma = -(dxhat * xhat).sum(axis=-1, keepdims=True) * xhat * cache.inv_sigma / D
        dx = direct + via_mu + via_sigma
        return dx, dg, db
"""
BUGS += [
    ("scaled_dot_attention", "cache.keys) * cache.scale", "cache.keys)", "dqueries", "fail"),
    ("scaled_dot_attention", 'np.einsum("nts,ntk->nsk", dscores', 'np.einsum("nts,ntk->nsk", w', "dkeys", "fail"),
    ("scaled_dot_attention", 'np.einsum("nts,ntv->nsv", w, dout)', 'np.einsum("nts,ntv->ntv", w, dout)',
     "dvalues", "wrong_shape"),
    ("layer_norm", "dx = direct + via_mu + via_sigma", "dx = direct + via_mu", "dx", "fail"),
    ("layer_norm", "dg = (dy * xhat).sum(axis=rows)", "dg = dy.sum(axis=rows)", "dg", "fail"),
    ("layer_norm", "db = dy.sum(axis=rows)", "db = dy.sum(axis=-1)", "db", "wrong_shape"),
]

# Issue 24: the exercises CS231n's rnn_layers and optimisers would set, written from their stubs.
SOLUTIONS["rnn_step"] = """
    def rnn_step_forward(x, h_prev, Wx, Wh, b):
        h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
        return h_next, (x, h_prev, Wx, Wh, h_next)

    def rnn_step_backward(dh_next, cache):
        x, h_prev, Wx, Wh, h_next = cache
        da = dh_next * (1 - h_next ** 2)
        dx = da @ Wx.T
        dh_prev = da @ Wh.T
        dWx = x.T @ da
        dWh = h_prev.T @ da
        db = da.sum(axis=0)
        return dx, dh_prev, dWx, dWh, db
"""
SOLUTIONS["rnn_sequence"] = """
    def rnn_forward(x, h0, Wx, Wh, b):
        h_prev, hs = h0, []
        for t in range(x.shape[1]):
            h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)
            hs.append(h_prev)
        hs = np.stack(hs, axis=1)
        return hs, (x, h0, Wx, Wh, hs)

    def rnn_backward(dhs, cache):
        x, h0, Wx, Wh, hs = cache
        dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
        dh_next = np.zeros_like(h0)
        for t in reversed(range(x.shape[1])):
            h_prev = hs[:, t - 1] if t > 0 else h0
            da = (dhs[:, t] + dh_next) * (1 - hs[:, t] ** 2)
            dx[:, t] = da @ Wx.T
            dWx += x[:, t].T @ da
            dWh += h_prev.T @ da
            db += da.sum(axis=0)
            dh_next = da @ Wh.T
        return dx, dh_next, dWx, dWh, db
"""
SOLUTIONS["gru_bptt"] = """
    from minatt.ops.gru import gru_cell_backward

    def gru_backward(dhs, dhT, cache):
        x, Wx, Wh = cache.x, cache.Wx, cache.Wh
        N, T, D = x.shape
        H = Wh.shape[0]
        real = np.ones((N, T, 1), dtype=bool) if cache.pad is None else ~cache.pad
        dh = np.zeros((N, H)) if dhT is None else dhT
        dx, dWx, dWh = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh)
        dbx, dbh = np.zeros(3 * H), np.zeros(3 * H)
        for t in reversed(range(T)):
            r = real[:, t]
            dh_t = dh + np.where(r, dhs[:, t], 0.0)
            dax, dah, dh_direct = gru_cell_backward(dh_t, cache.cells[t])
            dax, dah = np.where(r, dax, 0.0), np.where(r, dah, 0.0)
            dx[:, t] = dax @ Wx.T
            dWx += x[:, t].T @ dax
            dWh += cache.cells[t].h_prev.T @ dah
            dbx += dax.sum(axis=0)
            dbh += dah.sum(axis=0)
            dh = np.where(r, dh_direct + dah @ Wh.T, dh_t)
        return dx, dh, dWx, dWh, dbx, dbh
"""
SOLUTIONS["multihead_attention"] = """
    from minatt.ops.linear import affine_backward
    from minatt.ops.self_attention import scaled_dot_attention_backward

    def split(a, h):
        N, L, D = a.shape
        return a.reshape(N, L, h, D // h).transpose(0, 2, 1, 3).reshape(N * h, L, D // h)

    def merge(a, h):
        Nh, L, dk = a.shape
        return a.reshape(Nh // h, h, L, dk).transpose(0, 2, 1, 3).reshape(Nh // h, L, h * dk)

    def multihead_attention_backward(dout, cache):
        h = cache.heads
        dmerged, dWo, dbo = affine_backward(dout, cache.o)
        dq, dk, dv = scaled_dot_attention_backward(split(dmerged, h), cache.attention)
        dxq, dWq, dbq = affine_backward(merge(dq, h), cache.q)
        dxk, dWk, dbk = affine_backward(merge(dk, h), cache.k)
        dxv, dWv, dbv = affine_backward(merge(dv, h), cache.v)
        return dxq, dxk + dxv, dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo
"""
SOLUTIONS["bidirectional"] = """
    from minatt.ops.lstm import lstm_backward

    def bidirectional_backward(dkeys, dfinal_h, dfinal_c, cache):
        H = dkeys.shape[2] // 2
        rows, rev = cache.rows, cache.rev
        dx_f, _, _, dWx_f, dWh_f, db_f = lstm_backward(dkeys[:, :, :H], dfinal_h[:, :H], dfinal_c[:, :H],
                                                       cache.fwd)
        dhs_r = dkeys[:, :, H:][rows, rev]
        dx_r, _, _, dWx_b, dWh_b, db_b = lstm_backward(dhs_r, dfinal_h[:, H:], dfinal_c[:, H:], cache.bwd)
        dx = dx_f + dx_r[rows, rev]
        return dx, dWx_f, dWh_f, db_f, dWx_b, dWh_b, db_b
"""
SOLUTIONS["adam"] = """
    def adam_update(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        m_next = beta1 * m + (1 - beta1) * g
        v_next = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m_next / (1 - beta1 ** t)
        v_hat = v_next / (1 - beta2 ** t)
        p_next = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        return p_next, m_next, v_next
"""
SOLUTIONS["clip_grad_norm"] = """
    def clip_grad_norm(grads, max_norm):
        norm = float(np.sqrt(sum((g * g).sum() for g in grads.values())))
        if max_norm is not None and max_norm > 0 and norm > max_norm:
            for g in grads.values():
                g *= max_norm / norm
        return norm
"""
SOLUTIONS["model_loss_and_grads"] = """
    from minatt.ops.embedding import embedding_backward, embedding_forward
    from minatt.ops.linear import affine_backward, affine_forward
    from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward
    from minatt.ops.lstm import lstm_backward, lstm_forward

    def loss_and_grads(params, batch):
        p = params
        N, T = batch.tgt_in.shape
        H = p["enc.fwd.Wh"].shape[0]
        emb_src, src_cache = embedding_forward(batch.src, p["enc.embed.W"])
        zeros = np.zeros((N, H))
        keys, (final_h, final_c), enc_cache = lstm_forward(emb_src, zeros, zeros, p["enc.fwd.Wx"],
                                                           p["enc.fwd.Wh"], p["enc.fwd.b"], batch.src_mask)
        c = np.repeat(final_h[:, None, :], T, axis=1)
        emb_tgt, tgt_cache = embedding_forward(batch.tgt_in, p["dec.embed.W"])
        E = emb_tgt.shape[2]
        s, _, dec_cache = lstm_forward(np.concatenate([emb_tgt, c], axis=2), final_h, final_c,
                                       p["dec.rnn.Wx"], p["dec.rnn.Wh"], p["dec.rnn.b"])
        logits, out_cache = affine_forward(np.concatenate([s, c], axis=2), p["dec.out.W"], p["dec.out.b"])
        targets = np.where(batch.tgt_mask, batch.tgt_out, 0)
        loss, loss_cache = cross_entropy_forward(logits, targets, ignore_index=0)
        grads = {}
        dlogits = cross_entropy_backward(loss_cache)
        do, grads["dec.out.W"], grads["dec.out.b"] = affine_backward(dlogits, out_cache)
        dx_dec, dh0, dc0, grads["dec.rnn.Wx"], grads["dec.rnn.Wh"], grads["dec.rnn.b"] = lstm_backward(
            do[:, :, :H], None, None, dec_cache)
        grads["dec.embed.W"] = embedding_backward(dx_dec[:, :, :E], tgt_cache)
        dfinal_h = dh0 + do[:, :, H:].sum(axis=1) + dx_dec[:, :, E:].sum(axis=1)
        dx_enc, _, _, grads["enc.fwd.Wx"], grads["enc.fwd.Wh"], grads["enc.fwd.b"] = lstm_backward(
            np.zeros_like(keys), dfinal_h, dc0, enc_cache)
        grads["enc.embed.W"] = embedding_backward(dx_enc, src_cache)
        return loss, grads
"""
SOLUTIONS["overfit"] = """
    from minatt.optim import Adam, clip_grad_norm

    def overfit(loss_and_grads, params, batch, steps):
        opt = Adam(params, lr=0.05)
        losses = []
        for _ in range(steps):
            loss, grads = loss_and_grads(params, batch)
            losses.append(float(loss))
            clip_grad_norm(grads, 1.0)
            opt.step(grads)
        return losses
"""
BUGS += [
    ("rnn_step", "dWh = h_prev.T @ da", "dWh = da.T @ h_prev", "dWh", "fail"),
    ("rnn_step", "db = da.sum(axis=0)", "db = da.sum(axis=1)", "db", "wrong_shape"),
    ("rnn_sequence", "db += da.sum(axis=0)", "db += da[0]", "db", "fail"),
    ("rnn_sequence", "dWh += h_prev.T @ da", "dWh += hs[:, t].T @ da", "dWh", "fail"),
    ("gru_bptt", "dWh += cache.cells[t].h_prev.T @ dah", "dWh += cache.cells[t].h_prev.T @ dax", "dWh", "fail"),
    ("gru_bptt", "dbh += dah.sum(axis=0)", "dbh += dah[0]", "dbh", "fail"),
    ("multihead_attention", "dxk + dxv, dWq", "dxv, dWq", "dxkv", "fail"),
    ("bidirectional", "dx = dx_f + dx_r[rows, rev]", "dx = dx_f + dx_r", "dx", "fail"),
    ("adam", "m_hat = m_next / (1 - beta1 ** t)", "m_hat = m_next", "p_next", "fail"),
    ("adam", "(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)", "p_next", "fail"),
    ("clip_grad_norm", "if max_norm is not None and max_norm > 0 and norm > max_norm:",
     "if max_norm is not None:", "grads", "fail"),
    ("model_loss_and_grads", "embedding_backward(dx_dec[:, :, :E], tgt_cache)",
     "embedding_backward(2 * dx_dec[:, :, :E], tgt_cache)", "grads['dec.embed.W']", "fail"),
    ("overfit", "opt.step(grads)", "pass", "loss", "fail"),
]
