"""Private ICS feeds: stable UIDs, rising SEQUENCE, cancellations marked, no patient."""

from datetime import datetime, time, timedelta, timezone

from icalendar import Calendar

from backend import db
from backend.fittings import service
from backend.fittings.availability import STOCKHOLM


def local(*wall_clock: int) -> datetime:
    """A Stockholm wall-clock time (year, month, day, hour, minute) as an aware datetime."""
    return datetime(*wall_clock, tzinfo=STOCKHOLM)


NOW = local(2026, 9, 1, 8)
MONDAY_9 = local(2026, 9, 7, 9)


def events(feed: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(feed)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


async def test_the_feed_follows_a_booking_through_reschedule_and_cancel(world):
    await world.weekly([0], time(9), time(12))
    booking = await world.book(MONDAY_9, now=NOW)

    for person in (world.consultant, world.prescriber):
        feed = await service.calendar_feed(person, now=NOW)
        event = events(feed)[booking.uid]
        assert event["sequence"] == 0
        assert event.decoded("dtstart") == MONDAY_9.astimezone(timezone.utc)
        assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=1)
        assert b"DTSTART:20260907T070000Z" in feed  # UTC, 09:00 in Stockholm
        assert str(event["status"]) == "CONFIRMED"
        assert str(event["summary"]) == f"{booking.reference} Utprovning Sittande, HMC:s utprovningsrum"

    await service.reschedule_fitting(
        booking_id=booking.id, actor_id=world.prescriber, starts_at=MONDAY_9 + timedelta(hours=1),
        reason="Färdtjänst", now=NOW,
    )
    event = events(await service.calendar_feed(world.consultant, now=NOW))[booking.uid]
    assert event["sequence"] == 1
    assert event.decoded("dtstart") == (MONDAY_9 + timedelta(hours=1)).astimezone(timezone.utc)

    await service.cancel_fitting(booking_id=booking.id, actor_id=world.consultant, reason="Sjuk", now=NOW)
    feed = await service.calendar_feed(world.prescriber, now=NOW)
    assert list(events(feed)) == [booking.uid]
    event = events(feed)[booking.uid]
    assert event["sequence"] == 2 and str(event["status"]) == "CANCELLED"


async def test_the_feed_never_names_the_patient(world):
    await world.weekly([0], time(9), time(12))
    booking = await world.book(MONDAY_9, now=NOW)
    patient = await db.fetchrow("SELECT * FROM patient WHERE id = $1", booking.patient_id)
    feed = (await service.calendar_feed(world.consultant, now=NOW)).decode()
    for personal in (patient["given_name"], patient["family_name"], patient["personal_number"],
                     patient["street"], patient["personal_number"].replace("-", "")):
        assert personal not in feed
    assert booking.referral.problem not in feed


async def test_a_feed_token_finds_its_owner_until_it_is_replaced(world):
    token = await service.create_feed_token(world.consultant)
    assert len(token) >= 43  # 256 random bits, URL-safe
    assert await service.staff_user_for_feed_token(token) == world.consultant
    stored = await db.fetchval("SELECT token_hash FROM calendar_feed_token WHERE staff_user = $1", world.consultant)
    assert token.encode() not in stored
    newer = await service.create_feed_token(world.consultant)
    assert await service.staff_user_for_feed_token(token) is None
    assert await service.staff_user_for_feed_token(newer) == world.consultant
    await service.revoke_feed_token(world.consultant)
    assert await service.staff_user_for_feed_token(newer) is None
    assert await service.staff_user_for_feed_token("") is None
