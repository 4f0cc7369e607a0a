"""A fitting from both sides, in Chromium: the prescriber books, moves and cancels; the
consultant sees each change, and so does the consultant's calendar feed."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_fitting_availability, add_patient, delete_world, make_world

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Astrid", family="Lindqvist")
    await add_patient(world, care_unit=world.other_care_unit, given="Olga", family="Annanenhet")
    await add_fitting_availability(world)
    yield world
    await delete_world(world)


def feed_event(link: str):
    response = httpx.get(link, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "Lindqvist" not in response.text and "Astrid" not in response.text
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    return event


async def test_prescriber_books_moves_and_cancels_and_the_consultant_follows(browser, page, live_server, world):
    await sign_in_with_passkey(page, live_server, world, "prescriber", "/patienter")
    consultant_context = await browser.new_context(locale="sv-SE", viewport={"width": 1024, "height": 800})
    consultant = await consultant_context.new_page()
    try:
        await sign_in_with_passkey(consultant, live_server, world, "consultant", "/utprovningar")
        await consultant.goto(f"{live_server}/utprovningar/kalender")
        await consultant.get_by_role("button", name="Skapa ny kalenderlänk").click()
        link = await consultant.locator("#feed-link").inner_text()

        # Another unit's patient is not there to book for.
        await page.get_by_role("link", name="Utprovningar").click()
        await page.get_by_role("link", name="Boka utprovning").click()
        await page.get_by_label("Sök på namn eller personnummer").fill("Annanenhet")
        await page.get_by_role("button", name="Sök patient").click()
        assert "Inga patienter hittades på din enhet." in await page.locator("#patients").inner_text()

        # Book: area, place, referral date, the patient, the earliest time, the referral.
        await page.get_by_label("Produktområde").select_option(label="Sittande")
        await page.get_by_label("HMC:s utprovningsrum").check()
        await page.get_by_label("Remissdatum").fill((date.today() - timedelta(days=10)).isoformat())
        await page.get_by_label("Sök på namn eller personnummer").fill("Lindqvist")
        await page.get_by_role("button", name="Sök patient").click()
        await page.get_by_label("Lindqvist, Astrid").check()
        await page.get_by_role("button", name="Visa lediga tider").click()
        assert "arbetsdagar sedan remissdatum" in await page.locator("#slot").inner_text()
        first = page.locator('#slot input[name="slot"]').first
        first_time = (await first.locator("xpath=..").inner_text()).split("–")[0].strip()
        await first.check()
        await page.get_by_label("Problem").fill("Glider ur rullstolen")
        await page.get_by_label("Mål").fill("Sitta stabilt vid måltider")
        await page.get_by_role("button", name="Boka utprovningen").click()
        await page.get_by_text("Utprovningen är bokad.").wait_for()
        booking_url = page.url
        reference = (await page.locator("h1").inner_text()).split()[-1]

        await consultant.goto(f"{live_server}/utprovningar")
        mine = await consultant.locator("main").inner_text()
        assert reference in mine and first_time in mine and "Astrid Lindqvist" in mine
        event = feed_event(link)
        assert reference in str(event["SUMMARY"]) and event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == 0
        uid = str(event["UID"])

        # Move to another time.
        second = page.locator('#slot input[name="slot"]').nth(1)
        second_time = (await second.locator("xpath=..").inner_text()).split("–")[0].strip()
        await second.check()
        await page.get_by_label("Varför flyttas tiden?").fill("Patienten har tandläkartid")
        await page.get_by_role("button", name="Flytta tiden").click()
        await page.get_by_text("Tiden är flyttad.").wait_for()

        await consultant.goto(booking_url)
        seen = await consultant.locator("main").inner_text()
        assert "Flyttad" in seen and "Patienten har tandläkartid" in seen and second_time in seen
        event = feed_event(link)
        assert str(event["UID"]) == uid and event["SEQUENCE"] == 1 and event["STATUS"] == "CONFIRMED"
        assert event.decoded("DTSTART").astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") == second_time

        # Cancel.
        await page.get_by_label("Varför avbokas tiden?").fill("Patienten inlagd på sjukhus")
        await page.get_by_role("button", name="Avboka utprovningen").click()
        await page.get_by_text("Utprovningen är avbokad.").wait_for()

        await consultant.goto(f"{live_server}/utprovningar")
        listing = await consultant.locator("main").inner_text()
        assert "Avbokad" in listing and "Patienten inlagd på sjukhus" in listing
        event = feed_event(link)
        assert str(event["UID"]) == uid and event["SEQUENCE"] == 2 and event["STATUS"] == "CANCELLED"
    finally:
        await consultant_context.close()
