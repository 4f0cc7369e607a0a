"""Consultants' availability and the search for free fitting slots.

Templates are weekly windows in Europe/Stockholm local time. Each day's window is
turned into UTC instants through zoneinfo, so 09:00 stays 09:00 on both sides of a
daylight-saving switch, and slot lengths are added in real time, so a 90-minute slot
lasts 90 real minutes even on the night the clocks change.

Slots lie within the window; consecutive slots are `buffer_after + buffer_before`
apart. A slot is free when the consultant's time around it, buffers included
(the "blocked" range), overlaps no booking, no exception, and no hold on any of the
template's required resources. The database enforces the same rule with exclusion
constraints, so what `find_slots` offers is exactly what `book_fitting` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

import asyncpg
import holidays

from backend import db
from backend.fittings.tables import Place, ResourceKind
from backend.workdays import working_days_between

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = timezone.utc

DEFAULT_MIN_NOTICE_HOURS = 24
DEFAULT_HORIZON_DAYS = 90
DEFAULT_SLOT_LIMIT = 10
SLOT_MINUTES = (60, 90, 120)

PLACE_LABELS = {Place.hmc: "HMC:s utprovningsrum", Place.home: "Hembesök"}
RESOURCE_KIND_LABELS = {ResourceKind.room: "Utprovningsrum", ResourceKind.demo_device: "Demohjälpmedel"}

# The standard product areas of an HMC's consultants (code, Swedish name).
DEFAULT_PRODUCT_AREAS = (
    ("powered_wheelchairs", "Elrullstolar och drivaggregat"),
    ("seating", "Sittande"),
    ("communication", "Kommunikation"),
    ("cognition", "Kognition"),
    ("stationary_lifts", "Stationära lyftar"),
)


# Domain errors: each carries a Swedish message the route layer can show as it is.


class FittingError(Exception):
    """A fitting rule said no; `message` is Swedish and fit for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(FittingError):
    """The person may not do this (wrong role, another unit's patient, another's booking)."""


class NotFound(FittingError):
    pass


class InvalidInput(FittingError):
    """A template, exception or referral is incomplete or contradictory."""


class OutsideBookingWindow(FittingError):
    """The time is sooner than the minimum notice, or beyond the booking horizon."""


class SlotNotOffered(FittingError):
    """The consultant does not offer that time (no template, a holiday, an exception)."""


class SlotTaken(FittingError):
    """Someone else got the time first; `alternatives` are fresh free slots."""

    def __init__(self, alternatives: Sequence["FittingSlot"] = (), message: str = "Tiden hann bokas av någon annan") -> None:
        super().__init__(message)
        self.alternatives = list(alternatives)


class TryAgain(FittingError):
    """PostgreSQL kept breaking deadlocks between simultaneous bookings; nothing was saved."""

    def __init__(self) -> None:
        super().__init__("Många bokar samma tid just nu och ingenting sparades. Försök igen.")


@dataclass(frozen=True)
class ProductAreaInfo:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Template:
    id: int
    organisation_id: int
    consultant_id: int
    weekday: int  # 0 = Monday
    start_time: time  # Stockholm local time
    end_time: time
    product_area_ids: tuple[int, ...]
    place: str
    slot_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    valid_from: date
    valid_to: date | None
    resource_ids: tuple[int, ...]


@dataclass(frozen=True)
class FittingSlot:
    consultant_id: int
    consultant_name: str
    place: str
    product_area_id: int
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    template_id: int
    resource_ids: tuple[int, ...] = ()
    working_days_since_referral: int | None = None
    # The consultant's time taken, buffers included (not shown; used for the checks).
    blocked_from: datetime = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    blocked_until: datetime = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(STOCKHOLM)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(STOCKHOLM)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


# --- pure rules -------------------------------------------------------------------


@lru_cache(maxsize=64)
def _closed_days(year: int) -> frozenset[date]:
    # Public and de facto holidays (midsommarafton, julafton, nyårsafton), not plain Sundays.
    calendar = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))
    return frozenset(calendar.keys())


def is_public_holiday(day: date) -> bool:
    return day in _closed_days(day.year)


def local_date(instant: datetime) -> date:
    """The date in Stockholm of a UTC instant."""
    return instant.astimezone(STOCKHOLM).date()


def local_to_utc(day: date, at: time) -> datetime:
    """A Stockholm wall-clock time on `day` as a UTC instant."""
    return datetime.combine(day, at, tzinfo=STOCKHOLM).astimezone(UTC)


def day_bounds_utc(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """Whole Stockholm days `first_day`..`last_day` (inclusive) as a UTC range."""
    return local_to_utc(first_day, time(0)), local_to_utc(last_day + timedelta(days=1), time(0))


def template_slots(template: Template, day: date, product_area_id: int) -> list[tuple[datetime, datetime, datetime, datetime]]:
    """The slots `template` gives on `day`: (start, end, blocked_from, blocked_until) in UTC.

    Empty when the template does not apply that day (weekday, validity, public holiday).
    """
    if day.weekday() != template.weekday or day < template.valid_from:
        return []
    if template.valid_to is not None and day > template.valid_to:
        return []
    if is_public_holiday(day):
        return []
    window_start = local_to_utc(day, template.start_time)
    window_end = local_to_utc(day, template.end_time)
    length = timedelta(minutes=template.slot_minutes)
    before = timedelta(minutes=template.buffer_before_minutes)
    after = timedelta(minutes=template.buffer_after_minutes)
    slots = []
    start = window_start
    while start + length <= window_end:
        slots.append((start, start + length, start - before, start + length + after))
        start = start + length + after + before
    return slots


def _overlaps(ranges: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(r_start < end and start < r_end for r_start, r_end in ranges)


# --- slot search --------------------------------------------------------------------


def template_from_row(row: asyncpg.Record) -> Template:
    return Template(
        id=row["id"],
        organisation_id=row["organisation"],
        consultant_id=row["consultant"],
        weekday=row["weekday"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        product_area_ids=tuple(row["product_areas"]),
        place=row["place"],
        slot_minutes=row["slot_minutes"],
        buffer_before_minutes=row["buffer_before_minutes"],
        buffer_after_minutes=row["buffer_after_minutes"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        resource_ids=tuple(row["resources"]),
    )


@dataclass
class _Busy:
    """Everything that can take a slot away, loaded once per search."""

    bookings: dict[int, list[tuple[datetime, datetime]]]  # consultant -> blocked ranges
    exceptions: dict[int, list[tuple[datetime, datetime]]]  # consultant -> ranges
    holds: dict[int, list[tuple[datetime, datetime]]]  # resource -> held ranges
    inactive_resources: set[int]

    def slot_state(self, consultant_id: int, resource_ids: Iterable[int], start: datetime, end: datetime) -> str:
        """'free', 'away' (exception or resource withdrawn) or 'taken'."""
        if _overlaps(self.exceptions.get(consultant_id, ()), start, end):
            return "away"
        if any(r in self.inactive_resources for r in resource_ids):
            return "away"
        if _overlaps(self.bookings.get(consultant_id, ()), start, end):
            return "taken"
        if any(_overlaps(self.holds.get(r, ()), start, end) for r in resource_ids):
            return "taken"
        return "free"


async def _load_templates(
    conn: asyncpg.Connection, organisation_id: int, product_area_id: int, place: str,
    first_day: date, last_day: date, consultant_id: int | None,
) -> list[tuple[Template, str]]:
    rows = await conn.fetch(
        """
        SELECT t.*, s.name AS consultant_name
          FROM availability_template t
          JOIN staff_user s ON s.id = t.consultant
         WHERE t.organisation = $1 AND $2 = ANY(t.product_areas) AND t.place = $3
           AND t.valid_from <= $5 AND (t.valid_to IS NULL OR t.valid_to >= $4)
           AND s.active AND s.role = 'consultant'
           AND ($6::int IS NULL OR t.consultant = $6)
        """,
        organisation_id, product_area_id, place, first_day, last_day, consultant_id,
    )
    return [(template_from_row(r), r["consultant_name"]) for r in rows]


async def _load_busy(
    conn: asyncpg.Connection, consultant_ids: list[int], resource_ids: list[int],
    start: datetime, end: datetime, exclude_booking: int | None,
) -> _Busy:
    busy = _Busy(bookings={}, exceptions={}, holds={}, inactive_resources=set())
    rows = await conn.fetch(
        """
        SELECT consultant, blocked_from, blocked_until FROM fitting_booking
         WHERE consultant = ANY($1::int[]) AND status = 'booked'
           AND blocked_from < $3 AND blocked_until > $2
           AND ($4::int IS NULL OR id <> $4)
        """,
        consultant_ids, start, end, exclude_booking,
    )
    for r in rows:
        busy.bookings.setdefault(r["consultant"], []).append((r["blocked_from"], r["blocked_until"]))
    rows = await conn.fetch(
        """
        SELECT consultant, starts_at, ends_at FROM availability_exception
         WHERE consultant = ANY($1::int[]) AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)
        """,
        consultant_ids, start, end,
    )
    for r in rows:
        busy.exceptions.setdefault(r["consultant"], []).append((r["starts_at"], r["ends_at"]))
    if resource_ids:
        rows = await conn.fetch(
            """
            SELECT resource, starts_at, ends_at FROM fitting_resource_hold
             WHERE resource = ANY($1::int[]) AND active
               AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)
               AND ($4::int IS NULL OR booking <> $4)
            """,
            resource_ids, start, end, exclude_booking,
        )
        for r in rows:
            busy.holds.setdefault(r["resource"], []).append((r["starts_at"], r["ends_at"]))
        rows = await conn.fetch(
            "SELECT id FROM fitting_resource WHERE id = ANY($1::int[]) AND NOT active", resource_ids
        )
        busy.inactive_resources = {r["id"] for r in rows}
    return busy


async def search_slots(
    conn: asyncpg.Connection,
    *,
    organisation_id: int,
    product_area_id: int,
    place: str,
    earliest: datetime,
    latest: datetime,
    referral_date: date | None = None,
    consultant_id: int | None = None,
    exclude_booking: int | None = None,
    limit: int | None = DEFAULT_SLOT_LIMIT,
    states: frozenset[str] = frozenset({"free"}),
) -> list[tuple[FittingSlot, str]]:
    """Slots starting in [earliest, latest], earliest first, with their state.

    The building block of `find_slots` and of the booking checks, on one connection.
    """
    first_day, last_day = local_date(earliest), local_date(latest)
    templates = await _load_templates(
        conn, organisation_id, product_area_id, place, first_day, last_day, consultant_id
    )
    if not templates:
        return []
    consultants = sorted({t.consultant_id for t, _ in templates})
    resources = sorted({r for t, _ in templates for r in t.resource_ids})
    # Buffers reach at most 4 hours either side of a slot.
    margin = timedelta(hours=5)
    busy = await _load_busy(conn, consultants, resources, earliest - margin, latest + margin, exclude_booking)

    found: list[tuple[FittingSlot, str]] = []
    day = first_day
    while day <= last_day:
        today: dict[tuple[datetime, int], tuple[FittingSlot, str]] = {}
        for template, consultant_name in templates:
            for start, end, blocked_from, blocked_until in template_slots(template, day, product_area_id):
                if not earliest <= start <= latest:
                    continue
                state = busy.slot_state(template.consultant_id, template.resource_ids, blocked_from, blocked_until)
                if state not in states:
                    continue
                key = (start, template.consultant_id)
                if key in today and today[key][1] == "free":
                    continue  # two templates give the same time; offer it once
                today[key] = (
                    FittingSlot(
                        consultant_id=template.consultant_id,
                        consultant_name=consultant_name,
                        place=template.place,
                        product_area_id=product_area_id,
                        starts_at=start,
                        ends_at=end,
                        template_id=template.id,
                        resource_ids=template.resource_ids,
                        working_days_since_referral=(
                            working_days_between(referral_date, local_date(start)) if referral_date else None
                        ),
                        blocked_from=blocked_from,
                        blocked_until=blocked_until,
                    ),
                    state,
                )
        for key in sorted(today, key=lambda k: (k[0], today[k][0].consultant_name, k[1])):
            found.append(today[key])
            if limit is not None and len(found) >= limit:
                return found
        day += timedelta(days=1)
    return found


def booking_window(
    now: datetime, min_notice_hours: float, horizon_days: int, from_time: datetime | None = None
) -> tuple[datetime, datetime]:
    """The earliest and latest start a booking may have right now."""
    earliest = now + timedelta(hours=min_notice_hours)
    if from_time is not None and from_time > earliest:
        earliest = from_time
    return earliest, now + timedelta(days=horizon_days)


async def find_slots(
    organisation_id: int,
    product_area_id: int,
    place: str,
    from_time: datetime | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    min_notice_hours: float = DEFAULT_MIN_NOTICE_HOURS,
    now: datetime | None = None,
    limit: int = DEFAULT_SLOT_LIMIT,
    *,
    referral_date: date | None = None,
    consultant_id: int | None = None,
    exclude_booking: int | None = None,
) -> list[FittingSlot]:
    """The earliest free fitting slots, earliest first.

    `from_time` pages on ("later times"); minimum notice and the horizon count from `now`.
    With `referral_date`, each slot says how many working days have passed since it.
    """
    now = now or datetime.now(UTC)
    earliest, latest = booking_window(now, min_notice_hours, horizon_days, from_time)
    if earliest > latest:
        return []
    async with db.connection() as conn:
        found = await search_slots(
            conn,
            organisation_id=organisation_id,
            product_area_id=product_area_id,
            place=place,
            earliest=earliest,
            latest=latest,
            referral_date=referral_date,
            consultant_id=consultant_id,
            exclude_booking=exclude_booking,
            limit=limit,
        )
    return [slot for slot, _ in found]
