"""minatt.exercises.feedback_report: the report in tiers: the first names the gradient and the kind of mistake,
``--hint`` adds a pointer, ``--hint 2`` the formula."""

from __future__ import annotations

from minatt.exercises import (
    EXERCISES,
)
from tests.exercise_checks import flat, planted


def test_the_tiers(tmp_path):
    """Level 0 names the mistake only; 1 adds the pointer; 2 the formula too."""
    pointer, formula = EXERCISES["affine"].hints["dW"]
    texts = [flat(planted(tmp_path, "affine", "dW = cache.x2.T @ dout2", "dW = 2 * cache.x2.T @ dout2",
                            level=level)) for level in (0, 1, 2)]
    assert all("yours is 2 times the right gradient everywhere" in t for t in texts)
    assert pointer not in texts[0] and formula not in texts[0] and "run again with --hint 1" in texts[0]
    assert pointer in texts[1] and formula not in texts[1] and "run again with --hint 2" in texts[1]
    assert pointer in texts[2] and " ".join(formula.split()) in texts[2] and "run again" not in texts[2]
