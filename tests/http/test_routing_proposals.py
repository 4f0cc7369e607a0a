"""Plan proposals over HTTP: the form proposes next week's plan for the chosen technicians, the
proposal's page shows it beside today's plan, accepting plans the orders; bad input answers 400
with a Swedish message by the field and nothing written."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend import db
from backend.workdays import today
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world
from tests.support.http import post_form, signed_in_client

MONDAY = today() + timedelta(days=7 - today().weekday())
FRIDAY = MONDAY + timedelta(days=4)


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.orders = []
    for i in range(5):
        patient = await add_patient(world)
        await db.execute("UPDATE patient SET latitude = $2, longitude = $3 WHERE id = $1",
                         patient, 59.6 + 0.03 * i, 16.4 + 0.05 * i)
        device = await add_device(world, holder=patient)
        order = await add_work_order(world, device, status="new", patient=patient)
        await db.execute("UPDATE work_order SET finish_due = $2 WHERE id = $1", order, FRIDAY)
        world.orders.append(order)
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


async def planned(world) -> int:
    return await db.fetchval("SELECT count(*) FROM work_order WHERE id = ANY($1::int[]) AND status = 'planned'",
                             world.orders)


async def test_the_hub_and_the_form_offer_next_week_and_the_technicians(coordinator, world):
    hub = await coordinator.get("/planering")
    assert hub.status_code == 200 and 'href="/planering/forslag"' in hub.text and 'href="/planering/akut"' in hub.text
    page = await coordinator.get("/planering/forslag")
    assert page.status_code == 200
    assert f'value="{MONDAY.isoformat()}"' in page.text and "Test technician" in page.text


async def test_a_proposal_is_shown_beside_todays_plan_and_accepted_in_full(coordinator, world):
    response = await post_form(coordinator, "/planering/forslag", {
        "fran": MONDAY.isoformat(), "till": FRIDAY.isoformat(),
        "tekniker": [str(world.staff["technician"]), str(world.staff["other_technician"])]})
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    assert re.fullmatch(r"/planering/forslag/\d+", url)
    assert await planned(world) == 0  # nothing changes before it is accepted
    page = (await coordinator.get(url)).text
    assert "Förslaget jämfört med dagens plan" in page and "Godkänn hela förslaget" in page
    for order in world.orders:
        assert f'href="/arbetsordrar/{order}"' in page
    assert 'class="route-sketch"' in page and "Rutten som skiss" in page
    accepted = await post_form(coordinator, f"{url}/godkann", {"alla": "ja"})
    assert accepted.status_code == 303 and "godkant=5" in accepted.headers["location"]
    assert await planned(world) == 5
    done = (await coordinator.get(accepted.headers["location"])).text
    assert "5 besök är planerade" in done and "Godkänd" in done


@pytest.mark.parametrize("form, field, message", [
    ({"fran": "", "till": ""}, "fran", "Skriv datumet"),
    ({"till": "2020-01-01", "tekniker": ["1"]}, "fran", "Skriv datumet"),
    ({"fran": "MONDAY", "till": "FAR"}, "till", "högst 14 dagar"),
    ({"fran": "MONDAY", "till": "MONDAY"}, "tekniker", "Välj minst en tekniker"),
    ({"fran": "MONDAY", "till": "MONDAY", "tekniker": ["x; drop"]}, "tekniker", "Välj tekniker ur listan"),
])
async def test_a_bad_proposal_form_is_refused_by_the_field(coordinator, world, form, field, message):
    values = {"MONDAY": MONDAY.isoformat(), "FAR": (MONDAY + timedelta(days=30)).isoformat()}
    form = {k: values.get(v, v) if isinstance(v, str) else v for k, v in form.items()}
    before = await db.fetchval("SELECT count(*) FROM plan_proposal WHERE organisation = $1", world.organisation)
    response = await post_form(coordinator, "/planering/forslag", form)
    assert response.status_code == 400
    assert message in response.text and f'id="{field}-error"' in response.text
    assert await db.fetchval("SELECT count(*) FROM plan_proposal WHERE organisation = $1",
                             world.organisation) == before


async def test_an_urgent_insertion_of_an_order_that_is_not_urgent_is_refused(coordinator, world):
    page = await coordinator.get("/planering/akut")
    assert page.status_code == 200 and "inga öppna akuta reparationer" in page.text
    response = await post_form(coordinator, "/planering/akut", {"order": str(world.orders[0])})
    assert response.status_code == 400 and "Välj en akut reparation" in response.text


async def test_another_organisations_proposal_is_not_found(coordinator, world):
    other = await make_world("Annan region")
    try:
        proposal = await db.fetchval(
            "INSERT INTO plan_proposal (organisation, first_day, last_day, technicians) VALUES ($1, $2, $2, '{}') "
            "RETURNING id", other.organisation, MONDAY)
        assert (await coordinator.get(f"/planering/forslag/{proposal}")).status_code == 404
        assert (await post_form(coordinator, f"/planering/forslag/{proposal}/godkann", {"alla": "ja"})).status_code == 404
    finally:
        await delete_world(other)


async def test_the_acceptance_message_names_only_order_numbers(coordinator, world):
    proposal = await db.fetchval(
        "INSERT INTO plan_proposal (organisation, first_day, last_day, technicians, figures) VALUES ($1, $2, $2, '{}', "
        "'{\"proposal\": {\"km\": 0, \"hours\": 0, \"late\": 0, \"unplanned\": 0, \"visits\": 0}, "
        "\"current\": {\"km\": 0, \"hours\": 0, \"late\": 0, \"unplanned\": 0, \"visits\": 0}}') RETURNING id",
        world.organisation, MONDAY)
    page = await coordinator.get(f"/planering/forslag/{proposal}",
                                 params={"godkant": "2", "hoppade": "AO-2026-000123,Ring 0900-123456 nu"})
    assert page.status_code == 200
    assert "Hoppade över" in page.text and "AO-2026-000123" in page.text and "0900-123456" not in page.text
