"""The exports over HTTP (/admin/export): each format downloads as a file Excel reads (CSV with `;`
and a BOM, XLSX that opens), filtered by the form; patient data only when ticked, and each
patient in the file logged; refusals answer 400 next to the field; other organisations' rows and
other roles stay out."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date

import openpyxl
import pytest

from backend import db
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world
from tests.support.http import new_client, post_form, signed_in_client


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Hanna", family="Exportör")
    world.lent = await add_device(world, holder=world.patient, individnummer="Q000001")
    world.depot = await add_device(world, holder=None, individnummer="Q000002")
    world.repair = await add_work_order(world, world.lent, assignee=world.staff["technician"], planned=date.today(),
                                        patient=world.patient)
    world.fu = await add_work_order(world, world.depot, type="maintenance", status="new")
    other = await make_world("Grannregionen")
    other_device = await add_device(other, holder=await add_patient(other, given="Annan"), individnummer="Z000009")
    await add_work_order(other, other_device, patient=other.patients[0])
    world.other = other
    yield world
    await delete_world(other)
    await delete_world(world)


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(codecs.BOM_UTF8)
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline=""), delimiter=";"))


async def export_reads(world) -> int:
    return await db.fetchval("SELECT count(*) FROM audit_log WHERE organisation = $1 AND what = 'export'",
                             world.organisation)


async def test_work_orders_download_as_csv_that_excel_reads(world, coordinator):
    response = await post_form(coordinator, "/admin/export/arbetsordrar", {"format": "csv"})
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="arbetsordrar-{date.today().isoformat()}.csv"'
    rows = csv_rows(response)
    assert [r["Individnummer"] for r in rows] == ["Q000001", "Q000002"]
    assert response.content.decode("utf-8-sig").count("\r\n") == 3
    assert rows[0]["Planerad"] == date.today().isoformat() and rows[0]["Tekniker"] == "Test technician"


async def test_devices_download_as_an_xlsx_workbook(world, app):
    admin = await signed_in_client(app, world.organisation, world.staff["admin"])
    try:
        response = await post_form(admin, "/admin/export/hjalpmedel", {"format": "xlsx", "status": "in_depot"})
    finally:
        await admin.aclose()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Individnummer", "Artikelnummer")
    assert [r[0] for r in rows[1:]] == ["Q000002"]
    assert rows[1][10] == date(2023, 3, 1) or rows[1][10].date() == date(2023, 3, 1)  # I bruk sedan: a date


async def test_the_form_filters_what_is_exported(world, coordinator):
    rows = csv_rows(await post_form(coordinator, "/admin/export/arbetsordrar", {"format": "csv", "type": "maintenance"}))
    assert [r["Typ"] for r in rows] == ["FU"]
    rows = csv_rows(await post_form(coordinator, "/admin/export/arbetsordrar",
                                    {"format": "csv", "tekniker": str(world.staff["technician"])}))
    assert [r["Individnummer"] for r in rows] == ["Q000001"]
    rows = csv_rows(await post_form(coordinator, "/admin/export/fu-status", {"format": "csv", "forsenade": "ja"}))
    assert rows == []  # the world's devices are due in the future
    rows = csv_rows(await post_form(coordinator, "/admin/export/fu-status", {"format": "csv"}))
    assert [(r["Individnummer"], r["Orderstatus"]) for r in rows] == [("Q000001", ""), ("Q000002", "Ny")]


async def test_patient_data_only_when_ticked_and_every_patient_in_the_file_is_logged(world, coordinator):
    before = await export_reads(world)
    plain = csv_rows(await post_form(coordinator, "/admin/export/hjalpmedel", {"format": "csv"}))
    assert "Patient" not in plain[0] and "Hanna" not in str(plain)
    assert await export_reads(world) == before
    named = csv_rows(await post_form(coordinator, "/admin/export/hjalpmedel", {"format": "csv", "patienter": "ja"}))
    assert [r["Patient"] for r in named] == ["Hanna Exportör", ""]
    logged = await db.fetch("SELECT patient, staff_user FROM audit_log WHERE organisation = $1 AND what = 'export' "
                            "ORDER BY id DESC LIMIT 2", world.organisation)
    assert await export_reads(world) == before + 1
    assert (logged[0]["patient"], logged[0]["staff_user"]) == (world.patient, world.staff["coordinator"])


async def test_another_organisations_rows_are_never_exported(world, coordinator):
    for kind in ("arbetsordrar", "hjalpmedel", "fu-status"):
        response = await post_form(coordinator, f"/admin/export/{kind}", {"format": "csv", "patienter": "ja"})
        assert "Z000009" not in response.content.decode("utf-8-sig"), kind
    # Naming the other organisation's category or owner finds nothing: it is refused.
    response = await post_form(coordinator, "/admin/export/hjalpmedel",
                               {"format": "csv", "kategori": str(world.other.category)})
    assert response.status_code == 400 and "Välj en kategori ur listan." in response.text


async def test_a_refused_form_answers_400_next_to_the_field_and_reads_nothing(world, coordinator):
    before = await export_reads(world)
    response = await post_form(coordinator, "/admin/export/arbetsordrar",
                               {"format": "csv", "fran": "2026-13-01", "patienter": "ja"})
    assert response.status_code == 400
    assert 'id="fran-error"' in response.text and "Skriv datumet som 2026-03-01." in response.text
    response = await post_form(coordinator, "/admin/export/arbetsordrar", {"fran": "2026-03-02", "till": "2026-03-01"})
    assert response.status_code == 400
    assert 'id="format-error"' in response.text and 'value="2026-03-02"' in response.text  # what was chosen stays
    response = await post_form(coordinator, "/admin/export/arbetsordrar",
                               {"format": "csv", "fran": "2026-03-02", "till": "2026-03-01"})
    assert response.status_code == 400 and "Periodens sista dag kan inte vara före den första." in response.text
    assert await export_reads(world) == before


async def test_the_pages_offer_the_filters_and_fill_them_in_from_a_link(world, coordinator):
    index = await coordinator.get("/admin/export")
    assert index.status_code == 200 and 'href="/admin/export/fu-status"' in index.text
    page = await coordinator.get("/admin/export/arbetsordrar", params={"status": "oppna", "type": "maintenance"})
    assert page.status_code == 200
    assert '<form method="post" action="/admin/export/arbetsordrar"' in page.text
    assert '<option value="oppna" selected>' in page.text and '<option value="maintenance" selected>' in page.text
    assert "Test technician" in page.text and 'aria-current="page">Arbetsordrar' in page.text
    page = await coordinator.get("/admin/export/hjalpmedel")
    assert "Testkommun" in page.text and "Elrullstol" in page.text and "Ta med patientuppgifter" in page.text


async def test_other_roles_are_refused_and_anonymous_is_sent_to_sign_in(world, app):
    for role in ("technician", "prescriber"):
        client = await signed_in_client(app, world.organisation, world.staff[role])
        try:
            assert (await client.get("/admin/export/hjalpmedel")).status_code == 403
            assert (await post_form(client, "/admin/export/hjalpmedel", {"format": "csv"})).status_code == 403
        finally:
            await client.aclose()
    async with new_client(app) as anonymous:
        assert (await anonymous.get("/admin/export")).status_code == 303
        assert (await post_form(anonymous, "/admin/export/hjalpmedel", {"format": "csv"})).status_code == 401
