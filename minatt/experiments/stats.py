"""Intervals that account for both sources of chance in an experiment: the seeds and the test examples.

A model's held-out accuracy varies with its seed (initial weights, batches) and with the test set
(which sequences happened to be drawn). :func:`spread` resamples both. With 4 or more seeds it is
a 95% percentile bootstrap: each draw takes K seeds with replacement and, within each group (a
source length, a corruption rate), N test examples with replacement, the same indices for every
array, so that a difference of two variants stays paired by seed and by example. An accuracy's
interval then lies inside [0, 1] by construction. With 2 or 3 seeds a bootstrap says little, so
the interval is the range over the seeds: min-max.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy

__all__ = ["BOOTSTRAP_SEEDS", "DRAWS", "Data", "curve", "mde", "mde_block", "spread", "verdict_text"]

BOOTSTRAP_SEEDS = 4  # fewer seeds than this: min-max over seeds instead of a bootstrap
DRAWS = 2000
Data = dict[str, numpy.ndarray]  # name -> (K seeds, G groups, N examples), every array the same shape


def spread(data: Data, stat: Callable[[Data], float], draws: int = DRAWS, seed: int = 0) -> dict[str, Any]:
    """``stat(data)`` and its interval: {"mean", "lo", "hi", "n" (seeds), "kind"}.

    data: name -> (K, G, N) arrays (seeds, groups, examples); stat: any function of such a dict,
    returning a float. kind "bootstrap" (K >= :data:`BOOTSTRAP_SEEDS`, 2.5% and 97.5% quantiles of
    ``draws`` resamples) or "min-max" (``stat`` of each seed alone; K < 4).
    """
    K, G, N = next(iter(data.values())).shape
    point = float(stat(data))
    if K < BOOTSTRAP_SEEDS:
        each = [float(stat({k: a[s:s + 1] for k, a in data.items()})) for s in range(K)]
        lo, hi, kind = min(each), max(each), "min-max"
    else:
        rng, groups = numpy.random.default_rng(seed), numpy.arange(G)[:, None]
        values = []
        for _ in range(draws):
            seeds, examples = rng.integers(0, K, size=K), rng.integers(0, N, size=(G, N))
            values.append(float(stat({k: a[seeds][:, groups, examples] for k, a in data.items()})))
        lo, hi = (float(q) for q in numpy.quantile(values, [0.025, 0.975]))
        kind = "bootstrap"
    return {"mean": round(point, 4), "lo": round(min(lo, point), 4), "hi": round(max(hi, point), 4), "n": K,
            "kind": kind}


def curve(a: numpy.ndarray, b: numpy.ndarray | None = None, draws: int = DRAWS, seed: int = 0) -> dict[str, Any]:
    """Per group, the mean of ``a`` over seeds and examples (or sum(a) / sum(b)), with :func:`spread`'s interval.

    a: (K, G, N) values (0/1 for an accuracy; a difference of two such arrays for a paired gap);
    b: None, or (K, G, N) denominators (target positions, say) for a ratio of sums. Returns
    {"mean": [G], "lo": [G], "hi": [G], "n": K, "kind"}; the draws are shared by the groups.
    """
    a = numpy.asarray(a, dtype=float)
    b = numpy.ones_like(a) if b is None else numpy.broadcast_to(numpy.asarray(b, dtype=float), a.shape)
    K, G, N = a.shape

    def ratio(x: numpy.ndarray, y: numpy.ndarray, axes: tuple[int, ...]) -> numpy.ndarray:
        return x.sum(axis=axes) / numpy.maximum(y.sum(axis=axes), 1e-12)

    mean = ratio(a, b, (0, 2))
    if K < BOOTSTRAP_SEEDS:
        each = ratio(a, b, (2,))                                  # (K, G)
        lo, hi, kind = each.min(axis=0), each.max(axis=0), "min-max"
    else:
        rng, values = numpy.random.default_rng(seed), []
        for start in range(0, draws, 200):
            D = min(200, draws - start)
            seeds, examples = rng.integers(0, K, size=(D, K)), rng.integers(0, N, size=(D, 1, G, N))
            at = numpy.broadcast_to(examples, (D, K, G, N))
            values.append(ratio(numpy.take_along_axis(a[seeds], at, axis=3),
                                numpy.take_along_axis(b[seeds], at, axis=3), (1, 3)))  # (D, G)
        lo, hi = numpy.quantile(numpy.concatenate(values), [0.025, 0.975], axis=0)
        kind = "bootstrap"
    r4 = lambda x: [round(float(v), 4) for v in x]  # noqa: E731
    return {"mean": r4(mean), "lo": r4(numpy.minimum(lo, mean)), "hi": r4(numpy.maximum(hi, mean)), "n": K,
            "kind": kind}


def mde(planning_sd: float, seeds: int) -> float:
    """The smallest paired difference a design detects with 80% power at 5% (two-sided).

    (z(0.975) + z(0.8)) * sd / sqrt(K) = 2.80 * sd / sqrt(K), where sd is the planning value of
    the per-seed standard deviation of the difference (test-set noise included).
    """
    return round(2.80 * planning_sd / math.sqrt(seeds), 4)


def mde_block(planning_sd: float, seeds: int, of: str) -> dict[str, Any]:
    """The design's "mde" entry: {"value": :func:`mde`, "how": the formula and the planning value, said}."""
    return {"value": mde(planning_sd, seeds),
            "how": f"2.80 x sd / sqrt({seeds} seeds), with sd = {planning_sd}: the standard deviation over seeds of "
                   f"{of}, a planning value judged from pilot runs before this run (not measured by it)"}


def verdict_text(checks: dict[str, dict[str, Any]], holds: bool, fails: bool) -> dict[str, Any]:
    """The verdict block from the rule's checks: outcome, a sentence, and X when no difference appears.

    checks: name -> {"interval", "passes", "condition"}; holds / fails: the rule applied to them.
    outcome: "holds", "fails" (the rule's opposite), or "criterion not met". When no check's interval
    excludes 0, X (``no_difference_larger_than``) is the largest |bound| over them: no difference
    larger than X is consistent with the data, and the sentence says so.
    """
    intervals = [c["interval"] for c in checks.values()]
    none_differs = not any(i["lo"] > 0 or i["hi"] < 0 for i in intervals)
    bound = round(max(max(abs(i["lo"]), abs(i["hi"])) for i in intervals), 4) if none_differs and intervals else None
    if holds:
        outcome, text = "holds", "every condition of the rule is met"
    elif fails:
        outcome, text = "fails", "the intervals lie on the other side, as the rule defines failing"
    else:
        met = sum(c["passes"] for c in checks.values())
        outcome, text = "criterion not met", f"{met} of the rule's {len(checks)} conditions are met"
    if bound is not None:
        text += f"; no difference larger than {bound:.3f} detected"
    return {"outcome": outcome, "text": text, "no_difference_larger_than": bound, "checks": checks}
