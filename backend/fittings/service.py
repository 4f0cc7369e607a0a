"""Fitting rules, the domain's one entry point: routes and other domains import from here.

Here: setting up availability (product areas, resources, weekly templates, exceptions)
and the service level. The slot search lives in availability.py, booking, moving and
cancelling in booking.py, calendar feeds in ics.py; all are re-exported from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable

import asyncpg

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.fittings.availability import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_MIN_NOTICE_HOURS,
    DEFAULT_PRODUCT_AREAS,
    PLACE_LABELS,
    RESOURCE_KIND_LABELS,
    SLOT_MINUTES,
    FittingError,
    FittingSlot,
    InvalidInput,
    NotAllowed,
    NotFound,
    OutsideBookingWindow,
    ProductAreaInfo,
    SlotNotOffered,
    SlotTaken,
    TryAgain,
    Template,
    day_bounds_utc,
    find_slots,
    is_public_holiday,
    local_date,
    local_to_utc,
    template_from_row,
)
from backend.fittings.booking import (
    EVENT_LABELS,
    Booking,
    BookingEvent,
    Referral,
    book_fitting,
    booking_history,
    bookings_for_care_unit,
    bookings_for_staff,
    cancel_fitting,
    get_booking,
    may_change,
    reschedule_fitting,
)
from backend.fittings.ics import (
    calendar_feed,
    create_feed_token,
    revoke_feed_token,
    staff_user_for_feed_token,
)
from backend.fittings.tables import Place, ResourceKind
from backend.workorders.service import clocks_for

__all__ = [
    "DEFAULT_HORIZON_DAYS", "DEFAULT_MIN_NOTICE_HOURS", "DEFAULT_PRODUCT_AREAS", "EVENT_LABELS",
    "PLACE_LABELS", "RESOURCE_KIND_LABELS", "Booking", "BookingEvent", "FittingError", "FittingSlot",
    "InvalidInput", "NotAllowed", "NotFound", "OutsideBookingWindow", "ProductAreaInfo", "Referral",
    "ServiceLevelRow", "SlotNotOffered", "SlotTaken", "Template", "TryAgain", "add_exception", "add_exception_days",
    "add_resource", "book_fitting", "booking_history", "bookings_for_care_unit", "bookings_for_staff",
    "calendar_feed", "cancel_fitting", "create_feed_token", "end_template", "ensure_default_product_areas",
    "find_slots", "fitting_service_level", "fitting_target_days", "get_booking", "is_public_holiday", "local_date", "local_to_utc",
    "list_product_areas", "list_templates", "may_change", "publish_template", "reschedule_fitting",
    "revoke_feed_token", "staff_user_for_feed_token", "ExceptionInfo", "PatientBrief", "booking_patients",
    "actor_may_change", "get_template", "list_consultants", "may_view", "list_exceptions", "list_resources", "remove_exception",
]


# --- setting up availability: product areas, resources, templates, exceptions -------


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
        raise InvalidInput("Ogiltig veckodag")
    if start_time >= end_time:
        raise InvalidInput("Sluttiden måste vara efter starttiden")
    if slot_minutes not in SLOT_MINUTES:
        raise InvalidInput("Tidslängden ska vara 60, 90 eller 120 minuter")
    if place not in {p.value for p in Place}:
        raise InvalidInput("Okänd plats")
    if not areas:
        raise InvalidInput("Välj minst ett produktområde")
    if not (0 <= buffer_before_minutes <= 240 and 0 <= buffer_after_minutes <= 240):
        raise InvalidInput("Bufferttiden ska vara 0–240 minuter")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput("Slutdatumet måste vara efter startdatumet")
    async with db.connection() as conn:
        async with conn.transaction():
            await _require_consultant(conn, organisation_id, consultant_id)
            known_areas = await conn.fetchval(
                "SELECT count(*) FROM product_area WHERE organisation = $1 AND id = ANY($2::int[])",
                organisation_id, list(areas),
            )
            if known_areas != len(areas):
                raise InvalidInput("Okänt produktområde")
            known_resources = await conn.fetchval(
                "SELECT count(*) FROM fitting_resource WHERE organisation = $1 AND active AND id = ANY($2::int[])",
                organisation_id, list(resources),
            )
            if known_resources != len(resources):
                raise InvalidInput("Okänd resurs")
            row = await conn.fetchrow(
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


async def add_exception(
    *, organisation_id: int, consultant_id: int, starts_at: datetime, ends_at: datetime, reason: str
) -> int:
    """Take a consultant out of their templates for a while (leave, a course)."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("Tider måste ha tidszon")
    if starts_at >= ends_at:
        raise InvalidInput("Slutet måste vara efter början")
    async with db.connection() as conn:
        await _require_consultant(conn, organisation_id, consultant_id)
        return await conn.fetchval(
            "INSERT INTO availability_exception (organisation, consultant, starts_at, ends_at, reason) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            organisation_id, consultant_id, starts_at, ends_at, reason.strip(),
        )


async def add_exception_days(
    *, organisation_id: int, consultant_id: int, first_day: date, last_day: date, reason: str
) -> int:
    """Whole Stockholm days off, `first_day` to `last_day` inclusive."""
    starts_at, ends_at = day_bounds_utc(first_day, last_day)
    return await add_exception(
        organisation_id=organisation_id, consultant_id=consultant_id,
        starts_at=starts_at, ends_at=ends_at, reason=reason,
    )


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


async def get_template(template_id: int) -> Template | None:
    row = await db.fetchrow("SELECT * FROM availability_template WHERE id = $1", template_id)
    return template_from_row(row) if row else None


async def list_consultants(organisation_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, name FROM staff_user WHERE organisation = $1 AND role = 'consultant' AND active ORDER BY name",
        organisation_id,
    )
    return [dict(r) for r in rows]


async def list_resources(organisation_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT id, kind, name FROM fitting_resource WHERE organisation = $1 AND active ORDER BY kind, name",
        organisation_id,
    )
    return [{**dict(r), "kind_label": RESOURCE_KIND_LABELS[ResourceKind(r["kind"])]} for r in rows]


@dataclass(frozen=True)
class PatientBrief:
    """What a booking shows of its patient; protected identities show no address."""

    id: int
    name: str
    personal_number: str
    phone: str
    address: str | None  # None for a protected identity


async def booking_patients(actor: Actor, bookings: Iterable[Booking], what: str) -> dict[int, PatientBrief]:
    """The patients of bookings the actor may already see, read and audit-logged together."""
    ids = sorted({b.patient_id for b in bookings})
    if not ids:
        return {}
    rows = await db.fetch(
        "SELECT id, given_name, family_name, personal_number, phone, street, postal_code, city, "
        "protected_identity FROM patient WHERE id = ANY($1::int[]) AND organisation = $2",
        ids, actor.organisation,
    )
    await record_patient_reads(actor, [r["id"] for r in rows], what)
    return {
        r["id"]: PatientBrief(
            id=r["id"], name=f"{r['given_name']} {r['family_name']}", personal_number=r["personal_number"],
            phone=r["phone"] or "",
            address=None if r["protected_identity"] else f"{r['street']}, {r['postal_code']} {r['city']}",
        )
        for r in rows
    }


def may_view(booking: Booking, actor: Actor) -> bool:
    """Who may open a booking: its consultant, prescribers of its unit, coordinators and admins."""
    if booking.organisation_id != actor.organisation:
        return False
    if actor.role.value in ("coordinator", "admin"):
        return True
    if actor.role.value == "consultant":
        return booking.consultant_id == actor.id
    if actor.role.value == "prescriber":
        return booking.care_unit_id == actor.care_unit
    return False


def actor_may_change(booking: Booking, actor: Actor) -> bool:
    """`may_change` for a signed-in actor and a booking read by `get_booking` (any status)."""
    return may_change(
        {"organisation": booking.organisation_id, "consultant": booking.consultant_id,
         "care_unit": booking.care_unit_id},
        {"id": actor.id, "organisation": actor.organisation, "role": actor.role.value,
         "care_unit": actor.care_unit, "active": True},
    )


async def _require_consultant(conn: asyncpg.Connection, organisation_id: int, consultant_id: int) -> str:
    row = await conn.fetchrow(
        "SELECT name FROM staff_user WHERE id = $1 AND organisation = $2 AND role = 'consultant' AND active",
        consultant_id, organisation_id,
    )
    if row is None:
        raise NotAllowed("Personen är inte konsulent i den här organisationen")
    return row["name"]




# --- service level -------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceLevelRow:
    """One month and product area: how many referrals were offered/booked a time in target."""

    month: date  # the first of the month of the referral date
    product_area_code: str
    product_area_name: str
    referrals: int
    offered_within: int  # first offered time within the target
    booked_within: int  # booked time within the target
    target_working_days: int

    @property
    def offered_share(self) -> float:
        return self.offered_within / self.referrals if self.referrals else 0.0

    @property
    def booked_share(self) -> float:
        return self.booked_within / self.referrals if self.referrals else 0.0


async def fitting_target_days(organisation_id: int) -> int:
    """Working days within which a fitting time should be offered (default 15)."""
    clocks = await db.fetchval("SELECT clocks FROM organisation WHERE id = $1", organisation_id)
    if isinstance(clocks, str):
        clocks = json.loads(clocks)
    return int(clocks_for(clocks or {})["fitting"]["start"])


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


async def fitting_service_level(
    organisation_id: int, from_month: date, to_month: date, *, target_working_days: int | None = None
) -> list[ServiceLevelRow]:
    """Share of referrals offered (and booked) a time within the target, by month and area.

    Months are those of the referral date, `from_month` to `to_month` inclusive. Cancelled
    bookings are left out: a referral cancelled and booked again counts once, by its booking.
    """
    target = target_working_days if target_working_days is not None else await fitting_target_days(organisation_id)
    rows = await db.fetch(
        """
        SELECT date_trunc('month', b.referral_date)::date AS month, pa.code, pa.name,
               count(*) AS referrals,
               count(*) FILTER (WHERE b.offered_working_days <= $4) AS offered_within,
               count(*) FILTER (WHERE b.booked_working_days <= $4) AS booked_within
          FROM fitting_booking b
          JOIN product_area pa ON pa.id = b.product_area
         WHERE b.organisation = $1 AND b.status = 'booked'
           AND b.referral_date >= $2 AND b.referral_date < $3
         GROUP BY 1, pa.code, pa.name
         ORDER BY 1, pa.name
        """,
        organisation_id, _first_of_month(from_month), _next_month(to_month), target,
    )
    return [
        ServiceLevelRow(
            month=r["month"], product_area_code=r["code"], product_area_name=r["name"],
            referrals=r["referrals"], offered_within=r["offered_within"],
            booked_within=r["booked_within"], target_working_days=target,
        )
        for r in rows
    ]
