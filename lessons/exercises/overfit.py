"""Exercise (chapter 9): the sanity check before any long run, overfit a tiny set with your own model.

Fill in ``overfit`` below, then run it:

    python -m minatt exercise overfit

The checker hands your loop YOUR ``loss_and_grads`` (the file model_loss_and_grads.py beside
this one; the library's while yours is not written yet), a fresh chapter-6 model (embed 8,
hidden 16) and four examples of the reverse task, and runs it for 200 steps. A correct loop on
a correct model drives the loss from about 2 to below 0.05 (the reference loop reaches about
3e-4). If it does not, something is wrong that a longer run will not fix: a gradient, the
optimiser's step, or the loop.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from minatt.optim import Adam, clip_grad_norm  # noqa: F401 - yours to use (or your own, exercises adam, clip_grad_norm)
from minatt.tasks import Batch


def overfit(loss_and_grads: Callable, params: dict[str, np.ndarray], batch: Batch, steps: int) -> list[float]:
    """Train ``params`` in place on ONE batch for ``steps`` steps.

    Args:
        loss_and_grads: loss_and_grads(params, batch) -> (loss, grads), grads keyed like params.
        params: name -> array, the model's parameters (update them in place).
        batch: the four examples.
        steps: how many optimiser steps to take.

    Returns:
        the loss of each step, measured before that step's update (a list of ``steps`` floats).

    Hints (chapter 9, "The training loop"):
        - Make the optimiser once, before the loop (it keeps a state per parameter), e.g.
          Adam(params, lr=0.05); opt.step(grads) then updates every parameter in place.
        - Clip the gradients' global norm (to 1.0, say) before each step.
    """
    raise NotImplementedError("overfit: replace this line with your code")
