"""Turning a weekly template into slots: Stockholm wall-clock times, real durations."""

from datetime import date, datetime, time, timedelta, timezone

from backend.fittings.availability import STOCKHOLM, Template, template_slots

UTC = timezone.utc


def template(weekday: int, start: time, end: time, minutes: int = 90, before: int = 0, after: int = 0) -> Template:
    return Template(
        id=1, organisation_id=1, consultant_id=1, weekday=weekday, start_time=start, end_time=end,
        product_area_ids=(7,), place="hmc", slot_minutes=minutes, buffer_before_minutes=before,
        buffer_after_minutes=after, valid_from=date(2026, 1, 1), valid_to=None, resource_ids=(),
    )


def starts(slots):
    return [s[0].astimezone(STOCKHOLM).strftime("%H:%M") for s in slots]


def test_a_morning_template_starts_at_nine_local_on_both_sides_of_the_spring_switch():
    friday = template_slots(template(4, time(9), time(12)), date(2026, 3, 27), 7)
    monday = template_slots(template(0, time(9), time(12)), date(2026, 3, 30), 7)
    assert starts(friday) == starts(monday) == ["09:00", "10:30"]
    assert friday[0][0] == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)  # CET, UTC+1
    assert monday[0][0] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST, UTC+2


def test_a_morning_template_starts_at_nine_local_on_both_sides_of_the_autumn_switch():
    friday = template_slots(template(4, time(9), time(12)), date(2026, 10, 23), 7)
    monday = template_slots(template(0, time(9), time(12)), date(2026, 10, 26), 7)
    assert starts(friday) == starts(monday) == ["09:00", "10:30"]
    assert friday[0][0] == datetime(2026, 10, 23, 7, 0, tzinfo=UTC)  # CEST
    assert monday[0][0] == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # CET


def test_slots_last_real_minutes_across_the_night_the_clocks_go_forward():
    # 01:00–05:00 on 29 March is three real hours: room for two 90-minute slots.
    slots = template_slots(template(6, time(1), time(5)), date(2026, 3, 29), 7)
    assert starts(slots) == ["01:00", "03:30"]
    assert all(end - start == timedelta(minutes=90) for start, end, *_ in slots)
    assert slots[0][1].astimezone(STOCKHOLM).strftime("%H:%M") == "03:30"


def test_slots_last_real_minutes_across_the_night_the_clocks_go_back():
    # 01:00–05:00 on 25 October is five real hours: three 90-minute slots.
    slots = template_slots(template(6, time(1), time(5)), date(2026, 10, 25), 7)
    assert [s[0] for s in slots] == [
        datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
    ]
    assert all(end - start == timedelta(minutes=90) for start, end, *_ in slots)


def test_buffers_space_the_slots_and_widen_the_blocked_time():
    slots = template_slots(template(0, time(9), time(13), minutes=60, before=15, after=15), date(2026, 9, 7), 7)
    assert starts(slots) == ["09:00", "10:30", "12:00"]
    start, end, blocked_from, blocked_until = slots[0]
    assert start - blocked_from == timedelta(minutes=15)
    assert blocked_until - end == timedelta(minutes=15)


def test_a_template_gives_nothing_on_a_public_holiday_or_another_weekday():
    thursday = template(3, time(9), time(12))
    assert template_slots(thursday, date(2026, 5, 14), 7) == []  # Kristi himmelsfärd
    assert len(template_slots(thursday, date(2026, 5, 21), 7)) == 2
    assert template_slots(thursday, date(2026, 5, 20), 7) == []  # a Wednesday


def test_a_weekend_template_opens_weekends_but_not_weekend_holidays():
    saturday = template(5, time(10), time(12), minutes=120)
    assert template_slots(saturday, date(2026, 6, 6), 7) == []  # nationaldagen
    assert len(template_slots(saturday, date(2026, 6, 13), 7)) == 1
