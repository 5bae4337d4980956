"""Optimisers (SGD with momentum, Adam), global-norm gradient clipping, learning-rate schedules.

``params`` and ``grads`` are dicts name -> array (P is any parameter's shape). Optimisers update
the parameter arrays and their own state arrays IN PLACE (``p -= ...``, ``m[...] = ...``), so the
model's arrays keep their identity. Everything stays in the parameters' dtype (float32 stays float32).

    SGD      v = momentum * v + g                  p -= lr * v        (PyTorch's convention)
    Adam     m = b1 * m + (1 - b1) * g             v = b2 * v + (1 - b2) * g**2
             m_hat = m / (1 - b1^t)                v_hat = v / (1 - b2^t)          (t = 1, 2, ...)
             p -= lr * m_hat / (sqrt(v_hat) + eps)

Usage::

    opt = Adam(model.params, lr=1e-3)
    schedule = warmup_decay(1e-3, warmup_steps=100, total_steps=5000)
    for step in range(5000):
        loss, grads = model.loss_and_grads(batch)
        clip_grad_norm(grads, 1.0)
        opt.step(grads, lr=schedule(step))

``state_dict()`` / ``load_state_dict()`` snapshot and restore the step count, hyperparameters
and moment arrays, so a resumed run continues bit-for-bit.

The course introduces Adam and clipping in chapter 3 (lessons/03-linear-softmax-cross-entropy.md,
"From a gradient to a step"), before chapters 6 and 8 train with them; chapter 9 adds the schedule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from minatt.backend import array_module, fusable, to_numpy
from minatt.ops import fused

__all__ = ["SGD", "Adam", "Constant", "WarmupDecay", "clip_grad_norm", "constant", "warmup_decay"]


class _Optimizer:
    """Shared machinery: parameter bookkeeping, state (de)serialisation.

    Subclasses list their per-parameter state names in ``_slots`` and scalar hyperparameters
    in ``_hyper``; state arrays live in ``self.state[slot][name]`` (same shape/dtype as the param).
    """

    _slots: tuple[str, ...] = ()
    _hyper: tuple[str, ...] = ("lr",)

    def __init__(self, params: Mapping[str, Any], lr: float) -> None:
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        self.params = dict(params)
        self.lr = float(lr)
        self.t = 0  # steps taken
        self.state: dict[str, dict[str, Any]] = {slot: {} for slot in self._slots}
        for name, p in self.params.items():
            xp = array_module(p)
            for slot in self._slots:
                self.state[slot][name] = xp.zeros_like(p)

    def _pairs(self, grads: Mapping[str, Any]) -> Iterable[tuple[str, Any, Any]]:
        """(name, param, grad) for every name in ``grads``; params without a grad are left as they are."""
        for name, g in grads.items():
            p = self.params.get(name)
            if p is None:
                raise KeyError(f"gradient {name!r} has no parameter; parameters: {', '.join(self.params)}")
            if g.shape != p.shape:
                raise ValueError(f"gradient {name!r} has shape {g.shape}, its parameter {p.shape}")
            yield name, p, g

    def step(self, grads: Mapping[str, Any], lr: float | None = None) -> None:
        """Update the parameters in place from ``grads`` (name -> array, shaped like the param).

        ``lr`` overrides the optimiser's lr for this step only (pass ``schedule(step)``).
        """
        self.t += 1
        lr = self.lr if lr is None else float(lr)
        for name, p, g in self._pairs(grads):
            self._update(name, p, g, lr)

    def _update(self, name: str, p: Any, g: Any, lr: float) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Flat snapshot: ``"t"`` and each hyperparameter as 0-d arrays, ``"<slot>.<param>"`` arrays (copies)."""
        xp = array_module(*self.params.values())
        out: dict[str, Any] = {"t": xp.asarray(self.t, dtype=xp.int64)}
        for h in self._hyper:
            out[h] = xp.asarray(getattr(self, h), dtype=xp.float64)
        for slot, arrays in self.state.items():
            for name, a in arrays.items():
                out[f"{slot}.{name}"] = a.copy()
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()`` (host or device arrays); state arrays are overwritten in place."""
        expected = ["t", *self._hyper, *(f"{s}.{n}" for s, a in self.state.items() for n in a)]
        missing = [k for k in expected if k not in state]
        if missing:
            raise KeyError(f"state dict lacks {', '.join(missing)}")
        extra = sorted(set(state) - set(expected))
        if extra:
            raise KeyError(f"state dict has unknown entries {', '.join(extra)}")
        for slot, arrays in self.state.items():
            for name, dst in arrays.items():
                src = state[f"{slot}.{name}"]
                if tuple(src.shape) != dst.shape:
                    raise ValueError(f"{slot}.{name}: saved shape {tuple(src.shape)}, parameter {dst.shape}")
                xp = array_module(dst)
                dst[...] = xp.asarray(src if xp is array_module(src) else to_numpy(src), dtype=dst.dtype)
        self.t = int(state["t"])
        for h in self._hyper:
            setattr(self, h, float(state[h]))


class SGD(_Optimizer):
    """Stochastic gradient descent with (optional) heavy-ball momentum, PyTorch's convention.

    params: name -> array (P). momentum in [0, 1); 0 means plain SGD (no velocity kept).

        v = momentum * v + g        p -= lr * v         (momentum == 0:  p -= lr * g)
    """

    _hyper = ("lr", "momentum")

    def __init__(self, params: Mapping[str, Any], lr: float, momentum: float = 0.0) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self._slots = ("velocity",) if momentum > 0 else ()
        super().__init__(params, lr)
        self.momentum = float(momentum)

    def _update(self, name: str, p: Any, g: Any, lr: float) -> None:
        if self._slots:
            v = self.state["velocity"][name]                     # (P), updated in place
            v[...] = self.momentum * v + g
            g = v
        p -= lr * g


class Adam(_Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; PyTorch's placement of eps.

    params: name -> array (P). State per param: m, v (P), plus the step count t.

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1^t)        v_hat = v / (1 - b2^t)        (bias correction)
        p -= lr * m_hat / (sqrt(v_hat) + eps)

    At t = 1 the corrected moments are m_hat = g and v_hat = g**2, so the first step is
    lr * g / (|g| + eps), i.e. lr * sign(g) for |g| >> eps.
    """

    _slots = ("m", "v")
    _hyper = ("lr", "beta1", "beta2", "eps")

    def __init__(self, params: Mapping[str, Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        super().__init__(params, lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _update(self, name: str, p: Any, g: Any, lr: float) -> None:
        xp = array_module(p)
        m, v = self.state["m"][name], self.state["v"][name]      # (P) each, updated in place
        b1, b2, t = self.beta1, self.beta2, self.t
        if fusable(p) and p.flags.c_contiguous:  # these lines as one GPU kernel: ops/fused_training.py
            return fused.adam_update(p, g, m, v, lr, b1, b2, self.eps, t)
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p -= lr * m_hat / (xp.sqrt(v_hat) + self.eps)


def clip_grad_norm(grads: Mapping[str, Any] | Iterable[Any], max_norm: float | None) -> Any:
    """Scale all gradients in place so their global L2 norm is at most ``max_norm``.

    grads: name -> array, or any iterable of arrays. Returns the global norm BEFORE clipping,
    ``sqrt(sum_k sum(g_k * g_k))``, as a 0-d array on the gradients' device (a NumPy scalar on
    NumPy; ``float(norm)`` reads it, which on a GPU waits for the GPU: do it only to log). With
    norm > max_norm every g_k is multiplied by max_norm / norm; ``max_norm`` None or <= 0 only
    measures. A non-finite norm (inf/nan gradients) is returned and the gradients are left unchanged.
    """
    arrays = list(grads.values() if isinstance(grads, Mapping) else grads)
    if not arrays:
        return 0.0
    xp = array_module(*arrays)
    total = sum(xp.vdot(g, g) for g in arrays)   # one device scalar
    norm = xp.sqrt(total.astype(xp.float64))  # (float64, as the scale below)
    if max_norm is not None and max_norm > 0:
        # scale = min(1, max_norm / norm), or 1 for a non-finite norm: computed on the device, so
        # the host never waits for the GPU here (no float(), no if on the norm)
        scale = xp.where(xp.isfinite(norm), max_norm / xp.maximum(norm, max_norm), 1.0).astype(arrays[0].dtype)
        for g in arrays:
            g *= scale
    return norm


class Constant:
    """The schedule ``step -> lr`` for every step."""

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)

    def __call__(self, step: int) -> float:
        return self.lr

    def __repr__(self) -> str:
        return f"constant({self.lr})"


class WarmupDecay:
    """Linear warm-up, then COSINE decay to ``final_fraction * lr``; ``step`` counts from 0.

        step < warmup_steps:             lr * (step + 1) / warmup_steps
        warmup_steps <= step <= total:   low + (lr - low) * (1 + cos(pi * q)) / 2,
                                         q = (step - warmup_steps) / (total_steps - warmup_steps)
        step > total_steps:              low                     (low = final_fraction * lr)

    So schedule(warmup_steps - 1) == schedule(warmup_steps) == lr and schedule(total_steps) == low.
    """

    def __init__(self, lr: float, warmup_steps: int, total_steps: int, final_fraction: float = 0.1) -> None:
        if lr < 0 or warmup_steps < 0 or total_steps < warmup_steps or not 0.0 <= final_fraction <= 1.0:
            raise ValueError(
                "need lr >= 0, 0 <= warmup_steps <= total_steps, 0 <= final_fraction <= 1; got "
                f"lr={lr}, warmup_steps={warmup_steps}, total_steps={total_steps}, final_fraction={final_fraction}"
            )
        self.lr, self.warmup_steps, self.total_steps = float(lr), int(warmup_steps), int(total_steps)
        self.final_fraction = float(final_fraction)

    def __call__(self, step: int) -> float:
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        low = self.final_fraction * self.lr
        if step >= self.total_steps:
            return low
        q = (step - self.warmup_steps) / (self.total_steps - self.warmup_steps)
        return low + (self.lr - low) * 0.5 * (1.0 + math.cos(math.pi * q))

    def __repr__(self) -> str:
        return (f"warmup_decay({self.lr}, warmup_steps={self.warmup_steps}, total_steps={self.total_steps}, "
                f"final_fraction={self.final_fraction})")


def constant(lr: float) -> Constant:
    """A schedule that always returns ``lr``: ``constant(0.01)(500) == 0.01``."""
    return Constant(lr)


def warmup_decay(lr: float, warmup_steps: int, total_steps: int, final_fraction: float = 0.1) -> WarmupDecay:
    """Linear warm-up over ``warmup_steps`` then cosine decay to ``final_fraction * lr`` at ``total_steps``.

    ``schedule(step) -> lr`` for the 0-based step about to be taken; see WarmupDecay for the formula.
    """
    return WarmupDecay(lr, warmup_steps, total_steps, final_fraction)
