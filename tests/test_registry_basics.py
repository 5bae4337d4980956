"""minatt.exercises.registry_basics: the exercises of chapters 3 to 5 and their hints."""

from __future__ import annotations

import re

from minatt.exercises import (
    EXERCISES,
)
from minatt.exercises.registry_basics import GRU_GATE_GROUPS, GRU_GATE_HINTS


def test_the_gru_hints_use_the_codes_names():
    """The code says da_nx and da_nh; no hint says a bare da_n."""
    texts = [t for h in [*GRU_GATE_HINTS.values(), *GRU_GATE_GROUPS.values()] for t in h]
    for name in ("gru_step", "gru_bptt"):
        spec = EXERCISES[name]
        texts += [t for h in [*spec.hints.values(), spec.common_hint] for t in h]
    assert any("da_nx" in t for t in texts) and any("da_nh" in t for t in texts)
    assert not [t for t in texts if re.search(r"\bda_n\b", t)]
