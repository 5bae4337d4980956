"""Exercise (chapter 5): backpropagation through time for the GRU over a masked sequence.

Fill in ``gru_backward`` below, then check it:

    python -m minatt exercise gru_bptt

The checker runs the library's own ``minatt.ops.gru.gru_forward`` on small random float64
sequences (with padding masks, including a row of one real step, and once with dhT None) and
compares your six gradients with finite differences. Your relative errors should be below 1e-8
(the checker passes below 1e-7).
"""

from __future__ import annotations

import numpy as np

from minatt.ops.gru import GRUCache, gru_cell_backward  # noqa: F401 - yours to call


def gru_backward(
    dhs: np.ndarray, dhT: np.ndarray | None, cache: GRUCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a GRU run over a batch of padded sequences. N batch, T steps, D input, H hidden.

    Forward (``gru_forward(x, h0, Wx, Wh, bx, bh, mask) -> hs, hT, cache``), for t = 0 .. T-1:

        ax_t     = x[:, t] @ Wx + bx,  ah_t = h_prev @ Wh + bh       (N, 3H), gates r, z, n
        h_next   = gru_cell(ax_t, ah_t, h_prev)                      (chapter 5's cell)
        at a padded step (mask[n, t] False) row n keeps h_prev: h_next = h_prev
        hs[:, t] = h_next at real steps, 0 at padded ones
        h_prev   = h_next
    and hT is the last h_next.

    Args:
        dhs: (N, T, H) gradient with respect to hs (ignore it at padded steps: hs is a constant 0 there).
        dhT: (N, H) gradient with respect to hT, or None (zero).
        cache: the forward's :class:`GRUCache`, a NamedTuple with fields
            cache.x      (N, T, D)
            cache.Wx     (D, 3H)
            cache.Wh     (H, 3H)
            cache.cells  a list of T GRUCellCache, cache.cells[t] for step t; its h_prev is
                         cache.cells[t].h_prev, the state step t started from
            cache.pad    (N, T, 1) bool, True at padding, or None when nothing is padded

    Returns:
        (dx, dh0, dWx, dWh, dbx, dbh): dx (N, T, D) (0 at padded steps), dh0 (N, H),
        dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,).

    Hints (chapter 5, "The sequence"):
        - gru_cell_backward(dh_next, cache.cells[t]) -> dax (N, 3H), dah (N, 3H), dh_direct (N, H):
          the x-side and h-side gate gradients, and the part z * dh_next of dh_prev that skips
          Wh. dh_prev = dh_direct + dah @ Wh^T.
        - Walk t from T - 1 down to 0; the gradient at step t's state is what step t + 1 sent
          back plus dhs[:, t] (at real steps).
        - A padded row at step t passes its gradient straight to step t - 1 and has no dax, dah.
    """
    raise NotImplementedError("gru_backward: replace this line with your code")
