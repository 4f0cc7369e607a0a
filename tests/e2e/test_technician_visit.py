"""Whole visits on a phone-sized Chromium: an FU whose failed safety item creates a follow-up
repair; a repair with a part and a photo; a patient who is not at home."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image

from backend import db
from backend.maintenance import service as maintenance
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import WHEELCHAIR_FU, add_device, add_patient, add_work_order, delete_world, make_world

@pytest.fixture
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, WHEELCHAIR_FU)
    world.patient = await add_patient(world, given="Astrid", family="Lindqvist")
    world.device = await add_device(world, holder=world.patient, individnummer=f"E{world.organisation:06d}")
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, '900002', 'Motorbroms elrullstol', 'Permobil')", world.organisation)
    yield world
    await delete_world(world)


async def open_visit(page, live_server, world, order: int) -> None:
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await page.locator(f'a.button[href="/besok/{order}"]').click()
    await page.wait_for_url(f"{live_server}/besok/{order}")


async def test_an_fu_with_a_failed_safety_item_creates_a_follow_up_repair(page, live_server, world):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                 type="maintenance", patient=world.patient, description="Årlig FU")
    await open_visit(page, live_server, world, order)
    await page.get_by_role("button", name="Påbörja besöket").click()
    await page.get_by_text("Besöket är påbörjat.").wait_for()

    frame = page.locator("fieldset.check-item", has_text="Ram och sits hela")
    await frame.get_by_label("Godkänd", exact=True).check()
    brakes = page.locator("fieldset.check-item", has_text="Motorbromsar håller")
    await brakes.get_by_label("Underkänd", exact=True).check()
    await brakes.get_by_label("Krävs om punkten är underkänd").fill("Bromsen släpper i backe")
    battery = page.locator("fieldset.check-item", has_text="Batterispänning")
    await battery.get_by_label("Godkänd", exact=True).check()
    await battery.get_by_label("Mätvärde i V").fill("24,6")
    await page.get_by_role("button", name="Spara checklistan").click()
    await page.get_by_text("Checklistan är sparad.").wait_for()

    # Completing before deciding about the failed safety item is refused, next to nothing lost.
    await page.get_by_role("button", name="Slutför besöket").click()
    await page.get_by_text("Välj vad som görs med hjälpmedlet för varje underkänd säkerhetspunkt").first.wait_for()

    decision = page.locator(".decision", has_text="Motorbromsar håller")
    await decision.get_by_label("Ny reparationsorder skapad").check()
    await decision.get_by_label("Kommentar").fill("Ny motorbroms behövs")
    await decision.get_by_role("button", name="Spara beslut").click()
    await page.get_by_text("Beslutet är sparat.").wait_for()
    await page.get_by_role("button", name="Slutför besöket").click()
    await page.get_by_text("Besöket är slutfört.").wait_for()

    follow_up = await db.fetchrow("SELECT type, status, description FROM work_order WHERE follow_up_of = $1", order)
    assert follow_up["type"] == "repair_on_site" and follow_up["status"] == "new"
    assert "Bromsen släpper i backe" in follow_up["description"]
    device = await db.fetchrow("SELECT status, next_fu_date FROM device WHERE id = $1", world.device)
    assert device["status"] == "out_of_use"
    assert device["next_fu_date"] == date.today() + timedelta(days=365)


def camera_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3200, 2400), (180, 40, 40)).save(out, format="JPEG", quality=95)
    return out.getvalue()


async def test_a_repair_with_a_part_and_a_photo(page, live_server, world):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                 patient=world.patient, description="Stolen bromsar inte")
    await open_visit(page, live_server, world, order)
    await page.get_by_role("button", name="Påbörja besöket").click()
    await page.get_by_text("Besöket är påbörjat.").wait_for()
    await page.get_by_label("Fel som hittades").fill("Motorbromsen sliten")
    await page.get_by_label("Åtgärd som gjordes").fill("Bytt motorbroms, provkört")
    await page.get_by_role("button", name="Spara rapporten").click()
    await page.get_by_text("Rapporten är sparad.").wait_for()

    await page.get_by_label("Artikel").focus()  # fetches the parts list into the field's suggestions
    await page.locator('#spare-parts option[value="900002 · Motorbroms elrullstol (Permobil)"]').wait_for(
        state="attached")
    await page.get_by_label("Artikel").fill("900002 · Motorbroms elrullstol (Permobil)")
    await page.get_by_label("Antal").fill("2")
    await page.get_by_role("button", name="Lägg till reservdel").click()
    await page.get_by_text("2 st Motorbroms elrullstol").wait_for()

    await page.get_by_label("Arbetad tid i minuter").fill("50")
    await page.get_by_role("button", name="Spara tid").click()
    await page.get_by_text("Totalt 50 minuter").wait_for()

    await page.locator("#photo").set_input_files(
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": camera_photo()}])
    await page.locator(".photo-form button:enabled").wait_for()  # disabled while the phone downscales
    await page.get_by_label("Bildtext").fill("Sliten broms")
    await page.get_by_role("button", name="Spara fotot").click()
    await page.get_by_text("Fotot är sparat.").wait_for()
    await page.get_by_role("img", name="Foto: Sliten broms").wait_for()

    await page.get_by_label("Resultat").select_option(label="Åtgärdat")
    await page.get_by_role("button", name="Slutför besöket").click()
    await page.get_by_text("Besöket är slutfört.").wait_for()

    photo = await db.fetchrow("SELECT width, height FROM work_photo WHERE work_order = $1", order)
    assert max(photo["width"], photo["height"]) <= 1600  # downscaled on the phone before upload
    part = await db.fetchrow("SELECT quantity FROM part_used WHERE work_order = $1", order)
    assert part["quantity"] == 2
    done = await db.fetchrow("SELECT status, outcome FROM work_order WHERE id = $1", order)
    assert (done["status"], done["outcome"]) == ("completed", "fixed")


async def test_a_patient_not_at_home_returns_the_order_to_the_coordinator(page, live_server, world):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                 patient=world.patient)
    await open_visit(page, live_server, world, order)
    await page.get_by_text("Besöket kan inte utföras").click()
    await page.get_by_label("Brukaren var inte hemma").check()
    await page.get_by_label("Meddelande till beställaren").fill("Ingen öppnade kl 10. Ring oss för ny tid.")
    await page.get_by_role("button", name="Lämna tillbaka till samordnaren").click()
    await page.get_by_text("Besöket är markerat som ej utfört").wait_for()
    order_row = await db.fetchrow("SELECT status, not_completed_reason, message_to_orderer FROM work_order "
                                  "WHERE id = $1", order)
    assert order_row["status"] == "not_completed" and order_row["not_completed_reason"] == "not_home"
    assert order_row["message_to_orderer"] == "Ingen öppnade kl 10. Ring oss för ny tid."
