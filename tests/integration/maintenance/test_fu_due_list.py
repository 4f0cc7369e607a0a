"""The FU due list against the real database: the due rule as SQL gives what the rule in Python
gives (holidays, several schedules, a device's own interval, never done), devices in the depot
are listed only "before each new user", devices out of use are left out (and counted), an open
order shows as such and a cancelled one leaves the device due with its reason; the list's
filters and counts, and the backlog at each month's end."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from backend import db
from backend.maintenance import due
from backend.maintenance.due import DueFilter
from backend.workdays import STOCKHOLM, SWEDISH, today
from tests.support.factories import add_device, add_patient, delete_world, make_world

TODAY = today()  # Stockholm's date, as the pages and the runs count it


# --- helpers the generation tests use too ------------------------------------------------------


async def fu_schedule_of(world) -> int:
    """The world's category schedule: the yearly "fu", every 365 days."""
    return await db.fetchval("SELECT id FROM fu_schedule WHERE category = $1 AND checklist_code = 'fu'",
                             world.category)


async def add_schedule(world, *, code: str, interval: int, before_new_user: bool = False, name: str = "Selkontroll",
                       device: int | None = None, overrides: int | None = None) -> int:
    if device is not None:
        return await db.fetchval(
            "INSERT INTO fu_schedule (organisation, device, overrides, name, interval_days, checklist_code, "
            "before_new_user) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            world.organisation, device, overrides, name, interval, code, before_new_user)
    return await db.fetchval(
        "INSERT INTO fu_schedule (organisation, category, name, interval_days, checklist_code, before_new_user) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", world.organisation, world.category, name, interval, code,
        before_new_user)


async def set_device(device: int, **columns) -> None:
    assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(columns, start=2))
    await db.execute(f"UPDATE device SET {assignments} WHERE id = $1", device, *columns.values())


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=STOCKHOLM)


async def add_fu_order(world, device: int, *, schedule: int | None, status: str, due_on: date | None = None,
                       completed: date | None = None, cancelled: date | None = None, reason: str | None = None,
                       patient: int | None = None, number: str | None = None) -> int:
    received = at_noon((completed or cancelled or TODAY) - timedelta(days=20))
    count = await db.fetchval("SELECT count(*) FROM work_order WHERE organisation = $1", world.organisation)
    return await db.fetchval(
        """
        INSERT INTO work_order (organisation, number, type, status, channel, device, patient, description,
                                received_at, finish_due, fu_schedule, fu_due_date, completed_at, cancelled_at,
                                cancel_reason)
        VALUES ($1, $2, 'maintenance', $3, 'hmc', $4, $5, 'FU', $6, $7, $8, $7, $9, $10, $11)
        RETURNING id
        """,
        world.organisation, number or f"AO-X-{world.organisation}-{count + 1}", status, device, patient, received,
        due_on, schedule, at_noon(completed) if completed else None, at_noon(cancelled) if cancelled else None,
        reason)


async def listed(world, today: date = TODAY) -> dict[tuple[int, int], dict]:
    """The world's due list, computed now: (device, schedule) -> its row."""
    await due.refresh(world.organisation, today=today)
    rows = await db.fetch("SELECT * FROM fu_due WHERE organisation = $1", world.organisation)
    return {(r["device"], r["fu_schedule"]): dict(r) for r in rows}


def next_holiday_on_a_weekday(after: date) -> date:
    """A Swedish holiday on a weekday some months on (so a due date lands on it)."""
    day = after + timedelta(days=60)
    while SWEDISH.is_working_day(day) or day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    world.schedule = await fu_schedule_of(world)
    yield world
    await delete_world(world)


# --- the rule as SQL ---------------------------------------------------------------------------


async def test_a_device_on_loan_falls_due_one_interval_after_its_last_fu_on_the_working_day_before(world):
    holiday = next_holiday_on_a_weekday(TODAY)
    device = await add_device(world, holder=world.patient)
    await set_device(device, last_fu_date=holiday - timedelta(days=365))
    row = (await listed(world))[(device, world.schedule)]
    assert row["kind"] == "calendar"
    assert row["due_date"] == due.on_or_before(holiday) < holiday
    assert row["last_done"] == holiday - timedelta(days=365)


async def test_never_done_it_counts_from_the_start_of_the_loan(world):
    device = await add_device(world, holder=world.patient)
    lent = TODAY - timedelta(days=100)
    await set_device(device, last_fu_date=None)
    await db.execute("UPDATE device_loan SET from_date = $2 WHERE device = $1", device, lent)
    row = (await listed(world))[(device, world.schedule)]
    assert row["last_done"] is None
    assert row["due_date"] == due.due_date(None, lent, date(2023, 3, 1), 365)


async def test_a_completed_fu_order_is_when_it_was_last_done_and_the_due_date_follows_it(world):
    device = await add_device(world, holder=world.patient)
    await set_device(device, last_fu_date=TODAY - timedelta(days=400))
    done = TODAY - timedelta(days=30)
    await add_fu_order(world, device, schedule=world.schedule, status="completed", completed=done,
                       patient=world.patient)
    row = (await listed(world))[(device, world.schedule)]
    assert row["last_done"] == done
    assert row["due_date"] == due.on_or_before(done + timedelta(days=365))


async def test_each_schedule_of_a_device_falls_due_on_its_own(world):
    sling = await add_schedule(world, code="sling", interval=182)
    device = await add_device(world, holder=world.patient)
    await set_device(device, last_fu_date=TODAY - timedelta(days=10))
    checked = TODAY - timedelta(days=100)
    await add_fu_order(world, device, schedule=sling, status="completed", completed=checked, patient=world.patient)
    rows = await listed(world)
    assert rows[(device, world.schedule)]["due_date"] == due.on_or_before(TODAY + timedelta(days=355))
    # The sling check counts only its own orders, never the yearly service's last_fu_date.
    assert rows[(device, sling)]["last_done"] == checked
    assert rows[(device, sling)]["due_date"] == due.on_or_before(checked + timedelta(days=182))


async def test_a_devices_own_interval_for_an_inherited_schedule_applies(world):
    device = await add_device(world, holder=world.patient)
    await set_device(device, last_fu_date=TODAY - timedelta(days=10))
    await add_schedule(world, code="fu", interval=90, device=device, overrides=world.schedule, name="Tätare")
    row = (await listed(world))[(device, world.schedule)]
    assert (row["interval_days"], row["due_date"]) == (90, due.on_or_before(TODAY + timedelta(days=80)))


async def test_in_the_depot_only_checks_before_each_new_user_are_listed_until_done_after_the_last_loan(world):
    before_use = await add_schedule(world, code="sling", interval=182, before_new_user=True, name="Före utlåning")
    device = await add_device(world, holder=None)
    returned = TODAY - timedelta(days=5)
    await db.execute("INSERT INTO device_loan (organisation, device, patient, from_date, to_date) "
                     "VALUES ($1, $2, $3, $4, $5)", world.organisation, device, world.patient,
                     TODAY - timedelta(days=300), returned)
    await add_fu_order(world, device, schedule=before_use, status="completed", completed=returned - timedelta(days=60))
    rows = await listed(world)
    assert (device, world.schedule) not in rows  # no calendar FU in the depot, and the yearly one is not flagged
    assert rows[(device, before_use)]["kind"] == "new_user" and rows[(device, before_use)]["due_date"] is None
    await add_fu_order(world, device, schedule=before_use, status="completed", completed=returned)
    assert (device, before_use) not in await listed(world)


async def test_devices_condemned_out_of_use_or_in_repair_are_left_out_and_counted(world):
    listed_device = await add_device(world, holder=world.patient)
    for status in ("condemned", "out_of_use", "in_repair"):
        await set_device(await add_device(world, holder=world.patient), status=status)
    rows = await listed(world)
    assert {device for device, _ in rows} == {listed_device}
    state = await due.state(world.organisation)
    assert {(e["status"], e["devices"]) for e in state["excluded"]} == {
        ("condemned", 1), ("out_of_use", 1), ("in_repair", 1)}


async def test_an_open_order_shows_and_a_cancelled_one_leaves_the_device_due_with_its_reason(world):
    ordered, by_hand, cancelled = [await add_device(world, holder=world.patient) for _ in range(3)]
    for device in (ordered, by_hand, cancelled):
        await set_device(device, last_fu_date=TODAY - timedelta(days=400))
    order = await add_fu_order(world, ordered, schedule=world.schedule, status="planned",
                               due_on=TODAY - timedelta(days=35), patient=world.patient)
    # An FU order made by hand (no schedule) is the yearly "fu" schedule's.
    legacy = await add_fu_order(world, by_hand, schedule=None, status="new", patient=world.patient)
    await add_fu_order(world, cancelled, schedule=world.schedule, status="cancelled", cancelled=TODAY - timedelta(days=2),
                       reason="Gick inte att nå brukaren", patient=world.patient)
    rows = await listed(world)
    assert rows[(ordered, world.schedule)]["open_order"] == order
    assert rows[(by_hand, world.schedule)]["open_order"] == legacy
    gone = rows[(cancelled, world.schedule)]
    assert gone["open_order"] is None and gone["cancel_reason"] == "Gick inte att nå brukaren"
    overdue, _ = await due.due_page(world.organisation, DueFilter(status="forfallen"), 1, TODAY)
    with_order, _ = await due.due_page(world.organisation, DueFilter(status="order"), 1, TODAY)
    assert [r["device"] for r in overdue] == [cancelled]
    assert overdue[0]["cancel_reason"] == "Gick inte att nå brukaren"
    assert {r["device"] for r in with_order} == {ordered, by_hand}


# --- the list: filters, counts, paging, and what each row shows now -----------------------------


@pytest.fixture
async def region(world):
    """Two municipalities, two categories, a technician covering one of them; devices due at once
    (overdue), this month and much later."""
    other = await db.fetchval("INSERT INTO cost_bearer (organisation, name, kind, code) "
                              "VALUES ($1, 'Annan kommun', 'municipality', $2) RETURNING id",
                              world.organisation, f"A{world.organisation}")
    elsewhere = await add_patient(world, given="Bo", family="Annansson")
    await db.execute("UPDATE patient SET cost_bearer = $2 WHERE id = $1", elsewhere, other)
    await db.execute("INSERT INTO staff_area (staff_user, cost_bearer) VALUES ($1, $2)",
                     world.staff["technician"], other)
    devices = {}
    for name, holder, last in (("overdue", world.patient, TODAY - timedelta(days=400)),
                               ("soon", elsewhere, TODAY - timedelta(days=355)),
                               ("later", world.patient, TODAY - timedelta(days=30))):
        devices[name] = await add_device(world, holder=holder, individnummer=f"FU{world.organisation}{name[:2].upper()}")
        await set_device(devices[name], last_fu_date=last)
    world.other_bearer, world.region = other, devices
    await due.refresh(world.organisation, today=TODAY)
    return world


async def shown(world, **wanted) -> list[int]:
    rows, _ = await due.due_page(world.organisation, DueFilter(**wanted).cleaned(), 1, TODAY)
    return [r["device"] for r in rows]


async def test_the_list_shows_what_falls_due_within_the_horizon_and_everything_overdue(region):
    d = region.region
    assert await shown(region, horizon="period", since=TODAY, until=TODAY + timedelta(days=15)) == [d["overdue"], d["soon"]]
    assert await shown(region, horizon="period", since=TODAY, until=TODAY + timedelta(days=3)) == [d["overdue"]]
    assert set(await shown(region, horizon="period", since=TODAY, until=TODAY + timedelta(days=400))) == set(d.values())


async def test_the_list_filters_by_municipality_technician_area_category_schedule_status_and_number(region):
    d, wide = region.region, dict(horizon="period", since=TODAY, until=TODAY + timedelta(days=400))
    assert await shown(region, cost_bearer=region.other_bearer, **wide) == [d["soon"]]
    assert await shown(region, technician=region.staff["technician"], **wide) == [d["soon"]]
    assert await shown(region, technician=region.staff["other_technician"], **wide) == []
    assert set(await shown(region, category=region.category, checklist="fu", **wide)) == set(d.values())
    assert await shown(region, checklist="sling", **wide) == []
    assert await shown(region, status="forfallen", **wide) == [d["overdue"]]
    assert await shown(region, search=f"fu{region.organisation}la", **wide) == [d["later"]]


async def test_counts_by_category_and_status(region):
    await add_fu_order(region, region.region["later"], schedule=region.schedule, status="planned",
                       due_on=TODAY + timedelta(days=300), patient=region.patient)
    await due.refresh(region.organisation, today=TODAY)
    wide = DueFilter(horizon="period", since=TODAY, until=TODAY + timedelta(days=400))
    [counts] = await due.due_counts(region.organisation, wide, TODAY)
    assert (counts["category"], counts["overdue"], counts["due"], counts["ordered"], counts["total"]) == (
        region.category, 1, 1, 1, 3)


async def test_a_row_shows_its_order_as_it_is_now_though_the_list_is_older(region):
    device = region.region["overdue"]
    order = await add_fu_order(region, device, schedule=region.schedule, status="planned",
                               due_on=TODAY - timedelta(days=35), patient=region.patient, number="AO-NU-1")
    [row] = [r for r in (await due.due_page(region.organisation, DueFilter(), 1, TODAY))[0] if r["device"] == device]
    assert (row["status"], row["open_order"], row["open_number"]) == ("order", order, "AO-NU-1")
    await db.execute("UPDATE work_order SET status = 'completed', completed_at = now() WHERE id = $1", order)
    [row] = [r for r in (await due.due_page(region.organisation, DueFilter(), 1, TODAY))[0] if r["device"] == device]
    assert (row["status"], row["done_since"]) == ("done", datetime.now(STOCKHOLM).date())


async def test_the_list_pages_through_many_devices_the_earliest_due_first(world):
    for n in range(due.PAGE_SIZE + 3):
        device = await add_device(world, holder=world.patient)
        await set_device(device, last_fu_date=TODAY - timedelta(days=400 + n))
    await due.refresh(world.organisation, today=TODAY)
    first, more = await due.due_page(world.organisation, DueFilter(), 1, TODAY)
    second, more_after = await due.due_page(world.organisation, DueFilter(), 2, TODAY)
    assert (len(first), more, len(second), more_after) == (due.PAGE_SIZE, True, 3, False)
    dates = [r["due_date"] for r in first + second]
    assert dates == sorted(dates)


# --- the backlog ---------------------------------------------------------------------------------


async def test_the_backlog_counts_fu_orders_overdue_at_each_months_end_and_today_the_overdue_without_one(world):
    ends = due.month_ends(TODAY)
    end = ends[-2]  # the end of the month before last
    late, done_in_time, still_open = [await add_device(world, holder=world.patient) for _ in range(3)]
    for device in (late, done_in_time, still_open):
        await set_device(device, last_fu_date=TODAY - timedelta(days=30))
    # Due before that month's end, completed after it: overdue then.
    await add_fu_order(world, late, schedule=world.schedule, status="completed", due_on=end - timedelta(days=3),
                       completed=end + timedelta(days=2), patient=world.patient)
    # Completed before the end: not overdue then.
    await add_fu_order(world, done_in_time, schedule=world.schedule, status="completed", due_on=end - timedelta(days=3),
                       completed=end - timedelta(days=1), patient=world.patient)
    # Still open, due before that end: overdue then and now.
    await add_fu_order(world, still_open, schedule=world.schedule, status="planned", due_on=end - timedelta(days=3),
                       patient=world.patient)
    # Overdue today without any order.
    await set_device(await add_device(world, holder=world.patient), last_fu_date=TODAY - timedelta(days=500))
    await due.refresh(world.organisation, today=TODAY)
    backlog = {b["day"]: b["overdue"] for b in (await due.state(world.organisation))["backlog"]}
    assert backlog[end.isoformat()] == 2
    assert backlog[ends[0].isoformat()] == 0
    assert backlog[TODAY.isoformat()] == 2  # the open order, and the device without one
    assert len(backlog) == 13


async def test_computing_the_list_twice_at_once_leaves_one_list(world):
    import asyncio

    await add_device(world, holder=world.patient)
    await asyncio.gather(due.refresh(world.organisation, today=TODAY), due.refresh(world.organisation, today=TODAY))
    assert await db.fetchval("SELECT count(*) FROM fu_due WHERE organisation = $1", world.organisation) == 1

