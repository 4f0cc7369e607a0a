"""The search for free fitting slots, and the booking window it searches in.

A slot is free when the consultant's time around it, buffers included (the "blocked"
range), overlaps no booking, no exception, and no hold on any of the template's required
resources. The database enforces the same rule with exclusion constraints, so what
`find_slots` offers is exactly what `book_fitting` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

from backend import db
from backend.accounts import service as accounts
from backend.db import Sql, raw
from backend.fittings.availability import STOCKHOLM, UTC, Template, local_date, template_from_row, template_slots
from backend.organisations import service as organisations
from backend.workdays import working_days_between

DEFAULT_MIN_NOTICE_HOURS = 24
DEFAULT_HORIZON_DAYS = 90
DEFAULT_SLOT_LIMIT = 10


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


def _overlaps(ranges: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(r_start < end and start < r_end for r_start, r_end in ranges)


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
    organisation_id: int, product_area_id: int, place: str, first_day: date, last_day: date,
    consultant_id: int | None,
) -> list[tuple[Template, str]]:
    """The templates that may give slots in the days searched, of active consultants."""
    rows = await db.fetch(Sql(
        """
        SELECT t.*, s.name AS consultant_name
          FROM availability_template t
          JOIN LATERAL (:consultant) s ON true
         WHERE t.organisation = :org AND :area = ANY(t.product_areas) AND t.place = :place
           AND t.valid_from <= :last_day AND (t.valid_to IS NULL OR t.valid_to >= :first_day)
           AND s.active AND s.role = 'consultant'
           AND (:only::int IS NULL OR t.consultant = :only)
        """,
        consultant=accounts.staff_row(raw("t.consultant")), org=organisation_id, area=product_area_id,
        place=place, first_day=first_day, last_day=last_day, only=consultant_id,
    ))
    return [(template_from_row(r), r["consultant_name"]) for r in rows]


async def _load_busy(
    consultant_ids: list[int], resource_ids: list[int], start: datetime, end: datetime, exclude_booking: int | None,
) -> _Busy:
    busy = _Busy(bookings={}, exceptions={}, holds={}, inactive_resources=set())
    rows = await db.fetch(
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
    rows = await db.fetch(
        """
        SELECT consultant, starts_at, ends_at FROM availability_exception
         WHERE consultant = ANY($1::int[]) AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)
        """,
        consultant_ids, start, end,
    )
    for r in rows:
        busy.exceptions.setdefault(r["consultant"], []).append((r["starts_at"], r["ends_at"]))
    if resource_ids:
        rows = await db.fetch(
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
        rows = await db.fetch(
            "SELECT id FROM fitting_resource WHERE id = ANY($1::int[]) AND NOT active", resource_ids
        )
        busy.inactive_resources = {r["id"] for r in rows}
    return busy


async def search_slots(
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

    The building block of `find_slots` and of the booking checks; inside a transaction it
    reads what that transaction sees.
    """
    first_day, last_day = local_date(earliest), local_date(latest)
    templates = await _load_templates(organisation_id, product_area_id, place, first_day, last_day, consultant_id)
    if not templates:
        return []
    consultants = sorted({t.consultant_id for t, _ in templates})
    resources = sorted({r for t, _ in templates for r in t.resource_ids})
    # Buffers reach at most 4 hours either side of a slot.
    margin = timedelta(hours=5)
    busy = await _load_busy(consultants, resources, earliest - margin, latest + margin, exclude_booking)
    # The 15-working-day rule counts the HMC's own working days (closed days, extra open days).
    calendar = await organisations.work_calendar(organisation_id) if referral_date else None

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
                            working_days_between(referral_date, local_date(start), calendar) if calendar else None
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
    found = await search_slots(
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
