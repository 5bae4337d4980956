"""The two attention decoders, one step at a time, and the teacher-forced loop over all steps.

Dimensions: N batch, S source steps, T target steps, E target embedding, H decoder hidden,
K key size (the encoder outputs; K = H in minatt.model.seq2seq), V target vocabulary.
``y_emb`` is the embedding of the previous target token y_{t-1}; the state is (s or h, c) with
c the LSTM cell (None for GRU). With score 'none' there is no attention: the context is the
same fixed vector every step (``Memory.fixed``, the encoder's final state; Cho et al. 2014).

Bahdanau-style (Bahdanau et al. 2015): attend from the PREVIOUS state, then step the cell.

    e_t   = score(s_{t-1}, keys);   a_t = softmax(e_t, mask);   c_t = a_t @ keys
    s_t   = cell([y_emb; c_t], s_{t-1})
    o_t   = [s_t; c_t]                                              (N, H + K)

Luong-style (Luong et al. 2015): step the cell first, attend from the NEW state.

    h_t   = cell([y_emb; h~_{t-1}], h_{t-1})      (h~_0 = 0; without input feeding: cell(y_emb, h_{t-1}))
    e_t   = score(h_t, keys);   a_t = softmax(e_t, mask);   c_t = a_t @ keys
    h~_t  = tanh([c_t; h_t] Wc + bc)                                (N, H)
    o_t   = h~_t

Both: logits_t = o_t W_out + b_out (N, V).

The plain step functions (:mod:`minatt.model.plain_steps`) are one step in one function each,
the form chapter 8 teaches. The classes here compute the same step,
restructured for speed: under teacher forcing :meth:`Decoder.forward` embeds every y_{t-1} in one
lookup and projects it into the cell's gates in one product before the loop (``ay``,
:meth:`minatt.model.nn.RNN.project`), runs the loop time-major, and maps every o_t to the vocabulary in
ONE matmul after it. Backward runs the steps in reverse; the cell's weight gradients wait for
:meth:`minatt.model.nn.RNN.finish` after the loop, and the keys' gradients (as values, dvalues, and as
scored keys) are SUMMED over steps in :class:`MemoryGrads`, which the caller backpropagates
through the encoder once.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minatt.backend import array_module
from minatt.model.nn import RNN, Embedding, Grads, Linear, Params, Rng
from minatt.model.scorer import Scorer
from minatt.ops.activations import tanh_backward
from minatt.ops.attention import attention_forward, attention_scores_backward

Array = Any

__all__ = ["BahdanauDecoder", "DecState", "Decoder", "LuongDecoder", "Memory", "MemoryGrads", "make_decoder"]


class DecState(NamedTuple):
    """The decoder's recurrent state between two steps (or, in backward, its gradient): step t
    returns it as its next state and step t + 1 takes it as its previous one, so a step unpacks it
    as ``h_prev, c_prev, feed_prev`` and its backward as ``dh_next, dc_next, dfeed_next``."""

    hidden: Array  # (N, H) s_t (Bahdanau) or h_t (Luong)
    cell_state: Array | None  # (N, H) the LSTM's c_t; None for GRU
    feed: Array | None  # (N, H) Luong's h~_t when input feeding; otherwise None


class Memory(NamedTuple):
    """What the decoder attends to, computed once per batch by the encoder."""

    keys: Array  # (N, S, K) encoder outputs (also the attention values)
    mask: Array  # (N, S) bool, True = real source token
    prepared: Array | None  # Scorer.prepare(keys); None for score 'none'
    fixed: Array | None  # (N, K) the fixed context of score 'none'; None otherwise


class MemoryGrads:
    """Gradients of the Memory fields, summed over decoder steps (None until a step adds one).

    The keys' gradient as attention values, sum_t weights_t[:, :, None] * dcontext_t[:, None, :],
    is not built step by step: :meth:`add_values` keeps each step's weights (N, S) and dcontext
    (N, K), and :meth:`finish` sums them in ONE batched matmul, (N, S, T) @ (N, T, K).
    """

    def __init__(self) -> None:
        self.keys: Array | None = None
        self.prepared: Array | None = None
        self.fixed: Array | None = None
        self._weights: list = []
        self._dcontexts: list = []

    def add_values(self, weights: Array, dcontext: Array) -> None:
        """One step's attention weights (N, S) and context gradient (N, K)."""
        self._weights.append(weights)
        self._dcontexts.append(dcontext)

    def finish(self) -> None:
        """Add the summed value gradient into ``keys``."""
        if not self._weights:
            return
        xp = array_module(self._weights[0])
        W = xp.stack(self._weights, axis=2)  # (N, S, T)
        dC = xp.stack(self._dcontexts, axis=1)  # (N, T, K)
        self.add("keys", xp.matmul(W, dC))  # (N, S, K)
        self._weights, self._dcontexts = [], []

    def add(self, field: str, g: Array) -> None:
        """``self.<field> += g``; the first gradient is copied, so later in-place adds leave g alone."""
        total = getattr(self, field)
        if total is None:
            setattr(self, field, g.copy())
        else:
            total += g


class AttendCache(NamedTuple):
    score: Any  # Scorer.score cache
    attention: Any  # attention_forward cache


class BahdanauStep(NamedTuple):
    attend: AttendCache | None  # None for score 'none'
    rnn: Any  # RNN.step cache


class LuongStep(NamedTuple):
    rnn: Any  # RNN.step cache
    attend: AttendCache | None  # None for score 'none'
    combine: Any  # Linear cache of [c_t; h_t] Wc + bc
    ht: Array  # (N, H) h~_t = tanh(...)


class DecoderCache(NamedTuple):
    embed: Any  # the (T, N) target-id lookup
    project: Any  # RNN.project cache of ay (T, N, GH)
    steps: list  # one BahdanauStep / LuongStep per step
    out: Any  # Linear cache of the output projection over (T, N, out_dim)


class Decoder:
    """The parts both decoders share: target embedding, scorer, output layer, the loops.

    Parameters: ``dec.embed.W`` (V, E), ``dec.rnn.*``, ``dec.attn.*`` (unless score 'none'),
    ``dec.out.W`` (out_dim, V), ``dec.out.b`` (V,); Luong adds ``dec.combine.W`` (K + H, H),
    ``dec.combine.b`` (H,).
    """

    out_dim: int
    input_feeding = False

    def __init__(self, params: Params, cell: str, vocab: int, embed: int, hidden: int, key_size: int,
                 score: str, attn_dim: int, rng: Rng, rnn_extra: int) -> None:
        self.E, self.H, self.K, self.rnn_extra = embed, hidden, key_size, rnn_extra
        self.embed = Embedding(params, "dec.embed", vocab, embed, rng)
        self.rnn = RNN(params, "dec.rnn", cell, embed + rnn_extra, hidden, rng, known=embed)
        self.scorer = None
        if score != "none":
            self.scorer = Scorer(params, "dec.attn", score, hidden, key_size, attn_dim, rng)

    def _make_tail(self, params: Params, vocab: int, rng: Rng) -> None:
        self.out = Linear(params, "dec.out", self.out_dim, vocab, rng)

    # -- attention -------------------------------------------------------------------------
    def attend(self, q: Array, mem: Memory) -> tuple[Array, Array | None, AttendCache | None]:
        """q (N, H) -> context (N, K), weights (N, S) (None for 'none'), cache."""
        if self.scorer is None:
            return mem.fixed, None, None
        scores, score_cache = self.scorer.score(q, mem.prepared)  # (N, S)
        context, weights, attention_cache = attention_forward(scores, mem.keys, mem.mask)
        return context, weights, AttendCache(score_cache, attention_cache)

    def attend_backward(self, dcontext: Array, cache: AttendCache | None, mg: MemoryGrads,
                        grads: Grads) -> Array | None:
        """dcontext (N, K) -> dq (N, H) (None for 'none'); files dkeys / dprepared / dfixed in mg."""
        if cache is None:
            mg.add("fixed", dcontext)
            return None
        dscores = attention_scores_backward(dcontext, None, cache.attention)  # dvalues: see MemoryGrads
        mg.add_values(cache.attention.softmax.p, dcontext)
        dq, dprepared = self.scorer.score_backward(dscores, cache.score, grads)
        mg.add("prepared", dprepared)
        return dq

    # -- the loops ---------------------------------------------------------------------------
    def initial_state(self, h0: Array, c0: Array | None) -> DecState:
        """The state before step 1: the encoder's (bridged) final state; h~_0 = 0 when feeding."""
        feed = array_module(h0).zeros_like(h0) if self.input_feeding else None
        return DecState(h0, c0, feed)

    def forward(self, tgt_in: Array, mem: Memory, h0: Array, c0: Array | None) -> tuple[Array, DecoderCache]:
        """Teacher forcing. tgt_in (N, T) int (BOS + target) -> logits (T, N, V) TIME-MAJOR, cache."""
        xp = array_module(h0)
        emb, embed_cache = self.embed.forward(tgt_in.T)  # (T, N, E)
        T, N = emb.shape[:2]
        ay, project_cache = self.rnn.project(emb)  # (T, N, GH): every y_{t-1} in ONE product
        outs = xp.empty((T, N, self.out_dim), dtype=emb.dtype)  # every o_t, for one output matmul
        state, steps = self.initial_state(h0, c0), []
        for t in range(T):
            state, outs[t], _, step_cache = self.step(ay[t], state, mem)
            steps.append(step_cache)
        logits, out_cache = self.out.forward(outs)  # (T, N, V)
        return logits, DecoderCache(embed_cache, project_cache, steps, out_cache)

    def backward(self, dlogits: Array, cache: DecoderCache,
                 grads: Grads) -> tuple[MemoryGrads, Array, Array | None]:
        """dlogits (T, N, V) -> (memory gradients, dh0 (N, H), dc0 (N, H) or None); adds decoder grads."""
        xp = array_module(dlogits)
        douts = self.out.backward(dlogits, cache.out, grads)  # (T, N, out_dim)
        T, N = douts.shape[:2]

        def zeros() -> Array:
            return xp.zeros((N, self.H), dtype=douts.dtype)  # a new array for every role

        dstate = DecState(zeros(), zeros() if self.rnn.cell == "lstm" else None,
                          zeros() if self.input_feeding else None)
        mg = MemoryGrads()
        dgates = [None] * T  # each step's pre-activation gradients, for RNN.finish
        for t in range(T - 1, -1, -1):
            dstate, dgates[t] = self.step_backward(douts[t], dstate, cache.steps[t], mg, grads)
        mg.finish()
        rnn_caches = [step.rnn for step in cache.steps]
        dy_emb = self.rnn.finish(rnn_caches, dgates, cache.project, grads)  # (T, N, E)
        self.embed.backward(dy_emb, cache.embed, grads)
        return mg, dstate.hidden, dstate.cell_state

    def logits(self, o: Array) -> Array:
        """One step's output o (N, out_dim) -> logits (N, V) (inference; no cache kept)."""
        return self.out.forward(o)[0]

    def step(self, ay: Array, state: DecState, mem: Memory) -> tuple:
        """ay (N, GH) = self.rnn.project(y_emb), state -> (next state, o_t (N, out_dim),
        weights (N, S) or None, cache)."""
        raise NotImplementedError

    def step_backward(self, do: Array, dstate: DecState, cache: Any, mg: MemoryGrads,
                      grads: Grads) -> tuple[DecState, Array]:
        """do (N, out_dim), dstate (gradient at the next state) -> (the gradient at the state,
        the step's pre-activation gradients: see RNN.step_backward)."""
        raise NotImplementedError


class BahdanauDecoder(Decoder):
    """Attend from s_{t-1}, feed [y_emb; c_t] to the cell, output o_t = [s_t; c_t] (see module docstring)."""

    def __init__(self, params: Params, cell: str, vocab: int, embed: int, hidden: int, key_size: int,
                 score: str, attn_dim: int, rng: Rng) -> None:
        super().__init__(params, cell, vocab, embed, hidden, key_size, score, attn_dim, rng,
                         rnn_extra=key_size)
        self.out_dim = hidden + key_size
        self._make_tail(params, vocab, rng)

    def step(self, ay: Array, state: DecState, mem: Memory) -> tuple:
        xp = array_module(ay)
        s_prev, c_prev, _ = state
        context, weights, attend_cache = self.attend(s_prev, mem)  # (N, K); the query is s_prev
        s_next, c_next, rnn_cache = self.rnn.step(ay, context, s_prev, c_prev)  # input [y_emb; context]
        o = xp.concatenate([s_next, context], axis=1)  # (N, H + K)
        return DecState(s_next, c_next, None), o, weights, BahdanauStep(attend_cache, rnn_cache)

    def step_backward(self, do: Array, dstate: DecState, cache: BahdanauStep, mg: MemoryGrads,
                      grads: Grads) -> tuple[DecState, Array]:
        H = self.H
        ds_next, dc_next, _ = dstate
        dz, ds_prev, dc_prev, dgates = self.rnn.step_backward(ds_next + do[:, :H], dc_next, cache.rnn)
        dcontext = do[:, H:] + dz  # the context fed o and the cell's input
        dq = self.attend_backward(dcontext, cache.attend, mg, grads)  # files the keys' gradients in mg
        if dq is not None:
            ds_prev = ds_prev + dq  # s_prev was the cell's previous state and the query
        return DecState(ds_prev, dc_prev, None), dgates


class LuongDecoder(Decoder):
    """Step the cell, attend from h_t, output h~_t = tanh([c_t; h_t] Wc + bc) (see module docstring)."""

    def __init__(self, params: Params, cell: str, vocab: int, embed: int, hidden: int, key_size: int,
                 score: str, attn_dim: int, rng: Rng, input_feeding: bool = True) -> None:
        self.input_feeding = input_feeding
        super().__init__(params, cell, vocab, embed, hidden, key_size, score, attn_dim, rng,
                         rnn_extra=hidden if input_feeding else 0)
        self.combine = Linear(params, "dec.combine", key_size + hidden, hidden, rng)
        self.out_dim = hidden
        self._make_tail(params, vocab, rng)

    def step(self, ay: Array, state: DecState, mem: Memory) -> tuple:
        xp = array_module(ay)
        h_prev, c_prev, feed_prev = state
        h_next, c_next, rnn_cache = self.rnn.step(ay, feed_prev, h_prev, c_prev)  # input [y_emb; h~_{t-1}] or y_emb
        context, weights, attend_cache = self.attend(h_next, mem)  # (N, K)
        pre, combine_cache = self.combine.forward(xp.concatenate([context, h_next], axis=1))  # (N, H)
        ht = xp.tanh(pre)  # h~_t
        new_state = DecState(h_next, c_next, ht if self.input_feeding else None)
        return new_state, ht, weights, LuongStep(rnn_cache, attend_cache, combine_cache, ht)

    def step_backward(self, do: Array, dstate: DecState, cache: LuongStep, mg: MemoryGrads,
                      grads: Grads) -> tuple[DecState, Array]:
        K = self.K
        dh_next, dc_next, dfeed_next = dstate
        dht = do + dfeed_next if self.input_feeding else do  # h~_t is the output and the next input
        dcat = self.combine.backward(tanh_backward(dht, cache.ht), cache.combine, grads)  # (N, K + H)
        dh_total = dh_next + dcat[:, K:]
        dq = self.attend_backward(dcat[:, :K], cache.attend, mg, grads)  # files the keys' gradients in mg
        if dq is not None:
            dh_total = dh_total + dq  # h_next was also the query
        dfeed_prev, dh_prev, dc_prev, dgates = self.rnn.step_backward(dh_total, dc_next, cache.rnn)  # d h~_{t-1}
        return DecState(dh_prev, dc_prev, dfeed_prev if self.input_feeding else None), dgates


def make_decoder(kind: str, params: Params, cell: str, vocab: int, embed: int, hidden: int, key_size: int,
                 score: str, attn_dim: int, rng: Rng, input_feeding: bool = True) -> Decoder:
    """A BahdanauDecoder (kind 'bahdanau') or LuongDecoder (kind 'luong').

    score is a canonical name ('additive', not its alias 'bahdanau').
    """
    if kind == "bahdanau":
        return BahdanauDecoder(params, cell, vocab, embed, hidden, key_size, score, attn_dim, rng)
    if kind == "luong":
        return LuongDecoder(params, cell, vocab, embed, hidden, key_size, score, attn_dim, rng, input_feeding)
    raise ValueError(f"decoder must be 'bahdanau' or 'luong', not {kind!r}")
