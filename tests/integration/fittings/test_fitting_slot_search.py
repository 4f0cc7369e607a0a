"""Finding free fitting slots: earliest first, in Stockholm time, minus whatever takes them."""

from datetime import date, datetime, time, timedelta

from backend.fittings import service
from backend.fittings.availability import STOCKHOLM


def local(*wall_clock: int) -> datetime:
    """A Stockholm wall-clock time (year, month, day, hour, minute) as an aware datetime."""
    return datetime(*wall_clock, tzinfo=STOCKHOLM)


def local_starts(slots):
    return [s.local_start.strftime("%Y-%m-%d %H:%M") for s in slots]


async def test_the_earliest_free_slots_come_first_with_working_days_since_the_referral(world):
    await world.weekly(range(5), time(9), time(12), slot_minutes=90)
    now = local(2026, 9, 7, 8)  # Monday morning
    slots = await world.slots(now, limit=3, referral_date=date(2026, 9, 4))
    assert local_starts(slots) == ["2026-09-08 09:00", "2026-09-08 10:30", "2026-09-09 09:00"]
    assert [s.working_days_since_referral for s in slots] == [2, 2, 3]
    assert all(s.consultant_id == world.consultant and s.place == "hmc" for s in slots)
    assert all(s.minutes == 90 for s in slots)


async def test_only_templates_for_the_product_area_and_place_give_slots(world):
    await world.weekly([0], area="communication", place="home")
    now = local(2026, 9, 1, 8)
    assert await world.slots(now, area="seating", place="home") == []
    assert await world.slots(now, area="communication", place="hmc") == []
    assert len(await world.slots(now, area="communication", place="home", limit=50)) > 0


async def test_slot_times_stay_at_nine_local_and_ninety_real_minutes_across_both_dst_switches(world):
    await world.weekly(range(5), time(9), time(12), slot_minutes=90)
    for friday, monday in ((date(2026, 3, 27), date(2026, 3, 30)), (date(2026, 10, 23), date(2026, 10, 26))):
        midnight = local(friday.year, friday.month, friday.day)
        slots = await world.slots(midnight - timedelta(days=2), from_time=midnight, limit=4)
        assert local_starts(slots) == [
            f"{friday} 09:00", f"{friday} 10:30", f"{monday} 09:00", f"{monday} 10:30"
        ]
        assert {s.ends_at - s.starts_at for s in slots} == {timedelta(minutes=90)}
        # Same wall-clock time, a different UTC hour: the offset changed over the weekend.
        assert slots[0].starts_at.hour != slots[2].starts_at.hour


async def test_public_holidays_remove_slots(world):
    await world.weekly(range(5), time(9), time(10))
    slots = await world.slots(local(2026, 3, 30, 8), limit=5)  # Easter week
    assert local_starts(slots) == [
        "2026-03-31 09:00", "2026-04-01 09:00", "2026-04-02 09:00", "2026-04-07 09:00", "2026-04-08 09:00"
    ]  # not Långfredag 3 April, not Annandag påsk 6 April


async def test_weekend_slots_only_where_a_template_says_so(world):
    await world.weekly(range(5), time(9), time(10))
    slots = await world.slots(local(2026, 9, 3, 8), limit=2)  # Thursday
    assert local_starts(slots) == ["2026-09-04 09:00", "2026-09-07 09:00"]
    await world.weekly([5], time(10), time(11))
    slots = await world.slots(local(2026, 9, 3, 8), limit=2)
    assert local_starts(slots) == ["2026-09-04 09:00", "2026-09-05 10:00"]


async def test_a_day_off_and_a_course_remove_the_slots_they_cover(world):
    await world.weekly(range(5), time(9), time(12))
    await service.add_exception_days(
        organisation_id=world.organisation, consultant_id=world.consultant,
        first_day=date(2026, 9, 8), last_day=date(2026, 9, 8), reason="Semester",
    )
    await service.add_exception(
        organisation_id=world.organisation, consultant_id=world.consultant,
        starts_at=local(2026, 9, 9, 9, 30), ends_at=local(2026, 9, 9, 10, 15), reason="Kurs",
    )
    slots = await world.slots(local(2026, 9, 7, 8), limit=3)  # Monday: Tuesday is the first day
    assert local_starts(slots) == ["2026-09-09 11:00", "2026-09-10 09:00", "2026-09-10 10:00"]


async def test_buffers_keep_other_slots_away_from_a_booking(world):
    await world.weekly([0], time(9), time(13), place="hmc")
    await world.weekly([0], time(13), time(16), place="home", buffer_before=30, buffer_after=30)
    now = local(2026, 9, 1, 8)
    home = await world.book(local(2026, 9, 7, 13), now=now, place="home")
    assert (home.starts_at, home.ends_at) == (local(2026, 9, 7, 13), local(2026, 9, 7, 14))
    hmc = await world.slots(now, place="hmc", limit=4)
    # The home visit's 30 minutes before reach 12:30: the 12:00 slot is gone.
    assert local_starts(hmc) == ["2026-09-07 09:00", "2026-09-07 10:00", "2026-09-07 11:00", "2026-09-14 09:00"]
    home_slots = await world.slots(now, place="home", limit=2)
    # Home slots are 60 min apart plus both buffers; 15:00's buffer starts as 13:00's ends.
    assert local_starts(home_slots) == ["2026-09-07 15:00", "2026-09-14 13:00"]


async def test_minimum_notice_and_horizon_bound_the_search(world):
    await world.weekly(range(5), time(9), time(12))
    now = local(2026, 9, 7, 10, 30)  # Monday
    assert local_starts(await world.slots(now, limit=1)) == ["2026-09-08 11:00"]
    assert local_starts(await world.slots(now, limit=1, min_notice_hours=48)) == ["2026-09-09 11:00"]
    within_two_days = await world.slots(now, limit=20, horizon_days=2)
    assert local_starts(within_two_days) == ["2026-09-08 11:00", "2026-09-09 09:00", "2026-09-09 10:00"]
    later = await world.slots(now, limit=1, from_time=local(2026, 9, 10, 10))
    assert local_starts(later) == ["2026-09-10 10:00"]


async def test_a_room_held_by_another_consultant_removes_the_slot(world):
    await world.weekly([0], time(9), time(11), resources=(world.room,))
    await world.weekly([0], time(9), time(11), consultant=world.other_consultant, resources=(world.room,))
    now = local(2026, 9, 1, 8)
    before = await world.slots(now, limit=4)
    assert {(s.local_start.hour, s.consultant_id) for s in before} == {
        (9, world.consultant), (9, world.other_consultant), (10, world.consultant), (10, world.other_consultant)
    }
    await world.book(local(2026, 9, 7, 9), now=now, consultant=world.other_consultant)
    after = await world.slots(now, limit=3)
    # Both consultants lose 09:00: the only fitting room is taken.
    assert {(s.local_start.strftime("%d %H:%M"), s.consultant_id) for s in after[:2]} == {
        ("07 10:00", world.consultant), ("07 10:00", world.other_consultant)
    }
    assert after[2].local_start.strftime("%d %H:%M") == "14 09:00"
    try:
        await world.book(local(2026, 9, 7, 9), now=now, patient=await world.add_patient())
    except service.SlotTaken as refused:
        assert refused.message == "Tiden hann bokas av någon annan"
    else:
        raise AssertionError("the room was double booked")


async def test_a_resource_the_template_does_not_need_does_not_matter(world):
    await world.weekly([0], time(9), time(10), resources=(world.demo_device,))
    await world.weekly([0], time(9), time(10), consultant=world.other_consultant, resources=(world.room,))
    now = local(2026, 9, 1, 8)
    await world.book(local(2026, 9, 7, 9), now=now, consultant=world.other_consultant)
    slots = await world.slots(now, limit=1)
    assert local_starts(slots) == ["2026-09-07 09:00"] and slots[0].consultant_id == world.consultant
