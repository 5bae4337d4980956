"""The PyTorch twin of :class:`minatt.model.seq2seq.Seq2Seq`, for ``python -m minatt bench --vs-torch``.

Host-side benchmark code, not a math module: it imports torch (an optional extra) lazily,
when a twin is built. The twin is the SAME model written the way a PyTorch user would:

    encoder   nn.Embedding + nn.LSTM / nn.GRU (batch_first; packed when a source row is padded)
    keys      prepared once per batch, as minatt does (additive: keys @ Wk; general: keys @ Wa^T)
    decoder   nn.Embedding + an nn.LSTMCell / nn.GRUCell loop over the T target steps, the same
              Bahdanau (attend from s_{t-1}) or Luong (attend from h_t, combine, input feeding) step
    attention masked softmax (masked_fill -inf) over the source, context = weights @ keys
    loss      F.cross_entropy over (T*N, V), padding ignored, mean over the real tokens
    step      loss.backward(); clip_grad_norm_ (global norm); torch.optim.Adam; all float32

Parameter count. minatt's LSTM has ONE bias b (4H,); PyTorch's LSTM and LSTMCell have two,
bias_ih and bias_hh. The twin keeps bias_ih (= b) and freezes bias_hh at zero
(``requires_grad=False``), so the TRAINABLE parameters (what Adam updates, what clipping
measures, what :func:`trainable_count` counts) are exactly minatt's, one for one; the frozen
bias adds only a (N, 4H) addition per step, no matrix product. GRU biases match already
(bx = bias_ih, bh = bias_hh). Bidirectional encoders are not mirrored (the bench does not use them).

Weights are copied across with :func:`copy_weights` (minatt -> torch; PyTorch stores
nn.Linear / RNN weights transposed, (out, in)). A source row with no real token at all is not
supported (masked_fill + softmax would give NaN there; minatt gives zeros): batches never have one.
"""

from __future__ import annotations

from typing import Any

from minatt.backend import to_numpy
from minatt.errors import ConfigError

__all__ = ["TorchTrainer", "build_twin", "copy_weights", "import_torch", "trainable_count"]


def import_torch() -> Any:
    """``import torch``, or a ConfigError saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ConfigError("--vs-torch needs PyTorch: pip install 'minatt[torch]' (or pip install torch)") from None
    return torch


def build_twin(config: Any, device: str = "cpu", dtype: str = "float32") -> Any:
    """A torch.nn.Module computing :class:`Seq2Seq` ``config``'s loss; see the module docstring."""
    torch = import_torch()
    nn, F = torch.nn, torch.nn.functional
    if config.bidirectional:
        raise ConfigError("the PyTorch twin mirrors one-direction encoders only (no --bidirectional)")
    if config.encoder != "rnn":
        raise ConfigError("the PyTorch twin mirrors recurrent encoders only: drop --vs-torch for --encoder "
                          f"{config.encoder}")
    cell, score, decoder = config.cell, config.score_kind, config.decoder
    E, H, K, A = config.embed, config.hidden, config.hidden, config.attention_size
    feeding = decoder == "luong" and config.input_feeding
    d_in = E + (K if decoder == "bahdanau" else (H if feeding else 0))

    def param(*shape: int) -> Any:
        return nn.Parameter(torch.zeros(*shape))

    class Twin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc_embed = nn.Embedding(config.src_vocab, E)
            self.enc_rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(E, H, batch_first=True)
            self.dec_embed = nn.Embedding(config.tgt_vocab, E)
            self.dec_cell = (nn.LSTMCell if cell == "lstm" else nn.GRUCell)(d_in, H)
            if cell == "lstm":  # one trainable bias, as minatt (see the module docstring)
                for b in (self.enc_rnn.bias_hh_l0, self.dec_cell.bias_hh):
                    b.requires_grad_(False)
                    b.data.zero_()
            if score == "additive":
                self.Wq, self.Wk, self.v = param(H, A), param(K, A), param(A)
            elif score == "general":
                self.Wa = param(H, K)
            elif score == "concat":
                self.Wa, self.v = param(H + K, A), param(A)
            if decoder == "luong":
                self.combine = nn.Linear(K + H, H)
            self.out = nn.Linear(H + K if decoder == "bahdanau" else H, config.tgt_vocab)

        def prepare(self, keys: Any) -> Any:
            if score == "additive":
                return keys @ self.Wk  # (N, S, A)
            if score == "concat":
                return keys @ self.Wa[H:]
            if score == "general":
                return keys @ self.Wa.t()  # (N, S, H)
            return keys

        def attend(self, q: Any, keys: Any, prepared: Any, neg: Any) -> Any:
            if score in ("additive", "concat"):
                Wq = self.Wq if score == "additive" else self.Wa[:H]
                scores = torch.tanh(prepared + (q @ Wq)[:, None, :]) @ self.v  # (N, S)
            else:
                scores = torch.bmm(prepared, q[:, :, None])[:, :, 0]  # (N, S)
                if score == "scaled_dot":
                    scores = scores / K**0.5
            if neg is not None:
                scores = scores.masked_fill(neg, float("-inf"))
            weights = torch.softmax(scores, dim=1)  # (N, S)
            return torch.bmm(weights[:, None, :], keys)[:, 0, :]  # (N, K)

        def step(self, x: Any, h: Any, c: Any) -> tuple[Any, Any]:
            if cell == "lstm":
                return self.dec_cell(x, (h, c))
            return self.dec_cell(x, h), None

        def forward(self, src: Any, src_mask: Any, tgt_in: Any, tgt_out: Any, tgt_mask: Any) -> Any:
            emb = self.enc_embed(src)  # (N, S, E)
            full = bool(src_mask.all())
            if full:
                keys, state = self.enc_rnn(emb)
            else:
                lengths = src_mask.sum(1).cpu()
                packed = nn.utils.rnn.pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False)
                keys, state = self.enc_rnn(packed)
                keys = nn.utils.rnn.pad_packed_sequence(keys, batch_first=True, total_length=src.shape[1])[0]
            h, c = (state[0][0], state[1][0]) if cell == "lstm" else (state[0], None)
            neg = None if full else ~src_mask
            prepared = self.prepare(keys) if score != "none" else None
            ys = self.dec_embed(tgt_in.t())  # (T, N, E)
            feed = torch.zeros_like(h) if feeding else None
            fixed = h  # score 'none': the context is the encoder's final h at every step
            outs = []
            for t in range(ys.shape[0]):
                if decoder == "bahdanau":
                    ctx = fixed if score == "none" else self.attend(h, keys, prepared, neg)
                    x = torch.cat([ys[t], ctx], dim=1)
                    h, c = self.step(x, h, c)
                    outs.append(torch.cat([h, ctx], dim=1))
                else:
                    x = torch.cat([ys[t], feed], dim=1) if feeding else ys[t]
                    h, c = self.step(x, h, c)
                    ctx = fixed if score == "none" else self.attend(h, keys, prepared, neg)
                    ht = torch.tanh(self.combine(torch.cat([ctx, h], dim=1)))
                    feed = ht if feeding else None
                    outs.append(ht)
            logits = self.out(torch.stack(outs))  # (T, N, V)
            targets = torch.where(tgt_mask, tgt_out, config.pad_id).t()  # (T, N)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                   ignore_index=config.pad_id)

    twin = Twin()
    return twin.to(device=device, dtype=getattr(torch, dtype))


def trainable_count(twin: Any) -> int:
    """The number of trainable scalars (frozen LSTM bias_hh excluded)."""
    return sum(p.numel() for p in twin.parameters() if p.requires_grad)


def copy_weights(model: Any, twin: Any) -> None:
    """Copy a minatt Seq2Seq's parameters into its twin (transposing where PyTorch stores (out, in))."""
    torch = import_torch()

    p = {k: to_numpy(v) for k, v in model.params.items()}
    cell = model.config.cell

    def put(dst: Any, src: Any) -> None:
        with torch.no_grad():
            dst.copy_(torch.as_tensor(src.copy()).to(dst.dtype))

    put(twin.enc_embed.weight, p["enc.embed.W"])
    put(twin.dec_embed.weight, p["dec.embed.W"])
    for prefix, ih, hh, bih, bhh in (
        ("enc.fwd", twin.enc_rnn.weight_ih_l0, twin.enc_rnn.weight_hh_l0, twin.enc_rnn.bias_ih_l0,
         twin.enc_rnn.bias_hh_l0),
        ("dec.rnn", twin.dec_cell.weight_ih, twin.dec_cell.weight_hh, twin.dec_cell.bias_ih, twin.dec_cell.bias_hh),
    ):
        put(ih, p[f"{prefix}.Wx"].T)
        put(hh, p[f"{prefix}.Wh"].T)
        if cell == "lstm":
            put(bih, p[f"{prefix}.b"])
            put(bhh, 0.0 * p[f"{prefix}.b"])
        else:
            put(bih, p[f"{prefix}.bx"])
            put(bhh, p[f"{prefix}.bh"])
    for name in ("Wq", "Wk", "v", "Wa"):
        if f"dec.attn.{name}" in p:
            put(getattr(twin, name), p[f"dec.attn.{name}"])
    if "dec.combine.W" in p:
        put(twin.combine.weight, p["dec.combine.W"].T)
        put(twin.combine.bias, p["dec.combine.b"])
    put(twin.out.weight, p["dec.out.W"].T)
    put(twin.out.bias, p["dec.out.b"])


class TorchTrainer:
    """One PyTorch training step on a fixed batch: forward, loss, backward, clipping, Adam.

    batch: a minatt.tasks.Batch (host NumPy), moved to ``device`` once.
    """

    def __init__(self, twin: Any, batch: Any, lr: float = 1e-3, clip: float = 5.0, device: str = "cpu") -> None:
        torch = self.torch = import_torch()
        self.twin, self.clip, self.device = twin, clip, device
        self.params = [q for q in twin.parameters() if q.requires_grad]
        self.opt = torch.optim.Adam(self.params, lr=lr)
        self.inputs = tuple(torch.as_tensor(a).to(device) for a in batch)

    def loss(self) -> float:
        """The loss on the batch, no update."""
        with self.torch.no_grad():
            return float(self.twin(*self.inputs))

    def step(self) -> float:
        """One full training step; returns the loss (a host float: this synchronises the device)."""
        self.opt.zero_grad(set_to_none=True)
        loss = self.twin(*self.inputs)
        loss.backward()
        self.torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.opt.step()
        return float(loss.detach())

    def synchronize(self) -> None:
        if self.device.startswith("cuda"):
            self.torch.cuda.synchronize()
