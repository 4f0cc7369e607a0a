"""Swedish working days: the unit of every service-level clock.

Weekends, public holidays and the de facto holidays (midsommarafton, julafton,
nyårsafton) are not working days. An organisation may add its own: a `Calendar` holds the
weekdays its HMC is open and its overrides (a local holiday or closed day, an extra open
day). This module imports no domain: the caller loads the organisation's calendar
(`organisations.service.work_calendar`) and passes it in; without one, the Swedish calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Every date a person sees, and every service-level clock, is in Swedish time.
STOCKHOLM = ZoneInfo("Europe/Stockholm")

# Monday = 0 … Sunday = 6, as date.weekday() counts.
WEEKDAYS = frozenset(range(5))


def today() -> date:
    return datetime.now(STOCKHOLM).date()


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    calendar = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))
    return frozenset(calendar.keys())


def is_public_holiday(day: date) -> bool:
    return day in _holidays(day.year)


@dataclass(frozen=True)
class Calendar:
    """The days an HMC works: its open weekdays that are not Swedish holidays, less its closed
    days, plus its extra open days (an override wins over the week and the holidays)."""

    open_weekdays: frozenset[int] = WEEKDAYS
    closed: frozenset[date] = frozenset()
    extra_open: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # With no open weekday, adding working days would never end.
        if not self.open_weekdays or not self.open_weekdays <= frozenset(range(7)):
            raise ValueError("a calendar needs at least one open weekday, 0 (Monday) to 6 (Sunday)")

    def is_working_day(self, day: date) -> bool:
        if day in self.closed:
            return False
        if day in self.extra_open:
            return True
        return day.weekday() in self.open_weekdays and day not in _holidays(day.year)


SWEDISH = Calendar()


def is_working_day(day: date, calendar: Calendar = SWEDISH) -> bool:
    return calendar.is_working_day(day)


def add_working_days(start: date, days: int, calendar: Calendar = SWEDISH) -> date:
    """The date `days` working days after `start` (start itself not counted).

    Zero days means the same day if it is a working day, else the next one.
    """
    current = start
    if days == 0:
        while not calendar.is_working_day(current):
            current += timedelta(days=1)
        return current
    added = 0
    while added < days:
        current += timedelta(days=1)
        if calendar.is_working_day(current):
            added += 1
    return current


def working_days_between(start: date, end: date, calendar: Calendar = SWEDISH) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start).

    An order received on a Friday and finished the next Monday took 1 working day.
    """
    if end <= start:
        return 0
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if calendar.is_working_day(current):
            count += 1
    return count


# --- months ----------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    """The first of `day`'s month."""
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or, negative, before) `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return add_months(day, 1) - timedelta(days=1)
