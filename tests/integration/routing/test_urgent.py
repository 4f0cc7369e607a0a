"""An urgent repair fitted into today's routes: the others keep their technicians, a confirmed
time keeps its time, nothing changes until accepted, and the patients whose visit moves out of
its window are listed to call."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from backend import db
from backend.routing import proposals, resources, urgent
from backend.routing.resources import ResourceInput
from tests.integration.routing.test_proposals import coordinator, order
from tests.support.factories import delete_world, make_world
from tests.support.protected import assert_no_protected_details

MONDAY = date(2027, 3, 1)


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def test_an_urgent_repair_goes_into_todays_routes_and_the_others_keep_their_technicians(world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    mine = [await order(world, (59.61, 16.55 + 0.02 * i), assignee=tech, day=MONDAY, position=i + 1) for i in range(3)]
    theirs = [await order(world, (59.70, 16.80 + 0.02 * i), assignee=other, day=MONDAY, position=i + 1)
              for i in range(3)]
    confirmed = mine[1]
    await db.execute("UPDATE work_order SET plan_locked = true, window_start = '10:00', window_end = '10:30' "
                     "WHERE id = $1", confirmed)
    akut = await order(world, (59.62, 16.58), due=MONDAY)
    await db.execute("UPDATE work_order SET type = 'urgent_repair' WHERE id = $1", akut)
    before = await db.fetch("SELECT id, version FROM work_order WHERE organisation = $1 ORDER BY id", world.organisation)

    proposal_id = await urgent.insert_urgent(coordinator(world), akut, MONDAY, 8 * 60)
    assert await db.fetch("SELECT id, version FROM work_order WHERE organisation = $1 ORDER BY id",
                          world.organisation) == before
    shown = await proposals.proposal(coordinator(world), proposal_id)
    assert shown["kind"] == "urgent"
    where = {v["work_order"]: (d["technician"], v) for d in shown["days"] for v in d["visits"]}
    assert akut in where
    assert all(where[o][0] == tech for o in mine) and all(where[o][0] == other for o in theirs)
    assert where[confirmed][1]["starts"] == time(10, 0)
    assert all(v["starts"] >= time(8, 0) for _, v in where.values())
    assert isinstance(await urgent.calls(coordinator(world), shown), list)

    result = await proposals.accept(coordinator(world), proposal_id, None, MONDAY)
    row = await db.fetchrow("SELECT assignee, planned_date, status FROM work_order WHERE id = $1", akut)
    assert (row["assignee"], row["planned_date"], row["status"]) == (where[akut][0], MONDAY, "planned")
    assert result.skipped == []
    row = await db.fetchrow("SELECT assignee, planned_date, window_start, window_end, route_position FROM work_order "
                            "WHERE id = $1", confirmed)
    # Confirmed with the patient: technician, day and time stay; only its place in the day follows the plan.
    assert (row["assignee"], row["planned_date"], row["window_start"], row["window_end"]) \
        == (tech, MONDAY, time(10), time(10, 30))
    assert row["route_position"] == where[confirmed][1]["position"]


async def test_a_patient_whose_visit_cannot_stay_is_listed_to_call(world):
    tech = world.staff["technician"]
    await db.execute("UPDATE staff_user SET active = false WHERE id = $1", world.staff["other_technician"])
    # A short Monday, full already: two visits of an hour with tight windows; the urgent repair (an
    # hour too) fits only if one of them goes.
    await resources.save_resource(world.organisation, tech, ResourceInput(
        "HMC", (59.61, 16.55), None, None, time(11, 30), time(13), 0, None, {0: (time(7, 30), time(10, 30))}, []))
    first = await order(world, (59.61, 16.55), assignee=tech, day=MONDAY, position=1)
    second = await order(world, (59.61, 16.56), assignee=tech, day=MONDAY, position=2)
    await db.execute("UPDATE work_order SET window_start = '08:00', window_end = '08:05' WHERE id = $1", first)
    await db.execute("UPDATE work_order SET window_start = '09:10', window_end = '09:15' WHERE id = $1", second)
    akut = await order(world, (59.61, 16.555), due=MONDAY)
    await db.execute("UPDATE work_order SET type = 'urgent_repair' WHERE id = $1", akut)
    proposal_id = await urgent.insert_urgent(coordinator(world), akut, MONDAY, 7 * 60 + 30)
    shown = await proposals.proposal(coordinator(world), proposal_id)
    planned = {v["work_order"] for d in shown["days"] for v in d["visits"]}
    assert akut in planned and len(planned & {first, second}) == 1
    [call] = await urgent.calls(coordinator(world), shown)
    assert call["order"] in {first, second} - planned and call["after"] is None and call["outside"]
    assert call["phone"] == "070-111 22 33" and call["name"] == "Astrid Lindqvist"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE what = 'urgent_calls' AND organisation = $1",
                             world.organisation) == 1

    # A protected identity is listed by name only: no phone (nor address or door code).
    patient = await db.fetchval("SELECT patient FROM work_order WHERE id = $1", call["order"])
    await db.execute("UPDATE patient SET protected_identity = true, door_code = '4455' WHERE id = $1", patient)
    [call] = await urgent.calls(coordinator(world), shown)
    assert call["protected"] and call["phone"] == "" and call["name"] == "Astrid Lindqvist"
    await assert_no_protected_details(str(call), patient)


async def test_a_visit_already_done_today_stays_first_in_the_day(world):
    tech = world.staff["technician"]
    await db.execute("UPDATE staff_user SET active = false WHERE id = $1", world.staff["other_technician"])
    done = await order(world, (59.61, 16.55), assignee=tech, day=MONDAY, position=1)
    await db.execute("UPDATE work_order SET status = 'completed', completed_at = now(), outcome = 'fixed' "
                     "WHERE id = $1", done)
    later = await order(world, (59.61, 16.60), assignee=tech, day=MONDAY, position=2)
    akut = await order(world, (59.61, 16.58), due=MONDAY)
    await db.execute("UPDATE work_order SET type = 'urgent_repair' WHERE id = $1", akut)
    proposal_id = await urgent.insert_urgent(coordinator(world), akut, MONDAY, 9 * 60)
    await proposals.accept(coordinator(world), proposal_id, None, MONDAY)
    positions = dict(await db.fetch("SELECT id, route_position FROM work_order WHERE id = ANY($1::int[])",
                                    [done, later, akut]))
    assert positions[done] == 1 and sorted([positions[later], positions[akut]]) == [2, 3]
