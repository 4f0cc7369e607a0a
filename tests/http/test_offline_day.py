"""What the phone needs to work a day without signal: the list of pages to keep, a checklist
that takes its safety decisions in the same submission, a completion that waits for every
earlier change from the phone, and a sign-out that leaves no patient data in the browser."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from backend import db
from backend.maintenance import service as maintenance
from backend.workdays import today
from tests.support.factories import add_device, add_patient, add_photo, add_work_order, delete_world, make_world
from tests.support.http import csrf, post_form, signed_in_client

CHECKLIST = [
    {"key": "brakes", "text": "Motorbromsar håller", "safety_critical": True, "measurement": None},
    {"key": "horn", "text": "Signalhorn fungerar", "safety_critical": False, "measurement": None},
]


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, CHECKLIST)
    world.patient = await add_patient(world)
    world.device = await add_device(world, holder=world.patient, individnummer="D000001")
    world.other_device = await add_device(world, holder=world.patient, individnummer="D000002")
    yield world
    await delete_world(world)


async def keyed_post(client, url: str, data: dict, key: str | None = None):
    headers = {"idempotency-key": key or str(uuid.uuid4()), "x-csrftoken": await csrf(client),
               "accept": "application/json"}
    return await client.post(url, data=data, headers=headers)


async def version_of(order: int) -> str:
    return str(await db.fetchval("SELECT version FROM work_order WHERE id = $1", order))


async def test_the_day_ahead_lists_every_page_of_todays_visits_and_nothing_else(world, technician):
    mine = world.staff["technician"]
    first = await add_work_order(world, world.device, assignee=mine, planned=today(), patient=world.patient,
                                 position=2)
    second = await add_work_order(world, world.other_device, assignee=mine, planned=today(),
                                  patient=world.patient, position=1)
    cancelled = await add_work_order(world, world.device, assignee=mine, planned=today(), patient=world.patient)
    await db.execute("UPDATE work_order SET status = 'cancelled', cancel_reason = 'Dubblett', cancelled_at = now() "
                     "WHERE id = $1", cancelled)
    tomorrow = await add_work_order(world, world.device, assignee=mine, planned=today() + timedelta(days=1),
                                    patient=world.patient)
    someone_elses = await add_work_order(world, world.device, assignee=world.staff["coordinator"], planned=today(),
                                         patient=world.patient)
    photo = await add_photo(world, first)

    response = await technician.get("/min-dag/forhandsladdning")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    listed = response.json()
    assert listed["day"] == today().isoformat()
    urls = listed["urls"]
    assert urls[:2] == ["/min-dag", "/besok/reservdelar"]
    assert [u for u in urls if u.startswith("/besok/") and u[7:].isdigit()] == [f"/besok/{second}",
                                                                                 f"/besok/{first}"]
    assert sorted(u for u in urls if u.startswith("/enheter/")) == ["/enheter/D000001", "/enheter/D000002"]
    assert f"/foton/{photo}" in urls
    for absent in (cancelled, tomorrow, someone_elses):
        assert f"/besok/{absent}" not in urls
    for url in urls:  # every page listed opens for the technician
        assert (await technician.get(url)).status_code == 200, url


async def test_a_failed_safety_item_and_its_decision_are_saved_in_one_submission(world, technician):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=today(),
                                 type="maintenance", patient=world.patient, status="in_progress")
    page = await technician.get(f"/besok/{order}")
    assert 'name="decision-brakes"' in page.text and 'name="decision-horn"' not in page.text

    response = await post_form(technician, f"/besok/{order}/checklista", {
        "item-brakes": "fail", "item-brakes-comment": "Bromsen släpper i backe",
        "decision-brakes": "taken_out_of_use", "decision-brakes-comment": "Brukaren har reservstol",
        "item-horn": "pass", "decision-horn": "taken_out_of_use"})

    assert response.status_code == 303
    decisions = await db.fetch("SELECT item_key, decision, comment FROM safety_decision WHERE work_order = $1", order)
    assert [tuple(d) for d in decisions] == [("brakes", "taken_out_of_use", "Brukaren har reservstol")]
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "out_of_use"
    after = await technician.get(f"/besok/{order}")
    assert 'name="decision-brakes"' not in after.text  # decided: shown as done, not asked again
    complete = await post_form(technician, f"/besok/{order}/slutfor", {"version": await version_of(order)})
    assert complete.status_code == 303
    await db.execute("UPDATE device SET status = 'in_use' WHERE id = $1", world.device)


async def test_a_bad_decision_in_the_checklist_saves_neither_answers_nor_decision(world, technician):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=today(),
                                 type="maintenance", patient=world.patient, status="in_progress")

    response = await post_form(technician, f"/besok/{order}/checklista", {
        "item-brakes": "fail", "item-brakes-comment": "Släpper", "decision-brakes": "throw_it_away",
        "item-horn": "pass"})

    assert response.status_code == 400
    assert "Välj vad som görs med hjälpmedlet." in response.text
    assert 'value="Släpper"' in response.text
    assert await db.fetchval("SELECT count(*) FROM checklist_answer WHERE work_order = $1", order) == 0
    assert await db.fetchval("SELECT count(*) FROM safety_decision WHERE work_order = $1", order) == 0


async def test_a_completion_waits_for_every_change_the_phone_made_before_it(world, technician):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=today(),
                                 patient=world.patient, status="in_progress")
    assert (await keyed_post(technician, f"/besok/{order}/rapport",
                             {"fault_found": "Glapp i styrspak", "action_taken": "Bytt styrspak"})).status_code == 200
    # The phone made three changes before completing; only the report (one) has arrived.
    key = str(uuid.uuid4())
    form = {"version": await version_of(order), "outcome": "fixed", "expected_writes": "3"}
    early = await keyed_post(technician, f"/besok/{order}/slutfor", form, key)

    assert early.status_code == 409
    assert "2 ändringar som telefonen gjorde på besöket har inte kommit fram" in early.text
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", order) == "in_progress"
    kept = await db.fetchrow("SELECT fields FROM sync_conflict WHERE key = $1::uuid", key)
    assert json.loads(kept["fields"])["expected_writes"] == "3"

    for minutes in ("30", "15"):
        assert (await keyed_post(technician, f"/besok/{order}/tid", {"minutes": minutes})).status_code == 200
    done = await keyed_post(technician, f"/besok/{order}/slutfor", {**form, "version": await version_of(order)})
    assert done.status_code == 200 and "klart=klar" in done.json()["location"]
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", order) == "completed"


async def test_staff_pages_say_when_they_were_made(world, technician):
    page = await technician.get("/min-dag")
    made = re.search(r'<meta name="fetched-at" content="([^"]+)">', page.text)
    assert made and abs((datetime.now(timezone.utc) - datetime.fromisoformat(made.group(1))).total_seconds()) < 60
    assert 'id="fetched-at"' in page.text
    assert 'id="day-ahead"' in page.text and re.search(r"/static/js/day\.[0-9a-f]{10}\.js", page.text)
    other_day = await technician.get(f"/min-dag?dag={today() + timedelta(days=1)}")
    assert 'id="day-ahead"' not in other_day.text  # only today's pages are kept ahead


async def test_signing_out_tells_the_browser_to_drop_its_cached_pages(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["technician"])
    response = await post_form(client, "/logga-ut", {})
    assert response.status_code in (302, 303)
    assert response.headers["clear-site-data"] == '"cache"'
    await client.aclose()
