"""Booking, moving and cancelling a fitting for a patient."""

import re
from datetime import date, datetime, time, timedelta

import asyncpg
import pytest

from backend import db
from backend.fittings import service
from backend.fittings.availability import STOCKHOLM
from backend.piccolo_conf import DB


def local(*wall_clock: int) -> datetime:
    """A Stockholm wall-clock time (year, month, day, hour, minute) as an aware datetime."""
    return datetime(*wall_clock, tzinfo=STOCKHOLM)


NOW = local(2026, 9, 1, 8)  # a Tuesday
MONDAY_9 = local(2026, 9, 7, 9)


@pytest.fixture
async def mondays(world):
    await world.weekly([0], time(9), time(12), resources=(world.room,))
    return world


async def test_a_prescriber_books_a_slot_for_a_patient_of_their_unit(mondays):
    world = mondays
    first = (await world.slots(NOW, limit=1))[0]
    booking = await world.book(MONDAY_9, now=NOW, referral_date=date(2026, 8, 28), first_offered_at=first.starts_at)
    assert re.fullmatch(r"UT-2026-\d{5}", booking.reference)
    assert booking.status == "booked" and booking.sequence == 0
    assert (booking.starts_at, booking.ends_at) == (MONDAY_9, MONDAY_9 + timedelta(hours=1))
    assert booking.care_unit_id == world.care_unit
    assert booking.resource_ids == (world.room,)
    assert booking.referral.problem.startswith("Svårt att sitta")
    # Friday 28 Aug -> Monday 7 Sep: 31 Aug–4 Sep and 7 Sep.
    assert booking.offered_working_days == booking.booked_working_days == 6
    history = await service.booking_history(booking.id)
    assert [(e.kind, e.actor_id) for e in history] == [("booked", world.prescriber)]
    assert MONDAY_9 not in [s.starts_at for s in await world.slots(NOW, limit=5)]


async def test_a_prescriber_cannot_book_for_another_units_patient(mondays):
    with pytest.raises(service.NotAllowed, match="egen enhet"):
        await mondays.book(MONDAY_9, now=NOW, patient=mondays.other_patient)


async def test_only_prescribers_book(mondays):
    with pytest.raises(service.NotAllowed):
        await mondays.book(MONDAY_9, now=NOW, prescriber=mondays.consultant)


async def test_a_time_the_consultant_does_not_offer_cannot_be_booked(mondays):
    with pytest.raises(service.SlotNotOffered):
        await mondays.book(MONDAY_9 + timedelta(minutes=30), now=NOW)
    with pytest.raises(service.SlotNotOffered):
        await mondays.book(MONDAY_9, now=NOW, consultant=mondays.other_consultant)
    with pytest.raises(service.SlotNotOffered):
        await mondays.book(MONDAY_9, now=NOW, place="home")


async def test_minimum_notice_and_horizon_refuse_a_booking(mondays):
    with pytest.raises(service.OutsideBookingWindow, match="24 timmar"):
        await mondays.book(MONDAY_9, now=MONDAY_9 - timedelta(hours=23))
    with pytest.raises(service.OutsideBookingWindow, match="90 dagar"):
        await mondays.book(local(2026, 12, 7, 9), now=NOW)


async def test_a_referral_needs_a_problem_and_a_goal(mondays):
    with pytest.raises(service.InvalidInput):
        await service.book_fitting(
            organisation_id=mondays.organisation, prescriber_id=mondays.prescriber, patient_id=mondays.patient,
            product_area_id=mondays.areas["seating"], place="hmc", consultant_id=mondays.consultant,
            starts_at=MONDAY_9, referral=service.Referral(date(2026, 8, 28), problem=" ", goal="Sitta"), now=NOW,
        )


async def test_a_taken_slot_is_refused_with_fresh_alternatives(mondays):
    await mondays.book(MONDAY_9, now=NOW)
    with pytest.raises(service.SlotTaken) as refused:
        await mondays.book(MONDAY_9, now=NOW, patient=await mondays.add_patient())
    assert refused.value.message == "Tiden hann bokas av någon annan"
    alternatives = [s.starts_at for s in refused.value.alternatives]
    assert alternatives[0] == MONDAY_9 + timedelta(hours=1) and MONDAY_9 not in alternatives


async def test_a_refused_booking_leaves_a_surrounding_transaction_usable(mondays):
    await mondays.book(MONDAY_9, now=NOW)
    async with DB.transaction():
        with pytest.raises(service.SlotTaken):
            await mondays.book(MONDAY_9, now=NOW, patient=await mondays.add_patient())
        assert await db.fetchval("SELECT 1") == 1


async def test_the_database_itself_refuses_overlapping_bookings_and_room_holds(mondays):
    booking = await mondays.book(MONDAY_9, now=NOW)
    copy = """
        INSERT INTO fitting_booking (organisation, reference, uid, patient, prescriber, care_unit,
            product_area, place, consultant, starts_at, ends_at, blocked_from, blocked_until,
            referral_date, problem, goal, first_offered_at, offered_working_days, booked_working_days)
        SELECT organisation, reference || 'x', uid || 'x', patient, prescriber, care_unit,
            product_area, place, consultant, starts_at + interval '30 minutes',
            ends_at + interval '30 minutes', blocked_from + interval '30 minutes',
            blocked_until + interval '30 minutes', referral_date, problem, goal, first_offered_at, 0, 0
          FROM fitting_booking WHERE id = $1
    """
    with pytest.raises(asyncpg.exceptions.ExclusionViolationError):
        await db.execute(copy, booking.id)
    with pytest.raises(asyncpg.exceptions.ExclusionViolationError):
        await db.execute(
            "INSERT INTO fitting_resource_hold (organisation, booking, resource, starts_at, ends_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            mondays.organisation, booking.id, mondays.room, MONDAY_9 + timedelta(minutes=59), MONDAY_9 + timedelta(hours=2),
        )


async def test_rescheduling_moves_the_booking_keeps_its_uid_and_bumps_its_sequence(mondays):
    world = mondays
    booking = await world.book(MONDAY_9, now=NOW, referral_date=date(2026, 8, 28))
    moved = await service.reschedule_fitting(
        booking_id=booking.id, actor_id=world.consultant, starts_at=local(2026, 9, 14, 10),
        reason="Konsulenten är på kurs", now=NOW,
    )
    assert moved.uid == booking.uid and moved.reference == booking.reference
    assert moved.sequence == 1 and moved.starts_at == local(2026, 9, 14, 10)
    assert moved.booked_working_days == 11 and moved.offered_working_days == booking.offered_working_days
    assert moved.resource_ids == (world.room,)
    free = [s.starts_at for s in await world.slots(NOW, limit=6)]
    assert MONDAY_9 in free and local(2026, 9, 14, 10) not in free
    history = await service.booking_history(booking.id)
    assert [(e.kind, e.reason) for e in history] == [("booked", ""), ("rescheduled", "Konsulenten är på kurs")]
    assert history[1].previous_starts_at == MONDAY_9 and history[1].actor_id == world.consultant


async def test_a_booking_can_move_into_its_own_buffer(world):
    await world.weekly([0], time(9), time(12), place="home", buffer_before=0, buffer_after=60)
    booking = await world.book(MONDAY_9, now=NOW, place="home")
    slots = await service.find_slots(
        world.organisation, world.areas["seating"], "home", now=NOW, exclude_booking=booking.id, limit=2
    )
    assert [s.local_start.hour for s in slots] == [9, 11]
    moved = await service.reschedule_fitting(
        booking_id=booking.id, actor_id=world.prescriber, starts_at=local(2026, 9, 7, 11), reason="Anhörig kan först 11",
        now=NOW,
    )
    assert moved.starts_at == local(2026, 9, 7, 11)


async def test_rescheduling_to_a_taken_slot_is_refused(mondays):
    world = mondays
    booking = await world.book(MONDAY_9, now=NOW)
    await world.book(MONDAY_9 + timedelta(hours=1), now=NOW, patient=await world.add_patient())
    with pytest.raises(service.SlotTaken) as refused:
        await service.reschedule_fitting(
            booking_id=booking.id, actor_id=world.prescriber, starts_at=MONDAY_9 + timedelta(hours=1),
            reason="Passar bättre", now=NOW,
        )
    assert MONDAY_9 + timedelta(hours=1) not in [s.starts_at for s in refused.value.alternatives]
    assert (await service.get_booking(booking.id)).starts_at == MONDAY_9


async def test_cancelling_needs_a_reason_and_frees_the_slot_and_the_room(mondays):
    world = mondays
    booking = await world.book(MONDAY_9, now=NOW)
    with pytest.raises(service.InvalidInput):
        await service.cancel_fitting(booking_id=booking.id, actor_id=world.prescriber, reason="", now=NOW)
    cancelled = await service.cancel_fitting(
        booking_id=booking.id, actor_id=world.consultant, reason="Konsulenten är sjuk", now=NOW
    )
    assert cancelled.status == "cancelled" and cancelled.sequence == 1
    assert cancelled.cancel_reason == "Konsulenten är sjuk" and cancelled.cancelled_by == world.consultant
    assert cancelled.resource_ids == ()
    # The prescriber reads who cancelled and why.
    last = (await service.booking_history(booking.id))[-1]
    assert (last.kind, last.actor_id, last.reason) == ("cancelled", world.consultant, "Konsulenten är sjuk")
    assert MONDAY_9 in [s.starts_at for s in await world.slots(NOW, limit=1)]
    with pytest.raises(service.NotAllowed, match="avbokad"):
        await service.cancel_fitting(booking_id=booking.id, actor_id=world.prescriber, reason="Igen", now=NOW)
    rebooked = await world.book(MONDAY_9, now=NOW, patient=await world.add_patient())
    assert rebooked.resource_ids == (world.room,)


async def test_who_may_move_or_cancel_a_booking(mondays):
    world = mondays
    booking = await world.book(MONDAY_9, now=NOW)
    for outsider in (world.other_prescriber, world.other_consultant):
        with pytest.raises(service.NotAllowed):
            await service.cancel_fitting(booking_id=booking.id, actor_id=outsider, reason="Fel", now=NOW)
    moved = await service.reschedule_fitting(
        booking_id=booking.id, actor_id=world.colleague, starts_at=MONDAY_9 + timedelta(hours=1),
        reason="Kollegan tar över", now=NOW,
    )
    assert moved.sequence == 1
    cancelled = await service.cancel_fitting(booking_id=booking.id, actor_id=world.coordinator, reason="Dubblett", now=NOW)
    assert cancelled.sequence == 2


async def test_a_past_booking_cannot_be_changed(mondays):
    booking = await mondays.book(MONDAY_9, now=NOW)
    with pytest.raises(service.NotAllowed, match="passerat"):
        await service.cancel_fitting(
            booking_id=booking.id, actor_id=mondays.prescriber, reason="För sent", now=MONDAY_9 + timedelta(minutes=5)
        )


async def test_both_sides_list_the_booking(mondays):
    world = mondays
    booking = await world.book(MONDAY_9, now=NOW)
    for person in (world.prescriber, world.consultant):
        assert [b.id for b in await service.bookings_for_staff(person)] == [booking.id]
    assert [b.id for b in await service.bookings_for_care_unit(world.care_unit)] == [booking.id]
    assert await service.bookings_for_staff(world.other_consultant) == []
