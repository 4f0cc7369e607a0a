"""Booking a fitting for a patient, moving it and cancelling it.

Every change checks and writes in one transaction; the exclusion constraints on
fitting_booking and fitting_resource_hold are the last word, so two prescribers racing
for the last slot get one booking and one `SlotTaken` with fresh alternatives.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Awaitable, Callable, TypeVar
from dataclasses import dataclass
from datetime import date, datetime
import asyncpg

from backend import db
from backend.fittings.availability import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_MIN_NOTICE_HOURS,
    UTC,
    FittingSlot,
    InvalidInput,
    NotAllowed,
    NotFound,
    OutsideBookingWindow,
    SlotNotOffered,
    SlotTaken,
    TryAgain,
    booking_window,
    find_slots,
    local_date,
    search_slots,
)
from backend.workdays import working_days_between

T = TypeVar("T")

ALTERNATIVES = 5


@dataclass(frozen=True)
class Referral:
    """What the prescriber writes (remiss): the problem, the goal and the practical needs."""

    referral_date: date
    problem: str
    goal: str
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


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise InvalidInput("Tider måste ha tidszon")
    return instant.astimezone(UTC)


def _check_referral(referral: Referral, today: date) -> None:
    if not referral.problem.strip():
        raise InvalidInput("Beskriv problemet i remissen")
    if not referral.goal.strip():
        raise InvalidInput("Beskriv målet med utprovningen")
    if referral.referral_date > today:
        raise InvalidInput("Remissdatumet kan inte vara i framtiden")
    if referral.interpreter_needed and not referral.interpreter_language.strip():
        raise InvalidInput("Ange språk för tolken")


def _check_window(starts_at: datetime, now: datetime, min_notice_hours: float, horizon_days: int) -> None:
    earliest, latest = booking_window(now, min_notice_hours, horizon_days)
    if starts_at < earliest:
        raise OutsideBookingWindow(f"Tiden måste bokas minst {min_notice_hours:g} timmar i förväg")
    if starts_at > latest:
        raise OutsideBookingWindow(f"Det går att boka högst {horizon_days} dagar framåt")


async def _claim_slot(
    conn: asyncpg.Connection, *, organisation_id: int, product_area_id: int, place: str,
    consultant_id: int, starts_at: datetime, exclude_booking: int | None,
) -> FittingSlot:
    """The consultant's slot at `starts_at` if it is offered and free; else a domain error.

    Claims for the same consultant queue on a transaction-scoped advisory lock, so the
    second of two racing prescribers sees the first one's booking here and is refused
    cleanly; the exclusion constraints stay the last word.
    """
    await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _CONSULTANT_LOCK, consultant_id)
    found = await search_slots(
        conn,
        organisation_id=organisation_id,
        product_area_id=product_area_id,
        place=place,
        earliest=starts_at,
        latest=starts_at,
        consultant_id=consultant_id,
        exclude_booking=exclude_booking,
        limit=None,
        states=frozenset({"free", "taken", "away"}),
    )
    states = [state for slot, state in found if slot.starts_at == starts_at]
    if "free" in states:
        return next(slot for slot, state in found if state == "free" and slot.starts_at == starts_at)
    if "taken" in states:
        raise SlotTaken()
    raise SlotNotOffered("Konsulenten har ingen ledig tid då")


# Namespace of the advisory locks above (any constant unlikely to be reused elsewhere).
_CONSULTANT_LOCK = 71_0001
# PostgreSQL aborts one of two transactions that wait on each other's uncommitted
# overlapping rows (e.g. two consultants' bookings holding the same room at once).
_RETRYABLE = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)
_ATTEMPTS = 8


async def _retrying(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a booking transaction again when PostgreSQL aborted it to break a deadlock;
    the next try sees the winner's committed row and is refused as taken."""
    for tries in range(1, _ATTEMPTS + 1):
        try:
            return await attempt()
        except _RETRYABLE:
            if tries == _ATTEMPTS:
                raise TryAgain() from None
            # Spread the retries out, so they meet the winner's committed row instead
            # of each other's uncommitted ones.
            await asyncio.sleep(random.uniform(0.01, 0.1) * tries)
    raise AssertionError("unreachable")


async def _alternatives(
    organisation_id: int, product_area_id: int, place: str, now: datetime, referral_date: date | None,
    min_notice_hours: float, horizon_days: int,
) -> list[FittingSlot]:
    return await find_slots(
        organisation_id, product_area_id, place, now=now, limit=ALTERNATIVES,
        min_notice_hours=min_notice_hours, horizon_days=horizon_days, referral_date=referral_date,
    )


async def _hold_resources(conn: asyncpg.Connection, organisation_id: int, booking_id: int, slot: FittingSlot) -> None:
    for resource_id in slot.resource_ids:
        await conn.execute(
            "INSERT INTO fitting_resource_hold (organisation, booking, resource, starts_at, ends_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            organisation_id, booking_id, resource_id, slot.blocked_from, slot.blocked_until,
        )


async def book_fitting(
    *,
    organisation_id: int,
    prescriber_id: int,
    patient_id: int,
    product_area_id: int,
    place: str,
    consultant_id: int,
    starts_at: datetime,
    referral: Referral,
    first_offered_at: datetime | None = None,
    now: datetime | None = None,
    min_notice_hours: float = DEFAULT_MIN_NOTICE_HOURS,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Booking:
    """The prescriber books the consultant's slot at `starts_at` for their unit's patient.

    `first_offered_at` is the earliest slot shown when the prescriber first opened the
    booking flow for this referral (the service level is measured on it); without it,
    the booked time counts as the first offer.
    """
    now = _utc(now or datetime.now(UTC))
    starts_at = _utc(starts_at)
    first_offered_at = _utc(first_offered_at) if first_offered_at else starts_at
    _check_referral(referral, local_date(now))
    _check_window(starts_at, now, min_notice_hours, horizon_days)

    async def attempt() -> Booking:
        async with db.connection() as conn:
            async with conn.transaction():
                prescriber = await conn.fetchrow(
                    "SELECT care_unit FROM staff_user "
                    "WHERE id = $1 AND organisation = $2 AND role = 'prescriber' AND active",
                    prescriber_id, organisation_id,
                )
                if prescriber is None:
                    raise NotAllowed("Bara förskrivare kan boka utprovning")
                patient_unit = await conn.fetchval(
                    "SELECT care_unit FROM patient WHERE id = $1 AND organisation = $2",
                    patient_id, organisation_id,
                )
                if patient_unit is None or patient_unit != prescriber["care_unit"]:
                    raise NotAllowed("Du kan bara boka för patienter på din egen enhet")
                slot = await _claim_slot(
                    conn, organisation_id=organisation_id, product_area_id=product_area_id,
                    place=place, consultant_id=consultant_id, starts_at=starts_at, exclude_booking=None,
                )
                number = await conn.fetchval("SELECT nextval('fitting_booking_number')")
                reference = f"UT-{local_date(now).year}-{number:05d}"
                booking_id = await conn.fetchval(
                    """
                    INSERT INTO fitting_booking (organisation, reference, uid, patient, prescriber,
                        care_unit, product_area, place, consultant, template, starts_at, ends_at,
                        blocked_from, blocked_until, referral_date, problem, goal, current_devices,
                        attendees, interpreter_needed, interpreter_language, access_notes, status,
                        sequence, first_offered_at, offered_working_days, booked_working_days,
                        created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                        $17, $18, $19, $20, $21, $22, 'booked', 0, $23, $24, $25, $26, $26)
                    RETURNING id
                    """,
                    organisation_id, reference, f"{uuid.uuid4()}@runda", patient_id, prescriber_id,
                    prescriber["care_unit"], product_area_id, place, consultant_id, slot.template_id,
                    slot.starts_at, slot.ends_at, slot.blocked_from, slot.blocked_until,
                    referral.referral_date, referral.problem.strip(), referral.goal.strip(),
                    referral.current_devices.strip(), referral.attendees.strip(),
                    referral.interpreter_needed, referral.interpreter_language.strip(),
                    referral.access_notes.strip(), first_offered_at,
                    working_days_between(referral.referral_date, local_date(first_offered_at)),
                    working_days_between(referral.referral_date, local_date(slot.starts_at)),
                    now,
                )
                await _hold_resources(conn, organisation_id, booking_id, slot)
                await _record_event(conn, organisation_id, booking_id, prescriber_id, "booked", "", slot.starts_at, None, now)
                return await _read_booking(conn, booking_id)

    try:
        return await _retrying(attempt)
    except (SlotTaken, asyncpg.exceptions.ExclusionViolationError):
        # The savepoint or transaction is rolled back by now; the alternatives are fresh.
        raise SlotTaken(
            await _alternatives(
                organisation_id, product_area_id, place, now, referral.referral_date,
                min_notice_hours, horizon_days,
            )
        ) from None


async def reschedule_fitting(
    *,
    booking_id: int,
    actor_id: int,
    starts_at: datetime,
    reason: str,
    consultant_id: int | None = None,
    now: datetime | None = None,
    min_notice_hours: float = DEFAULT_MIN_NOTICE_HOURS,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Booking:
    """Move a booking to another free slot (same or another consultant), atomically.

    The UID stays, SEQUENCE goes up, the first offer and the referral date stay.
    """
    now = _utc(now or datetime.now(UTC))
    starts_at = _utc(starts_at)
    if not reason.strip():
        raise InvalidInput("Ange varför tiden flyttas")
    _check_window(starts_at, now, min_notice_hours, horizon_days)
    current: asyncpg.Record | None = None

    async def attempt() -> Booking:
        nonlocal current
        async with db.connection() as conn:
            async with conn.transaction():
                current = await _lock_for_change(conn, booking_id, actor_id, now)
                slot = await _claim_slot(
                    conn, organisation_id=current["organisation"],
                    product_area_id=current["product_area"], place=current["place"],
                    consultant_id=consultant_id or current["consultant"], starts_at=starts_at,
                    exclude_booking=booking_id,
                )
                await conn.execute(
                    "UPDATE fitting_resource_hold SET active = false WHERE booking = $1 AND active", booking_id
                )
                await conn.execute(
                    """
                    UPDATE fitting_booking
                       SET consultant = $2, template = $3, starts_at = $4, ends_at = $5,
                           blocked_from = $6, blocked_until = $7, booked_working_days = $8,
                           sequence = sequence + 1, updated_at = $9
                     WHERE id = $1
                    """,
                    booking_id, slot.consultant_id, slot.template_id, slot.starts_at, slot.ends_at,
                    slot.blocked_from, slot.blocked_until,
                    working_days_between(current["referral_date"], local_date(slot.starts_at)), now,
                )
                await _hold_resources(conn, current["organisation"], booking_id, slot)
                await _record_event(
                    conn, current["organisation"], booking_id, actor_id, "rescheduled", reason.strip(),
                    slot.starts_at, current["starts_at"], now,
                )
                return await _read_booking(conn, booking_id)

    try:
        return await _retrying(attempt)
    except (SlotTaken, asyncpg.exceptions.ExclusionViolationError):
        assert current is not None
        raise SlotTaken(
            await find_slots(
                current["organisation"], current["product_area"], current["place"], now=now,
                limit=ALTERNATIVES, min_notice_hours=min_notice_hours, horizon_days=horizon_days,
                referral_date=current["referral_date"], exclude_booking=booking_id,
            )
        ) from None


async def cancel_fitting(*, booking_id: int, actor_id: int, reason: str, now: datetime | None = None) -> Booking:
    """Cancel (avboka) a booking with a reason; the other side reads who and why."""
    now = _utc(now or datetime.now(UTC))
    if not reason.strip():
        raise InvalidInput("Ange varför tiden avbokas")
    async with db.connection() as conn:
        async with conn.transaction():
            current = await _lock_for_change(conn, booking_id, actor_id, now)
            await conn.execute(
                "UPDATE fitting_resource_hold SET active = false WHERE booking = $1 AND active", booking_id
            )
            await conn.execute(
                """
                UPDATE fitting_booking
                   SET status = 'cancelled', cancel_reason = $2, cancelled_by = $3, cancelled_at = $4,
                       sequence = sequence + 1, updated_at = $4
                 WHERE id = $1
                """,
                booking_id, reason.strip(), actor_id, now,
            )
            await _record_event(
                conn, current["organisation"], booking_id, actor_id, "cancelled", reason.strip(),
                current["starts_at"], None, now,
            )
            return await _read_booking(conn, booking_id)


async def _lock_for_change(conn: asyncpg.Connection, booking_id: int, actor_id: int, now: datetime) -> asyncpg.Record:
    booking = await conn.fetchrow("SELECT * FROM fitting_booking WHERE id = $1 FOR UPDATE", booking_id)
    if booking is None:
        raise NotFound("Bokningen finns inte")
    actor = await conn.fetchrow(
        "SELECT id, organisation, role, care_unit, active FROM staff_user WHERE id = $1", actor_id
    )
    if not may_change(booking, actor):
        raise NotAllowed("Du kan inte ändra den här bokningen")
    if booking["status"] != "booked":
        raise NotAllowed("Bokningen är redan avbokad")
    if booking["starts_at"] <= now:
        raise NotAllowed("Tiden har redan passerat")
    return booking


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


async def _record_event(
    conn: asyncpg.Connection, organisation_id: int, booking_id: int, actor_id: int, kind: str,
    reason: str, starts_at: datetime, previous_starts_at: datetime | None, now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO fitting_booking_event (organisation, booking, at, actor, kind, reason, starts_at, "
        "previous_starts_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        organisation_id, booking_id, now, actor_id, kind, reason, starts_at, previous_starts_at,
    )


_BOOKING_SQL = """
SELECT b.*, pa.name AS product_area_name, c.name AS consultant_name, p.name AS prescriber_name,
       COALESCE((SELECT array_agg(h.resource ORDER BY h.resource) FROM fitting_resource_hold h
                  WHERE h.booking = b.id AND h.active), '{}') AS resource_ids
  FROM fitting_booking b
  JOIN product_area pa ON pa.id = b.product_area
  JOIN staff_user c ON c.id = b.consultant
  JOIN staff_user p ON p.id = b.prescriber
"""


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


async def _read_booking(conn: asyncpg.Connection, booking_id: int) -> Booking:
    row = await conn.fetchrow(_BOOKING_SQL + " WHERE b.id = $1", booking_id)
    if row is None:
        raise NotFound("Bokningen finns inte")
    return _booking(row)


async def get_booking(booking_id: int) -> Booking:
    async with db.connection() as conn:
        return await _read_booking(conn, booking_id)


async def bookings_for_staff(
    staff_user_id: int, *, since: datetime | None = None, include_cancelled: bool = True
) -> list[Booking]:
    """A consultant's or prescriber's bookings (as either), by start time."""
    rows = await db.fetch(
        _BOOKING_SQL
        + """
         WHERE (b.consultant = $1 OR b.prescriber = $1)
           AND ($2::timestamptz IS NULL OR b.ends_at >= $2)
           AND ($3 OR b.status = 'booked')
         ORDER BY b.starts_at, b.id
        """,
        staff_user_id, since, include_cancelled,
    )
    return [_booking(r) for r in rows]


async def bookings_for_care_unit(care_unit_id: int, *, since: datetime | None = None) -> list[Booking]:
    """Every booking a unit's prescribers made: colleagues cover for each other."""
    rows = await db.fetch(
        _BOOKING_SQL
        + " WHERE b.care_unit = $1 AND ($2::timestamptz IS NULL OR b.ends_at >= $2) ORDER BY b.starts_at, b.id",
        care_unit_id, since,
    )
    return [_booking(r) for r in rows]


async def booking_history(booking_id: int) -> list[BookingEvent]:
    rows = await db.fetch(
        """
        SELECT e.*, s.name AS actor_name FROM fitting_booking_event e
          JOIN staff_user s ON s.id = e.actor
         WHERE e.booking = $1 ORDER BY e.at, e.id
        """,
        booking_id,
    )
    return [
        BookingEvent(
            at=r["at"], actor_id=r["actor"], actor_name=r["actor_name"], kind=r["kind"],
            reason=r["reason"], starts_at=r["starts_at"], previous_starts_at=r["previous_starts_at"],
        )
        for r in rows
    ]

