"""Swedish working days: the unit of every service-level clock.

Weekends, public holidays and the de facto holidays (midsommarafton, julafton,
nyårsafton) are not working days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Every date a person sees, and every service-level clock, is in Swedish time.
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def today() -> date:
    return datetime.now(STOCKHOLM).date()


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    calendar = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))
    return frozenset(calendar.keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself not counted).

    Zero days means the same day if it is a working day, else the next one.
    """
    current = start
    if days == 0:
        while not is_working_day(current):
            current += timedelta(days=1)
        return current
    added = 0
    while added < days:
        current += timedelta(days=1)
        if is_working_day(current):
            added += 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start).

    An order received on a Friday and finished the next Monday took 1 working day.
    """
    if end <= start:
        return 0
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
