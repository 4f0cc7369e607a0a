"""Consultants' availability: product areas, resources, weekly templates and absences.

Templates are weekly windows in Europe/Stockholm local time. Each day's window is
turned into UTC instants through zoneinfo, so 09:00 stays 09:00 on both sides of a
daylight-saving switch, and slot lengths are added in real time, so a 90-minute slot
lasts 90 real minutes even on the night the clocks change.

Slots lie within the window; consecutive slots are `buffer_after + buffer_before`
apart (`template_slots`). Which of them are free is the slot search's (slots.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable
from zoneinfo import ZoneInfo

import asyncpg
import holidays

from backend import db
from backend.accounts import service as accounts
from backend.accounts.tables import Role
from backend.fittings.errors import InvalidInput, NotAllowed, NotFound
from backend.fittings.tables import Place, ResourceKind

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = timezone.utc

SLOT_MINUTES = (60, 90, 120)
MAX_BUFFER_MINUTES = 240

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


def place_labels() -> dict[str, str]:
    """The places by their form value, with their Swedish names."""
    return {place.value: label for place, label in PLACE_LABELS.items()}


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
class ExceptionInfo:
    id: int
    consultant_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str

    @property
    def first_day(self) -> date:
        return local_date(self.starts_at)

    @property
    def last_day(self) -> date:
        """The last Stockholm day it covers (the end is exclusive)."""
        return local_date(self.ends_at - timedelta(microseconds=1))


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


# --- product areas, resources, consultants ------------------------------------------


async def ensure_default_product_areas(organisation_id: int) -> list[ProductAreaInfo]:
    """Create the standard product areas for an organisation (idempotent)."""
    for code, name in DEFAULT_PRODUCT_AREAS:
        await db.execute(
            "INSERT INTO product_area (organisation, code, name) VALUES ($1, $2, $3) "
            "ON CONFLICT (organisation, code) DO NOTHING",
            organisation_id, code, name,
        )
    return await list_product_areas(organisation_id)


async def list_product_areas(organisation_id: int) -> list[ProductAreaInfo]:
    rows = await db.fetch(
        "SELECT id, code, name FROM product_area WHERE organisation = $1 AND active ORDER BY name",
        organisation_id,
    )
    return [ProductAreaInfo(id=r["id"], code=r["code"], name=r["name"]) for r in rows]


async def add_resource(organisation_id: int, kind: str, name: str) -> int:
    if kind not in {k.value for k in ResourceKind}:
        raise InvalidInput("Okänd resurstyp")
    if not name.strip():
        raise InvalidInput("Ange ett namn på resursen")
    return await db.fetchval(
        "INSERT INTO fitting_resource (organisation, kind, name) VALUES ($1, $2, $3) RETURNING id",
        organisation_id, kind, name.strip(),
    )


async def list_resources(organisation_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, kind, name FROM fitting_resource WHERE organisation = $1 AND active ORDER BY kind, name",
        organisation_id,
    )
    return [{**dict(r), "kind_label": RESOURCE_KIND_LABELS[ResourceKind(r["kind"])]} for r in rows]


async def list_consultants(organisation_id: int) -> list[dict]:
    """The organisation's active consultants (id, name), by name."""
    return await accounts.staff_with_role(organisation_id, Role.consultant)


async def _require_consultant(organisation_id: int, consultant_id: int) -> None:
    if await accounts.staff_role(organisation_id, consultant_id) is not Role.consultant:
        raise NotAllowed("Personen är inte konsulent i den här organisationen")


# --- weekly templates ----------------------------------------------------------------


async def publish_template(
    *,
    organisation_id: int,
    consultant_id: int,
    weekday: int,
    start_time: time,
    end_time: time,
    product_area_ids: Iterable[int],
    place: str,
    slot_minutes: int,
    valid_from: date,
    valid_to: date | None = None,
    buffer_before_minutes: int = 0,
    buffer_after_minutes: int = 0,
    resource_ids: Iterable[int] = (),
) -> Template:
    """Publish a weekly availability window for a consultant."""
    areas = tuple(sorted(set(product_area_ids)))
    resources = tuple(sorted(set(resource_ids)))
    if not 0 <= weekday <= 6:
        raise InvalidInput("Välj veckodag.", "weekday")
    if start_time >= end_time:
        raise InvalidInput("Sluttiden måste vara efter starttiden", "end_time")
    if slot_minutes not in SLOT_MINUTES:
        raise InvalidInput("Tidslängden ska vara 60, 90 eller 120 minuter", "slot_minutes")
    if place not in {p.value for p in Place}:
        raise InvalidInput("Okänd plats")
    if not areas:
        raise InvalidInput("Välj minst ett produktområde", "product_areas")
    if not (0 <= buffer_before_minutes <= MAX_BUFFER_MINUTES and 0 <= buffer_after_minutes <= MAX_BUFFER_MINUTES):
        raise InvalidInput("Bufferttiden ska vara 0–240 minuter", "buffer_before")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput("Slutdatumet måste vara efter startdatumet", "valid_to")
    async with db.transaction():
        await _require_consultant(organisation_id, consultant_id)
        known_areas = await db.fetchval(
            "SELECT count(*) FROM product_area WHERE organisation = $1 AND id = ANY($2::int[])",
            organisation_id, list(areas),
        )
        if known_areas != len(areas):
            raise InvalidInput("Okänt produktområde")
        known_resources = await db.fetchval(
            "SELECT count(*) FROM fitting_resource WHERE organisation = $1 AND active AND id = ANY($2::int[])",
            organisation_id, list(resources),
        )
        if known_resources != len(resources):
            raise InvalidInput("Okänd resurs")
        row = await db.fetchrow(
            """
            INSERT INTO availability_template (organisation, consultant, weekday, start_time,
                end_time, product_areas, place, slot_minutes, buffer_before_minutes,
                buffer_after_minutes, valid_from, valid_to, resources)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            RETURNING *
            """,
            organisation_id, consultant_id, weekday, start_time, end_time, list(areas), place,
            slot_minutes, buffer_before_minutes, buffer_after_minutes, valid_from, valid_to,
            list(resources),
        )
    return template_from_row(row)


async def end_template(template_id: int, last_day: date) -> None:
    """Stop a template after `last_day`; bookings already made stay."""
    await db.execute(
        "UPDATE availability_template SET valid_to = GREATEST(valid_from, $2) WHERE id = $1",
        template_id, last_day,
    )


async def list_templates(consultant_id: int) -> list[Template]:
    rows = await db.fetch(
        "SELECT * FROM availability_template WHERE consultant = $1 ORDER BY weekday, start_time",
        consultant_id,
    )
    return [template_from_row(r) for r in rows]


async def get_template(template_id: int) -> Template | None:
    row = await db.fetchrow("SELECT * FROM availability_template WHERE id = $1", template_id)
    return template_from_row(row) if row else None


# --- absences (exceptions to the templates) -------------------------------------------


async def add_exception(
    *, organisation_id: int, consultant_id: int, starts_at: datetime, ends_at: datetime, reason: str
) -> int:
    """Take a consultant out of their templates for a while (leave, a course)."""
    if not reason.strip():
        raise InvalidInput("Skriv anledningen, t.ex. semester eller kurs.", "absence_reason")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("Tider måste ha tidszon")
    if starts_at >= ends_at:
        raise InvalidInput("Slutet måste vara efter början", "last_day")
    await _require_consultant(organisation_id, consultant_id)
    return await db.fetchval(
        "INSERT INTO availability_exception (organisation, consultant, starts_at, ends_at, reason) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        organisation_id, consultant_id, starts_at, ends_at, reason.strip(),
    )


async def add_exception_days(
    *, organisation_id: int, consultant_id: int, first_day: date, last_day: date, reason: str
) -> int:
    """Whole Stockholm days off, `first_day` to `last_day` inclusive."""
    if last_day < first_day:
        raise InvalidInput("Sista dagen måste vara samma dag som eller efter första dagen.", "last_day")
    starts_at, ends_at = day_bounds_utc(first_day, last_day)
    return await add_exception(
        organisation_id=organisation_id, consultant_id=consultant_id,
        starts_at=starts_at, ends_at=ends_at, reason=reason,
    )


async def list_exceptions(consultant_id: int, *, since: datetime | None = None) -> list[ExceptionInfo]:
    """A consultant's absences, those still running or to come when `since` is given."""
    rows = await db.fetch(
        "SELECT id, consultant, starts_at, ends_at, reason FROM availability_exception "
        "WHERE consultant = $1 AND ($2::timestamptz IS NULL OR ends_at > $2) ORDER BY starts_at",
        consultant_id, since,
    )
    return [ExceptionInfo(r["id"], r["consultant"], r["starts_at"], r["ends_at"], r["reason"]) for r in rows]


async def remove_exception(organisation_id: int, consultant_id: int, exception_id: int) -> None:
    """Take back an absence: the consultant's templates apply again for that time."""
    deleted = await db.execute(
        "DELETE FROM availability_exception WHERE id = $1 AND organisation = $2 AND consultant = $3",
        exception_id, organisation_id, consultant_id,
    )
    if deleted != "DELETE 1":
        raise NotFound("Frånvaron finns inte")


async def absences_between(staff_ids: list[int], starts_at: datetime, ends_at: datetime
                           ) -> list[tuple[int, datetime, datetime]]:
    """Everyone's absences (consultants' and technicians') that overlap [starts_at, ends_at), as
    (staff_user, starts_at, ends_at): what route planning takes out of technicians' days."""
    rows = await db.fetch(
        "SELECT consultant, starts_at, ends_at FROM availability_exception "
        "WHERE consultant = ANY($1::int[]) AND starts_at < $3 AND ends_at > $2 ORDER BY consultant, starts_at",
        staff_ids, starts_at, ends_at,
    )
    return [(r["consultant"], r["starts_at"], r["ends_at"]) for r in rows]


async def add_absence_days(*, organisation_id: int, staff_user_id: int, first_day: date, last_day: date,
                           reason: str) -> int:
    """Whole Stockholm days off for anyone of the organisation (a technician's leave, for route
    planning); the consultants' own page keeps add_exception_days, which checks the role."""
    if last_day < first_day:
        raise InvalidInput("Sista dagen måste vara samma dag som eller efter första dagen.", "last_day")
    if not reason.strip():
        raise InvalidInput("Skriv anledningen, t.ex. semester eller kurs.", "absence_reason")
    if await accounts.staff_role(organisation_id, staff_user_id) is None:
        raise NotFound("Personen finns inte")
    starts_at, ends_at = day_bounds_utc(first_day, last_day)
    return await db.fetchval(
        "INSERT INTO availability_exception (organisation, consultant, starts_at, ends_at, reason) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        organisation_id, staff_user_id, starts_at, ends_at, reason.strip(),
    )
