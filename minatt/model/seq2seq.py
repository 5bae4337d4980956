"""The attention seq2seq model: configuration, teacher-forced loss with its hand-written gradient, decoding.

Dimensions: N batch, S source steps, T target steps, L decoded steps, E embedding, H hidden,
K key size, A attention size, V vocabulary.

    encoder   keys (N, S, K), final_h, final_c = Encoder(src, src_mask)          (minatt.model.nn)
              or TransformerEncoder: final_h = the mean of the keys, final_c = None (minatt.model.transformer)
    bridge    h0, c0 = final_h, final_c                             (one direction)
              h0 = tanh(final_h Wbh + bbh),  c0 = final_c Wbc + bbc (bidirectional)
              h0 = tanh(final_h Wbh + bbh),  c0 = 0                 (transformer; c0 for LSTM)
    decoder   logits (T, N, V) = Bahdanau- or Luong-style decoder over tgt_in     (minatt.model.decoders)
    loss      mean cross-entropy of logits against tgt_out over the real target tokens

Sizes. The keys always have size K = H, whatever the direction count: one direction runs an
RNN of size H; bidirectional runs two of size H/2 (so ``hidden`` must be even) and
concatenates them. The decoder's hidden size is H too, so every score works unchanged:
dot needs query size == key size, and general/concat/additive weights are (H, H), (2H, A),
(H, A). The cell state is bridged linearly (it is not bounded like h; GRU has none).

Encoder 'transformer' replaces the recurrent encoder by ``layers`` post-norm Transformer encoder
layers of model size K = H (``heads`` heads, feed-forward size ``ff``, 4H by default) over the
source embeddings (size H; ``embed`` sizes the decoder's) plus sinusoidal positions; the decoder
is unchanged, so the comparison isolates the encoder.

Score 'none' is the plain encoder-decoder baseline of Cho et al. (2014): no attention; the
context c_t is the encoder's final state final_h (N, K) = [fwd_T; bwd_T], the SAME vector at
every step, used exactly where the attention context would be (Bahdanau: cell input and
output layer; Luong: the combine layer), on top of initialising the decoder from it. Its
attention maps are reported as zeros.

Backward, in reverse: cross-entropy -> output matmul -> decoder steps (reverse time) -> the
per-step key gradients summed once -> scorer's key projection (once) -> bridge -> encoder
(both directions) -> embeddings. Decoding (greedy, beam) is in :mod:`minatt.model.search`.

Checks. ``loss``, ``loss_and_grads``, ``greedy`` and ``beam`` validate the batch once, here,
and run everything below with the ops' contract checks off (:func:`minatt.validate.unchecked`).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, NamedTuple

from minatt.backend import array_module, asarray, host_rng
from minatt.errors import ConfigError, ShapeError
from minatt.model.decoders import Memory, make_decoder
from minatt.model.nn import Encoder, Linear
from minatt.model.search import Decoded, beam_search, greedy_search
from minatt.model.transformer import TransformerEncoder
from minatt.ops.activations import tanh_backward
from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward
from minatt.specs import Signature, parse_spec
from minatt.validate import unchecked

Array = Any

__all__ = ["CELLS", "DECODERS", "ENCODERS", "SCORES", "SCORE_ALIASES", "Decoded", "Seq2Seq", "Seq2SeqConfig"]

CELLS = ("lstm", "gru")
SCORES = ("additive", "bahdanau", "dot", "scaled_dot", "general", "concat", "none")
SCORE_ALIASES = {"bahdanau": "additive"}
DECODERS = ("bahdanau", "luong")
ENCODERS = ("rnn", "transformer")


def _is_int(value: Any) -> bool:
    """An integer (Python or NumPy), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass
class Seq2SeqConfig:
    """Everything that fixes the model's shape. ``input_feeding`` applies to the Luong decoder only.

    score: 'additive' (alias 'bahdanau'), 'dot', 'scaled_dot', 'general', 'concat' or 'none' (no attention);
    attn_dim: A for additive/concat (None -> hidden). encoder: 'rnn' (the cell) or 'transformer'
    (``layers`` layers of ``heads`` heads dividing ``hidden``, feed-forward size ``ff``, None -> 4 *
    hidden; these three are ignored by 'rnn'). The vocabulary sizes may stay None until a task
    fills them in (a :class:`minatt.train.TrainConfig` holds such a config); :class:`Seq2Seq`
    needs them. Invalid values raise ConfigError.
    """

    src_vocab: int | None = None
    tgt_vocab: int | None = None
    embed: int = 32
    hidden: int = 64
    cell: str = "lstm"
    score: str = "additive"
    decoder: str = "bahdanau"
    bidirectional: bool = False
    input_feeding: bool = True
    attn_dim: int | None = None
    encoder: str = "rnn"
    layers: int = 2
    heads: int = 4
    ff: int | None = None
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2

    def __post_init__(self) -> None:
        sizes = ["embed", "hidden", "layers", "heads"]
        sizes += [name for name in ("src_vocab", "tgt_vocab", "attn_dim", "ff") if getattr(self, name) is not None]
        for name in sizes:
            value = getattr(self, name)
            if not _is_int(value) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
            setattr(self, name, int(value))  # numpy integers -> int (JSON-able)
        for name, valid in (("cell", CELLS), ("score", SCORES), ("decoder", DECODERS), ("encoder", ENCODERS)):
            if getattr(self, name) not in valid:
                raise ConfigError(f"unknown {name} {getattr(self, name)!r}: choose one of {', '.join(valid)}")
        for name in ("bidirectional", "input_feeding"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.bidirectional and self.hidden % 2:
            raise ConfigError(
                f"hidden must be even when bidirectional (each direction gets hidden/2), got {self.hidden}")
        if self.encoder == "transformer":
            if self.bidirectional:
                raise ConfigError("bidirectional applies to the rnn encoder: a transformer encoder's "
                                  "self-attention already reads both directions")
            if self.hidden % self.heads:
                raise ConfigError(f"heads must divide hidden (each head gets hidden/heads features), "
                                  f"got heads={self.heads}, hidden={self.hidden}")
        ids = {"pad_id": self.pad_id, "bos_id": self.bos_id, "eos_id": self.eos_id}
        smallest = min((v for v in (self.src_vocab, self.tgt_vocab) if v is not None), default=None)
        for name, value in ids.items():
            if not _is_int(value) or value < 0 or (smallest is not None and value >= smallest):
                raise ConfigError(
                    f"{name} must be an integer in [0, {smallest}) (both vocabularies), got {value!r}")
            setattr(self, name, int(value))
        if len(set(ids.values())) < 3:
            raise ConfigError(f"pad_id, bos_id and eos_id must differ, got {ids}")

    @property
    def score_kind(self) -> str:
        """The canonical score name ('bahdanau' -> 'additive')."""
        return SCORE_ALIASES.get(self.score, self.score)

    @property
    def ff_size(self) -> int:
        """F: ff, or 4 * hidden when unset (the transformer encoder's feed-forward size)."""
        return self.ff if self.ff is not None else 4 * self.hidden

    @property
    def attention_size(self) -> int:
        """A: attn_dim, or hidden when unset."""
        return self.attn_dim if self.attn_dim is not None else self.hidden

    def to_dict(self) -> dict:
        """A plain JSON-able dict; ``from_dict(to_dict())`` gives an equal config."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Seq2SeqConfig:
        """The inverse of :meth:`to_dict`; unknown or missing keys raise ConfigError."""
        fields = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise ConfigError(f"unknown model setting(s) {', '.join(unknown)}; valid: {', '.join(fields)}")
        return cls(**d)


class EncodeCache(NamedTuple):
    encoder: Any  # EncoderCache
    prepare: Any  # Scorer.prepare cache, or None
    bridge_h: Any  # Linear cache (bidirectional) or None
    bridge_c: Any  # Linear cache (bidirectional LSTM) or None
    h0: Array  # (N, H) the decoder's initial h (after the tanh when bridged)
    keys_shape: tuple  # (N, S, K)


class LossCache(NamedTuple):
    encode: EncodeCache
    decoder: Any  # DecoderCache
    loss: Any  # CrossEntropyCache


class Seq2Seq:
    """An attention encoder-decoder whose every gradient is written by hand (see the module docstring).

    ``params`` maps names to arrays on the current backend in the default dtype; an optimiser
    updates them in place. Names: ``enc.embed.W``, ``enc.fwd.*``, ``enc.bwd.*`` (bidirectional),
    ``bridge.h.W``/``.b`` and ``bridge.c.W``/``.b`` (bidirectional; c for LSTM; transformer: h only),
    ``enc.layer{l}.*`` (transformer: Wq ... ln2_b, see minatt.model.transformer), ``dec.embed.W``,
    ``dec.rnn.*``, ``dec.attn.*`` (per score), ``dec.combine.W``/``.b`` (Luong), ``dec.out.W``/``.b``.
    RNN parameters: LSTM ``Wx, Wh, b``; GRU ``Wx, Wh, bx, bh``.
    """

    def __init__(self, config: Seq2SeqConfig, seed: int = 0) -> None:
        if not isinstance(config, Seq2SeqConfig):
            raise ConfigError(
                f"Seq2Seq needs a Seq2SeqConfig (or Seq2SeqConfig.from_dict(d)), got {type(config).__name__}")
        missing = [name for name in ("src_vocab", "tgt_vocab") if getattr(config, name) is None]
        if missing:
            raise ConfigError(f"Seq2Seq needs {' and '.join(missing)}: set them to the vocabulary sizes")
        self.config = config
        cfg = config
        rng = host_rng(seed)
        self.params: dict[str, Array] = {}
        H = cfg.hidden
        if cfg.encoder == "transformer":
            self.encoder = TransformerEncoder(self.params, "enc", cfg.src_vocab, H, cfg.layers, cfg.heads,
                                              cfg.ff_size, rng)
        else:
            self.encoder = Encoder(self.params, "enc", cfg.cell, cfg.src_vocab, cfg.embed, H, cfg.bidirectional,
                                   rng)
        self.bridge_h = self.bridge_c = None
        if cfg.encoder == "transformer":
            self.bridge_h = Linear(self.params, "bridge.h", H, H, rng)
        elif cfg.bidirectional:
            self.bridge_h = Linear(self.params, "bridge.h", H, H, rng)
            if cfg.cell == "lstm":
                self.bridge_c = Linear(self.params, "bridge.c", H, H, rng)
        self.decoder = make_decoder(cfg.decoder, self.params, cfg.cell, cfg.tgt_vocab, cfg.embed, H, H,
                                    cfg.score_kind, cfg.attention_size, rng, cfg.input_feeding)

    @property
    def dtype(self) -> Any:
        """The parameters' (and so the activations') float dtype."""
        return self.params["dec.out.W"].dtype

    def num_params(self) -> int:
        """The number of scalar parameters."""
        return sum(int(p.size) for p in self.params.values())

    # -- encoder + bridge ----------------------------------------------------------------
    def encode(self, src: Array, src_mask: Array) -> tuple[Memory, Array, Array | None, EncodeCache]:
        """src (N, S) on the backend, src_mask (N, S) bool on the host or the backend -> Memory,
        h0 (N, H), c0 (N, H) or None, cache.

        A recurrent encoder takes the mask as it came: from the host, its steps' padding flags cost
        nothing and unpadded steps skip the masking (minatt.ops.masks.padded_steps). Attention and the
        Transformer read it on the device."""
        device_mask = array_module(src).asarray(src_mask, dtype=bool)  # (N, S)
        steps_mask = src_mask if isinstance(self.encoder, Encoder) else device_mask
        keys, final_h, final_c, enc_cache = self.encoder.forward(src, steps_mask)
        h0, c0, bh_cache, bc_cache = final_h, final_c, None, None
        if self.bridge_h is not None:
            pre, bh_cache = self.bridge_h.forward(final_h)
            h0 = array_module(pre).tanh(pre)
            if self.bridge_c is not None:
                c0, bc_cache = self.bridge_c.forward(final_c)
        if c0 is None and self.config.cell == "lstm":  # a transformer encoder has no cell state
            c0 = array_module(h0).zeros_like(h0)
        scorer = self.decoder.scorer
        prepared, prep_cache = scorer.prepare(keys) if scorer is not None else (None, None)
        fixed = final_h if scorer is None else None
        mem = Memory(keys, device_mask, prepared, fixed)
        return mem, h0, c0, EncodeCache(enc_cache, prep_cache, bh_cache, bc_cache, h0, tuple(keys.shape))

    def _encode_backward(self, mg, dh0: Array, dc0: Array | None, cache: EncodeCache, grads: dict) -> None:
        xp = array_module(dh0)
        scorer = self.decoder.scorer
        if scorer is None:
            dkeys = xp.zeros(cache.keys_shape, dtype=dh0.dtype)  # no attention: the keys get no gradient
        else:
            dkeys = mg.keys + scorer.prepare_backward(mg.prepared, cache.prepare, grads)  # (N, S, K)
        dfinal_h, dfinal_c = dh0, dc0
        if self.bridge_h is not None:
            dfinal_h = self.bridge_h.backward(tanh_backward(dh0, cache.h0), cache.bridge_h, grads)
            if self.bridge_c is not None:
                dfinal_c = self.bridge_c.backward(dc0, cache.bridge_c, grads)
        if mg.fixed is not None:
            dfinal_h = dfinal_h + mg.fixed  # score 'none': the fixed context is final_h
        self.encoder.backward(dkeys, dfinal_h, dfinal_c, cache.encoder, grads)

    # -- training ------------------------------------------------------------------------
    def _forward(self, batch: Any) -> tuple[Array, LossCache]:
        src, src_mask, tgt_in, tgt_out, tgt_mask = self._device_batch(batch)
        xp = array_module(src)
        mem, h0, c0, enc_cache = self.encode(src, src_mask)
        logits, dec_cache = self.decoder.forward(tgt_in, mem, h0, c0)  # (T, N, V)
        pad = self.config.pad_id
        targets = xp.where(tgt_mask, tgt_out, pad).T  # (T, N) time-major like the logits
        loss, loss_cache = cross_entropy_forward(logits, targets, ignore_index=pad)
        return loss, LossCache(enc_cache, dec_cache, loss_cache)

    @unchecked()
    def loss(self, batch: Any) -> Array:
        """Mean cross-entropy per real target token (tgt_mask True) of a Batch, teacher forced: a 0-d
        array on the model's device (``float(loss)`` reads it; on a GPU that waits for the GPU)."""
        return self._forward(batch)[0]

    def check_batch(self, batch: Any) -> None:
        """Raise the ShapeError that loss_and_grads would raise for ``batch``, or return None."""
        self._device_batch(batch)

    @unchecked()
    def loss_and_grads(self, batch: Any) -> tuple[Array, dict[str, Array]]:
        """The loss (0-d, on the device: nothing is read back to the host) and d loss / d params
        (a dict keyed and ordered like ``params``)."""
        loss, cache = self._forward(batch)
        grads: dict[str, Array] = {}
        dlogits = cross_entropy_backward(cache.loss)  # (T, N, V)
        mg, dh0, dc0 = self.decoder.backward(dlogits, cache.decoder, grads)
        self._encode_backward(mg, dh0, dc0, cache.encode, grads)
        return loss, {name: grads[name] for name in self.params}

    # -- decoding ------------------------------------------------------------------------
    @unchecked()
    def greedy(self, src: Any, src_mask: Any, max_len: int) -> Decoded:
        """Greedy decoding of up to max_len tokens (see :func:`minatt.model.search.greedy_search`)."""
        max_len = _positive("max_len", max_len)
        src, src_mask = self._device_source(src, src_mask)
        mem, h0, c0, _ = self.encode(src, src_mask)
        return greedy_search(self.decoder, mem, h0, c0, max_len, self.config)

    @unchecked()
    def beam(self, src: Any, src_mask: Any, max_len: int, k: int) -> Decoded:
        """Beam search with k beams per sequence (see :func:`minatt.model.search.beam_search`)."""
        max_len, k = _positive("max_len", max_len), _positive("k", k)
        src, src_mask = self._device_source(src, src_mask)
        mem, h0, c0, _ = self.encode(src, src_mask)
        return beam_search(self.decoder, mem, h0, c0, max_len, k, self.config)

    # -- validation at the boundary ------------------------------------------------------
    def _signature(self) -> Signature:
        """The checks of one batch (the ops' machinery, minatt.specs), with the vocabularies bound."""
        sig = Signature("Seq2Seq")
        sig.bind("Vs", self.config.src_vocab, "config.src_vocab")
        sig.bind("Vt", self.config.tgt_vocab, "config.tgt_vocab")
        return sig

    def _device_source(self, src: Any, src_mask: Any, sig: Signature | None = None) -> tuple[Array, Array]:
        _check(sig or self._signature(), SOURCE, {"src": src, "src_mask": src_mask})
        if src_mask.shape[1] > 1 and bool((src_mask[:, 1:] & ~src_mask[:, :-1]).any()):
            raise ShapeError("Seq2Seq: src_mask: expected each row to be True on the real tokens then False on the "
                             "padding (right-padded), got a True after a False")
        empty = (~src_mask[:, 0]).nonzero()[0]  # right-padded, so column 0 False = an empty row
        if len(empty):
            raise ShapeError(f"Seq2Seq: src_mask: row {int(empty[0])} has no real token (a zero-length source): "
                             "every source needs at least one token")
        return asarray(src, dtype="int64"), src_mask  # the mask stays on the host: see encode

    def _device_batch(self, batch: Any) -> tuple[Array, ...]:
        names = ("src", "src_mask", "tgt_in", "tgt_out", "tgt_mask")
        if not all(hasattr(batch, n) for n in names):
            raise ShapeError(f"Seq2Seq: batch: expected a minatt.tasks.Batch with fields {', '.join(names)}, "
                             f"got {type(batch).__name__}")
        sig = self._signature()
        src, src_mask = self._device_source(batch.src, batch.src_mask, sig)
        _check(sig, TARGET, {name: getattr(batch, name) for name in TARGET})
        return (src, src_mask, asarray(batch.tgt_in, dtype="int64"), asarray(batch.tgt_out, dtype="int64"),
                asarray(batch.tgt_mask, dtype=bool))


# A batch's contract, in the ops' spec language (minatt.validate), checked once per batch.
SOURCE = {"src": parse_spec("N S int<Vs"), "src_mask": parse_spec("N S bool")}
TARGET = {"tgt_in": parse_spec("N T int<Vt"), "tgt_out": parse_spec("N T int<Vt"), "tgt_mask": parse_spec("N T bool")}


def _check(sig: Signature, specs: dict, arrays: dict[str, Any]) -> None:
    for name, spec in specs.items():
        sig.check(name, arrays[name], spec, arrays)


def _positive(name: str, value: Any) -> int:
    if not _is_int(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
