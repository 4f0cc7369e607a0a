"""Plan proposals: solved and kept without touching the orders; accepted in all or part, writing
technician, day, window and place in the day; an order changed since is skipped and listed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.routing import proposals
from backend.workorders import plans
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

MONDAY = date(2027, 3, 1)
TUESDAY = MONDAY + timedelta(days=1)
FRIDAY = MONDAY + timedelta(days=4)


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


def coordinator(world) -> Actor:
    return Actor(id=world.staff["coordinator"], organisation=world.organisation, name="Test coordinator",
                 role=Role.coordinator, care_unit=None)


async def order(world, place, *, due=FRIDAY, **planned) -> int:
    patient = await add_patient(world)
    await db.execute("UPDATE patient SET latitude = $2, longitude = $3 WHERE id = $1", patient, *place)
    device = await add_device(world, holder=patient)
    order_id = await add_work_order(world, device, status="planned" if planned else "new", patient=patient,
                                    assignee=planned.get("assignee"), planned=planned.get("day"),
                                    position=planned.get("position", 1))
    await db.execute("UPDATE work_order SET finish_due = $2, window_start = NULL, window_end = NULL WHERE id = $1",
                     order_id, due)
    return order_id


async def versions(ids):
    return {r["id"]: (r["version"], r["assignee"], r["planned_date"])
            for r in await db.fetch("SELECT id, version, assignee, planned_date FROM work_order WHERE id = ANY($1::int[])", ids)}


async def test_a_proposal_plans_every_order_it_can_and_changes_nothing_until_accepted(world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    ids = [await order(world, (59.61 + 0.02 * i, 16.55 + 0.03 * i)) for i in range(6)]
    nowhere = await order(world, (59.6, 16.5))
    await db.execute("UPDATE patient SET latitude = NULL, longitude = NULL WHERE id = "
                     "(SELECT patient FROM work_order WHERE id = $1)", nowhere)
    before = await versions(ids)
    proposal_id = await proposals.propose(coordinator(world), [tech, other], MONDAY, TUESDAY, MONDAY)
    assert await versions(ids) == before
    shown = await proposals.proposal(coordinator(world), proposal_id)
    planned = [v["work_order"] for d in shown["days"] for v in d["visits"]]
    assert sorted(planned) == sorted(ids)
    assert {u["work_order"]: u["reason"] for u in shown["unplanned"]}[nowhere].startswith("Brukarens adress")
    assert shown["figures"]["proposal"]["visits"] == 6 and shown["figures"]["current"]["visits"] == 0
    assert shown["status"] == "proposed"
    for day in shown["days"]:
        assert day["day"] in (MONDAY, TUESDAY) and day["technician"] in (tech, other)
        starts = [v["starts"] for v in day["visits"]]
        assert starts == sorted(starts)
        for v in day["visits"]:
            assert v["window_start"] <= v["starts"] <= v["window_end"]


async def test_accepting_writes_the_plan_and_skips_an_order_changed_since(world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    ids = [await order(world, (59.61 + 0.02 * i, 16.55 + 0.03 * i)) for i in range(4)]
    proposal_id = await proposals.propose(coordinator(world), [tech, other], MONDAY, MONDAY, MONDAY)
    changed = ids[0]
    await db.execute("UPDATE work_order SET version = version + 1, description = 'Ändrad' WHERE id = $1", changed)
    result = await proposals.accept(coordinator(world), proposal_id, None, MONDAY)
    assert result.planned == 3
    assert [(s.order_id, s.reason) for s in result.skipped] == [(changed, plans.CHANGED)]
    shown = await proposals.proposal(coordinator(world), proposal_id)
    where = {v["work_order"]: (d["technician"], d["day"], v["position"], v["window_start"], v["window_end"])
             for d in shown["days"] for v in d["visits"]}
    rows = {r["id"]: r for r in await db.fetch(
        "SELECT id, assignee, planned_date, route_position, window_start, window_end, status, version "
        "FROM work_order WHERE id = ANY($1::int[])", ids)}
    for order_id in ids[1:]:
        r = rows[order_id]
        assert (r["assignee"], r["planned_date"], r["route_position"], r["window_start"], r["window_end"]) \
            == where[order_id]
        assert r["status"] == "planned" and r["version"] == 2
    assert rows[changed]["assignee"] is None and rows[changed]["status"] == "new"
    assert shown["status"] == "accepted"
    events = await db.fetchval("SELECT count(*) FROM work_order_event WHERE work_order = ANY($1::int[]) "
                               "AND kind = 'planned' AND detail LIKE 'Ruttplanering:%'", ids)
    assert events == 3
    with pytest.raises(proposals.ProposalError):
        await proposals.accept(coordinator(world), proposal_id, None, MONDAY)


async def test_accepting_one_technician_day_leaves_the_rest_as_proposed(world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    # Two clusters far apart: each technician's day gets visits.
    west = [await order(world, (59.61, 16.0 + 0.01 * i)) for i in range(3)]
    east = [await order(world, (59.61, 17.5 + 0.01 * i)) for i in range(3)]
    await db.execute("UPDATE work_order SET version = version WHERE id = ANY($1::int[])", west + east)
    proposal_id = await proposals.propose(coordinator(world), [tech, other], MONDAY, MONDAY, MONDAY)
    shown = await proposals.proposal(coordinator(world), proposal_id)
    first = shown["days"][0]
    result = await proposals.accept(coordinator(world), proposal_id, [first["key"]], MONDAY)
    assert result.planned == len(first["visits"]) and not result.skipped
    shown = await proposals.proposal(coordinator(world), proposal_id)
    assert shown["status"] == "partly"
    assert [d["accepted"] for d in shown["days"]].count(True) == 1
    planned = await db.fetchval("SELECT count(*) FROM work_order WHERE id = ANY($1::int[]) AND status = 'planned'",
                                west + east)
    assert planned == len(first["visits"])


async def test_a_period_in_the_past_or_too_long_is_refused(world):
    tech = world.staff["technician"]
    with pytest.raises(proposals.ProposalError, match="idag eller senare"):
        await proposals.propose(coordinator(world), [tech], MONDAY - timedelta(days=1), MONDAY, MONDAY)
    with pytest.raises(proposals.ProposalError, match="högst 14"):
        await proposals.propose(coordinator(world), [tech], MONDAY, MONDAY + timedelta(days=14), MONDAY)
    with pytest.raises(proposals.ProposalError, match="ur listan"):
        await proposals.propose(coordinator(world), [world.staff["admin"]], MONDAY, MONDAY, MONDAY)


async def test_an_accepted_fu_visit_is_among_the_visits_to_tell_patients_of(world):
    from backend.notices import service as notices

    tech = world.staff["technician"]
    fu = await order(world, (59.62, 16.56))
    await db.execute("UPDATE work_order SET type = 'maintenance', channel = 'generated' WHERE id = $1", fu)
    wanted = notices.ProposalFilter(MONDAY, FRIDAY)
    assert fu not in [p["id"] for p in (await notices.proposals(coordinator(world), wanted, 1, MONDAY))[0]]
    proposal_id = await proposals.propose(coordinator(world), [tech], MONDAY, FRIDAY, MONDAY)
    await proposals.accept(coordinator(world), proposal_id, None, MONDAY)
    told = {p["id"]: p for p in (await notices.proposals(coordinator(world), wanted, 1, MONDAY))[0]}
    assert fu in told
    row = await db.fetchrow("SELECT planned_date, window_start FROM work_order WHERE id = $1", fu)
    assert (told[fu]["planned_date"], told[fu]["window_start"]) == (row["planned_date"], row["window_start"])


async def test_more_visits_than_the_period_holds_are_offered_most_urgent_first_and_the_rest_listed(world, monkeypatch):
    monkeypatch.setattr(proposals, "MIN_OFFERED", 3)
    monkeypatch.setattr(proposals, "VISITS_A_DAY_AT_MOST", 3)
    tech = world.staff["technician"]
    overdue = [await order(world, (59.61, 16.55 + 0.01 * i), due=MONDAY - timedelta(days=5)) for i in range(3)]
    later = [await order(world, (59.61, 16.60 + 0.01 * i), due=FRIDAY + timedelta(days=7)) for i in range(2)]
    problem, unplannable = await proposals.problem_for(world.organisation, [tech], [MONDAY])
    assert sorted(v.order_id for v in problem.visits) == sorted(overdue)
    assert {u.order_id: u.reason for u in unplannable} == {o: proposals.TOO_MANY for o in later}
