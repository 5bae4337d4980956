"""An analytic count of the matrix-product FLOPs of one training step (forward + backward).

Dimensions: N batch, S source steps, T target steps, E embedding, H hidden, K key size (= H),
A attention size, V target vocabulary, G gates (4 for LSTM, 3 for GRU).

What is counted: every matrix product of the model's forward pass (matmul, batched matmul,
matrix-vector), at 2 FLOPs per multiply-add, and twice that again for the backward pass
(each product X @ W of cost F has two backward products, dX = dY @ W^T and dW = X^T @ dY,
each of cost F). So a step costs 3 x the forward count. Elementwise work (gates, tanh,
softmax, Adam, clipping) and lookups (embeddings) are not counted: they are O(N H) per step
against the products' O(N H^2), and the count is a property of the MODEL, the same for
minatt and its PyTorch twin (:mod:`minatt.tools.torch_reference`), however either evaluates it.

Forward multiply-adds, per training step:

    encoder RNN        N S (E + H) G H                 input and recurrent projections
    encoder Transformer L (4 N S D D + 2 N S S D + 2 N S D F)   per layer: Wq, Wk, Wv, Wo; q.k and
                                                       weights @ v over all heads; the feed-forward
                                                       (D = H, F the feed-forward size, L layers)
    key preparation    N S K A (additive, concat)      N S K H (general)       0 (dot, none)
    decoder RNN        N T (Din + H) G H               Din = E + K (Bahdanau), E + H (Luong
                                                       with input feeding), E (without)
    query projection   N T H A (additive, concat)      0 otherwise
    scores             N T S A (additive, concat: tanh(.) @ v)   N T S K (dot, general)
    context            N T S K (weights @ keys)        0 for score 'none'
    Luong combine      N T (K + H) H
    bridge             N K K (x2 for LSTM), bidirectional only
    output layer       N T Dout V                      Dout = H + K (Bahdanau), H (Luong)

GFLOP per step = 3 * 2 * (sum above) / 1e9.
"""

from __future__ import annotations

from typing import Any

__all__ = ["flop_terms", "step_flops"]


def flop_terms(config: Any, batch: int, src_len: int, tgt_len: int) -> dict[str, int]:
    """Forward multiply-adds per part (see the module docstring) of a Seq2SeqConfig at a task size."""
    N, S, T = batch, src_len, tgt_len
    E, H, K, A, V = config.embed, config.hidden, config.hidden, config.attention_size, config.tgt_vocab
    G = 4 if config.cell == "lstm" else 3
    score = config.score_kind
    luong = config.decoder == "luong"
    d_in = E + (H if config.input_feeding else 0) if luong else E + K
    additive = score in ("additive", "concat")
    terms = {
        "encoder": N * S * (E + H) * G * H,
        "prepare": N * S * K * (A if additive else H if score == "general" else 0),
        "decoder": N * T * (d_in + H) * G * H,
        "query": N * T * H * A if additive else 0,
        "scores": 0 if score == "none" else N * T * S * (A if additive else K),
        "context": 0 if score == "none" else N * T * S * K,
        "combine": N * T * (K + H) * H if luong else 0,
        "bridge": N * K * K * (2 if config.cell == "lstm" else 1) if config.bidirectional else 0,
        "output": N * T * (H if luong else H + K) * V,
    }
    if config.encoder == "transformer":
        D, F = H, config.ff_size
        terms["encoder"] = config.layers * (4 * N * S * D * D + 2 * N * S * S * D + 2 * N * S * D * F)
    elif config.bidirectional:  # two RNNs of size H/2 over the source
        P = H // 2
        terms["encoder"] = 2 * N * S * (E + P) * G * P
    return terms


def step_flops(config: Any, batch: int, src_len: int, tgt_len: int) -> int:
    """FLOPs of the matrix products of one training step: 3 (forward + backward) x 2 x multiply-adds."""
    return 6 * sum(flop_terms(config, batch, src_len, tgt_len).values())
