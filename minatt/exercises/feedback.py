"""What a wrong gradient tells: the kind of mistake, the gates whose columns are wrong, the order.

The checker calls these on a gradient that failed, with the learner's array and the full
numeric gradient of the same loss. Each rule names a mistake only when the arrays show it:

    a constant factor   yours = k * numeric everywhere (k = -1: the sign is flipped)
    a transpose         yours is numeric.T (square), or has numeric's shape reversed
    all zeros           yours is 0 where numeric is not: a path into it is missing
    padding             wrong only where the input is padding (must be exactly 0 there)
    gates               wrong in some gates' column blocks only; gate ORDER only when swapping
                        those blocks makes the gradient match

tests/test_feedback.py plants the mistake each rule describes and checks that its
message, and no other, appears.
"""

from __future__ import annotations

import itertools

import numpy

from minatt.exercises.spec import TOL, Exercise, Hint, tier
from minatt.gradcheck import GradResult, rel_error

__all__ = ["gate_detail", "kind_of_mistake", "point_at_gates", "worst_element", "wrong_gates"]

CLOSE = 1e-6  # two arrays this close (relative error) are "the same" for a rule


def _same(a: numpy.ndarray, b: numpy.ndarray) -> bool:
    return a.shape == b.shape and bool(rel_error(a, b).max(initial=0.0) < CLOSE)


def kind_of_mistake(yours: numpy.ndarray, numeric: numpy.ndarray, padded: numpy.ndarray | None,
                    tol: float = TOL, what: str = "gradient") -> str:
    """One phrase about the whole array (a gradient against the numeric one, or an output against
    the library's): what pattern its error has ("" when none is clear)."""
    wrong = rel_error(yours, numeric) > tol
    if not wrong.any():
        return ""
    if not yours.any() and numeric.any():
        return "yours is 0 everywhere: a path into this input is missing" if what == "gradient" else \
            "yours is 0 everywhere"
    if yours.ndim == 2 and yours.shape[0] == yours.shape[1] > 1 and _same(yours, numeric.T) \
            and not _same(yours, numeric):
        return f"yours is the transpose of the right {what}"
    if padded is not None and padded.any() and not (wrong & ~padded).any():
        return f"wrong only at padded positions, whose {'gradient' if what == 'gradient' else 'value'} must be " \
               "exactly 0"
    flat_n, flat_y = numeric.reshape(-1), yours.reshape(-1)
    nn = float(flat_n @ flat_n)
    if nn > 0:
        k = float(flat_y @ flat_n) / nn
        if _same(yours, k * numeric):
            if abs(k + 1) < CLOSE:
                return "the sign is flipped everywhere"
            return (f"yours is {k:.6g} times the right {what} everywhere: a constant factor is wrong "
                    f"(a missing or extra scale, a sum where a mean belongs, or a term counted twice)")
    if not (wrong & (numeric != 0)).any():
        return "nonzero where the loss does not depend on the element" if what == "gradient" else \
            "nonzero where the library's is 0"
    n_wrong = int(wrong.sum())
    if n_wrong < wrong.size:
        return f"wrong in {n_wrong} of {wrong.size} elements: a term is wrong or missing for part of it"
    return "wrong everywhere: a term is wrong or missing"


def _note(r: GradResult, padded: numpy.ndarray | None) -> str:
    """What the worst element's pattern suggests; padding is named only where the input is padding."""
    if r.numeric == 0 and r.analytic != 0:
        if r.index is not None and padded is not None and padded[r.index]:
            return " (a padded position: its gradient must be exactly 0)"
        if r.index is not None and padded is not None and (~padded[r.index[:-1]]).sum() == 1:
            return (" (the only real position of its row: the softmax gives it weight 1 whatever its score, "
                    "so the gradient must be 0)")
        return " (the loss does not depend on this element here: its gradient must be 0)"
    if r.analytic == 0 and r.numeric != 0:
        return " (yours is 0: a missing term?)"
    return ""


def worst_element(r: GradResult, name: str, label: str, padded: numpy.ndarray | None) -> str:
    """One line about the worst element: where, yours vs numeric, and what that element suggests."""
    if r.index is None:
        where = f"along a random direction: yours {r.analytic:.6g}, numeric {r.numeric:.6g}"
    else:
        where = f"worst at {name}{list(r.index)}: yours {r.analytic:.6g}, numeric {r.numeric:.6g}"
    return f"{where}{_note(r, padded)}; inputs {label}"


def _blocks(a: numpy.ndarray, n: int) -> list[numpy.ndarray]:
    H = a.shape[-1] // n
    return [a[..., j * H:(j + 1) * H] for j in range(n)]


def wrong_gates(yours: numpy.ndarray, numeric: numpy.ndarray, gates: str) -> str:
    """The gates whose column block (of the last axis) of a gradient is wrong, e.g. "go"."""
    return "".join(g for g, y, n in zip(gates, _blocks(yours, len(gates)), _blocks(numeric, len(gates)))
                   if rel_error(y, n).max(initial=0.0) > TOL)


def _order(yours: numpy.ndarray, numeric: numpy.ndarray, gates: str, wrong: str) -> str | None:
    """The order the learner's blocks are in, when permuting the wrong ones makes the gradient match."""
    ys, ns = _blocks(yours, len(gates)), _blocks(numeric, len(gates))
    for perm in itertools.permutations(wrong):
        if perm == tuple(wrong):
            continue
        placed = dict(zip(wrong, perm))  # the block in gate g's place holds gate placed[g]
        if all(_same(ys[gates.index(g)], ns[gates.index(placed[g])]) for g in wrong):
            return "".join(placed.get(g, g) for g in gates)
    return None


def _columns(j: int) -> str:
    start = "0" if j == 0 else ("H" if j == 1 else f"{j}H")
    end = "H" if j == 0 else f"{j + 1}H"
    return f"{start}:{end}"


def gate_detail(spec: Exercise, name: str, yours: numpy.ndarray, numeric: numpy.ndarray,
                level: int) -> str | None:
    """e.g. "dWx wrong in columns 2H:3H (gate g); the other gates (i, f, o) are right" and, at the
    hint level asked for, what to check. None when every gate, or none, is wrong."""
    gates = spec.gates[name]
    wrong = wrong_gates(yours, numeric, gates)
    if not 0 < len(wrong) < len(gates):
        return None
    where = " and ".join(f"columns {_columns(gates.index(g))} (gate {g})" for g in wrong)
    right = [g for g in gates if g not in wrong]
    text = f"{spec.grad_name(name)} wrong in {where}; the other gates ({', '.join(right)}) are right"
    order = _order(yours, numeric, gates, wrong)
    if order is not None:
        return (f"{text}: your blocks are in the order {', '.join(order)}; put them in the order "
                f"{', '.join(gates)}")
    hint: Hint | None = spec.gate_groups.get(wrong) or (spec.gate_hints.get(wrong) if len(wrong) == 1 else None)
    more = tier(hint, level)
    if len(wrong) > 1 and hint is None:
        more = "swapping these blocks does not fix it: check each of these gates' own derivative"
    return f"{text}: {more}" if more else text


def point_at_gates(spec: Exercise, details: dict[str, str]) -> dict[str, str]:
    """The hints of the gradients computed as da @ W^T (spec.through_gates) when a gated gradient's
    line names the wrong gates: they point there. Other gradients keep their own."""
    gated = next((n for n, d in details.items() if " wrong in columns " in d), None)
    if gated is None:
        return {}
    return {g: f"{g} is computed from the gate pre-activation gradient, whose blocks are wrong: "
               f"fix what {gated}'s line names first" for g in spec.through_gates if g in details}
