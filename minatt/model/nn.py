"""Parameter holders over the ops: each creates its arrays, runs the op, and files its gradients.

Dimensions: N batch, S source steps, T steps, D input, H hidden, Hq query, Hk key, A attention,
V vocabulary.

A holder owns no arrays itself. It writes its parameters into one shared ``params`` dict under
dotted names (``"enc.fwd.Wx"``) and looks them up there on every call, so an optimiser that
updates the dict's arrays in place, or a checkpoint that replaces them, is always seen. Its
``backward`` adds parameter gradients into a ``grads`` dict keyed like ``params``
(:func:`accumulate`), so a holder called at every time step sums its gradients over steps.

Initialisation follows PyTorch, drawn on the host from one seeded generator (the same seed gives
bit-identical weights on NumPy and CuPy), in the default dtype:

    Embedding   W ~ N(0, 1)
    Linear      W, b ~ U(-1/sqrt(D), 1/sqrt(D))          D = fan-in
    RNN         every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))
    Scorer      every weight ~ U(-1/sqrt(fan-in), 1/sqrt(fan-in))   (minatt.model.scorer, built on Module)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module, randn, uniform
from minatt.ops.embedding import embedding_backward, embedding_forward
from minatt.ops.gru import (
    GRUStepCache,
    gru_backward,
    gru_cell_forward,
    gru_forward,
    gru_step_input_backward,
    gru_weights_backward,
)
from minatt.ops.linear import affine_backward, affine_forward
from minatt.ops.lstm import (
    LSTMStepCache,
    lstm_backward,
    lstm_cell_forward,
    lstm_forward,
    lstm_step_input_backward,
    lstm_weights_backward,
)

Array = Any
Params = dict  # name -> array, shared by every holder of a model
Grads = dict  # name -> gradient array, keyed like Params
Rng = Any  # a host numpy.random.Generator (minatt.backend.host_rng)

CELLS = ("lstm", "gru")

__all__ = [
    "RNN",
    "Embedding",
    "Encoder",
    "Linear",
    "Module",
    "accumulate",
    "reverse_index",
]


def accumulate(grads: Grads, name: str, g: Array) -> None:
    """grads[name] += g. The first gradient is copied in, so the later in-place adds never
    change an array that an op returned (and may share with another gradient or a cache)."""
    if name in grads:
        grads[name] += g
    else:
        grads[name] = g.copy()


class Module:
    """A named group of parameters inside a shared dict: ``prefix.name`` -> array."""

    def __init__(self, params: Params, prefix: str) -> None:
        self.params = params
        self.prefix = prefix

    def key(self, name: str) -> str:
        """The dotted name ``prefix.name`` of parameter ``name`` in the shared dict."""
        return f"{self.prefix}.{name}"

    def add(self, name: str, array: Array) -> None:
        """Register a new parameter ``prefix.name``; a name used twice is an error."""
        key = self.key(name)
        if key in self.params:
            raise ValueError(f"parameter {key!r} is created twice")
        self.params[key] = array

    def p(self, name: str) -> Array:
        """The current array of parameter ``name``."""
        return self.params[self.key(name)]


class Embedding(Module):
    """A lookup table W (V, D): ``prefix.W``."""

    def __init__(self, params: Params, prefix: str, vocab: int, dim: int, rng: Rng) -> None:
        super().__init__(params, prefix)
        self.add("W", randn(rng, (vocab, dim), 1.0))

    def forward(self, ids: Array) -> tuple[Array, Any]:
        """ids (...) int -> out (..., D) = W[ids], cache."""
        return embedding_forward(ids, self.p("W"))

    def backward(self, dout: Array, cache: Any, grads: Grads) -> None:
        """dout (..., D): adds dW (V, D) into grads (the input ids have no gradient)."""
        accumulate(grads, self.key("W"), embedding_backward(dout, cache))


class Linear(Module):
    """out = x W + b over the last axis: ``prefix.W`` (D, M), ``prefix.b`` (M,)."""

    def __init__(self, params: Params, prefix: str, d_in: int, d_out: int, rng: Rng) -> None:
        super().__init__(params, prefix)
        bound = 1.0 / d_in**0.5
        self.add("W", uniform(rng, (d_in, d_out), bound))
        self.add("b", uniform(rng, (d_out,), bound))

    def forward(self, x: Array) -> tuple[Array, Any]:
        """x (..., D) -> out (..., M), cache."""
        return affine_forward(x, self.p("W"), self.p("b"))

    def backward(self, dout: Array, cache: Any, grads: Grads) -> Array:
        """dout (..., M) -> dx (..., D); adds dW, db into grads."""
        dx, dW, db = affine_backward(dout, cache)
        accumulate(grads, self.key("W"), dW)
        accumulate(grads, self.key("b"), db)
        return dx


class RNN(Module):
    """An LSTM or GRU layer: whole (masked) sequences, or one step at a time.

    LSTM: ``prefix.Wx`` (D, 4H), ``prefix.Wh`` (H, 4H), ``prefix.b`` (4H,); the state is (h, c).
    GRU:  ``prefix.Wx`` (D, 3H), ``prefix.Wh`` (H, 3H), ``prefix.bx``, ``prefix.bh`` (3H,); the
    state is h alone, and every ``c0``, ``c_prev``, ``c_next``, ``cT`` and its gradient below is None.

    A decoder's step input is [y; z]: y (E of the D features) is known for every step before
    the loop, z only at its step. :meth:`project` turns all the y into ay = y @ Wx[:E] + b in
    one product; :meth:`step` then computes the pre-activation z @ Wx[E:] + h_prev @ Wh + ay
    (= x @ Wx + h_prev @ Wh + b) and runs the cell. Set ``known`` (E) to use them.
    """

    def __init__(self, params: Params, prefix: str, cell: str, d_in: int, hidden: int, rng: Rng,
                 known: int = 0) -> None:
        super().__init__(params, prefix)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, not {cell!r}")
        self.cell, self.hidden, self.known = cell, hidden, known
        gates = 4 if cell == "lstm" else 3
        bound = 1.0 / hidden**0.5
        self.add("Wx", uniform(rng, (d_in, gates * hidden), bound))
        self.add("Wh", uniform(rng, (hidden, gates * hidden), bound))
        if cell == "lstm":
            self.add("b", uniform(rng, (gates * hidden,), bound))
        else:
            self.add("bx", uniform(rng, (gates * hidden,), bound))
            self.add("bh", uniform(rng, (gates * hidden,), bound))
        self.bias_names = ("b",) if cell == "lstm" else ("bx", "bh")

    def _weights(self) -> tuple[Array, ...]:
        return (self.p("Wx"), self.p("Wh")) + tuple(self.p(n) for n in self.bias_names)

    def _file(self, grads: Grads, dweights: tuple[Array, ...]) -> None:
        for name, g in zip(("Wx", "Wh") + self.bias_names, dweights, strict=True):
            accumulate(grads, self.key(name), g)

    def forward(self, x: Array, h0: Array, c0: Array | None, mask: Array | None = None) -> tuple:
        """x (N, T, D), h0 (N, H), c0 (N, H) or None, mask (N, T) bool or None.

        Returns hs (N, T, H) (zero rows at padding), hT (N, H), cT (N, H) or None
        (the states after each row's last real step), cache.
        """
        if self.cell == "lstm":
            hs, (hT, cT), cache = lstm_forward(x, h0, c0, *self._weights(), mask=mask)
            return hs, hT, cT, cache
        hs, hT, cache = gru_forward(x, h0, *self._weights(), mask=mask)
        return hs, hT, None, cache

    def backward(self, dhs: Array, dhT: Array | None, dcT: Array | None, cache: Any, grads: Grads) -> tuple:
        """dhs (N, T, H), dhT, dcT (N, H) or None -> dx (N, T, D), dh0 (N, H), dc0 (N, H) or None."""
        if self.cell == "lstm":
            dx, dh0, dc0, *dweights = lstm_backward(dhs, dhT, dcT, cache)
        else:
            dx, dh0, *dweights = gru_backward(dhs, dhT, cache)
            dc0 = None
        self._file(grads, tuple(dweights))
        return dx, dh0, dc0

    # -- a decoder's steps: inputs [y; z] with y known before the loop ----------------------
    def project(self, y: Array) -> tuple[Array, Any]:
        """y (..., E) -> ay = y @ Wx[:E] + b (..., GH) (b is bx for the GRU), cache.

        Structure: a decoder projects all T steps' y with this ONE product before its loop."""
        return affine_forward(y, self.p("Wx")[:self.known], self.p(self.bias_names[0]))

    def step(self, ay: Array, z: Array | None, h_prev: Array, c_prev: Array | None) -> tuple:
        """One step on input [y; z]: ay (N, GH) from :meth:`project`, z (N, D - E) or None (D = E),
        h_prev, c_prev (N, H) -> h_next, c_next (None for GRU), cache (the step op's, with z as its x).

        The step op's pre-activation with the known part y @ Wx[:E] + b replaced by ay, then its cell."""
        xp = array_module(h_prev)
        z = xp.zeros((h_prev.shape[0], 0), dtype=h_prev.dtype) if z is None else z  # no unknown inputs: (N, 0)
        Wz, Wh = self.p("Wx")[self.known:], self.p("Wh")  # (D - E, GH), (H, GH)
        if self.cell == "lstm":
            a = z @ Wz + h_prev @ Wh + ay  # (N, 4H) = [y; z] @ Wx + h_prev @ Wh + b
            h_next, c_next, cell = lstm_cell_forward(a, c_prev)
            return h_next, c_next, LSTMStepCache(z, h_prev, Wz, Wh, cell)
        ax = z @ Wz + ay  # (N, 3H) = [y; z] @ Wx + bx
        ah = h_prev @ Wh + self.p("bh")  # (N, 3H)
        h_next, cell = gru_cell_forward(ax, ah, h_prev)
        return h_next, None, GRUStepCache(z, Wz, Wh, cell)

    def step_backward(self, dh_next: Array, dc_next: Array | None, cache: Any) -> tuple:
        """dh_next, dc_next (N, H) at the step's outputs -> dz (N, D - E), dh_prev (N, H), dc_prev (or None),
        dgates: the step's pre-activation gradients (LSTM da; GRU (dax, dah)) for :meth:`finish`."""
        if self.cell == "lstm":
            return lstm_step_input_backward(dh_next, dc_next, cache)
        dz, dh_prev, dax, dah = gru_step_input_backward(dh_next, cache)
        return dz, dh_prev, None, (dax, dah)

    def finish(self, caches: list, dgates: list, project_cache: Any, grads: Grads) -> Array:
        """After a decoder's reverse loop: every step's cache and dgates, in step order -> dy (T, N, E)
        (the gradient of :meth:`project`'s y); adds all of the layer's gradients.

        Structure: the steps' gradients stacked, so every weight gets ONE product for all steps."""
        xp = array_module(self.p("Wx"))
        Z = xp.stack([cache.x for cache in caches])  # (T, N, D - E)
        if self.cell == "lstm":
            dA = xp.stack(dgates)  # (T, N, 4H)
            dy, dWy, db = affine_backward(dA, project_cache)
            dWz, dWh, _ = lstm_weights_backward(Z, xp.stack([cache.h_prev for cache in caches]), dA)
            self._file(grads, (xp.concatenate([dWy, dWz]), dWh, db))
            return dy
        dAx = xp.stack([dax for dax, _ in dgates])  # (T, N, 3H)
        dAh = xp.stack([dah for _, dah in dgates])  # (T, N, 3H)
        dy, dWy, dbx = affine_backward(dAx, project_cache)
        H_prev = xp.stack([cache.cell.h_prev for cache in caches])  # (T, N, H)
        dWz, dWh, _, dbh = gru_weights_backward(Z, H_prev, dAx, dAh)
        self._file(grads, (xp.concatenate([dWy, dWz]), dWh, dbx, dbh))
        return dy


def reverse_index(mask: Array) -> Array:
    """mask (N, S) bool, each row real positions then padding -> rev (N, S) int.

    rev[n, s] = len_n - 1 - s for a real position s < len_n, and s itself at padding, so
    x[arange(N)[:, None], rev] reverses every sequence within its own length and leaves the
    padding where it is. The map is its own inverse: gathering twice gives x back.
    """
    xp = array_module(mask)
    lengths = mask.sum(axis=1, keepdims=True)  # (N, 1)
    s = xp.arange(mask.shape[1])[None, :]  # (1, S)
    return xp.where(s < lengths, lengths - 1 - s, s)


class EncoderCache(NamedTuple):
    embed: Any  # the embedding cache ((2N, S) ids when bidirectional)
    fwd: Any  # forward RNN cache
    bwd: Any  # backward RNN cache, or None
    rows: Array | None  # (N, 1) arange(N), for the reversing gather
    rev: Array | None  # (N, S) reverse_index(mask)


class Encoder(Module):
    """Embedding + an LSTM or GRU over the padded source, one direction or two.

    K = ``hidden`` is always the size of the outputs (the attention keys). One direction: an RNN
    of size K. Bidirectional: two RNNs of size K/2 (K must be even); the backward one reads each
    sequence reversed within its own length (:func:`reverse_index`) and its outputs are
    un-reversed, so keys[n, s] = [fwd_s; bwd_s] both describe source position s:

        ids  = [src; src[rows, rev]]                        (2N, S), one embedding lookup
        fwd  = RNN_f(emb[:N], mask)        bwd_r = RNN_b(emb[N:], mask)
        keys = [fwd; bwd_r[rows, rev]]                       (N, S, K)
        final_h = [fwd_T; bwd_T]  (N, K)   final_c likewise (LSTM; None for GRU)

    fwd_T is the state after each row's last real token, bwd_T after its first. Parameters:
    ``prefix.embed.W``, ``prefix.fwd.*`` and (bidirectional) ``prefix.bwd.*``.
    """

    def __init__(self, params: Params, prefix: str, cell: str, vocab: int, embed: int, hidden: int,
                 bidirectional: bool, rng: Rng) -> None:
        super().__init__(params, prefix)
        self.bidirectional = bidirectional
        self.per = hidden // 2 if bidirectional else hidden
        self.embed = Embedding(params, f"{prefix}.embed", vocab, embed, rng)
        self.fwd = RNN(params, f"{prefix}.fwd", cell, embed, self.per, rng)
        self.bwd = RNN(params, f"{prefix}.bwd", cell, embed, self.per, rng) if bidirectional else None

    def _zeros(self, N: int) -> tuple[Array, Array | None]:
        W = self.fwd.p("Wh")
        xp = array_module(W)
        h0 = xp.zeros((N, self.per), dtype=W.dtype)
        c0 = xp.zeros((N, self.per), dtype=W.dtype) if self.fwd.cell == "lstm" else None  # its own array
        return h0, c0

    def forward(self, src: Array, mask: Array) -> tuple[Array, Array, Array | None, EncoderCache]:
        """src (N, S) int, mask (N, S) bool -> keys (N, S, K), final_h (N, K), final_c (N, K) or None,
        cache."""
        N = src.shape[0]
        h0, c0 = self._zeros(N)
        if not self.bidirectional:
            emb, ecache = self.embed.forward(src)  # (N, S, E)
            keys, hT, cT, fcache = self.fwd.forward(emb, h0, c0, mask)
            return keys, hT, cT, EncoderCache(ecache, fcache, None, None, None)
        xp = array_module(src)
        rows = xp.arange(N)[:, None]  # (N, 1)
        rev = xp.asarray(reverse_index(mask))  # (N, S), built where the mask is (the host: no launch)
        emb, ecache = self.embed.forward(xp.concatenate([src, src[rows, rev]], axis=0))  # (2N, S, E)
        hs_f, hT_f, cT_f, fcache = self.fwd.forward(emb[:N], h0, c0, mask)
        hs_r, hT_b, cT_b, bcache = self.bwd.forward(emb[N:], *self._zeros(N), mask)  # zeros of its own
        keys = xp.concatenate([hs_f, hs_r[rows, rev]], axis=2)  # (N, S, K)
        final_h = xp.concatenate([hT_f, hT_b], axis=1)  # (N, K)
        final_c = None if cT_f is None else xp.concatenate([cT_f, cT_b], axis=1)
        return keys, final_h, final_c, EncoderCache(ecache, fcache, bcache, rows, rev)

    def backward(self, dkeys: Array, dfinal_h: Array, dfinal_c: Array | None, cache: EncoderCache,
                 grads: Grads) -> None:
        """dkeys (N, S, K), dfinal_h (N, K), dfinal_c (N, K) or None: adds every encoder gradient."""
        if not self.bidirectional:
            dx, _, _ = self.fwd.backward(dkeys, dfinal_h, dfinal_c, cache.fwd, grads)
            self.embed.backward(dx, cache.embed, grads)
            return
        xp = array_module(dkeys)
        P = self.per
        dc_f = None if dfinal_c is None else dfinal_c[:, :P]
        dc_b = None if dfinal_c is None else dfinal_c[:, P:]
        dhs_r = dkeys[:, :, P:][cache.rows, cache.rev]  # (N, S, K/2): the gather is its own inverse
        dx_f, _, _ = self.fwd.backward(dkeys[:, :, :P], dfinal_h[:, :P], dc_f, cache.fwd, grads)
        dx_r, _, _ = self.bwd.backward(dhs_r, dfinal_h[:, P:], dc_b, cache.bwd, grads)
        self.embed.backward(xp.concatenate([dx_f, dx_r], axis=0), cache.embed, grads)  # (2N, S, E)
