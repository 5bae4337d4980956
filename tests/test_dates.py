"""minatt.tasks.dates: every generated date reads back (strptime) as its ISO target and weekday; the split
holds out whole dates; parsing typed dates."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from minatt import tasks
from minatt.tasks import (
    format_date,
    make_task,
)
from tests.task_pairs import STRPTIME, pairs_of, read_date


def test_dates_map_to_the_right_iso_date_and_weekday():
    task = make_task("dates", seed=0)
    pairs = pairs_of(task, task.batch(None, 400))
    formats, weekdays = set(), 0
    for src, tgt in pairs:
        text = "".join(src)
        date, fmt = read_date(text)
        formats.add(fmt)
        assert "".join(tgt) == date.isoformat() and 1950 <= date.year <= 2049
        name = date.strftime("%A").lower()  # strptime ignores weekdays: check them here
        for word in text.replace(",", " ").split():
            if word in tasks.WEEKDAYS or word in {w[:3] for w in tasks.WEEKDAYS}:
                assert word in (name, name[:3]), text
                weekdays += 1
    assert formats == set(STRPTIME) and weekdays > 50
    d = datetime.date(2026, 11, 24)
    written = {format_date(d, k) for k in range(len(tasks.DATE_FORMATS))}
    assert {"24 nov 2026", "tuesday, november 24, 2026", "11/24/2026", "nov 24, 2026", "24.11.2026",
            "tue 24 nov 2026"} <= written
    assert format_date(datetime.date(2000, 1, 1), 1) == "saturday, january 1, 2000"


def test_dates_hold_out_whole_dates():
    task = make_task("dates", seed=0, first_year=2000, last_year=2001)  # 731 dates
    train = pairs_of(task, task.batch(None, 3000))
    test = pairs_of(task, task.test_set(200, seed=2))
    train_dates, test_dates = {tuple(t) for _, t in train}, {tuple(t) for _, t in test}
    assert len(test_dates) > 30 and len(train_dates) > 550 and not train_dates & test_dates
    assert not {tuple(s) for s, _ in train} & {tuple(s) for s, _ in test}


def test_parse_dates():
    task = make_task("dates")
    assert task.parse("  Tuesday,  November 24, 2026 ") == list("tuesday, november 24, 2026")
    assert task.parse(list("11/24/2026")) == list("11/24/2026")
    with pytest.raises(ValueError, match=r"unknown token 'q'.*valid tokens:"):
        task.parse("q1 2026")
    src, _ = task.sample(np.random.default_rng(0))
    assert task.parse("".join(src)) == src
