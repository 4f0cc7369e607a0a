"""Exports of work orders with their results, devices and FU status: what each row says, the
filters, patient data only when asked for and allowed (and then logged), one organisation's rows
only, and XLSX that Excel reads with real dates."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.demo.service import delete_organisation, load_demo
from backend.devices.register import HMC_OWNER, DeviceFilter
from backend.reports import exports
from backend.reports.exports import ExportRefused, FuFilter
from backend.workorders.selection import OPEN, OrderFilter
from tests.integration.reports.conftest import actor

TODAY = date.today()


def read_csv(export) -> list[dict]:
    with export.content as content:
        raw = content.read()
    assert len(raw) == export.size
    assert raw.startswith(codecs.BOM_UTF8)
    text = raw.decode("utf-8-sig")
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == export.rows
    return rows


async def work_orders(world, role="coordinator", with_patients=False, **wanted) -> list[dict]:
    return read_csv(await exports.export_work_orders(actor(world, role), OrderFilter(**wanted), "csv",
                                                     with_patients=with_patients, today=TODAY))


async def last_read() -> int:
    return await db.fetchval("SELECT coalesce(max(id), 0) FROM audit_log")


async def export_reads(world, role="coordinator", since: int = 0) -> list[int]:
    """The patients the person's exports logged (after audit row `since`), in order."""
    return [r["patient"] for r in await db.fetch(
        "SELECT patient FROM audit_log WHERE staff_user = $1 AND what = 'export' AND id > $2 ORDER BY patient",
        world.staff[role], since)]


async def test_each_order_comes_with_what_was_done_on_it(world, numbers):
    rows = {r["Arbetsorder"]: r for r in await work_orders(world)}
    assert set(rows) == {numbers.fu, numbers.repair, numbers.open_fu}
    fu = rows[numbers.fu]
    assert (fu["Typ"], fu["Status"], fu["Individnummer"], fu["Kategori"]) == ("FU", "Klar", "E000001", "Elrullstol")
    assert (fu["Godkända punkter"], fu["Underkända punkter"]) == ("2", "1")
    assert fu["Underkända kontrollpunkter"] == "Ram och sits hela"
    assert fu["Slutförd"].startswith(TODAY.isoformat()) and fu["Tekniker"] == "Test technician"
    assert fu["Servicenivå uppfylld"] == "Ja" and fu["Kostnadsbärare"] == "Testkommun"
    repair = rows[numbers.repair]
    assert repair["Reservdelar (artikelnr × antal)"] == "RD-77 × 2"
    assert repair["Tid (minuter)"] == "45"
    # What a member of the public may have typed is never a formula in Excel.
    assert (repair["Fel"], repair["Åtgärd"]) == ("'=Glapp i kontakten", "Bytt kontakt")
    assert (repair["Utfall"], repair["Reparation inom 5 arbetsdagar"]) == ("Åtgärdat", "Ja")
    assert repair["Godkända punkter"] == repair["Underkända kontrollpunkter"] == ""
    open_fu = rows[numbers.open_fu]
    assert open_fu["Status"] == "Planerad" and open_fu["Slutförd"] == open_fu["Servicenivå uppfylld"] == ""
    assert open_fu["Kostnadsbärare"] == "Hjälpmedelscentralen"
    assert "Patient" not in fu and "Personnummer" not in fu


async def test_orders_are_filtered_like_the_list(world, numbers):
    async def found(**wanted) -> set[str]:
        return {r["Arbetsorder"] for r in await work_orders(world, **wanted)}

    assert await found(type="maintenance") == {numbers.fu, numbers.open_fu}
    assert await found(status="completed") == {numbers.fu, numbers.repair}
    assert await found(status=OPEN) == {numbers.open_fu}
    assert await found(technician=world.staff["other_technician"]) == {numbers.open_fu}
    assert await found(since=TODAY, until=TODAY) == {numbers.fu, numbers.repair, numbers.open_fu}
    assert await found(since=TODAY + timedelta(days=1)) == set()
    assert await found(until=TODAY - timedelta(days=1)) == set()
    assert await found(dated_by="slutford", since=TODAY, type="maintenance") == {numbers.fu}


async def test_a_filter_the_page_does_not_offer_is_refused_every_field_at_once(world):
    with pytest.raises(ExportRefused) as refused:
        await work_orders(world, technician=world.other.staff["technician"], since=TODAY,
                          until=TODAY - timedelta(days=1))
    assert {field for field, _ in refused.value.errors} == {"tekniker", "till"}
    with pytest.raises(ExportRefused, match="kategori"):
        await exports.export_devices(actor(world, "admin"), DeviceFilter(category=world.other.category), "csv",
                                     with_patients=False, today=TODAY)
    with pytest.raises(ExportRefused) as refused:
        await exports.export_fu_status(actor(world, "admin"), FuFilter(), "pdf", today=TODAY)
    assert refused.value.field == "format"


async def test_patients_are_in_the_file_only_when_asked_for_and_each_read_is_logged(world, numbers):
    before = await last_read()
    await work_orders(world)
    assert await export_reads(world, since=before) == []  # not asked: nothing read, nothing logged
    rows = {r["Arbetsorder"]: r for r in await work_orders(world, with_patients=True)}
    assert (rows[numbers.fu]["Patient"], rows[numbers.repair]["Patient"]) == ("Greta Exportsson", "Olof Annanenhet")
    assert rows[numbers.fu]["Personnummer"].startswith("1940")
    assert rows[numbers.open_fu]["Patient"] == ""
    # Once per patient in the file, however many orders name them.
    assert await export_reads(world, since=before) == sorted([world.patient, world.other_unit_patient])


async def test_a_prescriber_exports_only_the_patients_of_their_own_unit(world, numbers):
    before = await last_read()
    rows = {r["Arbetsorder"]: r for r in await work_orders(world, role="prescriber", with_patients=True)}
    assert rows[numbers.fu]["Patient"] == "Greta Exportsson"
    assert rows[numbers.repair]["Patient"] == rows[numbers.repair]["Personnummer"] == ""
    assert await export_reads(world, "prescriber", since=before) == [world.patient]


async def test_a_device_export_names_the_holder_only_when_asked_for(world):
    coordinator = actor(world, "coordinator")
    plain = read_csv(await exports.export_devices(coordinator, DeviceFilter(), "csv", with_patients=False,
                                                  today=TODAY))
    assert [r["Individnummer"] for r in plain] == ["E000001", "E000002", "E000003"]
    depot = plain[2]
    assert (depot["Status"], depot["Ägare"], depot["Utlånad"]) == ("I förråd", "Hjälpmedelscentralen", "Nej")
    assert (depot["UDI"], depot["Kategori"], depot["ISO-kod"]) == ("(01)07350012345678(21)AB1", "Elrullstol", "12 23 06")
    assert plain[0]["FU-intervall (dagar)"] == "365" and "Patient" not in plain[0]
    before = await last_read()
    named = read_csv(await exports.export_devices(coordinator, DeviceFilter(), "csv", with_patients=True,
                                                  today=TODAY))
    assert [r["Patient"] for r in named] == ["Greta Exportsson", "Olof Annanenhet", ""]
    assert await export_reads(world, since=before) == sorted([world.patient, world.other_unit_patient])


async def test_devices_are_filtered_by_category_status_and_owner(world):
    async def found(**wanted) -> list[str]:
        export = await exports.export_devices(actor(world, "admin"), DeviceFilter(**wanted), "csv",
                                              with_patients=False, today=TODAY)
        return [r["Individnummer"] for r in read_csv(export)]

    assert await found(status="in_depot") == ["E000003"]
    assert await found(owner=HMC_OWNER) == ["E000003"]
    assert await found(owner=str(world.cost_bearer)) == ["E000001", "E000002"]
    assert await found(category=world.category, status="in_use") == ["E000001", "E000002"]


async def test_fu_status_shows_how_overdue_each_device_is_and_its_open_fu_order(world, numbers):
    export = await exports.export_fu_status(actor(world, "coordinator"), FuFilter(), "csv", today=TODAY)
    rows = {r["Individnummer"]: r for r in read_csv(export)}
    assert list(rows) == ["E000003", "E000002", "E000001"]  # the most overdue first
    depot = rows["E000003"]
    assert depot["Dagar försenad"] == "10" and depot["FU-order"] == numbers.open_fu
    assert (depot["Orderstatus"], depot["Tekniker"]) == ("Planerad", "Tina Annan")
    assert depot["Planerad"] == (TODAY + timedelta(days=3)).isoformat()
    done = rows["E000001"]
    assert done["Senaste FU"] == TODAY.isoformat() and done["Dagar försenad"] == "0" and done["FU-order"] == ""
    overdue = await exports.export_fu_status(actor(world, "coordinator"), FuFilter(overdue_only=True), "csv",
                                             today=TODAY)
    assert [r["Individnummer"] for r in read_csv(overdue)] == ["E000003"]


async def test_an_organisation_never_exports_another_organisations_rows(world):
    other = actor(world.other, "admin")
    orders = read_csv(await exports.export_work_orders(other, OrderFilter(), "csv", with_patients=True, today=TODAY))
    devices = read_csv(await exports.export_devices(other, DeviceFilter(), "csv", with_patients=True, today=TODAY))
    fu = read_csv(await exports.export_fu_status(other, FuFilter(), "csv", today=TODAY))
    assert [r["Individnummer"] for r in orders] == [r["Individnummer"] for r in devices] == ["X000009"]
    assert [r["Patient"] for r in devices] == ["Främling Lindqvist"]
    assert [r["Individnummer"] for r in fu] == ["X000009"]


async def test_xlsx_has_a_header_real_dates_a_frozen_pane_and_an_autofilter(world, numbers):
    export = await exports.export_work_orders(actor(world, "coordinator"), OrderFilter(), "xlsx",
                                              with_patients=False, today=TODAY)
    with export.content as content:
        book = openpyxl.load_workbook(io.BytesIO(content.read()))
    sheet = book.active
    assert export.filename == f"arbetsordrar-{TODAY.isoformat()}.xlsx" and sheet.title == "Arbetsordrar"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(exports.WORK_ORDER_COLUMNS))}4"
    header = [c.value for c in sheet[1]]
    assert header == [c.title for c in exports.WORK_ORDER_COLUMNS] and sheet["A1"].font.bold
    rows = {r[0]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {numbers.fu, numbers.repair, numbers.open_fu}
    assert isinstance(rows[numbers.fu]["Mottagen"], datetime) and rows[numbers.fu]["Slutförd"].date() == TODAY
    assert rows[numbers.fu]["Klart senast"].date() == TODAY  # a date cell (openpyxl reads it as midnight)
    assert rows[numbers.repair]["Fel"] == "=Glapp i kontakten"  # text, not a formula
    assert rows[numbers.repair]["Tid (minuter)"] == 45


async def test_the_whole_demo_region_is_exported(database):
    demo = await load_demo(scale=0.02, seed=3, today=date(2026, 3, 2))
    try:
        admin_id = await db.fetchval("SELECT id FROM staff_user WHERE organisation = $1 AND role = 'admin' LIMIT 1",
                                     demo.organisation_id)
        admin = Actor(id=admin_id, organisation=demo.organisation_id, name="Admin", role=Role.admin, care_unit=None)
        for format in ("csv", "xlsx"):
            devices = await exports.export_devices(admin, DeviceFilter(), format, with_patients=True,
                                                   today=date(2026, 3, 2))
            devices.content.close()
            assert devices.rows == await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1",
                                                     demo.organisation_id)
        orders = await exports.export_work_orders(admin, OrderFilter(), "csv", with_patients=False,
                                                  today=date(2026, 3, 2))
        rows = read_csv(orders)
        assert len(rows) == await db.fetchval("SELECT count(*) FROM work_order WHERE organisation = $1",
                                              demo.organisation_id)
        assert any(r["Underkända kontrollpunkter"] for r in rows) and any(r["Utfall"] for r in rows)
        assert {r["Servicenivå uppfylld"] for r in rows} == {"Ja", "Nej", ""}
        holders = await db.fetchval("SELECT count(DISTINCT holder) FROM device WHERE organisation = $1",
                                    demo.organisation_id)
        assert await db.fetchval("SELECT count(*) FROM audit_log WHERE staff_user = $1 AND what = 'export'",
                                 admin_id) == 2 * holders
    finally:
        await delete_organisation(demo.organisation_id)
