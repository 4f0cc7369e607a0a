"""The device register over HTTP (/admin/hjalpmedel): the list and a device's page make a fixed
number of queries; creating, editing, lending, returning and relabelling through the forms; a
refusal answers 400 next to its field with what was typed kept and nothing written; an old label
leads to the device, on the register and on the device card."""

from __future__ import annotations

import asyncio
import re
from datetime import date

import pytest

from backend import db
from tests.support.factories import add_device, add_patient, delete_world, make_world
from tests.support.http import csrf, post_form, signed_in_client


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Greta", family="Holm")
    world.lent = await add_device(world, holder=world.patient, individnummer="H000001")
    world.depot = await add_device(world, holder=None, individnummer="H000002")
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def admin(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["admin"])
    yield client
    await client.aclose()


async def queries_for(client, url: str) -> int:
    await client.get(url)  # the session's first use after sign-in does its own book-keeping once
    with db.counting_queries() as counted:
        response = await client.get(url)
        await asyncio.sleep(0)
    assert response.status_code == 200, response.text
    return counted[0]


async def count(table: str, organisation: int) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table} WHERE organisation = $1", organisation)


async def test_the_list_and_a_device_page_run_a_fixed_number_of_queries(world, coordinator):
    few_list = await queries_for(coordinator, "/admin/hjalpmedel")
    few_page = await queries_for(coordinator, "/admin/hjalpmedel/H000001")
    for n in range(12):
        holder = await add_patient(world, given=f"Pat{n}", family="Test")
        await add_device(world, holder=holder, individnummer=f"H1{n:05d}")
    for n in range(4):  # a long loan history and change history on the page's device
        await db.execute("INSERT INTO device_loan (organisation, device, patient, from_date, to_date) "
                         "VALUES ($1, $2, $3, $4, $4)", world.organisation, world.lent, world.patient,
                         date(2020, n + 1, 1))
    assert await queries_for(coordinator, "/admin/hjalpmedel") == few_list <= 8
    # 10 for the device, its choices, loans, labels and history; its deviations and the safety
    # notices that reached it (their owners' own queries) add a fixed 2.
    assert await queries_for(coordinator, "/admin/hjalpmedel/H000001") == few_page <= 12


async def test_the_list_shows_holders_to_a_coordinator_and_searches_and_filters(world, coordinator):
    page = await coordinator.get("/admin/hjalpmedel", params={"var": "utlanad"})
    assert page.status_code == 200
    assert "Greta Holm" in page.text and "H000001" in page.text and "H000002" not in page.text
    page = await coordinator.get("/admin/hjalpmedel", params={"sok": "h000002"})
    assert "H000002" in page.text and "H000001" not in page.text
    # Values that name nothing are ignored, not a 500 or a refusal.
    page = await coordinator.get("/admin/hjalpmedel", params={"status": "x", "kategori": "9" * 20, "agare": "-1",
                                                             "sok": "A\x01B"})
    assert page.status_code == 200


async def test_a_device_is_registered_through_the_form(world, admin):
    response = await post_form(admin, "/admin/hjalpmedel/ny", {
        "individnummer": "h 777 001", "article": str(world.article), "serial_number": "SN-1", "udi": "",
        "owner": "hmc", "status": "in_depot", "in_service_date": "2026-01-15", "expected_end_of_life": ""})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/hjalpmedel/H777001?klart=skapad"
    page = await admin.get(response.headers["location"])
    assert "Hjälpmedlet är registrerat." in page.text and "2031-01-15" in page.text
    assert "Skapad" in page.text  # the change history
    assert 'href="/admin/hjalpmedel/H777001/fu"' in page.text


async def test_a_refused_new_device_shows_each_message_by_its_field_keeps_the_input_and_writes_nothing(world, admin):
    before = await count("device", world.organisation)
    response = await post_form(admin, "/admin/hjalpmedel/ny", {
        "individnummer": "H000001", "article": str(world.article), "serial_number": "Behåll mig", "udi": "åäö!",
        "owner": "hmc", "status": "in_depot", "in_service_date": "2026-02-30"})
    assert response.status_code == 400
    assert await count("device", world.organisation) == before
    assert 'value="Behåll mig"' in response.text
    assert re.search(r'id="in_service_date-error">Skriv datumet', response.text)
    assert 'id="udi-error"' in response.text and 'aria-invalid="true"' in response.text
    # The number taken is checked once the form reads.
    response = await post_form(admin, "/admin/hjalpmedel/ny", {
        "individnummer": "H000001", "article": str(world.article), "owner": "hmc", "status": "in_depot",
        "in_service_date": "2026-02-01"})
    assert response.status_code == 400 and 'id="individnummer-error"' in response.text
    assert "H000001 finns redan" in response.text


async def test_editing_a_device_through_its_page_is_kept_in_its_history(world, admin):
    form = {"article": str(world.article), "serial_number": "NYTT-SN", "udi": "", "owner": str(world.cost_bearer),
            "in_service_date": "2023-03-01", "expected_end_of_life": "2028-03-01"}
    response = await post_form(admin, "/admin/hjalpmedel/H000002", form)
    assert response.status_code == 303 and response.headers["location"].endswith("?klart=sparad")
    page = await admin.get("/admin/hjalpmedel/H000002")
    assert "Serienummer" in page.text and "NYTT-SN" in page.text
    response = await post_form(admin, "/admin/hjalpmedel/H000002", form)
    assert response.headers["location"].endswith("?klart=oforandrad")
    response = await post_form(admin, "/admin/hjalpmedel/H000002", {**form, "expected_end_of_life": "2020-01-01"})
    assert response.status_code == 400 and 'id="expected_end_of_life-error"' in response.text


async def test_a_device_is_lent_and_returned_through_its_page(world, admin):
    patient = await add_patient(world, given="Ingrid", family="Sjöberg")
    device = await add_device(world, holder=None, individnummer="H000010")
    found = await post_form(admin, "/admin/hjalpmedel/H000010/lana-ut/sok", {"patient_query": "Ingrid Sjöberg"})
    assert found.status_code == 200 and "<html" in found.text and "Sjöberg, Ingrid" in found.text
    # htmx swaps in the lending form alone.
    fragment = await admin.post("/admin/hjalpmedel/H000010/lana-ut/sok",
                                data={"patient_query": "Sjöberg", "_csrf_token": await csrf(admin)},
                                headers={"hx-request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "Sjöberg, Ingrid" in fragment.text
    refused = await post_form(admin, "/admin/hjalpmedel/H000010/lana-ut", {
        "patient_query": "Sjöberg", "patient": str(patient), "from_date": "2999-01-01"})
    assert refused.status_code == 400 and 'id="from_date-error"' in refused.text
    assert "Sjöberg, Ingrid" in refused.text  # the search shown again, to choose anew
    lent = await post_form(admin, "/admin/hjalpmedel/H000010/lana-ut", {
        "patient_query": "Sjöberg", "patient": str(patient), "from_date": "2026-01-02"})
    assert lent.status_code == 303, lent.text
    page = await admin.get("/admin/hjalpmedel/H000010")
    assert "Utlånad till Ingrid Sjöberg sedan 2026-01-02" in page.text
    assert await db.fetchval("SELECT holder FROM device WHERE id = $1", device) == patient
    returned = await post_form(admin, "/admin/hjalpmedel/H000010/aterlamna",
                               {"to_date": "2026-01-20", "return_status": "in_depot"})
    assert returned.status_code == 303
    row = await db.fetchrow("SELECT holder, status FROM device WHERE id = $1", device)
    assert (row["holder"], row["status"]) == (None, "in_depot")


async def test_a_condemned_device_offers_no_loan_and_refuses_one(world, admin):
    await add_device(world, holder=None, individnummer="H000020")
    assert (await post_form(admin, "/admin/hjalpmedel/H000020/status", {"status": "condemned"})).status_code == 303
    page = await admin.get("/admin/hjalpmedel/H000020")
    assert "utdömt och kan inte lånas ut" in page.text and "Sök patient" not in page.text
    refused = await post_form(admin, "/admin/hjalpmedel/H000020/lana-ut",
                              {"patient": str(world.patient), "from_date": "2026-01-02"})
    assert refused.status_code == 400 and "utdömt" in refused.text


async def test_a_new_label_moves_the_device_and_the_old_number_still_leads_to_it(world, admin):
    await add_device(world, holder=world.patient, individnummer="H000030")
    response = await post_form(admin, "/admin/hjalpmedel/H000030/ny-etikett", {"new_individnummer": "h000031"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/hjalpmedel/H000031?klart=etikett"
    old = await admin.get("/admin/hjalpmedel/H000030")
    assert old.status_code == 302 and old.headers["location"] == "/admin/hjalpmedel/H000031"
    card = await admin.get("/enheter/h000030")
    assert card.status_code == 302 and card.headers["location"] == "/enheter/H000031"
    assert (await admin.get("/enheter/H000031")).status_code == 200
    page = await admin.get("/admin/hjalpmedel/H000031")
    assert "Tidigare individnummer" in page.text and "H000030" in page.text and "Ersatt" in page.text
    # Posts go to the current number only.
    assert (await post_form(admin, "/admin/hjalpmedel/H000030/status", {"status": "in_repair"})).status_code == 404
    refused = await post_form(admin, "/admin/hjalpmedel/H000002/ny-etikett", {"new_individnummer": "H000030"})
    assert refused.status_code == 400 and 'id="new_individnummer-error"' in refused.text


async def test_an_unknown_device_is_a_404(admin):
    assert (await admin.get("/admin/hjalpmedel/ZZ999999")).status_code == 404
    assert (await admin.get("/admin/hjalpmedel/%E2%80%AE")).status_code == 404


async def test_manufacturing_date_and_lot_are_kept_through_the_form_and_a_future_date_is_refused(world, admin):
    form = {"individnummer": "H777002", "article": str(world.article), "serial_number": "SN-2", "udi": "",
            "owner": "hmc", "status": "in_depot", "in_service_date": "2025-06-01", "expected_end_of_life": "",
            "manufacturing_date": "2025-03-14", "lot_number": "LOT 42"}
    response = await post_form(admin, "/admin/hjalpmedel/ny", form)
    assert response.status_code == 303, response.text
    page = await admin.get("/admin/hjalpmedel/H777002")
    assert 'value="2025-03-14"' in page.text and 'value="LOT 42"' in page.text
    before = await count("device", world.organisation)
    refused = await post_form(admin, "/admin/hjalpmedel/ny", {**form, "individnummer": "H777003",
                                                             "manufacturing_date": "2099-01-01"})
    assert refused.status_code == 400 and 'id="manufacturing_date-error"' in refused.text
    assert "Tillverkningsdatumet kan inte ligga i framtiden." in refused.text
    assert await count("device", world.organisation) == before
