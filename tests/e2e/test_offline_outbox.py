"""The outbox in Chromium with the network switched off: a whole repair recorded offline is
shown as saved on the phone, and arrives exactly once, in order, when the network is back."""

from __future__ import annotations

from datetime import date

import pytest

from backend import db
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    world.device = await add_device(world, holder=patient)
    world.order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                       patient=patient, description="Joysticken svarar inte")
    yield world
    await delete_world(world)


async def test_a_repair_recorded_offline_arrives_exactly_once_in_order(page, live_server, world):
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await page.goto(f"{live_server}/besok/{world.order}")
    await page.context.set_offline(True)

    await page.get_by_role("button", name="Påbörja besöket").click()
    await page.get_by_text("Sparad på telefonen: Påbörjat/fortsatt besök.").wait_for()
    await page.get_by_label("Fel som hittades").fill("Lös kontakt i joysticken")
    await page.get_by_label("Åtgärd som gjordes").fill("Kontakten fastlödd, provkört")
    await page.get_by_role("button", name="Spara rapporten").click()
    await page.get_by_text("Sparad på telefonen: Rapport.").wait_for()
    await page.get_by_label("Arbetad tid i minuter").fill("40")
    await page.get_by_role("button", name="Spara tid").click()
    await page.get_by_text("Sparad på telefonen: Tid.").wait_for()
    await page.get_by_label("Resultat").select_option(label="Åtgärdat")
    await page.get_by_role("button", name="Slutför besöket").click()
    await page.get_by_text("Sparad på telefonen: Slutfört besök.").wait_for()

    await page.get_by_text("4 ändringar väntar på telefonen").wait_for()
    assert "Offline" in await page.locator("#sync-state").inner_text()
    assert await page.locator("#outbox-queue li").count() == 4
    assert await db.fetchval("SELECT status FROM work_order WHERE id = $1", world.order) == "planned"

    await page.context.set_offline(False)  # the `online` event starts the delivery
    await page.get_by_text("Besöket är slutfört.").wait_for()
    await page.get_by_text("Allt är skickat").wait_for()

    order = await db.fetchrow("SELECT status, outcome, version FROM work_order WHERE id = $1", world.order)
    assert (order["status"], order["outcome"]) == ("completed", "fixed")
    kinds = [r["kind"] for r in await db.fetch("SELECT kind FROM work_order_event WHERE work_order = $1 ORDER BY id",
                                               world.order)]
    assert kinds == ["started", "completed"]
    assert await db.fetchval("SELECT count(*) FROM work_note WHERE work_order = $1", world.order) == 2
    assert await db.fetchval("SELECT sum(minutes) FROM time_entry WHERE work_order = $1", world.order) == 40
    assert await db.fetchval("SELECT count(*) FROM write_receipt WHERE work_order = $1", world.order) == 4
