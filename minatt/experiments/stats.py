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

__all__ = ["BOOTSTRAP_SEEDS", "DRAWS", "Data", "Means", "curve", "mde", "mde_block", "spread", "verdict_text"]

BOOTSTRAP_SEEDS = 4  # fewer seeds than this: min-max over seeds instead of a bootstrap
DRAWS = 2000
Data = dict[str, numpy.ndarray]  # name -> (K seeds, G groups, N examples), every array the same shape
Means = dict[str, numpy.ndarray]  # name -> (D draws, K seeds, G groups): means over each group's examples


def _draws(data: Data, draws: int, seed: int) -> Means:
    """Per draw: K seeds drawn with replacement, and each group's mean over N examples drawn with replacement.

    The same draws for every array (paired). A resample of N examples is a count per example
    (multinomial), so a resampled mean is a weighted mean: one einsum for all draws at once.
    """
    K, G, N = next(iter(data.values())).shape
    rng = numpy.random.default_rng(seed)
    counts = rng.multinomial(N, numpy.full(N, 1.0 / N), size=(draws, G)).astype(float)   # (D, G, N)
    seeds = rng.integers(0, K, size=(draws, K, 1))                                        # (D, K, 1)
    out = {}
    for name, a in data.items():
        means = numpy.einsum("kgn,dgn->dkg", numpy.asarray(a, dtype=float), counts) / N     # (D, K, G)
        out[name] = numpy.take_along_axis(means, seeds, axis=1)
    return out


def _interval(data: Data, stat: Callable[[Means], numpy.ndarray], draws: int, seed: int) -> tuple[Any, ...]:
    """(point, lo, hi, K, kind) of ``stat`` (any shape per draw), by :func:`_draws` or min-max over seeds."""
    K = next(iter(data.values())).shape[0]
    means = {k: numpy.asarray(a, dtype=float).mean(axis=2)[None] for k, a in data.items()}   # (1, K, G)
    point = stat(means)[0]
    if K < BOOTSTRAP_SEEDS:
        each = numpy.array([stat({k: m[:, s:s + 1] for k, m in means.items()})[0] for s in range(K)])
        return point, each.min(axis=0), each.max(axis=0), K, "min-max"
    lo, hi = numpy.quantile(stat(_draws(data, draws, seed)), [0.025, 0.975], axis=0)
    return point, lo, hi, K, "bootstrap"


def spread(data: Data, stat: Callable[[Means], numpy.ndarray], draws: int = DRAWS, seed: int = 0) -> dict[str, Any]:
    """A statistic of paired variants and its interval: {"mean", "lo", "hi", "n" (seeds), "kind"}.

    data: name -> (K, G, N) arrays (seeds, groups, examples). stat: a function of name -> (D, K, G)
    arrays, each group's mean over its examples per seed, for D draws at once, returning (D,)
    values: ``lambda m: m["a"].mean(axis=(1, 2)) - m["b"].mean(axis=(1, 2))`` is a paired gap.
    kind "bootstrap" (K >= :data:`BOOTSTRAP_SEEDS`: 2.5% and 97.5% quantiles of ``draws``
    resamples of seeds and examples) or "min-max" (``stat`` of each seed alone; K < 4). "seed_sd":
    the standard deviation over seeds of ``stat`` of each seed alone (what the design's MDE assumed).
    """
    point, lo, hi, K, kind = _interval(data, stat, draws, seed)
    point = float(point)
    means = {k: numpy.asarray(a, dtype=float).mean(axis=2)[None] for k, a in data.items()}   # (1, K, G)
    each = [float(stat({k: m[:, s:s + 1] for k, m in means.items()})[0]) for s in range(K)]
    return {"mean": round(point, 4), "lo": round(min(float(lo), point), 4), "hi": round(max(float(hi), point), 4),
            "n": K, "kind": kind, "seed_sd": round(float(numpy.std(each, ddof=1)), 4) if K > 1 else None}


def curve(a: numpy.ndarray, b: numpy.ndarray | None = None, draws: int = DRAWS, seed: int = 0) -> dict[str, Any]:
    """Per group, the mean of ``a`` over seeds and examples (or sum(a) / sum(b)), with :func:`spread`'s interval.

    a: (K, G, N) values (0/1 for an accuracy; a difference of two such arrays for a paired gap);
    b: None, or (K, G, N) denominators (target positions, say) for a ratio of sums. Returns
    {"mean": [G], "lo": [G], "hi": [G], "n": K, "kind"}; the draws are shared by the groups.
    """
    a = numpy.asarray(a, dtype=float)
    b = numpy.ones_like(a) if b is None else numpy.broadcast_to(numpy.asarray(b, dtype=float), a.shape)

    def ratio(m: Means) -> numpy.ndarray:
        return m["a"].sum(axis=1) / numpy.maximum(m["b"].sum(axis=1), 1e-12)    # (D, G)

    mean, lo, hi, K, kind = _interval({"a": a, "b": b}, ratio, draws, seed)
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
    larger than X is consistent with the data, and the sentence says so. ``mde_realized``: the
    design's MDE formula with the seed sd the run measured (the largest over the checks).
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
    sds = [(i["seed_sd"], i["n"]) for i in intervals if i.get("seed_sd") is not None]
    realized = round(max(mde(sd, n) for sd, n in sds), 4) if sds else None
    return {"outcome": outcome, "text": text, "no_difference_larger_than": bound, "mde_realized": realized,
            "checks": checks}
