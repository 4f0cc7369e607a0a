"""What there is to plan in a period: open on-site orders as Visits, and what cannot be planned, with why."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from backend import db
from backend.routing import candidates, resources
from backend.routing.resources import ResourceInput
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

MONDAY = date(2027, 3, 1)
FRIDAY = MONDAY + timedelta(days=4)


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def order(world, *, type="repair_on_site", status="new", due=FRIDAY, assignee=None, planned=None,
                patient=True, **columns) -> int:
    holder = await add_patient(world) if patient else None
    device = await add_device(world, holder=holder)
    order_id = await add_work_order(world, device, type=type, status=status, patient=holder, assignee=assignee,
                                    planned=planned)
    await db.execute("UPDATE work_order SET finish_due = $2 WHERE id = $1", order_id, due)
    for column, value in columns.items():
        await db.execute(f"UPDATE work_order SET {column} = $2 WHERE id = $1", order_id, value)
    return order_id


async def test_open_on_site_orders_in_reach_become_visits_with_their_priority(world):
    overdue = await order(world, due=MONDAY - timedelta(days=3))
    due_now = await order(world, type="maintenance", due=FRIDAY)
    later = await order(world, type="technical_review", due=FRIDAY + timedelta(days=10))
    urgent = await order(world, type="urgent_repair", due=FRIDAY + timedelta(days=1))
    await order(world, due=FRIDAY + timedelta(days=candidates.LOOK_AHEAD_DAYS + 5))  # too far ahead
    await order(world, type="repair_hmc")  # at the workshop
    await order(world, type="fitting")
    await order(world, status="completed")
    visits, unplanned = await candidates.open_visits(world.organisation, MONDAY, FRIDAY)
    by_id = {v.order_id: v for v in visits}
    assert set(by_id) == {overdue, due_now, later, urgent} and unplanned == []
    assert by_id[overdue].priority == candidates.OVERDUE and by_id[due_now].priority == candidates.DUE_IN_PERIOD
    assert by_id[later].priority == candidates.LATER and by_id[urgent].priority == candidates.URGENT
    v = by_id[due_now]
    assert v.place == (59.61, 16.55) and v.category == world.category and v.due == FRIDAY
    assert v.window == (8 * 60, 10 * 60) and v.locked is None and v.minutes == 45


async def test_what_cannot_be_planned_is_listed_with_the_reason(world):
    no_patient = await order(world, patient=False)
    no_place = await order(world)
    await db.execute("UPDATE patient SET latitude = NULL, longitude = NULL WHERE id = "
                     "(SELECT patient FROM work_order WHERE id = $1)", no_place)
    await resources.set_restricted_categories(world.organisation, [world.category])
    visits, unplanned = await candidates.open_visits(world.organisation, MONDAY, FRIDAY)
    reasons = {u.order_id: u.reason for u in unplanned}
    assert "ingen adress" in reasons[no_patient] and "koordinater" in reasons[no_place]
    assert visits == [] and len(unplanned) == 2  # the skill check comes after the place
    skilled = await order(world)
    _, unplanned = await candidates.open_visits(world.organisation, MONDAY, FRIDAY)
    assert "behörighet för Elrullstol" in {u.order_id: u.reason for u in unplanned}[skilled]
    await resources.save_resource(world.organisation, world.staff["technician"], ResourceInput(
        "HMC", (59.6162, 16.4981), None, None, time(11, 30), time(13), 30, None,
        {0: (time(8), time(16))}, [world.category]))
    visits, unplanned = await candidates.open_visits(world.organisation, MONDAY, FRIDAY)
    assert [v.order_id for v in visits] == [skilled] and visits[0].restricted
    pair = await order(world, technicians_needed=2)
    _, unplanned = await candidates.open_visits(world.organisation, MONDAY, FRIDAY,
                                                technician_ids=[world.staff["technician"]])
    assert "två tekniker" in {u.order_id: u.reason for u in unplanned}[pair]


async def test_locks_required_technicians_and_others_plans_are_respected(world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    locked = await order(world, status="planned", assignee=tech, planned=MONDAY + timedelta(days=1), plan_locked=True)
    required = await order(world, required_technician=other)
    theirs = await order(world, status="planned", assignee=other, planned=MONDAY)
    locked_elsewhere = await order(world, status="planned", assignee=tech, planned=MONDAY + timedelta(days=30),
                                   plan_locked=True, finish_due=MONDAY)
    visits, _ = await candidates.open_visits(world.organisation, MONDAY, FRIDAY, technician_ids=[tech])
    by_id = {v.order_id: v for v in visits}
    assert set(by_id) == {locked}
    assert by_id[locked].locked == (tech, MONDAY + timedelta(days=1), 8 * 60)
    assert by_id[locked].days == (MONDAY + timedelta(days=1),)
    everyone, _ = await candidates.open_visits(world.organisation, MONDAY, FRIDAY)
    ids = {v.order_id for v in everyone}
    assert {locked, required, theirs} <= ids and locked_elsewhere not in ids
    assert {v.order_id: v for v in everyone}[required].technician == other


async def test_the_current_plan_is_the_boards_order_per_technician_day(world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    second = await order(world, status="planned", assignee=tech, planned=MONDAY, route_position=2)
    first = await order(world, status="planned", assignee=tech, planned=MONDAY, route_position=1,
                        second_assignee=other, technicians_needed=2)
    gone = await order(world, status="planned", assignee=tech, planned=MONDAY, route_position=3)
    await db.execute("UPDATE work_order SET status = 'cancelled', cancel_reason = 'Dubblett' WHERE id = $1", gone)
    tuesday = await order(world, status="planned", assignee=tech, planned=MONDAY + timedelta(days=1))
    plan = await candidates.current_plan(world.organisation, [tech, other], [MONDAY, MONDAY + timedelta(days=1)])
    assert plan == {(tech, MONDAY): [first, second], (other, MONDAY): [first],
                    (tech, MONDAY + timedelta(days=1)): [tuesday]}
