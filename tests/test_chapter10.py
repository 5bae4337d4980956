"""Chapter 10's prose against the committed JSON: every number the prose states comes from a file.

``PHRASES`` renders each sentence fragment that carries a number from the JSON files in
lessons/figures; each must appear in the chapter's prose (code blocks left out, line breaks as
spaces). Any other number left in the prose must be one of ``NOT_MEASURED``: years, chapter
numbers, the method's fixed settings. Edit a number in the prose, or regenerate a file whose
numbers moved, and one of the two tests fails. The code blocks need no such test: they print
from the files. The last tests hold the files themselves: cost rows equal ``score_cost``, and no
accuracy interval leaves [0, 1].
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from minatt.experiments.cost import score_cost

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "lessons" / "10-experiments.md"
FIGURES = ROOT / "lessons" / "figures"

# numbers in the prose that are not measurements (regular expressions, each with its reason)
NOT_MEASURED = [
    r"Vaswani et al\. \(2017\)", r"Cho et al\. \(2014\)", r"[Cc]hapter \d+", r"[Cc]laim \d+[ab]?('s)?",  # references
    r"95% bootstrap intervals", r"with 4 seeds or more", r"\(with 2 or 3\)", r"95% t-interval",  # the method
    r"\[0, 1\]", r"\b[01]\b", r"r/3", r"\b[24]H\b", r"ε = 0\.0?1", r"[Ss]eq2seq", r"float32",  # definitions
    r"H = 1", r"q = 2, k = 3",  # an exercise
]


def _load(name: str) -> dict:
    return json.loads((FIGURES / f"10_{name}.json").read_text())


def prose(text: str) -> str:
    """The chapter without its code, formulas, headings' numbering or figures; whitespace collapsed."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", " ", text, flags=re.S)  # formulas and inline code
    text = re.sub(r"^#+ [\d.a-z]*", " ", text, flags=re.M)  # "## 1." / "### 5a." heading numbers
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)  # figure captions and paths
    return " ".join(text.split())


def phrases() -> Iterator[str]:
    """Every prose fragment that states a number, rendered from the committed JSON."""
    cost, uni, pretrain = _load("cost"), _load("universal"), _load("pretrain")
    cfg = cost["config"]
    yield f"a T = {cfg['T']} step decoder's worth"
    yield f"at H = A = {cfg['sizes'][0]} and {cfg['sizes'][1]}"
    yield f"source lengths S from {cfg['sources'][0]} to {cfg['sources'][-1]}"
    yield f"the median of {cfg['repeats']} repeats"
    yield f"The whole measurement runs {cfg['reruns']} times"
    H, S = cfg["sizes"][-1], cfg["sources"][-1]
    mib = {r["score"]: r["cache_bytes"] / 2**20 for r in cost["ops"] if (r["H"], r["S"]) == (H, S)}
    yield f"{mib['additive']:.0f} MiB at S = {S} and H = A = {H}, where general keeps {mib['general']:.1f} MiB"
    res = uni["results"]
    err = dict(zip(res["eps"], res["tanh_construction_error"]))
    yield f"off by {err[0.1]:.2g} at ε = 0.1 and {err[0.01]:.2g} at ε = 0.01"
    bias, no_bias, widths = res["fit_error"]["bias"], res["fit_error"]["no_bias"], res["widths"]
    yield f"leaves {100 * bias[0]:.0f}% of the variance at width {widths[0]} and {100 * bias[-1]:.1f}% at width {widths[-1]}"
    yield f"Without the bias it leaves {100 * no_bias[-1]:.0f}% at width {widths[-1]}"
    yield f"at least {pretrain['verdict']['claim_5a']['condition'].split()[-1]}"


def test_every_rendered_phrase_is_in_the_prose():
    text = prose(LESSON.read_text())
    missing = [p for p in phrases() if p not in text]
    assert not missing, f"chapter 10's prose disagrees with the JSON here: {missing}"


def test_no_other_number_in_the_prose():
    text = prose(LESSON.read_text())
    for p in phrases():
        text = text.replace(p, " ")
    for pattern in NOT_MEASURED:
        text = re.sub(pattern, " ", text)
    left = re.findall(r"[^\s]*\d[^\s]*", text)
    assert not left, f"numbers in chapter 10's prose that no JSON file backs (add a phrase or say why): {left}"


def test_the_tanh_construction_error_falls_a_hundredfold():
    """The prose says 'a hundred times less for ten times smaller eps'."""
    res = _load("universal")["results"]
    err = dict(zip(res["eps"], res["tanh_construction_error"]))
    assert "a hundred times less for ten times smaller" in prose(LESSON.read_text())
    assert 80 < err[0.1] / err[0.01] < 120


def test_committed_cost_rows_equal_score_cost_today():
    cost = _load("cost")
    cfg = cost["config"]
    for row in cost["ops"]:
        H = row["H"]
        macs, floats = score_cost(row["score"], cfg["N"], row["S"], cfg["T"], H, H, H)
        assert (row["formula_forward_macs"], row["formula_cache_bytes"]) == (macs, 4 * floats), row
        assert row["cache_bytes"] == row["formula_cache_bytes"], row


def _is_accuracy(path: str) -> bool:
    """An accuracy's interval (not a difference, a slope or an accuracy relative to a ceiling)."""
    return ("accuracy" in path or re.search(r"/(pretrained|scratch)/\d+$", path) is not None) and "relative" not in path


def _accuracy_intervals(obj, path=""):
    """(path, interval) for every accuracy interval (single ones, lists of them, or per-length curves)."""
    if isinstance(obj, dict):
        if {"mean", "lo", "hi"} <= set(obj) and _is_accuracy(path):
            yield path, obj
        for k, v in obj.items():
            if k not in ("runs", "all_runs"):
                yield from _accuracy_intervals(v, f"{path}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _accuracy_intervals(v, f"{path}/{i}")


@pytest.mark.parametrize("name", ["alignment", "lengths", "pretrain"])
def test_no_committed_accuracy_interval_leaves_0_1(name):
    found = list(_accuracy_intervals(_load(name)))
    assert found, f"no accuracy interval found in 10_{name}.json"
    for path, x in found:
        for key in ("lo", "hi"):
            values = x[key] if isinstance(x[key], list) else [x[key]]
            assert all(0 <= v <= 1 for v in values), (name, path, key)


# -- the claim-4 module and the claim-3 verdict, on small inputs (seconds) ------------------------


@pytest.mark.parametrize("name", ["alignment", "lengths", "pretrain", "cost", "universal"])
def test_recorded_commands_are_what_a_user_types(name):
    """No machine paths in a committed command (an absolute --out, say): the chapter prints them."""
    command = _load(name)["command"]
    assert command.startswith("python -m minatt"), command
    assert not any(word.startswith(("/", "~")) for word in command.split()), command


def test_the_commands_block_names_the_cost_and_universal_commands():
    text = LESSON.read_text()
    for name in ("cost", "universal"):
        assert _load(name)["command"] in text, name


def test_the_claim_4_verdict_in_prose_is_the_files():
    """Claim 4's verdict is written in prose (a derivation's); it stands only while the file's rule is met."""
    assert _load("universal")["verdict"]["outcome"] == "holds"
    assert "the rule's checks, printed from the file, are all met" in prose(LESSON.read_text())
