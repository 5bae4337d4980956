"""minatt.exercises.registry: what each exercise asks for, its inputs and a hint per gradient."""

from __future__ import annotations

import pytest

from minatt.errors import ConfigError
from minatt.exercises import (
    EXERCISES,
    check_exercise,
)


def test_every_hint_is_a_pointer_and_a_formula():
    for spec in EXERCISES.values():
        hints = [*spec.hints.values(), *spec.gate_hints.values(), *spec.gate_groups.values()]
        hints += [spec.common_hint] if spec.common_hint else []
        for hint in hints:
            assert isinstance(hint, tuple) and len(hint) == 2 and all(isinstance(t, str) and t for t in hint), \
                (spec.name, hint)
        assert set(spec.hints) == set(spec.reported), spec.name


def test_an_unknown_name_lists_the_exercises():
    with pytest.raises(ConfigError, match="no exercise named 'lstm'.*affine, embedding, softmax"):
        check_exercise("lstm")
