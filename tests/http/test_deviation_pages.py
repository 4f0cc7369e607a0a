"""Deviations over HTTP: a technician raises one from the visit (a keyed write from the outbox is
applied once, a photo sent twice stored once, bad input a Swedish 400 with the input kept); a
coordinator raises one from a device, completes the case and downloads the report as PDF and JSON;
the list, the case and both files show nothing of a protected patient's address, phone or door
code, and the report not even their name."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date

import pytest

from backend import db
from backend.workdays import today
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, jpeg_bytes, make_world
from tests.support.http import csrf, post_form, signed_in_client
from tests.support.protected import assert_no_protected_details, document_text


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Sigrid", family="Skyddad", street="Hemligvägen 7",
                                      phone="070-999 88 77", door_code="9876", protected=True)
    world.device = await add_device(world, holder=world.patient, individnummer="AV0001")
    world.order = await add_work_order(world, world.device, assignee=world.staff["technician"], patient=world.patient,
                                       planned=today())
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def technician(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["technician"])
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


FORM = {"occurred_on": date.today().isoformat(), "description": "Bromsen släppte i en nedförsbacke.",
        "consequence": "harm", "serious": "ja", "deviation_caption": "Bromsen"}


async def keyed_post(client, url: str, data: dict, key: str, files=None):
    headers = {"idempotency-key": key, "x-csrftoken": await csrf(client), "accept": "application/json"}
    return await client.post(url, data=data, files=files, headers=headers)


async def deviations_on(order: int) -> int:
    return await db.fetchval("SELECT count(*) FROM deviation WHERE work_order = $1", order)


async def test_the_visit_page_offers_the_deviation_form_through_the_outbox(technician, world):
    page = await technician.get(f"/besok/{world.order}")
    assert page.status_code == 200
    assert f'action="/besok/{world.order}/avvikelse" data-outbox="Avvikelse"' in page.text


async def test_a_deviation_sent_twice_from_the_outbox_with_a_photo_is_raised_once(technician, world):
    key, url = str(uuid.uuid4()), f"/besok/{world.order}/avvikelse"
    before = await deviations_on(world.order)
    for _ in range(2):  # each send has its own multipart boundary
        response = await keyed_post(technician, url, FORM, key,
                                    files={"deviation_photo": ("a.jpg", jpeg_bytes(), "image/jpeg")})
        assert response.status_code == 200 and response.json()["location"].endswith("klart=avvikelse#avvikelse")
    assert await deviations_on(world.order) == before + 1
    assert await db.fetchval("SELECT count(*) FROM deviation_photo p JOIN deviation d ON d.id = p.deviation "
                             "WHERE d.work_order = $1", world.order) == 1
    page = await technician.get(response.json()["location"])
    assert "Avvikelsen är registrerad" in page.text


async def test_one_without_a_photo_arrives_url_encoded_with_the_token_in_a_header(technician, world):
    # What the outbox sends for a form without a file: url-encoded, the CSRF token in X-CSRFToken.
    before = await deviations_on(world.order)
    response = await keyed_post(technician, f"/besok/{world.order}/avvikelse",
                                {**FORM, "consequence": "none", "serious": ""}, str(uuid.uuid4()))
    assert response.status_code == 200 and response.json()["location"].endswith("#avvikelse")
    assert await deviations_on(world.order) == before + 1


async def test_bad_input_from_the_visit_is_a_swedish_400_with_the_input_kept(technician, world):
    before = await deviations_on(world.order)
    response = await post_form(technician, f"/besok/{world.order}/avvikelse",
                               {**FORM, "description": "", "consequence": "harm", "serious": ""})
    assert response.status_code == 400
    assert "Beskriv vad som hände." in response.text and "Svara om skadan var allvarlig." in response.text
    assert "Bromsen" in response.text  # the caption typed is still in the form
    not_an_image = await technician.post(f"/besok/{world.order}/avvikelse", data=FORM,
                                         files={"deviation_photo": ("a.jpg", b"%PDF-1.4 nope", "image/jpeg")},
                                         headers={"x-csrftoken": await csrf(technician)})
    assert not_an_image.status_code == 400 and "JPEG" in not_an_image.text
    assert await deviations_on(world.order) == before


async def test_a_technician_cannot_raise_one_on_someone_elses_order(technician, world):
    other = await add_work_order(world, world.device, assignee=world.staff["coordinator"], planned=today())
    response = await post_form(technician, f"/besok/{other}/avvikelse", FORM)
    assert response.status_code == 403 and "inte tilldelat dig" in response.text
    assert await deviations_on(other) == 0


async def test_the_coordinator_raises_one_from_a_device_with_the_identity_prefilled(coordinator, world):
    await db.execute("UPDATE device SET lot_number = 'LOT-9' WHERE id = $1", world.device)
    page = await coordinator.get("/avvikelser/ny", params={"hjalpmedel": "AV0001"})
    assert page.status_code == 200 and 'value="LOT-9"' in page.text
    await assert_no_protected_details(page.text, world.patient)
    response = await coordinator.post("/avvikelser/ny", data={
        **FORM, "hjalpmedel": "AV0001", "manufacturer": "Invacare", "trade_name": "Action 3", "article_number": "A3",
        "serial_number": "SN-1", "lot_number": "LOT-9", "udi": "", "manufacturing_date": "2020-02-02",
        "keep_device": "ja", "_csrf_token": await csrf(coordinator)},
        files={"deviation_photo": ("a.jpg", jpeg_bytes(), "image/jpeg")})
    assert response.status_code == 303, response.text
    case = await coordinator.get(response.headers["location"])
    assert case.status_code == 200 and "Avvikelsen är registrerad" in case.text and "taget ur bruk" in case.text
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "out_of_use"
    await assert_no_protected_details(case.text, world.patient)
    # The device's register page lists it, and links to the case.
    number, case_id = await db.fetchrow("SELECT number, id FROM deviation WHERE device = $1 ORDER BY id DESC LIMIT 1",
                                        world.device)
    register_page = (await coordinator.get("/admin/hjalpmedel/AV0001")).text
    assert f'<a href="/avvikelser/{case_id}">{number}</a>' in register_page


async def test_an_unknown_device_or_order_is_a_404_and_no_origin_a_swedish_400(coordinator):
    assert (await coordinator.get("/avvikelser/ny", params={"hjalpmedel": "ZZ9999"})).status_code == 404
    assert (await coordinator.get("/avvikelser/ny", params={"arbetsorder": "2147483647"})).status_code == 404
    response = await coordinator.get("/avvikelser/ny")
    assert response.status_code == 400 and "Öppna en arbetsorder" in response.text


async def test_the_coordinator_completes_the_case_and_downloads_the_report(coordinator, world):
    deviation = await db.fetchval("SELECT max(id) FROM deviation WHERE work_order = $1", world.order)
    page = await coordinator.get(f"/avvikelser/{deviation}")
    assert page.status_code == 200 and "Sigrid Skyddad" in page.text
    await assert_no_protected_details(page.text, world.patient)
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    fields = {**FORM, "version": version, "aware_on": date.today().isoformat(), "manufacturer": "Permobil",
              "trade_name": "M3", "article_number": "M3-1", "serial_number": "SN-77", "lot_number": "", "udi": "",
              "manufacturing_date": "", "classification": "public_health_threat", "investigation": "",
              "status": "reported", "authority_reference": "LV-1", "manufacturer_reference": ""}
    bad = await post_form(coordinator, f"/avvikelser/{deviation}", {**fields, "aware_on": "1999-01-01"})
    assert bad.status_code == 400 and "innan den inträffade" in bad.text
    saved = await post_form(coordinator, f"/avvikelser/{deviation}", fields)
    assert saved.status_code == 303
    stale = await post_form(coordinator, f"/avvikelser/{deviation}", fields)
    assert stale.status_code == 409 and "ändrats av någon annan" in stale.text
    case = await coordinator.get(f"/avvikelser/{deviation}")
    assert "Rapporteras senast" in case.text and "2 dagar" in case.text
    pdf = await coordinator.get(f"/avvikelser/{deviation}/rapport.pdf")
    exported = await coordinator.get(f"/avvikelser/{deviation}/rapport.json")
    assert pdf.headers["content-type"] == "application/pdf" and exported.status_code == 200
    text = document_text(pdf.content)
    assert "SN-77" in text and "Bromsen släppte" in text and "Sigrid" not in text
    assert json.loads(exported.content)["classification"]["deadline_days"] == 2
    assert "Sigrid" not in exported.text and "Skyddad" not in exported.text
    for content in (pdf.content, exported.content):
        await assert_no_protected_details(content, world.patient)


async def test_the_list_filters_by_status_and_month_and_refuses_a_bad_month(coordinator, world):
    page = await coordinator.get("/avvikelser", params={"status": "reported"})
    assert page.status_code == 200 and "AV-" in page.text
    await assert_no_protected_details(page.text, world.patient)
    assert "Sigrid" not in page.text
    this_month = await coordinator.get("/avvikelser", params={"manad": today().strftime("%Y-%m")})
    assert this_month.status_code == 200 and "AV-" in this_month.text
    empty = await coordinator.get("/avvikelser", params={"manad": "2001-01"})
    assert "Inga avvikelser." in empty.text and "AV-" not in empty.text
    assert (await coordinator.get("/avvikelser", params={"manad": "9999-12"})).status_code == 400
    bad = await coordinator.get("/avvikelser", params={"manad": "mars"})
    assert bad.status_code == 400 and "Skriv månaden som 2026-03." in bad.text


async def test_opening_a_case_is_audit_logged(coordinator, world):
    deviation = await db.fetchval("SELECT min(id) FROM deviation WHERE work_order = $1", world.order)
    before = await db.fetchval("SELECT count(*) FROM audit_log WHERE patient = $1 AND what = 'deviation'",
                               world.patient)
    assert (await coordinator.get(f"/avvikelser/{deviation}")).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE patient = $1 AND what = 'deviation'",
                             world.patient) == before + 1


async def test_one_sent_from_the_phone_after_the_order_was_reassigned_is_kept_as_a_conflict(technician, world):
    order = await add_work_order(world, world.device, assignee=world.staff["coordinator"], planned=today())
    key = str(uuid.uuid4())
    response = await keyed_post(technician, f"/besok/{order}/avvikelse", FORM, key)
    assert response.status_code == 409 and "inte tilldelat dig" in response.text
    assert await deviations_on(order) == 0
    kept = await db.fetchrow("SELECT path, fields FROM sync_conflict WHERE key = $1::uuid", key)
    assert kept["path"].endswith("/avvikelse") and "Bromsen släppte" in kept["fields"]


async def test_a_kept_deviation_is_shown_in_words_and_applied_by_the_coordinator_as_the_technicians(
        technician, coordinator, world):
    order = await add_work_order(world, world.device, assignee=world.staff["coordinator"], planned=today())
    key = str(uuid.uuid4())
    assert (await keyed_post(technician, f"/besok/{order}/avvikelse", FORM, key)).status_code == 409
    conflict = await db.fetchval("SELECT id FROM sync_conflict WHERE key = $1::uuid", key)
    page = await coordinator.get(f"/konflikter/{conflict}")
    assert page.status_code == 200
    for shown in ("Avvikelse", "Vad hände", "Bromsen släppte i en nedförsbacke.", "Följd för brukaren", "Skada"):
        assert shown in page.text, shown
    version = await db.fetchval("SELECT version FROM work_order WHERE id = $1", order)
    applied = await post_form(coordinator, f"/konflikter/{conflict}/tillampa", {"version": str(version)})
    assert applied.status_code == 303, applied.text
    raised = await db.fetchrow("SELECT raised_by, description, consequence FROM deviation WHERE work_order = $1", order)
    assert raised["raised_by"] == world.staff["technician"] and raised["consequence"] == "harm"
    assert await db.fetchval("SELECT resolution FROM sync_conflict WHERE id = $1", conflict) == "applied"
