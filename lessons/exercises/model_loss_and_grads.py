"""Exercise (chapter 6): wire a whole encoder-decoder, its loss and every gradient, from the ops.

Fill in ``loss_and_grads`` below, then check it:

    python -m minatt exercise model_loss_and_grads

The checker builds chapter 6's model (``Seq2Seq`` with score="none", one LSTM direction) with
small random float64 weights, compares your loss with ``Seq2Seq.loss_and_grads``'s (a correct
answer agrees to about 1e-15; it passes below 1e-10), and checks the gradient of EVERY
parameter against finite differences of the library's loss, as chapter 8 checks the whole
model: your relative errors should be below 1e-8 (the checker passes below 1e-7). Then train it:
``python -m minatt exercise overfit`` runs your training loop on YOUR model.
"""

from __future__ import annotations

import numpy as np

from minatt.ops.embedding import embedding_backward, embedding_forward  # noqa: F401 - yours to call
from minatt.ops.linear import affine_backward, affine_forward  # noqa: F401 - yours to call
from minatt.ops.loss import cross_entropy_backward, cross_entropy_forward  # noqa: F401 - yours to call
from minatt.ops.lstm import lstm_backward, lstm_forward  # noqa: F401 - yours to call
from minatt.tasks import Batch


def loss_and_grads(params: dict[str, np.ndarray], batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
    """The mean cross-entropy of the encoder-decoder without attention, and d loss / d every parameter.

    N batch, S source steps, T target steps, E embedding, H hidden, V target vocabulary; PAD is 0.
    The batch (a NamedTuple): batch.src (N, S) ids, batch.src_mask (N, S) bool, batch.tgt_in
    (N, T) ids (BOS + target), batch.tgt_out (N, T) ids (target + EOS), batch.tgt_mask (N, T) bool.

    Forward (Cho et al.'s model: the source's summary c is the decoder's first state AND is fed
    to every step; teacher forcing: step t reads tgt_in[:, t]):

        emb_src = embedding_forward(src, params["enc.embed.W"])                      (N, S, E)
        _, (final_h, final_c) = lstm_forward(emb_src, zeros, zeros, enc.fwd.Wx, enc.fwd.Wh,
                                             enc.fwd.b, src_mask)                  (N, H) each
        c       = final_h                                                 the context, every step
        emb_tgt = embedding_forward(tgt_in, params["dec.embed.W"])                    (N, T, E)
        s, _    = lstm_forward([emb_tgt; c at every t], final_h, final_c,
                               dec.rnn.Wx, dec.rnn.Wh, dec.rnn.b)       no mask     (N, T, H)
        o       = [s; c at every t]                                                 (N, T, 2H)
        logits  = o @ dec.out.W + dec.out.b                                           (N, T, V)
        loss    = cross_entropy_forward(logits, where(tgt_mask, tgt_out, 0), ignore_index=0)

    ([a; b] joins along the last axis; "c at every t" is c repeated along a new axis 1.)

    Args:
        params: name -> array: "enc.embed.W" (V_src, E), "enc.fwd.Wx" (E, 4H), "enc.fwd.Wh"
            (H, 4H), "enc.fwd.b" (4H,), "dec.embed.W" (V, E), "dec.rnn.Wx" (E + H, 4H),
            "dec.rnn.Wh" (H, 4H), "dec.rnn.b" (4H,), "dec.out.W" (2H, V), "dec.out.b" (V,).
        batch: the Batch above.

    Returns:
        (loss, grads): the loss (a float), and grads, a dict with one gradient per parameter,
        same keys and shapes.

    Hints (chapter 6, "The backward pass: through the decoder, into the encoder's final state"):
        - Go back in the reverse order: cross_entropy_backward, affine_backward, lstm_backward
          for the decoder, then the encoder. Each op's backward takes its own forward's cache.
        - c is used at every step, twice (in the LSTM's input and in o): its gradient sums over
          steps and over both uses, and it is final_h, whose gradient also gets the decoder's dh0.
        - Without attention the encoder's outputs are not used: their gradient is zeros.
    """
    raise NotImplementedError("loss_and_grads: replace this line with your code")
