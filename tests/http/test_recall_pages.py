"""Safety notices over HTTP (/sakerhetsmeddelanden): a notice entered through the form shows
exactly the units it names, with counts, and no patient's name or a protected patient's details;
a wrong notice is refused (400, in Swedish, next to its fields) with nothing written; the orders
are made once; the confirmation (PDF read back, CSV) has each unit's identity and no patient."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backend import db
from tests.integration.recalls.conftest import set_identity
from tests.support.factories import add_device, add_patient, delete_world, make_world
from tests.support.http import post_form, signed_in_client
from tests.support.protected import assert_no_protected_details, document_text


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Greta", family="Holm")
    world.protected = await add_patient(world, given="Sara", family="Skydd", street="Dolda vägen 3",
                                        phone="070-555 44 33", door_code="9876", protected=True)
    world.units = {}
    for number, holder, serial in [("P000001", world.patient, "RX-000100"), ("P000002", world.protected, "RX-000101"),
                                   ("P000003", None, "RX-000102"), ("P000004", None, "RX-000300")]:
        world.units[number] = await add_device(world, holder=holder, individnummer=number)
        await set_identity(world.units[number], serial, "LOT-7", date(2013, 5, 1))
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


def form(world, **overrides) -> dict:
    return {"title": "Bromsvajer kan brista", "manufacturer": "Permobil", "reference": "FSN-77",
            "articles": str(world.article), "serial_from": "RX-000100", "serial_to": "RX-000199",
            "made_from": "", "made_to": "", "lot_numbers": "", "action": "check", "instructions": "Byt vajer.",
            "deadline": (date.today() + timedelta(days=20)).isoformat(), **overrides}


async def count(table: str, organisation: int) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table} WHERE organisation = $1", organisation)


async def test_a_notice_shows_exactly_its_units_and_no_patient_details(world, coordinator):
    new = await coordinator.get("/sakerhetsmeddelanden/ny")
    assert new.status_code == 200 and "Permobil M3 Corpus" in new.text
    response = await post_form(coordinator, "/sakerhetsmeddelanden/ny", form(world))
    assert response.status_code == 303, response.text
    page = await coordinator.get(response.headers["location"])
    assert page.status_code == 200
    shown = set(re.findall(r'<a href="/enheter/(P\d+)">', page.text))
    assert shown == {"P000001", "P000002", "P000003"}
    assert "3</strong> hjälpmedel berörs" in page.text and "Testkommun" in page.text
    assert "Greta" not in page.text and "Holm" not in page.text and "Skydd" not in page.text
    await assert_no_protected_details(page.text, world.protected)
    listing = await coordinator.get("/sakerhetsmeddelanden")
    assert "Bromsvajer kan brista" in listing.text


async def test_a_wrong_notice_is_refused_in_swedish_and_nothing_is_written(world, coordinator):
    before = await count("recall", world.organisation)
    refused = await post_form(coordinator, "/sakerhetsmeddelanden/ny", form(
        world, title="", serial_from="RX-000300", serial_to="RX-000100", deadline="2001-01-01", articles="x"))
    assert refused.status_code == 400
    for field, message in [("title", "Skriv meddelandets rubrik"), ("serial_from", "lägre än det sista"),
                           ("deadline", "redan passerat"), ("articles", "ur artikelregistret")]:
        assert f'id="{field}-error"' in refused.text and message in refused.text
    assert 'value="RX-000300"' in refused.text  # what was typed is kept
    nothing = await post_form(coordinator, "/sakerhetsmeddelanden/ny", form(world, serial_from="", serial_to=""))
    assert nothing.status_code == 400 and "Ange vilka enheter som berörs" in nothing.text
    assert await count("recall", world.organisation) == before


async def test_orders_are_made_once_and_the_confirmation_has_identities_and_no_patient(world, coordinator):
    created = await post_form(coordinator, "/sakerhetsmeddelanden/ny", form(world, action="pickup", title="Hämtas"))
    notice = created.headers["location"].split("?")[0]
    made = await post_form(coordinator, notice + "/arbetsordrar")
    assert made.status_code == 303 and made.headers["location"].endswith("klart=ordrar&skapade=3")
    page = await coordinator.get(made.headers["location"])
    assert "3 arbetsordrar skapades." in page.text
    again = await post_form(coordinator, notice + "/arbetsordrar")
    assert again.headers["location"].endswith("skapade=0")
    assert "Inga nya arbetsordrar" in (await coordinator.get(again.headers["location"])).text
    recall_id = int(notice.rsplit("/", 1)[1])
    # A unit's register page names the notice that reached it; a unit outside it does not.
    assert f'<a href="/sakerhetsmeddelanden/{recall_id}">Hämtas</a>' in (
        await coordinator.get("/admin/hjalpmedel/P000001")).text
    assert f'/sakerhetsmeddelanden/{recall_id}"' not in (await coordinator.get("/admin/hjalpmedel/P000004")).text
    assert await db.fetchval("SELECT count(*) FROM recall_device WHERE recall = $1 AND work_order IS NOT NULL",
                             recall_id) == 3
    refused = await post_form(coordinator, notice + "/stang", {"closing_note": ""})
    assert refused.status_code == 400 and "3 hjälpmedel är inte klara" in refused.text
    not_found = await post_form(coordinator, notice + "/ej-hittad", {"device": str(world.units["P000003"]),
                                                                     "note": "Saknas i förrådet"})
    assert not_found.status_code == 303
    pdf = await coordinator.get(notice + "/bekraftelse.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = document_text(pdf.content)
    for expected in ("P000001", "RX-000100", "LOT-7", "2013-05-01", "Ej hittad", "FSN-77", "Hos patient"):
        assert expected in text
    csv = await coordinator.get(notice + "/bekraftelse.csv")
    assert csv.status_code == 200 and "P000003" in csv.text and "Saknas i förrådet" in csv.text
    for document in (pdf.content, csv.content):
        content = document_text(document)
        assert "Greta" not in content and "Holm" not in content and "Skydd" not in content
        assert "Testkommun" not in content
        await assert_no_protected_details(document, world.protected)


async def test_an_unknown_notice_is_a_404(coordinator):
    assert (await coordinator.get("/sakerhetsmeddelanden/2147483647")).status_code == 404
    assert (await coordinator.get("/sakerhetsmeddelanden/0/bekraftelse.pdf")).status_code == 404


async def test_a_unit_without_a_serial_number_is_shown_to_be_checked(world, coordinator):
    unknown = await add_device(world, holder=None, individnummer="P000009")
    await set_identity(unknown, "")
    created = await post_form(coordinator, "/sakerhetsmeddelanden/ny", form(world, title="Okända serienummer"))
    page = await coordinator.get(created.headers["location"])
    assert "Kan inte avgöras (1)" in page.text and 'href="/admin/hjalpmedel/P000009"' in page.text
    assert 'href="/enheter/P000009"' not in page.text


async def test_the_notice_page_runs_a_fixed_number_of_queries_however_many_units(world, coordinator):
    import asyncio

    async def queries(url: str) -> int:
        await coordinator.get(url)
        with db.counting_queries() as counted:
            response = await coordinator.get(url)
            await asyncio.sleep(0)
        assert response.status_code == 200
        return counted[0]

    created = await post_form(coordinator, "/sakerhetsmeddelanden/ny", form(world, title="Räknade frågor",
                                                                           serial_from="RX-000500",
                                                                           serial_to="RX-000599"))
    notice = created.headers["location"].split("?")[0]
    few = await queries(notice)
    for n in range(15):
        holder = await add_patient(world, given=f"Pat{n}", family="Test")
        unit = await add_device(world, holder=holder if n % 2 else None, individnummer=f"P1{n:05d}")
        await set_identity(unit, f"RX-{500 + n:06d}")
    await post_form(coordinator, notice + "/arbetsordrar")
    assert await queries(notice) == few <= 12


async def test_a_notice_naming_many_units_shows_the_job_queues_progress_until_its_orders_are_made(
        world, coordinator, monkeypatch):
    from backend.recalls import service as recalls
    from tests.support.jobs import run_jobs

    monkeypatch.setattr(recalls, "ORDERS_AT_ONCE", 1)
    created = await post_form(coordinator, "/sakerhetsmeddelanden/ny", form(world, title="Många enheter"))
    notice = created.headers["location"].split("?")[0]
    started = await post_form(coordinator, notice + "/arbetsordrar")
    assert started.status_code == 303 and "klart=bakgrund" in started.headers["location"]
    page = await coordinator.get(started.headers["location"])
    assert "Arbetsordrarna skapas i bakgrunden" in page.text and 'hx-get="' + notice + '/ordrar-status"' in page.text
    status = await coordinator.get(notice + "/ordrar-status", headers={"HX-Request": "true"})
    assert "0 av 3 hjälpmedel har fått en arbetsorder" in status.text and "hx-refresh" not in status.headers

    await run_jobs()
    status = await coordinator.get(notice + "/ordrar-status", headers={"HX-Request": "true"})
    assert "3 av 3 hjälpmedel" in status.text and status.headers.get("hx-refresh") == "true"
    page = await coordinator.get(notice)
    assert "Skapa arbetsordrar" in page.text and "ordrar-status" not in page.text


async def test_a_stopped_orders_job_is_said_on_the_notice_and_the_orders_can_be_asked_for_again(
        world, coordinator, monkeypatch):
    from backend.recalls import service as recalls

    monkeypatch.setattr(recalls, "ORDERS_AT_ONCE", 1)
    created = await post_form(coordinator, "/sakerhetsmeddelanden/ny", form(world, title="Stoppat jobb"))
    notice = created.headers["location"].split("?")[0]
    assert "klart=bakgrund" in (await post_form(coordinator, notice + "/arbetsordrar")).headers["location"]
    recall_id = int(notice.rsplit("/", 1)[1])
    await db.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = "
                     "(SELECT orders_job FROM recall WHERE id = $1)", recall_id)
    page = (await coordinator.get(notice)).text
    assert "stoppades innan det var klart" in page and "Skapa arbetsordrar" in page and "ordrar-status" not in page
    assert "klart=bakgrund" in (await post_form(coordinator, notice + "/arbetsordrar")).headers["location"]
