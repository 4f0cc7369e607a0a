"""Route planning in Chromium, as a coordinator and a technician do it: next week's plan is
proposed and shown beside today's plan, accepted; an urgent repair is fitted into today's routes
with the patients to call listed, accepted; and the technician's Min dag shows the urgent order
with its estimated arrival. axe-core checks the pages on the way.

The technicians work every day around the clock here, and today is made a working day when the
calendar says otherwise (a weekend or a public holiday), so the urgent repair fits today whatever
day the test runs (except in the last hour of the day)."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from backend import db
from backend.organisations import hours
from backend.organisations.register import RegisterError
from backend.routing import resources
from backend.routing.resources import ResourceInput
from backend.workdays import today
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

MONDAY = today() + timedelta(days=7 - today().weekday())


@pytest.fixture
async def world(database):
    world = await make_world("Ruttregionen")
    try:
        await hours.add_calendar_day(world.organisation, day=today(), kind="open", note="Testdag", today=today(),
                                     actor_id=None, actor_name="test")
    except RegisterError:
        pass  # today is a working day already
    for role in ("technician", "other_technician"):
        await resources.save_resource(world.organisation, world.staff[role], ResourceInput(
            "HMC", (59.6162, 16.4981), None, None, time(11, 30), time(13), 30, None,
            {weekday: (time(0, 0), time(23, 59)) for weekday in range(7)}, []))
    world.orders = []
    for i in range(4):
        patient = await add_patient(world)
        await db.execute("UPDATE patient SET latitude = $2, longitude = $3 WHERE id = $1",
                         patient, 59.58 + 0.03 * i, 16.45 + 0.06 * i)
        device = await add_device(world, holder=patient)
        order = await add_work_order(world, device, status="new", patient=patient)
        await db.execute("UPDATE work_order SET finish_due = $2 WHERE id = $1", order, MONDAY + timedelta(days=4))
        world.orders.append(order)
    yield world
    await delete_world(world)


async def add_urgent_repair(world) -> None:
    """A ceiling lift that stopped this morning: akut AU, due today."""
    patient = await add_patient(world, given="Bertil", family="Akut")
    await db.execute("UPDATE patient SET latitude = 59.62, longitude = 16.52 WHERE id = $1", patient)
    device = await add_device(world, holder=patient)
    world.urgent = await add_work_order(world, device, status="new", patient=patient, type="urgent_repair",
                                        description="Taklyften har stannat")
    await db.execute("UPDATE work_order SET finish_due = $2, planned_date = NULL, window_start = NULL, "
                     "window_end = NULL WHERE id = $1", world.urgent, today())
    world.urgent_number = await db.fetchval("SELECT number FROM work_order WHERE id = $1", world.urgent)


async def assert_accessible(page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


async def test_a_coordinator_plans_next_week_fits_in_an_urgent_repair_and_the_technician_sees_it(
        page, browser, live_server, world):
    await sign_in_with_passkey(page, live_server, world, "coordinator", "/arbetsordrar")
    await page.get_by_role("link", name="Planering", exact=True).click()
    await page.wait_for_url(f"{live_server}/planering")
    await assert_accessible(page)

    # Next week's proposal, beside today's (empty) plan.
    await page.get_by_role("link", name="Planeringsförslag").click()
    await expect(page.get_by_label("Första dagen")).to_have_value(MONDAY.isoformat())
    await assert_accessible(page)
    await page.get_by_role("button", name="Gör ett förslag").click()
    await page.wait_for_url(re.compile(r"/planering/forslag/\d+$"))
    comparison = page.get_by_role("table", name="Förslaget jämfört med dagens plan")
    await expect(comparison.get_by_role("row", name=re.compile("Planerade besök"))).to_contain_text("4")
    await assert_accessible(page)
    assert await db.fetchval("SELECT count(*) FROM work_order WHERE id = ANY($1::int[]) AND status = 'planned'",
                             world.orders) == 0
    await page.get_by_role("button", name="Godkänn hela förslaget").click()
    await expect(page.get_by_role("status")).to_contain_text("4 besök är planerade")
    rows = await db.fetch("SELECT planned_date, assignee FROM work_order WHERE id = ANY($1::int[])", world.orders)
    assert all(MONDAY <= r["planned_date"] <= MONDAY + timedelta(days=4) for r in rows)

    # The urgent repair, fitted into today's routes.
    await add_urgent_repair(world)
    await page.goto(f"{live_server}/planering/akut")
    await expect(page.get_by_label(re.compile(world.urgent_number))).to_be_checked()
    await assert_accessible(page)
    await page.get_by_role("button", name="Lägg in i dagens rutter").click()
    await page.wait_for_url(re.compile(r"/planering/forslag/\d+$"))
    await expect(page.get_by_role("heading", name="Brukare att ringa")).to_be_visible()
    await expect(page.locator("main")).to_contain_text(world.urgent_number)
    await assert_accessible(page)
    await page.get_by_role("button", name="Godkänn hela förslaget").click()
    await expect(page.get_by_role("status")).to_contain_text("1 besök är planerade")
    urgent = await db.fetchrow("SELECT assignee, planned_date FROM work_order WHERE id = $1", world.urgent)
    assert urgent["planned_date"] == today()
    technician = "technician" if urgent["assignee"] == world.staff["technician"] else "other_technician"

    # The technician's day shows it, with the estimated arrival.
    context = await browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 800})
    phone = await context.new_page()
    try:
        await sign_in_with_passkey(phone, live_server, world, technician, "/min-dag")
        visit = phone.locator("main").get_by_role("listitem").filter(has_text=world.urgent_number)
        await expect(visit).to_contain_text(re.compile(r"Ankomst ca \d\d:\d\d"))
        await assert_accessible(phone)
    finally:
        await context.close()
