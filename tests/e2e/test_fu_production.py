"""FU production in Chromium, as a coordinator and a technician do it: the due list shows what falls
due; next month's FU is generated for one municipality while a real worker process runs the job and
the page shows its progress; the notices are sent to the dev outbox; and the technician's day shows
the planned visits. axe-core checks the pages on the way."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from backend import db
from backend.workdays import today
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, delete_world, make_world

DEVICES_HERE = 3  # due next month in the world's municipality; one more is due in another


def next_month(day: date) -> tuple[date, date]:
    first = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


@pytest.fixture
async def world(database):
    world = await make_world("FU-regionen")
    first, _ = next_month(today())
    due_on = first + timedelta(days=14)  # at least 15 days ahead, whatever today is
    elsewhere = await db.fetchval(
        "INSERT INTO cost_bearer (organisation, name, kind, code) VALUES ($1, 'Grannkommunen', 'municipality', "
        "'9999') RETURNING id", world.organisation)
    world.patient = await add_patient(world)
    world.neighbour = await add_patient(world)
    await db.execute("UPDATE patient SET cost_bearer = $2 WHERE id = $1", world.neighbour, elsewhere)
    await db.execute("INSERT INTO staff_area (staff_user, cost_bearer) VALUES ($1, $2)",
                     world.staff["technician"], world.cost_bearer)
    world.devices_here = []
    for k in range(DEVICES_HERE + 1):
        device = await add_device(world, holder=world.patient if k < DEVICES_HERE else world.neighbour)
        await db.execute("UPDATE device SET last_fu_date = $2 WHERE id = $1", device,
                         due_on - timedelta(days=365 - k))
        if k < DEVICES_HERE:
            world.devices_here.append(device)
    yield world
    await delete_world(world)


async def assert_accessible(page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


async def test_a_coordinator_generates_next_months_fu_for_a_municipality_and_notices_reach_the_outbox(
        page, browser, live_server, world, queue_worker):
    first, last = next_month(today())
    await sign_in_with_passkey(page, live_server, world, "coordinator", "/arbetsordrar")

    # The due list: the four devices, by interval.
    await page.get_by_role("link", name="FU", exact=True).click()
    await page.wait_for_url(f"{live_server}/fu*")
    await page.get_by_label("Period").select_option(label="Tre månader framåt")
    await page.get_by_role("button", name="Visa", exact=True).click()
    due_rows = page.get_by_role("region", name="Hjälpmedel med FU").locator("tbody tr")
    await expect(due_rows).to_have_count(DEVICES_HERE + 1)
    await assert_accessible(page)

    # Generate next month's FU for the world's municipality only.
    await page.get_by_role("link", name="Generera FU-arbetsordrar").click()
    await page.get_by_label("Första dagen").fill(first.isoformat())
    await page.get_by_label("Sista dagen").fill(last.isoformat())
    await page.get_by_label("Kommun eller kostnadsbärare").select_option(label="Testkommun")
    await page.get_by_role("button", name="Visa antal").click()
    await expect(page.get_by_role("region", name="Bekräfta")).to_contain_text(f"Ungefär {DEVICES_HERE} FU-arbetsordrar")
    await assert_accessible(page)
    await page.get_by_role("button", name="Skapa arbetsordrarna").click()
    await page.wait_for_url(re.compile(r"/fu/korningar/\d+$"))
    # The worker process does the run; the page follows its progress until it is done.
    await expect(page.get_by_role("status")).to_contain_text("Klar", timeout=30_000)
    await expect(page.locator("main")).to_contain_text(f"{DEVICES_HERE} arbetsordrar skapade")
    await assert_accessible(page)
    orders = await db.fetch("SELECT device, assignee, planned_date, status FROM work_order "
                            "WHERE organisation = $1 AND channel = 'generated' ORDER BY planned_date", world.organisation)
    assert sorted(r["device"] for r in orders) == sorted(world.devices_here)
    assert {(r["assignee"], r["status"]) for r in orders} == {(world.staff["technician"], "planned")}

    # The notices: proposed for the three visits, sent, and found in the outbox.
    await page.goto(f"{live_server}/fu/aviseringar?fran={first.isoformat()}&till={last.isoformat()}")
    proposals = page.get_by_role("region", name="Besök att avisera").locator("tbody tr")
    await expect(proposals).to_have_count(DEVICES_HERE)
    await assert_accessible(page)
    await page.get_by_role("button", name="Avisera valda").click()
    await page.wait_for_url(re.compile(r"/fu/aviseringar/utskick/\d+"))
    await expect(page.locator("main")).to_contain_text("Brev")
    sent = 0
    for _ in range(60):  # the worker sends them through the dev outbox
        sent = await db.fetchval("SELECT count(*) FROM outbound_message WHERE organisation = $1",
                                 world.organisation)
        if sent == DEVICES_HERE:
            break
        await page.wait_for_timeout(500)
    assert sent == DEVICES_HERE
    await page.goto(f"{live_server}/admin/utkorg")
    await expect(page.get_by_role("region", name="Meddelanden").locator("tbody tr")).to_have_count(
        DEVICES_HERE)
    await assert_accessible(page)

    # The technician's day shows the planned visits.
    context = await browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 800})
    phone = await context.new_page()
    try:
        await sign_in_with_passkey(phone, live_server, world, "technician", "/min-dag")
        await phone.get_by_role("link", name=re.compile("Nästa dag med besök")).click()
        day = orders[0]["planned_date"]
        await phone.wait_for_url(f"{live_server}/min-dag?dag={day.isoformat()}")
        visits = phone.locator("main").get_by_role("listitem").filter(has_text=re.compile("FU"))
        assert await visits.count() == sum(1 for r in orders if r["planned_date"] == day) > 0
        await assert_accessible(phone)
    finally:
        await context.close()
