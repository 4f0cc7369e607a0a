"""A deviation in Chromium: a technician raises one on the visit with the network switched off, with
a photo; it is saved on the phone and arrives exactly once when the network is back. A coordinator
then completes the case and downloads the report: the PDF names the device and the event, and not
the patient."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

import pytest

from backend import db
from backend.workdays import today
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, jpeg_bytes, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Majken", family="Nordström")
    world.device = await add_device(world, holder=world.patient, individnummer="E2E001")
    await db.execute("UPDATE device SET lot_number = 'LOT-2112', serial_number = 'SN-E2E-42' WHERE id = $1",
                     world.device)
    world.order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=today(),
                                       patient=world.patient, description="Bromsen tar inte")
    yield world
    await delete_world(world)


async def test_a_deviation_raised_offline_arrives_once_and_the_coordinator_reports_it(browser, page, live_server,
                                                                                      world):
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await page.goto(f"{live_server}/besok/{world.order}")
    await page.context.set_offline(True)

    await page.get_by_text("Rapportera en avvikelse").click()
    form = page.locator("form.deviation-form")
    await form.get_by_label("Vad hände?").fill("Bromsen släppte när brukaren stod i en backe.")
    await form.get_by_label("Kunde ha lett till skada (tillbud)").check()
    await form.get_by_label("Spara hjälpmedlet för utredning").check()
    await form.locator("#deviation_photo").set_input_files(
        files=[{"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(800, 600)}])
    await form.locator("button:enabled").wait_for()
    await form.get_by_label("Text till fotot").fill("Bromsreglaget")
    await form.get_by_role("button", name="Rapportera avvikelsen").click()
    await page.get_by_text("Sparad på telefonen: Avvikelse.").wait_for()
    await page.get_by_text("1 ändring väntar på telefonen").wait_for()
    assert await db.fetchval("SELECT count(*) FROM deviation WHERE work_order = $1", world.order) == 0

    await page.context.set_offline(False)  # the `online` event starts the delivery
    await page.get_by_text("Avvikelsen är registrerad").wait_for()
    await page.get_by_text("Allt är skickat").wait_for()
    await page.reload()  # nothing left to send: a second delivery would be a second deviation
    await page.get_by_text("Allt är skickat").wait_for()
    assert await db.fetchval("SELECT count(*) FROM deviation WHERE work_order = $1", world.order) == 1
    deviation = await db.fetchrow("SELECT id, number, pickup_order FROM deviation WHERE work_order = $1", world.order)
    assert await db.fetchval("SELECT count(*) FROM deviation_photo WHERE deviation = $1", deviation["id"]) == 1
    assert deviation["pickup_order"] is not None
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "out_of_use"

    context = await browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 800}, accept_downloads=True)
    coordinator = await context.new_page()
    try:
        await sign_in_with_passkey(coordinator, live_server, world, "coordinator", "/arbetsordrar")
        await coordinator.get_by_role("link", name="Avvikelser").first.click()
        await coordinator.get_by_role("link", name=deviation["number"]).click()
        await coordinator.wait_for_url(re.compile(rf".*/avvikelser/{deviation['id']}$"))
        await coordinator.get_by_label("Klassificering (MDR art. 87)").select_option("other_serious")
        await coordinator.get_by_label("Läkemedelsverkets diarienummer").fill("LV 4.3.1-2026-555")
        await coordinator.get_by_label("Status").select_option("reported")
        await coordinator.get_by_role("button", name="Spara ärendet").click()
        await coordinator.get_by_text("Ärendet är sparat.").wait_for()
        await coordinator.get_by_text("Rapporteras senast").wait_for()
        async with coordinator.expect_download() as download_info:
            await coordinator.get_by_role("link", name="Ladda ner rapporten (PDF)").click()
        download = await download_info.value
        pdf = open(await download.path(), "rb").read()
    finally:
        await context.close()
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    for expected in ("SN-E2E-42", "LOT-2112", "E2E001", "Bromsen släppte när brukaren stod i en backe.",
                     "LV 4.3.1-2026-555", "Allvarlig händelse", deviation["number"]):
        assert expected in text, expected
    assert "Majken" not in text and "Nordström" not in text
