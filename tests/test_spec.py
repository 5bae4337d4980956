"""minatt.exercises.spec: what an exercise is, its tolerances and the error levels it states."""

from __future__ import annotations

from minatt.exercises import (
    EXERCISES,
)
from minatt.exercises.spec import VALUE_TOL
from tests.exercise_checks import STUBS


def test_the_stated_levels_agree_with_the_readme_and_the_stubs():
    """'about 1e-15' for a correct forward, 'below 1e-10' to pass, everywhere they are stated."""
    readme = (STUBS / "README.md").read_text()
    assert "| forward | `masked_softmax`, `adam`, `clip_grad_norm` | equal to the library's to about 1e-15 | " \
           "below 1e-10 |" in readme
    assert VALUE_TOL == 1e-10
    for spec in EXERCISES.values():
        if spec.kind in ("forward", "forward_backward"):
            assert "about 1e-15" in spec.level, spec.name
            assert "about 1e-15" in (STUBS / f"{spec.name}.py").read_text() and "1e-10" in \
                (STUBS / f"{spec.name}.py").read_text(), spec.name
        assert "1e-12" not in spec.level


def test_a_hint_says_nothing_then_its_pointer_then_its_formula():
    from minatt.exercises.spec import tier

    hint = ("look at the gate", "dz = dh * (1 - z)")
    assert [tier(hint, level) for level in (0, 1, 2, 3)] == [
        "", "look at the gate", "look at the gate. dz = dh * (1 - z)", "look at the gate. dz = dh * (1 - z)"]
    assert tier(None, 2) == ""
