"""Fittings over HTTP: booking for a patient, the race, another unit's patient, moving and
cancelling, availability, calendar feeds and the service level, as the people who use them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar

from backend import db
from backend.fittings import service as fittings
from backend.web import local_datetime
from tests.support.factories import (
    add_fitting_availability,
    add_fitting_booking,
    add_patient,
    add_staff,
    delete_world,
    make_world,
)
from tests.support.http import post_form, signed_in_client


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Greta", family="Fittingsson")
    world.other_patient = await add_patient(world, care_unit=world.other_care_unit, given="Olga", family="Annanenhet")
    world.areas = await add_fitting_availability(world)
    world.colleague = await add_staff(world, "prescriber", name="Kim Kollega")
    yield world
    await delete_world(world)


@pytest.fixture
async def as_role(app, world):
    clients = []

    async def sign_in(role: str):
        client = await signed_in_client(app, world.organisation, world.staff.get(role) or getattr(world, role))
        clients.append(client)
        return client

    yield sign_in
    for client in clients:
        await client.aclose()


def choice(world, **extra) -> dict:
    return {"product_area": str(world.areas["seating"]), "place": "hmc", "patient": str(world.patient),
            "referral_date": (date.today() - timedelta(days=7)).isoformat(), **extra}


REFERRAL = {"problem": "Glider ur rullstolen", "goal": "Sitta stabilt vid måltider", "current_devices": "Manuell rullstol",
            "attendees": "Dotter", "access_notes": "Hiss finns"}


def radio_values(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]+)"', html)


async def audit_rows(world, what: str) -> int:
    return await db.fetchval("SELECT count(*) FROM audit_log WHERE organisation = $1 AND patient = $2 AND what = $3",
                             world.organisation, world.patient, what)


async def test_prescriber_books_the_earliest_time_with_a_referral(as_role, world):
    client = await as_role("prescriber")
    assert (await client.get("/utprovningar/boka")).status_code == 200

    found = await post_form(client, "/utprovningar/boka/sok", {**choice(world), "q": "Fittingsson"})
    assert found.status_code == 200
    assert "Fittingsson, Greta" in found.text
    assert radio_values(found.text, "patient") == [str(world.patient)]

    times = await post_form(client, "/utprovningar/boka/tider", choice(world))
    assert times.status_code == 200, times.text
    assert "arbetsdagar sedan remissdatum" in times.text
    slots = radio_values(times.text, "slot")
    first_offered = re.search(r'name="first_offered" value="(\d+)"', times.text).group(1)
    assert slots and slots[0].endswith("_" + first_offered)

    # The prescriber takes the second time offered; the first offer is what the service level counts.
    booked = await post_form(client, "/utprovningar/boka/bekrafta",
                             {**choice(world), **REFERRAL, "slot": slots[1], "first_offered": first_offered})
    assert booked.status_code == 303, booked.text
    page = await client.get(booked.headers["location"])
    assert page.status_code == 200
    assert "Utprovningen är bokad." in page.text
    assert "Glider ur rullstolen" in page.text and "Greta Fittingsson" in page.text
    assert await audit_rows(world, "fitting_booking") >= 2  # choosing the patient, showing the booking

    [booking] = await fittings.bookings_for_staff(world.staff["prescriber"])
    assert int(booking.first_offered_at.timestamp()) == int(first_offered)
    assert int(booking.starts_at.timestamp()) == int(slots[1].split("_")[1])
    assert booking.referral.attendees == "Dotter"

    listing = await client.get("/utprovningar")
    assert booking.reference in listing.text and "Greta Fittingsson" in listing.text


async def test_a_missing_referral_field_is_shown_next_to_it_and_the_rest_is_kept(as_role, world):
    client = await as_role("prescriber")
    times = await post_form(client, "/utprovningar/boka/tider", choice(world))
    slot = radio_values(times.text, "slot")[0]
    answer = await post_form(client, "/utprovningar/boka/bekrafta",
                             {**choice(world), **REFERRAL, "problem": "", "slot": slot, "interpreter_needed": "ja",
                              "interpreter_language": "Arabiska"})
    assert answer.status_code == 400
    assert 'class="field-error" id="problem-error">Beskriv problemet i remissen' in answer.text
    assert "Sitta stabilt vid måltider" in answer.text and "Arabiska" in answer.text
    assert f'value="{slot}" checked' in answer.text
    assert await fittings.bookings_for_staff(world.staff["prescriber"]) == []


async def test_the_slot_taken_meanwhile_gives_fresh_alternatives_and_keeps_the_referral(as_role, world):
    client = await as_role("prescriber")
    times = await post_form(client, "/utprovningar/boka/tider", choice(world))
    slot = radio_values(times.text, "slot")[0]
    # A colleague books that very time first.
    taken = await add_fitting_booking(world, await add_patient(world), world.areas, prescriber=world.colleague)
    assert slot.endswith("_" + str(int(taken.starts_at.timestamp())))

    answer = await post_form(client, "/utprovningar/boka/bekrafta", {**choice(world), **REFERRAL, "slot": slot})
    assert answer.status_code == 409
    assert "Tiden hann bokas av någon annan" in answer.text
    assert "Glider ur rullstolen" in answer.text
    alternatives = radio_values(answer.text, "slot")
    assert alternatives and slot not in alternatives
    again = await post_form(client, "/utprovningar/boka/bekrafta", {**choice(world), **REFERRAL, "slot": alternatives[0]})
    assert again.status_code == 303


async def test_a_prescriber_cannot_book_for_another_units_patient(as_role, world):
    client = await as_role("other_prescriber")
    found = await post_form(client, "/utprovningar/boka/sok", {**choice(world), "q": "Fittingsson"})
    assert "Greta" not in found.text
    assert (await post_form(client, "/utprovningar/boka/tider", choice(world))).status_code == 404
    # A real free time: the patient is refused, not the time.
    slots = await fittings.find_slots(world.organisation, world.areas["seating"], "hmc", limit=1)
    value = f"{slots[0].consultant_id}_{int(slots[0].starts_at.timestamp())}"
    answer = await post_form(client, "/utprovningar/boka/bekrafta", {**choice(world), **REFERRAL, "slot": value})
    assert answer.status_code == 404
    assert await fittings.bookings_for_staff(world.staff["other_prescriber"]) == []
    # Nor see a booking of the other unit.
    booking = await add_fitting_booking(world, world.patient, world.areas)
    assert (await client.get(f"/utprovningar/bokningar/{booking.id}")).status_code == 404
    assert (await post_form(client, f"/utprovningar/bokningar/{booking.id}/avboka",
                            {"cancel_reason": "Fel"})).status_code == 404


async def test_consultant_moves_and_cancels_and_the_prescriber_sees_why(as_role, world):
    booking = await add_fitting_booking(world, world.patient, world.areas)
    consultant = await as_role("consultant")
    prescriber = await as_role("prescriber")

    mine = await consultant.get("/utprovningar")
    assert mine.status_code == 200 and booking.reference in mine.text

    page = await consultant.get(f"/utprovningar/bokningar/{booking.id}")
    assert "Flytta tiden" in page.text and "Glider" not in page.text
    new_slot = radio_values(page.text, "slot")[2]
    refused = await post_form(consultant, f"/utprovningar/bokningar/{booking.id}/flytta", {"slot": new_slot, "reason": ""})
    assert refused.status_code == 400 and "Ange varför tiden flyttas" in refused.text
    moved = await post_form(consultant, f"/utprovningar/bokningar/{booking.id}/flytta",
                            {"slot": new_slot, "reason": "Kurs den dagen"})
    assert moved.status_code == 303
    seen = await prescriber.get(f"/utprovningar/bokningar/{booking.id}")
    assert "Flyttad" in seen.text and "Kurs den dagen" in seen.text

    no_reason = await post_form(consultant, f"/utprovningar/bokningar/{booking.id}/avboka", {"cancel_reason": " "})
    assert no_reason.status_code == 400 and "Ange varför tiden avbokas" in no_reason.text
    cancelled = await post_form(consultant, f"/utprovningar/bokningar/{booking.id}/avboka",
                                {"cancel_reason": "Konsulenten sjuk"})
    assert cancelled.status_code == 303
    listing = await prescriber.get("/utprovningar")
    assert "Avbokad" in listing.text and "Konsulenten sjuk" in listing.text
    again = await post_form(prescriber, f"/utprovningar/bokningar/{booking.id}/avboka", {"cancel_reason": "Igen"})
    assert again.status_code == 409


async def test_prescriber_reschedules_within_the_unit(as_role, world):
    booking = await add_fitting_booking(world, world.patient, world.areas)
    colleague = await as_role("colleague")  # same unit: colleagues cover for each other
    page = await colleague.get(f"/utprovningar/bokningar/{booking.id}")
    slot = radio_values(page.text, "slot")[0]
    moved = await post_form(colleague, f"/utprovningar/bokningar/{booking.id}/flytta",
                            {"slot": slot, "reason": "Patienten har tandläkartid"})
    assert moved.status_code == 303
    after = await fittings.get_booking(booking.id)
    assert after.sequence == 1 and int(after.starts_at.timestamp()) == int(slot.split("_")[1])


async def test_consultant_publishes_and_ends_availability_and_adds_leave(as_role, world):
    consultant = await as_role("consultant")
    form = {"weekday": "2", "start_time": "13:00", "end_time": "16:00", "product_areas": [str(world.areas["communication"]),
            str(world.areas["cognition"])], "place": "home", "slot_minutes": "90", "buffer_before": "15",
            "buffer_after": "15", "valid_from": date.today().isoformat(), "valid_to": ""}
    wrong = await post_form(consultant, "/utprovningar/tillganglighet/mallar", {**form, "end_time": "12:00"})
    assert wrong.status_code == 400
    assert 'id="end_time-error">Sluttiden måste vara efter starttiden' in wrong.text
    assert 'value="13:00"' in wrong.text
    published = await post_form(consultant, "/utprovningar/tillganglighet/mallar", form)
    assert published.status_code == 303
    page = await consultant.get(published.headers["location"])
    assert "Onsdag 13:00–16:00" in page.text and "Hembesök" in page.text
    template = next(t for t in await fittings.list_templates(world.staff["consultant"]) if t.place == "home")
    home_slots = await fittings.find_slots(world.organisation, world.areas["communication"], "home", limit=1)
    assert home_slots and home_slots[0].minutes == 90

    ended = await post_form(consultant, f"/utprovningar/tillganglighet/mallar/{template.id}/avsluta",
                            {"last_day": date.today().isoformat()})
    assert ended.status_code == 303
    assert await fittings.find_slots(world.organisation, world.areas["communication"], "home", limit=1) == []

    first = date.today() + timedelta(days=1)
    leave = await post_form(consultant, "/utprovningar/tillganglighet/franvaro",
                            {"first_day": first.isoformat(), "last_day": (first + timedelta(days=400)).isoformat(),
                             "absence_reason": "Tjänstledig"})
    assert leave.status_code == 303
    assert await fittings.find_slots(world.organisation, world.areas["seating"], "hmc", limit=1) == []
    [absence] = await fittings.list_exceptions(world.staff["consultant"])
    assert "Tjänstledig" in (await consultant.get("/utprovningar/tillganglighet")).text
    removed = await post_form(consultant, f"/utprovningar/tillganglighet/franvaro/{absence.id}/ta-bort")
    assert removed.status_code == 303
    assert await fittings.find_slots(world.organisation, world.areas["seating"], "hmc", limit=1)


async def test_coordinator_publishes_for_a_consultant_but_a_consultant_not_for_another(as_role, world):
    other = await add_staff(world, "consultant", name="Klara Konsulent")
    coordinator = await as_role("coordinator")
    page = await coordinator.get(f"/utprovningar/tillganglighet?konsulent={other}")
    assert page.status_code == 200 and "Klara Konsulent" in page.text
    form = {"consultant": str(other), "weekday": "0", "start_time": "09:00", "end_time": "12:00",
            "product_areas": str(world.areas["seating"]), "place": "hmc", "slot_minutes": "60",
            "buffer_before": "0", "buffer_after": "0", "valid_from": date.today().isoformat()}
    assert (await post_form(coordinator, "/utprovningar/tillganglighet/mallar", form)).status_code == 303
    assert len(await fittings.list_templates(other)) == 1

    consultant = await as_role("consultant")
    before = len(await fittings.list_templates(world.staff["consultant"]))
    assert (await post_form(consultant, "/utprovningar/tillganglighet/mallar", form)).status_code == 303
    assert len(await fittings.list_templates(other)) == 1  # the form's consultant is ignored: own availability
    assert len(await fittings.list_templates(world.staff["consultant"])) == before + 1
    [template] = await fittings.list_templates(other)
    ended = await post_form(consultant, f"/utprovningar/tillganglighet/mallar/{template.id}/avsluta")
    assert ended.status_code == 404


async def test_calendar_feed_is_private_public_and_names_no_patient(app, as_role, world):
    booking = await add_fitting_booking(world, world.patient, world.areas)
    prescriber = await as_role("prescriber")
    created = await post_form(prescriber, "/utprovningar/kalender")
    link = re.search(r'id="feed-link">([^<]+)<', created.text).group(1)
    assert "visas bara en gång" in created.text
    feed = await prescriber.get(link.replace("http://localhost:8000", ""))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(feed.content).walk("VEVENT")
    assert booking.reference in str(event["SUMMARY"])
    assert "Fittingsson" not in feed.text and "Greta" not in feed.text

    replaced = await post_form(prescriber, "/utprovningar/kalender")
    assert replaced.status_code == 200
    assert (await prescriber.get(link.replace("http://localhost:8000", ""))).status_code == 404
    assert (await prescriber.get("/kalender/nonsense.ics")).status_code == 404
    assert (await post_form(prescriber, "/utprovningar/kalender/stang")).status_code == 200


async def test_coordinator_sees_the_service_level_with_counts(as_role, world):
    await add_fitting_booking(world, world.patient, world.areas)
    coordinator = await as_role("coordinator")
    page = await coordinator.get("/utprovningar/serviceniva")
    assert page.status_code == 200
    assert "Sittande" in page.text and "inom 15 arbetsdagar" in page.text
    assert "100,0 %" in page.text  # one referral, offered a time within the target


async def test_booking_pages_show_times_in_stockholm_time(as_role, world):
    booking = await add_fitting_booking(world, world.patient, world.areas)
    prescriber = await as_role("prescriber")
    page = await prescriber.get(f"/utprovningar/bokningar/{booking.id}")
    assert local_datetime(booking.starts_at) in page.text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page.text)


async def test_an_urgent_referral_is_recorded_and_held_to_five_working_days(as_role, world):
    client = await as_role("prescriber")
    times = await post_form(client, "/utprovningar/boka/tider", choice(world))
    assert "Brådskande remiss" in times.text
    slots = radio_values(times.text, "slot")
    first_offered = re.search(r'name="first_offered" value="(\d+)"', times.text).group(1)
    booked = await post_form(client, "/utprovningar/boka/bekrafta",
                             {**choice(world), **REFERRAL, "urgent": "ja", "slot": slots[0], "first_offered": first_offered})
    assert booked.status_code == 303, booked.text
    page = await client.get(booked.headers["location"])
    assert "<dt>Brådskande</dt><dd>Ja, tid inom 5 arbetsdagar</dd>" in page.text
    [booking] = await fittings.bookings_for_staff(world.staff["prescriber"])
    assert booking.referral.urgent

    # Offered after 8 working days: within the 15 of an ordinary referral, not the 5 of an urgent one.
    await db.execute("UPDATE fitting_booking SET offered_working_days = 8 WHERE id = $1", booking.id)
    coordinator = await as_role("coordinator")
    assert "0,0 %" in (await coordinator.get("/utprovningar/serviceniva")).text
    await db.execute("UPDATE fitting_booking SET urgent = false WHERE id = $1", booking.id)
    assert "100,0 %" in (await coordinator.get("/utprovningar/serviceniva")).text
