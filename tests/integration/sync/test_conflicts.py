"""Resolving conflicts: a kept submission is applied to the order as it is now, as the
technician's work, or dismissed with the data kept; either exactly once, all or nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import date, time

import pytest

from backend import db
from backend.maintenance import service as maintenance
from backend.photos import clean_photo
from backend.visits import conflicts
from backend.visits.conflicts import AlreadyResolved, CannotApply, ConflictError, ConflictNotFound
from backend.visits import service as visits
from backend.workorders import planning
from tests.integration.workorders.conftest import CHECKLIST, actor, world  # noqa: F401 (the fixture)
from tests.support.factories import add_conflict, add_work_order, jpeg_bytes


async def version_of(order_id: int) -> int:
    return await db.fetchval("SELECT version FROM work_order WHERE id = $1", order_id)


async def keep(world, order_id: int, slug: str, fields: dict, *, who: str = "technician", **kept) -> int:
    return await add_conflict(world, order_id, slug, fields, staff=who, **kept)


async def apply(world, conflict_id: int, who: str = "coordinator", note: str = ""):
    order = await db.fetchval("SELECT work_order FROM sync_conflict WHERE id = $1", conflict_id)
    return await conflicts.apply_conflict(actor(world, who), conflict_id, seen_version=await version_of(order),
                                          note=note)


async def resolution(conflict_id: int) -> dict:
    return dict(await db.fetchrow("SELECT resolved_at, resolved_by, resolution, resolution_note, fields, photo "
                                  "FROM sync_conflict WHERE id = $1", conflict_id))


async def reassign(world, order_id: int, to: str = "other_technician") -> None:
    await planning.plan_order(actor(world, "coordinator"), order_id, await version_of(order_id),
                              technician_id=world.staff[to], day=date.today(), window_start=time(13),
                              window_end=time(15), today=date.today())


@pytest.fixture
async def spare_part(world):
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, '910001', 'Däck 3.00-8', 'Permobil')", world.organisation)
    return "910001 · Däck 3.00-8"


# Each kind of record: the kept fields, the table it lands in, and the column saying who did it.
RECORDS = {
    "tid": ({"minutes": "45"}, "time_entry", "added_by"),
    "anteckning": ({"note": "Laddaren byttes"}, "work_note", "added_by"),
    "rapport": ({"fault_found": "Glapp i joysticken", "action_taken": "Bytt joystick"}, "work_note", "added_by"),
    "delar": ({"article": "910001 · Däck 3.00-8", "quantity": "2"}, "part_used", "added_by"),
    "foton": ({"caption": "Efter bytet"}, "work_photo", "added_by"),
}


@pytest.mark.parametrize("slug", RECORDS)
async def test_a_coordinator_applies_a_record_as_the_technicians_work_and_is_named_as_applying_it(
        world, spare_part, slug):
    fields, table, who_column = RECORDS[slug]
    conflict = await keep(world, world.repair, slug, fields, photo=jpeg_bytes() if slug == "foton" else None)
    assert await apply(world, conflict, note="Stämmer med körjournalen") is None  # the order itself is unchanged
    rows = await db.fetch(f"SELECT {who_column} AS who FROM {table} WHERE work_order = $1", world.repair)
    assert rows and {r["who"] for r in rows} == {world.staff["technician"]}
    event = await db.fetchrow("SELECT staff_user, detail FROM work_order_event WHERE work_order = $1 "
                              "AND kind = 'conflict_applied'", world.repair)
    assert event["staff_user"] == world.staff["coordinator"] and "Test technician" in event["detail"]
    done = await resolution(conflict)
    assert (done["resolution"], done["resolved_by"], done["resolution_note"]) == (
        "applied", world.staff["coordinator"], "Stämmer med körjournalen")
    assert done["resolved_at"] is not None


async def test_a_kept_photo_is_stored_cleaned_as_any_photo_is(world):
    conflict = await keep(world, world.repair, "foton", {"caption": "Före"}, photo=jpeg_bytes(4000, 100))
    await apply(world, conflict)
    stored = await db.fetchrow("SELECT width, caption FROM work_photo WHERE work_order = $1", world.repair)
    assert stored["width"] == 2048 and stored["caption"] == "Före"


async def test_kept_checklist_answers_and_a_safety_decision_are_applied_as_the_technicians(world):
    answers = await keep(world, world.fu, "checklista", {
        "item-frame": "pass", "item-brakes": "fail", "item-brakes-comment": "Bromsen släpper",
        "item-battery": "pass", "item-battery-value": "24,6"})
    await apply(world, answers)
    saved = await db.fetch("SELECT item_key, answered_by FROM checklist_answer WHERE work_order = $1", world.fu)
    assert {r["item_key"] for r in saved} == {"frame", "brakes", "battery"}
    assert {r["answered_by"] for r in saved} == {world.staff["technician"]}

    decision = await keep(world, world.fu, "sakerhetsbeslut", {
        "item": "brakes", "decision-brakes": "taken_out_of_use", "decision-brakes-comment": "Står i förrådet"})
    await apply(world, decision)
    assert await db.fetchval("SELECT decided_by FROM safety_decision WHERE work_order = $1",
                             world.fu) == world.staff["technician"]
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "out_of_use"


async def test_a_status_change_is_applied_against_the_orders_current_version(world):
    seen = await version_of(world.repair)
    # The coordinator re-timed the visit meanwhile: the technician's start met a new version.
    await planning.plan_order(actor(world, "coordinator"), world.repair, seen, technician_id=world.staff["technician"],
                              day=date.today(), window_start=time(9), window_end=time(11), today=date.today())
    conflict = await keep(world, world.repair, "starta", {"version": str(seen)})
    new_version = await apply(world, conflict)
    order = await db.fetchrow("SELECT status, version FROM work_order WHERE id = $1", world.repair)
    assert order["status"] == "in_progress" and order["version"] == new_version == seen + 2
    started = await db.fetchval("SELECT staff_user FROM work_order_event WHERE work_order = $1 AND kind = 'started'",
                                world.repair)
    assert started == world.staff["technician"]


async def test_the_technician_applies_their_own_while_the_order_is_still_theirs(world):
    conflict = await keep(world, world.repair, "tid", {"minutes": "20"})
    await apply(world, conflict, who="technician")
    assert await db.fetchval("SELECT minutes FROM time_entry WHERE work_order = $1", world.repair) == 20
    assert (await resolution(conflict))["resolved_by"] == world.staff["technician"]


async def test_after_reassignment_a_coordinator_records_the_work_but_the_technician_cannot(world):
    conflict = await keep(world, world.repair, "tid", {"minutes": "30"},
                          message="Besöket är inte tilldelat dig (längre). Kontakta samordnaren.")
    await reassign(world, world.repair)
    with pytest.raises(CannotApply, match="inte längre tilldelad dig"):
        await apply(world, conflict, who="technician")
    assert (await resolution(conflict))["resolved_at"] is None
    await apply(world, conflict)
    assert await db.fetchval("SELECT added_by FROM time_entry WHERE work_order = $1",
                             world.repair) == world.staff["technician"]


async def test_a_record_is_applied_by_a_coordinator_also_to_a_completed_order(world):
    conflict = await keep(world, world.repair, "anteckning", {"note": "Kunden vill ha ny tid för justering"})
    await db.execute("UPDATE work_order SET status = 'completed', outcome = 'fixed', completed_at = now(), "
                     "version = version + 1 WHERE id = $1", world.repair)
    await apply(world, conflict)
    assert await db.fetchval("SELECT text FROM work_note WHERE work_order = $1", world.repair) == \
        "Kunden vill ha ny tid för justering"


async def test_a_status_change_on_a_reassigned_order_stays_open_with_the_reason(world):
    seen = await version_of(world.repair)
    await reassign(world, world.repair)
    conflict = await keep(world, world.repair, "slutfor", {"version": str(seen), "outcome": "fixed"})
    with pytest.raises(CannotApply, match="tilldelad Tina Annan") as refused:
        await apply(world, conflict)
    assert "Slutfört besök går inte att tillämpa" in refused.value.message
    assert (await resolution(conflict))["resolved_at"] is None
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", world.repair) == "planned"


async def test_a_status_change_on_a_cancelled_order_stays_open(world):
    seen = await version_of(world.repair)
    await planning.cancel_order(actor(world, "coordinator"), world.repair, seen, "Dubblett", "")
    conflict = await keep(world, world.repair, "starta", {"version": str(seen)})
    with pytest.raises(CannotApply, match="status ”Makulerad”"):
        await apply(world, conflict)
    assert (await resolution(conflict))["resolved_at"] is None


async def test_a_status_change_the_orders_rules_no_longer_allow_stays_open(world):
    tech = actor(world)
    seen = await version_of(world.repair)
    await visits.start_visit(tech, world.repair, seen)
    conflict = await keep(world, world.repair, "starta", {"version": str(seen)})  # sent twice from two phones
    with pytest.raises(CannotApply, match="Påbörjat/fortsatt besök går inte att tillämpa"):
        await apply(world, conflict)
    assert (await resolution(conflict))["resolved_at"] is None


async def test_fields_that_todays_rules_refuse_leave_the_conflict_open_with_the_message(world, spare_part):
    conflict = await keep(world, world.repair, "delar", {"article": spare_part, "quantity": "1"})
    await db.execute("UPDATE article SET category = $2 WHERE organisation = $1 AND article_number = '910001'",
                     world.organisation, world.category)  # no longer a spare part
    with pytest.raises(CannotApply, match="finns inte i reservdelslistan"):
        await apply(world, conflict)
    assert (await resolution(conflict))["resolved_at"] is None

    await maintenance.publish_checklist(world.category, [{**i, "key": f"new-{i['key']}"} for i in CHECKLIST])
    # An order answers the version published when it was made: this FU is made after the new one.
    world.fu = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                    type="maintenance", patient=world.patient, description="Årlig FU")
    answers = await keep(world, world.fu, "checklista", {"item-frame": "pass"})
    with pytest.raises(CannotApply, match="Checklistan har ändrats"):
        await apply(world, answers)
    assert await db.fetchval("SELECT count(*) FROM checklist_answer WHERE work_order = $1", world.fu) == 0


async def test_applying_is_all_or_nothing(world, monkeypatch):
    conflict = await keep(world, world.repair, "rapport", {"fault_found": "Glapp", "action_taken": "Justerat"})

    async def fails(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(conflicts, "record_event", fails)  # after the action wrote its rows
    with pytest.raises(RuntimeError):
        await apply(world, conflict)
    assert await db.fetchval("SELECT count(*) FROM work_note WHERE work_order = $1", world.repair) == 0
    assert (await resolution(conflict))["resolved_at"] is None


async def test_the_order_changed_again_since_the_page_was_opened_refuses_the_apply(world):
    conflict = await keep(world, world.repair, "tid", {"minutes": "15"})
    seen = await version_of(world.repair)
    await reassign(world, world.repair, to="technician")  # re-timed: a new version
    with pytest.raises(CannotApply, match="ändrats igen"):
        await conflicts.apply_conflict(actor(world, "coordinator"), conflict, seen_version=seen)
    assert await db.fetchval("SELECT count(*) FROM time_entry WHERE work_order = $1", world.repair) == 0


async def test_a_coordinator_dismisses_with_a_note_and_every_field_and_the_photo_stay(world):
    conflict = await keep(world, world.repair, "foton", {"caption": "Skadan"}, photo=jpeg_bytes())
    with pytest.raises(ConflictError, match="Skriv varför"):
        await conflicts.dismiss_conflict(actor(world, "coordinator"), conflict, "  ")
    assert (await resolution(conflict))["resolved_at"] is None
    await conflicts.dismiss_conflict(actor(world, "coordinator"), conflict, "Fotot finns redan på ordern")
    done = await resolution(conflict)
    assert (done["resolution"], done["resolution_note"]) == ("dismissed", "Fotot finns redan på ordern")
    assert json.loads(done["fields"]) == {"caption": "Skadan"}
    assert bytes(done["photo"]) == (await clean_photo(jpeg_bytes())).content
    assert await db.fetchval("SELECT count(*) FROM work_photo WHERE work_order = $1", world.repair) == 0


async def test_the_technician_lets_go_of_their_own_change_without_a_note(world):
    conflict = await keep(world, world.repair, "tid", {"minutes": "10"})
    await conflicts.dismiss_conflict(actor(world), conflict)
    done = await resolution(conflict)
    assert (done["resolution"], done["resolved_by"], done["resolution_note"]) == (
        "dismissed", world.staff["technician"], "")


async def test_a_conflict_is_resolved_once_and_a_second_try_says_by_whom(world):
    conflict = await keep(world, world.repair, "tid", {"minutes": "25"})
    await apply(world, conflict)
    with pytest.raises(AlreadyResolved, match="redan löst: tillämpad av Test coordinator") as again:
        await apply(world, conflict, who="admin")
    assert again.value.status == 409
    with pytest.raises(AlreadyResolved):
        await conflicts.dismiss_conflict(actor(world), conflict)
    assert await db.fetchval("SELECT count(*) FROM time_entry WHERE work_order = $1", world.repair) == 1
    assert (await resolution(conflict))["resolution"] == "applied"


async def test_two_simultaneous_applies_write_the_record_once(world):
    conflict = await keep(world, world.repair, "tid", {"minutes": "35"})
    results = await asyncio.gather(apply(world, conflict), apply(world, conflict, who="admin"),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyResolved", "NoneType"]
    assert await db.fetchval("SELECT count(*) FROM time_entry WHERE work_order = $1", world.repair) == 1


async def test_a_technician_sees_and_resolves_only_their_own_conflicts(world):
    mine = await keep(world, world.repair, "tid", {"minutes": "5"})
    theirs = await keep(world, world.fu, "anteckning", {"note": "Annan tekniker"}, who="other_technician")
    assert [c["id"] for c in await conflicts.technicians_open_conflicts(actor(world))] == [mine]
    assert [c["id"] for c in await conflicts.open_conflicts(world.organisation)] == [theirs, mine]  # newest first
    with pytest.raises(ConflictNotFound):
        await conflicts.conflict_page(actor(world), theirs)
    with pytest.raises(ConflictNotFound):
        await conflicts.dismiss_conflict(actor(world), theirs)
    with pytest.raises(ConflictNotFound):
        await conflicts.conflict_page(actor(world, "prescriber"), mine)


async def test_the_lists_say_what_it_was_and_why(world):
    await keep(world, world.repair, "delar", {"article": "910001", "quantity": "1"})
    listed = (await conflicts.open_conflicts(world.organisation))[0]
    assert listed["label"] == "Reservdel" and listed["technician_name"] == "Test technician"
    assert listed["reason"] == "Arbetsordern har ändrats av Test coordinator."
    assert await conflicts.count_open(world.organisation) == 1


def test_the_reason_reads_right_to_the_coordinator_as_well():
    assert conflicts._reason("Arbetsordern har ändrats av Eva 2026-03-01 10:00 sedan du öppnade sidan. Det du skrev "
                             "finns kvar nedan: kontrollera läget och skicka igen.") == \
        "Arbetsordern har ändrats av Eva 2026-03-01 10:00."
    assert conflicts._reason("Besöket är inte tilldelat dig (längre). Kontakta samordnaren.") == \
        "Besöket är inte längre tilldelat teknikern."


async def test_the_conflict_page_shows_the_patient_to_the_coordinator_and_logs_the_read(world):
    conflict = await keep(world, world.repair, "rapport", {"fault_found": "Glapp"})
    page = await conflicts.conflict_page(actor(world, "coordinator"), conflict)
    assert page["order"]["given_name"] == "Astrid"
    assert page["conflict"]["kept"] == [("Fel som hittades", "Glapp")]
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND patient = $2 "
                             "AND what = 'sync_conflict'", world.staff["coordinator"], world.patient) == 1


async def test_after_reassignment_the_technicians_page_shows_no_patient_and_logs_no_read(world):
    conflict = await keep(world, world.repair, "tid", {"minutes": "5"})
    await reassign(world, world.repair)
    page = await conflicts.conflict_page(actor(world), conflict)
    assert page["order"]["given_name"] is None and page["order"]["street"] is None
    assert "inte längre tilldelad dig" in page["blocked"]
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND what = 'sync_conflict'",
                             world.staff["technician"]) == 0


async def test_the_kept_photo_is_served_cleaned_to_the_technician_who_took_it_and_coordinators(world):
    conflict = await keep(world, world.repair, "foton", {"caption": ""}, photo=jpeg_bytes(3000, 200))
    assert (await conflicts.kept_photo(actor(world), conflict)).width == 2048
    assert (await conflicts.kept_photo(actor(world, "admin"), conflict)).content_type == "image/jpeg"
    for who in ("other_technician", "prescriber", "consultant"):
        with pytest.raises(ConflictNotFound):
            await conflicts.kept_photo(actor(world, who), conflict)


async def test_kept_fields_are_shown_by_the_names_the_technician_knows(world):
    conflict = await keep(world, world.fu, "checklista", {"item-battery": "fail", "item-battery-value": "21,5",
                                                          "item-battery-comment": "Lågt"})
    page = await conflicts.conflict_page(actor(world, "coordinator"), conflict)
    assert page["conflict"]["kept"] == [("Batterispänning i vila", "Underkänd"),
                                        ("Batterispänning i vila: mätvärde", "21,5 V"),
                                        ("Batterispänning i vila: kommentar", "Lågt")]
    assert page["conflict"]["label"] == "Checklista"
