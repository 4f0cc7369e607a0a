"""Which visits are proposed for a notice, on which channel, and sending them: notices and one job,
together or not at all, and never a second notice for the same visit and time."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from backend import db
from backend.notices import service
from backend.notices.errors import NoticeError
from tests.integration.notices.support import add_fu_visit, coordinator
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

TODAY = date.today()
PERIOD = service.ProposalFilter.default(TODAY)


async def proposed(world, wanted=PERIOD) -> list[dict]:
    found, total = await service.proposals(coordinator(world), wanted, 1, TODAY)
    assert total == len(found)
    return found


async def jobs_of(batch: int) -> int:
    return await db.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE task_name = $1 AND args->>'batch' = $2",
                             service.SEND_TASK, str(batch))


async def test_a_generated_fu_visit_nobody_was_told_of_is_proposed_with_the_patients_channel(world):
    order = await add_fu_visit(world, world.devices[0], world.patients[0], days_ahead=20)
    [visit] = await proposed(world)
    assert visit["id"] == order
    assert (visit["channel"], visit["recipient"], visit["manual"], visit["late"]) == ("letter", "patient", False, False)
    assert visit["patient_name"] == "Astrid Lindqvist"
    assert visit["device"] == "Elrullstol, Permobil M3 Corpus (individnummer " + \
        await db.fetchval("SELECT individnummer FROM device WHERE id = $1", world.devices[0]) + ")"
    assert visit["technician"] == "Test"
    assert visit["cost_bearer_name"] == "Testkommun"


async def test_reading_the_proposals_is_in_the_access_log(world):
    await add_fu_visit(world, world.devices[0], world.patients[0])
    await proposed(world)
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE patient = $1 AND what = 'notice_proposals'",
                             world.patients[0]) == 1


async def test_a_visit_less_than_two_weeks_away_is_flagged_too_late_to_tell_two_weeks_ahead(world):
    await add_fu_visit(world, world.devices[0], world.patients[0], days_ahead=13)
    other = await add_device(world, holder=world.patients[0])
    await add_fu_visit(world, other, world.patients[0], days_ahead=14)
    assert [v["late"] for v in await proposed(world)] == [True, False]


async def test_only_generated_fu_visits_not_yet_made_in_the_period_are_proposed(world):
    device, patient = world.devices[0], world.patients[0]
    await add_work_order(world, device, patient=patient, planned=TODAY + timedelta(days=20))  # a repair
    by_phone = await add_work_order(world, device, patient=patient, planned=TODAY + timedelta(days=20),
                                    type="maintenance")  # an FU a person ordered
    done = await add_fu_visit(world, device, patient)
    await db.execute("UPDATE work_order SET status = 'completed' WHERE id = $1", done)
    await add_fu_visit(world, device, patient, days_ahead=PERIOD.until.toordinal() - TODAY.toordinal() + 1)
    depot = await add_device(world, holder=None)
    await add_fu_visit(world, depot, None)
    elsewhere = await make_world("Annan region")
    try:
        stranger = await add_patient(elsewhere)
        await add_fu_visit(elsewhere, await add_device(elsewhere, holder=stranger), stranger)
        assert await proposed(world) == []
        assert by_phone  # planned by hand: the coordinator tells the patient when planning it
    finally:
        await delete_world(elsewhere)


async def test_the_municipality_filter_keeps_the_patients_of_one_cost_bearer(world):
    other_bearer = await db.fetchval("INSERT INTO cost_bearer (organisation, name, kind, code) "
                                     "VALUES ($1, 'Köping', 'municipality', 'K1') RETURNING id", world.organisation)
    elsewhere = await add_patient(world, given="Bo")
    await db.execute("UPDATE patient SET cost_bearer = $2 WHERE id = $1", elsewhere, other_bearer)
    await add_fu_visit(world, world.devices[0], world.patients[0])
    await add_fu_visit(world, await add_device(world, holder=elsewhere), elsewhere)
    only = service.ProposalFilter(PERIOD.since, PERIOD.until, other_bearer)
    assert [v["patient_name"] for v in await proposed(world, only)] == ["Bo Lindqvist"]
    assert len(await proposed(world)) == 2


async def test_a_period_that_ends_before_it_starts_or_runs_over_a_year_is_refused(world):
    with pytest.raises(NoticeError) as refused:
        await proposed(world, service.ProposalFilter(TODAY, TODAY - timedelta(days=1)))
    assert refused.value.field == "till"
    with pytest.raises(NoticeError):
        await proposed(world, service.ProposalFilter(TODAY, TODAY + timedelta(days=400)))


async def test_sending_makes_the_notices_of_one_send_and_one_job_and_the_visit_is_no_longer_proposed(world):
    first = await add_fu_visit(world, world.devices[0], world.patients[0])
    second = await add_fu_visit(world, await add_device(world, holder=world.patients[0]), world.patients[0])
    sent = await service.send_notices(coordinator(world), [first, second], PERIOD, TODAY)
    assert (sent.notices, sent.letters, sent.manual) == (2, 2, 0)
    rows = await db.fetch("SELECT work_order, state, batch, recipient, channel, planned_date, window_start, created_by "
                          "FROM notice WHERE batch = $1 ORDER BY work_order", sent.batch)
    assert [(r["work_order"], r["state"], r["channel"], r["created_by"]) for r in rows] == [
        (first, "queued", "letter", world.staff["coordinator"]), (second, "queued", "letter", world.staff["coordinator"])]
    assert rows[0]["planned_date"] == TODAY + timedelta(days=20)
    assert await jobs_of(sent.batch) == 1
    assert await proposed(world) == []


async def test_a_chosen_visit_that_is_no_longer_to_tell_of_is_refused_and_nothing_is_written(world):
    order = await add_fu_visit(world, world.devices[0], world.patients[0])
    await service.send_notices(coordinator(world), [order], PERIOD, TODAY)
    before = await db.fetchval("SELECT count(*) FROM notice")
    with pytest.raises(NoticeError):
        await service.send_notices(coordinator(world), [order], PERIOD, TODAY)
    with pytest.raises(NoticeError):
        await service.send_notices(coordinator(world), [], PERIOD, TODAY)
    assert await db.fetchval("SELECT count(*) FROM notice") == before


async def test_two_coordinators_sending_at_once_tell_the_patient_once(world):
    order = await add_fu_visit(world, world.devices[0], world.patients[0])
    results = await asyncio.gather(*(service.send_notices(coordinator(world), [order], PERIOD, TODAY)
                                     for _ in range(2)), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["NoticeError", "Sent"]
    assert await db.fetchval("SELECT count(*) FROM notice WHERE work_order = $1", order) == 1
    sent = next(r for r in results if isinstance(r, service.Sent))
    assert await jobs_of(sent.batch) == 1


async def test_sending_everything_in_the_selection_takes_every_proposed_visit(world):
    for _ in range(3):
        await add_fu_visit(world, await add_device(world, holder=world.patients[0]), world.patients[0])
    sent = await service.send_notices(coordinator(world), None, PERIOD, TODAY)
    assert sent.notices == 3
    assert await proposed(world) == []


async def test_a_patient_runda_cannot_reach_is_for_a_person_to_contact_and_needs_no_job(world):
    await db.execute("UPDATE patient SET notice_channel = 'sms', phone = '021-10 00 00' WHERE id = $1",
                     world.patients[0])
    order = await add_fu_visit(world, world.devices[0], world.patients[0])
    sent = await service.send_notices(coordinator(world), [order], PERIOD, TODAY)
    assert (sent.notices, sent.manual) == (1, 1)
    row = await db.fetchrow("SELECT state, manual, channel, recipient, cost_bearer, note FROM notice WHERE batch = $1",
                            sent.batch)
    assert (row["state"], row["manual"], row["channel"], row["recipient"], row["cost_bearer"]) == (
        "manual", True, "phone", "cost_bearer", world.cost_bearer)
    assert "mobilnummer" in row["note"]
    assert await jobs_of(sent.batch) == 0
    waiting, total = await service.to_contact(coordinator(world), 1)
    assert total == 1 and waiting[0]["work_order"] == order
