"""Exercise (chapter 3): one step of the Adam optimiser, bias correction included.

Fill in ``adam_update`` below, then check it:

    python -m minatt exercise adam

The checker compares your p_next, m_next and v_next with one step of the library's
``minatt.optim.Adam`` from the same state (the first step, a later one, other
hyperparameters). A correct answer agrees to about 1e-15; the checker passes below 1e-10.
"""

from __future__ import annotations

import numpy as np


def adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float = 1e-3,
                beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> tuple[np.ndarray, ...]:
    """Step t of Adam for one parameter. P is the parameter's shape.

    Args:
        p: (P) the parameter; g: (P) its gradient.
        m, v: (P) the first and second moments after step t - 1 (zeros before the first step).
        t: the step number, 1 for the first step.
        lr, beta1, beta2, eps: the hyperparameters (PyTorch's defaults).

    Returns:
        (p_next, m_next, v_next), each (P).

    Hints (chapter 3, "From a gradient to a step: SGD, Adam and clipping"):
        - Both moments are running means that start at 0, so early on they are too small: divide
          each by 1 - beta ** t before using it (the bias correction).
        - eps goes outside the square root.
    """
    raise NotImplementedError("adam_update: replace this line with your code")
