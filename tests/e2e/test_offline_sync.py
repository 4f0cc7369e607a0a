"""What can happen to a technician's queued work while the phone is offline, in Chromium with
its own offline emulation: the session expires (a passkey sign-in later, the outbox goes on
with nothing lost), or the coordinator gives the order to someone else (the replay becomes
visible conflicts, kept in full on the server and resolved from both sides). And signing out
with changes still on the phone warns first, naming them."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from backend import db
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, add_staff, add_work_order, delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    world.order = await add_work_order(world, await add_device(world, holder=patient), patient=patient,
                                       assignee=world.staff["technician"], planned=date.today())
    world.colleague = await add_staff(world, "technician", name="Tina Annan")
    yield world
    await delete_world(world)


QUEUED = """new Promise((resolve) => {
  const request = indexedDB.open("runda-outbox", 1);
  request.onsuccess = () => {
    const count = request.result.transaction("entries").objectStore("entries").count();
    count.onsuccess = () => resolve(count.result);
  };
})"""


async def record_offline(page, live_server, order: int) -> None:
    """Time and a note, recorded on the visit page with the network off."""
    await page.goto(f"{live_server}/besok/{order}")
    await page.context.set_offline(True)
    await page.get_by_label("Arbetad tid i minuter").fill("25")
    await page.get_by_role("button", name="Spara tid").click()
    await page.get_by_text("Sparad på telefonen: Tid.").wait_for()
    await page.get_by_label("Ny anteckning").fill("Laddaren byttes, gammal lämnad hos brukaren")
    await page.get_by_role("button", name="Spara anteckningen").click()
    await page.get_by_text("Sparad på telefonen: Anteckning.").wait_for()
    await page.get_by_text("2 ändringar väntar på telefonen").wait_for()


async def test_after_a_session_expired_offline_a_passkey_sign_in_lets_the_outbox_go_on(page, live_server, world):
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await record_offline(page, live_server, world.order)
    await db.execute("UPDATE staff_user SET sessions_valid_after = now() WHERE id = $1", world.staff["technician"])

    await page.context.set_offline(False)
    attention = page.locator(".sync-attention")
    await attention.get_by_text("Din inloggning har gått ut").wait_for()
    assert "2 ändringar väntar på telefonen" in await page.locator("#sync-state").inner_text()
    assert await db.fetchval("SELECT count(*) FROM time_entry WHERE work_order = $1", world.order) == 0

    await attention.get_by_role("link", name="Logga in igen").click()
    await page.get_by_role("button", name="Logga in med passkey").click()
    await page.wait_for_url(f"{live_server}/min-dag")
    await page.get_by_text("Allt är skickat").wait_for()

    assert await db.fetchval("SELECT sum(minutes) FROM time_entry WHERE work_order = $1", world.order) == 25
    assert await db.fetchval("SELECT text FROM work_note WHERE work_order = $1 AND kind = 'note'",
                             world.order) == "Laddaren byttes, gammal lämnad hos brukaren"
    assert await db.fetchval("SELECT count(*) FROM write_receipt WHERE work_order = $1", world.order) == 2


async def test_work_queued_for_an_order_given_to_someone_else_is_kept_and_resolved_from_both_sides(
        browser, page, live_server, world):
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await record_offline(page, live_server, world.order)

    # Meanwhile the coordinator gives the visit to a colleague.
    office = await browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    desk = await office.new_page()
    await sign_in_with_passkey(desk, live_server, world, "coordinator", "/arbetsordrar")
    await desk.goto(f"{live_server}/arbetsordrar/{world.order}")
    await desk.get_by_label("Tekniker", exact=True).select_option(label="Tina Annan")
    await desk.get_by_role("button", name="Spara planeringen").click()
    await desk.get_by_text("Tina Annan").first.wait_for()

    await page.context.set_offline(False)  # the replay meets the changed order
    queue = page.locator("#outbox-queue")
    await queue.get_by_text("Arbetsordern har ändrats").first.wait_for()
    assert await queue.get_by_role("link", name="Mina konflikter").count() == 2
    kept = await db.fetch("SELECT path, fields FROM sync_conflict WHERE work_order = $1 ORDER BY id", world.order)
    assert [(r["path"].rsplit("/", 1)[1], {k: v for k, v in json.loads(r["fields"]).items() if k != "version"})
            for r in kept] == [("tid", {"minutes": "25"}),
                               ("anteckning", {"note": "Laddaren byttes, gammal lämnad hos brukaren"})]
    assert await db.fetchval("SELECT count(*) FROM time_entry WHERE work_order = $1", world.order) == 0

    # The technician sees theirs beside the order now, and lets the note go.
    await queue.get_by_role("link", name="Mina konflikter").first.click()
    await page.wait_for_url(f"{live_server}/besok/konflikter")
    await page.get_by_role("link", name="Anteckning ·").click()
    await page.get_by_role("heading", name="Din ändring", exact=True).wait_for()
    assert "Tina Annan" in await page.locator("#now").locator("..").inner_text()
    await page.get_by_role("button", name="Släpp min ändring").click()
    await page.get_by_text("Du har släppt ändringen.").wait_for()

    # The coordinator applies the time: the work was done, by the first technician.
    await desk.goto(f"{live_server}/konflikter")
    await desk.get_by_role("link", name="Tid ·").first.click()
    await desk.get_by_role("heading", name="Teknikerns ändring").wait_for()
    assert "25" in await desk.locator("#mine").locator("..").inner_text()
    await desk.get_by_role("button", name="Tillämpa", exact=True).click()
    await desk.get_by_text("Ändringen är tillämpad på arbetsordern.").wait_for()
    await office.close()

    time = await db.fetchrow("SELECT minutes, added_by FROM time_entry WHERE work_order = $1", world.order)
    assert (time["minutes"], time["added_by"]) == (25, world.staff["technician"])
    resolved = await db.fetch("SELECT resolution, resolved_by FROM sync_conflict WHERE work_order = $1 ORDER BY id",
                              world.order)
    assert [(r["resolution"], r["resolved_by"]) for r in resolved] == [
        ("applied", world.staff["coordinator"]), ("dismissed", world.staff["technician"])]
    assert await db.fetchval("SELECT count(*) FROM work_note WHERE work_order = $1", world.order) == 0


async def test_signing_out_with_changes_on_the_phone_names_them_first(page, live_server, world):
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await record_offline(page, live_server, world.order)
    number = await db.fetchval("SELECT number FROM work_order WHERE id = $1", world.order)

    await page.get_by_role("button", name="Logga ut").click()
    warning = page.get_by_role("dialog")
    await warning.get_by_text("2 ändringar har inte kommit fram").wait_for()
    assert f"Tid – {number}" in await warning.inner_text()
    assert f"Anteckning – {number}" in await warning.inner_text()
    await warning.get_by_role("button", name="Stanna kvar och skicka först").click()
    assert page.url == f"{live_server}/besok/{world.order}"  # still signed in, nothing gone

    await page.context.set_offline(False)
    await page.wait_for_url(re.compile(r"klart="))  # all of the visit arrived: the server's view of it
    await page.get_by_text("Allt är skickat").wait_for()
    await page.evaluate("caches.open('runda-day-' + Runda.stockholmDay())")  # today's kept pages
    await page.get_by_role("button", name="Logga ut").click()  # nothing waits: no warning
    await page.wait_for_url(f"{live_server}/logga-in?utloggad=1")
    assert not [n for n in await page.evaluate("caches.keys()") if n.startswith("runda-day-")]
    assert await page.evaluate(QUEUED) == 0
    assert await db.fetchval("SELECT count(*) FROM write_receipt WHERE work_order = $1", world.order) == 2
