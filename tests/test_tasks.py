"""minatt.tasks, the package: make_task builds every task, whose batches are well formed and seeded, and refuses
bad arguments. (Each module has its own file: test_base, test_batches, test_dates, test_sequences, test_ceiling.)"""

from __future__ import annotations

import numpy as np
import pytest

from minatt.tasks import make_task
from tests.task_pairs import DIGIT_TASKS, check_layout, pairs_of

# -- every task's content --------------------------------------------------------------------


@pytest.mark.parametrize("name", [*DIGIT_TASKS, "dates"])
def test_batches_are_well_formed(name):
    task = make_task(name, min_len=2, max_len=7, seed=3)
    b = task.batch(None, 64)
    pairs = pairs_of(task, b)
    check_layout(b, [len(s) for s, _ in pairs], [len(t) for _, t in pairs])
    assert all(task.split_of(s, t) == "train" for s, t in pairs)


# -- seeding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*DIGIT_TASKS, "dates"])
def test_same_seed_same_batches(name):
    a, b, c = make_task(name, seed=7), make_task(name, seed=7), make_task(name, seed=8)
    for _ in range(3):
        ba, bb, bc = a.batch(None, 16), b.batch(None, 16), c.batch(None, 16)
        assert all(np.array_equal(x, y) for x, y in zip(ba, bb))
    assert not all(np.array_equal(x, y) for x, y in zip(ba, bc))
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert all(np.array_equal(x, y) for x, y in zip(a.batch(g1, 8), c.batch(g2, 8)))
    assert all(np.array_equal(x, y) for x, y in zip(a.batch(11, 8), a.batch(11, 8)))
    t1, t2 = a.test_set(20, seed=4), c.test_set(20, seed=4)   # the split ignores the task's seed
    assert all(np.array_equal(x, y) for x, y in zip(t1, t2))


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown task"):
        make_task("translate")
    with pytest.raises(ValueError, match="min_len"):
        make_task("copy", min_len=5, max_len=3)
    with pytest.raises(ValueError, match="min_len"):
        make_task("copy").batch(None, 2, min_len=0)
    with pytest.raises(TypeError):
        make_task("copy", colour="red")
