"""The dates task: a date written in one of several formats, to ISO 8601 (characters in, characters out)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import numpy as np

from minatt.tasks.base import Pair, Task
from minatt.tasks.batches import Vocab

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday()
DATE_FORMATS = (
    lambda d, m, w: f"{d.day} {m[:3]} {d.year}",                       # 24 nov 2026
    lambda d, m, w: f"{w}, {m} {d.day}, {d.year}",                     # tuesday, november 24, 2026
    lambda d, m, w: f"{d.month:02d}/{d.day:02d}/{d.year}",             # 11/24/2026
    lambda d, m, w: f"{m[:3]} {d.day}, {d.year}",                      # nov 24, 2026
    lambda d, m, w: f"{d.day:02d}.{d.month:02d}.{d.year}",             # 24.11.2026
    lambda d, m, w: f"{d.day} {m} {d.year}",                           # 24 november 2026
    lambda d, m, w: f"{w[:3]} {d.day} {m[:3]} {d.year}",               # tue 24 nov 2026
    lambda d, m, w: f"{m} {d.day}, {d.year}",                          # november 24, 2026
)


def format_date(date: datetime.date, fmt: int) -> str:
    """``date`` written in human format ``fmt`` (an index into DATE_FORMATS), lowercase English."""
    return DATE_FORMATS[fmt](date, MONTHS[date.month - 1], WEEKDAYS[date.weekday()])


class DatesTask(Task):
    """dates: a human-written date, character by character -> its ISO form "YYYY-MM-DD".

    Dates are uniform over [first_year-01-01, last_year-12-31] (default 1950..2049), written in
    one of the DATE_FORMATS chosen uniformly; weekday names come from ``date.weekday()``.
    The split key is the date itself, so a held-out date never appears in training in any
    format. ``min_len``/``max_len`` do not apply and are ignored everywhere.
    """

    name = "dates"
    uses_lengths = False

    def __init__(self, min_len: int = 1, max_len: int = 10, seed: int | None = 0, first_year: int = 1950,
                 last_year: int = 2049) -> None:
        if not 1 <= first_year <= last_year <= 9999:
            raise ValueError(f"need 1 <= first_year <= last_year <= 9999, got {first_year}, {last_year}")
        self.first = datetime.date(first_year, 1, 1).toordinal()
        self.days = datetime.date(last_year, 12, 31).toordinal() - self.first + 1
        chars = set("0123456789 ,./-") | set("".join(MONTHS + WEEKDAYS))
        super().__init__(Vocab(sorted(chars)), Vocab("0123456789-"), min_len, max_len, seed, 0)

    @property
    def longest_source(self) -> int:
        """The longest date string any format can write (the longest month and weekday names, day 30)."""
        last = datetime.date.fromordinal(self.first + self.days - 1)
        day = datetime.date(last.year, 9, 30)
        month, weekday = max(MONTHS, key=len), max(WEEKDAYS, key=len)
        return max(len(fmt(day, month, weekday)) for fmt in DATE_FORMATS)

    def key_of(self, src: Sequence[str], tgt: Sequence[str]) -> Sequence[str]:
        return tgt

    def _draw_key(self, rng: np.random.Generator, length: int) -> list[str]:
        return list(datetime.date.fromordinal(self.first + int(rng.integers(0, self.days))).isoformat())

    def _complete(self, rng: np.random.Generator, key: list[str]) -> Pair:
        date = datetime.date.fromisoformat("".join(key))
        return list(format_date(date, int(rng.integers(0, len(DATE_FORMATS))))), key

    def parse(self, text: str | Sequence[str]) -> list[str]:
        """A raw date string (or a list of characters) -> lowercase characters, spaces collapsed."""
        if not isinstance(text, str):
            text = "".join(str(t) for t in text)
        return self._check(list(" ".join(text.lower().split())))

    def unfamiliar(self, tokens: Sequence[str]) -> str | None:
        """A string no DATE_FORMATS entry writes, or a date outside the training years; None otherwise.

        Every date the numbers and month names of the text could mean is written in every format
        and compared with the text, so a wrong weekday or a zero-padded day counts as unfamiliar.
        """
        text = "".join(tokens)
        numbers = [int(n) for n in "".join(c if c.isdigit() else " " for c in text).split()]
        months = {i + 1 for i, m in enumerate(MONTHS) if m[:3] in text} | {n for n in numbers if 1 <= n <= 12}
        for year, month, day in ((y, m, d) for y in numbers for m in months for d in numbers):
            try:
                date = datetime.date(year, month, day)
            except ValueError:
                continue
            if any(format_date(date, f) == text for f in range(len(DATE_FORMATS))):
                if 0 <= date.toordinal() - self.first < self.days:
                    return None
                last = datetime.date.fromordinal(self.first + self.days - 1)
                return f"{date} is outside the years trained on ({datetime.date.fromordinal(self.first).year}..{last.year})"
        example = format_date(datetime.date(2026, 11, 24), 1)
        return f"{text!r} is written in none of the task's {len(DATE_FORMATS)} formats (such as {example!r})"
