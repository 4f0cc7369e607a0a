"""The organisation's clocks, opening hours and closed days: new work orders and fitting
bookings count in its working days; every change is in the history."""

from datetime import date, datetime, timedelta, timezone

import pytest

from backend import db
from backend.changes import service as changes
from backend.fittings import service as fittings
from backend.organisations import service
from backend.organisations.service import RegisterError
from backend.workdays import STOCKHOLM, add_working_days
from backend.workorders.service import DEFAULT_CLOCKS, create_work_order
from tests.support.factories import add_device, add_fitting_availability, add_patient, delete_world, make_world

ADMIN = dict(actor_id=None, actor_name="Åsa Admin")
MONDAY = datetime(2026, 11, 23, 10, tzinfo=STOCKHOLM)
DEFAULTS = {str(k.value): dict(v) for k, v in DEFAULT_CLOCKS.items()}


@pytest.fixture
async def world(database):
    world = await make_world()
    world.device = await add_device(world, holder=await add_patient(world))
    yield world
    await delete_world(world)


async def repair(world, received_at=MONDAY, type="repair_hmc") -> dict:
    order = await create_work_order(organisation_id=world.organisation, type=type, device_id=world.device,
                                    description="Bromsen tar inte", channel="phone", received_at=received_at)
    return dict(await db.fetchrow("SELECT start_due, finish_due FROM work_order WHERE id = $1", order["id"]))


async def test_a_closed_day_moves_a_new_repair_orders_due_dates_by_one_working_day(world):
    before = await repair(world)
    assert (before["start_due"], before["finish_due"]) == (date(2026, 11, 26), date(2026, 12, 7))
    await service.add_calendar_day(world.organisation, day=date(2026, 11, 24), kind="closed", note="Personaldag",
                                   today=date(2026, 11, 20), **ADMIN)
    after = await repair(world)
    assert (after["start_due"], after["finish_due"]) == (date(2026, 11, 27), date(2026, 12, 8))
    # The order made before keeps its dates.
    assert await db.fetchval("SELECT count(*) FROM work_order WHERE organisation = $1 AND start_due = $2",
                             world.organisation, date(2026, 11, 26)) == 1


async def test_an_extra_open_day_and_a_closed_weekday_count_in_the_clocks(world):
    week = {d: {"opens": "08:00", "closes": "16:30"} if d <= 4 else {"opens": "", "closes": ""} for d in range(1, 8)}
    await service.set_opening_hours(world.organisation, week, **ADMIN)  # closed on Fridays
    # Ten working days from Monday 23 November without Fridays: 24–26, 30 Nov–3 Dec, 7–9 Dec.
    assert (await repair(world))["finish_due"] == date(2026, 12, 9)
    await service.add_calendar_day(world.organisation, day=date(2026, 11, 27), kind="open", note="Inventering",
                                   today=date(2026, 11, 20), **ADMIN)
    assert (await repair(world))["finish_due"] == date(2026, 12, 8)
    calendar = await service.work_calendar(world.organisation)
    assert calendar.open_weekdays == frozenset({0, 1, 2, 3}) and calendar.extra_open == {date(2026, 11, 27)}


async def test_new_orders_take_the_organisations_own_clocks(world):
    await service.set_clocks(world.organisation, {"repair_hmc": {"start": "1", "finish": "5"}}, DEFAULTS, **ADMIN)
    due = await repair(world)
    assert (due["start_due"], due["finish_due"]) == (date(2026, 11, 24), date(2026, 11, 30))
    assert (await repair(world, type="repair_on_site"))["finish_due"] == date(2026, 12, 7)  # still the default
    await service.set_clocks(world.organisation, {"repair_hmc": {"start": "", "finish": ""}}, DEFAULTS, **ADMIN)
    assert (await repair(world))["finish_due"] == date(2026, 12, 7)  # reset to the default
    history = await changes.history(world.organisation, "organisation", world.organisation)
    assert [c.fields for c in history] == [
        {"repair_hmc.start": (1, None), "repair_hmc.finish": (5, None)},
        {"repair_hmc.start": (None, 1), "repair_hmc.finish": (None, 5)},
    ]


async def test_a_refused_clock_writes_nothing(world):
    with pytest.raises(RegisterError):
        await service.set_clocks(world.organisation, {"repair_hmc": {"start": "5", "finish": "4"}}, DEFAULTS, **ADMIN)
    assert (await service.organisation(world.organisation))["clocks"] == {}
    assert await changes.history(world.organisation, "organisation", world.organisation) == []


async def test_the_fitting_rule_counts_the_hmcs_working_days(world):
    areas = await add_fitting_availability(world)
    patient = await add_patient(world)
    referral_date = date.today() - timedelta(days=10)
    slot = (await fittings.find_slots(world.organisation, areas["seating"], "hmc", limit=1,
                                      referral_date=referral_date))[0]
    # A working day between the referral and the slot, closed from now on.
    closed = add_working_days(referral_date, 1)
    await service.add_calendar_day(world.organisation, day=closed, kind="closed", note="Lokal helgdag",
                                   today=date.today(), **ADMIN)
    again = (await fittings.find_slots(world.organisation, areas["seating"], "hmc", limit=1,
                                       referral_date=referral_date))[0]
    assert again.working_days_since_referral == slot.working_days_since_referral - 1
    booking = await fittings.book_fitting(
        organisation_id=world.organisation, prescriber_id=world.staff["prescriber"], patient_id=patient,
        product_area_id=areas["seating"], place="hmc", consultant_id=again.consultant_id, starts_at=again.starts_at,
        referral=fittings.Referral(referral_date=referral_date, problem="Sitter snett", goal="Stabil sittställning"))
    assert booking.booked_working_days == slot.working_days_since_referral - 1


async def test_a_closed_day_must_be_a_working_day_and_an_open_day_must_not(world):
    today = date(2026, 11, 20)
    for day, kind in ((date(2026, 11, 28), "closed"), (date(2026, 12, 25), "closed"), (date(2026, 11, 24), "open")):
        with pytest.raises(RegisterError) as refused:
            await service.add_calendar_day(world.organisation, day=day, kind=kind, note="x", today=today, **ADMIN)
        assert refused.value.field == "day"
    with pytest.raises(RegisterError) as refused:
        await service.add_calendar_day(world.organisation, day=None, kind="shut", note="", today=today, **ADMIN)
    assert {f for f, _ in refused.value.errors} == {"day", "kind", "note"}
    with pytest.raises(RegisterError):  # more than five years ahead
        await service.add_calendar_day(world.organisation, day=date(2032, 11, 24), kind="closed", note="x",
                                       today=today, **ADMIN)
    day_id = await service.add_calendar_day(world.organisation, day=date(2026, 11, 24), kind="closed",
                                            note="Personaldag", today=today, **ADMIN)
    with pytest.raises(RegisterError) as refused:
        await service.add_calendar_day(world.organisation, day=date(2026, 11, 24), kind="closed", note="Igen",
                                       today=today, **ADMIN)
    assert "redan en avvikelse" in refused.value.message
    assert [d["note"] for d in await service.calendar_days(world.organisation, today)] == ["Personaldag"]
    await service.remove_calendar_day(world.organisation, day_id, **ADMIN)
    assert await service.calendar_days(world.organisation, today) == []
    with pytest.raises(service.NotFound):
        await service.remove_calendar_day(world.organisation, day_id, **ADMIN)
    history = await changes.history(world.organisation, "calendar", world.organisation)
    assert [(c.action, c.fields) for c in history] == [
        ("deleted", {"2026-11-24": ("Stängt: Personaldag", None)}),
        ("created", {"2026-11-24": (None, "Stängt: Personaldag")}),
    ]


async def test_opening_hours_default_to_weekdays_and_changes_are_recorded(world):
    week = await service.opening_hours(world.organisation)
    assert [(d["name"], d["opens"] is not None) for d in week][4:] == [("Fredag", True), ("Lördag", False),
                                                                       ("Söndag", False)]
    entered = {d["weekday"]: {"opens": f"{d['opens']:%H:%M}" if d["opens"] else "",
                              "closes": f"{d['closes']:%H:%M}" if d["closes"] else ""} for d in week}
    entered[6] = {"opens": "10:00", "closes": "14:00"}
    await service.set_opening_hours(world.organisation, entered, **ADMIN)
    assert (await service.work_calendar(world.organisation)).open_weekdays == frozenset(range(6))
    history = await changes.history(world.organisation, "calendar", world.organisation)
    assert history[0].fields == {"weekday_6": ("Stängt", "10:00–14:00")}


async def test_the_hmcs_name_and_phone_are_changed_with_history(world):
    with pytest.raises(RegisterError) as refused:
        await service.update_details(world.organisation, name=" ", phone="ring oss", **ADMIN)
    assert {f for f, _ in refused.value.errors} == {"name", "phone"}
    await service.update_details(world.organisation, name="Hjälpmedelscentrum Test", phone="021-17 30 00", **ADMIN)
    found = await service.organisation(world.organisation)
    assert (found["name"], found["phone"]) == ("Hjälpmedelscentrum Test", "021-17 30 00")
    [change] = await changes.history(world.organisation, "organisation", world.organisation)
    assert change.fields == {"name": ("Testregionen", "Hjälpmedelscentrum Test"),
                             "phone": ("021-10 00 00", "021-17 30 00")}
