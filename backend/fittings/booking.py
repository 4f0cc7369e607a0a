"""Booking a fitting for a patient, moving it and cancelling it, and the times offered for each.

Every change checks and writes in one transaction; the exclusion constraints on
fitting_booking and fitting_resource_hold are the last word, so two prescribers racing
for the last slot get one booking and one `SlotTaken` with fresh alternatives.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from typing import AsyncIterator, Awaitable, Callable, TypeVar

import asyncpg

from backend import db
from backend.accounts import service as accounts
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.fittings.availability import UTC, local_date, local_to_utc
from backend.fittings.bookings import Booking, Referral, get_booking, may_change
from backend.fittings.errors import (
    InvalidInput,
    NotAllowed,
    NotFound,
    OutsideBookingWindow,
    SlotNotOffered,
    SlotTaken,
    TryAgain,
)
from backend.fittings.slots import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_MIN_NOTICE_HOURS,
    FittingSlot,
    booking_window,
    find_slots,
    search_slots,
)
from backend.organisations import service as organisations
from backend.patients import service as patients
from backend.workdays import working_days_between

T = TypeVar("T")

ALTERNATIVES = 5
REFERRAL_MAX_AGE = timedelta(days=365)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise InvalidInput("Tider måste ha tidszon")
    return instant.astimezone(UTC)


def _check_referral_date(referral_date: date, today: date) -> None:
    """A referral is dated today or at most a year back."""
    if referral_date > today:
        raise InvalidInput("Remissdatumet kan inte vara i framtiden.", "referral_date")
    if referral_date < today - REFERRAL_MAX_AGE:
        raise InvalidInput("Remissdatumet kan inte vara mer än ett år bakåt.", "referral_date")


def _check_referral(referral: Referral, today: date) -> None:
    _check_referral_date(referral.referral_date, today)
    if not referral.problem.strip():
        raise InvalidInput("Beskriv problemet i remissen", "problem")
    if not referral.goal.strip():
        raise InvalidInput("Beskriv målet med utprovningen", "goal")
    if referral.interpreter_needed and not referral.interpreter_language.strip():
        raise InvalidInput("Ange språk för tolken", "interpreter_language")


def _check_window(starts_at: datetime, now: datetime, min_notice_hours: float, horizon_days: int) -> None:
    earliest, latest = booking_window(now, min_notice_hours, horizon_days)
    if starts_at < earliest:
        raise OutsideBookingWindow(f"Tiden måste bokas minst {min_notice_hours:g} timmar i förväg")
    if starts_at > latest:
        raise OutsideBookingWindow(f"Det går att boka högst {horizon_days} dagar framåt")


# --- the times offered ---------------------------------------------------------------------


async def times_for_referral(
    organisation_id: int, product_area_id: int, place: str, referral_date: date, *,
    from_time: datetime | None = None, limit: int = 8, now: datetime | None = None,
    min_notice_hours: float = DEFAULT_MIN_NOTICE_HOURS, horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> list[FittingSlot]:
    """The earliest free times for a new referral, each with the working days since its date
    (which must be today or at most a year back)."""
    now = _utc(now or datetime.now(UTC))
    _check_referral_date(referral_date, local_date(now))
    return await find_slots(
        organisation_id, product_area_id, place, from_time=from_time, referral_date=referral_date, limit=limit,
        now=now, min_notice_hours=min_notice_hours, horizon_days=horizon_days,
    )


async def times_to_move_to(
    booking: Booking, *, from_day: date | None = None, limit: int = 10, now: datetime | None = None,
    min_notice_hours: float = DEFAULT_MIN_NOTICE_HOURS, horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> list[FittingSlot]:
    """Free times the booking could move to (from `from_day` on), its own time left out."""
    found = await find_slots(
        booking.organisation_id, booking.product_area_id, booking.place,
        from_time=local_to_utc(from_day, time(0)) if from_day else None, now=now,
        referral_date=booking.referral.referral_date, exclude_booking=booking.id, limit=limit,
        min_notice_hours=min_notice_hours, horizon_days=horizon_days,
    )
    return [s for s in found if not (s.consultant_id == booking.consultant_id and s.starts_at == booking.starts_at)]


# --- one change, all or nothing --------------------------------------------------------------


@asynccontextmanager
async def _one_change() -> AsyncIterator[None]:
    """A transaction for one change, joined by the `db.*` calls inside it. Inside a caller's
    transaction it is a savepoint of that one, so a change the database refuses (an exclusion
    violation, a deadlock) undoes only itself and leaves the caller's transaction usable."""
    if not db.in_transaction():
        async with db.transaction():
            yield
    else:
        async with db.savepoint():
            yield


async def _claim_slot(
    *, organisation_id: int, product_area_id: int, place: str, consultant_id: int, starts_at: datetime,
    exclude_booking: int | None,
) -> FittingSlot:
    """The consultant's slot at `starts_at` if it is offered and free; else a domain error.

    Claims for the same consultant queue on a transaction-scoped advisory lock, so the
    second of two racing prescribers sees the first one's booking here and is refused
    cleanly; the exclusion constraints stay the last word.
    """
    await db.execute("SELECT pg_advisory_xact_lock($1, $2)", _CONSULTANT_LOCK, consultant_id)
    found = await search_slots(
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


async def _hold_resources(organisation_id: int, booking_id: int, slot: FittingSlot) -> None:
    for resource_id in slot.resource_ids:
        await db.execute(
            "INSERT INTO fitting_resource_hold (organisation, booking, resource, starts_at, ends_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            organisation_id, booking_id, resource_id, slot.blocked_from, slot.blocked_until,
        )


async def _record_event(
    organisation_id: int, booking_id: int, actor_id: int, kind: str, reason: str, starts_at: datetime,
    previous_starts_at: datetime | None, now: datetime,
) -> None:
    await db.execute(
        "INSERT INTO fitting_booking_event (organisation, booking, at, actor, kind, reason, starts_at, "
        "previous_starts_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        organisation_id, booking_id, now, actor_id, kind, reason, starts_at, previous_starts_at,
    )


# --- book, move, cancel -------------------------------------------------------------------


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
    booking flow for this referral (the service level is measured on it); without it, or
    when it is later than the time booked, the booked time counts as the first offer.
    """
    now = _utc(now or datetime.now(UTC))
    starts_at = _utc(starts_at)
    first_offered_at = _utc(first_offered_at) if first_offered_at else None
    if first_offered_at is None or first_offered_at > starts_at:
        first_offered_at = starts_at
    _check_referral(referral, local_date(now))
    _check_window(starts_at, now, min_notice_hours, horizon_days)

    async def attempt() -> Booking:
        async with _one_change():
            prescriber = await accounts.staff_member(prescriber_id)
            if (prescriber is None or not prescriber["active"] or prescriber["organisation"] != organisation_id
                    or prescriber["role"] != Role.prescriber.value):
                raise NotAllowed("Bara förskrivare kan boka utprovning")
            as_prescriber = Actor(id=prescriber_id, organisation=organisation_id, name=prescriber["name"],
                                  role=Role.prescriber, care_unit=prescriber["care_unit"])
            if not await patients.may_see(as_prescriber, patient_id):
                raise NotAllowed("Du kan bara boka för patienter på din egen enhet")
            slot = await _claim_slot(
                organisation_id=organisation_id, product_area_id=product_area_id,
                place=place, consultant_id=consultant_id, starts_at=starts_at, exclude_booking=None,
            )
            calendar = await organisations.work_calendar(organisation_id)
            number = await db.fetchval("SELECT nextval('fitting_booking_number')")
            reference = f"UT-{local_date(now).year}-{number:05d}"
            booking_id = await db.fetchval(
                """
                INSERT INTO fitting_booking (organisation, reference, uid, patient, prescriber,
                    care_unit, product_area, place, consultant, template, starts_at, ends_at,
                    blocked_from, blocked_until, referral_date, problem, goal, current_devices,
                    attendees, interpreter_needed, interpreter_language, access_notes, status,
                    sequence, first_offered_at, offered_working_days, booked_working_days,
                    created_at, updated_at, urgent)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                    $17, $18, $19, $20, $21, $22, 'booked', 0, $23, $24, $25, $26, $26, $27)
                RETURNING id
                """,
                organisation_id, reference, f"{uuid.uuid4()}@runda", patient_id, prescriber_id,
                prescriber["care_unit"], product_area_id, place, consultant_id, slot.template_id,
                slot.starts_at, slot.ends_at, slot.blocked_from, slot.blocked_until,
                referral.referral_date, referral.problem.strip(), referral.goal.strip(),
                referral.current_devices.strip(), referral.attendees.strip(),
                referral.interpreter_needed, referral.interpreter_language.strip(),
                referral.access_notes.strip(), first_offered_at,
                working_days_between(referral.referral_date, local_date(first_offered_at), calendar),
                working_days_between(referral.referral_date, local_date(slot.starts_at), calendar),
                now, referral.urgent,
            )
            await _hold_resources(organisation_id, booking_id, slot)
            await _record_event(organisation_id, booking_id, prescriber_id, "booked", "", slot.starts_at, None, now)
            return await get_booking(booking_id)

    try:
        return await _retrying(attempt)
    except (SlotTaken, asyncpg.exceptions.ExclusionViolationError):
        # The savepoint or transaction is rolled back by now; the alternatives are fresh.
        raise SlotTaken(
            await find_slots(
                organisation_id, product_area_id, place, now=now, limit=ALTERNATIVES,
                min_notice_hours=min_notice_hours, horizon_days=horizon_days, referral_date=referral.referral_date,
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
        raise InvalidInput("Ange varför tiden flyttas", "reason")
    _check_window(starts_at, now, min_notice_hours, horizon_days)
    current: asyncpg.Record | None = None

    async def attempt() -> Booking:
        nonlocal current
        async with _one_change():
            current = await _lock_for_change(booking_id, actor_id, now)
            slot = await _claim_slot(
                organisation_id=current["organisation"], product_area_id=current["product_area"],
                place=current["place"], consultant_id=consultant_id or current["consultant"], starts_at=starts_at,
                exclude_booking=booking_id,
            )
            await db.execute("UPDATE fitting_resource_hold SET active = false WHERE booking = $1 AND active", booking_id)
            calendar = await organisations.work_calendar(current["organisation"])
            await db.execute(
                """
                UPDATE fitting_booking
                   SET consultant = $2, template = $3, starts_at = $4, ends_at = $5,
                       blocked_from = $6, blocked_until = $7, booked_working_days = $8,
                       sequence = sequence + 1, updated_at = $9
                 WHERE id = $1
                """,
                booking_id, slot.consultant_id, slot.template_id, slot.starts_at, slot.ends_at,
                slot.blocked_from, slot.blocked_until,
                working_days_between(current["referral_date"], local_date(slot.starts_at), calendar), now,
            )
            await _hold_resources(current["organisation"], booking_id, slot)
            await _record_event(
                current["organisation"], booking_id, actor_id, "rescheduled", reason.strip(),
                slot.starts_at, current["starts_at"], now,
            )
            return await get_booking(booking_id)

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
        raise InvalidInput("Ange varför tiden avbokas", "cancel_reason")
    async with _one_change():
        current = await _lock_for_change(booking_id, actor_id, now)
        await db.execute("UPDATE fitting_resource_hold SET active = false WHERE booking = $1 AND active", booking_id)
        await db.execute(
            """
            UPDATE fitting_booking
               SET status = 'cancelled', cancel_reason = $2, cancelled_by = $3, cancelled_at = $4,
                   sequence = sequence + 1, updated_at = $4
             WHERE id = $1
            """,
            booking_id, reason.strip(), actor_id, now,
        )
        await _record_event(
            current["organisation"], booking_id, actor_id, "cancelled", reason.strip(), current["starts_at"], None, now,
        )
        return await get_booking(booking_id)


async def _lock_for_change(booking_id: int, actor_id: int, now: datetime) -> asyncpg.Record:
    booking = await db.fetchrow("SELECT * FROM fitting_booking WHERE id = $1 FOR UPDATE", booking_id)
    if booking is None:
        raise NotFound("Bokningen finns inte")
    if not may_change(booking, await accounts.staff_member(actor_id)):
        raise NotAllowed("Du kan inte ändra den här bokningen")
    if booking["status"] != "booked":
        raise NotAllowed("Bokningen är redan avbokad")
    if booking["starts_at"] <= now:
        raise NotAllowed("Tiden har redan passerat")
    return booking
