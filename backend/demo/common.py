"""What every part of the demo builder draws with: the seeded `Draw`, Swedish working days,
weighted choices, personnummer with their check digit, and small date helpers.

The personnummer and calendar rules are easy to get wrong, so they are kept small and
unit-tested (tests/unit/test_demo_rules.py).
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Europe/Stockholm")
HISTORY_DAYS = 730  # how far back the region's work orders go


def luhn_digit(digits: str) -> int:
    """The check digit of a personnummer's first nine digits (modulus 10, weights 2 and 1)."""
    total = 0
    for i, ch in enumerate(digits):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return (10 - total % 10) % 10


def personnummer(born: date, birth_number: int) -> str:
    """'YYYYMMDD-NNNC': birth number NNN (odd for men, even for women) and check digit C."""
    core = f"{born:%y%m%d}{birth_number:03d}"
    return f"{born:%Y%m%d}-{birth_number:03d}{luhn_digit(core)}"


def personnummer_is_valid(value: str) -> bool:
    if len(value) != 13 or value[8] != "-" or not (value[:8] + value[9:]).isdigit():
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return luhn_digit(value[2:8] + value[9:12]) == int(value[12])


class WorkCalendar:
    """Swedish working days: no weekends, public holidays or de facto holidays (julafton…)."""

    def __init__(self, first: date, last: date) -> None:
        off = holidays.country_holidays(
            "SE", categories=("public", "de_facto"), years=range(first.year, last.year + 1)
        )
        span = (last - first).days + 1
        self.days = [
            d for d in (first + timedelta(n) for n in range(span)) if d.weekday() < 5 and d not in off
        ]

    def is_working(self, d: date) -> bool:
        i = bisect_left(self.days, d)
        return i < len(self.days) and self.days[i] == d

    def on_or_after(self, d: date) -> date:
        return self.days[bisect_left(self.days, d)]

    def on_or_before(self, d: date) -> date:
        return self.days[bisect_right(self.days, d) - 1]

    def add(self, d: date, n: int) -> date:
        """The n-th working day after d (n = 0: d itself, or the next working day)."""
        if n <= 0:
            return self.on_or_after(d)
        return self.days[bisect_right(self.days, d) + n - 1]

    def subtract(self, d: date, n: int) -> date:
        """The n-th working day before d."""
        return self.days[bisect_left(self.days, d) - n]

    def between(self, first: date, end: date) -> list[date]:
        """Working days in [first, end)."""
        return self.days[bisect_left(self.days, first) : bisect_left(self.days, end)]

    def count_after(self, first: date, last: date) -> int:
        """Working days after `first` up to and including `last`."""
        return bisect_right(self.days, last) - bisect_right(self.days, first)


class Weighted:
    """A fixed weighted choice, drawn with a given rng."""

    def __init__(self, items: Iterable[tuple[object, float]]) -> None:
        self.values: list = []
        self.cum: list[float] = []
        total = 0.0
        for value, weight in items:
            if weight > 0:
                total += weight
                self.values.append(value)
                self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random):
        return self.values[bisect_right(self.cum, rng.random() * self.total)]


@dataclass
class Draw:
    """One build of the region: its single random stream, scale, day and working calendar.

    Every part of the builder draws from `rng` in turn, so the parts must run in the same
    order (and draw in the same order inside) for a seed to give the same region.
    """

    rng: random.Random
    scale: float
    today: date
    cal: WorkCalendar
    target_day: date  # the first planned working day (today, or the next working day)
    progress: Callable[[str], None]

    @classmethod
    def start(cls, scale: float, seed: int, today: date, progress: Callable[[str], None]) -> Draw:
        cal = WorkCalendar(today - timedelta(days=HISTORY_DAYS + 400), today + timedelta(days=400))
        return cls(random.Random(seed), scale, today, cal, cal.on_or_after(today), progress)


def weighted_sample(rng: random.Random, pool: Sequence[int], weight: Callable[[int], float],
                    k: int) -> list[int]:
    """k distinct members of pool, weighted, without replacement (exponential keys)."""
    if k <= 0 or not pool:
        return []
    keyed = []
    for i in pool:
        w = weight(i)
        if w > 0:
            keyed.append((-math.log(1.0 - rng.random()) / w, i))
    return [i for _, i in heapq.nsmallest(k, keyed)]


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def at(d: date, minutes: int) -> datetime:
    """The Stockholm time `minutes` after midnight on day d."""
    return datetime.combine(d, clock(minutes // 60, minutes % 60), TZ)


def scaled(n: float, scale: float, minimum: int = 0) -> int:
    return max(minimum, round(n * scale))
