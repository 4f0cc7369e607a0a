"""The access-log review and the log extract over HTTP: an admin searches the log with selections
(bad input a Swedish 400, never a 500), creates a review from the selection, judges each access,
closes it and downloads its documentation; a coordinator finds a patient and downloads their log
extract. A protected patient's address, phone and door code show on none of these pages or files,
and every opening of the log is recorded."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from backend import db
from tests.support.factories import add_patient, delete_world, make_world
from tests.support.http import post_form, signed_in_client
from tests.support.protected import assert_no_protected_details, document_text

UTC = timezone.utc


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.shielded = await add_patient(world, given="Sigrid", family="Skyddad", street="Hemligvägen 7",
                                       phone="070-999 88 77", door_code="9876", protected=True)
    world.plain = await add_patient(world, given="Öjvind", family="Åberg")
    at = datetime.now(UTC) - timedelta(days=2)
    for patient in (world.shielded, world.plain):
        await db.execute("INSERT INTO audit_log (organisation, staff_user, role, patient, what, at) "
                         "VALUES ($1, $2, 'technician', $3, 'visit', $4)",
                         world.organisation, world.staff["technician"], patient, at)
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def admin(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["admin"])
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


async def uses(world, kind: str) -> int:
    return await db.fetchval("SELECT count(*) FROM audit_log_use WHERE organisation = $1 AND kind = $2",
                             world.organisation, kind)


async def test_the_admin_searches_the_log_with_a_selection_and_the_search_is_logged(admin, world):
    before = await uses(world, "search")
    page = await admin.get("/loggkontroll", params={"urval": "protected"})
    assert page.status_code == 200
    assert "Sigrid Skyddad" in page.text and "Öjvind Åberg" not in page.text and "Skyddad identitet" in page.text
    await assert_no_protected_details(page.text, world.shielded)
    assert await uses(world, "search") == before + 1
    every = await admin.get("/loggkontroll")
    assert "Sigrid Skyddad" in every.text and "Öjvind Åberg" in every.text


@pytest.mark.parametrize("params, field, message", [
    ({"fran": "2026-02-30"}, "fran", "Skriv datumet som 2026-03-01."),
    ({"fran": "2026-03-02", "till": "2026-03-01"}, "fran", "Periodens första dag ligger efter den sista."),
    ({"andel": "tio"}, "andel", "Skriv andelen som ett heltal 1–100."),
    ({"urval": "hunch"}, "urval", "Välj urval i listan."),
    ({"manga_antal": "99999999999"}, "manga_antal", "Skriv antalet som ett heltal."),
    ({"vad": "x\x00"}, "vad", None),
])
async def test_a_bad_search_is_a_swedish_400(admin, params, field, message):
    page = await admin.get("/loggkontroll", params=params)
    assert page.status_code == 400
    assert f'href="#{field}"' in page.text
    if message:
        assert message in page.text


async def test_a_review_is_created_judged_closed_and_documented(admin, world):
    created = await post_form(admin, "/loggkontroll/granskningar", {
        "urval": "off_hours", "skal": "suspicion", "arbetstid_fran": "0", "arbetstid_till": "1",
        "personal": world.staff["technician"]})  # the technician's reads (the admin's own are logged too)
    assert created.status_code == 303, created.text
    url = created.headers["location"].split("?")[0]
    page = await admin.get(url)
    assert page.status_code == 200 and "Vid misstanke" in page.text
    await assert_no_protected_details(page.text, world.shielded)
    items = [int(i) for i in re.findall(r'name="atkomst" value="(\d+)"', page.text)]
    assert len(items) == 2

    refused = await post_form(admin, f"{url}/bedom", {"atkomst": items[0], "bedomning": "remark", "kommentar": ""})
    assert refused.status_code == 400 and "Skriv vad anmärkningen gäller." in refused.text
    assert f'href="#kommentar-{items[0]}"' in refused.text and f'id="kommentar-{items[0]}-error"' in refused.text
    refused = await post_form(admin, f"{url}/avsluta", {"slutsats": "Klart"})
    assert refused.status_code == 400 and "2 åtkomster är inte bedömda än." in refused.text
    for item, verdict, comment in ((items[0], "remark", "Ingen vårdrelation; utreds."), (items[1], "ok", "")):
        judged = await post_form(admin, f"{url}/bedom", {"atkomst": item, "bedomning": verdict, "kommentar": comment})
        assert judged.status_code == 303
    closed = await post_form(admin, f"{url}/avsluta", {"slutsats": "En åtkomst utreds vidare."})
    assert closed.status_code == 303
    page = await admin.get(url)
    assert "Avslutad" in page.text and "En åtkomst utreds vidare." in page.text and 'name="atkomst"' not in page.text

    listed = await admin.get("/loggkontroll/granskningar")
    assert url in listed.text and "Avslutad" in listed.text
    before = await uses(world, "review_export")
    pdf = await admin.get(f"{url}/loggkontroll.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Ingen vårdrelation; utreds." in document_text(pdf.content)
    await assert_no_protected_details(pdf.content, world.shielded)
    sheet = await admin.get(f"{url}/loggkontroll.csv")
    assert sheet.status_code == 200 and "Med anmärkning" in sheet.content.decode("utf-8-sig")
    await assert_no_protected_details(sheet.content, world.shielded)
    assert await uses(world, "review_export") == before + 2


async def test_an_unknown_review_is_404(admin):
    assert (await admin.get("/loggkontroll/granskningar/2147483647")).status_code == 404
    assert (await post_form(admin, "/loggkontroll/granskningar/2147483647/avsluta", {"slutsats": "x"})).status_code == 404


async def test_the_coordinator_finds_the_patient_and_downloads_the_log_extract(coordinator, world):
    found = await coordinator.get("/loggutdrag", params={"q": "Sigrid Skyddad"})
    assert found.status_code == 200 and f"/loggutdrag/{world.shielded}/loggutdrag.pdf" in found.text
    await assert_no_protected_details(found.text, world.shielded)
    before = await uses(world, "extract")
    pdf = await coordinator.get(f"/loggutdrag/{world.shielded}/loggutdrag.pdf")
    assert pdf.status_code == 200
    text = document_text(pdf.content)
    assert "Sigrid Skyddad" in text and "Test technician" in text and "Besök" in text
    await assert_no_protected_details(pdf.content, world.shielded)
    assert await uses(world, "extract") == before + 1
    assert (await coordinator.get("/loggutdrag/2147483647/loggutdrag.pdf")).status_code == 404


async def test_the_search_takes_a_patients_personnummer_and_a_staff_member(admin, world):
    number = await db.fetchval("SELECT personal_number FROM patient WHERE id = $1", world.plain)
    page = await admin.get("/loggkontroll", params={"pnr": number, "personal": world.staff["technician"]})
    assert page.status_code == 200
    assert "Öjvind Åberg" in page.text and "Sigrid Skyddad" not in page.text
    unknown = await admin.get("/loggkontroll", params={"pnr": "19000101-0000"})
    assert unknown.status_code == 400 and "Ingen patient har det personnumret." in unknown.text
