"""Exercise (chapter 3): clip the gradients by their global norm, in place.

Fill in ``clip_grad_norm`` below, then check it:

    python -m minatt exercise clip_grad_norm

The checker calls your function on dicts of random gradients (a norm above max_norm, one below
it, and max_norm None) and compares the norm you return and the gradients after your call with
the library's ``minatt.optim.clip_grad_norm``. A correct answer agrees to about 1e-15; the
checker passes below 1e-10.
"""

from __future__ import annotations

import numpy as np


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float | None) -> float:
    """Scale every gradient in place so that their global L2 norm is at most max_norm.

    Args:
        grads: name -> gradient array (any shapes).
        max_norm: the largest norm allowed; None (or <= 0) only measures.

    Returns:
        the global norm BEFORE clipping, sqrt of the sum of every gradient's squared entries,
        as a Python float.

    Hints (chapter 3, "From a gradient to a step: SGD, Adam and clipping"):
        - One norm for all the arrays together, not one per array: clipping keeps the
          direction of the whole gradient.
        - Scale in place (g *= ...): the caller keeps using the same arrays.
    """
    raise NotImplementedError("clip_grad_norm: replace this line with your code")
