"""A whole FU done without signal, in Chromium with its own offline emulation.

Opening "Min dag" online keeps every page of the day on the phone. Offline, a visit never
opened before opens from there; the checklist with a failed safety item and its decision, a
part, a photo and the completion wait in the outbox. The browser is closed with its storage
kept and opened again online; every change arrives exactly once and in order.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from backend import db
from backend.maintenance import service as maintenance
from backend.workdays import today
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in_with_passkey
from tests.support.factories import WHEELCHAIR_FU, add_device, add_patient, add_work_order, delete_world, make_world

@pytest.fixture
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, WHEELCHAIR_FU)
    world.patient = await add_patient(world, given="Astrid", family="Lindqvist")
    world.device = await add_device(world, holder=world.patient, individnummer=f"F{world.organisation:06d}")
    world.fu = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=today(),
                                    type="maintenance", patient=world.patient, description="Årlig FU", position=1)
    world.repair = await add_work_order(world, await add_device(world, holder=world.patient),
                                        assignee=world.staff["technician"], planned=today(), patient=world.patient,
                                        position=2)
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, '900003', 'Drivhjul 14 tum', 'Permobil')", world.organisation)
    yield world
    await delete_world(world)


@pytest.fixture
async def phone(browser, tmp_path):
    """Opens a phone whose storage (service worker, caches, IndexedDB, cookies) lives in one
    profile folder, so that it can be closed and opened again with everything kept."""
    contexts = []

    async def open_phone():
        context = await browser.browser_type.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            locale="sv-SE", viewport={"width": 360, "height": 740}, service_workers="allow")
        contexts.append(context)
        return context

    yield open_phone
    for context in contexts:
        try:
            await context.close()
        except Exception:  # noqa: BLE001 - already closed by the test
            pass


async def set_network(page, *, online: bool) -> None:
    """The browser's offline emulation, for the context and again for the page's current
    document: Chromium reports `navigator.onLine` as true in a document that the service
    worker answered while offline (the network itself stays off), so it is set once more
    through the DevTools Protocol after each navigation."""
    await page.context.set_offline(not online)
    if not hasattr(page, "network_cdp"):
        page.network_cdp = await page.context.new_cdp_session(page)
    await page.network_cdp.send("Network.emulateNetworkConditions", {
        "offline": not online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def camera_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2400, 1800), (40, 90, 160)).save(out, format="JPEG", quality=92)
    return out.getvalue()


async def patient_reads(world) -> int:
    return await db.fetchval("SELECT count(*) FROM audit_log WHERE patient = $1", world.patient)


async def test_an_fu_done_offline_after_a_restart_arrives_exactly_once_in_order(phone, live_server, world):
    context = await phone()
    page = context.pages[0] if context.pages else await context.new_page()
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await page.get_by_text("Dagens besök finns på telefonen och går att öppna utan nät").wait_for()
    await page.evaluate("navigator.serviceWorker.ready")
    reads_before = await patient_reads(world)

    await set_network(page, online=False)
    await page.reload()
    await set_network(page, online=False)
    await page.get_by_text("Sparad kopia, hämtad kl").wait_for()
    await page.get_by_text("Du är offline").first.wait_for()
    await page.locator(f'a.button[href="/besok/{world.fu}"]').click()  # never opened before
    await page.wait_for_url(f"{live_server}/besok/{world.fu}")
    await set_network(page, online=False)
    await page.get_by_role("heading", name="Checklista FU").wait_for()
    assert "Sparad kopia, hämtad kl" in await page.locator("#fetched-at").inner_text()
    assert await patient_reads(world) == reads_before  # the page came from the phone, not the server

    await page.get_by_role("button", name="Påbörja besöket").click()
    await page.get_by_text("Sparad på telefonen: Påbörjat/fortsatt besök.").wait_for()
    await page.locator("fieldset.check-item", has_text="Ram och sits hela").get_by_label("Godkänd", exact=True).check()
    brakes = page.locator("fieldset.check-item", has_text="Motorbromsar håller")
    await brakes.get_by_label("Underkänd", exact=True).check()
    await brakes.get_by_label("Krävs om punkten är underkänd").fill("Bromsen släpper i backe")
    await brakes.get_by_label("Taget ur bruk").check()  # the decision shows once the item is failed
    await brakes.get_by_label("Kommentar till beslutet").fill("Reservstol lämnad")
    battery = page.locator("fieldset.check-item", has_text="Batterispänning")
    await battery.get_by_label("Godkänd", exact=True).check()
    await battery.get_by_label("Mätvärde i V").fill("24,6")
    await page.get_by_role("button", name="Spara checklistan").click()
    await page.get_by_text("Sparad på telefonen: Checklista.").wait_for()

    await page.get_by_label("Artikel").focus()  # the parts list comes from the phone too
    await page.locator('#spare-parts option[value^="900003"]').wait_for(state="attached")
    await page.get_by_label("Artikel").fill("900003 · Drivhjul 14 tum (Permobil)")
    await page.get_by_role("button", name="Lägg till reservdel").click()
    await page.get_by_text("Sparad på telefonen: Reservdel.").wait_for()

    await page.locator("#photo").set_input_files(
        files=[{"name": "IMG_0002.jpg", "mimeType": "image/jpeg", "buffer": camera_photo()}])
    await page.locator(".photo-form button:enabled").wait_for()
    await page.get_by_label("Bildtext").fill("Bromsen")
    await page.get_by_role("button", name="Spara fotot").click()
    await page.get_by_text("Sparad på telefonen: Foto.").wait_for()

    await page.get_by_role("button", name="Slutför besöket").click()
    await page.get_by_text("Sparad på telefonen: Slutfört besök.").wait_for()
    await page.get_by_text("5 ändringar väntar på telefonen").wait_for()
    assert await db.fetchval("SELECT count(*) FROM write_receipt WHERE work_order = $1", world.fu) == 0

    # The phone is put away: the browser closes with its storage, and opens again later, online.
    # Whichever comes first delivers the queue, the reopened page or Background Sync in the
    # service worker; the keys and the order per work order keep it exactly once and in order.
    await context.close()
    context = await phone()
    page = context.pages[0] if context.pages else await context.new_page()
    await page.goto(f"{live_server}/min-dag")
    await page.get_by_text("Allt är skickat").wait_for(timeout=30_000)
    for _ in range(100):  # the last delivery may still be committing
        if await db.fetchval("SELECT status FROM work_order WHERE id = $1", world.fu) == "completed":
            break
        await page.wait_for_timeout(100)

    receipts = await db.fetch("SELECT path, status FROM write_receipt WHERE work_order = $1 ORDER BY created_at",
                              world.fu)
    assert [r["path"].rsplit("/", 1)[1] for r in receipts] == ["starta", "checklista", "delar", "foton", "slutfor"]
    assert all(r["status"] == 303 for r in receipts)
    order = await db.fetchrow("SELECT status, version FROM work_order WHERE id = $1", world.fu)
    assert order["status"] == "completed"
    answers = {r["item_key"]: (r["answer"], r["comment"]) for r in await db.fetch(
        "SELECT item_key, answer, comment FROM checklist_answer WHERE work_order = $1", world.fu)}
    assert answers == {"frame": ("pass", ""), "brakes": ("fail", "Bromsen släpper i backe"), "battery": ("pass", "")}
    decision = await db.fetchrow("SELECT item_key, decision, comment FROM safety_decision WHERE work_order = $1",
                                 world.fu)
    assert tuple(decision) == ("brakes", "taken_out_of_use", "Reservstol lämnad")
    part = await db.fetchrow("SELECT count(*) AS n, sum(quantity) AS quantity FROM part_used WHERE work_order = $1",
                             world.fu)
    assert (part["n"], part["quantity"]) == (1, 1)
    photo = await db.fetchrow("SELECT count(*) AS n, max(greatest(width, height)) AS side FROM work_photo "
                              "WHERE work_order = $1", world.fu)
    assert photo["n"] == 1 and photo["side"] <= 1600
    kinds = [r["kind"] for r in await db.fetch(
        "SELECT kind FROM work_order_event WHERE work_order = $1 ORDER BY id", world.fu)]
    assert kinds.count("started") == 1 and kinds.count("completed") == 1 and kinds.index("started") < kinds.index(
        "completed")
    device = await db.fetchrow("SELECT status, next_fu_date FROM device WHERE id = $1", world.device)
    assert device["status"] == "out_of_use" and device["next_fu_date"] == today() + timedelta(days=365)
