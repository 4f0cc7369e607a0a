"""The demo generator's rules, without a database."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from backend import workdays
from backend.demo.common import WorkCalendar, luhn_digit, personnummer, personnummer_is_valid
from backend.demo.service import build_region

TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def region():
    return build_region(scale=0.05, seed=7, today=TODAY)


def test_luhn_matches_skatteverkets_worked_example():
    assert luhn_digit("640823323") == 4
    assert personnummer(date(1964, 8, 23), 323) == "19640823-3234"
    assert personnummer_is_valid("19640823-3234")
    assert not personnummer_is_valid("19640823-3235")
    assert not personnummer_is_valid("19640230-3234")


def test_calendar_agrees_with_backend_workdays():
    cal = WorkCalendar(date(2024, 1, 1), date(2027, 12, 31))
    day = date(2025, 1, 1)
    while day < date(2026, 12, 31):
        assert cal.is_working(day) == workdays.is_working_day(day), day
        for n in (0, 1, 3, 10):
            assert cal.add(day, n) == workdays.add_working_days(day, n), (day, n)
        day += timedelta(days=1)


@pytest.mark.parametrize("scale", [0, -1, 35.5, 36, 1.5, math.nan])
def test_scale_out_of_range_is_refused(scale):
    with pytest.raises(ValueError, match="scale"):
        build_region(scale=scale, seed=1, today=TODAY)


def test_same_seed_same_region_and_another_seed_differs(region):
    again = build_region(scale=0.05, seed=7, today=TODAY)
    assert [p["personal_number"] for p in again.patients] == [p["personal_number"] for p in region.patients]
    assert [d["individnummer"] for d in again.devices] == [d["individnummer"] for d in region.devices]
    assert [o["number"] for o in again.work_orders] == [o["number"] for o in region.work_orders]
    other = build_region(scale=0.05, seed=8, today=TODAY)
    assert [p["personal_number"] for p in other.patients] != [p["personal_number"] for p in region.patients]


def test_personnummer_valid_unique_and_sex_digit(region):
    numbers = [p["personal_number"] for p in region.patients]
    assert len(set(numbers)) == len(numbers)
    for p in region.patients:
        assert personnummer_is_valid(p["personal_number"])
        assert int(p["personal_number"][11]) % 2 == (1 if p["sex"] == "M" else 0)
        assert int(p["personal_number"][:4]) == p["birth_year"]
    old = sum(1 for p in region.patients if TODAY.year - p["birth_year"] >= 65)
    assert old / len(region.patients) > 0.70


def test_every_device_in_an_fu_category_has_a_next_fu_date(region):
    fu_categories = {i for i, c in enumerate(region.categories) if c["fu_interval_days"]}
    for d in region.devices:
        category = region.articles[d["article"]]["category"]
        if category in fu_categories and d["status"] != "condemned":
            assert d["next_fu_date"] is not None
            if d["last_fu_date"] is not None:
                interval = region.categories[category]["fu_interval_days"]
                assert d["next_fu_date"] - d["last_fu_date"] == timedelta(days=interval)


def test_first_technician_has_a_mixed_routed_day(region):
    first = next(i for i, s in enumerate(region.staff) if s["role"] == "technician")
    cal = WorkCalendar(TODAY, TODAY + timedelta(days=30))
    for k in range(6):
        day = cal.add(region.target_day, k)
        visits = [o for o in region.work_orders if o["assignee"] == first and o["planned_date"] == day]
        assert 6 <= len(visits) <= 10, day
        kinds = {o["type"] == "maintenance" for o in visits}
        assert kinds == {True, False}, day
        assert sorted(o["route_position"] for o in visits) == list(range(1, len(visits) + 1))
        assert all(o["window_start"] < o["window_end"] for o in visits)
        assert all(o["status"] == "planned" for o in visits)


def test_prescriber_orders_come_from_the_patients_unit(region):
    for o in region.work_orders:
        if o["channel"] == "prescriber":
            unit = region.patients[o["patient"]]["care_unit"]
            assert o["care_unit"] == unit
            assert region.staff[o["orderer"]]["care_unit"] == unit
        if o["status"] == "cancelled":
            assert o["cancel_reason"]
        if o["type"] == "maintenance":
            assert o["channel"] == "generated"


def test_most_repairs_finish_within_five_working_days(region):
    cal = WorkCalendar(TODAY - timedelta(days=800), TODAY + timedelta(days=30))
    repairs = [o for o in region.work_orders if o["status"] == "completed"
               and o["type"] in ("repair_hmc", "repair_on_site", "quick_service", "urgent_repair")]
    within = sum(cal.count_after(o["received_at"].date(), o["completed_at"].date()) <= 5 for o in repairs)
    assert 0.75 <= within / len(repairs) <= 0.92


def _fittings(region, scale):
    from backend.demo.fittings import build_fittings

    return build_fittings(region, 7, TODAY, scale, WorkCalendar(TODAY - timedelta(days=800), TODAY + timedelta(days=200)))


def test_demo_fittings_are_offered_within_15_working_days_about_as_often_as_in_2025():
    region = build_region(scale=0.3, seed=7, today=TODAY)
    rows = _fittings(region, 0.3)
    past = [b for b in rows.bookings if b["starts_at"].date() < TODAY and b["status"] == "booked"]
    share = sum(b["offered_working_days"] <= 15 for b in past) / len(past)
    assert len(past) > 200
    assert 0.62 <= share <= 0.78


def test_demo_fittings_never_overlap_and_follow_the_patients_unit(region):
    rows = _fittings(region, 0.05)
    booked = sorted((b for b in rows.bookings if b["status"] == "booked"), key=lambda b: (b["consultant"], b["blocked_from"]))
    for a, b in zip(booked, booked[1:]):
        assert a["consultant"] != b["consultant"] or a["blocked_until"] <= b["blocked_from"]
    holds = sorted((h for h in rows.holds if h["active"]), key=lambda h: (h["resource"], h["starts_at"]))
    for a, b in zip(holds, holds[1:]):
        assert a["resource"] != b["resource"] or a["ends_at"] <= b["starts_at"]
    for b in rows.bookings:
        assert region.patients[b["patient"]]["care_unit"] == region.staff[b["prescriber"]]["care_unit"] == b["care_unit"]
        assert b["created_at"] <= b["first_offered_at"] <= b["starts_at"]
    first_prescriber = next(i for i, s in enumerate(region.staff) if s["role"] == "prescriber")
    first_consultant = next(i for i, s in enumerate(region.staff) if s["role"] == "consultant")
    upcoming = [b for b in rows.bookings if b["starts_at"].date() >= TODAY and b["prescriber"] == first_prescriber
                and b["consultant"] == first_consultant]
    assert len(upcoming) >= 2
