"""The patient's answer, as the coordinator records it, and the field's "could not reach them":
a new time moves the visit (its version up, in its history) and is proposed again; a patient who
wants to call and a cost bearer to call are on the list of whom to contact until someone did."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from backend import db
from backend.notices import service
from backend.notices.errors import NoticeError, NoticeNotFound
from backend.workorders.service import VersionConflict, WorkOrderError
from tests.integration.notices.support import add_fu_visit, coordinator, send_and_make
from tests.support.factories import add_device, add_patient, delete_world, make_world

TODAY = date.today()
PERIOD = service.ProposalFilter.default(TODAY)


async def told(world, days_ahead: int = 20) -> tuple[int, int]:
    order = await add_fu_visit(world, world.devices[0], world.patients[0], days_ahead=days_ahead)
    notice, _, _ = await send_and_make(world, [order])
    return order, notice


async def test_a_time_that_does_not_suit_moves_the_visit_and_the_new_time_is_proposed(world):
    order, notice = await told(world)
    new_day = TODAY + timedelta(days=25)
    version = await service.record_new_time(coordinator(world), notice, 1, day=new_day, window_start=time(13),
                                            window_end=time(15), today=TODAY)
    moved = await db.fetchrow("SELECT planned_date, window_start, window_end, version, assignee FROM work_order "
                              "WHERE id = $1", order)
    assert (moved["planned_date"], moved["window_start"], moved["window_end"], moved["version"]) == (
        new_day, time(13), time(15), version)
    assert version == 2 and moved["assignee"] == world.staff["technician"]
    event = await db.fetchrow("SELECT kind, detail, staff_user FROM work_order_event WHERE work_order = $1 "
                              "ORDER BY id DESC LIMIT 1", order)
    assert event["kind"] == "planned" and f"{new_day.isoformat()} 13:00–15:00" in event["detail"]
    assert event["staff_user"] == world.staff["coordinator"]
    answered = await service.notice(coordinator(world), notice)
    assert answered["answer"] == "moved" and answered["history"][0].fields["answer"] == (None, "moved")
    [again] = (await service.proposals(coordinator(world), PERIOD, 1, TODAY))[0]
    assert (again["id"], again["planned_date"], again["window_start"]) == (order, new_day, time(13))


async def test_a_new_time_on_an_order_changed_meanwhile_is_refused_and_nothing_moves(world):
    order, notice = await told(world)
    await db.execute("UPDATE work_order SET version = 5 WHERE id = $1", order)
    with pytest.raises(VersionConflict):
        await service.record_new_time(coordinator(world), notice, 1, day=TODAY + timedelta(days=25),
                                      window_start=time(13), window_end=time(15), today=TODAY)
    assert await db.fetchval("SELECT planned_date FROM work_order WHERE id = $1", order) == TODAY + timedelta(days=20)
    assert await db.fetchval("SELECT answer FROM notice WHERE id = $1", notice) is None


@pytest.mark.parametrize("day, start, end, field", [(1, time(15), time(13), "window_end"), (-1, time(8), time(10), "day")])
async def test_a_new_time_must_be_a_window_that_has_not_passed(world, day, start, end, field):
    _, notice = await told(world)
    with pytest.raises(WorkOrderError) as refused:
        await service.record_new_time(coordinator(world), notice, 1, day=TODAY + timedelta(days=day),
                                      window_start=start, window_end=end, today=TODAY)
    assert refused.value.field == field


async def test_a_visit_already_made_cannot_be_moved_from_its_notice(world):
    order, notice = await told(world)
    await db.execute("UPDATE work_order SET status = 'completed' WHERE id = $1", order)
    with pytest.raises(WorkOrderError):
        await service.record_new_time(coordinator(world), notice, 1, day=TODAY + timedelta(days=25),
                                      window_start=time(13), window_end=time(15), today=TODAY)
    assert (await service.notice(coordinator(world), notice))["movable"] is False


async def test_a_patient_who_wants_to_call_is_to_contact_until_someone_records_the_call(world):
    _, notice = await told(world)
    await service.record_call_back(coordinator(world), notice, 1, "Nås efter 15")
    waiting, total = await service.to_contact(coordinator(world), 1)
    assert total == 1 and waiting[0]["id"] == notice and waiting[0]["answer_note"] == "Nås efter 15"
    with pytest.raises(NoticeError) as refused:
        await service.mark_contacted(coordinator(world), notice, "")
    assert refused.value.field == "note"
    await service.mark_contacted(coordinator(world), notice, "Tiden passar ändå")
    assert (await service.to_contact(coordinator(world), 1))[1] == 0
    with pytest.raises(NoticeError):
        await service.mark_contacted(coordinator(world), notice, "Igen")
    history = (await service.notice(coordinator(world), notice))["history"]
    assert [c.fields.get("answer_note") for c in history] == [("Nås efter 15", "Tiden passar ändå"), (
        "", "Nås efter 15")]


async def test_a_call_back_on_an_order_changed_meanwhile_is_refused(world):
    order, notice = await told(world)
    await db.execute("UPDATE work_order SET version = 3 WHERE id = $1", order)
    with pytest.raises(VersionConflict):
        await service.record_call_back(coordinator(world), notice, 1, "")
    assert await db.fetchval("SELECT answer FROM notice WHERE id = $1", notice) is None


async def test_an_fu_visit_that_could_not_reach_the_patient_puts_the_cost_bearer_on_the_list_to_contact(world):
    order = await add_fu_visit(world, world.devices[0], world.patients[0], days_ahead=0)
    await service.tell_cost_bearer(world.organisation, order, "Gick inte att nå brukaren.")
    row = await db.fetchrow("SELECT recipient, channel, reason, note, state, manual, cost_bearer, patient FROM notice "
                            "WHERE work_order = $1", order)
    assert dict(row) == {"recipient": "cost_bearer", "channel": "phone", "reason": "unreachable",
                         "note": "Gick inte att nå brukaren.", "state": "manual", "manual": True,
                         "cost_bearer": world.cost_bearer, "patient": world.patients[0]}
    [waiting], _ = await service.to_contact(coordinator(world), 1)
    assert waiting["work_order"] == order and waiting["cost_bearer_name"] == "Testkommun"
    assert (await service.notice(coordinator(world), waiting["id"]))["movable"] is False


async def test_a_device_in_the_depot_has_its_owner_contacted(world):
    depot = await add_device(world, holder=None)
    order = await add_fu_visit(world, depot, None)
    await service.tell_cost_bearer(world.organisation, order, "Hjälpmedlet fanns inte på plats.")
    assert await db.fetchval("SELECT cost_bearer FROM notice WHERE work_order = $1", order) == world.cost_bearer


async def test_telling_the_cost_bearer_of_another_organisations_order_is_refused(world):
    elsewhere = await make_world("Annan region")
    try:
        stranger = await add_patient(elsewhere)
        order = await add_fu_visit(elsewhere, await add_device(elsewhere, holder=stranger), stranger)
        with pytest.raises(NoticeNotFound):
            await service.tell_cost_bearer(world.organisation, order, "x")
    finally:
        await delete_world(elsewhere)


async def test_another_organisations_notice_is_not_found(world):
    _, notice = await told(world)
    elsewhere = await make_world("Annan region")
    try:
        from tests.integration.notices.support import coordinator as their
        with pytest.raises(NoticeNotFound):
            await service.notice(their(elsewhere), notice)
        with pytest.raises(NoticeNotFound):
            await service.mark_contacted(their(elsewhere), notice, "x")
    finally:
        await delete_world(elsewhere)
