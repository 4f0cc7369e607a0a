"""FU generation against the real database: the orders it makes (schedule, due date, a day at
least two weeks on, a window, the technician of the patient's municipality, the checklist version
of the day), and that it never makes two for the same device, schedule and due date: run twice,
two runs at once, or a run broken off after its first batch and run again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from backend import db
from backend.maintenance import due, generation
from backend.maintenance import service as maintenance
from backend.maintenance.generation import Period
from backend.workdays import SWEDISH, today
from backend.workorders import generated as fu_orders
from tests.integration.maintenance.test_fu_due_list import add_fu_order, add_schedule, fu_schedule_of, set_device
from tests.support.factories import add_device, add_patient, delete_world, make_world
from tests.support.jobs import run_jobs

TODAY = today()  # Stockholm's date, as the pages and the runs count it
YEAR = Period(TODAY, TODAY + timedelta(days=364))


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    world.schedule = await fu_schedule_of(world)
    yield world
    await delete_world(world)


async def devices_due_in(world, n: int, days: int = 60) -> list[int]:
    """n devices on loan whose yearly FU falls due within `days`, each on its own day."""
    made = []
    for k in range(n):
        device = await add_device(world, holder=world.patient)
        await set_device(device, last_fu_date=TODAY - timedelta(days=365 - 20 - (k * days // max(n, 1))))
        made.append(device)
    return made


async def generated(world) -> list[dict]:
    return [dict(r) for r in await db.fetch(
        "SELECT * FROM work_order WHERE organisation = $1 AND channel = 'generated' ORDER BY device, fu_due_date",
        world.organisation)]


async def doubles(world) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM work_order WHERE organisation = $1 AND fu_schedule IS NOT NULL "
        "AND status <> 'cancelled' GROUP BY device, fu_schedule, fu_due_date HAVING count(*) > 1) d",
        world.organisation)


async def run_now(world, period: Period = YEAR, *, batch_size: int = generation.BATCH_DEVICES,
                  actor: str = "coordinator") -> dict:
    run_id = await generation.create_run(world.organisation, period, actor_id=world.staff[actor],
                                         actor_name="Test coordinator", defer=False)
    await generation.run(run_id, today=TODAY, batch_size=batch_size)
    return await generation.run_page(world.organisation, run_id)


# --- the orders ----------------------------------------------------------------------------------


async def test_each_due_fu_gets_an_order_planned_at_least_two_weeks_on_with_a_window(world):
    [device] = await devices_due_in(world, 1)
    run = await run_now(world)
    assert (run["state"], run["created"], run["existing"], run["total_devices"]) == ("done", 1, 0, 1)
    [order] = await generated(world)
    due_on = due.on_or_before(TODAY - timedelta(days=365 - 20) + timedelta(days=365))
    assert (order["device"], order["patient"], order["fu_schedule"], order["fu_due_date"], order["finish_due"]) == (
        device, world.patient, world.schedule, due_on, due_on)
    assert (order["type"], order["channel"], order["status"], order["assignee"]) == (
        "maintenance", "generated", "new", None)  # no technician covers the municipality
    first_told = due.on_or_after(TODAY + timedelta(days=generation.NOTICE_DAYS))
    assert order["planned_date"] >= first_told and SWEDISH.is_working_day(order["planned_date"])
    assert order["planned_date"] <= max(due_on, first_told)
    assert (order["window_start"], order["window_end"]) in generation.WINDOWS
    assert order["description"] == f"Förebyggande underhåll, förfaller {due_on.isoformat()}"
    assert order["number"].startswith(f"AO-{order['received_at'].year}-")
    events = await db.fetch("SELECT kind, staff_user FROM work_order_event WHERE work_order = $1", order["id"])
    assert [(e["kind"], e["staff_user"]) for e in events] == [("created", world.staff["coordinator"])]


async def test_the_technician_whose_area_covers_the_patients_municipality_gets_the_visit(world):
    await db.execute("INSERT INTO staff_area (staff_user, cost_bearer) VALUES ($1, $2)",
                     world.staff["technician"], world.cost_bearer)
    await devices_due_in(world, 2)
    run = await run_now(world)
    assert (run["created"], run["unassigned"]) == (2, 0)
    orders = await generated(world)
    assert {(o["assignee"], o["status"]) for o in orders} == {(world.staff["technician"], "planned")}
    detail = await db.fetchval("SELECT detail FROM work_order_event WHERE work_order = $1", orders[0]["id"])
    assert "Förslag: Test technician" in detail


async def test_numbers_follow_the_organisations_counter_without_gaps(world):
    from backend.workorders import service as workorders

    await devices_due_in(world, 3)
    async with db.transaction():
        before = await workorders.next_number(world.organisation, TODAY.year)
    await run_now(world)
    async with db.transaction():
        after = await workorders.next_number(world.organisation, TODAY.year)
    numbers = sorted(int(o["number"].rsplit("-", 1)[1]) for o in await generated(world))
    first = int(before.rsplit("-", 1)[1])
    assert numbers == [first + 1, first + 2, first + 3]
    assert int(after.rsplit("-", 1)[1]) == first + 4


async def test_a_half_yearly_schedule_falls_due_twice_in_a_year(world):
    sling = await add_schedule(world, code="sling", interval=182)
    device = await add_device(world, holder=world.patient)
    await set_device(device, last_fu_date=TODAY - timedelta(days=300))
    await add_fu_order(world, device, schedule=sling, status="completed", completed=TODAY - timedelta(days=160),
                       patient=world.patient)
    await run_now(world)
    slings = [o["fu_due_date"] for o in await generated(world) if o["fu_schedule"] == sling]
    first = due.on_or_before(TODAY - timedelta(days=160) + timedelta(days=182))
    assert slings == [first, due.on_or_before(TODAY - timedelta(days=160) + timedelta(days=364))]
    assert [o["fu_schedule"] for o in await generated(world)].count(world.schedule) == 1


async def test_what_fell_due_before_the_period_is_made_only_when_asked(world):
    device = await add_device(world, holder=world.patient)
    await set_device(device, last_fu_date=TODAY - timedelta(days=400))
    assert (await run_now(world))["created"] == 0
    run = await run_now(world, Period(TODAY, TODAY + timedelta(days=30), include_overdue=True))
    [order] = await generated(world)
    assert run["created"] == 1 and order["fu_due_date"] < TODAY
    assert order["planned_date"] == due.on_or_after(TODAY + timedelta(days=generation.NOTICE_DAYS))


async def test_a_run_keeps_to_its_municipality_and_category(world):
    other = await db.fetchval("INSERT INTO cost_bearer (organisation, name, kind, code) "
                              "VALUES ($1, 'Annan kommun', 'municipality', 'ANN') RETURNING id", world.organisation)
    elsewhere = await add_patient(world, given="Bo")
    await db.execute("UPDATE patient SET cost_bearer = $2 WHERE id = $1", elsewhere, other)
    [here] = await devices_due_in(world, 1)
    there = await add_device(world, holder=elsewhere)
    await set_device(there, last_fu_date=TODAY - timedelta(days=330))
    run = await run_now(world, Period(TODAY, YEAR.end, cost_bearer=other))
    assert (run["total_devices"], [o["device"] for o in await generated(world)]) == (1, [there])
    assert (await run_now(world, Period(TODAY, YEAR.end, category=world.category)))["created"] == 1
    assert {o["device"] for o in await generated(world)} == {here, there}


async def test_an_order_answers_the_checklist_version_published_when_it_was_generated(world):
    await maintenance.publish_checklist(world.category, [{"key": "frame", "text": "Ram hel", "safety_critical": False,
                                                          "measurement": None}])
    await devices_due_in(world, 1)
    await run_now(world)
    await maintenance.publish_checklist(world.category, [{"key": "frame", "text": "Ram och sits hela",
                                                          "safety_critical": False, "measurement": None}])
    [order] = await generated(world)
    assert (await maintenance.checklist_for_order(order["id"])).version == 1


# --- never two orders for the same FU --------------------------------------------------------------


async def test_running_it_again_makes_nothing_new(world):
    await devices_due_in(world, 3)
    first = await run_now(world)
    second = await run_now(world)
    assert (first["created"], second["created"], second["existing"]) == (3, 0, 3)
    assert len(await generated(world)) == 3


async def test_the_database_refuses_a_second_order_for_the_same_fu_but_not_after_a_cancelled_one(world):
    [device] = await devices_due_in(world, 1)
    due_on = TODAY + timedelta(days=40)
    first = await add_fu_order(world, device, schedule=world.schedule, status="planned", due_on=due_on)
    with pytest.raises(asyncpg.UniqueViolationError):
        await add_fu_order(world, device, schedule=world.schedule, status="new", due_on=due_on)
    await db.execute("UPDATE work_order SET status = 'cancelled', cancel_reason = 'Fel' WHERE id = $1", first)
    await add_fu_order(world, device, schedule=world.schedule, status="new", due_on=due_on)


async def test_two_runs_at_once_make_exactly_one_order_per_device_schedule_and_due_date(world):
    await add_schedule(world, code="sling", interval=182)
    devices = await devices_due_in(world, 24, days=200)
    first = await generation.create_run(world.organisation, YEAR, actor_id=None, actor_name="A", defer=False)
    second = await generation.create_run(world.organisation, YEAR, actor_id=None, actor_name="B", defer=False)
    # Each run on its own connection (a task each), in small batches that interleave.
    await asyncio.gather(generation.run(first, today=TODAY, batch_size=5),
                         generation.run(second, today=TODAY, batch_size=5))
    orders = await generated(world)
    a, b = [await generation.run_page(world.organisation, r) for r in (first, second)]
    assert await doubles(world) == 0
    assert {o["device"] for o in orders} == set(devices)
    assert a["created"] + b["created"] == len(orders)
    assert a["existing"] + b["existing"] == len(orders)  # what one made, the other found
    numbers = [o["number"] for o in orders]
    assert len(set(numbers)) == len(numbers)


async def test_a_run_broken_off_after_its_first_batch_goes_on_where_it_stopped_without_doubles(world, monkeypatch):
    devices = await devices_due_in(world, 12)
    calls = {"n": 0}
    insert = fu_orders.insert_generated

    async def dies_in_the_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionResetError("the worker was killed")
        return await insert(*args, **kwargs)

    monkeypatch.setattr(fu_orders, "insert_generated", dies_in_the_second_batch)
    run_id = await generation.create_run(world.organisation, YEAR, actor_id=None, actor_name="A", defer=False)
    with pytest.raises(ConnectionResetError):
        await generation.run(run_id, today=TODAY, batch_size=5)
    broken = await generation.run_page(world.organisation, run_id)
    assert (broken["state"], broken["created"], broken["done_devices"]) == ("failed", 5, 5)
    assert broken["error"] and len(await generated(world)) == 5
    # The queue retries the job: it goes on from the sixth device.
    await generation.run(run_id, today=TODAY, batch_size=5)
    done = await generation.run_page(world.organisation, run_id)
    assert (done["state"], done["created"], done["done_devices"], done["total_devices"]) == ("done", 12, 12, 12)
    assert {o["device"] for o in await generated(world)} == set(devices) and await doubles(world) == 0
    # And the next run finds everything made.
    assert (await run_now(world))["created"] == 0


async def test_a_run_done_is_not_done_again(world):
    await devices_due_in(world, 2)
    run_id = await generation.create_run(world.organisation, YEAR, actor_id=None, actor_name="A", defer=False)
    assert await generation.run(run_id, today=TODAY) == "done"
    assert await generation.run(run_id, today=TODAY) == "done"
    assert (await generation.run_page(world.organisation, run_id))["created"] == 2


# --- in the background -------------------------------------------------------------------------------


async def test_a_run_started_by_a_coordinator_is_done_by_the_job_queue(world):
    from backend.accounts.service import Actor
    from backend.accounts.tables import Role

    await devices_due_in(world, 3)
    coordinator = Actor(id=world.staff["coordinator"], organisation=world.organisation, name="Test coordinator",
                        role=Role.coordinator, care_unit=None)
    run_id = await generation.start_run(coordinator, YEAR, TODAY)
    assert (await generation.run_page(world.organisation, run_id))["state"] == "queued"
    await run_jobs()
    run = await generation.run_page(world.organisation, run_id)
    assert (run["state"], run["created"]) == ("done", 3)
    # The due list was computed again after it: every device now has its order.
    rows = await db.fetch("SELECT open_order FROM fu_due WHERE organisation = $1", world.organisation)
    assert len(rows) == 3 and all(r["open_order"] for r in rows)


async def test_a_refused_period_starts_nothing(world):
    from backend.accounts.service import Actor
    from backend.accounts.tables import Role

    coordinator = Actor(id=world.staff["coordinator"], organisation=world.organisation, name="K",
                        role=Role.coordinator, care_unit=None)
    with pytest.raises(generation.GenerationRefused) as refused:
        await generation.start_run(coordinator, Period(TODAY, TODAY - timedelta(days=1), cost_bearer=0), TODAY)
    assert {field for field, _ in refused.value.errors} == {"period_end", "cost_bearer"}
    assert await db.fetchval("SELECT count(*) FROM fu_generation WHERE organisation = $1", world.organisation) == 0


async def test_automatic_generation_runs_once_a_day_and_never_makes_a_cancelled_fu_again(world):
    from backend.accounts.service import Actor
    from backend.accounts.tables import Role

    admin = Actor(id=world.staff["admin"], organisation=world.organisation, name="Test admin", role=Role.admin,
                  care_unit=None)
    [kept, gave_up] = await devices_due_in(world, 2, days=10)
    due_on = due.on_or_before(TODAY - timedelta(days=365 - 20) + timedelta(days=365 + 5))
    await set_device(gave_up, last_fu_date=due_on - timedelta(days=365))
    await add_fu_order(world, gave_up, schedule=world.schedule, status="cancelled", due_on=due_on,
                       cancelled=TODAY, reason="Gick inte att nå brukaren")
    assert await generation.set_auto(admin, active=True, days_ahead=60)
    started = [r for r in await generation.start_automatic_runs(TODAY)
               if await db.fetchval("SELECT organisation FROM fu_generation WHERE id = $1", r) == world.organisation]
    assert len(started) == 1
    again = await generation.start_automatic_runs(TODAY)  # the same day: nothing more
    assert not [r for r in again
                if await db.fetchval("SELECT organisation FROM fu_generation WHERE id = $1", r) == world.organisation]
    await generation.run(started[0], today=TODAY)
    orders = [o for o in await generated(world) if o["status"] != "cancelled"]
    assert [o["device"] for o in orders] == [kept]
    run = await generation.run_page(world.organisation, started[0])
    assert (run["automatic"], run["actor_name"], run["period_end"]) == (True, generation.AUTO_NAME,
                                                                         TODAY + timedelta(days=60))
    await db.execute("DELETE FROM procrastinate_jobs WHERE args->>'run_id' = $1", str(started[0]))


async def test_the_automatic_setting_is_checked_and_kept_in_its_history(world):
    from backend.accounts.service import Actor
    from backend.accounts.tables import Role

    admin = Actor(id=world.staff["admin"], organisation=world.organisation, name="Test admin", role=Role.admin,
                  care_unit=None)
    with pytest.raises(generation.GenerationError):
        await generation.set_auto(admin, active=True, days_ahead=10)
    assert await generation.set_auto(admin, active=True, days_ahead=30)
    assert not await generation.set_auto(admin, active=True, days_ahead=30)
    assert await generation.set_auto(admin, active=False, days_ahead=30)
    history = await generation.auto_history(world.organisation)
    assert [c.fields for c in history][0] == {"active": (True, False)}
    assert await generation.auto_setting(world.organisation) == {"active": False, "days_ahead": 30,
                                                                  "last_run_on": None}

