"""The notices pages as the coordinator uses them: the visits to tell patients of, sending them,
the send's letters, the patient's answer, the outbox; refused input shown next to its field with
nothing written, and pages whose number of queries does not grow with the rows."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import pytest

from backend import db
from backend.notices import service
from tests.integration.notices.support import add_fu_visit, send_and_make
from tests.support.factories import add_device, add_patient, delete_world, make_world
from tests.support.http import post_form, signed_in_client

TODAY = date.today()


@pytest.fixture
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    await add_device(world, holder=patient)
    yield world
    await delete_world(world)


@pytest.fixture
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


async def count(table: str, organisation: int) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table} WHERE organisation = $1", organisation)


async def queries_for(client, url: str) -> int:
    await client.get(url)  # the session's first use after sign-in does its own book-keeping once
    with db.counting_queries() as counted:
        response = await client.get(url)
        await asyncio.sleep(0)
    assert response.status_code == 200, response.text
    return counted[0]


async def test_the_coordinator_sends_the_proposed_notices_and_prints_the_sends_letters(coordinator, world):
    order = await add_fu_visit(world, world.devices[0], world.patients[0], days_ahead=10)
    page = await coordinator.get("/fu/aviseringar")
    assert page.status_code == 200
    assert "Astrid Lindqvist" in page.text and "För sent att avisera två veckor innan" in page.text
    assert re.search(rf'name="order" value="{order}" checked', page.text)

    sent = await post_form(coordinator, "/fu/aviseringar/skicka", {
        "fran": TODAY.isoformat(), "till": (TODAY + timedelta(days=42)).isoformat(), "kommun": "", "order": str(order)})
    assert sent.status_code == 303
    batch = int(re.fullmatch(r"/fu/aviseringar/utskick/(\d+)\?klart=skickade", sent.headers["location"]).group(1))
    shown = await coordinator.get(sent.headers["location"])
    assert "Aviseringarna är skapade." in shown.text and "Skriv ut breven (PDF)" in shown.text
    assert await count("notice", world.organisation) == 1

    from backend.notices import tasks
    await tasks.send_batch(batch=batch)
    pdf = await coordinator.get(f"/fu/aviseringar/utskick/{batch}/brev.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.headers["cache-control"] == "private, no-store"
    shown = await coordinator.get(f"/fu/aviseringar/utskick/{batch}")
    assert "Markera 1 brev som utskrivna" in shown.text
    printed = await post_form(coordinator, f"/fu/aviseringar/utskick/{batch}/utskrivna", {"letters": "1"})
    assert printed.status_code == 303
    assert await db.fetchval("SELECT state FROM notice WHERE batch = $1", batch) == "printed"
    assert "Inga besök att avisera i perioden." in (await coordinator.get("/fu/aviseringar")).text


@pytest.mark.parametrize("form, message", [
    ({"fran": "2026-02-01", "till": "2026-01-01", "order": "1"}, "Perioden måste sluta på eller efter sin första dag."),
    ({"fran": "igår", "till": "2026-01-01", "order": "1"}, "Skriv datumet som 2026-03-01."),
    ({"fran": TODAY.isoformat(), "till": TODAY.isoformat(), "order": "x"}, "Välj besöken i listan."),
    ({"fran": TODAY.isoformat(), "till": (TODAY + timedelta(days=42)).isoformat()}, "Välj minst ett besök att avisera."),
])
async def test_a_send_that_cannot_be_read_is_refused_with_a_message_and_nothing_is_written(coordinator, world, form,
                                                                                          message):
    await add_fu_visit(world, world.devices[0], world.patients[0])
    response = await post_form(coordinator, "/fu/aviseringar/skicka", form)
    assert response.status_code == 400
    assert message in response.text
    assert await count("notice", world.organisation) == 0


async def test_a_visit_already_told_of_is_refused_when_sent_again_from_an_old_page(coordinator, world):
    order = await add_fu_visit(world, world.devices[0], world.patients[0])
    form = {"fran": TODAY.isoformat(), "till": (TODAY + timedelta(days=42)).isoformat(), "order": str(order)}
    assert (await post_form(coordinator, "/fu/aviseringar/skicka", form)).status_code == 303
    again = await post_form(coordinator, "/fu/aviseringar/skicka", form)
    assert again.status_code == 400 and "redan vara aviserade" in again.text
    assert await count("notice", world.organisation) == 1


async def test_the_proposals_page_makes_as_many_queries_for_many_visits_as_for_one(coordinator, world):
    await add_fu_visit(world, world.devices[0], world.patients[0])
    one = await queries_for(coordinator, "/fu/aviseringar")
    for n in range(6):
        patient = await add_patient(world, given=f"P{n}")
        await add_fu_visit(world, await add_device(world, holder=patient), patient, days_ahead=15 + n)
    assert await queries_for(coordinator, "/fu/aviseringar") == one


async def test_the_patients_answer_moves_the_visit_and_a_wrong_window_is_refused_next_to_its_field(coordinator, world):
    order = await add_fu_visit(world, world.devices[0], world.patients[0])
    notice, _, _ = await send_and_make(world, [order])
    page = await coordinator.get(f"/fu/aviseringar/{notice}")
    assert page.status_code == 200 and "Tiden passar inte" in page.text and "Astrid Lindqvist" in page.text
    new_day = (TODAY + timedelta(days=30)).isoformat()
    refused = await post_form(coordinator, f"/fu/aviseringar/{notice}/ny-tid", {
        "version": "1", "day": new_day, "window_start": "15:00", "window_end": "13:00"})
    assert refused.status_code == 400
    assert 'id="window_end-error">Tidsfönstret måste sluta efter att det börjar.' in refused.text
    assert await db.fetchval("SELECT version FROM work_order WHERE id = $1", order) == 1

    moved = await post_form(coordinator, f"/fu/aviseringar/{notice}/ny-tid", {
        "version": "1", "day": new_day, "window_start": "13:00", "window_end": "15:00"})
    assert moved.status_code == 303 and moved.headers["location"] == f"/fu/aviseringar/{notice}?klart=ny-tid"
    assert await db.fetchval("SELECT planned_date FROM work_order WHERE id = $1", order) == TODAY + timedelta(days=30)
    stale = await post_form(coordinator, f"/fu/aviseringar/{notice}/ringa-upp", {"version": "1"})
    assert stale.status_code == 409 and "har ändrats" in stale.text
    proposals = await coordinator.get("/fu/aviseringar")
    assert f"{new_day} 13:00–15:00" in proposals.text


async def test_a_cost_bearer_to_contact_is_listed_until_the_contact_is_recorded(coordinator, world):
    order = await add_fu_visit(world, world.devices[0], world.patients[0], days_ahead=0)
    await service.tell_cost_bearer(world.organisation, order, "Gick inte att nå brukaren.")
    notice = await db.fetchval("SELECT id FROM notice WHERE work_order = $1", order)
    assert "Att kontakta (1)" in (await coordinator.get("/fu/aviseringar")).text
    listed = await coordinator.get("/fu/aviseringar/att-kontakta")
    assert "Gick inte att nå brukaren." in listed.text and "Testkommun" in listed.text
    empty = await post_form(coordinator, f"/fu/aviseringar/{notice}/kontaktad", {"note": ""})
    assert empty.status_code == 400 and 'id="note-error">Skriv kort vad ni kom överens om.' in empty.text
    done = await post_form(coordinator, f"/fu/aviseringar/{notice}/kontaktad", {"note": "Kommunen ringer patienten"})
    assert done.status_code == 303
    assert "1 väntar" not in (await coordinator.get("/fu/aviseringar/att-kontakta")).text
    assert "Kommunen ringer patienten" in (await coordinator.get(f"/fu/aviseringar/{notice}")).text


async def test_the_outbox_shows_what_was_sent_and_reading_a_message_is_in_the_access_log(app, coordinator, world):
    await db.execute("UPDATE patient SET notice_channel = 'sms' WHERE id = $1", world.patients[0])
    _, _, message = await send_and_make(world, [await add_fu_visit(world, world.devices[0], world.patients[0])])
    listed = await coordinator.get("/admin/utkorg?kanal=sms")
    assert listed.status_code == 200 and "+46701112233" in listed.text and "Lagt i utkorgen" in listed.text
    assert "Inga meddelanden." in (await coordinator.get("/admin/utkorg?kanal=email")).text
    read = await coordinator.get(f"/admin/utkorg/{message}")
    assert read.status_code == 200 and "Service av din elrullstol" in read.text
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE patient = $1 AND what = 'outbox_message'",
                             world.patients[0]) == 1
    other = await make_world("Annan region")
    try:
        stranger = await signed_in_client(app, other.organisation, other.staff["admin"])
        assert (await stranger.get(f"/admin/utkorg/{message}")).status_code == 404
        await stranger.aclose()
    finally:
        await delete_world(other)


async def test_the_coordinator_sets_how_the_patient_is_told_on_the_patients_record(coordinator, world):
    patient = world.patients[0]
    refused = await post_form(coordinator, f"/patienter/{patient}/avisering", {"notice_channel": "email", "email": ""})
    assert refused.status_code == 400 and 'id="email-error">Ange en e-postadress för avisering med e-post.' in refused.text
    saved = await post_form(coordinator, f"/patienter/{patient}/avisering",
                            {"notice_channel": "email", "email": "astrid@example.se"})
    assert saved.status_code == 303
    record = await coordinator.get(saved.headers["location"])
    assert "Aviseringssättet är sparat." in record.text and "E-post · astrid@example.se" in record.text
    assert re.search(r"<dt>Avisering</dt>\s*<dd><del>Brev</del> → <ins>E-post</ins></dd>", record.text)


async def test_another_organisations_patient_has_no_notice_preference_to_change(coordinator, world):
    other = await make_world("Annan region")
    try:
        stranger = await add_patient(other)
        for form in ({"notice_channel": "sms", "email": ""}, {"notice_channel": "fax"}):
            assert (await post_form(coordinator, f"/patienter/{stranger}/avisering", form)).status_code == 404
        assert await db.fetchval("SELECT notice_channel FROM patient WHERE id = $1", stranger) == "letter"
    finally:
        await delete_world(other)
