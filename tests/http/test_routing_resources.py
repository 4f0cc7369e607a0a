"""Technicians as planning resources over HTTP: the register and its refusals, visit durations, the
plan form's lock / two technicians / specific technician, and the planning board's warnings and
times as a coordinator sees them."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

import pytest

from backend import db
from backend.workdays import today
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world
from tests.support.http import post_form, signed_in_client


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


GOOD = {
    "start_label": "Hemma i Sala", "start_latitude": "59,9211", "start_longitude": "16.6056",
    "end_label": "", "end_latitude": "", "end_longitude": "",
    "lunch_earliest": "11:00", "lunch_latest": "12:30", "lunch_minutes": "40", "max_drive_km": "180",
    "works_0": "ja", "starts_0": "07:00", "ends_0": "15:30", "works_1": "ja", "starts_1": "08:00", "ends_1": "16:00",
}


async def test_the_register_lists_technicians_with_the_defaults_until_described(coordinator, world):
    page = await coordinator.get("/planering/tekniker")
    assert page.status_code == 200
    assert "Test technician" in page.text and "Tina Annan" in page.text and "standard" in page.text
    assert "Mån 07:30–16:00" in page.text
    await db.execute("INSERT INTO staff_area (staff_user, cost_bearer) VALUES ($1, $2)", world.staff["technician"],
                     world.cost_bearer)
    form = await coordinator.get(f"/planering/tekniker/{world.staff['technician']}")
    assert form.status_code == 200 and "Inget är sparat ännu" in form.text
    assert "Kommuner teknikern brukar täcka: Testkommun." in form.text
    assert (await coordinator.get(f"/planering/tekniker/{world.staff['coordinator']}")).status_code == 404


async def test_a_technician_is_described_and_a_bad_form_is_refused_with_every_field_named(coordinator, world):
    tech = world.staff["technician"]
    bad = {**GOOD, "start_latitude": "norr", "lunch_latest": "kl 12", "max_drive_km": "0", "starts_1": "17:00"}
    refused = await post_form(coordinator, f"/planering/tekniker/{tech}", bad)
    assert refused.status_code == 400
    for message in ("Skriv latituden som ett tal", "Skriv tiden som 09:00."):
        assert message in refused.text
    assert 'value="norr"' in refused.text  # what was typed comes back
    assert await db.fetchval("SELECT count(*) FROM technician_resource WHERE staff_user = $1", tech) == 0
    rules = await post_form(coordinator, f"/planering/tekniker/{tech}", {**GOOD, "max_drive_km": "0", "starts_1": "17:00"})
    assert rules.status_code == 400
    assert "Körgränsen är 1–2000 km" in rules.text and "Tisdag: arbetsdagen måste sluta efter" in rules.text
    saved = await post_form(coordinator, f"/planering/tekniker/{tech}", GOOD)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?klart=sparad")
    row = await db.fetchrow("SELECT * FROM technician_resource WHERE staff_user = $1", tech)
    assert (row["start_latitude"], row["lunch_minutes"], row["max_drive_km"]) == (59.9211, 40, 180)
    hours = await db.fetch("SELECT weekday, starts, ends FROM technician_hours WHERE staff_user = $1 ORDER BY weekday", tech)
    assert [(h["weekday"], h["starts"], h["ends"]) for h in hours] == [(0, time(7), time(15, 30)), (1, time(8), time(16))]
    page = await coordinator.get("/planering/tekniker")
    assert "Hemma i Sala" in page.text and "180 km" in page.text


async def test_skills_need_a_restricted_category_and_absences_come_and_go(coordinator, world):
    tech = world.staff["technician"]
    done = await post_form(coordinator, "/planering/tekniker/behorigheter", {"categories": str(world.category)})
    assert done.status_code == 303
    form = await coordinator.get(f"/planering/tekniker/{tech}")
    assert f'name="skills" value="{world.category}"' in form.text
    saved = await post_form(coordinator, f"/planering/tekniker/{tech}", {**GOOD, "skills": str(world.category)})
    assert saved.status_code == 303
    assert await db.fetchval("SELECT device_category FROM technician_skill WHERE staff_user = $1", tech) == world.category
    unknown = await post_form(coordinator, "/planering/tekniker/behorigheter", {"categories": "999999"})
    assert unknown.status_code == 400 and "Välj kategorier ur listan." in unknown.text
    start = today() + timedelta(days=10)
    missing = await post_form(coordinator, f"/planering/tekniker/{tech}/franvaro", {"first_day": start.isoformat()})
    assert missing.status_code == 400 and "Skriv anledningen" in missing.text
    added = await post_form(coordinator, f"/planering/tekniker/{tech}/franvaro",
                            {"first_day": start.isoformat(), "last_day": (start + timedelta(days=4)).isoformat(),
                             "absence_reason": "Semester"})
    assert added.status_code == 303
    page = await coordinator.get(f"/planering/tekniker/{tech}")
    assert "Semester" in page.text
    absence = await db.fetchval("SELECT id FROM availability_exception WHERE consultant = $1", tech)
    removed = await post_form(coordinator, f"/planering/tekniker/{tech}/franvaro/{absence}/ta-bort")
    assert removed.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM availability_exception WHERE consultant = $1", tech) == 0


async def test_default_visit_durations_are_set_and_refused_in_words(coordinator, world):
    page = await coordinator.get("/planering/besokstider")
    assert page.status_code == 200 and "Inga egna tider" in page.text
    saved = await post_form(coordinator, "/planering/besokstider", {"type": "maintenance", "category": str(world.category),
                                                                   "minutes": "55"})
    assert saved.status_code == 303
    page = await coordinator.get("/planering/besokstider")
    assert "Elrullstol" in page.text and ">55<" in page.text
    refused = await post_form(coordinator, "/planering/besokstider", {"type": "maintenance", "minutes": "2"})
    assert refused.status_code == 400 and "Tiden är 5–600 minuter." in refused.text
    assert await db.fetchval("SELECT count(*) FROM visit_duration WHERE organisation = $1", world.organisation) == 1


async def _planned_order(world, **kw):
    patient = await add_patient(world, **kw)
    device = await add_device(world, holder=patient)
    return await add_work_order(world, device, status="new", patient=patient)


async def test_the_plan_form_locks_asks_for_two_technicians_and_a_specific_one(coordinator, world):
    tech, other = world.staff["technician"], world.staff["other_technician"]
    order = await _planned_order(world)
    day = (today() + timedelta(days=3)).isoformat()
    base = {"technician": str(tech), "day": day, "window_start": "09:00", "window_end": "11:00"}
    version = await db.fetchval("SELECT version FROM work_order WHERE id = $1", order)
    refused = await post_form(coordinator, f"/arbetsordrar/{order}/planera",
                              {**base, "version": str(version), "second_technician": str(tech)})
    assert refused.status_code == 400 and "Välj en annan andra tekniker" in refused.text
    refused = await post_form(coordinator, f"/arbetsordrar/{order}/planera",
                              {**base, "version": str(version), "required_technician": str(other)})
    assert refused.status_code == 400 and "Besöket ska göras av Tina Annan" in refused.text
    assert await db.fetchval("SELECT version FROM work_order WHERE id = $1", order) == version
    done = await post_form(coordinator, f"/arbetsordrar/{order}/planera",
                           {**base, "version": str(version), "locked": "ja", "second_technician": str(other),
                            "required_technician": str(tech)})
    assert done.status_code == 303
    row = await db.fetchrow("SELECT plan_locked, technicians_needed, second_assignee, required_technician "
                            "FROM work_order WHERE id = $1", order)
    assert tuple(row) == (True, 2, other, tech)
    page = await coordinator.get(f"/arbetsordrar/{order}")
    assert 'name="locked" value="ja" checked' in page.text and "bekräftad med brukaren" in page.text
    # Unticking everything takes the lock, the second technician and the requirement away.
    version = await db.fetchval("SELECT version FROM work_order WHERE id = $1", order)
    await post_form(coordinator, f"/arbetsordrar/{order}/planera", {**base, "version": str(version)})
    row = await db.fetchrow("SELECT plan_locked, technicians_needed, second_assignee, required_technician "
                            "FROM work_order WHERE id = $1", order)
    assert tuple(row) == (False, 1, None, None)


async def test_the_planning_board_shows_times_km_and_warnings_as_they_arise(coordinator, world):
    tech = world.staff["other_technician"]
    day = today() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    first = await _planned_order(world)
    hidden = await _planned_order(world, protected=True)
    for position, order in enumerate((first, hidden), start=1):
        await db.execute("UPDATE work_order SET status = 'planned', assignee = $2, planned_date = $3, "
                         "route_position = $4, window_start = '09:00', window_end = '09:30' WHERE id = $1",
                         order, tech, day, position)
    await db.execute("UPDATE work_order SET window_start = '09:00', window_end = '09:30' WHERE id = $1", hidden)
    url = f"/arbetsordrar/planering?tekniker={tech}&dag={day.isoformat()}"
    page = await coordinator.get(url)
    assert page.status_code == 200
    text = page.text
    assert "Varningar" in text and "skyddad identitet: adressen visas bara i besöket" in text
    assert "Fram ca" in text and "km från föregående" in text and "Dagens rutt" in text
    assert "har tider som överlappar" in text or "missar tiden" in text
    # The board reads the day in a fixed number of queries, however many visits.
    await coordinator.get(url)
    with db.counting_queries() as counted:
        await coordinator.get(url)
        await asyncio.sleep(0)
    few = counted[0]
    for _ in range(3):
        order = await _planned_order(world)
        await db.execute("UPDATE work_order SET status = 'planned', assignee = $2, planned_date = $3 WHERE id = $1",
                         order, tech, day)
    with db.counting_queries() as counted:
        await coordinator.get(url)
        await asyncio.sleep(0)
    assert counted[0] == few


async def test_planning_an_order_shows_the_technicians_day_warnings_at_once(coordinator, world):
    order = await _planned_order(world, protected=True)
    day = (today() + timedelta(days=5)).isoformat()
    version = await db.fetchval("SELECT version FROM work_order WHERE id = $1", order)
    done = await post_form(coordinator, f"/arbetsordrar/{order}/planera", {
        "version": str(version), "technician": str(world.staff["other_technician"]), "day": day,
        "window_start": "09:00", "window_end": "10:00", "two_technicians": "ja"})
    assert done.status_code == 303
    page = await coordinator.get(done.headers["location"])
    assert 'id="day-warnings"' in page.text
    assert "skyddad identitet: adressen visas bara i besöket" in page.text
    assert "behöver två tekniker men bara en är planerad" in page.text
    quiet = await coordinator.get(f"/arbetsordrar/{order}")  # only right after planning
    assert 'id="day-warnings"' not in quiet.text
