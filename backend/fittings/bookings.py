"""The bookings as people read them: one booking, the lists, its history and its patient,
and who may see or change a booking. Changing one (book, move, cancel) is booking.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

import asyncpg

from backend import db
from backend.accounts import service as accounts
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.db import Sql, raw
from backend.fittings.availability import UTC
from backend.fittings.errors import NotFound
from backend.patients import service as patients


@dataclass(frozen=True)
class Referral:
    """What the prescriber writes (remiss): the problem, the goal and the practical needs."""

    referral_date: date
    problem: str
    goal: str
    urgent: bool = False  # brådskande: held to 5 working days by the service level
    current_devices: str = ""
    attendees: str = ""  # who attends besides the patient and the consultant
    interpreter_needed: bool = False
    interpreter_language: str = ""
    access_notes: str = ""


@dataclass(frozen=True)
class Booking:
    id: int
    organisation_id: int
    reference: str  # UT-2026-00042
    uid: str  # the ICS UID
    patient_id: int
    prescriber_id: int
    care_unit_id: int
    product_area_id: int
    product_area_name: str
    place: str
    consultant_id: int
    consultant_name: str
    prescriber_name: str
    starts_at: datetime  # UTC
    ends_at: datetime
    referral: Referral
    status: str  # booked | cancelled
    cancel_reason: str | None
    cancelled_by: int | None
    cancelled_at: datetime | None
    sequence: int
    first_offered_at: datetime
    offered_working_days: int  # referral date -> first offered time
    booked_working_days: int  # referral date -> booked time
    resource_ids: tuple[int, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class BookingEvent:
    """One line of a booking's history: both the prescriber and the consultant read it."""

    at: datetime
    actor_id: int
    actor_name: str
    kind: str  # booked | rescheduled | cancelled
    reason: str
    starts_at: datetime
    previous_starts_at: datetime | None


EVENT_LABELS = {"booked": "Bokad", "rescheduled": "Flyttad", "cancelled": "Avbokad"}


@dataclass(frozen=True)
class PatientBrief:
    """What a booking shows of its patient; protected identities show no address."""

    id: int
    name: str
    personal_number: str
    phone: str
    address: str | None  # None for a protected identity


# --- who may see and change a booking ------------------------------------------------


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


def may_change(booking: asyncpg.Record | dict, actor: asyncpg.Record | dict | None) -> bool:
    """Who may move or cancel: the booking's consultant, prescribers of the booking's unit,
    and the organisation's coordinators (who run the consultants' calendars)."""
    if actor is None or not actor["active"] or actor["organisation"] != booking["organisation"]:
        return False
    if actor["id"] == booking["consultant"] or actor["role"] == "coordinator":
        return True
    if actor["role"] == "prescriber":
        return actor["care_unit"] == booking["care_unit"]
    return False


def actor_may_change(booking: Booking, actor: Actor) -> bool:
    """`may_change` for a signed-in actor and a booking read by `get_booking` (any status)."""
    return may_change(
        {"organisation": booking.organisation_id, "consultant": booking.consultant_id,
         "care_unit": booking.care_unit_id},
        {"id": actor.id, "organisation": actor.organisation, "role": actor.role.value,
         "care_unit": actor.care_unit, "active": True},
    )


def can_change_now(booking: Booking, actor: Actor, now: datetime | None = None) -> bool:
    """Whether the actor may move or cancel the booking now: still booked, not yet begun, and theirs
    to change (the same three things `cancel_fitting` and `reschedule_fitting` insist on)."""
    now = now or datetime.now(UTC)
    return booking.status == "booked" and booking.starts_at > now and actor_may_change(booking, actor)


# --- reading bookings --------------------------------------------------------------------


def _bookings_where(condition: Sql) -> Sql:
    """The bookings for which `condition` holds (on the alias b), by start time."""
    return Sql(
        """
        SELECT b.*, pa.name AS product_area_name, :consultant_name AS consultant_name,
               :prescriber_name AS prescriber_name,
               COALESCE((SELECT array_agg(h.resource ORDER BY h.resource) FROM fitting_resource_hold h
                          WHERE h.booking = b.id AND h.active), '{}') AS resource_ids
          FROM fitting_booking b
          JOIN product_area pa ON pa.id = b.product_area
         WHERE :condition
         ORDER BY b.starts_at, b.id
        """,
        consultant_name=accounts.staff_name(raw("b.consultant")),
        prescriber_name=accounts.staff_name(raw("b.prescriber")),
        condition=condition,
    )


def _booking(row: asyncpg.Record) -> Booking:
    return Booking(
        id=row["id"],
        organisation_id=row["organisation"],
        reference=row["reference"],
        uid=row["uid"],
        patient_id=row["patient"],
        prescriber_id=row["prescriber"],
        care_unit_id=row["care_unit"],
        product_area_id=row["product_area"],
        product_area_name=row["product_area_name"],
        place=row["place"],
        consultant_id=row["consultant"],
        consultant_name=row["consultant_name"],
        prescriber_name=row["prescriber_name"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        referral=Referral(
            referral_date=row["referral_date"],
            urgent=row["urgent"],
            problem=row["problem"],
            goal=row["goal"],
            current_devices=row["current_devices"],
            attendees=row["attendees"],
            interpreter_needed=row["interpreter_needed"],
            interpreter_language=row["interpreter_language"],
            access_notes=row["access_notes"],
        ),
        status=row["status"],
        cancel_reason=row["cancel_reason"],
        cancelled_by=row["cancelled_by"],
        cancelled_at=row["cancelled_at"],
        sequence=row["sequence"],
        first_offered_at=row["first_offered_at"],
        offered_working_days=row["offered_working_days"],
        booked_working_days=row["booked_working_days"],
        resource_ids=tuple(row["resource_ids"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def get_booking(booking_id: int) -> Booking:
    """The booking, in any status (inside a transaction: as that transaction sees it)."""
    row = await db.fetchrow(_bookings_where(Sql("b.id = :id", id=booking_id)))
    if row is None:
        raise NotFound("Bokningen finns inte")
    return _booking(row)


async def bookings_for_staff(
    staff_user_id: int, *, since: datetime | None = None, include_cancelled: bool = True
) -> list[Booking]:
    """A consultant's or prescriber's bookings (as either), by start time."""
    rows = await db.fetch(_bookings_where(Sql(
        "(b.consultant = :who OR b.prescriber = :who) AND (:since::timestamptz IS NULL OR b.ends_at >= :since) "
        "AND (:cancelled OR b.status = 'booked')",
        who=staff_user_id, since=since, cancelled=include_cancelled,
    )))
    return [_booking(r) for r in rows]


async def bookings_for_care_unit(care_unit_id: int, *, since: datetime | None = None) -> list[Booking]:
    """Every booking a unit's prescribers made: colleagues cover for each other."""
    rows = await db.fetch(_bookings_where(Sql(
        "b.care_unit = :unit AND (:since::timestamptz IS NULL OR b.ends_at >= :since)", unit=care_unit_id, since=since,
    )))
    return [_booking(r) for r in rows]


async def upcoming_bookings(actor: Actor, *, consultant_id: int | None = None,
                            now: datetime | None = None) -> list[Booking]:
    """The bookings not yet over that the actor's list shows: every booking of a prescriber's
    unit, a consultant's own, and for coordinators and admins those of the consultant they chose
    (`consultant_id`; none before they choose)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=1)
    if actor.role is Role.prescriber:
        bookings = await bookings_for_care_unit(actor.care_unit, since=since)
    else:
        if actor.role is Role.consultant:
            consultant_id = actor.id
        if consultant_id is None:
            return []
        bookings = [b for b in await bookings_for_staff(consultant_id, since=since) if b.consultant_id == consultant_id]
    return [b for b in bookings if b.ends_at >= now]


async def booking_history(booking_id: int) -> list[BookingEvent]:
    rows = await db.fetch(Sql(
        "SELECT e.*, :actor_name AS actor_name FROM fitting_booking_event e WHERE e.booking = :id ORDER BY e.at, e.id",
        actor_name=accounts.staff_name(raw("e.actor")), id=booking_id,
    ))
    return [
        BookingEvent(
            at=r["at"], actor_id=r["actor"], actor_name=r["actor_name"], kind=r["kind"],
            reason=r["reason"], starts_at=r["starts_at"], previous_starts_at=r["previous_starts_at"],
        )
        for r in rows
    ]


async def booking_patients(actor: Actor, bookings: Iterable[Booking], what: str) -> dict[int, PatientBrief]:
    """The patients of bookings the actor may already see, read and audit-logged together."""
    ids = sorted({b.patient_id for b in bookings})
    if not ids:
        return {}
    contacts = await patients.patient_contacts(actor, ids, what)
    return {c["id"]: PatientBrief(id=c["id"], name=c["name"], personal_number=c["personal_number"],
                                  phone=c["phone"], address=c["address"]) for c in contacts}
