"""Fault reports against PostgreSQL: one case per form however often it arrives, triage into a
work order the coordinator's board shows, the reporter's stage following that order."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from backend import db
from backend.accounts.service import load_actor
from backend.accounts.store import PostgresStore
from backend.faults import repairs, triage
from backend.faults import service as faults
from backend.workorders import service as workorders
from tests.support.factories import FAULT_ANSWERS, add_device, add_fault_report, add_patient, delete_world, \
    device_token, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    world.device = await add_device(world, holder=world.patient)
    yield world
    await delete_world(world)


async def actor(world, role: str):
    return await load_actor(world.staff[role], 0, absolute_hours=10**9)


def answers(**changes) -> faults.ReportInput:
    return faults.ReportInput(**{**FAULT_ANSWERS, **changes})


async def test_report_triage_work_order_and_completion_show_the_right_stage(world):
    report, status_token = await add_fault_report(world, world.device)
    case = await faults.case_status(status_token)
    assert case["stage"].key == "received" and case["category_name"] == "Elrullstol"

    coordinator = await actor(world, "coordinator")
    order = await triage.triage_to_work_order(coordinator, report, type="repair_on_site", urgent=False)
    board = await workorders.open_orders(world.organisation, status=None, type=None, page=1, today=date.today())
    assert order["number"] in [o["number"] for o in board]  # the coordinator's board has it
    stored = await db.fetchrow("SELECT * FROM work_order WHERE id = $1", order["id"])
    reported_at = await db.fetchval("SELECT received_at FROM fault_report WHERE id = $1", report)
    assert stored["received_at"] == reported_at  # the clock started when the report came in
    assert (stored["channel"], stored["patient"]) == ("web", world.patient)
    assert (await faults.case_status(status_token))["stage"].key == "received"

    await db.execute("UPDATE work_order SET status = 'planned', planned_date = '2031-05-06', "
                     "assignee = $2 WHERE id = $1", order["id"], world.staff["technician"])
    stage = (await faults.case_status(status_token))["stage"]
    assert (stage.key, stage.day) == ("planned", date(2031, 5, 6))
    await db.execute("UPDATE work_order SET status = 'completed', completed_at = '2031-05-06 13:00+02', "
                     "outcome = 'fixed' WHERE id = $1", order["id"])
    stage = (await faults.case_status(status_token))["stage"]
    assert (stage.key, stage.label, stage.day) == ("fixed", "Åtgärdad", date(2031, 5, 6))


async def test_the_same_form_sent_twice_at_once_is_one_case(world):
    device = await faults.public_device(await device_token(world, world.device))
    nonce = faults.new_token()
    tokens = await asyncio.gather(*(faults.report_fault(device, answers(), submission_key=nonce) for _ in range(5)))
    assert len(set(tokens)) == 1
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE submission_key = $1", nonce) == 1


async def test_a_report_is_triaged_once_even_by_two_coordinators_at_once(world):
    report, _ = await add_fault_report(world, world.device)
    coordinator, admin = await actor(world, "coordinator"), await actor(world, "admin")
    results = await asyncio.gather(
        triage.triage_to_work_order(coordinator, report, type="repair_hmc", urgent=False),
        triage.close_report(admin, report, "Dubblett av en annan felanmälan."),
        return_exceptions=True,
    )
    assert sum(isinstance(r, faults.AlreadyHandled) for r in results) == 1
    row = await db.fetchrow("SELECT status, work_order, answer FROM fault_report WHERE id = $1", report)
    assert (row["status"] == "ordered") == (row["work_order"] is not None) and (row["status"] == "closed") == (
        row["answer"] is not None)


async def test_another_organisations_report_does_not_exist_for_a_coordinator(world):
    other = await make_world("Annan region")
    try:
        report, _ = await add_fault_report(world, world.device)
        stranger = await actor(other, "coordinator")
        with pytest.raises(faults.NotFound):
            await triage.triage_report(stranger, report)
        with pytest.raises(faults.NotFound):
            await triage.triage_to_work_order(stranger, report, type="repair_hmc", urgent=False)
        assert report not in [r["id"] for r in await triage.triage_queue(stranger)]
    finally:
        await delete_world(other)


async def test_the_queue_puts_unusable_devices_first_and_audits_the_holders(world):
    usable, _ = await add_fault_report(world, world.device, usable="partly")
    unusable, _ = await add_fault_report(world, world.device, usable="no")
    coordinator = await actor(world, "coordinator")
    queue = [r["id"] for r in await triage.triage_queue(coordinator)]
    assert queue.index(unusable) < queue.index(usable)
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND patient = $2 "
                             "AND what = 'fault_queue'", coordinator.id, world.patient) == 1
    view = await triage.triage_report(coordinator, usable)
    assert view["patient"]["family_name"] == "Lindqvist"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND patient = $2 "
                             "AND what = 'fault_triage'", coordinator.id, world.patient) == 1


async def test_a_prescribers_double_tap_gives_one_order(world):
    prescriber = await actor(world, "prescriber")
    number = await db.fetchval("SELECT individnummer FROM device WHERE id = $1", world.device)
    nonce = faults.new_token()
    orders = await asyncio.gather(*(repairs.order_repair(prescriber, number, answers(), type="repair_hmc",
                                                        submission_key=nonce) for _ in range(4)))
    assert len({o["id"] for o in orders}) == 1
    assert await db.fetchval("SELECT count(*) FROM work_order WHERE device = $1 AND channel = 'prescriber'",
                             world.device) == 1
    [listed] = await repairs.repair_orders(prescriber)
    assert listed["order"]["number"] == orders[0]["number"] and listed["stage"].key == "received"


async def test_a_prescriber_orders_only_for_their_own_units_patients(world):
    other = await actor(world, "other_prescriber")
    number = await db.fetchval("SELECT individnummer FROM device WHERE id = $1", world.device)
    with pytest.raises(faults.NotFound):
        await repairs.repair_order_target(other, number)
    with pytest.raises(faults.NotFound):
        await repairs.order_repair(other, number, answers(), type="repair_hmc", submission_key=faults.new_token())
    assert await repairs.repair_orders(other) == []


async def test_a_device_keeps_one_active_token_and_a_new_one_replaces_it(world):
    first = await faults.ensure_tokens(world.organisation, [world.device])
    assert await faults.ensure_tokens(world.organisation, [world.device]) == first
    number = await db.fetchval("SELECT individnummer FROM device WHERE id = $1", world.device)
    new = await faults.replace_device_token(world.organisation, number)
    assert await faults.public_device(first[world.device]) is None
    assert (await faults.public_device(new)).device_id == world.device
    assert await db.fetchval("SELECT count(*) FROM device_token WHERE device = $1", world.device) == 2


async def test_the_shared_store_counts_atomically_per_window(database):
    store = PostgresStore("test_counter")
    key = faults.new_token()
    counts = await asyncio.gather(*(store.increment(key, 60) for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))
    await db.execute("UPDATE kv_store SET expires_at = now() - interval '1 second' "
                     "WHERE namespace = 'test_counter' AND key = $1", key)
    assert await store.increment(key, 60) == 1  # a new window
    await store.delete_all()
