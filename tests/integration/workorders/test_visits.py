"""The rules of a visit: FU checklists and safety decisions, repairs, could-not-complete,
versions, and the append-only record."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from backend import db
from backend.maintenance import service as maintenance
from backend.maintenance.service import Answer, ChecklistError
from backend.visits import service as visits
from backend.workorders import planning
from backend.workorders.service import NotAssigned, NotOpen, VersionConflict, WorkOrderError, create_work_order
from tests.integration.workorders.conftest import actor
from tests.support.factories import add_work_order


async def version_of(order_id: int) -> int:
    return await db.fetchval("SELECT version FROM work_order WHERE id = $1", order_id)


async def rows(table: str, order_id: int) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table} WHERE work_order = $1", order_id)


PASSING = [Answer("frame", "pass"), Answer("brakes", "pass"), Answer("battery", "pass", Decimal("24.6"))]


async def test_a_passed_fu_sets_the_next_fu_date_one_interval_ahead(world):
    tech = actor(world)
    v = await visits.start_visit(tech, world.fu, await version_of(world.fu))
    assert await visits.save_checklist(tech, world.fu, PASSING) == 3
    await visits.complete_visit(tech, world.fu, v, None)
    device = await db.fetchrow("SELECT last_fu_date, next_fu_date, status FROM device WHERE id = $1", world.device)
    assert device["last_fu_date"] == date.today()
    assert device["next_fu_date"] == date.today() + timedelta(days=365)
    assert device["status"] == "in_use"
    order = await db.fetchrow("SELECT status, completed_at FROM work_order WHERE id = $1", world.fu)
    assert order["status"] == "completed" and order["completed_at"] is not None


async def test_an_fu_cannot_be_completed_with_unanswered_items(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, PASSING[:2])
    with pytest.raises(WorkOrderError, match="1 punkt i checklistan är inte besvarade"):
        await visits.complete_visit(tech, world.fu, await version_of(world.fu), None)
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", world.fu) == "planned"


async def test_a_failed_safety_item_needs_a_decision_and_a_follow_up_order_takes_the_device_out_of_use(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, [
        Answer("frame", "pass"), Answer("brakes", "fail", comment="Bromsen släpper i backe"),
        Answer("battery", "pass", Decimal("25"))])
    with pytest.raises(WorkOrderError, match="underkänd säkerhetspunkt"):
        await visits.complete_visit(tech, world.fu, await version_of(world.fu), None)

    number = await visits.decide_on_safety_item(tech, world.fu, "brakes", "follow_up_order", "Ny motorbroms behövs")
    follow_up = await db.fetchrow("SELECT * FROM work_order WHERE number = $1 AND organisation = $2", number,
                                  world.organisation)
    assert follow_up["type"] == "repair_on_site" and follow_up["status"] == "new"
    assert follow_up["follow_up_of"] == world.fu and follow_up["device"] == world.device
    assert follow_up["patient"] == world.patient
    assert "Motorbromsar håller" in follow_up["description"] and "släpper i backe" in follow_up["description"]
    assert follow_up["start_due"] is not None  # the repair clock starts now
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "out_of_use"

    await visits.complete_visit(tech, world.fu, await version_of(world.fu), None)
    kinds = [r["kind"] for r in await db.fetch(
        "SELECT kind FROM work_order_event WHERE work_order = $1 ORDER BY id", world.fu)]
    assert kinds == ["safety_decision", "device_status", "fu_done", "completed"]


async def test_repaired_on_the_spot_keeps_the_device_in_use(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, [Answer("brakes", "fail", comment="Glapp")])
    assert await visits.decide_on_safety_item(tech, world.fu, "brakes", "repaired_on_site", "Justerad") is None
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "in_use"


async def test_only_a_failed_safety_item_takes_a_decision(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, [Answer("frame", "fail", comment="Spricka")])
    for key in ("frame", "brakes"):
        with pytest.raises(WorkOrderError, match="inte en underkänd säkerhetspunkt"):
            await visits.decide_on_safety_item(tech, world.fu, key, "taken_out_of_use", "")
    assert await rows("safety_decision", world.fu) == 0


@pytest.mark.parametrize("answer, message", [
    (Answer("battery", "pass", Decimal("75")), "inte möjligt"),
    (Answer("battery", "pass", Decimal("-1")), "inte möjligt"),
    (Answer("battery", "pass", Decimal("21.0")), "utanför gränsvärdet 23–26,5 V"),
    (Answer("battery", "pass", None), "Ange mätvärdet"),
    (Answer("brakes", "fail", comment=""), "Beskriv felet"),
    (Answer("frame", "maybe"), "Välj Godkänd, Underkänd eller Ej aktuell"),
])
async def test_an_impossible_answer_is_refused_and_nothing_of_the_form_is_stored(world, answer, message):
    with pytest.raises(ChecklistError, match=message):
        await visits.save_checklist(actor(world), world.fu, [Answer("frame", "pass"), answer])
    assert await rows("checklist_answer", world.fu) == 0


async def test_a_measurement_outside_the_limits_may_be_recorded_as_failed(world):
    await visits.save_checklist(actor(world), world.fu, [Answer("battery", "fail", Decimal("21.0"), "Byt batteri")])
    assert await rows("checklist_answer", world.fu) == 1


async def test_answers_are_appended_and_the_latest_counts(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, [Answer("frame", "fail", comment="Spricka")])
    assert await visits.save_checklist(tech, world.fu, [Answer("frame", "fail", comment="Spricka")]) == 0
    await visits.save_checklist(tech, world.fu, [Answer("frame", "pass")])
    assert await rows("checklist_answer", world.fu) == 2
    checklist = await maintenance.checklist_for_order(world.fu)
    state = await maintenance.checklist_state(world.fu, checklist)
    assert state.answers["frame"]["answer"] == "pass"


async def test_old_results_keep_the_questions_of_their_checklist_version(world):
    tech = actor(world)
    await visits.save_checklist(tech, world.fu, [Answer("frame", "pass")])
    newer = await maintenance.publish_checklist(world.category, [
        {"key": "frame", "text": "Ram, sits och rygg hela", "safety_critical": False, "measurement": None}])
    # An order answers the version published when it was made: the fresh one is made after this one.
    world.repair = await add_work_order(world, world.repair_device, assignee=world.staff["technician"],
                                        planned=date.today(), patient=world.patient, position=2)
    assert newer.version == world.checklist.version + 1
    answered = await maintenance.checklist_for_order(world.fu)
    assert answered.version == world.checklist.version and answered.item("frame").text == "Ram och sits hela"
    fresh = await maintenance.checklist_for_order(world.repair)  # same category, nothing answered yet
    assert fresh.version == newer.version


async def test_a_repair_needs_the_action_taken_and_an_outcome_that_sets_the_device_status(world):
    tech = actor(world)
    with pytest.raises(WorkOrderError, match="Välj resultat"):
        await visits.complete_visit(tech, world.repair, await version_of(world.repair), None)
    with pytest.raises(WorkOrderError, match="Beskriv vilken åtgärd"):
        await visits.complete_visit(tech, world.repair, await version_of(world.repair), "condemned")
    await visits.add_report(tech, world.repair, visits.RepairReport("Ramen spräckt", "Bedömd som ej reparerbar"))
    await visits.complete_visit(tech, world.repair, await version_of(world.repair), "condemned")
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.repair_device) == "condemned"
    assert await db.fetchval("SELECT outcome FROM work_order WHERE id = $1", world.repair) == "condemned"


async def test_parts_time_notes_and_photos_are_rows_of_their_own(world):
    tech = actor(world)
    part = await db.fetchval(
        "INSERT INTO article (organisation, article_number, name, manufacturer) VALUES ($1, 'P-1', 'Batteri 12 V', 'X') "
        "RETURNING article_number", world.organisation)
    await visits.add_part(tech, world.repair, f"{part} · Batteri 12 V (X)", 2)
    await visits.add_part(tech, world.repair, part, 1)
    await visits.add_time(tech, world.repair, 45)
    await visits.add_note(tech, world.repair, "Kunden nöjd")
    record = (await visits.protocol(tech, world.repair))["record"]
    assert [(p["quantity"], p["name"]) for p in record["parts"]] == [(2, "Batteri 12 V"), (1, "Batteri 12 V")]
    assert record["minutes"] == 45 and record["notes"][0]["text"] == "Kunden nöjd"


@pytest.mark.parametrize("reference, quantity, field", [
    ("999999 · Finns inte", 1, "article"), ("", 1, "article"), ("P-2", -1, "quantity"), ("P-2", 0, "quantity"),
    ("P-2", 1000, "quantity"),
])
async def test_an_unknown_article_or_a_bad_quantity_is_refused(world, reference, quantity, field):
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, 'P-2', 'Däck', 'X')", world.organisation)
    with pytest.raises(WorkOrderError) as refused:
        await visits.add_part(actor(world), world.repair, reference, quantity)
    assert refused.value.field == field
    assert await rows("part_used", world.repair) == 0


async def test_a_device_is_not_a_spare_part(world):
    individual = await db.fetchval("SELECT article_number FROM article WHERE id = $1", world.article)
    with pytest.raises(WorkOrderError, match="finns inte i reservdelslistan"):
        await visits.add_part(actor(world), world.repair, individual, 1)


async def test_patient_not_home_returns_the_order_to_the_coordinator_who_cancels_it(world):
    tech, coordinator = actor(world), actor(world, "coordinator")
    with pytest.raises(WorkOrderError, match="meddelande"):
        await visits.could_not_complete(tech, world.repair, await version_of(world.repair), "not_home", "", "")
    await visits.could_not_complete(tech, world.repair, await version_of(world.repair), "not_home", "Ringde två gånger",
                                    "Brukaren var inte hemma, ring oss för ny tid.")
    order = await db.fetchrow("SELECT * FROM work_order WHERE id = $1", world.repair)
    assert order["status"] == "not_completed" and order["not_completed_reason"] == "not_home"
    assert order["message_to_orderer"] == "Brukaren var inte hemma, ring oss för ny tid."
    with pytest.raises(NotOpen):
        await visits.add_time(tech, world.repair, 10)
    with pytest.raises(WorkOrderError, match="Ange varför"):
        await planning.cancel_order(coordinator, world.repair, order["version"], "", "")
    await planning.cancel_order(coordinator, world.repair, order["version"], "Brukaren ej anträffbar", "")
    order = await db.fetchrow("SELECT * FROM work_order WHERE id = $1", world.repair)
    assert order["status"] == "cancelled" and order["cancel_reason"] == "Brukaren ej anträffbar"
    assert order["message_to_orderer"] == "Brukaren var inte hemma, ring oss för ny tid."


async def test_a_not_completed_order_can_be_planned_again(world):
    tech, coordinator = actor(world), actor(world, "coordinator")
    await visits.could_not_complete(tech, world.repair, await version_of(world.repair), "declined", "", "Tackade nej")
    tomorrow = date.today() + timedelta(days=1)
    await planning.plan_order(coordinator, world.repair, await version_of(world.repair),
                              technician_id=world.staff["other_technician"], day=tomorrow, window_start=time(9),
                              window_end=time(11), today=date.today())
    order = await db.fetchrow("SELECT * FROM work_order WHERE id = $1", world.repair)
    assert (order["status"], order["assignee"], order["planned_date"]) == ("planned", world.staff["other_technician"],
                                                                          tomorrow)
    assert order["not_completed_reason"] is None
    with pytest.raises(NotAssigned):  # no longer the first technician's visit
        await visits.add_note(tech, world.repair, "Var där igår")


async def test_a_change_based_on_an_old_version_is_refused_and_changes_nothing(world):
    tech, coordinator = actor(world), actor(world, "coordinator")
    seen = await version_of(world.repair)
    await planning.plan_order(coordinator, world.repair, seen, technician_id=world.staff["technician"],
                              day=date.today(), window_start=time(13), window_end=time(15), today=date.today())
    with pytest.raises(VersionConflict, match="har ändrats av Test coordinator"):
        await visits.start_visit(tech, world.repair, seen)
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", world.repair) == "planned"
    with pytest.raises(VersionConflict):  # the coordinator's second tab, too
        await planning.cancel_order(coordinator, world.repair, seen, "Dubblett", "")


async def test_two_simultaneous_changes_from_the_same_version_one_wins(world):
    tech, coordinator = actor(world), actor(world, "coordinator")
    seen = await version_of(world.repair)
    results = await asyncio.gather(
        visits.start_visit(tech, world.repair, seen),
        planning.cancel_order(coordinator, world.repair, seen, "Dubblett", ""),
        return_exceptions=True,
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, VersionConflict) for r in results) == 1
    assert await version_of(world.repair) == seen + 1


async def test_a_technician_cannot_act_on_someone_elses_visit(world):
    other = actor(world, "other_technician")
    with pytest.raises(NotAssigned):
        await visits.complete_visit(other, world.repair, await version_of(world.repair), "fixed")
    with pytest.raises(NotAssigned):
        await visits.add_time(other, world.repair, 30)
    with pytest.raises(WorkOrderError):
        await visits.visit(other, world.repair)
    assert await rows("time_entry", world.repair) == 0


async def test_reordering_swaps_a_visit_with_its_neighbour(world):
    coordinator = actor(world, "coordinator")
    await planning.move_in_day(coordinator, world.repair, await version_of(world.repair), -1)
    day = await db.fetch("SELECT id FROM work_order WHERE assignee = $1 AND planned_date = $2 "
                         "ORDER BY route_position", world.staff["technician"], date.today())
    assert [r["id"] for r in day] == [world.repair, world.fu]


async def test_planning_refuses_a_past_day_and_a_reversed_window(world):
    coordinator = actor(world, "coordinator")
    v = await version_of(world.repair)
    with pytest.raises(WorkOrderError, match="redan varit"):
        await planning.plan_order(coordinator, world.repair, v, technician_id=world.staff["technician"],
                                  day=date.today() - timedelta(days=1), window_start=time(8), window_end=time(9),
                                  today=date.today())
    with pytest.raises(WorkOrderError, match="sluta efter"):
        await planning.plan_order(coordinator, world.repair, v, technician_id=world.staff["technician"],
                                  day=date.today(), window_start=time(10), window_end=time(9), today=date.today())
    with pytest.raises(WorkOrderError, match="Välj en tekniker"):
        await planning.plan_order(coordinator, world.repair, v, technician_id=world.staff["prescriber"],
                                  day=date.today(), window_start=time(8), window_end=time(9), today=date.today())


async def test_order_numbers_are_unique_when_many_are_created_at_once(world):
    created = await asyncio.gather(*(
        create_work_order(organisation_id=world.organisation, type="repair_on_site", device_id=world.device,
                          description="Test", channel="phone") for _ in range(20)))
    numbers = [c["number"] for c in created]
    assert len(set(numbers)) == 20
    year = date.today().year
    assert sorted(numbers) == [f"AO-{year}-{n:06d}" for n in range(1, 21)]
